/* Rendered replies of read endpoints, kept as immutable bytes shared by every
 * request that asks the same thing: a hit costs a lookup and a reference, and
 * MHD sends the bytes straight from the shared buffer. The layer knows nothing
 * of what a reply depends on: the caller gives a key scope (an account) and a
 * stamp (the versions of what it reads), and an entry serves only a request
 * with an equal stamp, for at most max_age_ms. Bounded by a byte budget, least
 * recently used first out. Striped, so that concurrent hits on different
 * entries rarely wait for one lock.
 *
 * One render at a time per key: when a write has just changed what a popular
 * reply shows (every hold of an on-sale morning does), the requests that find
 * it stale wait for the one render in flight instead of all rendering it. A
 * waiter takes that render's reply only if it began after the waiter asked
 * (so it shows every write acknowledged before); otherwise one of the waiters
 * renders next. Whoever waits longer than RENDER_WAIT_US renders alone. */
#include "http/internal.h"
#include "util/timeutil.h"
#include <glib.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 16
#define RENDER_WAIT_US 1000000

typedef struct cache_entry {
    char *key;       /* also the table's key */
    http_blob *blob; /* NULL while its first render is in flight */
    http_cache_stamp stamp;
    int64_t read_us; /* monotonic time before its render read anything */
    bool rendering;  /* a request is rendering it (again) */
    size_t cost;     /* 0 while not on the LRU list (no blob) */
    struct cache_entry *newer, *older;
} cache_entry;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t rendered; /* a render of some entry of the stripe ended */
    GHashTable *map;         /* key -> cache_entry */
    cache_entry *newest, *oldest;
    size_t bytes;
} stripe;

struct http_reply_cache {
    stripe stripes[STRIPES];
    size_t stripe_budget;
    int64_t max_age_us;
    atomic_ulong hits, misses;
};

int64_t reply_cache_now_us(void) { return g_get_monotonic_time(); }

void blob_unref(http_blob *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1) return;
    free(b->data);
    free(b);
}

void blob_free_callback(void *cls) { blob_unref(cls); }

static void unlink_entry(stripe *s, cache_entry *e)
{
    if (e->newer) e->newer->older = e->older;
    else s->newest = e->older;
    if (e->older) e->older->newer = e->newer;
    else s->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(stripe *s, cache_entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest) s->newest->newer = e;
    s->newest = e;
    if (!s->oldest) s->oldest = e;
}

/* The table's value destructor: every removal from the map ends here. */
static void entry_free(void *p)
{
    cache_entry *e = p;
    blob_unref(e->blob);
    free(e);
}

http_reply_cache *http_reply_cache_new(size_t budget_bytes, int64_t max_age_ms)
{
    if (!budget_bytes) return NULL;
    http_reply_cache *c = calloc(1, sizeof *c);
    c->stripe_budget = budget_bytes / STRIPES;
    c->max_age_us = max_age_ms * 1000;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&c->stripes[i].lock, NULL);
        monotonic_cond_init(&c->stripes[i].rendered); /* g_get_monotonic_time's clock */
        c->stripes[i].map = g_hash_table_new_full(g_str_hash, g_str_equal, free, entry_free);
    }
    return c;
}

void http_reply_cache_free(http_reply_cache *c)
{
    if (!c) return;
    for (int i = 0; i < STRIPES; i++) {
        g_hash_table_destroy(c->stripes[i].map);
        pthread_cond_destroy(&c->stripes[i].rendered);
        pthread_mutex_destroy(&c->stripes[i].lock);
    }
    free(c);
}

static stripe *stripe_of(http_reply_cache *c, const char *key) { return &c->stripes[g_str_hash(key) % STRIPES]; }

static bool stamps_equal(const http_cache_stamp *a, const http_cache_stamp *b)
{
    return !memcmp(a->v, b->v, sizeof a->v);
}

/* Whether e may answer a request that asked at asked_us with stamp. */
static bool serves(const http_reply_cache *c, const cache_entry *e, const http_cache_stamp *stamp, int64_t asked_us)
{
    if (!e || !e->blob) return false;
    return (stamps_equal(&e->stamp, stamp) && asked_us - e->read_us < c->max_age_us) || e->read_us >= asked_us;
}

static http_blob *take(stripe *s, cache_entry *e)
{
    atomic_fetch_add(&e->blob->refs, 1);
    unlink_entry(s, e);
    push_newest(s, e);
    return e->blob;
}

http_blob *reply_cache_lookup(http_reply_cache *c, const char *key, const http_cache_stamp *stamp)
{
    stripe *s = stripe_of(c, key);
    int64_t now = reply_cache_now_us();
    pthread_mutex_lock(&s->lock);
    cache_entry *e = g_hash_table_lookup(s->map, key);
    http_blob *found = serves(c, e, stamp, now) ? take(s, e) : NULL;
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(found ? &c->hits : &c->misses, 1);
    return found;
}

static http_blob *blob_new(int status, const char *content_type, char *data, size_t len)
{
    http_blob *b = calloc(1, sizeof *b);
    atomic_init(&b->refs, 1);
    b->data = data;
    b->len = len;
    b->status = status;
    snprintf(b->content_type, sizeof b->content_type, "%s", content_type ? content_type : "");
    unsigned char hash[16];
    crypto_generichash(hash, sizeof hash, (const unsigned char *)data, len, NULL, 0);
    b->etag[0] = '"';
    sodium_bin2hex(b->etag + 1, 33, hash, sizeof hash);
    strcat(b->etag, "\"");
    return b;
}

/* Forgets e (with s locked): off the list, out of the table, freed. */
static void drop(stripe *s, cache_entry *e)
{
    if (e->cost) unlink_entry(s, e);
    s->bytes -= e->cost;
    g_hash_table_remove(s->map, e->key);
}

/* Puts b into key's entry (with s locked), the entry on the list, and evicts
 * the least recently used beyond the budget. The entry and its render flag
 * survive: a render in flight still ends on it. */
static void keep(http_reply_cache *c, stripe *s, const char *key, const http_cache_stamp *stamp, int64_t read_us,
                 http_blob *b)
{
    size_t cost = b->len + strlen(key) + sizeof(cache_entry) + sizeof(http_blob) + 64;
    cache_entry *e = g_hash_table_lookup(s->map, key);
    if (cost > c->stripe_budget) { /* served, never kept */
        if (e && !e->rendering) drop(s, e);
        return;
    }
    if (!e) {
        e = calloc(1, sizeof *e);
        e->key = strdup(key);
        g_hash_table_insert(s->map, e->key, e);
    } else if (e->blob && e->read_us > read_us) {
        return; /* a render that began later already landed */
    }
    if (e->cost) unlink_entry(s, e);
    s->bytes -= e->cost;
    blob_unref(e->blob);
    atomic_fetch_add(&b->refs, 1);
    e->blob = b;
    e->stamp = *stamp;
    e->read_us = read_us;
    e->cost = cost;
    push_newest(s, e);
    s->bytes += cost;
    while (s->bytes > c->stripe_budget && s->oldest) {
        cache_entry *victim = s->oldest;
        if (victim->rendering) { /* keep the flag; only its bytes go */
            unlink_entry(s, victim);
            s->bytes -= victim->cost;
            victim->cost = 0;
            blob_unref(victim->blob);
            victim->blob = NULL;
        } else {
            drop(s, victim);
        }
    }
}

http_blob *reply_cache_store(http_reply_cache *c, const char *key, const http_cache_stamp *stamp, int64_t read_us,
                             int status, const char *content_type, char *data, size_t len)
{
    http_blob *b = blob_new(status, content_type, data, len);
    if (!c) return b;
    stripe *s = stripe_of(c, key);
    pthread_mutex_lock(&s->lock);
    keep(c, s, key, stamp, read_us, b);
    pthread_mutex_unlock(&s->lock);
    return b;
}

void http_reply_cache_stats(http_reply_cache *c, http_reply_cache_figures *out)
{
    memset(out, 0, sizeof *out);
    if (!c) return;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_lock(&c->stripes[i].lock);
        out->entries += g_hash_table_size(c->stripes[i].map);
        out->bytes += c->stripes[i].bytes;
        pthread_mutex_unlock(&c->stripes[i].lock);
    }
    out->budget = c->stripe_budget * STRIPES;
    out->hits = atomic_load(&c->hits);
    out->misses = atomic_load(&c->misses);
}

/* ---- requests ---- */

bool http_reply_cached(http_request *r, http_reply_cache *c, const char *scope, const http_cache_stamp *stamp)
{
    if (!c || r->replied) return false;
    size_t body_len = 0;
    const char *body = http_body(r, &body_len);
    GString *key = g_string_sized_new(strlen(scope) + strlen(r->raw_uri) + body_len + 16);
    g_string_append(key, scope);
    g_string_append_c(key, '\n');
    g_string_append(key, r->method);
    g_string_append_c(key, ' ');
    g_string_append(key, r->raw_uri);
    g_string_append_c(key, '\n');
    g_string_append_len(key, body, (gssize)body_len);
    if (strlen(key->str) != key->len) { /* a body with a NUL is no key: never cached */
        g_string_free(key, TRUE);
        return false;
    }
    stripe *s = stripe_of(c, key->str);
    int64_t asked = reply_cache_now_us(), give_up = asked + RENDER_WAIT_US;
    http_blob *hit = NULL;
    bool render_alone = false;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        cache_entry *e = g_hash_table_lookup(s->map, key->str);
        if (serves(c, e, stamp, asked)) {
            hit = take(s, e);
            break;
        }
        if (!e) {
            e = calloc(1, sizeof *e);
            e->key = strdup(key->str);
            g_hash_table_insert(s->map, e->key, e);
        }
        if (!e->rendering) {
            e->rendering = true;
            break;
        }
        struct timespec until = {give_up / 1000000, (give_up % 1000000) * 1000};
        if (pthread_cond_timedwait(&s->rendered, &s->lock, &until) != 0 && reply_cache_now_us() >= give_up) {
            render_alone = true;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(hit ? &c->hits : &c->misses, 1);
    if (hit) {
        r->replied = true;
        r->status = hit->status;
        r->content_type = hit->content_type[0] ? hit->content_type : NULL;
        r->shared = hit;
        r->reply_bytes = hit->len;
    } else {
        r->cache = c;
        r->cache_key = http_strdup(r, key->str);
        r->cache_stamp = *stamp;
        r->cache_read_us = reply_cache_now_us(); /* before the handler reads anything */
        r->cache_renders = !render_alone;
    }
    g_string_free(key, TRUE);
    return hit != NULL;
}

void reply_cache_keep(http_request *r)
{
    if (!r->cache_key) return;
    http_reply_cache *c = r->cache;
    stripe *s = stripe_of(c, r->cache_key);
    if (r->replied && r->status == 200 && !r->shared) {
        char *data = r->reply_body ? r->reply_body : strdup("");
        r->reply_body = NULL;
        r->shared = blob_new(r->status, r->content_type, data, r->reply_bytes);
        r->content_type = r->shared->content_type[0] ? r->shared->content_type : NULL;
    }
    pthread_mutex_lock(&s->lock);
    if (r->shared) keep(c, s, r->cache_key, &r->cache_stamp, r->cache_read_us, r->shared);
    cache_entry *e = g_hash_table_lookup(s->map, r->cache_key);
    if (e && r->cache_renders) {
        e->rendering = false;
        if (!e->blob) drop(s, e);
    }
    pthread_cond_broadcast(&s->rendered);
    pthread_mutex_unlock(&s->lock);
    r->cache_key = NULL;
}

/* If-None-Match: a list of entity tags, or "*"; weak tags compare equal too. */
bool etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match) return false;
    const char *p = if_none_match;
    size_t n = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        if (*p == '*') return true;
        if (!strncmp(p, "W/", 2)) p += 2;
        if (!strncmp(p, etag, n) && (p[n] == 0 || p[n] == ',' || p[n] == ' ' || p[n] == '\t')) return true;
        while (*p && *p != ',') p++;
    }
    return false;
}
