#include "util/log.h"
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

/* Atomic so it can be changed at start-up while threads may already log. */
static _Atomic int min_level = LOG_INFO;

void log_set_level(log_level level) { atomic_store(&min_level, (int)level); }

void log_msg(log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&min_level)) return;
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03ldZ %s ", ts.tv_nsec / 1000000, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
