/* Rendered replies of read endpoints, kept as immutable bytes shared by every
 * request that asks the same thing: a hit costs a lookup and a reference, and
 * MHD sends the bytes straight from the shared buffer. The layer knows nothing
 * of what a reply depends on: the caller gives a key scope (an account) and a
 * stamp (the versions of what it reads), and an entry serves only a request
 * with an equal stamp, for at most max_age_ms. Bounded by a byte budget, least
 * recently used first out. Striped, so that concurrent hits on different
 * entries rarely wait for one lock. */
#include "http/internal.h"
#include <glib.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define STRIPES 16

typedef struct cache_entry {
    char *key; /* also the table's key */
    http_blob *blob;
    http_cache_stamp stamp;
    int64_t made_ms;
    size_t cost;
    struct cache_entry *newer, *older;
} cache_entry;

typedef struct {
    pthread_mutex_t lock;
    GHashTable *map; /* key -> cache_entry */
    cache_entry *newest, *oldest;
    size_t bytes;
} stripe;

struct http_reply_cache {
    stripe stripes[STRIPES];
    size_t stripe_budget;
    int64_t max_age_ms;
    atomic_ulong hits, misses;
};

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
    c->max_age_ms = max_age_ms;
    for (int i = 0; i < STRIPES; i++) {
        pthread_mutex_init(&c->stripes[i].lock, NULL);
        c->stripes[i].map = g_hash_table_new_full(g_str_hash, g_str_equal, free, entry_free);
    }
    return c;
}

void http_reply_cache_free(http_reply_cache *c)
{
    if (!c) return;
    for (int i = 0; i < STRIPES; i++) {
        g_hash_table_destroy(c->stripes[i].map);
        pthread_mutex_destroy(&c->stripes[i].lock);
    }
    free(c);
}

static stripe *stripe_of(http_reply_cache *c, const char *key) { return &c->stripes[g_str_hash(key) % STRIPES]; }

static bool stamps_equal(const http_cache_stamp *a, const http_cache_stamp *b)
{
    return !memcmp(a->v, b->v, sizeof a->v);
}

http_blob *reply_cache_lookup(http_reply_cache *c, const char *key, const http_cache_stamp *stamp)
{
    stripe *s = stripe_of(c, key);
    int64_t now = http_now_ms();
    http_blob *found = NULL;
    pthread_mutex_lock(&s->lock);
    cache_entry *e = g_hash_table_lookup(s->map, key);
    if (e && stamps_equal(&e->stamp, stamp) && now - e->made_ms < c->max_age_ms) {
        found = e->blob;
        atomic_fetch_add(&found->refs, 1);
        unlink_entry(s, e);
        push_newest(s, e);
    }
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(found ? &c->hits : &c->misses, 1);
    return found;
}

http_blob *reply_cache_store(http_reply_cache *c, const char *key, const http_cache_stamp *stamp, int64_t read_ms,
                             int status, const char *content_type, char *data, size_t len)
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
    size_t cost = len + strlen(key) + sizeof(cache_entry) + sizeof(http_blob) + 64;
    if (!c || cost > c->stripe_budget) return b;
    cache_entry *e = calloc(1, sizeof *e);
    e->key = strdup(key);
    e->blob = b;
    atomic_fetch_add(&b->refs, 1);
    e->stamp = *stamp;
    e->made_ms = read_ms;
    e->cost = cost;
    stripe *s = stripe_of(c, key);
    pthread_mutex_lock(&s->lock);
    cache_entry *old = g_hash_table_lookup(s->map, key);
    if (old) {
        unlink_entry(s, old);
        s->bytes -= old->cost;
        g_hash_table_remove(s->map, key);
    }
    g_hash_table_insert(s->map, e->key, e);
    push_newest(s, e);
    s->bytes += cost;
    while (s->bytes > c->stripe_budget && s->oldest) {
        cache_entry *victim = s->oldest;
        unlink_entry(s, victim);
        s->bytes -= victim->cost;
        g_hash_table_remove(s->map, victim->key);
    }
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
    /* a body with a NUL cannot be a key; it is not cached */
    bool usable = strlen(key->str) == key->len;
    http_blob *hit = usable ? reply_cache_lookup(c, key->str, stamp) : NULL;
    if (hit) {
        r->replied = true;
        r->status = hit->status;
        r->content_type = hit->content_type[0] ? hit->content_type : NULL;
        r->shared = hit;
        r->reply_bytes = hit->len;
    } else if (usable) {
        r->cache = c;
        r->cache_key = http_strdup(r, key->str);
        r->cache_stamp = *stamp;
        r->cache_read_ms = http_now_ms();
    }
    g_string_free(key, TRUE);
    return hit != NULL;
}

void reply_cache_keep(http_request *r)
{
    if (!r->cache_key || r->shared || r->status != 200 || !r->replied) return;
    char *data = r->reply_body ? r->reply_body : strdup("");
    r->reply_body = NULL;
    r->shared = reply_cache_store(r->cache, r->cache_key, &r->cache_stamp, r->cache_read_ms, r->status, r->content_type, data,
                                  r->reply_bytes);
    r->content_type = r->shared->content_type[0] ? r->shared->content_type : NULL;
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
