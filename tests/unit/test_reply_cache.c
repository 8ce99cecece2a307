/* The reply cache's own rules, without a server: the byte budget holds however
 * many replies are kept, the least recently used go first, an entry serves only
 * an equal stamp and only while young, a reply too large for its stripe is
 * served but not kept, and a blob outlives its entry while anyone holds it
 * (AddressSanitizer reports a blob freed too early or never). */
#include "check.h"
#include "http/internal.h"
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* STRIPES in src/http/reply_cache.c: the budget is shared out per stripe. */
#define STRIPES 16
#define BUDGET (STRIPES * 8192)
#define LONG_AGO_MS 60000

static const http_cache_stamp stamp_a = {{1, 2, 0, 0}};

static char *reply_text(size_t len, char fill)
{
    char *s = malloc(len + 1);
    memset(s, fill, len);
    s[len] = 0;
    return s;
}

/* Keeps a reply of len bytes under key; drops the caller's reference. */
static void keep(http_reply_cache *c, const char *key, size_t len)
{
    blob_unref(reply_cache_store(c, key, &stamp_a, reply_cache_now_us(), 200, "application/json", reply_text(len, 'x'), len));
}

static bool kept(http_reply_cache *c, const char *key)
{
    http_blob *b = reply_cache_lookup(c, key, &stamp_a);
    blob_unref(b);
    return b != NULL;
}

static void budget_holds_after_many_inserts(void)
{
    http_reply_cache *c = http_reply_cache_new(BUDGET, LONG_AGO_MS);
    http_reply_cache_figures f;
    bool within = true;
    for (int i = 0; i < 5000; i++) {
        char key[32];
        snprintf(key, sizeof key, "acct\nGET /r/%d", i);
        keep(c, key, 200 + (size_t)(i % 7) * 150);
        http_reply_cache_stats(c, &f);
        if (f.bytes > f.budget) within = false;
    }
    http_reply_cache_stats(c, &f);
    CHECK(within, "the kept bytes never exceed the budget while 5000 replies go in");
    CHECK(f.budget <= BUDGET && f.budget > BUDGET - STRIPES, "the budget reported is the one given");
    CHECK(f.entries > 0 && f.entries < 5000, "some replies are kept, most were evicted");
    CHECK(f.bytes > BUDGET / 2, "eviction frees only what it must: the cache stays more than half full");
    http_reply_cache_free(c);
}

static void recently_used_entries_survive(void)
{
    http_reply_cache *c = http_reply_cache_new(BUDGET, LONG_AGO_MS);
    keep(c, "acct\nGET /hot", 300);
    keep(c, "acct\nGET /cold", 300);
    bool hot_always = true;
    for (int i = 0; i < 3000; i++) {
        char key[32];
        snprintf(key, sizeof key, "acct\nGET /filler/%d", i);
        keep(c, key, 300);
        if (!kept(c, "acct\nGET /hot")) hot_always = false;
    }
    CHECK(hot_always, "an entry read between every insert is never evicted");
    CHECK(!kept(c, "acct\nGET /cold"), "an entry never read again is evicted once its stripe overflows");
    http_reply_cache_figures f;
    http_reply_cache_stats(c, &f);
    CHECK(f.hits >= 3000 && f.misses >= 1, "hits and misses are counted");
    http_reply_cache_free(c);
}

static void stamp_and_age_decide_a_hit(void)
{
    http_reply_cache *c = http_reply_cache_new(BUDGET, 50);
    http_cache_stamp other = stamp_a;
    other.v[1]++;
    blob_unref(reply_cache_store(c, "acct\nGET /a", &stamp_a, reply_cache_now_us(), 200, NULL, reply_text(10, 'a'), 10));
    CHECK(kept(c, "acct\nGET /a"), "an equal stamp within the age hits");
    http_blob *miss = reply_cache_lookup(c, "acct\nGET /a", &other);
    CHECK(miss == NULL, "a stamp that differs in one version misses");
    other = stamp_a;
    other.v[3] = 1;
    CHECK(reply_cache_lookup(c, "acct\nGET /a", &other) == NULL, "every word of the stamp counts");
    CHECK(reply_cache_lookup(c, "acct\nGET /b", &stamp_a) == NULL, "another key misses");
    CHECK(reply_cache_lookup(c, "other\nGET /a", &stamp_a) == NULL, "the same URI in another scope misses");
    /* made 51 ms ago by its read time: older than the 50 ms an entry may serve */
    blob_unref(reply_cache_store(c, "acct\nGET /old", &stamp_a, reply_cache_now_us() - 51000, 200, NULL, reply_text(10, 'o'),
                                 10));
    CHECK(!kept(c, "acct\nGET /old"), "an entry older than the maximum age misses");
    blob_unref(reply_cache_store(c, "acct\nGET /young", &stamp_a, reply_cache_now_us() - 10000, 200, NULL,
                                 reply_text(10, 'y'), 10));
    CHECK(kept(c, "acct\nGET /young"), "an entry younger than the maximum age hits");
    /* a newer reply under the same key replaces the old one */
    blob_unref(reply_cache_store(c, "acct\nGET /a", &other, reply_cache_now_us(), 200, NULL, reply_text(10, 'n'), 10));
    http_blob *now = reply_cache_lookup(c, "acct\nGET /a", &other);
    CHECK(now && now->data[0] == 'n', "a reply stored again under its key serves the new stamp and bytes");
    CHECK(reply_cache_lookup(c, "acct\nGET /a", &stamp_a) == NULL, "and the old stamp no longer hits");
    blob_unref(now);
    http_reply_cache_free(c);
}

static void too_large_is_served_not_kept(void)
{
    http_reply_cache *c = http_reply_cache_new(BUDGET, LONG_AGO_MS);
    size_t len = BUDGET / STRIPES; /* with its key and bookkeeping, more than one stripe's share */
    http_blob *b = reply_cache_store(c, "acct\nGET /huge", &stamp_a, reply_cache_now_us(), 200, "application/json",
                                     reply_text(len, 'h'), len);
    CHECK(b && b->len == len && b->data[len - 1] == 'h' && b->status == 200, "a reply too large is still served");
    CHECK(b && b->etag[0] == '"' && strlen(b->etag) == 34, "and carries an ETag");
    CHECK(!kept(c, "acct\nGET /huge"), "but is not kept");
    http_reply_cache_figures f;
    http_reply_cache_stats(c, &f);
    CHECK(f.entries == 0 && f.bytes == 0, "and takes none of the budget");
    blob_unref(b);
    http_blob *alone = reply_cache_store(NULL, "acct\nGET /x", &stamp_a, 0, 200, NULL, reply_text(3, 'z'), 3);
    CHECK(alone && alone->len == 3 && alone->etag[0] == '"', "without a cache a blob is made all the same");
    blob_unref(alone);
    CHECK(http_reply_cache_new(0, 50) == NULL, "a budget of 0 is no cache");
    http_reply_cache_free(c);
}

static void references_outlive_eviction(void)
{
    http_reply_cache *c = http_reply_cache_new(BUDGET, LONG_AGO_MS);
    http_blob *stored = reply_cache_store(c, "acct\nGET /held", &stamp_a, reply_cache_now_us(), 200, "application/json",
                                          reply_text(500, 'k'), 500);
    http_blob *looked_up = reply_cache_lookup(c, "acct\nGET /held", &stamp_a);
    CHECK(looked_up == stored, "a lookup shares the stored blob, not a copy");
    for (int i = 0; i < 3000; i++) {
        char key[32];
        snprintf(key, sizeof key, "acct\nGET /flood/%d", i);
        keep(c, key, 400);
    }
    CHECK(!kept(c, "acct\nGET /held"), "the entry is evicted");
    char expect[500];
    memset(expect, 'k', sizeof expect);
    CHECK(!memcmp(stored->data, expect, sizeof expect), "its bytes stay readable while a reference is held");
    blob_unref(stored);
    CHECK(looked_up->len == 500 && looked_up->data[499] == 'k', "and while the last one is");
    blob_unref(looked_up);
    /* replaced under its key while a request still sends it */
    http_blob *sending = reply_cache_store(c, "acct\nGET /replaced", &stamp_a, reply_cache_now_us(), 200, NULL,
                                           reply_text(100, 'o'), 100);
    keep(c, "acct\nGET /replaced", 100);
    CHECK(sending->data[99] == 'o', "a reply replaced under its key stays whole for its sender");
    blob_unref(sending);
    http_reply_cache_free(c);
    http_reply_cache *freed = http_reply_cache_new(BUDGET, LONG_AGO_MS);
    http_blob *survivor = reply_cache_store(freed, "acct\nGET /s", &stamp_a, reply_cache_now_us(), 200, NULL,
                                            reply_text(50, 's'), 50);
    http_reply_cache_free(freed);
    CHECK(survivor->data[49] == 's', "a blob outlives the cache itself while referenced");
    blob_unref(survivor);
}

static void etags_follow_the_bytes(void)
{
    http_blob *a = reply_cache_store(NULL, "k", &stamp_a, 0, 200, NULL, strdup("{\"n\":1}"), 7);
    http_blob *same = reply_cache_store(NULL, "other key", &stamp_a, 0, 200, NULL, strdup("{\"n\":1}"), 7);
    http_blob *other = reply_cache_store(NULL, "k", &stamp_a, 0, 200, NULL, strdup("{\"n\":2}"), 7);
    CHECK(!strcmp(a->etag, same->etag), "equal bytes have equal ETags");
    CHECK(strcmp(a->etag, other->etag) != 0, "different bytes have different ETags");
    char weak[64], list[128], prefix[64], longer[64];
    snprintf(weak, sizeof weak, "W/%s", a->etag);
    snprintf(list, sizeof list, "%s, %s", other->etag, a->etag);
    snprintf(prefix, sizeof prefix, "%.*s\"", 20, a->etag);
    snprintf(longer, sizeof longer, "%.*s0\"", 33, a->etag);
    CHECK(etag_matches(a->etag, a->etag), "If-None-Match naming the tag matches");
    CHECK(etag_matches(weak, a->etag), "its weak form matches (If-None-Match compares weakly)");
    CHECK(etag_matches(list, a->etag), "a list naming it matches");
    CHECK(etag_matches("*", a->etag), "* matches");
    CHECK(!etag_matches(other->etag, a->etag), "another tag does not match");
    CHECK(!etag_matches(prefix, a->etag) && !etag_matches(longer, a->etag), "a tag that shares a prefix does not");
    CHECK(!etag_matches(NULL, a->etag) && !etag_matches("", a->etag), "no If-None-Match does not");
    blob_unref(a);
    blob_unref(same);
    blob_unref(other);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    budget_holds_after_many_inserts();
    recently_used_entries_survive();
    stamp_and_age_decide_a_hit();
    too_large_is_served_not_kept();
    references_outlive_eviction();
    etags_follow_the_bytes();
    return check_summary();
}
