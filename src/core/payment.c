/* The payment step (payment.h, docs/PAYMENTS.md): sessions, the providers,
 * the state machine, and each transition as one transaction with the order
 * change and outbox events it causes. Paying reuses what paying an open order
 * always did (store_order_mark_paid); releasing reuses a cancellation's
 * pieces (release_ticket, cancelled_doc, store_order_cancel). */
#include "core/payment.h"
#include "core/internal.h"
#include "store/order_changes.h"
#include "store/payments_store.h"
#include "store/price_tiers_store.h"
#include "util/jbuf.h"
#include "util/log.h"
#include "util/objtext.h"
#include "util/secure.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Why an order was cancelled when its payment deadline passed: a late
 * success re-holds only such an order (docs/PAYMENTS.md). */
#define EXPIRED_REASON "payment_expired"

static const char *const outcome_names[] = {"paid", "failed", "cancelled", "expired"};

const char *payment_outcome_name(payment_outcome o)
{
    return o <= PAYMENT_EXPIRED ? outcome_names[o] : "expired";
}

bool payment_outcome_parse(const char *name, payment_outcome *out)
{
    for (int i = 0; name && i <= PAYMENT_EXPIRED; i++)
        if (!strcmp(name, outcome_names[i])) {
            *out = (payment_outcome)i;
            return true;
        }
    return false;
}

/* ---------- the built-in providers ---------- */

/* Both built-in providers live in this process: the session row is all the
 * state they have, so there is nothing to ask, stop or send back elsewhere. */
static bo_status own_status(const payment_credentials *cred, const payment_session *s, char status[16], bo_error *err)
{
    (void)cred, (void)err;
    snprintf(status, 16, "%s", s->status);
    return BO_OK;
}

static bo_status nothing_to_cancel(const payment_credentials *cred, const payment_session *s, bo_error *err)
{
    (void)cred, (void)s, (void)err;
    return BO_OK;
}

static bo_status nothing_to_refund(const payment_credentials *cred, const payment_session *s, money amount,
                                   const char *reason, bo_error *err)
{
    (void)cred, (void)err;
    log_info("payments: %s gives back %lld of payment %s (%s)", s->provider, (long long)amount, s->id, reason);
    return BO_OK;
}

static bo_status test_create(const payment_credentials *cred, const payment_session *s, char *redirect, size_t n,
                             char provider_ref[128], bo_error *err)
{
    (void)cred, (void)err;
    snprintf(redirect, n, "/pay/%s", s->id);
    provider_ref[0] = 0;
    return BO_OK;
}

static bo_status test_parse(const payment_notification *n, char session_id[72], payment_outcome *out, bo_error *err)
{
    (void)n, (void)session_id, (void)out;
    return bo_fail(err, BO_INVALID, "invalid_notification", "", "the test provider reports through its page");
}

/* The fake provider's own id for a session, as a real provider's would be
 * (Mollie's tr_..., Stripe's cs_...): its notifications name this. */
#define FAKE_REF_PREFIX "fk_"

/* Notifications of the test page's provider need no authentication: it has none. */
static bo_status nothing_to_authenticate(const payment_credentials *cred, const payment_notification *n,
                                         bo_error *err)
{
    (void)cred, (void)n, (void)err;
    return BO_OK;
}

static bo_status fake_create(const payment_credentials *cred, const payment_session *s, char *redirect, size_t n,
                             char provider_ref[128], bo_error *err)
{
    (void)cred, (void)err;
    snprintf(provider_ref, 128, FAKE_REF_PREFIX "%s", s->id);
    snprintf(redirect, n, "https://fake-provider.invalid/checkout/%s", provider_ref);
    return BO_OK;
}

/* The value of `key` in a form body without percent-encoding (the fake
 * provider sends ids and words only); false when absent, encoded or too long. */
static bool form_value(const char *body, size_t len, const char *key, char *out, size_t n)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && body[end] != '&') end++;
        if (end - i > klen && !strncmp(body + i, key, klen) && body[i + klen] == '=') {
            size_t vlen = end - i - klen - 1;
            const char *v = body + i + klen + 1;
            if (vlen == 0 || vlen >= n) return false;
            for (size_t k = 0; k < vlen; k++)
                if (!((v[k] >= 'a' && v[k] <= 'z') || (v[k] >= 'A' && v[k] <= 'Z') || (v[k] >= '0' && v[k] <= '9') ||
                      v[k] == '_' || v[k] == '-'))
                    return false;
            memcpy(out, v, vlen);
            out[vlen] = 0;
            return true;
        }
        i = end + 1;
    }
    return false;
}

static bo_status fake_parse(const payment_notification *n, char session_id[72], payment_outcome *out, bo_error *err)
{
    char ref[128], status[16];
    if (!n->body || !form_value(n->body, n->len, "id", ref, sizeof ref) ||
        strncmp(ref, FAKE_REF_PREFIX, strlen(FAKE_REF_PREFIX)) || strlen(ref) - strlen(FAKE_REF_PREFIX) >= 72)
        return bo_fail(err, BO_INVALID, "invalid_notification", "id", "id must be a payment reference of this provider");
    if (!form_value(n->body, n->len, "status", status, sizeof status) || !payment_outcome_parse(status, out))
        return bo_fail(err, BO_INVALID, "invalid_notification", "status",
                       "status must be paid, failed, cancelled or expired");
    memcpy(session_id, ref + strlen(FAKE_REF_PREFIX), strlen(ref) - strlen(FAKE_REF_PREFIX) + 1);
    return BO_OK;
}

/* The fake provider's own records: what it settled at its end (the test
 * hook payment_fake_settle) without notifying us, as a real provider knows a
 * payment was made before its webhook arrives, or when it never does. Only a
 * server with test hooks serves the fake provider; the ring keeps the newest
 * FAKE_LEDGER_SIZE outcomes. Shared by every request thread and the reaper,
 * hence the lock. */
#define FAKE_LEDGER_SIZE 1024
static struct {
    char session_id[72];
    payment_outcome outcome;
} fake_ledger[FAKE_LEDGER_SIZE];
static size_t fake_ledger_next;
static pthread_mutex_t fake_ledger_lock = PTHREAD_MUTEX_INITIALIZER;

bo_status payment_fake_settle(const char *provider_ref, payment_outcome o, bo_error *err)
{
    size_t prefix = strlen(FAKE_REF_PREFIX);
    if (!provider_ref || strncmp(provider_ref, FAKE_REF_PREFIX, prefix) || strlen(provider_ref) - prefix >= 72 ||
        strlen(provider_ref) == prefix)
        return bo_fail(err, BO_INVALID, "invalid_field", "id", "id must be a payment reference of the fake provider");
    pthread_mutex_lock(&fake_ledger_lock);
    size_t entry = fake_ledger_next++ % FAKE_LEDGER_SIZE;
    snprintf(fake_ledger[entry].session_id, sizeof fake_ledger[entry].session_id, "%s", provider_ref + prefix);
    fake_ledger[entry].outcome = o;
    pthread_mutex_unlock(&fake_ledger_lock);
    return BO_OK;
}

static bo_status fake_status(const payment_credentials *cred, const payment_session *s, char status[16], bo_error *err)
{
    (void)cred, (void)err;
    snprintf(status, 16, "open");
    pthread_mutex_lock(&fake_ledger_lock);
    /* newest first: the latest settlement of a session is the provider's view */
    for (size_t k = 0; k < FAKE_LEDGER_SIZE && k < fake_ledger_next; k++) {
        size_t entry = (fake_ledger_next - 1 - k) % FAKE_LEDGER_SIZE;
        if (!strcmp(fake_ledger[entry].session_id, s->id)) {
            snprintf(status, 16, "%s", payment_outcome_name(fake_ledger[entry].outcome));
            break;
        }
    }
    pthread_mutex_unlock(&fake_ledger_lock);
    return BO_OK;
}

/* With a webhook secret set, the fake provider signs its notifications as
 * real ones do: X-Signature is the hex HMAC-SHA256 of the body under it.
 * Without one it is unauthenticated (test servers only). */
static bo_status fake_authenticate(const payment_credentials *cred, const payment_notification *n, bo_error *err)
{
    if (!cred->webhook_secret) return BO_OK;
    char expected[65];
    hmac_sha256_hex(cred->webhook_secret, strlen(cred->webhook_secret), n->body ? n->body : "", n->len, expected);
    if (!n->signature || strlen(n->signature) != 64 || !secret_equal(n->signature, expected))
        return bo_fail(err, BO_UNAUTHORIZED, "invalid_signature", "X-Signature",
                       "the notification is not signed with the account's webhook secret");
    return BO_OK;
}

static const payment_provider providers[] = {
    {PAYMENT_TEST_PROVIDER, true, false, false, false, test_create, own_status, nothing_to_cancel, nothing_to_refund,
     test_parse, nothing_to_authenticate},
    {PAYMENT_FAKE_PROVIDER, false, true, true, true, fake_create, fake_status, nothing_to_cancel, nothing_to_refund,
     fake_parse, fake_authenticate},
};

const payment_provider *payment_provider_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof providers / sizeof providers[0]; i++)
        if (!strcmp(providers[i].name, name)) return &providers[i];
    return NULL;
}

/* ---------- the state machine ---------- */

payment_step payment_next(const char *status, payment_outcome o, bool past_due, bool from_page)
{
    bool open = !strcmp(status, "open");
    if (from_page) {
        if (!open) return PAYMENT_STEP_REFUSE;
        return past_due || o == PAYMENT_EXPIRED ? PAYMENT_STEP_EXPIRE : PAYMENT_STEP_MOVE;
    }
    if (!strcmp(status, payment_outcome_name(o))) return PAYMENT_STEP_SAME;
    if (o == PAYMENT_PAID && !strcmp(status, "refunded")) return PAYMENT_STEP_SAME;
    if (open) return o == PAYMENT_EXPIRED ? PAYMENT_STEP_EXPIRE : PAYMENT_STEP_MOVE;
    /* the provider took the money after the session ended here: it must be
     * honoured (re-hold) or given back, never dropped */
    if (o == PAYMENT_PAID && strcmp(status, "paid")) return PAYMENT_STEP_LATE_PAID;
    return PAYMENT_STEP_REFUSE;
}

/* ---------- transitions ---------- */

/* A session move's outcome inside a transition: a session that left the
 * state this transaction read (another report committed first, PostgreSQL's
 * read committed) runs the transition again, which then sees the new state. */
static db_status session_moved(store_status ss)
{
    return ss == STORE_CONFLICT ? DB_RETRY : store_db_status(ss);
}

/* Releases an open order's seats at its payment deadline: its unpaid tickets
 * are voided (nothing was paid), the order cancelled with EXPIRED_REASON, and
 * every running session of it ended (open ones expired), in the caller's
 * transaction. An order no longer open only has its sessions ended. */
static db_status release_order(engine *e, db_conn *c, const account *a, const char *order_id, instant_us now)
{
    store_order_state o;
    db_status st = store_db_status(store_order_state_get(c, a->id, order_id, &o));
    if (st == DB_OK && !strcmp(o.status, "open")) {
        store_ticket_state *t = NULL;
        size_t n = 0;
        st = store_db_status(store_order_live_tickets(c, a->id, order_id, &t, &n));
        for (size_t i = 0; i < n && st == DB_OK; i++) {
            if (strcmp(t[i].status, "unpaid")) continue;
            store_status step;
            st = release_ticket(e, c, a, &t[i], "voided", NULL, now, &step);
            if (step == STORE_CONFLICT) st = DB_RETRY;
        }
        store_ticket_states_free(t, n);
        /* a voucher's part goes back to its code: the order was not made */
        money voucher_paid = 0, given_back = 0;
        if (st == DB_OK) st = store_db_status(store_order_voucher_paid(c, a->id, order_id, &voucher_paid));
        if (st == DB_OK && voucher_paid > 0)
            st = store_db_status(store_order_refund_payments(c, a->id, order_id, voucher_paid, now, &given_back));
        char *doc = st == DB_OK ? cancelled_doc(o.doc, EXPIRED_REASON, "payments", now) : NULL;
        if (st == DB_OK) st = doc ? store_db_status(store_order_cancel(c, a->id, order_id, doc, now)) : DB_ERROR;
        free(doc);
        if (st == DB_OK) st = events_record_order(e, c, a, EV_ORDER_UPDATED, order_id);
    }
    store_order_state_free(&o);
    return st == DB_OK ? store_db_status(store_payment_hold_end(c, a->id, order_id, true, now)) : st;
}

typedef struct {
    engine *e;
    const account *a;
    const char *provider, *payment_id;
    payment_outcome outcome;
    bool from_page;
    instant_us now;
    payment_session s;     /* as it is afterwards */
    payment_step step;
    bool not_found;
    const char *refund_reason; /* set: the payment went back (after commit the provider is told) */
} report_ctx;

/* The order document without the cancellation an expiry wrote. */
static char *reopened_doc(const char *doc)
{
    return objtext_merge(doc, "{\"status_reason\":null,\"cancelled_at\":null,\"cancelled_by\":null}");
}

/* The money came in for an order that cannot take it: record it and give it
 * straight back, saying why. */
static db_status refund_late(report_ctx *x, db_conn *c, const char *reason)
{
    payment_session *s = &x->s;
    jbuf w;
    jb_init(&w, 128);
    jb_obj(&w);
    jb_kstr(&w, "reason", reason);
    jb_kstr(&w, "payment_id", s->id);
    jb_obj_end(&w);
    char *doc = jb_take(&w, NULL);
    db_status st = doc ? store_db_status(store_payment_refunded_insert(c, x->a->id, s->order_id, s->provider,
                                                                      s->method, s->id, s->amount + s->fee, doc,
                                                                      x->now))
                       : DB_ERROR;
    free(doc);
    if (st == DB_OK)
        st = session_moved(store_payment_session_move(c, x->a->id, s->id, s->status, "refunded", reason, x->now));
    if (st == DB_OK) st = order_touch(x->e, c, x->a, s->order_id, x->now);
    x->refund_reason = reason;
    return st;
}

/* Whether the order's buyer is to be told it is paid: unless its extras say
 * notify_customer false (a channel that sends its own confirmation). */
static bool notify_customer(db_conn *c, const char *account_id, const char *order_id)
{
    store_order_state o;
    if (store_order_state_get(c, account_id, order_id, &o) != STORE_OK) {
        store_order_state_free(&o);
        return true;
    }
    char *extras = objtext_member(o.doc, "extras");
    char *flag = extras ? objtext_member(extras, "notify_customer") : NULL;
    bool notify = !flag || strcmp(flag, "false");
    free(flag), free(extras);
    store_order_state_free(&o);
    return notify;
}

/* Pays the order with this session's money, as paying an open order always
 * did; an order released at its deadline is re-held first if its seats are
 * still there, else (or when it cannot be paid) the money goes back. */
/* The price-tier places of an order's re-held tickets, taken again (their
 * release gave them back, release_ticket): STORE_SOLD_OUT when a tier filled
 * meanwhile, so a late payment never sells a tier past its quantity. */
static store_status retake_price_tiers(db_conn *c, const char *account_id, const char *order_id)
{
    store_ticket_state *t = NULL;
    size_t n = 0;
    store_status ss = store_order_live_tickets(c, account_id, order_id, &t, &n);
    for (size_t i = 0; ss == STORE_OK && i < n; i++) {
        char *tier = t[i].doc ? objtext_member(t[i].doc, "price_tier") : NULL;
        if (!tier) continue;
        char *id = objtext_string(tier, "id"), *product = objtext_string(tier, "product_id");
        char *occurrence = objtext_string(tier, "occurrence");
        if (id && product && occurrence) ss = store_price_tier_retake(c, account_id, product, occurrence, id, 1);
        free(id), free(product), free(occurrence), free(tier);
    }
    store_ticket_states_free(t, n);
    return ss;
}

static db_status take_payment(report_ctx *x, db_conn *c)
{
    payment_session *s = &x->s;
    store_order_state o;
    db_status st = store_db_status(store_order_state_get(c, x->a->id, s->order_id, &o));
    if (st != DB_OK) {
        store_order_state_free(&o);
        return st;
    }
    char *why = strcmp(o.status, "cancelled") ? NULL : objtext_string(o.doc, "status_reason");
    bool released = why && !strcmp(why, EXPIRED_REASON);
    free(why);
    const char *refuse = !strcmp(o.status, "confirmed")   ? "the order was already paid"
                         : strcmp(o.status, "open") && !released ? "the order was cancelled"
                                                                 : NULL;
    /* the voucher's part went back to its code at the deadline and may be
     * spent since: such an order is not re-held (docs/PAYMENTS.md, "Vouchers") */
    money voucher_back = 0;
    if (!refuse && released)
        st = store_db_status(store_order_voucher_given_back(c, x->a->id, s->order_id, &voucher_back));
    if (st == DB_OK && !refuse && released && voucher_back > 0) refuse = "the voucher was released at the payment deadline";
    if (st == DB_OK && !refuse && released) {
        instant_us due, released_at;
        st = store_db_status(store_payment_order_hold(c, x->a->id, s->order_id, &due, &released_at));
        if (st == DB_OK) st = db_exec(c, "SAVEPOINT payment_rehold", DB_NOARGS, NULL);
        store_status held = st == DB_OK ? store_payment_rehold(c, x->a->id, s->order_id, released_at, x->now)
                                        : STORE_ERROR;
        if (held == STORE_OK) held = retake_price_tiers(c, x->a->id, s->order_id);
        if (held == STORE_SOLD_OUT) {
            st = db_exec(c, "ROLLBACK TO payment_rehold", DB_NOARGS, NULL);
            refuse = "the seats were sold after the payment deadline";
        } else if (held != STORE_OK) {
            st = store_db_status(held);
        }
        if (st == DB_OK) st = db_exec(c, "RELEASE payment_rehold", DB_NOARGS, NULL);
        if (st == DB_OK && !refuse) {
            char *doc = reopened_doc(o.doc);
            st = doc ? store_db_status(store_order_doc_set(c, x->a->id, s->order_id, doc)) : DB_ERROR;
            free(doc);
        }
    }
    store_order_state_free(&o);
    if (st != DB_OK) return st;
    if (refuse) return refund_late(x, c, refuse);
    store_payment pay = {s->provider, s->method, s->id, s->amount + s->fee};
    st = store_db_status(store_order_mark_paid(c, x->a->id, s->order_id, &pay, x->now));
    if (st == DB_OK)
        st = session_moved(store_payment_session_move(c, x->a->id, s->id, s->status, "paid", NULL, x->now));
    if (st == DB_OK) st = store_db_status(store_payment_hold_end(c, x->a->id, s->order_id, false, x->now));
    if (st == DB_OK) st = events_record_order(x->e, c, x->a, EV_ORDER_UPDATED, s->order_id);
    /* paid now, as order_mark_paid pays: ORDER.PAID and the confirmation mail
     * (which a channel may decline for its buyer: extras.notify_customer false) */
    if (st == DB_OK) st = events_record_order(x->e, c, x->a, EV_ORDER_PAID, s->order_id);
    if (st == DB_OK && notify_customer(c, x->a->id, s->order_id)) st = mail_queue_paid(c, x->a, s->order_id, x->now);
    return st;
}

static db_status report_fn(db_conn *c, void *arg)
{
    report_ctx *x = arg;
    x->not_found = false;
    x->refund_reason = NULL;
    store_status ss = store_payment_session_get(c, x->a->id, x->payment_id, &x->s);
    if (ss == STORE_NOT_FOUND || (ss == STORE_OK && strcmp(x->s.provider, x->provider))) {
        x->not_found = true;
        return DB_OK;
    }
    if (ss != STORE_OK) return store_db_status(ss);
    x->step = payment_next(x->s.status, x->outcome, x->now > x->s.due_at, x->from_page);
    db_status st = DB_OK;
    switch (x->step) {
    case PAYMENT_STEP_REFUSE:
    case PAYMENT_STEP_SAME: return DB_OK;
    case PAYMENT_STEP_EXPIRE: st = release_order(x->e, c, x->a, x->s.order_id, x->now); break;
    case PAYMENT_STEP_LATE_PAID: st = take_payment(x, c); break;
    case PAYMENT_STEP_MOVE:
        if (x->outcome == PAYMENT_PAID) st = take_payment(x, c);
        else
            st = session_moved(store_payment_session_move(c, x->a->id, x->s.id, "open",
                                                          payment_outcome_name(x->outcome), NULL, x->now));
        break;
    }
    if (st == DB_OK && x->step == PAYMENT_STEP_MOVE && !x->refund_reason) {
        /* the move wrote only these (store_payment_session_move, and the
         * paid order's store_payment_hold_end): no need to read it back */
        snprintf(x->s.status, sizeof x->s.status, "%s", payment_outcome_name(x->outcome));
        x->s.updated_at = x->now;
        if (x->outcome == PAYMENT_PAID && !x->s.released_at) x->s.released_at = x->now;
        return st;
    }
    if (st == DB_OK) st = store_db_status(store_payment_session_get(c, x->a->id, x->payment_id, &x->s));
    return st;
}

typedef struct {
    const char *payment_id;
    payment_session s;
    store_account owner;
    order_record *order; /* optional: the session's order too, in the same snapshot */
    char *order_number;  /* optional, char[16]: or just its number */
    /* >= 0, with order and order_number: the order is read whole only when
     * its change number is not this one (order_read says whether it was) */
    int64_t known_change_seq;
    bool order_read;
} session_read;

/* The session and its account in one read: the page asks for both on every
 * request, and for the order (GET) or its number (POST's redirect) too. */
static db_status session_read_fn(db_conn *c, void *arg)
{
    session_read *x = arg;
    db_status st = store_db_status(store_payment_session_get(c, NULL, x->payment_id, &x->s));
    if (st == DB_OK) st = store_db_status(store_account_load(c, x->s.account_id, &x->owner));
    if (x->order) {
        order_record_free(x->order); /* from an attempt that ran again */
        memset(x->order, 0, sizeof *x->order);
    }
    x->order_read = x->order != NULL;
    if (st == DB_OK && x->order && x->order_number && x->known_change_seq >= 0) {
        int64_t seq = -1;
        st = store_db_status(
            store_order_number_and_change(c, x->s.account_id, x->s.order_id, x->order_number, &seq));
        x->order_read = seq != x->known_change_seq;
        if (!x->order_read) return st;
    }
    if (st == DB_OK && x->order_read)
        st = store_db_status(store_order_load(c, x->s.account_id, x->s.order_id, x->order));
    if (st == DB_OK && x->order_number)
        st = store_db_status(store_order_number_get(c, x->s.account_id, x->s.order_id, x->order_number));
    return st;
}

/* Whether id can name a session at all (ids are "pay_" and hex). */
static bool session_id_plausible(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n < 8 || n > 71) return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= '0' && id[i] <= '9') || id[i] == '_')) return false;
    return true;
}

/* The session (of any account) and its account; with order or
 * order_number, also the session's order or its number, read in the same
 * snapshot. */
static bo_status session_and_owner_known(engine *e, const char *payment_id, payment_session *out, account *owner,
                                         order_record *order, char order_number[16], int64_t known_change_seq,
                                         bool *order_read)
{
    if (!session_id_plausible(payment_id)) return BO_NOT_FOUND;
    session_read *x = calloc(1, sizeof *x);
    if (!x) return BO_INTERNAL;
    x->payment_id = payment_id;
    x->order = order;
    x->order_number = order_number;
    x->known_change_seq = known_change_seq;
    db_status st = store_read(e->st, session_read_fn, x);
    bo_status bs = st == DB_NOTFOUND ? BO_NOT_FOUND : st == DB_OK ? BO_OK : BO_INTERNAL;
    if (bs == BO_OK) {
        account_from_store(&x->owner, owner);
        *out = x->s;
    }
    if (order_read) *order_read = x->order_read;
    free(x);
    return bs;
}

static bo_status session_and_owner_with(engine *e, const char *payment_id, payment_session *out, account *owner,
                                        order_record *order, char order_number[16])
{
    return session_and_owner_known(e, payment_id, out, owner, order, order_number, -1, NULL);
}

static bo_status session_and_owner(engine *e, const char *payment_id, payment_session *out, account *owner)
{
    return session_and_owner_with(e, payment_id, out, owner, NULL, NULL);
}

bo_status payment_report(engine *e, const char *provider, const char *payment_id, payment_outcome o, bool from_page,
                         payment_session *out, payment_step *step, bo_error *err)
{
    account owner;
    payment_session *found = malloc(sizeof *found);
    if (!found) return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    bo_status bs = session_and_owner(e, payment_id, found, &owner);
    free(found);
    if (bs == BO_NOT_FOUND) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such payment");
    if (bs != BO_OK) return bo_fail(err, bs, "internal_error", "", "storage failed");
    return payment_report_owned(e, &owner, provider, payment_id, o, from_page, out, step, err);
}

bo_status payment_report_owned(engine *e, const account *owner, const char *provider, const char *payment_id,
                               payment_outcome o, bool from_page, payment_session *out, payment_step *step,
                               bo_error *err)
{
    bo_status bs = BO_OK;
    report_ctx *x = calloc(1, sizeof *x);
    if (!x) return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    *x = (report_ctx){.e = e, .a = owner, .provider = provider, .payment_id = payment_id, .outcome = o,
                      .from_page = from_page, .now = clock_now()};
    db_status st = store_write(e->st, report_fn, x);
    if (st != DB_OK) bs = bo_from_db(st, err);
    else if (x->not_found) bs = bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such payment");
    else if (x->step == PAYMENT_STEP_REFUSE)
        bs = bo_fail(err, BO_CONFLICT, "payment_finished", "outcome", "the payment is already %s", x->s.status);
    if (bs == BO_OK && x->refund_reason) {
        const payment_provider *p = payment_provider_find(x->s.provider);
        payment_credentials cred = {0};
        bo_error refund_err = {0};
        if (p && (payment_credentials_load(e, owner, p, &cred) != BO_OK ||
                  p->refund(&cred, &x->s, x->s.amount + x->s.fee, x->refund_reason, &refund_err) != BO_OK))
            log_warn("payments: provider %s did not take back payment %s: %s", p->name, x->s.id,
                     *refund_err.message ? refund_err.message : "its settings could not be opened");
        payment_credentials_free(&cred);
    }
    if (out) *out = x->s;
    if (step) *step = x->step;
    free(x);
    return bs;
}

bo_status payment_notify(engine *e, const char *provider, const payment_notification *n, bool test_server,
                         payment_session *out, bo_error *err)
{
    const payment_provider *p = payment_provider_find(provider);
    if (!p || (p->test_server_only && !test_server))
        return bo_fail(err, BO_NOT_FOUND, "unknown_provider", "provider", "no such payment provider");
    char session_id[72];
    payment_outcome o;
    bo_status bs = p->parse_notification(n, session_id, &o, err);
    if (bs != BO_OK) return bs;
    /* the session names the account whose webhook secret must have signed it */
    account owner;
    payment_session *found = malloc(sizeof *found);
    if (!found) return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    bs = session_and_owner(e, session_id, found, &owner);
    bool theirs = bs == BO_OK && !strcmp(found->provider, p->name);
    free(found);
    if (bs == BO_NOT_FOUND || (bs == BO_OK && !theirs)) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such payment");
    if (bs != BO_OK) return bo_fail(err, bs, "internal_error", "", "storage failed");
    payment_credentials cred = {0};
    if (payment_credentials_load(e, &owner, p, &cred) != BO_OK)
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "the provider's settings could not be opened");
    bs = p->authenticate(&cred, n, err);
    payment_credentials_free(&cred);
    if (bs != BO_OK) return bs;
    return payment_report_owned(e, &owner, p->name, session_id, o, false, out, NULL, err);
}

/* ---------- expiry ---------- */

typedef struct {
    engine *e;
    const account *a;
    const char *order_id;
    instant_us now;
} expire_ctx;

static db_status expire_fn(db_conn *c, void *arg)
{
    expire_ctx *x = arg;
    instant_us due, released_at;
    db_status st = store_db_status(store_payment_order_hold(c, x->a->id, x->order_id, &due, &released_at));
    if (st != DB_OK || due == 0 || due >= x->now) return st; /* paid, released or extended meanwhile */
    return release_order(x->e, c, x->a, x->order_id, x->now);
}

static bo_status expire_order(engine *e, const account *a, const char *order_id)
{
    expire_ctx x = {e, a, order_id, clock_now()};
    bo_error err;
    return bo_from_db(store_write(e->st, expire_fn, &x), &err);
}

typedef struct {
    instant_us now;
    store_payment_due *due;
    size_t n;
} due_read;

static db_status due_read_fn(db_conn *c, void *arg)
{
    due_read *x = arg;
    return store_db_status(store_payment_holds_due(c, x->now, 100, &x->due, &x->n));
}

int payments_expire_due(engine *e)
{
    due_read x = {.now = clock_now()};
    if (store_read(e->st, due_read_fn, &x) != DB_OK) {
        log_warn("reaper: payment deadlines not checked, will retry");
        return 0;
    }
    int released = 0;
    for (size_t i = 0; i < x.n; i++) {
        account a;
        if (account_by_id(e, x.due[i].account_id, &a) == BO_OK && expire_order(e, &a, x.due[i].order_id) == BO_OK)
            released++;
    }
    free(x.due);
    return released;
}

bo_status payment_find_for_page(engine *e, const char *payment_id, payment_session *out, account *owner,
                                int64_t known_change_seq, order_record *order, bool *order_read,
                                char order_number[16])
{
    if (order) memset(order, 0, sizeof *order);
    bo_status bs =
        session_and_owner_known(e, payment_id, out, owner, order, order_number, known_change_seq, order_read);
    if (bs == BO_OK && !strcmp(out->status, "open") && clock_now() > out->due_at) {
        bs = expire_order(e, owner, out->order_id);
        if (bs == BO_OK)
            bs = session_and_owner_known(e, payment_id, out, owner, order, order_number, known_change_seq, order_read);
    }
    if (bs != BO_OK && order) order_record_free(order);
    return bs;
}

bo_status payment_find_with_order(engine *e, const char *payment_id, payment_session *out, account *owner,
                                  order_record *order, char order_number[16])
{
    return payment_find_for_page(e, payment_id, out, owner, -1, order, NULL, order_number);
}

bo_status payment_find(engine *e, const char *payment_id, payment_session *out, account *owner)
{
    return payment_find_with_order(e, payment_id, out, owner, NULL, NULL);
}

/* One row the account owns, read by its key: a session (payment_get) or an order's number. */
typedef struct {
    const char *account_id, *key;
    void *out;
} owned_read;

static db_status session_of_account_fn(db_conn *c, void *arg)
{
    owned_read *x = arg;
    return store_db_status(store_payment_session_get(c, x->account_id, x->key, x->out));
}

static db_status order_number_fn(db_conn *c, void *arg)
{
    owned_read *x = arg;
    return store_db_status(store_order_number_get(c, x->account_id, x->key, x->out));
}

static bo_status owned_row(engine *e, store_fn fn, const account *a, const char *key, void *out)
{
    owned_read x = {a->id, key, out};
    db_status st = store_read(e->st, fn, &x);
    return st == DB_NOTFOUND ? BO_NOT_FOUND : st == DB_OK ? BO_OK : BO_INTERNAL;
}

bo_status payment_order_number(engine *e, const account *a, const char *order_id, char out[16])
{
    out[0] = 0;
    return owned_row(e, order_number_fn, a, order_id, out);
}

bo_status payment_get(engine *e, const account *a, const char *payment_id, payment_session *out)
{
    if (!session_id_plausible(payment_id)) return BO_NOT_FOUND;
    return owned_row(e, session_of_account_fn, a, payment_id, out);
}

/* ---------- starting ---------- */

/* An absolute http(s) URL of at most PAYMENT_URL_MAX characters with a host
 * and nothing a Location header or an HTML attribute could be broken by. */
bool payment_callback_url_ok(const char *u)
{
    size_t n = u ? strlen(u) : 0;
    if (n == 0 || n > PAYMENT_URL_MAX) return false;
    size_t scheme = !strncasecmp(u, "https://", 8) ? 8 : !strncasecmp(u, "http://", 7) ? 7 : 0;
    if (!scheme || !u[scheme] || u[scheme] == '/' || u[scheme] == '?' || u[scheme] == '#') return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)u[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("\"<>\\^`{|}", ch)) return false;
    }
    return true;
}

void payment_callback_url(const payment_session *s, const char *order_number, char *out, size_t n)
{
    const char *base = !strcmp(s->status, "paid")        ? s->success_url
                       : !strcmp(s->status, "cancelled") ? s->cancel_url
                       : !strcmp(s->status, "expired")   ? s->expired_url
                                                         : s->failure_url;
    const char *hash = strchr(base, '#');
    size_t head = hash ? (size_t)(hash - base) : strlen(base);
    const char *sep = !memchr(base, '?', head)                               ? "?"
                      : base[head - 1] == '?' || base[head - 1] == '&' ? ""
                                                                       : "&";
    snprintf(out, n, "%.*s%sorder_id=%s&status=%s%s", (int)head, base, sep, order_number, s->status,
             hash ? hash : "");
}

typedef struct {
    engine *e;
    const account *a;
    const char *order_id;
    const payment_start_request *req;
    const payment_provider *provider;
    const payment_credentials *cred;
    instant_us now;
    payment_session *s;
    bool created, not_found, not_open, not_test_mode;
    /* the order was booked in this very transaction: nobody else sees it
     * yet, so it has no session and no payment hold to look for */
    bool fresh;
    /* with fresh: the order as booked, read back in this transaction; its
     * status, document, tickets and voucher payments are taken from here
     * instead of being read again */
    const order_record *booked;
    bool booked_test; /* booked's document already says "test" (book_request.test) */
    payment_session replaced; /* the open session this start cancelled; id "" none */
    bo_error provider_err;
    bool provider_refused;
} start_ctx;

static bool same_request(const payment_session *s, const payment_start_request *r, const char *provider)
{
    return !strcmp(s->provider, provider) && !strcmp(s->method, r->method) && s->fee == r->fee &&
           !strcmp(s->success_url, r->success_url) && !strcmp(s->failure_url, r->failure_url) &&
           !strcmp(s->cancel_url, r->cancel_url) && !strcmp(s->expired_url, r->expired_url);
}

/* Marks the order test (test-mode providers): its document says so. */
static db_status mark_test(start_ctx *x, db_conn *c, const char *doc)
{
    char *marked = objtext_merge(doc, "{\"test\":true}");
    db_status st = marked ? store_db_status(store_order_doc_set(c, x->a->id, x->order_id, marked)) : DB_ERROR;
    free(marked);
    return st;
}

/* What vouchers paid towards an order read as rows: store_order_voucher_paid's
 * sum, without reading it again. */
static money booked_voucher_paid(const order_record *o)
{
    money paid = 0;
    for (size_t i = 0; i < o->npayments; i++) {
        const store_payment_row *p = &o->payments[i];
        if (!strcmp(p->kind, "payment") && !strcmp(p->status, "paid") && p->provider && !strcmp(p->provider, "voucher"))
            paid += p->amount;
    }
    return paid;
}

static db_status start_fn(db_conn *c, void *arg)
{
    start_ctx *x = arg;
    x->created = x->not_found = x->not_open = x->not_test_mode = x->provider_refused = false;
    x->replaced.id[0] = 0;
    /* one start of an order at a time: a second waits here for the first to
     * commit, then finds its open session (PostgreSQL; SQLite has one writer) */
    store_status ss = x->fresh ? STORE_OK : store_order_lock(c, x->a->id, x->order_id);
    store_order_state o = {0};
    if (ss == STORE_OK && x->booked) {
        snprintf(o.status, sizeof o.status, "%s", x->booked->order.status);
        o.doc = strdup(x->booked->order.doc);
        ss = o.doc ? STORE_OK : STORE_ERROR;
    } else if (ss == STORE_OK) {
        ss = store_order_state_get(c, x->a->id, x->order_id, &o);
    }
    if (ss == STORE_NOT_FOUND) {
        x->not_found = true;
        store_order_state_free(&o);
        return DB_OK;
    }
    instant_us due = 0, released_at = 0;
    if (ss == STORE_OK && !x->fresh) ss = store_payment_order_hold(c, x->a->id, x->order_id, &due, &released_at);
    db_status st = store_db_status(ss);
    /* the deadline passed and nobody released the seats yet: do it now, and
     * then there is nothing to pay */
    if (st == DB_OK && due && due < x->now && !strcmp(o.status, "open")) {
        st = release_order(x->e, c, x->a, x->order_id, x->now);
        x->not_open = true;
    }
    if (st == DB_OK && !x->not_open && strcmp(o.status, "open")) x->not_open = true;
    if (st != DB_OK || x->not_open) {
        store_order_state_free(&o);
        return st;
    }
    ss = x->fresh ? STORE_NOT_FOUND : store_payment_session_open_for_order(c, x->a->id, x->order_id, x->s);
    if (ss == STORE_OK && same_request(x->s, x->req, x->provider->name)) {
        store_order_state_free(&o);
        return DB_OK;
    }
    if (ss == STORE_OK) {
        x->replaced = *x->s;
        ss = store_payment_session_move(c, x->a->id, x->s->id, "open", "cancelled", "replaced by another payment",
                                        x->now);
    } else if (ss == STORE_NOT_FOUND) {
        ss = STORE_OK;
    }
    bool test_mode = false;
    if (ss == STORE_OK && x->provider->test_mode_only) {
        ss = store_account_test_mode_get(c, x->a->id, &test_mode);
        if (ss == STORE_OK && !test_mode) x->not_test_mode = true;
    }
    st = store_db_status(ss);
    money owed = 0;
    /* what a voucher paid at booking is not charged again */
    money voucher_paid = 0;
    if (st == DB_OK && !x->not_test_mode && x->booked) {
        owed = order_rows_owed(x->booked);
        voucher_paid = booked_voucher_paid(x->booked);
    } else if (st == DB_OK && !x->not_test_mode) {
        st = order_owed(c, x->a->id, x->order_id, &owed);
        if (st == DB_OK) st = store_db_status(store_order_voucher_paid(c, x->a->id, x->order_id, &voucher_paid));
    }
    owed = owed > voucher_paid ? owed - voucher_paid : 0;
    if (st != DB_OK || x->not_test_mode) {
        store_order_state_free(&o);
        return st == DB_OK ? DB_ABORT : st;
    }
    payment_session *s = x->s;
    const payment_start_request *r = x->req;
    memset(s, 0, sizeof *s);
    rand_token("pay_", 16, s->id, sizeof s->id);
    rand_token("", 16, s->csrf, sizeof s->csrf);
    snprintf(s->account_id, sizeof s->account_id, "%s", x->a->id);
    snprintf(s->order_id, sizeof s->order_id, "%s", x->order_id);
    snprintf(s->provider, sizeof s->provider, "%s", x->provider->name);
    snprintf(s->method, sizeof s->method, "%s", r->method);
    snprintf(s->status, sizeof s->status, "open");
    snprintf(s->currency, sizeof s->currency, "%s", x->a->currency);
    snprintf(s->success_url, sizeof s->success_url, "%s", r->success_url);
    snprintf(s->failure_url, sizeof s->failure_url, "%s", r->failure_url);
    snprintf(s->cancel_url, sizeof s->cancel_url, "%s", r->cancel_url);
    snprintf(s->expired_url, sizeof s->expired_url, "%s", r->expired_url);
    s->amount = owed;
    s->fee = r->fee;
    s->due_at = x->now + (r->deadline_seconds ? r->deadline_seconds : PAYMENT_DEFAULT_DEADLINE_SECONDS) * US_PER_SEC;
    s->created_at = s->updated_at = x->now;
    if (x->provider->create(x->cred, s, s->redirect_url, sizeof s->redirect_url, s->provider_ref, &x->provider_err) != BO_OK) {
        x->provider_refused = true;
        store_order_state_free(&o);
        return DB_ABORT;
    }
    st = store_db_status(store_payment_session_insert(c, s));
    if (st == DB_OK && x->provider->test_mode_only && !(x->booked && x->booked_test)) st = mark_test(x, c, o.doc);
    store_order_state_free(&o);
    /* the order's document and hold changed: it takes its next change number,
     * unless it was booked in this transaction: the number it took then is
     * not visible to anyone before this commit either */
    if (st == DB_OK && x->booked) st = events_record_order(x->e, c, x->a, EV_ORDER_UPDATED, x->order_id);
    else if (st == DB_OK) st = order_touch(x->e, c, x->a, x->order_id, x->now);
    if (st == DB_OK) x->created = true;
    return st;
}

/* The request's own checks, before any storage is read. */
static bo_status start_request_ok(const payment_start_request *r, bo_error *err)
{
    if (!r->method || !*r->method || strlen(r->method) > 64)
        return bo_fail(err, BO_INVALID, "invalid_field", "method", "method is 1 to 64 characters");
    if (r->fee < 0 || r->fee > PAYMENT_MAX_FEE)
        return bo_fail(err, BO_INVALID, "invalid_field", "fee", "fee is 0 to %d minor units", PAYMENT_MAX_FEE);
    if (r->deadline_seconds &&
        (r->deadline_seconds < PAYMENT_MIN_DEADLINE_SECONDS || r->deadline_seconds > PAYMENT_MAX_DEADLINE_SECONDS))
        return bo_fail(err, BO_INVALID, "invalid_field", "deadline_seconds", "deadline_seconds is %d to %d",
                       PAYMENT_MIN_DEADLINE_SECONDS, PAYMENT_MAX_DEADLINE_SECONDS);
    const struct {
        const char *url, *field;
    } urls[] = {{r->success_url, "callback_urls.success"},
                {r->failure_url, "callback_urls.failure"},
                {r->cancel_url, "callback_urls.cancel"},
                {r->expired_url, "callback_urls.expired"}};
    for (size_t i = 0; i < 4; i++)
        if (!payment_callback_url_ok(urls[i].url))
            return bo_fail(err, BO_INVALID, "invalid_url", urls[i].field,
                           "an absolute http(s) URL of at most %d characters is required", PAYMENT_URL_MAX);
    return BO_OK;
}

static bo_status start_outcome(const start_ctx *x, db_status st, bool *created, bo_error *err);

/* The provider a request names (NULL: the test one), if this server serves it. */
static const payment_provider *start_provider(const payment_start_request *req, bo_error *err)
{
    const payment_provider *p = payment_provider_find(req->provider ? req->provider : PAYMENT_TEST_PROVIDER);
    if (!p || (p->test_server_only && !req->test_server)) {
        bo_fail(err, BO_INVALID, "unknown_provider", "provider", "no payment provider named so");
        return NULL;
    }
    return p;
}

bo_status payment_start(engine *e, const account *a, const char *order_id, const payment_start_request *req,
                        payment_session *out, bool *created, bo_error *err)
{
    if (!order_id || !*order_id || strlen(order_id) > 64)
        return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    const payment_provider *p = start_provider(req, err);
    if (!p) return err->status;
    if (start_request_ok(req, err) != BO_OK) return err->status;
    payment_credentials cred = {0};
    if (payment_credentials_load(e, a, p, &cred) != BO_OK)
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "the provider's settings could not be opened");
    start_ctx x = {.e = e, .a = a, .order_id = order_id, .req = req, .provider = p, .cred = &cred,
                   .now = clock_now(), .s = out};
    db_status st = store_write(e->st, start_fn, &x);
    payment_credentials_free(&cred);
    return start_outcome(&x, st, created, err);
}

/* A start's outcome after its transaction: the refusal start_fn recorded, else
 * the transaction's status; the provider is told of a session it replaced. */
static bo_status start_outcome(const start_ctx *x_, db_status st, bool *created, bo_error *err)
{
    const start_ctx x = *x_;
    if (x.not_found) return bo_fail(err, BO_NOT_FOUND, "not_found", "", "no such order");
    if (x.not_open)
        return bo_fail(err, BO_CONFLICT, "not_open", "status",
                       "only an open order can be paid (this one is paid, cancelled or past its payment deadline)");
    if (x.not_test_mode)
        return bo_fail(err, BO_FORBIDDEN, "test_mode_required", "provider",
                       "the test provider serves accounts in test mode only");
    if (x.provider_refused) {
        *err = x.provider_err;
        return err->status;
    }
    if (st != DB_OK) return bo_from_db(st, err);
    if (*x.replaced.id) payment_session_cancel_at_provider(x.e, x.a, &x.replaced);
    if (created) *created = x.created;
    return BO_OK;
}

/* ---------- booking and starting in one transaction ---------- */

typedef struct {
    start_ctx start;
    payment_start_request req; /* the caller's, with the fee fee_of gave */
    payment_fee_fn fee_of;
    void *fee_arg;
    char order_id[40];
    bool fee_refused;
    bool marked_test; /* the booking's document was written with "test" */
} book_start_ctx;

/* The booking's step (order_book_then): the fee of the order as booked, then
 * start_fn in the same transaction. */
static db_status start_booked(db_conn *c, const order_record *rows, bool created, void *arg)
{
    book_start_ctx *x = arg;
    x->start.fresh = created;
    x->start.booked = created ? rows : NULL;
    x->start.booked_test = created && x->marked_test;
    snprintf(x->order_id, sizeof x->order_id, "%s", rows->order.id);
    x->fee_refused = !x->fee_of(rows, x->fee_arg, &x->req.fee) || x->req.fee < 0 || x->req.fee > PAYMENT_MAX_FEE;
    if (x->fee_refused) return DB_ABORT;
    x->start.now = clock_now();
    return start_fn(c, &x->start);
}

bo_status payment_book_and_start(engine *e, const account *a, const book_request *booking,
                                 const payment_start_request *req, payment_fee_fn fee_of, void *fee_arg,
                                 payment_session *out, bool *created, bo_error *err)
{
    const payment_provider *p = start_provider(req, err);
    if (!p) return err->status;
    book_start_ctx *x = calloc(1, sizeof *x);
    if (!x) return bo_fail(err, BO_INTERNAL, "internal_error", "", "out of memory");
    x->req = *req;
    x->req.fee = 0; /* fee_of's, once booked */
    x->fee_of = fee_of;
    x->fee_arg = fee_arg;
    payment_credentials cred = {0};
    x->start = (start_ctx){.e = e, .a = a, .order_id = x->order_id, .req = &x->req, .provider = p, .cred = &cred,
                           .s = out};
    if (start_request_ok(&x->req, err) != BO_OK) {
        free(x);
        return err->status;
    }
    if (payment_credentials_load(e, a, p, &cred) != BO_OK) {
        free(x);
        return bo_fail(err, BO_INTERNAL, "internal_error", "", "the provider's settings could not be opened");
    }
    char order_id[40];
    bo_error book_err = {0};
    /* a test provider's order is marked test in its insert rather than by an
     * update after it; only an open booking, whose start either creates the
     * session or aborts the whole transaction, so no order says test unpaid */
    book_request marked = *booking;
    marked.test = p->test_mode_only && booking->status && !strcmp(booking->status, "open");
    x->marked_test = marked.test;
    bo_status bs = order_book_then(e, a, &marked, start_booked, x, order_id, NULL, &book_err);
    payment_credentials_free(&cred);
    /* the step's refusals first: the booking saw only an aborted transaction */
    if (bs != BO_OK) {
        if (x->fee_refused)
            bs = bo_fail(err, BO_INVALID, "invalid_field", "fee", "fee is 0 to %d minor units", PAYMENT_MAX_FEE);
        else if (x->start.not_found || x->start.not_open || x->start.not_test_mode || x->start.provider_refused)
            bs = start_outcome(&x->start, DB_ABORT, created, err);
        else
            *err = book_err;
    } else if (bs == BO_OK) {
        bs = start_outcome(&x->start, DB_OK, created, err);
    }
    free(x);
    return bs;
}

/* ---------- test mode ---------- */

/* An account's sale settings (test mode, platform fee), read or set. */
typedef struct {
    const char *account_id;
    bool test_mode;
    money fee;
    instant_us now;
} sale_settings_ctx;

static db_status test_mode_set_fn(db_conn *c, void *arg)
{
    sale_settings_ctx *x = arg;
    return store_db_status(store_account_test_mode_set(c, x->account_id, x->test_mode, x->now));
}

bo_status account_test_mode_get(engine *e, const account *a, bool *on)
{
    money fee;
    return account_sale_settings_get(e, a, on, &fee);
}

bo_status account_test_mode_set(engine *e, const account *a, bool on, bo_error *err)
{
    sale_settings_ctx x = {.account_id = a->id, .test_mode = on, .now = clock_now()};
    return bo_from_db(store_write(e->st, test_mode_set_fn, &x), err);
}

/* ---------- ending a session with its order ---------- */

void payment_session_cancel_at_provider(engine *e, const account *a, const payment_session *closed)
{
    const payment_provider *p = *closed->id ? payment_provider_find(closed->provider) : NULL;
    if (!p) return;
    payment_credentials cred = {0};
    bo_error cancel_err = {0};
    if (payment_credentials_load(e, a, p, &cred) != BO_OK || p->cancel(&cred, closed, &cancel_err) != BO_OK)
        log_warn("payments: provider %s did not cancel payment %s: %s", p->name, closed->id,
                 *cancel_err.message ? cancel_err.message : "its settings could not be opened");
    payment_credentials_free(&cred);
}

db_status payment_sessions_end_with_order(db_conn *c, const account *a, const char *order_id, instant_us now,
                                          payment_session *closed)
{
    closed->id[0] = 0;
    store_status ss = store_payment_session_open_for_order(c, a->id, order_id, closed);
    if (ss == STORE_NOT_FOUND) {
        closed->id[0] = 0;
        ss = STORE_OK;
    } else if (ss == STORE_OK) {
        ss = store_payment_session_move(c, a->id, closed->id, "open", "cancelled", "the order was cancelled", now);
        snprintf(closed->status, sizeof closed->status, "cancelled");
    }
    db_status st = ss == STORE_CONFLICT ? DB_RETRY : store_db_status(ss);
    /* the seats are given back with the cancellation: no hold runs any more */
    return st == DB_OK ? store_db_status(store_payment_hold_end(c, a->id, order_id, false, now)) : st;
}

/* ---------- reconciling open sessions with their providers ---------- */

typedef struct {
    const char *provider;
    instant_us now;
    store_payment_to_reconcile *due;
    size_t n;
} reconcile_read;

static db_status reconcile_read_fn(db_conn *c, void *arg)
{
    reconcile_read *x = arg;
    return store_db_status(store_payment_sessions_to_reconcile(
        c, x->provider, x->now - PAYMENT_RECONCILE_EVERY_SECONDS * US_PER_SEC, 100, &x->due, &x->n));
}

typedef struct {
    const store_payment_to_reconcile *one;
    instant_us now;
} reconciled_mark;

static db_status reconciled_fn(db_conn *c, void *arg)
{
    reconciled_mark *x = arg;
    return store_db_status(store_payment_session_reconciled(c, x->one->account_id, x->one->id, x->now));
}

/* Asks the provider about one session and applies a changed answer;
 * true when the session moved. */
static bool reconcile_one(engine *e, const payment_provider *p, const store_payment_to_reconcile *one)
{
    account a;
    payment_session *s = malloc(sizeof *s);
    if (!s || account_by_id(e, one->account_id, &a) != BO_OK || payment_get(e, &a, one->id, s) != BO_OK) {
        free(s);
        return false;
    }
    payment_credentials cred = {0};
    char status[16] = "open";
    bo_error err = {0};
    bool asked = payment_credentials_load(e, &a, p, &cred) == BO_OK && p->status(&cred, s, status, &err) == BO_OK;
    payment_credentials_free(&cred);
    payment_outcome o;
    bool moved = false;
    if (!asked) {
        log_warn("payments: provider %s could not say what became of payment %s: %s", p->name, s->id,
                 *err.message ? err.message : "its settings could not be opened");
    } else if (strcmp(status, "open") && payment_outcome_parse(status, &o)) {
        payment_step step = PAYMENT_STEP_SAME;
        if (payment_report(e, p->name, s->id, o, false, NULL, &step, &err) == BO_OK && step != PAYMENT_STEP_SAME) {
            log_info("payments: provider %s says payment %s is %s", p->name, s->id, status);
            moved = true;
        }
    }
    reconciled_mark mark = {one, clock_now()};
    if (store_write(e->st, reconciled_fn, &mark) != DB_OK) log_warn("payments: payment %s not marked asked", s->id);
    free(s);
    return moved;
}

int payments_reconcile(engine *e)
{
    int moved = 0;
    for (size_t k = 0; k < sizeof providers / sizeof providers[0]; k++) {
        const payment_provider *p = &providers[k];
        if (!p->remote_status) continue;
        reconcile_read x = {.provider = p->name, .now = clock_now()};
        if (store_read(e->st, reconcile_read_fn, &x) != DB_OK) {
            log_warn("reaper: payments of %s not reconciled, will retry", p->name);
            continue;
        }
        for (size_t i = 0; i < x.n; i++) moved += reconcile_one(e, p, &x.due[i]);
        free(x.due);
    }
    return moved;
}

typedef struct {
    const char *account_id, *order_id;
    payment_session *out;
    money fee;
    instant_us now;
} order_session_ctx;

static db_status order_session_fn(db_conn *c, void *arg)
{
    order_session_ctx *x = arg;
    return store_db_status(store_payment_session_latest_for_order(c, x->account_id, x->order_id, x->out));
}

bo_status payment_for_order(engine *e, const account *a, const char *order_id, payment_session *out)
{
    order_session_ctx x = {.account_id = a->id, .order_id = order_id, .out = out};
    db_status st = store_read(e->st, order_session_fn, &x);
    return st == DB_OK ? BO_OK : st == DB_NOTFOUND ? BO_NOT_FOUND : BO_INTERNAL;
}


static db_status platform_fee_set_fn(db_conn *c, void *arg)
{
    order_session_ctx *x = arg;
    return store_db_status(store_account_platform_fee_set(c, x->account_id, x->fee, x->now));
}

static db_status sale_settings_fn(db_conn *c, void *arg)
{
    sale_settings_ctx *x = arg;
    store_status st = store_account_test_mode_get(c, x->account_id, &x->test_mode);
    if (st == STORE_OK) st = store_account_platform_fee_get(c, x->account_id, &x->fee);
    return store_db_status(st);
}

bo_status account_sale_settings_get(engine *e, const account *a, bool *test_mode, money *platform_fee)
{
    sale_settings_ctx x = {.account_id = a->id};
    db_status st = store_read(e->st, sale_settings_fn, &x);
    *test_mode = x.test_mode;
    *platform_fee = x.fee;
    return st == DB_OK ? BO_OK : st == DB_NOTFOUND ? BO_NOT_FOUND : BO_INTERNAL;
}

bo_status account_platform_fee_get(engine *e, const account *a, money *fee)
{
    bool test_mode;
    return account_sale_settings_get(e, a, &test_mode, fee);
}

bo_status account_platform_fee_set(engine *e, const account *a, money fee, bo_error *err)
{
    if (fee < 0 || fee > PAYMENT_MAX_FEE)
        return bo_fail(err, BO_INVALID, "invalid_amount", "platform_fee", "platform_fee must be 0 to %d",
                       PAYMENT_MAX_FEE);
    order_session_ctx x = {.account_id = a->id, .fee = fee, .now = clock_now()};
    return bo_from_db(store_write(e->st, platform_fee_set_fn, &x), err);
}
