/* SQL of the sales path (see sales.h). Capacity is one conditional upsert per
 * pool and occurrence, backed by CHECK (used <= capacity); rows are keyed by
 * (account_id, pool_id, occurrence), so no account can reach another's seats. */
#include "store/sales.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

void store_cart_free(store_cart *c)
{
    if (!c) return;
    free(c->external_id);
    free(c->extras);
    free(c->customer);
    free(c->lines);
    c->external_id = c->extras = c->customer = NULL;
    c->lines = NULL;
    c->nlines = 0;
}

#define ROWS_PER_INSERT 16

/* ---------------- capacity ---------------- */

/* PostgreSQL keeps a pool occurrence's seats in several sub-rows and takes or
 * gives back through migration 10's functions, one call for all of a cart's
 * holds; SQLite keeps one row and runs one conditional upsert per hold. */
static bool sub_rows(db_conn *c) { return db_conn_dialect(c) == DB_DIALECT_POSTGRES; }

/* PostgreSQL: a row read FOR UPDATE stays as read until the commit, and
 * writes whose result is not needed ride in the next round trip; SQLite's
 * single writer needs neither. */
static bool row_locks(db_conn *c) { return db_conn_dialect(c) == DB_DIALECT_POSTGRES; }

static int inventory_shards(db_conn *c)
{
    int n = ((struct db_conn_header *)c)->inventory_shards;
    return n > 1 ? n : 1;
}

/* A PostgreSQL array literal: {"a","b"} with '"' and '\' escaped (texts), or
 * {1,2} (numbers). A cart's few holds fit in `inline_text`, so a hold
 * allocates nothing for them; longer ones move to the heap. */
typedef struct {
    char *text;
    size_t len, cap;
    char inline_text[128];
} array_literal;

static void array_put(array_literal *a, const char *s, size_t n)
{
    if (!a->text) {
        a->text = a->inline_text;
        a->cap = sizeof a->inline_text;
    }
    if (a->len + n + 2 > a->cap) {
        size_t cap = a->cap;
        while (a->len + n + 2 > cap) cap *= 2;
        a->text = a->text == a->inline_text ? memcpy(malloc(cap), a->inline_text, a->len + 1) : realloc(a->text, cap);
        a->cap = cap;
    }
    memcpy(a->text + a->len, s, n);
    a->len += n;
    a->text[a->len] = 0;
}

static void array_text(array_literal *a, const char *s)
{
    array_put(a, a->len > 1 ? ",\"" : "\"", a->len > 1 ? 2 : 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') array_put(a, "\\", 1);
        array_put(a, s, 1);
    }
    array_put(a, "\"", 1);
}

static void array_int(array_literal *a, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%s%lld", a->len > 1 ? "," : "", (long long)v);
    array_put(a, num, (size_t)n);
}

/* The holds as the functions' array arguments. */
typedef struct {
    array_literal pools, occurrences, capacities, amounts;
} hold_arrays;

static void hold_arrays_make(hold_arrays *h, const store_hold *holds, size_t n)
{
    memset(h, 0, sizeof *h);
    array_literal *all[] = {&h->pools, &h->occurrences, &h->capacities, &h->amounts};
    for (size_t k = 0; k < 4; k++) array_put(all[k], "{", 1);
    for (size_t i = 0; i < n; i++) {
        array_text(&h->pools, holds[i].pool_id);
        array_text(&h->occurrences, holds[i].occurrence);
        array_int(&h->capacities, holds[i].capacity);
        array_int(&h->amounts, holds[i].amount);
    }
    for (size_t k = 0; k < 4; k++) array_put(all[k], "}", 1);
}

static void hold_arrays_free(hold_arrays *h)
{
    array_literal *all[] = {&h->pools, &h->occurrences, &h->capacities, &h->amounts};
    for (size_t k = 0; k < 4; k++)
        if (all[k]->text != all[k]->inline_text) free(all[k]->text);
}

#define TAKE_SQL                                                                                                   \
    "SELECT bo_inventory_take(?, CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BIGINT[]), CAST(? AS BIGINT[]),"  \
    " CAST(? AS INTEGER))"
#define GIVE_BACK_SQL                                                                                              \
    "SELECT bo_inventory_give_back(?, CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS BIGINT[]))"

/* Takes the holds on PostgreSQL; deferred: as the transaction's last step,
 * sent with the COMMIT, its outcome landing in *outcome (DB_CONFLICT: sold out). */
static db_status take_sub_rows(db_conn *c, const char *account_id, const store_hold *holds, size_t n, bool deferred,
                               db_status *outcome)
{
    hold_arrays h;
    hold_arrays_make(&h, holds, n);
    const db_param args[] = {DB_TEXT(account_id),    DB_TEXT(h.pools.text),   DB_TEXT(h.occurrences.text),
                             DB_TEXT(h.capacities.text), DB_TEXT(h.amounts.text), DB_INT(inventory_shards(c))};
    db_status st = deferred ? db_exec_deferred(c, TAKE_SQL, args, 6, DB_CONFLICT, outcome)
                            : db_exec(c, TAKE_SQL, args, 6, NULL);
    hold_arrays_free(&h);
    return st;
}

static db_status give_back_sub_rows(db_conn *c, const char *account_id, const store_hold *holds, size_t n,
                                    bool deferred)
{
    hold_arrays h;
    hold_arrays_make(&h, holds, n);
    const db_param args[] = {DB_TEXT(account_id), DB_TEXT(h.pools.text), DB_TEXT(h.occurrences.text),
                             DB_TEXT(h.amounts.text)};
    db_status st = deferred ? db_exec_deferred(c, GIVE_BACK_SQL, args, 4, DB_CONFLICT, NULL)
                            : db_exec(c, GIVE_BACK_SQL, args, 4, NULL);
    hold_arrays_free(&h);
    return st;
}

/* Notes the holds' occurrences as changed by the transaction (reported only if it commits). */
static void touch_all(db_conn *c, const char *account_id, const store_hold *holds, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (holds[i].amount > 0) store_inventory_touched(c, account_id, holds[i].occurrence);
}

store_status store_inventory_take(db_conn *c, const char *account_id, const store_hold *holds, size_t n)
{
    if (sub_rows(c)) {
        db_status st = take_sub_rows(c, account_id, holds, n, false, NULL);
        if (st == DB_OK) touch_all(c, account_id, holds, n);
        return st == DB_CONFLICT ? STORE_SOLD_OUT : store_status_of(st);
    }
    for (size_t i = 0; i < n; i++) {
        const store_hold *h = &holds[i];
        if (h->amount <= 0) continue;
        int64_t changes = 0;
        db_status st;
        if (h->capacity < 0)
            st = db_exec(c,
                         "UPDATE inventory SET used = used + ? WHERE account_id = ? AND pool_id = ? AND occurrence = ?"
                         " AND used + ? <= capacity",
                         DB_ARGS(DB_INT(h->amount), DB_TEXT(account_id), DB_TEXT(h->pool_id), DB_TEXT(h->occurrence),
                                 DB_INT(h->amount)),
                         &changes);
        else /* one round trip: create the row on first use, else add if it fits */
            st = db_exec(c,
                         "INSERT INTO inventory (account_id, pool_id, occurrence, capacity, used) VALUES (?, ?, ?, ?, ?)"
                         " ON CONFLICT (account_id, pool_id, occurrence) DO UPDATE SET used = inventory.used +"
                         " excluded.used WHERE inventory.used + excluded.used <= inventory.capacity",
                         DB_ARGS(DB_TEXT(account_id), DB_TEXT(h->pool_id), DB_TEXT(h->occurrence),
                                 DB_INT(h->capacity), DB_INT(h->amount)),
                         &changes);
        if (st == DB_CONFLICT) return STORE_SOLD_OUT; /* CHECK: a first hold larger than capacity */
        if (st != DB_OK) return store_status_of(st);
        if (changes == 0) return STORE_SOLD_OUT;
        store_inventory_touched(c, account_id, h->occurrence);
    }
    return STORE_OK;
}

/* store_inventory_take as a transaction's last step: on PostgreSQL it rides
 * with the COMMIT (the hot row's lock is then held for the commit alone), and
 * *outcome says after the commit whether it was sold out (DB_CONFLICT). */
static store_status take_last(db_conn *c, const char *account_id, const store_hold *holds, size_t n,
                              db_status *outcome)
{
    *outcome = DB_OK;
    if (!sub_rows(c)) {
        store_status ss = store_inventory_take(c, account_id, holds, n);
        if (ss == STORE_SOLD_OUT) *outcome = DB_CONFLICT;
        return ss;
    }
    touch_all(c, account_id, holds, n); /* the take runs with the commit: a failed one reports nothing */
    return store_status_of(take_sub_rows(c, account_id, holds, n, true, outcome));
}

static store_status give_back(db_conn *c, const char *account_id, const store_hold *holds, size_t n, bool deferred)
{
    if (sub_rows(c)) {
        touch_all(c, account_id, holds, n);
        return store_status_of(give_back_sub_rows(c, account_id, holds, n, deferred));
    }
    for (size_t i = 0; i < n; i++) {
        db_status st = db_exec(c,
                               "UPDATE inventory SET used = used - ? WHERE account_id = ? AND pool_id = ?"
                               " AND occurrence = ?",
                               DB_ARGS(DB_INT(holds[i].amount), DB_TEXT(account_id), DB_TEXT(holds[i].pool_id),
                                       DB_TEXT(holds[i].occurrence)),
                               NULL);
        if (st != DB_OK) return store_status_of(st);
        store_inventory_touched(c, account_id, holds[i].occurrence);
    }
    return STORE_OK;
}

store_status store_inventory_give_back(db_conn *c, const char *account_id, const store_hold *holds, size_t n)
{
    return give_back(c, account_id, holds, n, false);
}

store_status store_inventory_set_capacity(db_conn *c, const char *account_id, const char *pool_id, int64_t capacity)
{
    if (sub_rows(c)) /* spread over the sub-rows, each keeping what it holds */
        return store_status_of(db_exec(c, "SELECT bo_inventory_set_capacity(?, ?, CAST(? AS BIGINT))",
                                       DB_ARGS(DB_TEXT(account_id), DB_TEXT(pool_id), DB_INT(capacity)), NULL));
    return store_status_of(db_exec(c, "UPDATE inventory SET capacity = ? WHERE account_id = ? AND pool_id = ?",
                           DB_ARGS(DB_INT(capacity), DB_TEXT(account_id), DB_TEXT(pool_id)), NULL));
}

store_status store_inventory_pool_in_use(db_conn *c, const char *account_id, const char *pool_id, bool *in_use)
{
    db_rows *r;
    db_status st = db_query(c, "SELECT 1 FROM inventory WHERE account_id = ? AND pool_id = ? AND used > 0 LIMIT 1",
                            DB_ARGS(DB_TEXT(account_id), DB_TEXT(pool_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    *in_use = db_next(r);
    db_rows_free(r);
    return STORE_OK;
}

typedef struct {
    const char *account_id, *pool_id, *from_key, *to_key;
    void (*fn)(void *ctx, const char *occurrence, int64_t used);
    void *ctx;
} used_read;

static db_status read_used(db_conn *c, void *arg)
{
    used_read *u = arg;
    db_rows *r;
    db_status st =
        u->from_key ? db_query(c,
                               "SELECT occurrence, SUM(used) FROM inventory WHERE account_id = ? AND pool_id = ?"
                               " AND occurrence >= ? AND occurrence < ? GROUP BY occurrence",
                               DB_ARGS(DB_TEXT(u->account_id), DB_TEXT(u->pool_id), DB_TEXT(u->from_key),
                                       DB_TEXT(u->to_key)),
                               &r)
                    : db_query(c,
                               "SELECT occurrence, SUM(used) FROM inventory WHERE account_id = ? AND pool_id = ?"
                               " GROUP BY occurrence",
                               DB_ARGS(DB_TEXT(u->account_id), DB_TEXT(u->pool_id)), &r);
    if (st != DB_OK) return st;
    while (db_next(r)) u->fn(u->ctx, db_text(r, 0), db_int(r, 1));
    db_rows_free(r);
    return DB_OK;
}

store_status store_inventory_used(store *s, const char *account_id, const char *pool_id, const char *from_key,
                                  const char *to_key, void (*fn)(void *ctx, const char *occurrence, int64_t used),
                                  void *ctx)
{
    used_read u = {account_id, pool_id, from_key, to_key, fn, ctx};
    return store_status_of(store_read(s, read_used, &u));
}

/* ---------------- carts ---------------- */

/* Lines and holds travel in the cart's row as text: records end with '\n',
 * fields end with '\t', and ids escape '%', tab and newline as %XX. One row
 * per cart keeps a hold to one B-tree insert and a booking to one read. */
static void put_text(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        while (*len + n + 1 > *cap) *cap = *cap ? *cap * 2 : 256;
        *buf = realloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
}

static void put_id(char **buf, size_t *len, size_t *cap, const char *id, char end)
{
    for (const char *p = id; *p; p++) {
        if (*p == '%' || *p == '\t' || *p == '\n') {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", (unsigned char)*p);
            put_text(buf, len, cap, esc, 3);
        } else {
            put_text(buf, len, cap, p, 1);
        }
    }
    put_text(buf, len, cap, &end, 1);
}

static void put_int(char **buf, size_t *len, size_t *cap, int64_t v, char end)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%lld%c", (long long)v, end);
    put_text(buf, len, cap, num, (size_t)n);
}

/* Reads one field ending at `end` into out (unescaping); advances *p. */
static bool get_id(const char **p, char end, char *out, size_t outlen)
{
    size_t k = 0;
    const char *s = *p;
    for (; *s && *s != end; s++) {
        char ch = *s;
        if (ch == '%' && s[1] && s[2]) {
            char hex[3] = {s[1], s[2], 0};
            ch = (char)strtol(hex, NULL, 16);
            s += 2;
        }
        if (k + 1 < outlen) out[k++] = ch;
    }
    out[k] = 0;
    if (*s != end) return false;
    *p = s + 1;
    return true;
}

static bool get_int(const char **p, char end, int64_t *out)
{
    char *stop;
    *out = strtoll(*p, &stop, 10);
    if (*stop != end) return false;
    *p = stop + 1;
    return true;
}

static char *encode_lines(const store_cart_line *lines, size_t n)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    put_text(&buf, &len, &cap, "", 0);
    for (size_t i = 0; i < n; i++) {
        put_id(&buf, &len, &cap, lines[i].product_id, '\t');
        put_int(&buf, &len, &cap, lines[i].quantity, '\t');
        put_int(&buf, &len, &cap, lines[i].unit_price, '\t');
        put_int(&buf, &len, &cap, lines[i].gate_price, '\t');
        put_int(&buf, &len, &cap, lines[i].booking_fee, lines[i].noptions ? '\t' : '\n');
        /* options follow as (id, quantity, price) triples; a line without any reads as before */
        for (size_t k = 0; k < lines[i].noptions; k++) {
            const store_cart_option *o = &lines[i].options[k];
            put_id(&buf, &len, &cap, o->option_id, '\t');
            put_int(&buf, &len, &cap, o->quantity, '\t');
            put_int(&buf, &len, &cap, o->unit_price, k + 1 < lines[i].noptions ? '\t' : '\n');
        }
    }
    return buf;
}

/* The options after a line's booking fee, up to the record's end. */
static bool decode_options(const char **text, store_cart_line *l)
{
    for (;;) {
        if (l->noptions >= STORE_LINE_OPTIONS_MAX) return false;
        store_cart_option *o = &l->options[l->noptions++];
        if (!get_id(text, '\t', o->option_id, sizeof o->option_id) || !get_int(text, '\t', &o->quantity))
            return false;
        if (get_int(text, '\n', &o->unit_price)) return true;
        if (!get_int(text, '\t', &o->unit_price)) return false;
    }
}

char *store_holds_encode(const store_hold *holds, size_t n)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    put_text(&buf, &len, &cap, "", 0);
    for (size_t i = 0; i < n; i++) {
        put_id(&buf, &len, &cap, holds[i].pool_id, '\t');
        put_id(&buf, &len, &cap, holds[i].occurrence, '\t');
        put_int(&buf, &len, &cap, holds[i].amount, '\n');
    }
    return buf;
}

static size_t count_records(const char *text)
{
    size_t n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

static bool decode_lines(const char *text, store_cart *out)
{
    size_t n = count_records(text);
    out->lines = n ? calloc(n, sizeof *out->lines) : NULL;
    for (out->nlines = 0; out->nlines < n; out->nlines++) {
        store_cart_line *l = &out->lines[out->nlines];
        if (!get_id(&text, '\t', l->product_id, sizeof l->product_id) || !get_int(&text, '\t', &l->quantity) ||
            !get_int(&text, '\t', &l->unit_price))
            return false;
        /* a line held before carts recorded booking fees ends at its gate price */
        if (get_int(&text, '\n', &l->gate_price)) continue;
        if (!get_int(&text, '\t', &l->gate_price)) return false;
        if (get_int(&text, '\n', &l->booking_fee)) continue;
        if (!get_int(&text, '\t', &l->booking_fee) || !decode_options(&text, l)) return false;
    }
    return true;
}

bool store_cart_lines_decode(const char *text, store_cart *out) { return decode_lines(text, out); }

bool store_holds_decode(const char *text, store_hold **out, size_t *n)
{
    *n = count_records(text);
    *out = *n ? calloc(*n, sizeof **out) : NULL;
    for (size_t i = 0; i < *n; i++) {
        store_hold *h = &(*out)[i];
        h->capacity = -1;
        if (!get_id(&text, '\t', h->pool_id, sizeof h->pool_id) ||
            !get_id(&text, '\t', h->occurrence, sizeof h->occurrence) || !get_int(&text, '\n', &h->amount))
            return false;
    }
    return true;
}

static db_status load_holds(db_conn *c, const char *account_id, const char *cart_id, store_hold **out, size_t *n)
{
    char *text = NULL;
    db_status st = db_query_text(c, "SELECT holds FROM carts WHERE id = ? AND account_id = ?",
                                 DB_ARGS(DB_TEXT(cart_id), DB_TEXT(account_id)), &text);
    if (st != DB_OK) return st;
    bool ok = store_holds_decode(text, out, n);
    free(text);
    return ok ? DB_OK : DB_ERROR;
}

/* Gives back what an open cart holds (an expired cart already did). */
static store_status release_holds(db_conn *c, const char *account_id, const char *cart_id)
{
    store_hold *holds;
    size_t n;
    db_status st = load_holds(c, account_id, cart_id, &holds, &n);
    if (st != DB_OK) return store_status_of(st);
    store_status ss = store_inventory_give_back(c, account_id, holds, n);
    free(holds);
    return ss;
}

typedef struct {
    const store_cart *cart;
    const store_hold *holds;
    size_t nholds;
    char *lines_text, *holds_text; /* encoded outside the transaction: the writer thread is the bottleneck */
    const char *account_id, *cart_id;
    instant_us now;
    store_status outcome;
    db_status take_outcome; /* the seats' take, known after the commit (DB_CONFLICT: sold out) */
    bool take_now;          /* a step of someone else's transaction: take at once (outcome known on return) */
} cart_write;

static db_param opt_int(bool present, int64_t v) { return present ? DB_INT(v) : DB_NULL; }

static db_status cart_insert(db_conn *c, void *arg)
{
    cart_write *w = arg;
    const store_cart *k = w->cart;
    db_status st = db_exec_deferred(
        c,
        "INSERT INTO carts (id, account_id, status, channel, occurrence, category_id, day, start_time, end_time,"
        " starts_at, ends_at, external_id, extras, customer, priced, price_includes_tax, total, currency, expires_at,"
        " created_at, updated_at, lines, holds) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " ?, ?, ?, ?)",
        DB_ARGS(DB_TEXT(k->id), DB_TEXT(k->account_id), DB_TEXT(k->channel), DB_TEXT(k->occurrence),
                DB_TEXT(*k->category_id ? k->category_id : NULL), opt_int(k->day >= 0, k->day),
                opt_int(k->start_time >= 0, k->start_time), opt_int(k->end_time >= 0, k->end_time),
                opt_int(k->starts_at != 0, k->starts_at), opt_int(k->ends_at != 0, k->ends_at), DB_TEXT(k->external_id),
                DB_TEXT(k->extras), DB_TEXT(k->customer), DB_INT(k->priced), DB_INT(k->price_includes_tax),
                DB_INT(k->total), DB_TEXT(k->currency), DB_INT(k->expires_at), DB_INT(k->created_at),
                DB_INT(k->updated_at), DB_TEXT(w->lines_text), DB_TEXT(w->holds_text)),
        DB_CONFLICT, NULL);
    if (st != DB_OK) return st;
    /* the pool rows are the contended ones: lock them last, with the commit */
    w->outcome = w->take_now ? store_inventory_take(c, k->account_id, w->holds, w->nholds)
                             : take_last(c, k->account_id, w->holds, w->nholds, &w->take_outcome);
    return store_db_status(w->outcome);
}

/* A cart write's result: sold out when its take said so at the commit. */
static store_status cart_write_result(const cart_write *w, db_status st)
{
    if (st == DB_OK) return STORE_OK;
    if (w->take_outcome == DB_CONFLICT) return STORE_SOLD_OUT;
    return w->outcome != STORE_OK ? w->outcome : store_status_of(st);
}

/* The bulk path's step: the cart and its take inside the caller's
 * transaction. The take runs at once, not with the commit: its outcome must
 * be known before this frame (which would hold it) is gone. */
store_status store_cart_insert(db_conn *c, const store_cart *cart, const store_hold *holds, size_t nholds)
{
    cart_write w = {.cart = cart, .holds = holds, .nholds = nholds, .outcome = STORE_OK, .take_now = true,
                    .lines_text = encode_lines(cart->lines, cart->nlines), .holds_text = store_holds_encode(holds, nholds)};
    db_status st = cart_insert(c, &w);
    free(w.lines_text);
    free(w.holds_text);
    return cart_write_result(&w, st);
}

store_status store_cart_create(store *s, const store_cart *cart, const store_hold *holds, size_t nholds)
{
    cart_write w = {.cart = cart, .holds = holds, .nholds = nholds, .outcome = STORE_OK,
                    .lines_text = encode_lines(cart->lines, cart->nlines), .holds_text = store_holds_encode(holds, nholds)};
    db_status st = store_write(s, cart_insert, &w);
    free(w.lines_text);
    free(w.holds_text);
    return cart_write_result(&w, st);
}

/* Locks the cart in its current state and gives back what it holds, if open.
 * STORE_CONFLICT when it is booked or released. */
static store_status claim_changeable(db_conn *c, cart_write *w)
{
    db_rows *r;
    db_status st = db_query(c,
                            row_locks(c) ? "SELECT status, holds FROM carts WHERE id = ? AND account_id = ? FOR UPDATE"
                                         : "SELECT status, holds FROM carts WHERE id = ? AND account_id = ?",
                            DB_ARGS(DB_TEXT(w->cart_id), DB_TEXT(w->account_id)), &r);
    if (st != DB_OK) return store_status_of(st);
    if (!db_next(r)) {
        db_rows_free(r);
        return STORE_NOT_FOUND;
    }
    const char *status = db_text(r, 0);
    bool open = !strcmp(status, "open"), expired = !strcmp(status, "expired");
    store_hold *holds = NULL;
    size_t n = 0;
    bool decoded = open && store_holds_decode(db_text(r, 1), &holds, &n);
    db_rows_free(r);
    /* the row is locked (PostgreSQL) or the writer is ours alone (SQLite):
     * nobody changes it before this transaction ends */
    store_status ss = !open && !expired ? STORE_CONFLICT : open && !decoded ? STORE_ERROR : STORE_OK;
    if (ss == STORE_OK && open) ss = give_back(c, w->account_id, holds, n, true);
    free(holds);
    return ss;
}

static db_status cart_update(db_conn *c, void *arg)
{
    cart_write *w = arg;
    const store_cart *k = w->cart;
    w->outcome = claim_changeable(c, w);
    if (w->outcome != STORE_OK) return store_db_status(w->outcome);
    db_status st = db_exec_deferred(
        c,
        "UPDATE carts SET status = 'open', channel = ?, occurrence = ?, category_id = ?, day = ?, start_time = ?,"
        " end_time = ?, starts_at = ?, ends_at = ?, external_id = ?, extras = ?, customer = ?, priced = ?,"
        " price_includes_tax = ?, total = ?, expires_at = ?, updated_at = ?, lines = ?, holds = ?"
        " WHERE id = ? AND account_id = ?",
        DB_ARGS(DB_TEXT(k->channel), DB_TEXT(k->occurrence), DB_TEXT(*k->category_id ? k->category_id : NULL),
                opt_int(k->day >= 0, k->day), opt_int(k->start_time >= 0, k->start_time),
                opt_int(k->end_time >= 0, k->end_time), opt_int(k->starts_at != 0, k->starts_at),
                opt_int(k->ends_at != 0, k->ends_at), DB_TEXT(k->external_id), DB_TEXT(k->extras),
                DB_TEXT(k->customer), DB_INT(k->priced), DB_INT(k->price_includes_tax), DB_INT(k->total),
                DB_INT(k->expires_at), DB_INT(k->updated_at), DB_TEXT(w->lines_text), DB_TEXT(w->holds_text),
                DB_TEXT(k->id), DB_TEXT(k->account_id)),
        DB_CONFLICT, NULL);
    if (st != DB_OK) return st;
    w->outcome = take_last(c, w->account_id, w->holds, w->nholds, &w->take_outcome);
    return store_db_status(w->outcome);
}

store_status store_cart_replace(store *s, const store_cart *cart, const store_hold *holds, size_t nholds)
{
    cart_write w = {.cart = cart, .holds = holds, .nholds = nholds, .account_id = cart->account_id,
                    .cart_id = cart->id, .now = cart->updated_at, .outcome = STORE_OK,
                    .lines_text = encode_lines(cart->lines, cart->nlines), .holds_text = store_holds_encode(holds, nholds)};
    db_status st = store_write(s, cart_update, &w);
    free(w.lines_text);
    free(w.holds_text);
    return cart_write_result(&w, st);
}

static db_status cart_delete(db_conn *c, void *arg)
{
    cart_write *w = arg;
    w->outcome = claim_changeable(c, w);
    if (w->outcome != STORE_OK) return store_db_status(w->outcome);
    return db_exec_deferred(c,
                            "UPDATE carts SET status = 'released', holds = '', updated_at = ? WHERE id = ?"
                            " AND account_id = ?",
                            DB_ARGS(DB_INT(w->now), DB_TEXT(w->cart_id), DB_TEXT(w->account_id)), DB_CONFLICT, NULL);
}

store_status store_cart_release(store *s, const char *account_id, const char *cart_id, instant_us now)
{
    cart_write w = {.account_id = account_id, .cart_id = cart_id, .now = now, .outcome = STORE_OK};
    db_status st = store_write(s, cart_delete, &w);
    return cart_write_result(&w, st);
}

#define CART_COLUMNS                                                                                               \
    "c.id, c.account_id, c.status, c.order_id, c.channel, c.occurrence, c.category_id, c.day, c.start_time,"      \
    " c.end_time, c.starts_at, c.ends_at, c.expires_at, c.created_at, c.updated_at, c.priced,"                     \
    " c.price_includes_tax, c.total, c.currency, c.external_id, c.extras, c.customer"

static int64_t int_or(db_rows *r, int col, int64_t dflt) { return db_isnull(r, col) ? dflt : db_int(r, col); }
static char *text_or_null(db_rows *r, int col) { return db_isnull(r, col) ? NULL : strdup(db_text(r, col)); }

/* Fills out from a row of CART_COLUMNS. */
static void cart_from_row(db_rows *r, store_cart *out)
{
    memset(out, 0, sizeof *out);
    copy(out->id, sizeof out->id, db_text(r, 0));
    copy(out->account_id, sizeof out->account_id, db_text(r, 1));
    copy(out->status, sizeof out->status, db_text(r, 2));
    copy(out->order_id, sizeof out->order_id, db_text(r, 3));
    copy(out->channel, sizeof out->channel, db_text(r, 4));
    copy(out->occurrence, sizeof out->occurrence, db_text(r, 5));
    copy(out->category_id, sizeof out->category_id, db_text(r, 6));
    out->day = (civil_date)int_or(r, 7, -1);
    out->start_time = (int32_t)int_or(r, 8, -1);
    out->end_time = (int32_t)int_or(r, 9, -1);
    out->starts_at = int_or(r, 10, 0);
    out->ends_at = int_or(r, 11, 0);
    out->expires_at = int_or(r, 12, 0);
    out->created_at = db_int(r, 13);
    out->updated_at = db_int(r, 14);
    out->priced = db_int(r, 15) != 0;
    out->price_includes_tax = db_int(r, 16) != 0;
    out->total = db_int(r, 17);
    copy(out->currency, sizeof out->currency, db_text(r, 18));
    out->external_id = text_or_null(r, 19);
    out->extras = db_isnull(r, 20) ? strdup("{}") : strdup(db_text(r, 20));
    out->customer = text_or_null(r, 21);
}

/* lock: read it FOR UPDATE (PostgreSQL), for a transaction that changes it */
static db_status read_cart_rows(db_conn *c, const char *account_id, const char *cart_id, store_cart *out, bool lock)
{
    db_rows *r;
    db_status st = db_query(c,
                            lock && row_locks(c)
                                ? "SELECT " CART_COLUMNS ", c.lines FROM carts c WHERE c.id = ? AND c.account_id = ?"
                                  " FOR UPDATE"
                                : "SELECT " CART_COLUMNS ", c.lines FROM carts c WHERE c.id = ? AND c.account_id = ?",
                            DB_ARGS(DB_TEXT(cart_id), DB_TEXT(account_id)), &r);
    if (st != DB_OK) return st;
    st = DB_NOTFOUND;
    if (db_next(r)) {
        cart_from_row(r, out);
        st = decode_lines(db_text(r, 22), out) ? DB_OK : DB_ERROR;
    }
    db_rows_free(r);
    return st;
}

typedef struct {
    const char *account_id, *cart_id;
    store_cart *out;
} cart_read;

static db_status cart_read_fn(db_conn *c, void *arg)
{
    cart_read *r = arg;
    return read_cart_rows(c, r->account_id, r->cart_id, r->out, false);
}

store_status store_cart_get(store *s, const char *account_id, const char *cart_id, instant_us now, store_cart *out)
{
    cart_read r = {account_id, cart_id, out};
    memset(out, 0, sizeof *out);
    db_status st = store_read(s, cart_read_fn, &r);
    if (st != DB_OK) {
        store_cart_free(out);
        return store_status_of(st);
    }
    /* a cart past its expiry reads as expired even before the reaper ran */
    if (!strcmp(out->status, "open") && out->expires_at <= now) copy(out->status, sizeof out->status, "expired");
    return STORE_OK;
}

typedef struct {
    instant_us now;
    int limit, released;
} reap_ctx;

static db_status reap(db_conn *c, void *arg)
{
    reap_ctx *rc = arg;
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, account_id FROM carts WHERE status = 'open' AND expires_at <= ? LIMIT ?",
                            DB_ARGS(DB_INT(rc->now), DB_INT(rc->limit)), &r);
    if (st != DB_OK) return st;
    char(*ids)[2][40] = NULL;
    size_t n = 0;
    while (db_next(r)) {
        ids = realloc(ids, (n + 1) * sizeof *ids);
        copy(ids[n][0], 40, db_text(r, 0));
        copy(ids[n][1], 40, db_text(r, 1));
        n++;
    }
    db_rows_free(r);
    for (size_t i = 0; i < n && st == DB_OK; i++) {
        /* Claim first: a booking, update or delete that got to the cart
         * meanwhile owns its seats now, and giving them back would oversell.
         * The holds stay recorded: booking an expired cart takes the same amounts again. */
        int64_t claimed = 0;
        st = db_exec(c,
                     "UPDATE carts SET status = 'expired', updated_at = ? WHERE id = ? AND status = 'open'"
                     " AND expires_at <= ?",
                     DB_ARGS(DB_INT(rc->now), DB_TEXT(ids[i][0]), DB_INT(rc->now)), &claimed);
        if (st == DB_OK && claimed == 1) st = store_db_status(release_holds(c, ids[i][1], ids[i][0]));
    }
    free(ids);
    rc->released = (int)n;
    return st;
}

store_status store_carts_reap(store *s, instant_us now, int limit, int *released)
{
    reap_ctx rc = {now, limit, 0};
    db_status st = store_write(s, reap, &rc);
    *released = st == DB_OK ? rc.released : 0;
    return store_status_of(st);
}

typedef struct {
    instant_us now;
    bool any;
} expired_ctx;

static db_status expired_exist(db_conn *c, void *arg)
{
    expired_ctx *x = arg;
    int64_t one = 0;
    db_status st = db_query_int(c, "SELECT 1 FROM carts WHERE status = 'open' AND expires_at <= ? LIMIT 1",
                                DB_ARGS(DB_INT(x->now)), &one);
    x->any = st == DB_OK;
    return st == DB_NOTFOUND ? DB_OK : st;
}

store_status store_carts_expired_exist(store *s, instant_us now, bool *any)
{
    expired_ctx x = {now, false};
    db_status st = store_read(s, expired_exist, &x);
    *any = st == DB_OK && x.any;
    return store_status_of(st);
}

/* ---------------- booking steps ---------------- */

store_status store_cart_claim(db_conn *c, const char *account_id, const char *cart_id, const char *order_id,
                              instant_us now, store_cart *out, bool *was_expired)
{
    memset(out, 0, sizeof *out);
    db_status st = read_cart_rows(c, account_id, cart_id, out, true);
    if (st != DB_OK) return store_status_of(st);
    if (*out->order_id) return STORE_CONFLICT; /* booked before */
    bool open = !strcmp(out->status, "open"), expired = !strcmp(out->status, "expired");
    if (!open && !expired) return STORE_CONFLICT;
    *was_expired = expired;
    if (row_locks(c)) /* read FOR UPDATE: the claim cannot miss */
        return store_status_of(db_exec_deferred(c,
                                                "UPDATE carts SET status = 'booked', order_id = ?, updated_at = ?"
                                                " WHERE id = ? AND account_id = ?",
                                                DB_ARGS(DB_TEXT(order_id), DB_INT(now), DB_TEXT(cart_id),
                                                        DB_TEXT(account_id)),
                                                DB_CONFLICT, NULL));
    int64_t claimed = 0;
    st = db_exec(c,
                 "UPDATE carts SET status = 'booked', order_id = ?, updated_at = ? WHERE id = ? AND account_id = ?"
                 " AND status = ?",
                 DB_ARGS(DB_TEXT(order_id), DB_INT(now), DB_TEXT(cart_id), DB_TEXT(account_id), DB_TEXT(out->status)),
                 &claimed);
    if (st != DB_OK) return store_status_of(st);
    if (claimed != 1) return STORE_RETRY;
    return STORE_OK;
}

store_status store_cart_retake(db_conn *c, const char *account_id, const char *cart_id)
{
    store_hold *holds;
    size_t n;
    db_status st = load_holds(c, account_id, cart_id, &holds, &n);
    if (st != DB_OK) return store_status_of(st);
    store_status ss = store_inventory_take(c, account_id, holds, n);
    free(holds);
    return ss;
}

#define TICKET_COLS 24

store_status store_tickets_insert(db_conn *c, const char *account_id, const store_ticket *t, size_t n, instant_us now)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < ROWS_PER_INSERT ? n - done : ROWS_PER_INSERT;
        char sql[4096];
        multi_row_sql(sql, sizeof sql,
                      "INSERT INTO tickets (id, account_id, order_id, line_id, product_id, event_id, occurrence,"
                      " barcode, status, price_gross, price_net, discount, valid_from, valid_to, scan_limit,"
                      " scan_times, max_scans, time_duration, allow_overtime, in_out, created_at, updated_at, doc, pools) VALUES ",
                      TICKET_COLS, k);
        db_param p[TICKET_COLS * ROWS_PER_INSERT];
        char *pools[ROWS_PER_INSERT]; /* encoded once per array of holds; NULL where shared with the previous */
        const char *ticket_pools = NULL;
        for (size_t i = 0; i < k; i++) {
            const store_ticket *x = &t[done + i], *prev = i > 0 ? x - 1 : NULL;
            bool shared = prev && prev->pools == x->pools && prev->npools == x->npools;
            pools[i] = shared ? NULL : store_holds_encode(x->pools, x->npools);
            if (pools[i]) ticket_pools = pools[i];
            db_param *q = &p[TICKET_COLS * i];
            q[0] = DB_TEXT(x->id), q[1] = DB_TEXT(account_id), q[2] = DB_TEXT(x->order_id);
            q[3] = DB_TEXT(x->line_id), q[4] = DB_TEXT(x->product_id), q[5] = DB_TEXT(x->event_id);
            q[6] = DB_TEXT(x->occurrence), q[7] = DB_TEXT(x->barcode), q[8] = DB_TEXT(x->status);
            q[9] = DB_INT(x->price_gross), q[10] = DB_INT(x->price_net), q[11] = DB_INT(x->discount);
            q[12] = opt_int(x->valid_from != 0, x->valid_from), q[13] = opt_int(x->valid_to != 0, x->valid_to);
            q[14] = DB_TEXT(x->scan_limit), q[15] = DB_INT(x->scan_times);
            q[16] = opt_int(x->max_scans >= 0, x->max_scans), q[17] = opt_int(x->time_duration >= 0, x->time_duration);
            q[18] = DB_INT(x->allow_overtime), q[19] = DB_INT(x->in_out);
            q[20] = DB_INT(now), q[21] = DB_INT(now), q[22] = DB_TEXT(x->doc), q[23] = DB_TEXT(ticket_pools);
        }
        /* a barcode collision is astronomically unlikely; retrying makes new ones */
        db_status st = db_exec_deferred(c, sql, p, (int)(TICKET_COLS * k), DB_RETRY, NULL);
        for (size_t i = 0; i < k; i++) free(pools[i]);
        if (st != DB_OK) return store_status_of(st);
        /* replies that count an occurrence's tickets (Ticket Tailor's event totals) follow a booking at once,
         * although booking a held cart leaves its seats as they were */
        for (size_t i = 0; i < k; i++)
            if (t[done + i].occurrence) store_inventory_touched(c, account_id, t[done + i].occurrence);
        done += k;
    }
    return STORE_OK;
}

store_status store_order_insert(db_conn *c, const char *account_id, const store_order *o, instant_us now)
{
    db_status st = db_exec(
        c,
        "INSERT INTO orders (id, account_id, number, status, channel, cart_id, external_id, email, customer_name,"
        " reseller_id, visit_date, currency, total_gross, total_net, discount_total, created_at, updated_at,"
        " change_seq, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        DB_ARGS(DB_TEXT(o->id), DB_TEXT(account_id), DB_TEXT(o->number), DB_TEXT(o->status), DB_TEXT(o->channel),
                DB_TEXT(o->cart_id), DB_TEXT(o->external_id), DB_TEXT(o->email), DB_TEXT(o->customer_name),
                DB_TEXT(o->reseller_id), DB_TEXT(o->visit_date), DB_TEXT(o->currency), DB_INT(o->total_gross),
                DB_INT(o->total_net), DB_INT(o->discount_total), DB_INT(now), DB_INT(now), DB_INT(o->change_seq),
                DB_TEXT(o->doc)),
        NULL);
    /* the order number is taken, or a concurrent booking of this cart won */
    return st == DB_CONFLICT ? STORE_RETRY : store_status_of(st);
}

store_status store_order_insert_next_change(db_conn *c, const char *account_id, store_order *o, instant_us now)
{
    if (!row_locks(c)) {
        store_status ss = store_counter_next(c, account_id, "order_change", &o->change_seq);
        return ss == STORE_OK ? store_order_insert(c, account_id, o, now) : ss;
    }
    /* One statement, sent with the COMMIT: the counter's row lock is taken by
     * the transaction's last statement and held for the commit alone. */
    o->change_seq = -1;
    return store_status_of(db_exec_deferred(
        c,
        "WITH seq AS (INSERT INTO counters (account_id, name, value) VALUES (?, 'order_change', 1)"
        " ON CONFLICT (account_id, name) DO UPDATE SET value = counters.value + 1 RETURNING value)"
        " INSERT INTO orders (id, account_id, number, status, channel, cart_id, external_id, email, customer_name,"
        " reseller_id, visit_date, currency, total_gross, total_net, discount_total, created_at, updated_at,"
        " change_seq, doc) SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
        " CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT),"
        " CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT),"
        " CAST(? AS BIGINT), seq.value, CAST(? AS TEXT) FROM seq",
        DB_ARGS(DB_TEXT(account_id), DB_TEXT(o->id), DB_TEXT(account_id), DB_TEXT(o->number), DB_TEXT(o->status),
                DB_TEXT(o->channel), DB_TEXT(o->cart_id), DB_TEXT(o->external_id), DB_TEXT(o->email),
                DB_TEXT(o->customer_name), DB_TEXT(o->reseller_id), DB_TEXT(o->visit_date), DB_TEXT(o->currency),
                DB_INT(o->total_gross), DB_INT(o->total_net), DB_INT(o->discount_total), DB_INT(now), DB_INT(now),
                DB_TEXT(o->doc)),
        DB_RETRY /* the order number is taken, or a concurrent booking of this cart won */, NULL));
}

store_status store_payment_insert(db_conn *c, const char *account_id, const char *order_id, const char *provider,
                                  const char *method, const char *status, money amount, const char *reference,
                                  instant_us now)
{
    return store_status_of(db_exec(c,
                           "INSERT INTO payments (account_id, order_id, kind, provider, method, status, amount,"
                           " reference, created_at, updated_at) VALUES (?, ?, 'payment', ?, ?, ?, ?, ?, ?, ?)",
                           DB_ARGS(DB_TEXT(account_id), DB_TEXT(order_id), DB_TEXT(provider), DB_TEXT(method),
                                   DB_TEXT(status), DB_INT(amount), DB_TEXT(reference), DB_INT(now), DB_INT(now)),
                           NULL));
}

store_status store_counter_next(db_conn *c, const char *account_id, const char *name, int64_t *out)
{
    /* The row lock is held from here to the commit only. SQLite runs RETURNING
     * through a temporary table opened per call, so it reads the value back. */
    if (db_conn_dialect(c) == DB_DIALECT_POSTGRES)
        return store_status_of(db_query_int(c,
                                    "INSERT INTO counters (account_id, name, value) VALUES (?, ?, 1)"
                                    " ON CONFLICT (account_id, name) DO UPDATE SET value = counters.value + 1"
                                    " RETURNING value",
                                    DB_ARGS(DB_TEXT(account_id), DB_TEXT(name)), out));
    db_status st = db_exec(c,
                           "INSERT INTO counters (account_id, name, value) VALUES (?, ?, 1)"
                           " ON CONFLICT (account_id, name) DO UPDATE SET value = counters.value + 1",
                           DB_ARGS(DB_TEXT(account_id), DB_TEXT(name)), NULL);
    if (st == DB_OK)
        st = db_query_int(c, "SELECT value FROM counters WHERE account_id = ? AND name = ?",
                          DB_ARGS(DB_TEXT(account_id), DB_TEXT(name)), out);
    return store_status_of(st);
}

store_status store_redemption_insert(db_conn *c, const char *account_id, const char *kind, const char *object_id,
                                     const char *code, const char *order_id, money amount, instant_us now)
{
    return store_status_of(db_exec(c,
                           "INSERT INTO redemptions (account_id, object_kind, object_id, code, order_id, amount,"
                           " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           DB_ARGS(DB_TEXT(account_id), DB_TEXT(kind), DB_TEXT(object_id), DB_TEXT(code),
                                   DB_TEXT(order_id), DB_INT(amount), DB_INT(now)),
                           NULL));
}

store_status store_voucher_code_find(db_conn *c, const char *account_id, const char *code, store_voucher_code *out)
{
    db_rows *r;
    db_status st = db_query(c,
                            "SELECT id, voucher_id, remaining, status FROM voucher_codes WHERE account_id = ? AND code = ?",
                            DB_ARGS(DB_TEXT(account_id), DB_TEXT(code)), &r);
    if (st != DB_OK) return store_status_of(st);
    if (!db_next(r)) {
        db_rows_free(r);
        return STORE_NOT_FOUND;
    }
    copy(out->id, sizeof out->id, db_text(r, 0));
    copy(out->voucher_id, sizeof out->voucher_id, db_text(r, 1));
    out->remaining = db_int(r, 2);
    out->available = !strcmp(db_text(r, 3), "available");
    db_rows_free(r);
    return STORE_OK;
}

store_status store_voucher_code_spend(db_conn *c, const char *code_id, money amount, instant_us now)
{
    int64_t changed = 0;
    db_status st = db_exec(c,
                           "UPDATE voucher_codes SET remaining = remaining - ?, updated_at = ?,"
                           " status = CASE WHEN remaining - ? = 0 THEN 'used' ELSE status END"
                           " WHERE id = ? AND status = 'available' AND remaining >= ?",
                           DB_ARGS(DB_INT(amount), DB_INT(now), DB_INT(amount), DB_TEXT(code_id), DB_INT(amount)),
                           &changed);
    if (st != DB_OK) return store_status_of(st);
    return changed == 1 ? STORE_OK : STORE_RETRY; /* spent by a concurrent order: look again */
}

/* ---------------- seats held by open carts ---------------- */

typedef struct {
    const char *account_id, *pool_id, *occurrence;
    int64_t held;
} carts_held_ctx;

static db_status open_carts_held(db_conn *c, void *arg)
{
    carts_held_ctx *x = arg;
    x->held = 0;
    db_rows *r;
    /* open carts are few (each holds for minutes) and carts_expiry leads with status */
    db_status st = db_query(c, "SELECT holds FROM carts WHERE status = 'open' AND account_id = ?",
                            DB_ARGS(DB_TEXT(x->account_id)), &r);
    if (st != DB_OK) return st;
    while (st == DB_OK && db_next(r)) {
        store_hold *holds = NULL;
        size_t n = 0;
        if (!store_holds_decode(db_text(r, 0), &holds, &n)) st = DB_ERROR;
        for (size_t i = 0; st == DB_OK && i < n; i++)
            if (!strcmp(holds[i].pool_id, x->pool_id) && !strcmp(holds[i].occurrence, x->occurrence))
                x->held += holds[i].amount;
        free(holds);
    }
    db_rows_free(r);
    return st;
}

store_status store_open_carts_held(store *s, const char *account_id, const char *pool_id, const char *occurrence,
                                   int64_t *held)
{
    carts_held_ctx x = {account_id, pool_id, occurrence, 0};
    db_status st = store_read(s, open_carts_held, &x);
    *held = x.held;
    return store_status_of(st);
}

store_status store_barcode_taken(db_conn *c, const char *barcode, bool *taken)
{
    int64_t one = 0;
    db_status st = db_query_int(c, "SELECT 1 FROM tickets WHERE barcode = ?", DB_ARGS(DB_TEXT(barcode)), &one);
    *taken = st == DB_OK && one == 1;
    return st == DB_NOTFOUND ? STORE_OK : store_status_of(st);
}
