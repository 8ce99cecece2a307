/* The background sender loop (see sender.h). */
#include "core/sender.h"
#include "core/internal.h"
#include "util/log.h"
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

/* The server clock may jump ahead (the test clock): compare against it at
 * least this often while waiting for a due time; that costs no query. */
#define CLOCK_CHECK_MS 1000
/* Something due but nothing claimed (another process was first, or the
 * database failed): look again after this rather than at once. */
#define RETRY_PAUSE_MS 250
#define NOTHING_DUE INT64_MAX

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sender_wake(sender *s)
{
    /* a full pipe already says "look again" */
    if (s->running && write(s->wake_pipe[1], "w", 1) < 0) {}
}

static bool stopping(engine *e)
{
    pthread_mutex_lock(&e->stop_lock);
    bool stop = e->stopping;
    pthread_mutex_unlock(&e->stop_lock);
    return stop;
}

/* Waits until `due` (server clock) or monotonic `recheck_ms`, whichever is
 * first, or until woken. Returns false when the engine stops. */
static bool sleep_until(sender *s, store_listener **listener, int64_t due, int64_t recheck_ms)
{
    for (;;) {
        int64_t left = recheck_ms - monotonic_ms();
        if (due != NOTHING_DUE) {
            int64_t to_due = (due - clock_now() + 999) / 1000;
            if (to_due < left) left = to_due;
            if (left > CLOCK_CHECK_MS) left = CLOCK_CHECK_MS;
        }
        if (left <= 0) return !stopping(s->e);
        struct pollfd fds[2] = {{.fd = s->wake_pipe[0], .events = POLLIN},
                                {.fd = *listener ? store_listener_fd(*listener) : -1, .events = POLLIN}};
        int n = poll(fds, 2, (int)left);
        if (stopping(s->e)) return false;
        if (n <= 0) continue;
        bool woken = false;
        if (fds[0].revents) {
            char buf[64];
            while (read(s->wake_pipe[0], buf, sizeof buf) > 0) {}
            woken = true;
        }
        if (fds[1].revents) {
            /* a notification, or a lost connection: either way look again */
            if (!store_listener_drain(*listener)) {
                store_listener_close(*listener);
                *listener = NULL;
            }
            woken = true;
        }
        if (woken) return true;
    }
}

/* Sleeps ms unless the engine stops meanwhile (false then). A wake during
 * the pause is kept in the pipe for the next sleep_until. */
static bool pause_ms(sender *s, int ms)
{
    int64_t until = monotonic_ms() + ms;
    for (int64_t left; (left = until - monotonic_ms()) > 0;) {
        struct timespec ts = {0, (long)(left > 50 ? 50 : left) * 1000000L};
        nanosleep(&ts, NULL);
        if (stopping(s->e)) return false;
    }
    return !stopping(s->e);
}

static void *sender_main(void *arg)
{
    sender *s = arg;
    engine *e = s->e;
    if (s->nice && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), getpriority(PRIO_PROCESS, 0) + s->nice) != 0)
        log_warn("%s: could not lower its priority", s->name);
    bool postgres = store_dialect(e->st) == DB_DIALECT_POSTGRES;
    store_listener *listener = NULL;
    int64_t listen_tried_ms = INT64_MIN / 2;
    for (;;) {
        int64_t now_ms = monotonic_ms();
        if (postgres && !listener && now_ms - listen_tried_ms >= SENDER_RECHECK_MS) {
            /* (again) before the read below, so nothing committed between them is missed */
            listen_tried_ms = now_ms;
            listener = store_listen(e->st);
        }
        int64_t due;
        store_status st = s->next_due(e->st, &due);
        if (st == STORE_NOT_FOUND) due = NOTHING_DUE;
        else if (st != STORE_OK) due = clock_now() + RETRY_PAUSE_MS * 1000LL;
        if (due <= clock_now()) {
            if (s->deliver_due(e) > 0) continue;
            due = clock_now() + RETRY_PAUSE_MS * 1000LL;
        }
        if (!sleep_until(s, &listener, due, now_ms + SENDER_RECHECK_MS)) break;
        if (s->coalesce_ms && !pause_ms(s, s->coalesce_ms)) break;
    }
    store_listener_close(listener);
    return NULL;
}

bool sender_start(sender *s, engine *e)
{
    s->e = e;
    if (pipe2(s->wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        log_error("%s: no wake pipe; nothing is sent", s->name);
        return false;
    }
    s->running = pthread_create(&s->thread, NULL, sender_main, s) == 0;
    if (s->running) {
        pthread_setname_np(s->thread, s->name);
        return true;
    }
    log_error("%s: no thread; nothing is sent", s->name);
    close(s->wake_pipe[0]);
    close(s->wake_pipe[1]);
    return false;
}

void sender_stop(sender *s)
{
    if (!s->running) return;
    sender_wake(s);
    pthread_join(s->thread, NULL);
    s->running = false;
    close(s->wake_pipe[0]);
    close(s->wake_pipe[1]);
}
