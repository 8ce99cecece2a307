/* Confirmation e-mail: settings, queueing, the message, the SMTP sender (see mail.h). */
#include "core/mail.h"
#include "core/internal.h"
#include "store/mail_store.h"
#include "util/log.h"
#include "util/objtext.h"
#include "util/secure.h"
#include "util/utf8.h"
#include <ctype.h>
#include <glib.h>
#include <curl/curl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH 16
/* One attempt's limit; a batch is sent one mail after another over one
 * connection, so a lease outlives the slowest batch: no other process can
 * claim a mail while it is still being sent. */
#define SEND_TIMEOUT_SECONDS 30
#define LEASE_SECONDS (BATCH * SEND_TIMEOUT_SECONDS + 60)

void mail_set_pdf_renderer(engine *e, order_pdf_renderer fn)
{
    atomic_store_explicit(&e->mail_pdf_renderer, fn, memory_order_release);
}

const char *mail_security_name(mail_security s)
{
    return s == MAIL_TLS ? "tls" : s == MAIL_PLAIN ? "none" : "starttls";
}

static bool security_parse(const char *name, mail_security *out)
{
    if (!name || !strcmp(name, "starttls")) return *out = MAIL_STARTTLS, true;
    if (!strcmp(name, "tls")) return *out = MAIL_TLS, true;
    if (!strcmp(name, "none")) return *out = MAIL_PLAIN, true;
    return false;
}

static int default_port(mail_security s) { return s == MAIL_TLS ? 465 : s == MAIL_PLAIN ? 25 : 587; }

/* ---------- settings ---------- */

void mail_settings_free(mail_settings *m)
{
    if (!m) return;
    free(m->host);
    free(m->username);
    free(m->from_address);
    free(m->from_name);
    free(m->reply_to);
    memset(m, 0, sizeof *m);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

bo_status mail_settings_get(engine *e, const account *a, mail_settings *out)
{
    memset(out, 0, sizeof *out);
    store_mail_settings row;
    store_status st = store_mail_settings_get(e->st, a->id, &row);
    if (st == STORE_NOT_FOUND) {
        out->security = MAIL_STARTTLS;
        out->port = default_port(MAIL_STARTTLS);
        return BO_OK;
    }
    if (st != STORE_OK) return BO_INTERNAL;
    out->enabled = row.enabled;
    out->host = dup_or_null(row.host);
    out->port = (int)row.port;
    if (!security_parse(row.security, &out->security)) out->security = MAIL_STARTTLS;
    out->username = dup_or_null(row.username);
    out->password_set = row.password_sealed != NULL;
    out->from_address = dup_or_null(row.from_address);
    out->from_name = dup_or_null(row.from_name);
    out->reply_to = dup_or_null(row.reply_to);
    out->updated_at = row.updated_at;
    store_mail_settings_free(&row);
    return BO_OK;
}

/* A host name (RFC 1123 labels) or an IP address literal (IPv6 with or
 * without brackets). */
static bool host_valid(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 253) return false;
    if (strchr(h, ':')) { /* IPv6 */
        for (const char *p = h; *p; p++)
            if (!isxdigit((unsigned char)*p) && !strchr(":.[]", *p)) return false;
        return true;
    }
    size_t label = 0;
    for (const char *p = h; *p; p++) {
        if (*p == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (isalnum((unsigned char)*p) || (*p == '-' && label > 0)) {
            if (++label > 63) return false;
        } else {
            return false;
        }
    }
    return label > 0 && h[n - 1] != '-';
}

/* local@domain in printable ASCII without spaces, quotes, angle brackets or
 * anything else that would need quoting in a header or an SMTP command. */
static bool address_valid(const char *s)
{
    size_t n = strlen(s);
    const char *at = strrchr(s, '@');
    if (n < 3 || n > 254 || !at || at == s || !at[1]) return false;
    for (const char *p = s; *p; p++)
        if (*p <= ' ' || *p >= 0x7f || strchr("<>()[]\\,;:\"", *p) || (*p == '@' && p != at)) return false;
    return host_valid(at + 1);
}

/* No control characters (a display name goes into a header). */
static bool text_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

static bool length_ok(const char *s, size_t max) { return !s || strlen(s) <= max; }

static bo_status settings_check(engine *e, const mail_settings_input *in, mail_security *security, bo_error *err)
{
    if (!security_parse(in->security, security))
        return bo_fail(err, BO_INVALID, "invalid_field", "security", "security must be starttls, tls or none");
    if (in->host && !host_valid(in->host))
        return bo_fail(err, BO_INVALID, "invalid_field", "host", "host must be a host name or an IP address");
    if (in->port != 0 && (in->port < 1 || in->port > 65535))
        return bo_fail(err, BO_INVALID, "invalid_field", "port", "port must be 1 to 65535");
    if (!length_ok(in->username, 254) || (in->username && (!*in->username || !text_clean(in->username))))
        return bo_fail(err, BO_INVALID, "invalid_field", "username",
                       "username must be 1 to 254 characters without control characters");
    if (in->password_given && in->password &&
        (!*in->password || !length_ok(in->password, 1024) || !text_clean(in->password)))
        return bo_fail(err, BO_INVALID, "invalid_field", "password",
                       "password must be 1 to 1024 characters without control characters");
    if (in->from_address && !address_valid(in->from_address))
        return bo_fail(err, BO_INVALID, "invalid_field", "from_address", "from_address must be an e-mail address");
    if (in->from_name && (!length_ok(in->from_name, 200) || !text_clean(in->from_name)))
        return bo_fail(err, BO_INVALID, "invalid_field", "from_name",
                       "from_name must be at most 200 characters without control characters");
    if (in->reply_to && !address_valid(in->reply_to))
        return bo_fail(err, BO_INVALID, "invalid_field", "reply_to", "reply_to must be an e-mail address");
    if (in->enabled && !in->host)
        return bo_fail(err, BO_INVALID, "missing_field", "host", "host is required when mail is enabled");
    if (in->enabled && !in->from_address)
        return bo_fail(err, BO_INVALID, "missing_field", "from_address",
                       "from_address is required when mail is enabled");
    char why[256];
    if (in->host && !webhooks_host_allowed(e, in->host, "host", why, sizeof why))
        return bo_fail(err, BO_INVALID, "host_not_allowed", "host", "%s", why);
    return BO_OK;
}

bo_status mail_settings_put(engine *e, const account *a, const mail_settings_input *in, mail_settings *out,
                            bo_error *err)
{
    memset(out, 0, sizeof *out);
    mail_security security;
    bo_status bs = settings_check(e, in, &security, err);
    if (bs != BO_OK) return bs;
    char *sealed = NULL;
    if (in->password_given) {
        sealed = in->password ? secret_encrypt(in->password) : NULL;
        if (in->password && !sealed) return bo_fail(err, BO_INTERNAL, "internal_error", "", "could not seal the password");
    } else {
        store_mail_settings old;
        store_status st = store_mail_settings_get(e->st, a->id, &old);
        if (st != STORE_OK && st != STORE_NOT_FOUND) return bo_from_store(st, err);
        sealed = old.password_sealed;
        old.password_sealed = NULL;
        store_mail_settings_free(&old);
    }
    store_mail_settings row = {.enabled = in->enabled,
                               .host = (char *)in->host,
                               .port = in->port ? in->port : default_port(security),
                               .security = (char *)mail_security_name(security),
                               .username = (char *)in->username,
                               .password_sealed = sealed,
                               .from_address = (char *)in->from_address,
                               .from_name = (char *)in->from_name,
                               .reply_to = (char *)in->reply_to,
                               .updated_at = clock_now()};
    store_status st = store_mail_settings_put(e->st, a->id, &row);
    if (sealed) sodium_memzero(sealed, strlen(sealed));
    free(sealed);
    if (st != STORE_OK) return bo_from_store(st, err);
    return mail_settings_get(e, a, out) == BO_OK ? BO_OK
                                                 : bo_fail(err, BO_INTERNAL, "internal_error", "", "reload failed");
}

/* ---------- queueing ---------- */

db_status mail_queue_booked(db_conn *c, const account *a, const char *order_id, const char *recipient,
                            instant_us now)
{
    if (!recipient || !*recipient) return DB_OK;
    char id[37];
    time_uuid(id);
    bool queued;
    return store_db_status(store_mail_queue(c, id, a->id, order_id, recipient, now, &queued));
}

db_status mail_queue_paid(db_conn *c, const account *a, const char *order_id, instant_us now)
{
    char id[37];
    time_uuid(id);
    bool queued;
    return store_db_status(store_mail_queue_order(c, id, a->id, order_id, now, &queued));
}

/* ---------- the message ---------- */

static bool printable_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7e) return false;
    return true;
}

/* Bytes of a UTF-8 sequence starting with lead byte c (1 for a stray byte). */
static size_t utf8_len(unsigned char c) { return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1; }

/* The text built (malloc'd, the caller frees); *len (may be NULL) gets its length. */
static char *take(GString *w, size_t *len)
{
    if (len) *len = w->len;
    char *out = malloc(w->len + 1);
    if (out) memcpy(out, w->str, w->len + 1);
    g_string_free(w, TRUE);
    return out;
}

static void b64(GString *w, const unsigned char *bin, size_t len)
{
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *out = malloc(cap);
    if (!out) return;
    sodium_bin2base64(out, cap, bin, len, sodium_base64_VARIANT_ORIGINAL);
    g_string_append(w, out);
    free(out);
}

char *mail_header_encode(const char *text)
{
    GString *w = g_string_sized_new(128);
    if (printable_ascii(text)) {
        g_string_append(w, text);
        return take(w, NULL);
    }
    /* 45 bytes encode to 60 characters: with "=?UTF-8?B?" and "?=" a word is
     * 72, under RFC 2047's 75; a character is never split between words */
    const unsigned char *p = (const unsigned char *)text;
    bool first = true;
    while (*p) {
        size_t n = 0;
        while (p[n]) {
            size_t c = utf8_len(p[n]);
            for (size_t k = 1; k < c; k++)
                if (!p[n + k]) c = k; /* a truncated sequence: take what there is */
            if (n + c > 45) break;
            n += c;
        }
        if (!first) g_string_append(w, "\r\n ");
        first = false;
        g_string_append(w, "=?UTF-8?B?");
        b64(w, p, n);
        g_string_append(w, "?=");
        p += n;
    }
    return take(w, NULL);
}

/* An address header: Name <addr>, the name quoted or encoded as needed. */
static void address_header(GString *w, const char *header, const char *name, const char *addr)
{
    g_string_append(w, header);
    g_string_append(w, ": ");
    if (name && *name) {
        if (printable_ascii(name)) {
            g_string_append(w, "\"");
            for (const char *p = name; *p; p++) {
                char c[3] = {'\\', *p, 0};
                g_string_append(w, *p == '"' || *p == '\\' ? c : c + 1);
            }
            g_string_append(w, "\"");
        } else {
            char *encoded = mail_header_encode(name);
            if (encoded) g_string_append(w, encoded);
            free(encoded);
        }
        g_string_append(w, " ");
    }
    g_string_append(w, "<");
    g_string_append(w, addr);
    g_string_append(w, ">\r\n");
}

static void header(GString *w, const char *name, const char *value)
{
    g_string_append(w, name);
    g_string_append(w, ": ");
    g_string_append(w, value);
    g_string_append(w, "\r\n");
}

/* Base64 of bin in lines of 76 characters, each ended by CRLF. */
static void b64_lines(GString *w, const unsigned char *bin, size_t len)
{
    for (size_t i = 0; i < len; i += 57) { /* 57 bytes are 76 characters */
        b64(w, bin + i, len - i < 57 ? len - i : 57);
        g_string_append(w, "\r\n");
    }
}

static void html_escaped(GString *w, const char *s)
{
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '<': g_string_append(w, "&lt;"); break;
        case '>': g_string_append(w, "&gt;"); break;
        case '&': g_string_append(w, "&amp;"); break;
        case '"': g_string_append(w, "&quot;"); break;
        default: {
            char c[2] = {*p, 0};
            g_string_append(w, c);
        }
        }
    }
}

static void date_header(GString *w, instant_us at)
{
    static const char *days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)(at / US_PER_SEC);
    struct tm tm;
    gmtime_r(&t, &tm);
    char line[64];
    snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    g_string_append(w, line);
}

static void amount(char *out, size_t len, money m, const mail_message *msg)
{
    char number[32];
    money_format(m, msg->currency_decimals, number, sizeof number);
    snprintf(out, len, "%s %s", number, msg->currency ? msg->currency : "");
}

/* The text part (UTF-8, LF line ends: the part is base64, so its own line
 * lengths are free). */
static char *text_body(const mail_message *m)
{
    GString *w = g_string_sized_new(1024);
    char line[512], price[48];
    if (m->to_name && *m->to_name) snprintf(line, sizeof line, "Hello %s,\n\n", m->to_name), g_string_append(w, line);
    g_string_append(w, m->pdf ? "thank you for your order. Your e-tickets are attached to this e-mail.\n\n"
                              : "thank you for your order. Your tickets:\n\n");
    snprintf(line, sizeof line, "Order number: %s\n", m->order_number), g_string_append(w, line);
    if (m->visit_date && *m->visit_date) snprintf(line, sizeof line, "Date: %s\n", m->visit_date), g_string_append(w, line);
    g_string_append(w, "\nTickets:\n");
    for (size_t i = 0; i < m->ntickets; i++) {
        amount(price, sizeof price, m->tickets[i].price, m);
        const char *when = m->tickets[i].occurrence && *m->tickets[i].occurrence ? m->tickets[i].occurrence : NULL;
        snprintf(line, sizeof line, "  - %.*s%s%s%s  %s\n", utf8_prefix(m->tickets[i].product, 300),
                 m->tickets[i].product, when ? " (" : "",
                 when ? when : "", when ? ")" : "", price);
        g_string_append(w, line);
    }
    amount(price, sizeof price, m->total, m);
    snprintf(line, sizeof line, "\nTotal: %s\n\n", price), g_string_append(w, line);
    if (m->account_name) g_string_append(w, m->account_name), g_string_append(w, "\n");
    return take(w, NULL);
}

static char *html_body(const mail_message *m)
{
    GString *w = g_string_sized_new(2048);
    char price[48];
    g_string_append(w, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Order ");
    html_escaped(w, m->order_number);
    g_string_append(w, "</title></head><body>\n");
    if (m->to_name && *m->to_name) g_string_append(w, "<p>Hello "), html_escaped(w, m->to_name), g_string_append(w, ",</p>\n");
    g_string_append(w, m->pdf ? "<p>thank you for your order. Your e-tickets are attached to this e-mail.</p>\n"
                              : "<p>thank you for your order. Your tickets:</p>\n");
    g_string_append(w, "<p>Order number: <strong>"), html_escaped(w, m->order_number), g_string_append(w, "</strong>");
    if (m->visit_date && *m->visit_date) g_string_append(w, "<br>\nDate: "), html_escaped(w, m->visit_date);
    g_string_append(w, "</p>\n<table>\n");
    for (size_t i = 0; i < m->ntickets; i++) {
        g_string_append(w, "<tr><td>"), html_escaped(w, m->tickets[i].product), g_string_append(w, "</td><td>");
        if (m->tickets[i].occurrence) html_escaped(w, m->tickets[i].occurrence);
        amount(price, sizeof price, m->tickets[i].price, m);
        g_string_append(w, "</td><td>"), html_escaped(w, price), g_string_append(w, "</td></tr>\n");
    }
    amount(price, sizeof price, m->total, m);
    g_string_append(w, "</table>\n<p>Total: <strong>"), html_escaped(w, price), g_string_append(w, "</strong></p>\n");
    if (m->account_name) g_string_append(w, "<p>"), html_escaped(w, m->account_name), g_string_append(w, "</p>\n");
    g_string_append(w, "</body></html>\n");
    return take(w, NULL);
}

char *mail_message_build(const mail_message *m, size_t *len)
{
    GString *w = g_string_sized_new(4096 + m->pdf_len * 4 / 3);
    char line[1024];
    snprintf(line, sizeof line, "<%.900s>", m->message_id);
    header(w, "Message-ID", line);
    date_header(w, m->date);
    address_header(w, "From", m->from_name, m->from_address);
    address_header(w, "To", m->to_name, m->to_address);
    if (m->reply_to && *m->reply_to) address_header(w, "Reply-To", NULL, m->reply_to);
    char subject[512];
    if (m->to_name && *m->to_name)
        snprintf(subject, sizeof subject, "%.*s, your tickets: order %s", utf8_prefix(m->to_name, 300), m->to_name,
                 m->order_number);
    else snprintf(subject, sizeof subject, "Your tickets: order %s", m->order_number);
    char *encoded = mail_header_encode(subject);
    header(w, "Subject", encoded ? encoded : "Your tickets");
    free(encoded);
    header(w, "MIME-Version", "1.0");
    snprintf(line, sizeof line, "multipart/mixed; boundary=\"mixed-%.100s\"", m->boundary);
    header(w, "Content-Type", line);
    g_string_append(w, "\r\nThis is a MIME message.\r\n");
    snprintf(line, sizeof line, "\r\n--mixed-%.100s\r\n", m->boundary), g_string_append(w, line);
    snprintf(line, sizeof line, "multipart/alternative; boundary=\"alt-%.100s\"", m->boundary);
    header(w, "Content-Type", line);
    char *parts[2] = {text_body(m), html_body(m)};
    const char *types[2] = {"text/plain; charset=UTF-8", "text/html; charset=UTF-8"};
    for (int i = 0; i < 2; i++) {
        snprintf(line, sizeof line, "\r\n--alt-%.100s\r\n", m->boundary), g_string_append(w, line);
        header(w, "Content-Type", types[i]);
        header(w, "Content-Transfer-Encoding", "base64");
        g_string_append(w, "\r\n");
        if (parts[i]) b64_lines(w, (const unsigned char *)parts[i], strlen(parts[i]));
        free(parts[i]);
    }
    snprintf(line, sizeof line, "\r\n--alt-%.100s--\r\n", m->boundary), g_string_append(w, line);
    if (m->pdf) {
        snprintf(line, sizeof line, "\r\n--mixed-%.100s\r\n", m->boundary), g_string_append(w, line);
        snprintf(line, sizeof line, "application/pdf; name=\"%.200s\"", m->pdf_name);
        header(w, "Content-Type", line);
        header(w, "Content-Transfer-Encoding", "base64");
        snprintf(line, sizeof line, "attachment; filename=\"%.200s\"", m->pdf_name);
        header(w, "Content-Disposition", line);
        g_string_append(w, "\r\n");
        b64_lines(w, m->pdf, m->pdf_len);
    }
    snprintf(line, sizeof line, "\r\n--mixed-%.100s--\r\n", m->boundary), g_string_append(w, line);
    return take(w, len);
}

/* ---------- one mail, assembled from the order ---------- */

/* The product's name as the ticket recorded it: a string, or a translation
 * object read in the customer's language, else English, else "Ticket". */
static char *product_label(const char *ticket_doc, const char *language)
{
    char *name = objtext_string(ticket_doc, "product_name");
    if (name) return name;
    char *translations = objtext_member(ticket_doc, "product_name");
    if (translations && language) name = objtext_string(translations, language);
    if (translations && !name) name = objtext_string(translations, "en");
    free(translations);
    return name ? name : strdup("Ticket");
}

/* Who the mail greets: the order's customer name, else first and last name
 * from the customer object (malloc'd, NULL when none). */
static char *customer_name(const char *name, const char *customer)
{
    if (name && *name) return strdup(name);
    char *first = customer ? objtext_string(customer, "first_name") : NULL;
    char *last = customer ? objtext_string(customer, "last_name") : NULL;
    char *out = NULL;
    if (first || last) {
        size_t n = (first ? strlen(first) : 0) + (last ? strlen(last) : 0) + 2;
        out = malloc(n);
        if (out) snprintf(out, n, "%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
    }
    free(first);
    free(last);
    return out;
}

/* A recipient curl may put into RCPT TO: an address without spaces, control
 * characters or angle brackets (a customer's e-mail is the buyer's input;
 * UTF-8 is passed on as it is). */
static bool recipient_valid(const char *s)
{
    const char *at = strrchr(s, '@');
    if (!at || at == s || !at[1] || strlen(s) > 254) return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>') return false;
    return true;
}

typedef struct {
    store_mail_claim claim;
    char *message;
    size_t len, sent;
    char from[256];
    char url[300];
    char *username, *password;
    mail_security security;
    bool ok, permanent, refused;
    char error[256];
    engine *e;
} outgoing;

static void outgoing_free(outgoing *o)
{
    free(o->message);
    free(o->username);
    if (o->password) sodium_memzero(o->password, strlen(o->password));
    free(o->password);
}

/* Builds the message of a claimed mail; false with o->error (and
 * o->permanent when retrying cannot help) when it cannot be. */
static bool prepare(engine *e, outgoing *o)
{
    if (!recipient_valid(o->claim.recipient)) {
        snprintf(o->error, sizeof o->error, "the customer's e-mail is not an address mail can go to");
        return o->permanent = true, false;
    }
    account a;
    if (account_by_id(e, o->claim.account_id, &a) != BO_OK) {
        snprintf(o->error, sizeof o->error, "the account is gone");
        return o->permanent = true, false;
    }
    store_mail_settings s;
    store_status st = store_mail_settings_get(e->st, a.id, &s);
    if (st != STORE_OK || !s.enabled || !s.host || !s.from_address || !strchr(s.from_address, '@')) {
        snprintf(o->error, sizeof o->error, st == STORE_OK || st == STORE_NOT_FOUND ? "mail is disabled for the account"
                                                                                    : "the settings could not be read");
        o->permanent = st == STORE_OK || st == STORE_NOT_FOUND;
        store_mail_settings_free(&s);
        return false;
    }
    security_parse(s.security, &o->security);
    snprintf(o->url, sizeof o->url, "%s://%s%s%s:%lld", o->security == MAIL_TLS ? "smtps" : "smtp",
             strchr(s.host, ':') && s.host[0] != '[' ? "[" : "", s.host,
             strchr(s.host, ':') && s.host[0] != '[' ? "]" : "", (long long)s.port);
    snprintf(o->from, sizeof o->from, "<%s>", s.from_address);
    o->username = dup_or_null(s.username);
    o->password = s.password_sealed ? secret_decrypt(s.password_sealed) : NULL;
    bool sealed_ok = !s.password_sealed || o->password;
    order_record rec;
    bo_status bs = order_get(e, &a, o->claim.order_id, &rec);
    if (bs != BO_OK || !sealed_ok) {
        snprintf(o->error, sizeof o->error, !sealed_ok ? "the SMTP password could not be unsealed"
                                            : bs == BO_NOT_FOUND ? "the order is gone" : "the order could not be read");
        o->permanent = bs == BO_NOT_FOUND;
        if (bs == BO_OK) order_record_free(&rec);
        store_mail_settings_free(&s);
        return false;
    }
    char *customer = objtext_member(rec.order.doc, "customer");
    char *language = customer ? objtext_string(customer, "language") : NULL;
    char *to_name = customer_name(rec.order.customer_name, customer);
    free(customer);
    mail_ticket_line *lines = calloc(rec.ntickets ? rec.ntickets : 1, sizeof *lines);
    char **labels = calloc(rec.ntickets ? rec.ntickets : 1, sizeof *labels);
    for (size_t i = 0; lines && labels && i < rec.ntickets; i++) {
        labels[i] = product_label(rec.tickets[i].doc, language);
        lines[i] = (mail_ticket_line){labels[i], rec.tickets[i].occurrence, rec.tickets[i].price_gross};
    }
    unsigned char *pdf = NULL;
    size_t pdf_len = 0;
    order_pdf_renderer render = atomic_load_explicit(&e->mail_pdf_renderer, memory_order_acquire);
    if (!render) {
        log_info("mail: no e-ticket renderer registered; order %s goes without attachment", rec.order.number);
    } else if (render(e, &a, o->claim.order_id, &pdf, &pdf_len) != 0) {
        log_warn("mail: the e-tickets of order %s could not be rendered; it goes without attachment",
                 rec.order.number);
        pdf = NULL, pdf_len = 0;
    }
    const char *domain = strrchr(s.from_address, '@') + 1;
    char message_id[200], pdf_name[64];
    snprintf(message_id, sizeof message_id, "%s.%s@%.100s", o->claim.order_id, o->claim.id, domain);
    snprintf(pdf_name, sizeof pdf_name, "tickets-%.40s.pdf", rec.order.number);
    mail_message m = {.message_id = message_id, .date = clock_now(), .from_address = s.from_address,
                      .from_name = s.from_name, .reply_to = s.reply_to, .to_address = o->claim.recipient,
                      .to_name = to_name, .account_name = a.name, .order_number = rec.order.number,
                      .visit_date = rec.order.visit_date, .currency = rec.order.currency,
                      .currency_decimals = a.currency_decimals, .total = rec.order.total_gross, .tickets = lines,
                      .ntickets = lines && labels ? rec.ntickets : 0, .pdf = pdf, .pdf_len = pdf_len,
                      .pdf_name = pdf_name, .boundary = o->claim.id};
    o->message = mail_message_build(&m, &o->len);
    for (size_t i = 0; labels && i < rec.ntickets; i++) free(labels[i]);
    free(labels);
    free(lines);
    free(pdf);
    free(language);
    free(to_name);
    order_record_free(&rec);
    store_mail_settings_free(&s);
    if (!o->message) snprintf(o->error, sizeof o->error, "the message could not be built");
    return o->message != NULL;
}

static size_t read_message(char *buf, size_t size, size_t nitems, void *arg)
{
    outgoing *o = arg;
    size_t n = o->len - o->sent, room = size * nitems;
    if (n > room) n = room;
    memcpy(buf, o->message + o->sent, n);
    o->sent += n;
    return n;
}

static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
    outgoing *o = arg;
    curl_socket_t fd = webhooks_open_socket(o->e, purpose, address, o->error, sizeof o->error);
    if (fd == CURL_SOCKET_BAD) o->refused = true;
    return fd;
}

static size_t discard(char *p, size_t s, size_t n, void *u) { return s * n; }

/* Hands one message to the SMTP server. The handle is reused for the batch,
 * so mails to one server share its connection. */
static void send_one(CURL *c, outgoing *o)
{
    curl_easy_reset(c);
    struct curl_slist *rcpt = curl_slist_append(NULL, o->claim.recipient);
    curl_easy_setopt(c, CURLOPT_URL, o->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, o->from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(c, CURLOPT_READDATA, o);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)o->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (o->security == MAIL_STARTTLS) curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
    if (o->username) curl_easy_setopt(c, CURLOPT_USERNAME, o->username);
    if (o->username && o->password) curl_easy_setopt(c, CURLOPT_PASSWORD, o->password);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)SEND_TIMEOUT_SECONDS);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* straight to the checked address */
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, o);
    o->sent = 0;
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_slist_free_all(rcpt);
    o->ok = rc == CURLE_OK;
    if (o->ok || o->refused) return; /* a refusal's error names the address */
    if (code) snprintf(o->error, sizeof o->error, "%s (SMTP %ld)", curl_easy_strerror(rc), code);
    else snprintf(o->error, sizeof o->error, "%s", curl_easy_strerror(rc));
    /* the server refused for good (a 5xx reply other than to the login,
     * which the account may fix): retrying sends the same thing again */
    o->permanent = code >= 500 && code < 600 && rc != CURLE_LOGIN_DENIED;
}

int mail_deliver_due(engine *e)
{
    store_mail_claim claims[BATCH];
    int n = 0;
    instant_us now = clock_now();
    if (store_mail_claim_due(e->st, now, now + LEASE_SECONDS * US_PER_SEC, claims, BATCH, &n) != STORE_OK || n == 0)
        return 0;
    outgoing *out = calloc((size_t)n, sizeof *out);
    if (!out) return 0; /* the leases expire and the mails are claimed again */
    CURL *c = curl_easy_init();
    for (int i = 0; i < n; i++) {
        out[i].claim = claims[i];
        out[i].e = e;
        if (prepare(e, &out[i]) && c) send_one(c, &out[i]);
        else if (!c && !*out[i].error) snprintf(out[i].error, sizeof out[i].error, "no curl handle");
    }
    if (c) curl_easy_cleanup(c);
    /* the backoff counts from the claim, not from the end of a batch that may
     * have waited on slow servers (or seen the test clock jump meanwhile) */
    instant_us claimed_at = now;
    now = clock_now();
    store_mail_result results[BATCH];
    for (int i = 0; i < n; i++) {
        outgoing *o = &out[i];
        int64_t attempts = o->claim.attempts + 1;
        int64_t wait = MAIL_FIRST_RETRY_SECONDS;
        for (int64_t k = 1; k < attempts && wait < MAIL_MAX_RETRY_WAIT_SECONDS; k++) wait *= 2;
        if (wait > MAIL_MAX_RETRY_WAIT_SECONDS) wait = MAIL_MAX_RETRY_WAIT_SECONDS;
        instant_us next = claimed_at + wait * US_PER_SEC;
        bool give_up = o->permanent || next - o->claim.created_at > MAIL_RETRY_FOR_SECONDS * US_PER_SEC;
        results[i] = (store_mail_result){.id = o->claim.id,
                                         .status = o->ok ? "sent" : give_up ? "failed" : "queued",
                                         .attempts = attempts,
                                         .error = o->ok ? NULL : o->error,
                                         .next_due = o->ok || give_up ? now : next,
                                         .sent_at = o->ok ? now : 0};
        if (!o->ok) log_warn("mail: order %s to %s: %s%s", o->claim.order_id, o->claim.recipient, o->error,
                             give_up ? " (given up)" : "");
    }
    if (store_mail_results_record(e->st, results, (size_t)n) != STORE_OK)
        log_warn("mail: could not record %d attempt(s); they are sent again when their lease ends", n);
    for (int i = 0; i < n; i++) outgoing_free(&out[i]);
    free(out);
    return n;
}

void mail_start(engine *e)
{
    /* mail may wait a few seconds; bookings should not wait for it (bench/mail.sh) */
    e->mail_sender = (sender){.name = "bo-mail", .next_due = store_mail_next_due, .deliver_due = mail_deliver_due,
                              .nice = 10, .coalesce_ms = 200};
    sender_start(&e->mail_sender, e);
}

void mail_stop(engine *e) { sender_stop(&e->mail_sender); }
