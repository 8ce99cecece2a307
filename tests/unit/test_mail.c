/* Confirmation mail, on the database named by BOXOFFICE_TEST_DB (default: a
 * fresh SQLite file): the message's shape (RFC 2047 words, CRLF, line
 * lengths, base64 wrapping, the PDF part); settings (validation, the
 * outgoing-address rule, the password sealed); queueing in the confirming
 * transaction (booked confirmed, or open and then paid; one per order); a
 * claim leases a mail so a second sender skips it; delivery to a tiny SMTP
 * server in this process with a fake e-ticket renderer; retries with backoff,
 * and giving up after a day. */
#include "fixture.h"
#include "core/internal.h"
#include "core/mail.h"
#include "store/mail_store.h"
#include "util/secure.h"
#include <arpa/inet.h>
#include <glib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static engine *E;
static account A;
static char PRODUCT[40];

/* ---------- the message, without a database ---------- */

static bool lines_ok(const char *msg, size_t len, size_t max)
{
    size_t line = 0;
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')) return false; /* a bare LF */
        if (msg[i] == '\r' && (i + 1 >= len || msg[i + 1] != '\n')) return false;
        if (msg[i] == '\n') line = 0;
        else if (msg[i] != '\r' && ++line > max) return false;
    }
    return true;
}

static void test_header_encoding(void)
{
    char *plain = mail_header_encode("Your tickets: order 12345678");
    CHECK(plain && !strcmp(plain, "Your tickets: order 12345678"), "printable ASCII stays as it is");
    free(plain);
    char *crlf = mail_header_encode("Eve\r\nBcc: x@example.net");
    CHECK(crlf && !strstr(crlf, "Bcc:") && !strncmp(crlf, "=?UTF-8?B?", 10), "CR LF cannot start a header: encoded");
    free(crlf);
    /* long enough for several words; every word within 75, whole characters */
    const char *text = "Zoë Ærøskøbing, Ελληνικά, Кириллица, 日本語のテキスト, your tickets: order 12345678";
    char *enc = mail_header_encode(text);
    bool words_ok = enc != NULL;
    GString *decoded = g_string_new("");
    for (char *save = NULL, *w = enc ? strtok_r(enc, "\r\n ", &save) : NULL; w; w = strtok_r(NULL, "\r\n ", &save)) {
        size_t n = strlen(w);
        words_ok = words_ok && n <= 75 && !strncmp(w, "=?UTF-8?B?", 10) && !strcmp(w + n - 2, "?=");
        unsigned char bin[128];
        size_t bin_len = 0;
        if (n > 12 && sodium_base642bin(bin, sizeof bin, w + 10, n - 12, NULL, &bin_len, NULL,
                                        sodium_base64_VARIANT_ORIGINAL) == 0) {
            words_ok = words_ok && g_utf8_validate((const char *)bin, (gssize)bin_len, NULL);
            g_string_append_len(decoded, (const char *)bin, (gssize)bin_len);
        } else {
            words_ok = false;
        }
    }
    CHECK(words_ok, "encoded words of at most 75 characters, each whole UTF-8");
    CHECK(!strcmp(decoded->str, text), "the words decode to the text");
    g_string_free(decoded, TRUE);
    free(enc);
}

static void test_message_shape(void)
{
    unsigned char pdf[5000];
    for (size_t i = 0; i < sizeof pdf; i++) pdf[i] = (unsigned char)(i * 7);
    memcpy(pdf, "%PDF-1.4", 8);
    char long_name[1500];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = 0;
    mail_ticket_line lines[] = {{"Entrée adulte", "2026-12-01T10:00", 1250}, {long_name, NULL, 0}};
    mail_message m = {.message_id = "or-1.ml-1@example.org", .date = 1796025559000000, .from_address = "t@example.org",
                      .from_name = "Théâtre \"Zürich\"", .reply_to = "help@example.org",
                      .to_address = "buyer@example.com", .to_name = "Zoë", .account_name = "Museum & <Co>",
                      .order_number = "12345678", .visit_date = "2026-12-01", .currency = "EUR",
                      .currency_decimals = 2, .total = 1250, .tickets = lines, .ntickets = 2, .pdf = pdf,
                      .pdf_len = sizeof pdf, .pdf_name = "tickets-12345678.pdf", .boundary = "ml-1"};
    size_t len = 0;
    char *msg = mail_message_build(&m, &len);
    CHECK(msg && len == strlen(msg), "the message is built");
    if (!msg) return;
    CHECK(lines_ok(msg, len, 998), "CRLF only, no line over 998 octets (a 1,500-character product name)");
    bool ascii = true;
    for (size_t i = 0; i < len; i++) ascii = ascii && (unsigned char)msg[i] < 0x80;
    CHECK(ascii, "7-bit: non-ASCII headers encoded, bodies base64");
    CHECK(strstr(msg, "Message-ID: <or-1.ml-1@example.org>\r\n") && strstr(msg, "MIME-Version: 1.0\r\n") &&
              strstr(msg, "Date: Mon, 30 Nov 2026 ") && strstr(msg, "Reply-To: <help@example.org>\r\n") &&
              strstr(msg, "To: =?UTF-8?B?Wm/Dqw==?= <buyer@example.com>\r\n"),
          "Message-ID, Date, MIME-Version, Reply-To, an encoded display name");
    CHECK(strstr(msg, "Content-Type: multipart/mixed; boundary=\"mixed-ml-1\"") &&
              strstr(msg, "Content-Type: multipart/alternative; boundary=\"alt-ml-1\"") &&
              strstr(msg, "Content-Type: text/plain; charset=UTF-8") &&
              strstr(msg, "Content-Type: text/html; charset=UTF-8") &&
              strstr(msg, "Content-Type: application/pdf; name=\"tickets-12345678.pdf\"") &&
              strstr(msg, "\r\n--mixed-ml-1--\r\n"),
          "multipart/mixed of multipart/alternative (text, HTML) and the PDF");
    /* the PDF part: base64 in lines of 76 that decode to the bytes */
    const char *part = strstr(msg, "Content-Disposition: attachment; filename=\"tickets-12345678.pdf\"\r\n\r\n");
    bool wrapped = part != NULL;
    GString *b64 = g_string_new("");
    for (const char *p = part ? strstr(part, "\r\n\r\n") + 4 : NULL; p && *p && *p != '\r';) {
        const char *end = strstr(p, "\r\n");
        if (!end) break;
        size_t n = (size_t)(end - p);
        wrapped = wrapped && n <= 76 && (n == 76 || end[2] == '\r');
        g_string_append_len(b64, p, (gssize)n);
        p = end + 2;
    }
    unsigned char back[6000];
    size_t back_len = 0;
    CHECK(wrapped && sodium_base642bin(back, sizeof back, b64->str, b64->len, NULL, &back_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL) == 0 &&
              back_len == sizeof pdf && !memcmp(back, pdf, sizeof pdf),
          "the PDF is base64 wrapped at 76 and decodes to the renderer's bytes");
    g_string_free(b64, TRUE);
    free(msg);
    m.pdf = NULL;
    msg = mail_message_build(&m, &len);
    CHECK(msg && !strstr(msg, "application/pdf") && strstr(msg, "\r\n--mixed-ml-1--\r\n"), "no renderer: no PDF part");
    free(msg);
}

/* ---------- a tiny SMTP server on 127.0.0.1 ---------- */

typedef struct {
    int listen_fd, port;
    pthread_t thread;
    GString *received; /* every DATA, one after another */
    int messages;
} smtp_server;

static bool say(int fd, const char *line) { return write(fd, line, strlen(line)) == (ssize_t)strlen(line); }

/* Reads one CRLF-ended line (without it) into buf; false on EOF. */
static bool read_line(int fd, char *buf, size_t max)
{
    size_t n = 0;
    char c;
    while (read(fd, &c, 1) == 1) {
        if (c == '\n') {
            if (n && buf[n - 1] == '\r') n--;
            buf[n] = 0;
            return true;
        }
        if (n + 1 < max) buf[n++] = c;
    }
    return false;
}

static void *smtp_main(void *arg)
{
    smtp_server *s = arg;
    int fd;
    while ((fd = accept(s->listen_fd, NULL, NULL)) >= 0) {
        char line[2048];
        say(fd, "220 test ESMTP\r\n");
        while (read_line(fd, line, sizeof line)) {
            if (!strncasecmp(line, "EHLO", 4)) say(fd, "250-test\r\n250 8BITMIME\r\n");
            else if (!strncasecmp(line, "DATA", 4)) {
                say(fd, "354 go on\r\n");
                while (read_line(fd, line, sizeof line) && strcmp(line, ".")) {
                    g_string_append(s->received, line);
                    g_string_append(s->received, "\r\n");
                }
                s->messages++;
                say(fd, "250 queued\r\n");
            } else if (!strncasecmp(line, "QUIT", 4)) {
                say(fd, "221 bye\r\n");
                break;
            } else say(fd, "250 ok\r\n");
        }
        close(fd);
    }
    return NULL;
}

static bool smtp_start(smtp_server *s)
{
    memset(s, 0, sizeof *s);
    s->received = g_string_new("");
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) || listen(s->listen_fd, 4) ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &alen))
        return false;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, smtp_main, s) == 0;
}

static void smtp_stop(smtp_server *s)
{
    shutdown(s->listen_fd, SHUT_RDWR);
    close(s->listen_fd);
    pthread_join(s->thread, NULL);
    g_string_free(s->received, TRUE);
}

/* ---------- on the database ---------- */

static char CONFIRMED[40];

typedef struct {
    const char *order_id;
    bool queued;
} queue_again_ctx;

static db_status queue_again(db_conn *c, void *arg)
{
    queue_again_ctx *x = arg;
    return mail_queue_booked(c, &A, x->order_id, "again@example.com", clock_now()) == DB_OK &&
                   store_mail_queue(c, "not-used", A.id, x->order_id, "again@example.com", clock_now(), &x->queued) ==
                       STORE_OK
               ? DB_OK
               : DB_ERROR;
}

static const unsigned char FAKE_PDF[] = "%PDF-1.4 fake e-tickets for this test";

static int fake_renderer(engine *e, const account *a, const char *order_id, unsigned char **pdf, size_t *len)
{
    (void)e;
    if (strcmp(a->id, A.id)) return 1;
    *pdf = malloc(sizeof FAKE_PDF - 1);
    memcpy(*pdf, FAKE_PDF, sizeof FAKE_PDF - 1);
    *len = sizeof FAKE_PDF - 1;
    (void)order_id;
    return 0;
}

static bool settings(int port, const char *password, bo_error *err)
{
    mail_settings_input in = {.enabled = true, .host = "127.0.0.1", .port = port, .security = "none",
                              .password_given = password != NULL, .password = password,
                              .from_address = "tickets@example.org", .from_name = "Théâtre"};
    mail_settings out;
    bo_status st = mail_settings_put(E, &A, &in, &out, err);
    mail_settings_free(&out);
    return st == BO_OK;
}

/* Books one ticket; status NULL = confirmed. */
static bool book(const char *status, const char *customer, char order_id[40])
{
    cart_line l = {PRODUCT, 1};
    cart_request r = {.day = -1, .start_time = -1, .end_time = -1, .lines = &l, .nlines = 1};
    cart_record cart;
    bo_error err;
    if (cart_create(E, &A, &r, &cart, &err) != BO_OK) return false;
    book_request br = {.cart_id = cart.id, .status = status, .customer = customer};
    bool created;
    bo_status st = order_book(E, &A, &br, order_id, &created, &err);
    cart_record_free(&cart);
    return st == BO_OK;
}

static store_order_mail mail_of(const char *order_id)
{
    order_record o;
    store_order_mail m = {0};
    if (order_get(E, &A, order_id, &o) == BO_OK) {
        m = o.mail;
        m.last_error = NULL;
        order_record_free(&o);
    }
    return m;
}

static void test_settings(void)
{
    bo_error err;
    mail_settings_input in = {.enabled = true, .host = "10.1.2.3", .from_address = "t@example.org"};
    mail_settings out;
    CHECK(mail_settings_put(E, &A, &in, &out, &err) == BO_INVALID && !strcmp(err.code, "host_not_allowed") &&
              !strcmp(err.field, "host"),
          "a private SMTP host is refused (not on the allow list)");
    in.host = "127.0.0.1";
    in.from_address = "not an address";
    CHECK(mail_settings_put(E, &A, &in, &out, &err) == BO_INVALID && !strcmp(err.field, "from_address"),
          "from_address checked");
    CHECK(settings(2525, "Sëcret-pass", &err), "settings saved");
    mail_settings_get(E, &A, &out);
    CHECK(out.enabled && out.password_set && out.port == 2525 && out.security == MAIL_PLAIN, "settings read back");
    mail_settings_free(&out);
    store_mail_settings row;
    CHECK(store_mail_settings_get(E->st, A.id, &row) == STORE_OK && row.password_sealed &&
              !strstr(row.password_sealed, "Sëcret"),
          "the password is stored sealed");
    char *plain = row.password_sealed ? secret_decrypt(row.password_sealed) : NULL;
    CHECK(plain && !strcmp(plain, "Sëcret-pass"), "and unseals with the server key");
    free(plain);
    store_mail_settings_free(&row);
}

static void test_queueing(void)
{
    char confirmed[40], open[40], none[40];
    CHECK(book(NULL, "{\"email\":\"buyer@example.com\",\"name\":\"Zoë\"}", confirmed), "confirmed booking");
    store_order_mail m = mail_of(confirmed);
    CHECK(m.queued && !strcmp(m.status, "queued") && m.attempts == 0, "a confirmed order has its mail queued");
    CHECK(book(NULL, "{\"name\":\"No Mail\"}", none) && !mail_of(none).queued, "no e-mail, no mail");
    CHECK(book("open", "{\"email\":\"later@example.com\"}", open) && !mail_of(open).queued,
          "an open (pay-later) order has none yet");
    payment_input pay = {.provider = "cash", .amount = -1};
    bo_error err;
    CHECK(order_mark_paid(E, &A, open, &pay, &err) == BO_OK && mail_of(open).queued, "paid: queued then");
    queue_again_ctx x = {confirmed, true};
    CHECK(store_write(E->st, queue_again, &x) == DB_OK && !x.queued, "one mail per order: queueing again adds none");
    snprintf(CONFIRMED, sizeof CONFIRMED, "%s", confirmed);
}

/* Two senders (processes) claiming at once: the lease lets one have it. */
static void test_claims_exclusive(void)
{
    instant_us now = clock_now();
    store_mail_claim first[16], second[16];
    int n1 = 0, n2 = 0;
    CHECK(store_mail_claim_due(E->st, now, now + 60 * US_PER_SEC, first, 16, &n1) == STORE_OK && n1 >= 2,
          "the due mails are claimed");
    CHECK(store_mail_claim_due(E->st, now, now + 60 * US_PER_SEC, second, 16, &n2) == STORE_OK && n2 == 0,
          "a second sender finds them leased");
    /* give them back: due now again */
    for (int i = 0; i < n1; i++) {
        store_mail_result r = {.id = first[i].id, .status = "queued", .attempts = first[i].attempts,
                               .next_due = now};
        store_mail_results_record(E->st, &r, 1);
    }
}

static void test_delivery(void)
{
    smtp_server rx;
    CHECK(smtp_start(&rx), "SMTP receiver listening");
    bo_error err;
    CHECK(settings(rx.port, NULL, &err), "settings point at it");
    mail_set_pdf_renderer(E, fake_renderer);
    int sent = 0;
    for (int pass = 0; pass < 5 && (sent += mail_deliver_due(E)) < 2; pass++) {}
    CHECK(rx.messages == 2 && sent == 2, "both queued mails are sent in one pass");
    store_order_mail m = mail_of(CONFIRMED);
    CHECK(!strcmp(m.status, "sent") && m.attempts == 1 && m.sent_at > 0, "the order's mail is sent");
    CHECK(mail_deliver_due(E) == 0 && rx.messages == 2, "nothing more to send");
    char expect_id[128];
    snprintf(expect_id, sizeof expect_id, "Message-ID: <%s.", CONFIRMED);
    CHECK(strstr(rx.received->str, expect_id) != NULL, "Message-ID names the order");
    char pdf_b64[128];
    sodium_bin2base64(pdf_b64, sizeof pdf_b64, FAKE_PDF, sizeof FAKE_PDF - 1, sodium_base64_VARIANT_ORIGINAL);
    CHECK(strstr(rx.received->str, "Content-Type: application/pdf") && strstr(rx.received->str, pdf_b64),
          "the renderer's PDF is attached");
    CHECK(strstr(rx.received->str, "Subject: =?UTF-8?B?") != NULL, "a non-ASCII subject is encoded");
    smtp_stop(&rx);
}

static void test_retries_then_give_up(void)
{
    bo_error err;
    CHECK(settings(1, NULL, &err), "settings point at a closed port");
    char order[40];
    CHECK(book(NULL, "{\"email\":\"retry@example.com\"}", order), "booked");
    CHECK(mail_deliver_due(E) == 1, "attempted");
    store_order_mail m = mail_of(order);
    CHECK(!strcmp(m.status, "queued") && m.attempts == 1, "a failed attempt stays queued");
    CHECK(mail_deliver_due(E) == 0, "the retry waits");
    clock_advance(MAIL_FIRST_RETRY_SECONDS + 1);
    CHECK(mail_deliver_due(E) == 1 && mail_of(order).attempts == 2, "retried after the first wait");
    int attempts = 2;
    for (int hour = 0; hour < 30 && strcmp(mail_of(order).status, "failed"); hour++) {
        clock_advance(MAIL_MAX_RETRY_WAIT_SECONDS + 1);
        attempts += mail_deliver_due(E);
    }
    m = mail_of(order);
    CHECK(!strcmp(m.status, "failed") && m.attempts == attempts && m.sent_at == 0, "given up after a day");
    CHECK(clock_offset_seconds() <= MAIL_RETRY_FOR_SECONDS + 2 * MAIL_MAX_RETRY_WAIT_SECONDS + 100,
          "and not much later");
    clock_advance(MAIL_MAX_RETRY_WAIT_SECONDS + 1);
    CHECK(mail_deliver_due(E) == 0, "a failed mail is not sent again");
}

int main(void)
{
    if (!secure_init()) return 1;
    test_server_key(7);
    test_header_encoding();
    test_message_shape();
    char path[128];
    const char *uri = test_db_uri("mail", path);
    store *s = test_store_open(uri);
    if (!s) return check_summary();
    engine_config cfg = {.default_hold_seconds = 900, .catalog_codec = &catalog_doc_json_codec,
                         .webhook_allow = "127.0.0.1"};
    E = engine_open(s, &cfg);
    CHECK(test_account(E, "m", "Mail Test", &A), "account created");
    json_t *doc = json_pack("{s:s,s:i}", "name", "Entrée", "price", 1250);
    json_t *out = NULL;
    bo_error err;
    CHECK(catalog_put_json(E, &A, CAT_PRODUCT, NULL, doc, false, &out, &err) == BO_OK, "product created");
    snprintf(PRODUCT, sizeof PRODUCT, "%s", json_string_value(json_object_get(out, "id")));
    json_decref(doc);
    json_decref(out);
    test_settings();
    test_queueing();
    test_claims_exclusive();
    test_delivery();
    test_retries_then_give_up();
    return test_finish(E, s, uri, path);
}
