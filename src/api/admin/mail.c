/* GET and PUT /admin/v1/account/mail: the account's confirmation mail
 * settings (SMTP server, sender). The password is write-only: replies say
 * only whether one is stored (password_set). */
#include "api/admin/admin.h"
#include "core/mail.h"

static json_t *text_or_null(const char *s) { return s ? json_string(s) : json_null(); }

static json_t *settings_json(const mail_settings *m)
{
    return json_pack("{s:b,s:o,s:i,s:s,s:o,s:b,s:o,s:o,s:o,s:o}", "enabled", (int)m->enabled, "host",
                     text_or_null(m->host), "port", m->port, "security", mail_security_name(m->security), "username",
                     text_or_null(m->username), "password_set", (int)m->password_set, "from_address",
                     text_or_null(m->from_address), "from_name", text_or_null(m->from_name), "reply_to",
                     text_or_null(m->reply_to), "updated_at", m->updated_at ? json_integer(m->updated_at) : json_null());
}

void admin_mail_get(http_request *r, void *app_)
{
    static const char *const none[] = {NULL};
    if (!admin_query_known(r, none)) return;
    mail_settings m;
    bo_status st = mail_settings_get(admin_engine(app_), api_account(r), &m);
    if (st != BO_OK) return admin_fail_status(r, st, "mail settings");
    http_reply_json(r, 200, settings_json(&m));
    mail_settings_free(&m);
}

void admin_mail_put(http_request *r, void *app_)
{
    json_t *body = admin_body(r);
    if (!body) return;
    mail_settings_input in = {0};
    int64_t port = 0;
    bool password_present = false;
    const body_field fields[] = {
        {"enabled", BF_BOOL, true, 0, 0, &in.enabled, NULL},
        {"host", BF_STRING, false, 1, 253, &in.host, NULL},
        {"port", BF_INT, false, 1, 65535, &port, NULL},
        {"security", BF_STRING, false, 1, 16, &in.security, NULL},
        {"username", BF_STRING, false, 1, 254, &in.username, NULL},
        {"password", BF_STRING, false, 1, 1024, &in.password, &password_present},
        {"from_address", BF_STRING, false, 3, 254, &in.from_address, NULL},
        {"from_name", BF_STRING, false, 1, 200, &in.from_name, NULL},
        {"reply_to", BF_STRING, false, 3, 254, &in.reply_to, NULL},
    };
    if (!ADMIN_FIELDS(r, body, "", fields)) return;
    /* absent keeps the stored password, null removes it */
    in.password_given = password_present || json_is_null(json_object_get(body, "password"));
    in.port = (int)port;
    mail_settings out;
    bo_error err = {0};
    if (mail_settings_put(admin_engine(app_), api_account(r), &in, &out, &err) != BO_OK) return admin_fail(r, &err);
    http_reply_json(r, 200, settings_json(&out));
    mail_settings_free(&out);
}
