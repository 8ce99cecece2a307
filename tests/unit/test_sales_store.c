/* The sales store (store/sales.c) on the database named by BOXOFFICE_TEST_DB
 * (default: a fresh SQLite file): each operation reaches each status it
 * documents, and a refused operation writes nothing: carts (create, replace,
 * release, get, reap, claim, retake), capacity (used, take, give back, set
 * capacity; scoped by account; CHECK never violated), counters and voucher
 * codes. Steps taking a db_conn run inside store_write transactions of this
 * file's own. */
#include "fixture.h"
#include "core/engine.h"
#include "store/migrations.h"
#include "store/order_changes.h"
#include "store/sales.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static engine *E;
static store *S;
static account A, B;
static instant_us NOW;

/* ---------------- helpers ---------------- */

static char EXTRAS[] = "{\"source\":\"test\"}";
static char CUSTOMER[] = "{\"email\":\"a@example.com\"}";
static char EXTERNAL[] = "ext-42";

/* A cart of account a with n lines "prod-00".. (quantity i+1, price 100*(i+1)). */
static void cart_init(store_cart *c, const account *a, const char *id, const char *occurrence, instant_us expires_at,
                      store_cart_line *lines, size_t n)
{
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->account_id, sizeof c->account_id, "%s", a->id);
    snprintf(c->channel, sizeof c->channel, "web");
    snprintf(c->occurrence, sizeof c->occurrence, "%s", occurrence);
    snprintf(c->currency, sizeof c->currency, "EUR");
    c->day = -1;
    c->start_time = c->end_time = -1;
    c->expires_at = expires_at;
    c->created_at = c->updated_at = NOW;
    c->price_includes_tax = true;
    c->extras = EXTRAS;
    for (size_t i = 0; i < n; i++) {
        memset(&lines[i], 0, sizeof lines[i]);
        snprintf(lines[i].product_id, sizeof lines[i].product_id, "prod-%02zu", i);
        lines[i].quantity = (int64_t)i + 1;
        lines[i].unit_price = 100 * ((int64_t)i + 1);
        lines[i].gate_price = 110 * ((int64_t)i + 1);
        lines[i].booking_fee = 15 * (int64_t)i;
    }
    c->lines = lines;
    c->nlines = n;
}

typedef struct {
    int rows;
    int64_t used;
} used_sum;

static void add_used(void *ctx, const char *occurrence, int64_t used)
{
    used_sum *u = ctx;
    u->rows++;
    u->used += used;
}

/* used of one pool at one occurrence; -1 when no row */
typedef struct {
    const char *occ;
    int64_t used;
} used_one;

static void find_used(void *ctx, const char *occurrence, int64_t used)
{
    used_one *u = ctx;
    if (!strcmp(occurrence, u->occ)) u->used = used;
}

static int64_t used_of(const account *a, const char *pool, const char *occ)
{
    used_one u = {occ, -1};
    if (store_inventory_used(S, a->id, pool, NULL, NULL, find_used, &u) != STORE_OK) return -2;
    return u.used;
}

typedef struct {
    const char *cart_id;
    int64_t sum;
} holds_read;

/* The cart row records its holds as lines "pool\toccurrence\tamount\n" (src/store/sales.c). */
static db_status holds_fn(db_conn *c, void *arg)
{
    holds_read *h = arg;
    char *text = NULL;
    db_status st = db_query_text(c, "SELECT holds FROM carts WHERE id = ?", DB_ARGS(DB_TEXT(h->cart_id)), &text);
    if (st == DB_NOTFOUND) {
        h->sum = 0;
        return DB_OK;
    }
    if (st != DB_OK) return st;
    h->sum = 0;
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n'), *amount = end;
        while (amount > line && amount[-1] != '\t') amount--;
        h->sum += strtoll(amount, NULL, 10);
        line = end ? end + 1 : NULL;
    }
    free(text);
    return DB_OK;
}

/* seats a cart records as held; -1 on error */
static int64_t holds_of(const char *cart_id)
{
    holds_read h = {cart_id, -1};
    return store_read(S, holds_fn, &h) == DB_OK ? h.sum : -1;
}

static store_status get_cart(const account *a, const char *id, store_cart *out)
{
    return store_cart_get(S, a->id, id, NOW, out);
}

/* Inventory steps inside one transaction. */
typedef enum { OP_TAKE, OP_GIVE_BACK, OP_SET_CAPACITY } inv_kind;
typedef struct {
    inv_kind kind;
    const account *a;
    const store_hold *holds;
    size_t n;
    const char *pool_id;
    int64_t capacity;
    bool commit; /* commit even when the step reported a refusal without a SQL error */
    store_status out;
} inv_op;

static db_status inv_fn(db_conn *c, void *arg)
{
    inv_op *op = arg;
    switch (op->kind) {
    case OP_TAKE: op->out = store_inventory_take(c, op->a->id, op->holds, op->n); break;
    case OP_GIVE_BACK: op->out = store_inventory_give_back(c, op->a->id, op->holds, op->n); break;
    case OP_SET_CAPACITY: op->out = store_inventory_set_capacity(c, op->a->id, op->pool_id, op->capacity); break;
    }
    if (op->out == STORE_SOLD_OUT && op->commit) return DB_OK;
    return store_db_status(op->out);
}

static store_status take(const account *a, const store_hold *h, size_t n, bool commit)
{
    inv_op op = {.kind = OP_TAKE, .a = a, .holds = h, .n = n, .commit = commit};
    db_status st = store_write(S, inv_fn, &op);
    return st == DB_OK || st == DB_ABORT || st == DB_CONFLICT ? op.out : STORE_ERROR;
}

static store_status give_back(const account *a, const store_hold *h, size_t n)
{
    inv_op op = {.kind = OP_GIVE_BACK, .a = a, .holds = h, .n = n};
    db_status st = store_write(S, inv_fn, &op);
    return st == DB_OK || st == DB_ABORT || st == DB_CONFLICT ? op.out : STORE_ERROR;
}

static store_status set_capacity(const account *a, const char *pool, int64_t capacity)
{
    inv_op op = {.kind = OP_SET_CAPACITY, .a = a, .pool_id = pool, .capacity = capacity};
    db_status st = store_write(S, inv_fn, &op);
    return st == DB_OK || st == DB_ABORT || st == DB_CONFLICT ? op.out : STORE_ERROR;
}

/* Claims a cart for booking (store_cart_claim), optionally retaking its seats. */
typedef struct {
    const account *a;
    const char *cart_id;
    char order_id[40];
    bool retake;
    bool was_expired;
    store_status claim, retaken;
    store_cart cart;
} claim_op;

/* Rewrites a cart's lines as the store wrote them before booking fees. */
typedef struct {
    const char *cart_id, *lines;
} old_line_set;

static db_status old_line_fn(db_conn *c, void *arg)
{
    old_line_set *x = arg;
    return db_exec(c, "UPDATE carts SET lines = ? WHERE id = ?", DB_ARGS(DB_TEXT(x->lines), DB_TEXT(x->cart_id)), NULL);
}

static db_status claim_fn(db_conn *c, void *arg)
{
    claim_op *op = arg;
    store_cart_free(&op->cart);
    op->was_expired = false;
    op->retaken = STORE_OK;
    op->claim = store_cart_claim(c, op->a->id, op->cart_id, op->order_id, NOW, &op->cart, &op->was_expired);
    if (op->claim != STORE_OK) return store_db_status(op->claim);
    if (op->retake && op->was_expired) op->retaken = store_cart_retake(c, op->a->id, op->cart_id);
    return store_db_status(op->retaken);
}

static store_status claim(const account *a, const char *cart_id, bool retake, claim_op *op)
{
    memset(op, 0, sizeof *op);
    op->a = a;
    op->cart_id = cart_id;
    op->retake = retake;
    test_id(op->order_id, sizeof op->order_id, "ord");
    db_status st = store_write(S, claim_fn, op);
    if (st != DB_OK && st != DB_ABORT && st != DB_CONFLICT && op->claim == STORE_OK && op->retaken == STORE_OK) return STORE_ERROR;
    return op->claim != STORE_OK ? op->claim : op->retaken;
}

/* ---------------- carts ---------------- */

/* A line's chosen options travel in the cart's row after its booking fee:
 * ids with tabs, newlines and percent signs survive, lines without options
 * read as before, and text with more options than a line holds is refused. */
static void test_cart_line_options(void)
{
    char id[40];
    test_id(id, sizeof id, "cart");
    store_cart_line lines[3];
    store_cart c;
    cart_init(&c, &A, id, "", NOW + 900 * US_PER_SEC, lines, 3);
    lines[0].noptions = STORE_LINE_OPTIONS_MAX;
    for (size_t k = 0; k < STORE_LINE_OPTIONS_MAX; k++) {
        snprintf(lines[0].options[k].option_id, sizeof lines[0].options[k].option_id, "opt\t%zu%%\n", k);
        lines[0].options[k].quantity = (int64_t)k + 1;
        lines[0].options[k].unit_price = 250 * (int64_t)k;
    }
    lines[2].noptions = 1;
    snprintf(lines[2].options[0].option_id, sizeof lines[2].options[0].option_id, "audio");
    lines[2].options[0].quantity = 2;
    lines[2].options[0].unit_price = 450;
    CHECK(store_cart_create(S, &c, NULL, 0) == STORE_OK, "cart options: created");
    store_cart got;
    bool same = get_cart(&A, id, &got) == STORE_OK && got.nlines == 3;
    for (size_t i = 0; same && i < 3; i++) {
        same = got.lines[i].noptions == lines[i].noptions && got.lines[i].booking_fee == lines[i].booking_fee;
        for (size_t k = 0; same && k < lines[i].noptions; k++)
            same = !strcmp(got.lines[i].options[k].option_id, lines[i].options[k].option_id) &&
                   got.lines[i].options[k].quantity == lines[i].options[k].quantity &&
                   got.lines[i].options[k].unit_price == lines[i].options[k].unit_price;
    }
    CHECK(same, "cart options: every line's options read back, escaped ids intact, none where none");
    store_cart_free(&got);
    char nine[512] = "prod-00\t1\t100\t110\t0";
    for (int k = 0; k <= STORE_LINE_OPTIONS_MAX; k++)
        snprintf(nine + strlen(nine), sizeof nine - strlen(nine), "\to%d\t1\t5", k);
    strcat(nine, "\n");
    old_line_set set = {id, nine};
    CHECK(store_write(S, old_line_fn, &set) == DB_OK && get_cart(&A, id, &got) == STORE_ERROR,
          "cart options: more options than a line holds is a malformed row");
    store_cart_free(&got);
}

static void test_cart_create(void)
{
    char id[40];
    test_id(id, sizeof id, "cart");
    store_cart_line lines[20];
    store_cart c;
    cart_init(&c, &A, id, "2026-06-01", NOW + 900 * US_PER_SEC, lines, 20);
    snprintf(c.category_id, sizeof c.category_id, "cat-1");
    c.day = 20605;
    c.start_time = 9 * 3600;
    c.end_time = 10 * 3600;
    c.starts_at = NOW + 3600 * US_PER_SEC;
    c.ends_at = NOW + 7200 * US_PER_SEC;
    c.priced = true;
    c.price_includes_tax = false;
    c.total = 12345;
    c.external_id = EXTERNAL;
    c.customer = CUSTOMER;
    store_hold h[] = {test_hold("pool-c", "2026-06-01", 3, 5), test_hold("pool-d", "2026-06-01", 1, 1)};
    CHECK(store_cart_create(S, &c, h, 2) == STORE_OK, "cart_create: OK");
    CHECK(used_of(&A, "pool-c", "2026-06-01") == 3 && used_of(&A, "pool-d", "2026-06-01") == 1,
          "cart_create: holds taken");

    store_cart got;
    CHECK(get_cart(&A, id, &got) == STORE_OK, "cart_get: OK");
    CHECK(!strcmp(got.id, id) && !strcmp(got.account_id, A.id) && !strcmp(got.status, "open") && !*got.order_id,
          "cart_get: id, account, open, no order");
    CHECK(!strcmp(got.channel, "web") && !strcmp(got.occurrence, "2026-06-01") && !strcmp(got.category_id, "cat-1"),
          "cart_get: channel, occurrence, category");
    CHECK(got.day == 20605 && got.start_time == 9 * 3600 && got.end_time == 10 * 3600, "cart_get: day and times");
    CHECK(got.starts_at == c.starts_at && got.ends_at == c.ends_at && got.expires_at == c.expires_at &&
              got.created_at == NOW && got.updated_at == NOW,
          "cart_get: instants");
    CHECK(got.priced && !got.price_includes_tax && got.total == 12345 && !strcmp(got.currency, "EUR"),
          "cart_get: pricing");
    CHECK(got.external_id && !strcmp(got.external_id, EXTERNAL) && got.extras && !strcmp(got.extras, EXTRAS) &&
              got.customer && !strcmp(got.customer, CUSTOMER),
          "cart_get: external id, extras, customer");
    bool in_order = got.nlines == 20;
    for (size_t i = 0; in_order && i < 20; i++)
        in_order = !strcmp(got.lines[i].product_id, lines[i].product_id) && got.lines[i].quantity == (int64_t)i + 1 &&
                   got.lines[i].unit_price == 100 * ((int64_t)i + 1) && got.lines[i].gate_price == 110 * ((int64_t)i + 1) &&
                   got.lines[i].booking_fee == 15 * (int64_t)i;
    CHECK(in_order, "cart_get: 20 lines in order with their fields");
    store_cart_free(&got);
    const char *old_lines = "prod-00\t2\t100\t110\n";
    old_line_set set = {id, old_lines};
    CHECK(store_write(S, old_line_fn, &set) == DB_OK && get_cart(&A, id, &got) == STORE_OK && got.nlines == 1 &&
              got.lines[0].gate_price == 110 && got.lines[0].booking_fee == 0,
          "cart_get: a line held before booking fees were recorded reads with no fee");
    store_cart_free(&got);

    CHECK(store_cart_get(S, B.id, id, NOW, &got) == STORE_NOT_FOUND, "cart_get: another account's cart id NOT_FOUND");
    store_cart_free(&got);
    test_cart_line_options();
    CHECK(get_cart(&A, "no-such-cart", &got) == STORE_NOT_FOUND, "cart_get: unknown id NOT_FOUND");
    store_cart_free(&got);

    /* a cart without optional fields reads back with its defaults */
    char id2[40];
    test_id(id2, sizeof id2, "cart");
    store_cart bare;
    cart_init(&bare, &A, id2, "", NOW + 60 * US_PER_SEC, NULL, 0);
    bare.extras = NULL;
    CHECK(store_cart_create(S, &bare, NULL, 0) == STORE_OK, "cart_create: no lines, no holds");
    CHECK(get_cart(&A, id2, &got) == STORE_OK && got.nlines == 0 && got.lines == NULL && got.day == -1 &&
              got.start_time == -1 && got.end_time == -1 && got.starts_at == 0 && got.ends_at == 0 &&
              !*got.category_id && got.external_id == NULL && got.customer == NULL && !strcmp(got.extras, "{}"),
          "cart_get: absent fields read as none");
    store_cart_free(&got);
    CHECK(store_cart_get(S, A.id, id2, bare.expires_at, &got) == STORE_OK && !strcmp(got.status, "expired"),
          "cart_get: an open cart past expires_at reads as expired");
    store_cart_free(&got);

    /* SOLD_OUT: nothing written */
    char id3[40];
    test_id(id3, sizeof id3, "cart");
    store_cart more;
    cart_init(&more, &A, id3, "2026-06-01", NOW + 900 * US_PER_SEC, lines, 2);
    store_hold too_many[] = {test_hold("pool-c", "2026-06-01", 3, 5)};
    CHECK(store_cart_create(S, &more, too_many, 1) == STORE_SOLD_OUT, "cart_create: SOLD_OUT over capacity");
    CHECK(used_of(&A, "pool-c", "2026-06-01") == 3, "cart_create SOLD_OUT: inventory used unchanged");
    CHECK(get_cart(&A, id3, &got) == STORE_NOT_FOUND, "cart_create SOLD_OUT: no cart row readable");
    store_cart_free(&got);
    CHECK(holds_of(id3) == 0, "cart_create SOLD_OUT: no holds recorded");
    CHECK(holds_of(id) == 4, "cart_create: holds recorded");

    /* all or nothing: the first pool fits, the second does not */
    store_hold partly[] = {test_hold("pool-c", "2026-06-01", 1, 5), test_hold("pool-d", "2026-06-01", 1, 1)};
    CHECK(store_cart_create(S, &more, partly, 2) == STORE_SOLD_OUT, "cart_create: SOLD_OUT when any pool lacks room");
    CHECK(used_of(&A, "pool-c", "2026-06-01") == 3 && used_of(&A, "pool-d", "2026-06-01") == 1,
          "cart_create SOLD_OUT: the pool that fitted is not taken either");
    CHECK(get_cart(&A, id3, &got) == STORE_NOT_FOUND, "cart_create SOLD_OUT (second pool): no cart row");
    store_cart_free(&got);

    /* a first hold larger than the capacity (the row does not exist yet) */
    store_hold first_too_big[] = {test_hold("pool-c", "2026-06-09", 6, 5)};
    CHECK(store_cart_create(S, &more, first_too_big, 1) == STORE_SOLD_OUT,
          "cart_create: SOLD_OUT for a first hold above capacity");
    CHECK(used_of(&A, "pool-c", "2026-06-09") == -1, "cart_create SOLD_OUT: no inventory row created");
    CHECK(get_cart(&A, id3, &got) == STORE_NOT_FOUND, "cart_create SOLD_OUT (first hold): no cart row");
    store_cart_free(&got);

    /* a duplicate id changes nothing */
    store_hold one[] = {test_hold("pool-c", "2026-06-01", 1, 5)};
    CHECK(store_cart_create(S, &c, one, 1) == STORE_CONFLICT, "cart_create: duplicate id CONFLICT");
    CHECK(used_of(&A, "pool-c", "2026-06-01") == 3, "cart_create duplicate: nothing taken");

    CHECK(store_cart_release(S, A.id, id, NOW) == STORE_OK, "cart_release: OK");
    CHECK(used_of(&A, "pool-c", "2026-06-01") == 0 && used_of(&A, "pool-d", "2026-06-01") == 0,
          "cart_release: every hold given back");
    CHECK(get_cart(&A, id, &got) == STORE_OK && !strcmp(got.status, "released"), "cart_release: status released");
    store_cart_free(&got);
    CHECK(store_cart_release(S, A.id, id, NOW) == STORE_CONFLICT, "cart_release: twice CONFLICT");
    CHECK(used_of(&A, "pool-c", "2026-06-01") == 0, "cart_release twice: nothing given back again");
    CHECK(store_cart_release(S, A.id, "no-such-cart", NOW) == STORE_NOT_FOUND, "cart_release: unknown NOT_FOUND");
    CHECK(store_cart_release(S, B.id, id2, NOW) == STORE_NOT_FOUND, "cart_release: another account's cart NOT_FOUND");
    CHECK(get_cart(&A, id2, &got) == STORE_OK && !strcmp(got.status, "open"),
          "cart_release by another account: cart untouched");
    store_cart_free(&got);
    CHECK(store_cart_release(S, A.id, id2, NOW) == STORE_OK, "cart_release: a cart holding nothing");
}

static void test_cart_replace(void)
{
    char id[40];
    test_id(id, sizeof id, "cart");
    store_cart_line lines[3], lines2[2];
    store_cart c;
    cart_init(&c, &A, id, "2026-06-02", NOW + 900 * US_PER_SEC, lines, 3);
    store_hold h[] = {test_hold("pool-r", "2026-06-02", 3, 5)};
    CHECK(store_cart_create(S, &c, h, 1) == STORE_OK, "cart_replace setup: cart with 3 seats");

    store_cart r;
    cart_init(&r, &A, id, "2026-06-02", NOW + 1800 * US_PER_SEC, lines2, 2);
    snprintf(lines2[0].product_id, sizeof lines2[0].product_id, "other");
    r.total = 999;
    r.updated_at = NOW + 1;
    store_hold h2[] = {test_hold("pool-r", "2026-06-02", 5, 5)};
    CHECK(store_cart_replace(S, &r, h2, 1) == STORE_OK, "cart_replace: OK (old holds given back first)");
    CHECK(used_of(&A, "pool-r", "2026-06-02") == 5 && holds_of(id) == 5, "cart_replace: used is the new holds only");
    store_cart got;
    CHECK(get_cart(&A, id, &got) == STORE_OK && got.nlines == 2 && !strcmp(got.lines[0].product_id, "other") &&
              !strcmp(got.lines[1].product_id, "prod-01") && got.total == 999 &&
              got.expires_at == NOW + 1800 * US_PER_SEC && !strcmp(got.status, "open"),
          "cart_replace: new lines and fields");
    store_cart_free(&got);

    /* SOLD_OUT keeps the old content and holds */
    store_cart r2;
    store_cart_line lines3[1];
    cart_init(&r2, &A, id, "2026-06-02", NOW + 60 * US_PER_SEC, lines3, 1);
    store_hold h3[] = {test_hold("pool-r", "2026-06-02", 1, 5), test_hold("pool-s", "2026-06-02", 9, 4)};
    CHECK(store_cart_replace(S, &r2, h3, 2) == STORE_SOLD_OUT, "cart_replace: SOLD_OUT");
    CHECK(used_of(&A, "pool-r", "2026-06-02") == 5 && used_of(&A, "pool-s", "2026-06-02") == -1,
          "cart_replace SOLD_OUT: holds unchanged");
    CHECK(get_cart(&A, id, &got) == STORE_OK && got.nlines == 2 && !strcmp(got.lines[0].product_id, "other") &&
              got.total == 999 && got.expires_at == NOW + 1800 * US_PER_SEC,
          "cart_replace SOLD_OUT: old content kept");
    store_cart_free(&got);
    CHECK(holds_of(id) == 5, "cart_replace SOLD_OUT: old holds still recorded");
    /* a replace needing more than the room left besides its own holds */
    store_hold h4[] = {test_hold("pool-r", "2026-06-02", 6, 5)};
    CHECK(store_cart_replace(S, &r2, h4, 1) == STORE_SOLD_OUT, "cart_replace: SOLD_OUT above capacity");
    CHECK(used_of(&A, "pool-r", "2026-06-02") == 5, "cart_replace SOLD_OUT: own holds still held");

    /* NOT_FOUND */
    store_cart ghost;
    cart_init(&ghost, &A, "no-such-cart", "", NOW + 60 * US_PER_SEC, NULL, 0);
    CHECK(store_cart_replace(S, &ghost, NULL, 0) == STORE_NOT_FOUND, "cart_replace: unknown id NOT_FOUND");
    store_cart theirs;
    cart_init(&theirs, &B, id, "2026-06-02", NOW + 60 * US_PER_SEC, NULL, 0);
    CHECK(store_cart_replace(S, &theirs, NULL, 0) == STORE_NOT_FOUND, "cart_replace: another account NOT_FOUND");
    CHECK(used_of(&A, "pool-r", "2026-06-02") == 5, "cart_replace NOT_FOUND: nothing given back");

    /* CONFLICT for a booked cart */
    claim_op op;
    CHECK(claim(&A, id, false, &op) == STORE_OK && !op.was_expired, "cart_claim: OK for an open cart");
    store_cart_free(&op.cart);
    CHECK(get_cart(&A, id, &got) == STORE_OK && !strcmp(got.status, "booked") && !strcmp(got.order_id, op.order_id),
          "cart_claim: booked with the order id");
    store_cart_free(&got);
    CHECK(store_cart_replace(S, &r2, NULL, 0) == STORE_CONFLICT, "cart_replace: booked cart CONFLICT");
    CHECK(store_cart_release(S, A.id, id, NOW) == STORE_CONFLICT, "cart_release: booked cart CONFLICT");
    CHECK(used_of(&A, "pool-r", "2026-06-02") == 5, "booked cart: seats stay taken");
    claim_op op2;
    CHECK(claim(&A, id, false, &op2) == STORE_CONFLICT && !strcmp(op2.cart.order_id, op.order_id),
          "cart_claim: booked cart CONFLICT with its order id");
    store_cart_free(&op2.cart);
    CHECK(claim(&B, id, false, &op2) == STORE_NOT_FOUND, "cart_claim: another account NOT_FOUND");
    store_cart_free(&op2.cart);

    /* CONFLICT for a released cart */
    char id2[40];
    test_id(id2, sizeof id2, "cart");
    cart_init(&c, &A, id2, "2026-06-03", NOW + 900 * US_PER_SEC, lines, 1);
    store_hold h5[] = {test_hold("pool-r", "2026-06-03", 2, 5)};
    CHECK(store_cart_create(S, &c, h5, 1) == STORE_OK && store_cart_release(S, A.id, id2, NOW) == STORE_OK,
          "released cart setup");
    cart_init(&r, &A, id2, "2026-06-03", NOW + 900 * US_PER_SEC, lines, 1);
    CHECK(store_cart_replace(S, &r, h5, 1) == STORE_CONFLICT, "cart_replace: released cart CONFLICT");
    CHECK(used_of(&A, "pool-r", "2026-06-03") == 0, "cart_replace CONFLICT: nothing taken");
    CHECK(claim(&A, id2, false, &op2) == STORE_CONFLICT, "cart_claim: released cart CONFLICT");
    store_cart_free(&op2.cart);
}

static void test_reap(void)
{
    int n = 0;
    /* drain what earlier tests left expired at NOW, so the counts below are ours */
    CHECK(store_carts_reap(S, NOW, 1000000, &n) == STORE_OK, "carts_reap: drain");

    char gone[40], gone2[40], kept[40];
    test_id(gone, sizeof gone, "cart");
    test_id(gone2, sizeof gone2, "cart");
    test_id(kept, sizeof kept, "cart");
    store_cart_line lines[1];
    store_cart c;
    store_hold hg[] = {test_hold("pool-x", "", 2, 4)};
    cart_init(&c, &A, gone, "", NOW - US_PER_SEC, lines, 1);
    CHECK(store_cart_create(S, &c, hg, 1) == STORE_OK, "reap setup: expired cart holding 2");
    store_hold hg2[] = {test_hold("pool-y", "", 1, 1)};
    cart_init(&c, &B, gone2, "", NOW - 2 * US_PER_SEC, lines, 1);
    CHECK(store_cart_create(S, &c, hg2, 1) == STORE_OK, "reap setup: another account's expired cart");
    store_hold hk[] = {test_hold("pool-x", "", 1, 4)};
    cart_init(&c, &A, kept, "", NOW + 3600 * US_PER_SEC, lines, 1);
    CHECK(store_cart_create(S, &c, hk, 1) == STORE_OK, "reap setup: open cart holding 1");
    CHECK(used_of(&A, "pool-x", "") == 3, "reap setup: 3 used");

    CHECK(store_carts_reap(S, NOW, 1, &n) == STORE_OK && n == 1, "carts_reap: limit 1 releases one");
    int n2 = 0;
    CHECK(store_carts_reap(S, NOW, 100, &n2) == STORE_OK && n2 == 1, "carts_reap: then the other");
    CHECK(store_carts_reap(S, NOW, 100, &n2) == STORE_OK && n2 == 0, "carts_reap: then none");
    CHECK(used_of(&A, "pool-x", "") == 1 && used_of(&B, "pool-y", "") == 0,
          "carts_reap: expired holds given back, the open one kept");
    store_cart got;
    CHECK(get_cart(&A, gone, &got) == STORE_OK && !strcmp(got.status, "expired"), "carts_reap: expired cart status");
    store_cart_free(&got);
    CHECK(get_cart(&A, kept, &got) == STORE_OK && !strcmp(got.status, "open"), "carts_reap: open cart untouched");
    store_cart_free(&got);

    /* release of an expired cart gives nothing back twice */
    CHECK(store_cart_release(S, B.id, gone2, NOW) == STORE_OK && used_of(&B, "pool-y", "") == 0,
          "cart_release of a reaped cart: OK, nothing given back again");

    /* replace of a reaped cart takes its new holds */
    store_cart r;
    cart_init(&r, &A, gone, "", NOW + 600 * US_PER_SEC, lines, 1);
    store_hold h3[] = {test_hold("pool-x", "", 3, 4)};
    CHECK(store_cart_replace(S, &r, h3, 1) == STORE_OK, "cart_replace: a reaped cart reopens");
    CHECK(used_of(&A, "pool-x", "") == 4, "cart_replace of a reaped cart: only the new holds taken");
    CHECK(get_cart(&A, gone, &got) == STORE_OK && !strcmp(got.status, "open"), "cart_replace: reopened");
    store_cart_free(&got);

    /* booking an expired cart retakes its seats, or finds them gone */
    char late[40];
    test_id(late, sizeof late, "cart");
    store_hold hl[] = {test_hold("pool-z", "", 2, 2)};
    cart_init(&c, &A, late, "", NOW - US_PER_SEC, lines, 1);
    CHECK(store_cart_create(S, &c, hl, 1) == STORE_OK, "retake setup");
    CHECK(store_carts_reap(S, NOW, 100, &n) == STORE_OK && n == 1 && used_of(&A, "pool-z", "") == 0,
          "retake setup: reaped");
    claim_op op;
    CHECK(claim(&A, late, true, &op) == STORE_OK && op.was_expired, "cart_claim + retake: OK for an expired cart");
    store_cart_free(&op.cart);
    CHECK(used_of(&A, "pool-z", "") == 2, "cart_retake: seats taken again");

    char late2[40], thief[40];
    test_id(late2, sizeof late2, "cart");
    test_id(thief, sizeof thief, "cart");
    store_hold hm[] = {test_hold("pool-w", "", 2, 2)};
    cart_init(&c, &A, late2, "", NOW - US_PER_SEC, lines, 1);
    CHECK(store_cart_create(S, &c, hm, 1) == STORE_OK, "retake sold out setup");
    CHECK(store_carts_reap(S, NOW, 100, &n) == STORE_OK && n == 1, "retake sold out setup: reaped");
    cart_init(&c, &A, thief, "", NOW + 600 * US_PER_SEC, lines, 1);
    CHECK(store_cart_create(S, &c, hm, 1) == STORE_OK, "retake sold out setup: seats taken by another cart");
    CHECK(claim(&A, late2, true, &op) == STORE_SOLD_OUT, "cart_retake: SOLD_OUT when the seats are gone");
    store_cart_free(&op.cart);
    CHECK(get_cart(&A, late2, &got) == STORE_OK && !strcmp(got.status, "expired") && !*got.order_id,
          "cart_retake SOLD_OUT: the claim is rolled back with it");
    store_cart_free(&got);
    CHECK(used_of(&A, "pool-w", "") == 2, "cart_retake SOLD_OUT: used unchanged");
}

/* ---------------- capacity ---------------- */

static void test_inventory(void)
{
    /* scoped by account: the same pool id in two accounts */
    store_hold ha[] = {test_hold("shared", "2026-07-01", 2, 10)};
    store_hold hb[] = {test_hold("shared", "2026-07-01", 4, 10)};
    CHECK(take(&A, ha, 1, false) == STORE_OK && take(&B, hb, 1, false) == STORE_OK, "take: same pool id, two accounts");
    used_sum ua = {0}, ub = {0};
    CHECK(store_inventory_used(S, A.id, "shared", NULL, NULL, add_used, &ua) == STORE_OK && ua.rows == 1 &&
              ua.used == 2,
          "inventory_used: account A sees only its row");
    CHECK(store_inventory_used(S, B.id, "shared", NULL, NULL, add_used, &ub) == STORE_OK && ub.rows == 1 &&
              ub.used == 4,
          "inventory_used: account B sees only its row");
    used_sum none = {0};
    CHECK(store_inventory_used(S, A.id, "no-such-pool", NULL, NULL, add_used, &none) == STORE_OK && none.rows == 0,
          "inventory_used: unknown pool has no rows");

    /* key ranges */
    const char *occs[] = {"", "2026-06-01T09:00", "2026-06-01T10:00", "2026-06-02T09:00"};
    bool ok = true;
    for (int i = 0; i < 4; i++) {
        store_hold h = test_hold("ranged", occs[i], i + 1, 10);
        ok &= take(&A, &h, 1, false) == STORE_OK;
    }
    CHECK(ok, "take: four occurrences");
    used_sum all = {0}, day = {0}, empty = {0};
    CHECK(store_inventory_used(S, A.id, "ranged", NULL, NULL, add_used, &all) == STORE_OK && all.rows == 4 &&
              all.used == 10,
          "inventory_used: every key without bounds");
    CHECK(store_inventory_used(S, A.id, "ranged", "2026-06-01", "2026-06-02", add_used, &day) == STORE_OK &&
              day.rows == 2 && day.used == 5,
          "inventory_used: keys in [from, to)");
    CHECK(store_inventory_used(S, A.id, "ranged", "2026-06-03", "2026-06-04", add_used, &empty) == STORE_OK &&
              empty.rows == 0,
          "inventory_used: empty range");

    /* capacity exactly */
    store_hold four = test_hold("exact", "", 4, 4), one = test_hold("exact", "", 1, 4), three = test_hold("exact", "", 3, 4);
    CHECK(take(&A, &four, 1, false) == STORE_OK && used_of(&A, "exact", "") == 4, "take: exactly the capacity");
    CHECK(take(&A, &one, 1, true) == STORE_SOLD_OUT && used_of(&A, "exact", "") == 4,
          "take: one above capacity SOLD_OUT, nothing taken even when committed");
    CHECK(give_back(&A, &four, 1) == STORE_OK && used_of(&A, "exact", "") == 0, "give_back: all of it");
    CHECK(take(&A, &three, 1, false) == STORE_OK && take(&A, &one, 1, false) == STORE_OK &&
              used_of(&A, "exact", "") == 4,
          "take: 3 then 1 fills it exactly");
    store_hold zero = test_hold("exact", "", 0, 4);
    CHECK(take(&A, &zero, 1, true) == STORE_OK && used_of(&A, "exact", "") == 4, "take: amount 0 takes nothing");
    store_hold big_cap = test_hold("exact", "", 1, 100);
    CHECK(take(&A, &big_cap, 1, true) == STORE_SOLD_OUT && used_of(&A, "exact", "") == 4,
          "take: the row's capacity wins over the hold's");
    store_hold first_big = test_hold("exact", "other", 5, 4);
    CHECK(take(&A, &first_big, 1, false) == STORE_SOLD_OUT && used_of(&A, "exact", "other") == -1,
          "take: a first hold above capacity SOLD_OUT, no row");

    /* re-taking a recorded hold (capacity -1): the row must exist and have room */
    store_hold retake_missing = test_hold("exact", "never", 1, -1);
    CHECK(take(&A, &retake_missing, 1, true) == STORE_SOLD_OUT && used_of(&A, "exact", "never") == -1,
          "take (row's capacity): no row SOLD_OUT");
    store_hold retake_full = test_hold("exact", "", 1, -1);
    CHECK(take(&A, &retake_full, 1, true) == STORE_SOLD_OUT, "take (row's capacity): full SOLD_OUT");
    CHECK(give_back(&A, &one, 1) == STORE_OK && take(&A, &retake_full, 1, false) == STORE_OK &&
              used_of(&A, "exact", "") == 4,
          "take (row's capacity): OK with room");

    /* all or nothing across holds, when the caller rolls back */
    store_hold mixed[] = {test_hold("ranged", "", 1, 10), test_hold("exact", "", 1, 4)};
    CHECK(take(&A, mixed, 2, false) == STORE_SOLD_OUT, "take: SOLD_OUT when any hold lacks room");
    CHECK(used_of(&A, "ranged", "") == 1 && used_of(&A, "exact", "") == 4, "take SOLD_OUT rolled back: nothing taken");

    /* give back never below zero */
    store_hold too_much = test_hold("ranged", "", 2, 10);
    CHECK(give_back(&A, &too_much, 1) != STORE_OK && used_of(&A, "ranged", "") == 1,
          "give_back: more than used is refused, used unchanged");
    /* give back is scoped by account */
    store_hold b_shared = test_hold("shared", "2026-07-01", 2, 10);
    CHECK(give_back(&A, &b_shared, 1) == STORE_OK && used_of(&A, "shared", "2026-07-01") == 0 &&
              used_of(&B, "shared", "2026-07-01") == 4,
          "give_back: only the account's own row");

    /* set capacity */
    CHECK(set_capacity(&A, "exact", 10) == STORE_OK, "set_capacity: raise");
    store_hold six = test_hold("exact", "", 6, 10);
    CHECK(take(&A, &six, 1, false) == STORE_OK && used_of(&A, "exact", "") == 10, "set_capacity: new room usable");
    CHECK(set_capacity(&A, "exact", 9) == STORE_CONFLICT, "set_capacity: below used CONFLICT");
    CHECK(take(&A, &retake_full, 1, true) == STORE_SOLD_OUT, "set_capacity CONFLICT: capacity unchanged (still 10)");
    CHECK(set_capacity(&A, "exact", 10) == STORE_OK, "set_capacity: equal to used OK");
    CHECK(give_back(&A, &six, 1) == STORE_OK && set_capacity(&A, "exact", 4) == STORE_OK &&
              take(&A, &retake_full, 1, true) == STORE_SOLD_OUT,
          "set_capacity: lower to used");
    CHECK(set_capacity(&A, "no-such-pool", 1) == STORE_OK, "set_capacity: pool never counted is OK");
    CHECK(set_capacity(&A, "shared", 0) == STORE_OK && set_capacity(&B, "shared", 3) == STORE_CONFLICT,
          "set_capacity: scoped by account");
    store_hold b_more = test_hold("shared", "2026-07-01", 6, 10);
    CHECK(take(&B, &b_more, 1, false) == STORE_OK && used_of(&B, "shared", "2026-07-01") == 10,
          "set_capacity on A's pool leaves B's capacity");
}

typedef struct {
    const char *a, *b;
    int64_t bad;
} invariant_op;

static db_status invariant_fn(db_conn *c, void *arg)
{
    invariant_op *op = arg;
    return db_query_int(c,
                        "SELECT COUNT(*) FROM inventory WHERE account_id IN (?, ?) AND (used < 0 OR used > capacity)",
                        DB_ARGS(DB_TEXT(op->a), DB_TEXT(op->b)), &op->bad);
}

/* ---------------- counters and voucher codes ---------------- */

typedef struct {
    const account *a;
    const char *name;
    int n;
    int64_t values[4];
    store_status out;
} counter_op;

static db_status counter_fn(db_conn *c, void *arg)
{
    counter_op *op = arg;
    for (int i = 0; i < op->n; i++) {
        op->out = store_counter_next(c, op->a->id, op->name, &op->values[i]);
        if (op->out != STORE_OK) return store_db_status(op->out);
    }
    return DB_OK;
}

static void test_counters(void)
{
    counter_op a1 = {&A, "orders", 2, {0}, STORE_ERROR};
    CHECK(store_write(S, counter_fn, &a1) == DB_OK && a1.values[0] == 1 && a1.values[1] == 2,
          "counter_next: 1 then 2 in one transaction");
    counter_op a2 = {&A, "orders", 1, {0}, STORE_ERROR};
    CHECK(store_write(S, counter_fn, &a2) == DB_OK && a2.values[0] == 3, "counter_next: 3 in the next");
    counter_op a3 = {&A, "invoices", 1, {0}, STORE_ERROR};
    CHECK(store_write(S, counter_fn, &a3) == DB_OK && a3.values[0] == 1, "counter_next: per name");
    counter_op b1 = {&B, "orders", 1, {0}, STORE_ERROR};
    CHECK(store_write(S, counter_fn, &b1) == DB_OK && b1.values[0] == 1, "counter_next: per account");
}

typedef struct {
    const account *a;
    const char *code;
    char id[48];
    money remaining;
} code_insert;

static db_status code_insert_fn(db_conn *c, void *arg)
{
    code_insert *ci = arg;
    return db_exec(c,
                   "INSERT INTO voucher_codes (id, account_id, voucher_id, code, remaining, status, created_at, updated_at)"
                   " VALUES (?, ?, 'v-1', ?, ?, 'available', ?, ?)",
                   DB_ARGS(DB_TEXT(ci->id), DB_TEXT(ci->a->id), DB_TEXT(ci->code), DB_INT(ci->remaining), DB_INT(NOW),
                           DB_INT(NOW)),
                   NULL);
}

typedef struct {
    const account *a;
    const char *code;
    money spend[3];
    int nspend;
    store_voucher_code found;
    store_status find, spent[3];
} voucher_op;

/* Finds the code, then spends each amount against what was found. */
static db_status voucher_fn(db_conn *c, void *arg)
{
    voucher_op *op = arg;
    memset(&op->found, 0, sizeof op->found);
    op->find = store_voucher_code_find(c, op->a->id, op->code, &op->found);
    if (op->find != STORE_OK) return DB_OK;
    for (int i = 0; i < op->nspend; i++) {
        op->spent[i] = store_voucher_code_spend(c, op->found.id, op->spend[i], NOW);
        if (op->spent[i] != STORE_OK && op->spent[i] != STORE_RETRY) return store_db_status(op->spent[i]);
    }
    return DB_OK; /* commit what went through, to check it afterwards */
}

static voucher_op voucher(const account *a, const char *code, int n, money s0, money s1)
{
    voucher_op op = {.a = a, .code = code, .spend = {s0, s1}, .nspend = n, .find = STORE_ERROR};
    if (store_write(S, voucher_fn, &op) != DB_OK) op.find = STORE_ERROR;
    return op;
}

/* ---- a ticket's pools: written in its row, read back with its state (what
 * a cancel or void gives back) ---- */

typedef struct {
    store_status insert, get, get_other, get_missing, live;
    size_t npools[3], live_n, live_pools;
    int64_t amount_p2;
} pools_op;

static db_status pools_fn(db_conn *c, void *arg)
{
    pools_op *x = arg;
    store_hold pools[2] = {{.pool_id = "pp-b", .occurrence = "2026-11-24", .amount = 2},
                           {.pool_id = "pp-a", .occurrence = "", .amount = 1}};
    store_ticket t[3] = {0};
    for (int i = 0; i < 3; i++) {
        t[i] = (store_ticket){.order_id = "po-1", .line_id = i < 2 ? "pl-1" : "pl-2", .product_id = "p",
                              .occurrence = "2026-11-24", .status = "valid", .scan_limit = "once", .scan_times = 1,
                              .max_scans = -1, .time_duration = -1, .doc = "{}"};
        snprintf(t[i].id, sizeof t[i].id, "pt-%c", '0' + i);
        snprintf(t[i].barcode, sizeof t[i].barcode, "9900000000000000000%c", '0' + i);
    }
    t[0].pools = t[1].pools = pools; /* one line: one array, encoded once */
    t[0].npools = t[1].npools = 2;
    x->insert = store_tickets_insert(c, A.id, t, 3, NOW);
    for (int i = 0; i < 3 && x->insert == STORE_OK; i++) {
        store_ticket_state st;
        x->get = store_ticket_state_get(c, A.id, t[i].id, &st);
        x->npools[i] = st.npools;
        if (i == 0 && st.npools == 2) x->amount_p2 = !strcmp(st.pools[0].pool_id, "pp-b") ? st.pools[0].amount : -1;
        store_ticket_state_free(&st);
    }
    store_ticket_state other;
    x->get_other = store_ticket_state_get(c, B.id, "pt-0", &other);
    store_ticket_state_free(&other);
    store_ticket_state missing;
    x->get_missing = store_ticket_state_get(c, A.id, "pt-none", &missing);
    store_ticket_state_free(&missing);
    store_ticket_state *live;
    x->live = store_order_live_tickets(c, A.id, "po-1", &live, &x->live_n);
    for (size_t i = 0; x->live == STORE_OK && i < x->live_n; i++) x->live_pools += live[i].npools;
    if (x->live == STORE_OK) store_ticket_states_free(live, x->live_n);
    return DB_ABORT; /* leaves nothing behind */
}

/* Migration 7's backfill against a temporary tickets table (it shadows the
 * real one in this transaction, which is rolled back). */
typedef struct {
    size_t n[3];
    store_hold h[2];
} backfill_op;

static db_status pools_backfill_fn(db_conn *c, void *arg)
{
    backfill_op *x = arg;
    const migration *m = NULL;
    for (size_t i = 0; i < migrations_count; i++)
        if (migrations[i].version == 7) m = &migrations[i];
    if (!m) return DB_ERROR;
    db_status st = db_exec_script(
        c, "CREATE TEMP TABLE tickets (id TEXT, account_id TEXT, doc TEXT NOT NULL, pools TEXT NOT NULL DEFAULT '');"
           "INSERT INTO tickets (id, account_id, doc) VALUES ('t1', 'a', '{\"pools\":[{\"pool_id\":\"p%\","
           "\"occurrence\":\"d\",\"amount\":3},{\"pool_id\":\"q\"}]}');"
           "INSERT INTO tickets (id, account_id, doc) VALUES ('t2', 'a', '{}');"
           "INSERT INTO tickets (id, account_id, doc) VALUES ('t3', 'a', '{\"pools\":[]}')");
    char *sql = migration_sql(m, db_conn_dialect(c));
    const char *backfill = strstr(sql, "UPDATE tickets SET pools"); /* the column exists: only the backfill */
    if (st == DB_OK) st = backfill ? db_exec_script(c, backfill) : DB_ERROR;
    free(sql);
    for (int i = 0; i < 3 && st == DB_OK; i++) {
        char id[16], *text = NULL;
        snprintf(id, sizeof id, "t%d", i + 1);
        st = db_query_text(c, "SELECT pools FROM tickets WHERE id = ?", DB_ARGS(DB_TEXT(id)), &text);
        store_hold *h = NULL;
        if (st == DB_OK && !store_holds_decode(text, &h, &x->n[i])) st = DB_ERROR;
        if (st == DB_OK && i == 0 && x->n[0] == 2) memcpy(x->h, h, sizeof x->h);
        free(h);
        free(text);
    }
    return st == DB_OK ? DB_ABORT : st;
}

static void test_ticket_pools(void)
{
    pools_op x = {0};
    CHECK(store_write(S, pools_fn, &x) == DB_ABORT && x.insert == STORE_OK, "tickets inserted with their pools");
    CHECK(x.get == STORE_OK && x.npools[0] == 2 && x.npools[1] == 2 && x.npools[2] == 0,
          "each ticket reads its line's pools (none for a line without)");
    CHECK(x.amount_p2 == 2, "pools read in the order given, with their amounts");
    CHECK(x.get_other == STORE_NOT_FOUND && x.get_missing == STORE_NOT_FOUND,
          "another account's or an unknown ticket: STORE_NOT_FOUND");
    CHECK(x.live == STORE_OK && x.live_n == 3 && x.live_pools == 4, "an order's live tickets carry their pools");
    backfill_op b = {0};
    CHECK(store_write(S, pools_backfill_fn, &b) == DB_ABORT && b.n[0] == 2 && b.n[1] == 0 && b.n[2] == 0,
          "migration 7 fills each ticket's pools from its doc (none without)");
    CHECK(!strcmp(b.h[0].pool_id, "p%") && !strcmp(b.h[0].occurrence, "d") && b.h[0].amount == 3 &&
              !strcmp(b.h[1].pool_id, "q") && !strcmp(b.h[1].occurrence, "") && b.h[1].amount == 1,
          "migration 7 keeps ids (escaped), occurrences and amounts (1 when absent)");
}

static void test_vouchers(void)
{
    char code[40];
    code_insert ci = {.a = &A, .remaining = 1000};
    test_id(ci.id, sizeof ci.id, "vc");
    test_id(code, sizeof code, "GIFT");
    ci.code = code;
    CHECK(store_write(S, code_insert_fn, &ci) == DB_OK, "voucher code setup");

    voucher_op op = voucher(&A, code, 0, 0, 0);
    CHECK(op.find == STORE_OK && !strcmp(op.found.id, ci.id) && !strcmp(op.found.voucher_id, "v-1") &&
              op.found.remaining == 1000 && op.found.available,
          "voucher_code_find: OK with id, voucher, remaining, available");
    op = voucher(&B, code, 0, 0, 0);
    CHECK(op.find == STORE_NOT_FOUND, "voucher_code_find: another account NOT_FOUND");
    op = voucher(&A, "NO-SUCH-CODE", 0, 0, 0);
    CHECK(op.find == STORE_NOT_FOUND, "voucher_code_find: unknown code NOT_FOUND");

    op = voucher(&A, code, 1, 600, 0);
    CHECK(op.find == STORE_OK && op.spent[0] == STORE_OK, "voucher_code_spend: OK");
    op = voucher(&A, code, 0, 0, 0);
    CHECK(op.found.remaining == 400 && op.found.available, "voucher_code_spend: remaining 400, still available");

    /* two orders found 400 left; the first spends 300, the second's 300 no longer fits */
    op = voucher(&A, code, 2, 300, 300);
    CHECK(op.found.remaining == 400 && op.spent[0] == STORE_OK && op.spent[1] == STORE_RETRY,
          "voucher_code_spend: RETRY when spent concurrently");
    op = voucher(&A, code, 0, 0, 0);
    CHECK(op.found.remaining == 100, "voucher_code_spend RETRY: nothing spent by the loser");

    op = voucher(&A, code, 1, 101, 0);
    CHECK(op.spent[0] == STORE_RETRY, "voucher_code_spend: more than remaining RETRY");
    op = voucher(&A, code, 2, 100, 1);
    CHECK(op.spent[0] == STORE_OK && op.spent[1] == STORE_RETRY, "voucher_code_spend: the rest, then nothing");
    op = voucher(&A, code, 0, 0, 0);
    CHECK(op.found.remaining == 0 && !op.found.available, "voucher_code_spend: used up -> not available");
    op = voucher(&A, code, 1, 0, 0);
    CHECK(op.spent[0] == STORE_RETRY, "voucher_code_spend: a used code RETRY even for 0");
}

/* ---------------- change notes (store_inventory_touched, the change hook) ---------------- */

typedef struct {
    int n;
    char account[8][40];
    char occurrence[8][64];
} notes;

static void note_change(void *arg, const char *account_id, const char *occurrence)
{
    notes *t = arg;
    if (t->n < 8) {
        snprintf(t->account[t->n], sizeof t->account[t->n], "%s", account_id);
        snprintf(t->occurrence[t->n], sizeof t->occurrence[t->n], "%s", occurrence);
    }
    t->n++;
}

/* Runs last: it takes the engine's hook away (test_finish closes the engine anyway). */
static void test_change_notes(void)
{
    notes t = {0};
    store_set_change_hook(S, note_change, &t);
    store_hold two[] = {test_hold("noted", "2026-08-01T10:00", 1, 10), test_hold("noted", "2026-08-02", 2, 10)};
    CHECK(take(&A, two, 2, false) == STORE_OK && t.n == 2 && !strcmp(t.account[0], A.id) &&
              !strcmp(t.occurrence[0], "2026-08-01T10:00") && !strcmp(t.occurrence[1], "2026-08-02"),
          "change hook: a committed take reports each (account, occurrence) once it committed");
    t.n = 0;
    store_hold again[] = {test_hold("noted", "2026-08-01T10:00", 1, 10), test_hold("noted", "2026-08-01T10:00", 1, 10)};
    CHECK(take(&A, again, 2, false) == STORE_OK && t.n == 1, "change hook: the same occurrence twice in one transaction is one note");
    t.n = 0;
    store_hold partly[] = {test_hold("noted", "2026-08-03", 1, 10), test_hold("noted", "2026-08-04", 11, 10)};
    CHECK(take(&A, partly, 2, false) == STORE_SOLD_OUT && t.n == 0 && used_of(&A, "noted", "2026-08-03") == -1,
          "change hook: a transaction rolled back after a first take reports nothing");
    store_hold one_b = test_hold("noted-b", "", 1, 10);
    CHECK(take(&B, &one_b, 1, false) == STORE_OK, "take: one seat of B to give back");
    t.n = 0;
    CHECK(give_back(&B, &one_b, 1) == STORE_OK && t.n == 1 &&
              !strcmp(t.account[0], B.id) && !strcmp(t.occurrence[0], ""),
          "change hook: a give back reports too, with its account");
    store_set_change_hook(S, NULL, NULL);
    t.n = 0;
    CHECK(take(&A, two, 1, false) == STORE_OK && t.n == 0, "change hook: none set, nothing reported");
}

int main(void)
{
    test_server_key(5);
    char path[128];
    const char *uri = test_db_uri("sales-store", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    CHECK(test_account(E, "ss", "Sales", &A), "account A");
    CHECK(test_account(E, "st", "Other", &B), "account B");
    NOW = clock_now();

    test_cart_create();
    test_cart_replace();
    test_reap();
    test_inventory();
    test_counters();
    test_vouchers();
    test_ticket_pools();
    test_change_notes();
    invariant_op inv = {A.id, B.id, -1};
    CHECK(store_read(S, invariant_fn, &inv) == DB_OK && inv.bad == 0, "no inventory row outside 0..capacity");

    return test_finish(E, S, uri, path);
}
