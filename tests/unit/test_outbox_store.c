/* The outbox store (store/outbox.c) on the database named by
 * BOXOFFICE_TEST_DB (default: a fresh SQLite file): each operation reaches
 * each status it documents, and a refused one writes nothing: the
 * subscription version (get, bump, listening), subscriptions (create, list,
 * delete; scoped by account), recording (subscribers, record), deliveries
 * (list, next due, claim, load, results: failing, disabling, recovering).
 * Steps taking a db_conn run inside store_write transactions of this file's
 * own. The database may be shared with other tests: accounts are fresh ids,
 * this file's deliveries are due in 1970 so that a claim at that time takes
 * only them, and every subscription is deleted at the end so that nothing of
 * this file stays pending. */
#include "fixture.h"
#include "store/outbox.h"
#include "util/secure.h"
#include <string.h>

static store *S;
static char A[40], B[40];
static char SUB1[48], SUB2[48];
static int64_t VERSION; /* A's version as last seen */

/* Deliveries of this file are due at T0 (microseconds since the epoch). */
#define T0 ((instant_us)1000)
/* when this file's subscriptions are created */
#define NOW_CREATED ((instant_us)2000)

static void new_id(char *out, size_t n, const char *prefix)
{
    char u[37];
    rand_uuid(u);
    snprintf(out, n, "%s%.24s", prefix, u);
}

/* ---------------- steps run in transactions of their own ---------------- */

typedef struct {
    int op; /* 0 version get, 1 bump, 2 listening */
    const char *account_id;
    int64_t version;
    bool any;
    store_status st;
} version_op;

static db_status version_fn(db_conn *c, void *arg)
{
    version_op *x = arg;
    x->version = -7;
    x->any = false;
    x->st = x->op == 0   ? store_webhook_version_get(c, x->account_id, &x->version)
            : x->op == 1 ? store_webhook_version_bump(c, x->account_id, &x->version)
                         : store_webhook_listening(c, x->account_id, &x->version, &x->any);
    return DB_OK;
}

static store_status version_get(const char *account_id, int64_t *version)
{
    version_op x = {0, account_id, 0, false, STORE_ERROR};
    store_read(S, version_fn, &x);
    *version = x.version;
    return x.st;
}

static store_status listening(const char *account_id, int64_t *version, bool *any)
{
    version_op x = {2, account_id, 0, false, STORE_ERROR};
    store_read(S, version_fn, &x);
    *version = x.version;
    *any = x.any;
    return x.st;
}

typedef struct {
    int n;
    char ids[4][48];
    char events[4][64];
} subscriber_list;

static void add_subscriber(void *ctx, const char *id, const char *events)
{
    subscriber_list *l = ctx;
    if (l->n < 4) {
        snprintf(l->ids[l->n], sizeof l->ids[0], "%s", id);
        snprintf(l->events[l->n], sizeof l->events[0], "%s", events);
    }
    l->n++;
}

typedef struct {
    const char *account_id;
    subscriber_list list;
    store_status st;
} subscribers_op;

static db_status subscribers_fn(db_conn *c, void *arg)
{
    subscribers_op *x = arg;
    memset(&x->list, 0, sizeof x->list);
    x->st = store_outbox_subscribers(c, x->account_id, add_subscriber, &x->list);
    return DB_OK;
}

typedef struct {
    const store_outbox_event *ev;
    const char *const *subs;
    size_t n;
    store_status st;
} record_op;

static db_status record_fn(db_conn *c, void *arg)
{
    record_op *x = arg;
    x->st = store_outbox_record(c, x->ev, x->subs, x->n);
    return x->st == STORE_OK ? DB_OK : DB_ABORT; /* roll back a refused record */
}

/* ---------------- collecting callbacks ---------------- */

typedef struct {
    int n;
    char id[4][48], url[4][64], format[4][32], events[4][64];
    bool active[4], failing[4];
    instant_us failing_since[4], created_at[4];
} sub_rows;

static void collect_sub(void *ctx, const store_subscription *s)
{
    sub_rows *r = ctx;
    if (r->n < 4) {
        int i = r->n;
        snprintf(r->id[i], sizeof r->id[i], "%s", s->id);
        snprintf(r->url[i], sizeof r->url[i], "%s", s->url);
        snprintf(r->format[i], sizeof r->format[i], "%s", s->format);
        snprintf(r->events[i], sizeof r->events[i], "%s", s->events);
        r->active[i] = s->active;
        r->failing[i] = s->failing;
        r->failing_since[i] = s->failing_since;
        r->created_at[i] = s->created_at;
    }
    r->n++;
}

static store_status sub_get(const char *account_id, const char *id, sub_rows *out)
{
    memset(out, 0, sizeof *out);
    return store_subscriptions_list(S, account_id, id, collect_sub, out);
}

typedef struct {
    int n;
    char event_id[4][48], event[4][32], status[4][16], error[4][64];
    int64_t attempts[4], code[4];
    bool has_code[4], has_error[4], attempted[4];
    instant_us last_attempt_at[4], next_due[4], created_at[4];
} delivery_rows;

static void collect_delivery(void *ctx, const store_delivery *d)
{
    delivery_rows *r = ctx;
    if (r->n < 4) {
        int i = r->n;
        snprintf(r->event_id[i], sizeof r->event_id[i], "%s", d->event_id);
        snprintf(r->event[i], sizeof r->event[i], "%s", d->event);
        snprintf(r->status[i], sizeof r->status[i], "%s", d->status);
        snprintf(r->error[i], sizeof r->error[i], "%s", d->last_error ? d->last_error : "");
        r->attempts[i] = d->attempts;
        r->code[i] = d->last_status_code;
        r->has_code[i] = d->has_status_code;
        r->has_error[i] = d->last_error != NULL;
        r->attempted[i] = d->attempted;
        r->last_attempt_at[i] = d->last_attempt_at;
        r->next_due[i] = d->next_due;
        r->created_at[i] = d->created_at;
    }
    r->n++;
}

static store_status deliveries(const char *account_id, const char *sub_id, delivery_rows *out)
{
    memset(out, 0, sizeof *out);
    return store_deliveries_list(S, account_id, sub_id, 500, collect_delivery, out);
}

/* ---------------- tests ---------------- */

static void test_version(void)
{
    int64_t v = 0;
    bool any = true;
    CHECK(version_get(A, &v) == STORE_NOT_FOUND, "version: none before the first subscription");
    CHECK(listening(A, &v, &any) == STORE_OK && v == 0 && !any, "listening: version 0, nobody");
    version_op x = {1, B, 0, false, STORE_ERROR};
    CHECK(store_write(S, version_fn, &x) == DB_OK && x.st == STORE_OK && x.version == 1, "bump: creates at 1");
    CHECK(store_write(S, version_fn, &x) == DB_OK && x.st == STORE_OK && x.version == 2, "bump: adds 1");
    CHECK(version_get(B, &v) == STORE_OK && v == 2, "version: reads the bumped value");
    CHECK(version_get(A, &v) == STORE_NOT_FOUND, "version: per account");
    CHECK(listening(B, &v, &any) == STORE_OK && v == 2 && !any, "listening: version without subscriptions");
}

static void test_subscriptions(void)
{
    new_id(SUB1, sizeof SUB1, "ws_t1");
    new_id(SUB2, sizeof SUB2, "ws_t2");
    store_subscription s = {.id = SUB1, .account_id = A, .url = "http://127.0.0.1:1/a", .format = "fmt-a",
                            .events = "*", .active = true};
    int64_t v = 0;
    CHECK(store_subscription_create(S, &s, "sealed-1", NOW_CREATED, &v) == STORE_OK && v == 1,
          "create: OK, version 1");
    s.url = "http://127.0.0.1:1/dup";
    CHECK(store_subscription_create(S, &s, "sealed-x", NOW_CREATED, &v) == STORE_CONFLICT, "create: taken id conflicts");
    CHECK(version_get(A, &v) == STORE_OK && v == 1, "create: a conflict bumps nothing");
    s = (store_subscription){.id = SUB2, .account_id = A, .url = "http://127.0.0.1:1/b", .format = "fmt-b",
                             .events = "ORDER.CREATED,EVENT.UPDATED", .active = true};
    CHECK(store_subscription_create(S, &s, "sealed-2", NOW_CREATED + 1, &v) == STORE_OK && v == 2,
          "create: second, version 2");
    VERSION = v;
    bool any = false;
    CHECK(listening(A, &v, &any) == STORE_OK && v == 2 && any, "listening: someone at version 2");

    sub_rows r;
    CHECK(sub_get(A, NULL, &r) == STORE_OK && r.n == 2, "list: both");
    CHECK(!strcmp(r.id[0], SUB1) && !strcmp(r.id[1], SUB2), "list: oldest first");
    CHECK(!strcmp(r.url[0], "http://127.0.0.1:1/a") && !strcmp(r.format[0], "fmt-a") && !strcmp(r.events[0], "*") &&
              r.active[0] && !r.failing[0] && r.created_at[0] == NOW_CREATED,
          "list: fields as created (the conflicting create changed nothing)");
    CHECK(sub_get(A, SUB2, &r) == STORE_OK && r.n == 1 && !strcmp(r.events[0], "ORDER.CREATED,EVENT.UPDATED") &&
              !strcmp(r.format[0], "fmt-b"),
          "list: one by id");
    CHECK(sub_get(A, "ws_nosuch", &r) == STORE_NOT_FOUND && r.n == 0, "list: unknown id not found");
    CHECK(sub_get(B, SUB1, &r) == STORE_NOT_FOUND && r.n == 0, "list: another account's id not found");
    CHECK(sub_get(B, NULL, &r) == STORE_OK && r.n == 0, "list: another account has none");

    subscribers_op so = {.account_id = A};
    CHECK(store_read(S, subscribers_fn, &so) == DB_OK && so.st == STORE_OK && so.list.n == 2, "subscribers: both active");
    so.account_id = B;
    CHECK(store_read(S, subscribers_fn, &so) == DB_OK && so.st == STORE_OK && so.list.n == 0,
          "subscribers: none for another account");
}

static char EV1[48];

static void test_record(void)
{
    new_id(EV1, sizeof EV1, "wh_t");
    store_outbox_event ev = {.id = EV1, .account_id = A, .event = "ORDER.CREATED", .resource_url = "order/o1",
                             .payload = "{\"resource\":\"order\",\"object\":{\"id\":\"o1\"}}", .created_at = T0};
    const char *subs[] = {SUB1, SUB2};
    record_op x = {&ev, subs, 2, STORE_ERROR};
    CHECK(store_write(S, record_fn, &x) == DB_OK && x.st == STORE_OK, "record: event and two deliveries");
    x.subs = subs + 1;
    x.n = 1;
    CHECK(store_write(S, record_fn, &x) != DB_OK && x.st == STORE_CONFLICT, "record: taken event id conflicts");

    delivery_rows d;
    CHECK(deliveries(A, SUB1, &d) == STORE_OK && d.n == 1, "deliveries: one per subscription");
    CHECK(!strcmp(d.event_id[0], EV1) && !strcmp(d.event[0], "ORDER.CREATED") && !strcmp(d.status[0], "pending") &&
              d.attempts[0] == 0 && !d.has_code[0] && !d.has_error[0] && !d.attempted[0] && d.next_due[0] == T0 &&
              d.created_at[0] == T0,
          "deliveries: pending, due when recorded, never attempted");
    CHECK(deliveries(A, SUB2, &d) == STORE_OK && d.n == 1, "deliveries: the conflicting record added none");
    CHECK(deliveries(B, SUB1, &d) == STORE_NOT_FOUND && d.n == 0, "deliveries: another account's subscription");
    CHECK(deliveries(A, "ws_nosuch", &d) == STORE_NOT_FOUND, "deliveries: unknown subscription");

    instant_us due = 0;
    CHECK(store_deliveries_next_due(S, &due) == STORE_OK && due == T0, "next due: the earliest pending");
}

static void test_claim_load(void)
{
    store_delivery_claim c[16];
    int n = -1;
    CHECK(store_deliveries_claim(S, T0 - 1, T0 + 100, c, 16, &n) == STORE_OK && n == 0, "claim: nothing due yet");
    CHECK(store_deliveries_claim(S, T0, T0 + 100, c, 1, &n) == STORE_OK && n == 1, "claim: at most max");
    CHECK(!strcmp(c[0].event_id, EV1) && c[0].attempts == 0, "claim: the event, no attempt yet");
    char first[48];
    snprintf(first, sizeof first, "%s", c[0].subscription_id);
    CHECK(store_deliveries_claim(S, T0, T0 + 100, c, 16, &n) == STORE_OK && n == 1 &&
              strcmp(c[0].subscription_id, first) && !strcmp(c[0].event_id, EV1),
          "claim: a leased delivery is skipped, the other taken");
    CHECK(store_deliveries_claim(S, T0 + 99, T0 + 200, c, 16, &n) == STORE_OK && n == 0, "claim: both leased");
    instant_us due = 0;
    CHECK(store_deliveries_next_due(S, &due) == STORE_OK && due <= T0 + 100, "next due: the lease's end");

    /* the claim with its jobs: one transaction, no read per delivery */
    store_delivery_claimed cj[4];
    CHECK(store_deliveries_claim_jobs(S, T0 + 99, T0 + 200, cj, 4, &n) == STORE_OK && n == 0,
          "claim jobs: leased ones are not due");
    CHECK(store_deliveries_claim_jobs(S, T0 + 100, T0 + 200, cj, 1, &n) == STORE_OK && n == 1 && cj[0].found,
          "claim jobs: at most max, found");
    CHECK(store_deliveries_claim_jobs(S, T0 + 100, T0 + 200, cj + 1, 3, &n) == STORE_OK && n == 1 && cj[1].found &&
              strcmp(cj[0].claim.subscription_id, cj[1].claim.subscription_id),
          "claim jobs: the other delivery once the lease ended");
    for (int i = 0; i < 2; i++) {
        store_delivery_job *cjob = &cj[i].job;
        bool is2 = !strcmp(cj[i].claim.subscription_id, SUB2);
        CHECK(!strcmp(cj[i].claim.event_id, EV1) && cj[i].claim.attempts == 0 && !strcmp(cjob->account_id, A) &&
                  !strcmp(cjob->event, "ORDER.CREATED") && !strcmp(cjob->resource_url, "order/o1") &&
                  !strcmp(cjob->payload, "{\"resource\":\"order\",\"object\":{\"id\":\"o1\"}}") &&
                  cjob->created_at == T0 && !strcmp(cjob->url, is2 ? "http://127.0.0.1:1/b" : "http://127.0.0.1:1/a") &&
                  !strcmp(cjob->secret_sealed, is2 ? "sealed-2" : "sealed-1") &&
                  !strcmp(cjob->format, is2 ? "fmt-b" : "fmt-a"),
              "claim jobs: event and subscription as recorded");
        store_delivery_job_free(cjob);
    }

    store_delivery_job j;
    CHECK(store_delivery_load(S, EV1, SUB2, &j) == STORE_OK, "load: OK");
    CHECK(!strcmp(j.account_id, A) && !strcmp(j.event, "ORDER.CREATED") && !strcmp(j.resource_url, "order/o1") &&
              !strcmp(j.payload, "{\"resource\":\"order\",\"object\":{\"id\":\"o1\"}}") && j.created_at == T0 &&
              !strcmp(j.url, "http://127.0.0.1:1/b") && !strcmp(j.secret_sealed, "sealed-2") &&
              !strcmp(j.format, "fmt-b"),
          "load: event and subscription as recorded");
    store_delivery_job_free(&j);
    CHECK(store_delivery_load(S, "wh_nosuch", SUB2, &j) == STORE_NOT_FOUND && !j.event && !j.url,
          "load: unknown event not found");
    CHECK(store_delivery_load(S, EV1, "ws_nosuch", &j) == STORE_NOT_FOUND, "load: unknown subscription not found");
}

static void test_results(void)
{
    const int64_t disable = 1000;
    store_delivery_result r[2] = {
        {.event_id = EV1, .subscription_id = SUB1, .ok = true, .status = "delivered", .attempts = 1,
         .status_code = 200, .next_due = T0 + 10},
        {.event_id = EV1, .subscription_id = SUB2, .ok = false, .status = "pending", .attempts = 1,
         .status_code = 500, .error = "HTTP 500", .next_due = T0 + 50},
    };
    CHECK(store_delivery_results_record(S, r, 2, T0 + 10, disable) == STORE_OK, "results: recorded");
    delivery_rows d;
    CHECK(deliveries(A, SUB1, &d) == STORE_OK && d.n == 1 && !strcmp(d.status[0], "delivered") && d.attempts[0] == 1 &&
              d.has_code[0] && d.code[0] == 200 && !d.has_error[0] && d.attempted[0] && d.last_attempt_at[0] == T0 + 10,
          "results: a delivered attempt");
    CHECK(deliveries(A, SUB2, &d) == STORE_OK && d.n == 1 && !strcmp(d.status[0], "pending") && d.attempts[0] == 1 &&
              d.code[0] == 500 && !strcmp(d.error[0], "HTTP 500") && d.next_due[0] == T0 + 50,
          "results: a failed attempt, due again later");
    sub_rows s;
    CHECK(sub_get(A, SUB2, &s) == STORE_OK && s.failing[0] && s.failing_since[0] == T0 + 10 && s.active[0],
          "results: the failing subscription is marked");
    CHECK(sub_get(A, SUB1, &s) == STORE_OK && !s.failing[0], "results: the delivering one is not");

    /* failing again, not yet for `disable`: failing_since stays */
    r[1].attempts = 2;
    r[1].status_code = 0;
    r[1].error = "Couldn't connect to server";
    CHECK(store_delivery_results_record(S, r + 1, 1, T0 + 500, disable) == STORE_OK, "results: second failure");
    int64_t v = 0;
    CHECK(sub_get(A, SUB2, &s) == STORE_OK && s.failing_since[0] == T0 + 10 && s.active[0],
          "results: failing since the first failure, still active");
    CHECK(deliveries(A, SUB2, &d) == STORE_OK && !d.has_code[0] && !strcmp(d.error[0], "Couldn't connect to server"),
          "results: no status code recorded as none");
    CHECK(version_get(A, &v) == STORE_OK && v == VERSION, "results: no version bump while active");

    /* failing for `disable`: deactivated, version bumped */
    r[1].attempts = 3;
    CHECK(store_delivery_results_record(S, r + 1, 1, T0 + 10 + disable, disable) == STORE_OK, "results: third failure");
    CHECK(sub_get(A, SUB2, &s) == STORE_OK && !s.active[0], "results: failing long enough deactivates");
    CHECK(version_get(A, &v) == STORE_OK && v == VERSION + 1, "results: deactivating bumps the version");
    VERSION = v;
    subscribers_op so = {.account_id = A};
    CHECK(store_read(S, subscribers_fn, &so) == DB_OK && so.list.n == 1 && !strcmp(so.list.ids[0], SUB1),
          "subscribers: an inactive subscription is left out");
    CHECK(store_delivery_results_record(S, r + 1, 1, T0 + 20 + disable, disable) == STORE_OK &&
              version_get(A, &v) == STORE_OK && v == VERSION,
          "results: an inactive subscription's failure bumps nothing");

    /* a success clears failing_since */
    r[1] = (store_delivery_result){.event_id = EV1, .subscription_id = SUB2, .ok = true, .status = "delivered",
                                   .attempts = 5, .status_code = 204, .next_due = T0 + 3000};
    CHECK(store_delivery_results_record(S, r + 1, 1, T0 + 3000, disable) == STORE_OK &&
              sub_get(A, SUB2, &s) == STORE_OK && !s.failing[0],
          "results: a delivered attempt clears failing_since");

    /* one batch, one subscription: a success, then a failure, then a success */
    store_delivery_result batch[3] = {
        {.event_id = EV1, .subscription_id = SUB1, .ok = true, .status = "delivered", .attempts = 1, .status_code = 200},
        {.event_id = EV1, .subscription_id = SUB1, .ok = false, .status = "pending", .attempts = 2, .status_code = 500,
         .error = "HTTP 500"},
        {.event_id = EV1, .subscription_id = SUB1, .ok = true, .status = "delivered", .attempts = 3, .status_code = 200},
    };
    CHECK(store_delivery_results_record(S, batch + 1, 1, T0 + 3500, disable) == STORE_OK &&
              sub_get(A, SUB1, &s) == STORE_OK && s.failing_since[0] == T0 + 3500,
          "results: failing before the batch");
    CHECK(store_delivery_results_record(S, batch, 2, T0 + 4000, disable) == STORE_OK &&
              sub_get(A, SUB1, &s) == STORE_OK && s.failing[0] && s.failing_since[0] == T0 + 4000,
          "results: a failure after a success in one batch is failing from then");
    CHECK(store_delivery_results_record(S, batch + 2, 1, T0 + 5000, disable) == STORE_OK &&
              sub_get(A, SUB1, &s) == STORE_OK && !s.failing[0],
          "results: a batch's last success clears failing_since");
    batch[1].ok = true;
    batch[1].status = "delivered";
    batch[1].error = NULL;
    CHECK(store_delivery_results_record(S, batch, 3, T0 + 6000, disable) == STORE_OK &&
              sub_get(A, SUB1, &s) == STORE_OK && !s.failing[0] && s.active[0],
          "results: a run of successes leaves the subscription clear");
    CHECK(store_delivery_results_record(S, NULL, 0, T0, disable) == STORE_OK, "results: nothing to record");
}

static void test_delete(void)
{
    int64_t v = 0;
    CHECK(store_subscription_delete(S, B, SUB1, &v) == STORE_NOT_FOUND, "delete: another account's not found");
    CHECK(version_get(A, &v) == STORE_OK && v == VERSION, "delete: a refused delete bumps nothing");
    sub_rows s;
    CHECK(sub_get(A, SUB1, &s) == STORE_OK, "delete: the refused delete kept the subscription");

    /* a pending delivery of SUB1 (another event), cancelled by the delete */
    char ev2[48];
    new_id(ev2, sizeof ev2, "wh_t");
    store_outbox_event ev = {.id = ev2, .account_id = A, .event = "ORDER.UPDATED", .resource_url = "order/o1",
                             .payload = "{}", .created_at = T0 + 1};
    const char *subs[] = {SUB1};
    record_op x = {&ev, subs, 1, STORE_ERROR};
    CHECK(store_write(S, record_fn, &x) == DB_OK && x.st == STORE_OK, "record: a second event");
    CHECK(store_subscription_delete(S, A, SUB1, &v) == STORE_OK && v == VERSION + 1, "delete: OK, version bumped");
    store_delivery_claim c[16];
    int n = -1;
    CHECK(store_deliveries_claim(S, T0 + 10, T0 + 10, c, 16, &n) == STORE_OK && n == 0,
          "delete: its pending deliveries are cancelled");
    CHECK(sub_get(A, SUB1, &s) == STORE_NOT_FOUND, "delete: gone");
    CHECK(store_subscription_delete(S, A, SUB1, &v) == STORE_NOT_FOUND, "delete: again not found");
    CHECK(store_subscription_delete(S, A, SUB2, &v) == STORE_OK && v == VERSION + 2, "delete: the other");
    bool any = true;
    CHECK(listening(A, &v, &any) == STORE_OK && !any && v == VERSION + 2, "listening: nobody after deleting all");
}

static void test_empty(void)
{
    char path[128];
    snprintf(path, sizeof path, "sqlite:/tmp/boxoffice-test-outbox-empty-%d.db", (int)getpid());
    store *e = test_store_open(path);
    if (!e) return;
    instant_us due = 12345;
    CHECK(store_deliveries_next_due(e, &due) == STORE_NOT_FOUND && due == 12345, "next due: none pending");
    store_delivery_claim c[4];
    int n = -1;
    CHECK(store_deliveries_claim(e, INT64_MAX / 2, INT64_MAX / 2, c, 4, &n) == STORE_OK && n == 0,
          "claim: nothing pending");
    store_close(e);
    test_db_remove(path, path);
}

int main(void)
{
    unsigned char key[SERVER_KEY_BYTES] = {7};
    secure_set_server_key(key);
    char path[128];
    const char *uri = test_db_uri("outbox-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    new_id(A, sizeof A, "acc-oa-");
    new_id(B, sizeof B, "acc-ob-");

    test_version();
    test_subscriptions();
    test_record();
    test_claim_load();
    test_results();
    test_delete();
    test_empty();

    store_close(S);
    test_db_remove(uri, path);
    return check_summary();
}
