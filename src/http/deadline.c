/* The request deadline. libmicrohttpd's connection timeout counts inactivity,
 * so a client sending one byte every few seconds keeps a connection (and, in
 * thread-per-connection mode, a thread) forever. Here every open connection
 * is on a list with what it is doing since when; a watchdog thread shuts down
 * the socket of any connection that has been waiting for its request, or
 * taking its reply, for longer than the request timeout. MHD sees the
 * shutdown as the client going away and closes the connection itself. Time
 * spent in a handler is the server's and never counted. */
#include "http/internal.h"
#include "util/log.h"
#include "util/timeutil.h"
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

void conn_enter(conn_watch *w, conn_phase phase)
{
    /* once cut, a connection stays cut: MHD is closing it */
    int seen = atomic_load(&w->phase);
    if (seen == CONN_CUT) return;
    atomic_store(&w->since_ms, http_now_ms());
    atomic_compare_exchange_strong(&w->phase, &seen, (int)phase);
}

int64_t conn_pause(conn_watch *w)
{
    int64_t waited = http_now_ms() - atomic_load(&w->since_ms);
    conn_enter(w, CONN_HANDLING);
    return waited;
}

void conn_resume(conn_watch *w, int64_t waited)
{
    int seen = atomic_load(&w->phase);
    if (seen == CONN_CUT) return;
    atomic_store(&w->since_ms, http_now_ms() - waited);
    atomic_compare_exchange_strong(&w->phase, &seen, CONN_WAITING);
}

void deadlines_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode code)
{
    http_server *s = cls;
    conn_deadlines *d = &s->deadlines;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_watch *w = calloc(1, sizeof *w);
        if (!w || !info) {
            free(w);
            *socket_context = NULL;
            return;
        }
        w->fd = info->connect_fd;
        atomic_init(&w->phase, CONN_WAITING);
        atomic_init(&w->since_ms, http_now_ms());
        pthread_mutex_lock(&d->lock);
        w->next = d->head;
        if (d->head) d->head->prev = w;
        d->head = w;
        pthread_mutex_unlock(&d->lock);
        *socket_context = w;
        return;
    }
    conn_watch *w = *socket_context;
    if (!w) return;
    pthread_mutex_lock(&d->lock);
    if (w->prev) w->prev->next = w->next;
    else d->head = w->next;
    if (w->next) w->next->prev = w->prev;
    pthread_mutex_unlock(&d->lock);
    free(w);
    *socket_context = NULL;
}

/* Checks often enough that a connection outlives its deadline by at most a
 * tenth of it (and never by more than a quarter second). */
static long check_interval_ms(const http_server *s)
{
    long every = (long)s->cfg.request_timeout_seconds * 100;
    return every > 250 ? 250 : every;
}

static void *watchdog(void *arg)
{
    http_server *s = arg;
    conn_deadlines *d = &s->deadlines;
    int64_t limit_ms = (int64_t)s->cfg.request_timeout_seconds * 1000;
    long every = check_interval_ms(s);
    pthread_mutex_lock(&d->lock);
    while (!d->stopping) {
        int64_t now = http_now_ms();
        for (conn_watch *w = d->head; w; w = w->next) {
            int phase = atomic_load(&w->phase);
            if (phase == CONN_HANDLING || phase == CONN_CUT) continue;
            if (now - atomic_load(&w->since_ms) <= limit_ms) continue;
            if (!atomic_compare_exchange_strong(&w->phase, &phase, CONN_CUT)) continue;
            /* counted first, so whoever sees the close also sees the count */
            atomic_fetch_add(&d->cut, 1);
            /* under the lock: MHD has not closed this descriptor yet (see internal.h) */
            shutdown(w->fd, SHUT_RDWR);
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += every * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        while (!d->stopping && pthread_cond_timedwait(&d->wake, &d->lock, &until) != ETIMEDOUT) {}
    }
    pthread_mutex_unlock(&d->lock);
    return NULL;
}

void deadlines_start(http_server *s)
{
    conn_deadlines *d = &s->deadlines;
    pthread_mutex_init(&d->lock, NULL);
    monotonic_cond_init(&d->wake);
    atomic_init(&d->cut, 0);
    d->running = pthread_create(&d->thread, NULL, watchdog, s) == 0;
    if (!d->running) log_error("no request-deadline watchdog: slow clients are cut only when idle");
}

void deadlines_stop(http_server *s)
{
    conn_deadlines *d = &s->deadlines;
    if (d->running) {
        pthread_mutex_lock(&d->lock);
        d->stopping = true;
        pthread_cond_signal(&d->wake);
        pthread_mutex_unlock(&d->lock);
        pthread_join(d->thread, NULL);
        d->running = false;
    }
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->lock);
}
