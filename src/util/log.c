#include "util/log.h"
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Atomic so it can be changed at start-up while threads may already log. */
static _Atomic int min_level = LOG_INFO;

void log_set_level(log_level level) { atomic_store(&min_level, (int)level); }

void log_msg(log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&min_level)) return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    /* the date and time to the second, formatted once per second per thread
     * (gmtime_r takes glibc's time-zone lock) */
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24];
    static _Thread_local size_t cached_len;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        cached_len = strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    memcpy(line, cached, cached_len);
    int n = (int)cached_len;
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    n = m < 0 ? n : n + m >= (int)sizeof line - 1 ? (int)sizeof line - 2 : n + m;
    line[n++] = '\n';
    /* one write per line: whole lines across threads, no stdio lock */
    for (ssize_t off = 0, w; off < n; off += w)
        if ((w = write(STDERR_FILENO, line + off, (size_t)(n - off))) <= 0) break;
}
