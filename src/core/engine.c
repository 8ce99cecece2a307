#include "core/internal.h"
#include "core/inventory_refs.h"
#include "util/utf8.h"
#include "core/payment.h"
#include "core/webhooks.h"
#include "store/idempotency_store.h"
#include "util/log.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bo_status bo_fail(bo_error *err, bo_status st, const char *code, const char *field, const char *fmt, ...)
{
    if (!err) return st;
    err->status = st;
    snprintf(err->code, sizeof err->code, "%s", code ? code : "");
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    utf8_trim(err->field); /* both may echo client input cut at their size */
    utf8_trim(err->message);
    return st;
}

static bo_status storage_full(bo_error *err)
{
    return bo_fail(err, BO_UNAVAILABLE, "storage_full", "", "the database has no room to write; nothing was changed, "
                                                            "try again later");
}

bo_status bo_from_db(db_status st, bo_error *err)
{
    switch (st) {
    case DB_OK: return BO_OK;
    case DB_NOTFOUND: return bo_fail(err, BO_NOT_FOUND, "not_found", "", "not found");
    case DB_CONFLICT: return bo_fail(err, BO_CONFLICT, "conflict", "", "conflicts with existing data");
    case DB_FULL: return storage_full(err);
    default: return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure, nothing was changed");
    }
}

bo_status bo_from_store(store_status st, bo_error *err)
{
    switch (st) {
    case STORE_OK: return BO_OK;
    case STORE_NOT_FOUND: return bo_fail(err, BO_NOT_FOUND, "not_found", "", "not found");
    case STORE_SOLD_OUT: return bo_fail(err, BO_SOLD_OUT, "sold_out", "", "not enough tickets left");
    case STORE_CONFLICT: return bo_fail(err, BO_CONFLICT, "conflict", "", "conflicts with existing data");
    case STORE_FULL: return storage_full(err);
    case STORE_RETRY:
    case STORE_ERROR: break;
    }
    return bo_fail(err, BO_INTERNAL, "internal_error", "", "storage failure, nothing was changed");
}

void occurrence_key(civil_date day, int32_t time_from, char out[64])
{
    if (day < 0) {
        out[0] = 0;
        return;
    }
    /* per timeslot of every availability reply: no snprintf */
    date_format(day, out);
    if (time_from < 0) return;
    char tod[9];
    time_of_day_format(time_from, tod);
    out[10] = 'T';
    memcpy(out + 11, tod, 5);
    out[16] = 0;
}

bool engine_wait(engine *e, unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&e->stop_lock);
    if (!e->stopping) pthread_cond_timedwait(&e->stop_cond, &e->stop_lock, &ts);
    bool go_on = !e->stopping;
    pthread_mutex_unlock(&e->stop_lock);
    return go_on;
}

/* How often the reaper deletes the Idempotency-Keys past their retention. */
#define IDEMPOTENCY_PURGE_EVERY_US (60LL * 1000000)

/* How often the reaper deletes analytics past their retention (core/analytics.c). */
#define ANALYTICS_PRUNE_EVERY_US (600LL * 1000000)

static void *reaper_main(void *arg)
{
    engine *e = arg;
    instant_us last_purge = 0, last_analytics_prune = 0;
    while (engine_wait(e, e->cfg.reaper_interval_ms)) {
        int n = cart_reap_expired(e);
        if (n > 0) log_info("reaper: released %d expired cart(s)", n);
        int orders = payments_expire_due(e);
        if (orders > 0) log_info("reaper: released %d order(s) past their payment deadline", orders);
        int reconciled = payments_reconcile(e);
        if (reconciled > 0) log_info("reaper: %d payment(s) moved as their providers said", reconciled);
        instant_us now = clock_now();
        if (now - last_purge >= IDEMPOTENCY_PURGE_EVERY_US || now < last_purge) {
            last_purge = now;
            int purged = 0;
            if (store_idempotency_purge(e->st, now - IDEMPOTENCY_RETENTION_US, &purged) != STORE_OK)
                log_warn("reaper: idempotency keys not purged, will retry");
            else if (purged > 0) log_info("reaper: deleted %d idempotency key(s) past retention", purged);
        }
        if (now - last_analytics_prune >= ANALYTICS_PRUNE_EVERY_US || now < last_analytics_prune) {
            last_analytics_prune = now;
            int pruned = 0;
            if (analytics_prune(e, now, &pruned) != BO_OK) log_warn("reaper: analytics not pruned, will retry");
            else if (pruned > 0) log_info("reaper: deleted %d analytics event(s) past retention", pruned);
        }
    }
    return NULL;
}

/* The store's commit hook: a commit of this process recorded webhook
 * deliveries or mail, so each sender looks again (a needless look is one read). */
static void wake_senders(void *arg)
{
    engine *e = arg;
    sender_wake(&e->webhook_sender);
    sender_wake(&e->mail_sender);
}

engine *engine_open(store *st, const engine_config *cfg)
{
    engine *e = calloc(1, sizeof *e);
    e->st = st;
    e->cfg = *cfg;
    if (e->cfg.default_hold_seconds <= 0) e->cfg.default_hold_seconds = 900;
    const char *why = NULL;
    if (!webhooks_parse_allow(cfg->webhook_allow, e->webhook_allow, WEBHOOK_MAX_ALLOW, &e->webhook_nallow, &why)) {
        log_warn("webhook_allow: %s; no address is allowed", why);
        e->webhook_nallow = 0;
    }
    e->cfg.webhook_allow = NULL; /* the caller's string; parsed above */
    if (!cfg->catalog_codec) log_warn("no catalog codec: catalog documents can be neither written nor read");
    pthread_mutex_init(&e->cache_lock, NULL);
    pthread_mutex_init(&e->unlocked_lock, NULL);
    pthread_mutex_init(&e->webhook_pool_lock, NULL);
    auth_cache_init(&e->auth);
    e->usage = usage_memory_new();
    store_set_change_hook(st, inventory_changed, e);
    pricing_cache_open(e);
    pthread_mutex_init(&e->stop_lock, NULL);
    pthread_cond_init(&e->stop_cond, NULL);
    analytics_queue_open(e);
    if (cfg->start_workers && cfg->reaper_interval_ms > 0) {
        e->reaper_running = pthread_create(&e->reaper, NULL, reaper_main, e) == 0;
        if (e->reaper_running) pthread_setname_np(e->reaper, "bo-reaper");
    }
    if (cfg->start_workers) {
        webhooks_start(e);
        mail_start(e);
        store_set_commit_hook(st, wake_senders, e);
    }
    return e;
}

void engine_close(engine *e)
{
    if (!e) return;
    pthread_mutex_lock(&e->stop_lock);
    e->stopping = true;
    pthread_cond_broadcast(&e->stop_cond);
    pthread_mutex_unlock(&e->stop_lock);
    if (e->reaper_running) pthread_join(e->reaper, NULL);
    analytics_queue_close(e); /* its last write replans prices: before the pricing cache goes */
    /* its worker reads the catalog snapshots and the store: stopped before they go */
    pricing_cache_close(e->pricing);
    e->pricing = NULL;
    store_set_commit_hook(e->st, NULL, NULL);
    webhooks_stop(e);
    mail_stop(e);
    for (size_t i = 0; i < e->nsnapshots; i++) catalog_release(e->snapshots[i]);
    free(e->snapshots);
    auth_cache_destroy(&e->auth);
    store_set_change_hook(e->st, NULL, NULL);
    usage_memory_free(e->usage);
    free(e);
}

bool engine_read_stamp(engine *e, const account *a, civil_date from, civil_date to, read_stamp *out)
{
    /* versions first: whatever the reply then reads is at least this new */
    uint64_t inventory = from >= 0 && from == to ? 0 : inventory_version(e, a->id, from, to);
    catalog_snapshot *cs = catalog_acquire(e, a);
    if (!cs) return false;
    out->catalog = (uint64_t)cs->version;
    catalog_release(cs);
    out->inventory = inventory;
    out->clock_offset = clock_offset_seconds();
    out->access = atomic_load(&e->access_version);
    return true;
}

store *engine_store(engine *e) { return e->st; }

bool engine_ready(engine *e) { return store_ping(e->st) == STORE_OK; }

bo_status engine_writable(engine *e)
{
    bo_error ignored;
    return bo_from_store(store_writable(e->st), &ignored);
}
