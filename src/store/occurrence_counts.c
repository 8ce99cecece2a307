/* Held and issued counts per occurrence and product (store/occurrence_counts.h). */
#include "store/occurrence_counts.h"
#include "store/db.h"
#include "store/sales.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *account_id;
    const char *const *occurrences;
    size_t n;
    store_occurrence_counts *out;
} counts_op;

/* "?, ?, ..." for n keys (n >= 1), malloc'd. */
static char *placeholders(size_t n)
{
    char *p = malloc(n * 3 + 1), *o = p;
    for (size_t i = 0; i < n; i++) o += sprintf(o, i ? ", ?" : "?");
    *o = 0;
    return p;
}

static store_product_count *count_of(store_occurrence_counts *c, const char *occurrence, const char *product_id)
{
    for (size_t i = 0; i < c->nproducts; i++)
        if (!strcmp(c->products[i].occurrence, occurrence) && !strcmp(c->products[i].product_id, product_id))
            return &c->products[i];
    store_product_count *grown = realloc(c->products, (c->nproducts + 1) * sizeof *grown);
    if (!grown) abort();
    c->products = grown;
    store_product_count *x = &c->products[c->nproducts++];
    memset(x, 0, sizeof *x);
    snprintf(x->occurrence, sizeof x->occurrence, "%s", occurrence);
    snprintf(x->product_id, sizeof x->product_id, "%s", product_id);
    return x;
}

static db_status query_keys(db_conn *c, const char *head, const char *tail, const counts_op *op, db_rows **rows)
{
    char *marks = placeholders(op->n);
    size_t len = strlen(head) + strlen(marks) + strlen(tail) + 1;
    char *sql = malloc(len);
    snprintf(sql, len, "%s%s%s", head, marks, tail);
    free(marks);
    db_param *params = calloc(op->n + 1, sizeof *params);
    params[0] = DB_TEXT(op->account_id);
    for (size_t i = 0; i < op->n; i++) params[i + 1] = DB_TEXT(op->occurrences[i]);
    db_status st = db_query(c, sql, params, (int)op->n + 1, rows);
    free(params);
    free(sql);
    return st;
}

static db_status counts_fn(db_conn *c, void *arg)
{
    counts_op *op = arg;
    store_occurrence_counts *out = op->out;
    store_occurrence_counts_free(out);
    /* open carts are few at any moment (the reaper releases them): the
     * carts_expiry index finds them by status */
    db_rows *r;
    db_status st = query_keys(c, "SELECT occurrence, lines FROM carts WHERE status = 'open' AND account_id = ?"
                                 " AND occurrence IN (", ")", op, &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        store_cart cart = {0};
        char occurrence[64];
        snprintf(occurrence, sizeof occurrence, "%s", db_text(r, 0));
        if (store_cart_lines_decode(db_text(r, 1), &cart))
            for (size_t i = 0; i < cart.nlines; i++)
                count_of(out, occurrence, cart.lines[i].product_id)->held += cart.lines[i].quantity;
        free(cart.lines);
    }
    db_rows_free(r);
    /* one row per (occurrence, product, order): the issued count and the
     * orders behind it from one statement */
    st = query_keys(c, "SELECT occurrence, product_id, order_id, COUNT(*) FROM tickets WHERE account_id = ?"
                       " AND status IN ('valid', 'unpaid') AND occurrence IN (",
                    ") GROUP BY occurrence, product_id, order_id", op, &r);
    if (st != DB_OK) return st;
    while (db_next(r)) {
        count_of(out, db_text(r, 0), db_text(r, 1))->issued += db_int(r, 3);
        if (db_isnull(r, 2)) continue; /* issued without an order */
        store_order_presence *grown = realloc(out->orders, (out->norders + 1) * sizeof *grown);
        if (!grown) abort();
        out->orders = grown;
        store_order_presence *o = &out->orders[out->norders++];
        snprintf(o->occurrence, sizeof o->occurrence, "%s", db_text(r, 0));
        snprintf(o->product_id, sizeof o->product_id, "%s", db_text(r, 1));
        snprintf(o->order_id, sizeof o->order_id, "%s", db_text(r, 2));
    }
    db_rows_free(r);
    return DB_OK;
}

store_status store_occurrence_counts_read(store *s, const char *account_id, const char *const *occurrences, size_t n,
                                          store_occurrence_counts *out)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return STORE_OK;
    if (n > STORE_COUNTS_MAX_KEYS) return STORE_ERROR;
    counts_op op = {account_id, occurrences, n, out};
    store_status st = store_status_of(store_read(s, counts_fn, &op));
    if (st != STORE_OK) store_occurrence_counts_free(out);
    return st;
}

void store_occurrence_counts_free(store_occurrence_counts *c)
{
    free(c->products);
    free(c->orders);
    memset(c, 0, sizeof *c);
}
