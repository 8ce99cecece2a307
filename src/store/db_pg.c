/* PostgreSQL driver (libpq).
 *
 * SQL arrives with `?` placeholders. Each distinct statement is rewritten to
 * $1..$n once per connection, prepared under a generated name and from then
 * on run with PQexecPrepared and text-format parameters: one round trip, no
 * parse or plan. Parameter types are left for the server to infer from the
 * statement, hence db.h's `CAST(? AS TEXT) IS NULL` rule.
 *
 * Transaction and session commands without parameters (BEGIN, COMMIT,
 * SAVEPOINT x, SET...) go through PQexec: there is nothing to plan, and
 * savepoint names would only fill the cache.
 *
 * Unlike SQLite, any error inside a PostgreSQL transaction aborts the whole
 * transaction: after DB_CONFLICT a transaction function must return, not
 * carry on; later statements fail with DB_ERROR (SQLSTATE 25P02).
 *
 * Deferred statements (db_exec_deferred: BEGIN, and writes whose result is
 * not needed before the commit) are queued with copies of their parameters
 * and sent in one libpq pipeline together with the next statement that needs
 * a result, or the COMMIT: a hold (BEGIN, insert the cart, take the seats,
 * COMMIT) is one round trip, and the hot row's lock, taken by the last
 * statement, is held for the commit alone rather than over a round trip. */
#include "store/db_pg.h"
#include "util/log.h"
#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The store's SQL is a few hundred distinct literals; a statement that finds
 * no free slot within STMT_PROBES runs unprepared (PQexecParams) instead. */
#define STMT_CACHE 512
#define STMT_PROBES 16
#define PARAMS_ON_STACK 32

typedef struct {
    /* Own copy of the caller's text, the cache key. Keyed by text rather
     * than by address: a caller building SQL in a reused buffer would
     * otherwise run a stale statement, and hashing costs far less than the
     * round trip it saves. */
    char *sql;
    uint64_t hash;
    int nparams;   /* placeholders found when rewriting */
    char name[16]; /* server-side prepared statement */
} stmt_slot;

/* A statement waiting for the next pipeline. */
typedef struct {
    char name[16];       /* prepared statement; "" to send `text` unprepared */
    char *text;          /* owned: rewritten SQL when unprepared */
    /* one allocation (block) holds the values' pointers, then the copies of
     * the caller's SQL (for logs) and of the values: one malloc a statement */
    void *block;
    const char *sql;
    int n;
    const char **values; /* NULL for SQL NULL */
    db_status on_conflict;
    db_status *outcome;
} deferred_stmt;

typedef struct {
    struct db_conn_header h;
    PGconn *pg;
    bool broken;
    deferred_stmt *queue;
    int nqueue, capqueue;
    bool queued_begin; /* the queue opens the transaction: nothing of it reached the server yet */
    bool commit_with_next;  /* db_commit_early: the next statement's pipeline carries the COMMIT */
    bool committed_early;   /* ... and it was sent: the caller's COMMIT answers early_commit */
    db_status early_commit;
    unsigned next_name; /* names are never reused, so a forgotten slot can be prepared anew */
    stmt_slot cache[STMT_CACHE];
} pg_conn;

typedef struct {
    struct db_rows_header h;
    PGresult *res;
    int row; /* -1 before the first db_next */
    int nrows, ncols;
} pg_rows;

/* libpq messages span lines ("...failed: X\n\tIs the server running..."):
 * collapse whitespace so each log event stays on one line. Caller frees. */
static char *one_line(const char *s)
{
    if (!s) s = "";
    char *out = malloc(strlen(s) + 1);
    char *o = out;
    bool space = false;
    for (; *s; s++) {
        if (isspace((unsigned char)*s)) {
            space = o != out;
            continue;
        }
        if (space) *o++ = ' ';
        space = false;
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

static uint64_t sql_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return h;
}

/* Rewrites `?` to $1..$n, leaving alone any `?` inside a quoted literal, a
 * quoted identifier or a comment. Doubled quotes ('it''s') need no special
 * case: they close and reopen the literal. Caller frees. */
static char *rewrite_placeholders(const char *sql, int *count)
{
    size_t marks = 0;
    for (const char *p = sql; *p; p++) marks += *p == '?';
    char *out = malloc(strlen(sql) + marks * 11 + 1); /* `?` becomes `$` and up to 10 digits */
    char *o = out;
    int n = 0;
    const char *p = sql;
    while (*p) {
        if (*p == '\'' || *p == '"') {
            char quote = *p;
            *o++ = *p++;
            while (*p && *p != quote) *o++ = *p++;
            if (*p) *o++ = *p++;
        } else if (p[0] == '-' && p[1] == '-') {
            while (*p && *p != '\n') *o++ = *p++;
        } else if (p[0] == '/' && p[1] == '*') {
            *o++ = *p++;
            *o++ = *p++;
            while (*p && !(p[0] == '*' && p[1] == '/')) *o++ = *p++;
            if (*p) {
                *o++ = *p++;
                *o++ = *p++;
            }
        } else if (*p == '?') {
            o += sprintf(o, "$%d", ++n);
            p++;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    *count = n;
    return out;
}

static bool is_session_command(const char *sql)
{
    static const char *const words[] = {"BEGIN", "START",   "COMMIT", "END", "ROLLBACK", "ABORT",
                                        "SAVEPOINT", "RELEASE", "SET", "RESET", "LOCK"};
    while (isspace((unsigned char)*sql)) sql++;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        size_t n = strlen(words[i]);
        if (!strncasecmp(sql, words[i], n) && !isalnum((unsigned char)sql[n]) && sql[n] != '_') return true;
    }
    return false;
}

static bool is_state(const char *state, const char *want) { return state && !strcmp(state, want); }

/* Maps a failed result (NULL: libpq could not even build one) to a status,
 * logs what is not an expected outcome, and frees it. Data exceptions (class
 * 22) have their message withheld: "invalid input syntax for type bigint:
 * \"...\"" quotes the parameter, and parameters may be personal data. */
static db_status fail(pg_conn *c, PGresult *res, const char *sql)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (PQstatus(c->pg) == CONNECTION_BAD || (state && !strncmp(state, "08", 2)) || is_state(state, "57P01") ||
        is_state(state, "57P02") || is_state(state, "57P03"))
        c->broken = true;
    db_status st = DB_ERROR;
    if (!c->broken) {
        if (is_state(state, "23505") || is_state(state, "23514") || is_state(state, "23503") ||
            is_state(state, "23502"))
            st = DB_CONFLICT;
        else if (is_state(state, "40001") || is_state(state, "40P01") || is_state(state, "55P03"))
            st = DB_RETRY;
        else if (is_state(state, "53100")) /* disk_full */
            st = DB_FULL;
    }
    if (st != DB_ERROR && st != DB_FULL) {
        const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
        log_debug("postgres: SQLSTATE %s%s%s in: %.200s", state, constraint ? " on " : "", constraint ? constraint : "",
                  sql);
    } else {
        char *msg;
        if (state && !strncmp(state, "22", 2)) msg = strdup("data exception (message withheld: it may quote a value)");
        else if (res && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
            msg = one_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
        else msg = one_line(PQerrorMessage(c->pg));
        log_error("postgres: %s (SQLSTATE %s)%s in: %.200s", msg, state ? state : "none",
                  c->broken ? "; connection lost" : "", sql);
        free(msg);
    }
    PQclear(res);
    return st;
}

static bool result_ok(const PGresult *res)
{
    if (!res) return false;
    ExecStatusType s = PQresultStatus(res);
    return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY;
}

/* The slot holding sql, or else a free slot on its probe path (*found false),
 * or NULL when the path is full. */
static stmt_slot *find_slot(pg_conn *c, const char *sql, uint64_t h, bool *found)
{
    stmt_slot *free_slot = NULL;
    for (int probe = 0; probe < STMT_PROBES; probe++) {
        stmt_slot *s = &c->cache[(h + (uint64_t)probe) % STMT_CACHE];
        if (s->sql && s->hash == h && !strcmp(s->sql, sql)) {
            *found = true;
            return s;
        }
        if (!s->sql && !free_slot) free_slot = s;
    }
    *found = false;
    return free_slot;
}

static void forget_slot(stmt_slot *s)
{
    free(s->sql);
    memset(s, 0, sizeof *s);
}

/* Finds sql's prepared statement, preparing it on first use (outside any
 * pipeline; preparing is not transactional). *slot NULL when the cache has
 * no room: *text is then the rewritten SQL to send unprepared (caller frees). */
static db_status prepare_once(pg_conn *c, const char *sql, int n, stmt_slot **slot_out, char **text)
{
    *text = NULL;
    uint64_t h = sql_hash(sql);
    bool found;
    stmt_slot *slot = find_slot(c, sql, h, &found);
    *slot_out = slot;
    if (found) {
        if (slot->nparams == n) return DB_OK;
        log_error("postgres: statement has %d placeholders but %d parameters were given: %.200s", slot->nparams, n,
                  sql);
        return DB_ERROR;
    }
    int expected;
    char *rewritten = rewrite_placeholders(sql, &expected);
    if (expected != n) {
        log_error("postgres: statement has %d placeholders but %d parameters were given: %.200s", expected, n, sql);
        free(rewritten);
        return DB_ERROR;
    }
    if (!slot) {
        *text = rewritten;
        return DB_OK;
    }
    char name[sizeof slot->name];
    snprintf(name, sizeof name, "bo%u", c->next_name++);
    PGresult *res = PQprepare(c->pg, name, rewritten, n, NULL);
    free(rewritten);
    if (!result_ok(res)) {
        *slot_out = NULL;
        return fail(c, res, sql);
    }
    PQclear(res);
    slot->sql = strdup(sql);
    slot->hash = h;
    slot->nparams = n;
    memcpy(slot->name, name, sizeof name);
    return DB_OK;
}

static char *param_text(const db_param *p, char buf[24])
{
    switch (p->type) {
    case DBP_INT: snprintf(buf, 24, "%" PRId64, p->i); return buf;
    case DBP_TEXT: return (char *)p->s;
    default: return NULL;
    }
}

static void deferred_free(deferred_stmt *d)
{
    free(d->block);
    free(d->text);
}

/* Drops what is queued without sending it (its outcomes read DB_ABORT). */
static void queue_drop(pg_conn *c)
{
    for (int i = 0; i < c->nqueue; i++) {
        if (c->queue[i].outcome) *c->queue[i].outcome = DB_ABORT;
        deferred_free(&c->queue[i]);
    }
    c->nqueue = 0;
    c->queued_begin = false;
}

static db_status pg_exec_deferred(db_conn *conn, const char *sql, const db_param *p, int n, db_status on_conflict,
                                  db_status *outcome)
{
    pg_conn *c = (pg_conn *)conn;
    if (outcome) *outcome = DB_OK;
    if (c->broken) {
        log_error("postgres: connection lost earlier; not running: %.200s", sql);
        return DB_ERROR;
    }
    deferred_stmt d = {.n = n, .on_conflict = on_conflict, .outcome = outcome};
    bool session = n == 0 && is_session_command(sql);
    if (session) { /* sent as text: d.text stays NULL, d.sql is sent */
        if (!c->nqueue && !strncasecmp(sql, "BEGIN", 5)) c->queued_begin = true;
    } else {
        stmt_slot *slot;
        db_status st = prepare_once(c, sql, n, &slot, &d.text);
        if (st != DB_OK) return st;
        if (slot) memcpy(d.name, slot->name, sizeof d.name);
    }
    char ints[PARAMS_ON_STACK][24];
    char(*heap_ints)[24] = n > PARAMS_ON_STACK ? malloc((size_t)n * sizeof *heap_ints) : ints;
    size_t sql_len = strlen(sql) + 1, size = (size_t)n * sizeof *d.values + sql_len;
    const char *stack_texts[PARAMS_ON_STACK];
    const char **texts = n > PARAMS_ON_STACK ? malloc((size_t)n * sizeof *texts) : stack_texts;
    for (int i = 0; i < n; i++) {
        texts[i] = param_text(&p[i], heap_ints[i]);
        if (texts[i]) size += strlen(texts[i]) + 1;
    }
    d.block = malloc(size);
    d.values = d.block;
    char *o = (char *)d.block + (size_t)n * sizeof *d.values;
    memcpy(o, sql, sql_len);
    d.sql = o;
    o += sql_len;
    for (int i = 0; i < n; i++) {
        d.values[i] = texts[i] ? o : NULL;
        if (!texts[i]) continue;
        size_t len = strlen(texts[i]) + 1;
        memcpy(o, texts[i], len);
        o += len;
    }
    if (texts != stack_texts) {
        free(texts);
        free(heap_ints);
    }
    if (c->nqueue == c->capqueue) {
        c->capqueue = c->capqueue ? c->capqueue * 2 : 8;
        c->queue = realloc(c->queue, (size_t)c->capqueue * sizeof *c->queue);
    }
    c->queue[c->nqueue++] = d;
    return DB_OK;
}

/* A statement's failure in a pipeline, mapped like fail(); a statement the
 * server skipped after an earlier failure is DB_ABORT. */
static db_status pipeline_failure(pg_conn *c, PGresult *res, const char *sql, const char *name)
{
    if (res && PQresultStatus(res) == PGRES_PIPELINE_ABORTED) {
        PQclear(res);
        return DB_ABORT;
    }
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    bool stale = *name && is_state(state, "26000");
    db_status st = fail(c, res, sql);
    if (stale && !c->broken) {
        /* the server lost the statement: prepare it anew next time */
        uint64_t h = sql_hash(sql);
        bool found;
        stmt_slot *slot = find_slot(c, sql, h, &found);
        if (found) forget_slot(slot);
        st = DB_RETRY;
    }
    return st;
}

/* The next result of a pipeline, with the NULL that ends it consumed. */
static PGresult *pipeline_result(pg_conn *c)
{
    PGresult *res = PQgetResult(c->pg);
    if (!res) {
        c->broken = true;
        return NULL;
    }
    ExecStatusType s = PQresultStatus(res);
    if (s != PGRES_PIPELINE_SYNC) {
        PGresult *end = PQgetResult(c->pg);
        if (end) {
            PQclear(end);
            c->broken = true;
        }
    }
    return res;
}

/* Sends the queue, with then_commit a COMMIT, and then sql (NULL: only the
 * queue) in one pipeline and one round trip. Returns sql's successful result
 * (or, with sql NULL, an empty success), or NULL with *st: the first failure
 * among them; the COMMIT's outcome goes to c->early_commit. */
static PGresult *run_pipelined(pg_conn *c, const char *sql, const db_param *p, int n, bool then_commit,
                               db_status *st)
{
    *st = DB_OK;
    deferred_stmt current = {0};
    if (sql && !(n == 0 && is_session_command(sql))) {
        stmt_slot *slot;
        *st = prepare_once(c, sql, n, &slot, &current.text);
        if (*st != DB_OK) {
            queue_drop(c);
            return NULL;
        }
        if (slot) memcpy(current.name, slot->name, sizeof current.name);
    } else if (sql) {
        current.text = strdup(sql);
    }
    char ints[PARAMS_ON_STACK][24];
    const char *stack_values[PARAMS_ON_STACK];
    const char **values = n > PARAMS_ON_STACK ? malloc((size_t)n * sizeof *values) : stack_values;
    char(*heap_ints)[24] = n > PARAMS_ON_STACK ? malloc((size_t)n * sizeof *heap_ints) : ints;
    for (int i = 0; i < n; i++) values[i] = param_text(&p[i], heap_ints[i]);

    bool sent = PQenterPipelineMode(c->pg) == 1;
    for (int i = 0; sent && i < c->nqueue; i++) {
        deferred_stmt *d = &c->queue[i];
        sent = *d->name ? PQsendQueryPrepared(c->pg, d->name, d->n, d->values, NULL, NULL, 0)
                        : PQsendQueryParams(c->pg, d->text ? d->text : d->sql, d->n, NULL, d->values, NULL, NULL, 0);
    }
    if (sent && then_commit) sent = PQsendQueryParams(c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
    if (sent && sql)
        sent = *current.name ? PQsendQueryPrepared(c->pg, current.name, n, values, NULL, NULL, 0)
                             : PQsendQueryParams(c->pg, current.text, n, NULL, values, NULL, NULL, 0);
    if (sent) sent = PQpipelineSync(c->pg) == 1;
    if (values != stack_values) {
        free(values);
        free(heap_ints);
    }
    PGresult *out = NULL;
    if (!sent) {
        char *msg = one_line(PQerrorMessage(c->pg));
        log_error("postgres: cannot send a pipeline: %s", msg);
        free(msg);
        c->broken = true;
        *st = DB_ERROR;
    }
    for (int i = 0; sent && i < c->nqueue && !c->broken; i++) {
        deferred_stmt *d = &c->queue[i];
        PGresult *res = pipeline_result(c);
        db_status own = result_ok(res) ? DB_OK : pipeline_failure(c, res, d->sql, d->name);
        if (own == DB_OK) PQclear(res);
        if (own == DB_CONFLICT) own = d->on_conflict;
        if (d->outcome) *d->outcome = own;
        if (*st == DB_OK && own != DB_OK) *st = own;
    }
    if (then_commit) {
        c->committed_early = true;
        c->early_commit = *st;
        if (sent && !c->broken) {
            PGresult *res = pipeline_result(c);
            db_status own = result_ok(res) ? DB_OK : pipeline_failure(c, res, "COMMIT", "");
            if (own == DB_OK) PQclear(res);
            if (c->early_commit == DB_OK) c->early_commit = own;
        }
        if (c->broken && c->early_commit == DB_OK) c->early_commit = DB_ERROR;
    }
    if (sent && sql && !c->broken) {
        PGresult *res = pipeline_result(c);
        if (result_ok(res)) {
            out = res;
        } else {
            db_status own = pipeline_failure(c, res, sql, current.name);
            if (*st == DB_OK) *st = own;
        }
    }
    if (sent && !c->broken) {
        PGresult *sync = PQgetResult(c->pg);
        if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) c->broken = true;
        PQclear(sync);
    }
    if (!c->broken && PQexitPipelineMode(c->pg) != 1) c->broken = true;
    /* a COMMIT skipped after an earlier failure leaves the transaction open
     * and aborted, where a failed COMMIT would have ended it: end it */
    if (((*st != DB_OK && sql && !strncasecmp(sql, "COMMIT", 6)) || (then_commit && c->early_commit != DB_OK)) &&
        !c->broken && PQtransactionStatus(c->pg) == PQTRANS_INERROR)
        PQclear(PQexec(c->pg, "ROLLBACK"));
    if (c->broken && *st == DB_OK) *st = DB_ERROR;
    if (*st != DB_OK) {
        PQclear(out);
        out = NULL;
    } else if (!out) {
        out = PQmakeEmptyPGresult(c->pg, PGRES_COMMAND_OK);
    }
    for (int i = 0; i < c->nqueue; i++) deferred_free(&c->queue[i]);
    c->nqueue = 0;
    c->queued_begin = false;
    free(current.text);
    return out;
}

/* Runs one statement; returns its successful result (caller clears it), or
 * NULL with the mapped failure in *st. */
static PGresult *run(pg_conn *c, const char *sql, const db_param *p, int n, db_status *st)
{
    bool ends = n == 0 && (!strncasecmp(sql, "COMMIT", 6) || !strncasecmp(sql, "ROLLBACK", 8));
    if (c->committed_early && ends) {
        /* the transaction was committed with the first statement after
         * db_commit_early; reads after it ran on their own */
        c->committed_early = false;
        bool commit = !strncasecmp(sql, "COMMIT", 6);
        *st = commit ? c->early_commit : DB_OK;
        /* what was deferred after it (the store's commit notification) runs on its own */
        if (c->nqueue && commit && *st == DB_OK) PQclear(run_pipelined(c, NULL, NULL, 0, false, st));
        if (c->nqueue) queue_drop(c);
        if (!commit && c->early_commit == DB_OK)
            log_error("postgres: rollback asked after an early commit went through; it stays committed");
        return *st == DB_OK ? PQmakeEmptyPGresult(c->pg, PGRES_COMMAND_OK) : NULL;
    }
    if (c->commit_with_next && !ends && !(n == 0 && is_session_command(sql)) && !c->broken) {
        c->commit_with_next = false;
        return run_pipelined(c, sql, p, n, true, st);
    }
    c->commit_with_next = false;
    if (c->nqueue && !c->broken) {
        /* a rollback of a transaction the server never saw costs nothing */
        if (n == 0 && c->queued_begin && !strncasecmp(sql, "ROLLBACK", 8)) {
            queue_drop(c);
            *st = DB_OK;
            return PQmakeEmptyPGresult(c->pg, PGRES_COMMAND_OK);
        }
        return run_pipelined(c, sql, p, n, false, st);
    }
    if (c->nqueue) queue_drop(c);
    *st = DB_OK;
    if (c->broken) {
        log_error("postgres: connection lost earlier; not running: %.200s", sql);
        *st = DB_ERROR;
        return NULL;
    }
    if (n == 0 && is_session_command(sql)) {
        PGresult *res = PQexec(c->pg, sql);
        if (result_ok(res)) return res;
        *st = fail(c, res, sql);
        return NULL;
    }

    stmt_slot *slot;
    char *rewritten;
    *st = prepare_once(c, sql, n, &slot, &rewritten);
    if (*st != DB_OK) return NULL;

    const char *stack_values[PARAMS_ON_STACK];
    char stack_ints[PARAMS_ON_STACK][24];
    const char **values = stack_values;
    char(*ints)[24] = stack_ints;
    if (n > PARAMS_ON_STACK) {
        values = malloc((size_t)n * sizeof *values);
        ints = malloc((size_t)n * sizeof *ints);
    }
    for (int i = 0; i < n; i++) values[i] = param_text(&p[i], ints[i]);
    PGresult *res = slot ? PQexecPrepared(c->pg, slot->name, n, values, NULL, NULL, 0)
                         : PQexecParams(c->pg, rewritten, n, NULL, values, NULL, NULL, 0);
    if (values != stack_values) {
        free(values);
        free(ints);
    }
    free(rewritten);
    if (result_ok(res)) return res;

    /* The server no longer has the statement (DISCARD ALL, a pooler in
     * between), or a schema change altered its result columns: prepare it
     * again next time. The transaction is aborted either way, so retry it. */
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    bool stale = slot && (is_state(state, "26000") ||
                          (is_state(state, "0A000") && msg && strstr(msg, "cached plan must not change")));
    if (stale) forget_slot(slot);
    *st = fail(c, res, sql);
    if (stale && !c->broken) *st = DB_RETRY;
    return NULL;
}

static db_status pg_exec(db_conn *conn, const char *sql, const db_param *p, int n, int64_t *changes)
{
    pg_conn *c = (pg_conn *)conn;
    if (changes) *changes = 0;
    db_status st;
    PGresult *res = run(c, sql, p, n, &st);
    if (!res) return st;
    /* "" for commands that count nothing */
    if (changes) *changes = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return DB_OK;
}

static db_status pg_query(db_conn *conn, const char *sql, const db_param *p, int n, db_rows **out)
{
    pg_conn *c = (pg_conn *)conn;
    *out = NULL;
    db_status st;
    PGresult *res = run(c, sql, p, n, &st);
    if (!res) return st;
    pg_rows *r = calloc(1, sizeof *r);
    r->h.driver = &db_driver_postgres;
    r->res = res;
    r->row = -1;
    r->nrows = PQntuples(res);
    r->ncols = PQnfields(res);
    *out = (db_rows *)r;
    return DB_OK;
}

static bool pg_next(db_rows *rows)
{
    pg_rows *r = (pg_rows *)rows;
    if (r->row < r->nrows) r->row++;
    return r->row < r->nrows;
}

/* The current row's value in col; NULL for SQL NULL and for a position that
 * is out of range (libpq would complain on stderr). */
static const char *cell(pg_rows *r, int col)
{
    if (r->row < 0 || r->row >= r->nrows || col < 0 || col >= r->ncols) return NULL;
    if (PQgetisnull(r->res, r->row, col)) return NULL;
    return PQgetvalue(r->res, r->row, col);
}

static bool pg_isnull(db_rows *rows, int col) { return cell((pg_rows *)rows, col) == NULL; }

static int64_t pg_int(db_rows *rows, int col)
{
    const char *v = cell((pg_rows *)rows, col);
    if (!v) return 0;
    /* our schema stores booleans as integers; a BOOLEAN expression still comes back as t/f */
    if (!strcmp(v, "t")) return 1;
    if (!strcmp(v, "f")) return 0;
    return strtoll(v, NULL, 10);
}

static const char *pg_text(db_rows *rows, int col)
{
    const char *v = cell((pg_rows *)rows, col);
    return v ? v : "";
}

static void pg_rows_free(db_rows *rows)
{
    pg_rows *r = (pg_rows *)rows;
    if (!r) return;
    PQclear(r->res);
    free(r);
}

static db_status pg_exec_script(db_conn *conn, const char *sql)
{
    pg_conn *c = (pg_conn *)conn;
    if (c->nqueue && !c->broken) {
        db_status st;
        PGresult *res = run_pipelined(c, NULL, NULL, 0, false, &st);
        if (!res) return st;
        PQclear(res);
    }
    if (c->broken) {
        log_error("postgres: connection lost earlier; not running script: %.200s", sql);
        return DB_ERROR;
    }
    /* PQexec runs every statement and stops at the first failure, whose
     * result it returns. */
    PGresult *res = PQexec(c->pg, sql);
    if (result_ok(res)) {
        PQclear(res);
        return DB_OK;
    }
    return fail(c, res, sql);
}

/* Server notices (WARNING and up, given client_min_messages) go to our log
 * instead of libpq's bare stderr lines. A ROLLBACK with no transaction open
 * is routine (the store rolls back defensively after a failed COMMIT), so it
 * stays at debug level. */
static void on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    char *msg = one_line(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
    bool routine = is_state(state, "25P01") || is_state(state, "25001");
    log_msg(routine ? LOG_DEBUG : LOG_WARN, "postgres %s: %s (SQLSTATE %s)", severity ? severity : "notice", msg,
            state ? state : "none");
    free(msg);
}

static db_conn *pg_connect(const char *target, db_conn_role role, char **err)
{
    bool writer = role != DB_CONN_READ;
    /* Listed before dbname, so a parameter spelled in the URI itself wins. */
    const char *keys[] = {"fallback_application_name", "connect_timeout", "options", "dbname", NULL};
    const char *values[] = {"boxoffice", "10",
                            writer ? "-c client_min_messages=warning"
                                   : "-c client_min_messages=warning -c default_transaction_read_only=on",
                            target, NULL};
    PGconn *pg = PQconnectdbParams(keys, values, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        if (err) *err = pg ? one_line(PQerrorMessage(pg)) : strdup("postgres: out of memory");
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeReceiver(pg, on_notice, NULL);

    /* A URI with its own `options=` replaced ours; set the level anyway. */
    bool level_set = false;
    PQconninfoOption *info = PQconninfo(pg);
    for (PQconninfoOption *o = info; o && o->keyword; o++)
        if (!strcmp(o->keyword, "options") && o->val && strstr(o->val, "client_min_messages")) level_set = true;
    PQconninfoFree(info);
    if (!level_set) {
        PGresult *res = PQexec(pg, "SET client_min_messages = warning");
        bool ok = result_ok(res);
        if (!ok && err) *err = one_line(PQresultErrorMessage(res));
        PQclear(res);
        if (!ok) {
            PQfinish(pg);
            return NULL;
        }
    }

    pg_conn *c = calloc(1, sizeof *c);
    c->h.driver = &db_driver_postgres;
    c->pg = pg;
    return (db_conn *)c;
}

static void pg_disconnect(db_conn *conn)
{
    pg_conn *c = (pg_conn *)conn;
    if (!c) return;
    for (int i = 0; i < STMT_CACHE; i++) free(c->cache[i].sql);
    queue_drop(c);
    free(c->queue);
    PQfinish(c->pg);
    free(c);
}

static void pg_commit_early(db_conn *conn) { ((pg_conn *)conn)->commit_with_next = true; }

bool db_pg_broken(db_conn *conn)
{
    if (!conn || ((struct db_conn_header *)conn)->driver != &db_driver_postgres) return false;
    pg_conn *c = (pg_conn *)conn;
    if (!c->broken && PQstatus(c->pg) == CONNECTION_BAD) c->broken = true;
    return c->broken;
}

bool db_pg_listen(db_conn *conn, const char *channel)
{
    pg_conn *c = (pg_conn *)conn;
    char *quoted = PQescapeIdentifier(c->pg, channel, strlen(channel));
    if (!quoted) return false;
    char sql[160];
    snprintf(sql, sizeof sql, "LISTEN %s", quoted);
    PQfreemem(quoted);
    PGresult *res = PQexec(c->pg, sql);
    if (result_ok(res)) {
        PQclear(res);
        return true;
    }
    fail(c, res, sql);
    return false;
}

int db_pg_socket(db_conn *conn) { return PQsocket(((pg_conn *)conn)->pg); }

int db_pg_notifications(db_conn *conn)
{
    pg_conn *c = (pg_conn *)conn;
    if (!PQconsumeInput(c->pg) || PQstatus(c->pg) == CONNECTION_BAD) {
        c->broken = true;
        return -1;
    }
    int n = 0;
    for (PGnotify *note; (note = PQnotifies(c->pg)); n++) PQfreemem(note);
    return n;
}

const db_driver db_driver_postgres = {
    .name = "postgres",
    .dialect = DB_DIALECT_POSTGRES,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .exec = pg_exec,
    .query = pg_query,
    .next = pg_next,
    .isnull = pg_isnull,
    .get_int = pg_int,
    .get_text = pg_text,
    .rows_free = pg_rows_free,
    .exec_script = pg_exec_script,
    .exec_deferred = pg_exec_deferred,
    .commit_early = pg_commit_early,
};
