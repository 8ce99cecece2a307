/* What the HTTP benchmark clients (http-redeem, http-flash-sale, http-get) share: a
 * monotonic clock in milliseconds, a keep-alive connection to the server on
 * loopback, one request and its reply on that connection, and each client's
 * latencies, merged and sorted at the end. */
#ifndef BO_BENCH_HTTP_CLIENT_H
#define BO_BENCH_HTTP_CLIENT_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Sleeps until now_ms() reaches t (at once if it has). */
static inline void sleep_until(double t)
{
    double d = t - now_ms();
    if (d <= 0) return;
    struct timespec ts = {(time_t)(d / 1e3), (long)((d - (time_t)(d / 1e3) * 1e3) * 1e6)};
    nanosleep(&ts, NULL);
}

/* A TCP connection to 127.0.0.1:port without Nagle's delay; -1 if refused. */
static inline int connect_loopback(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes the request and reads its reply into buf (NUL-terminated, up to
 * Content-Length of body); returns the HTTP status, or -1 on a broken
 * connection. *body points into buf at the reply's body; NULL on a broken
 * connection or if the headers did not fit. */
static inline int http_exchange(int fd, const char *req, size_t reqlen, char *buf, size_t buflen, char **body)
{
    *body = NULL;
    if (write(fd, req, reqlen) != (ssize_t)reqlen) return -1;
    size_t got = 0;
    long clen = -1;
    while (got < buflen - 1) {
        ssize_t r = read(fd, buf + got, buflen - 1 - got);
        if (r <= 0) {
            *body = NULL;
            return -1;
        }
        got += (size_t)r;
        buf[got] = 0;
        if (!*body && (*body = strstr(buf, "\r\n\r\n"))) {
            *body += 4;
            char *cl = strcasestr(buf, "Content-Length:");
            clen = cl ? strtol(cl + 15, NULL, 10) : 0;
        }
        if (*body && (long)(got - (size_t)(*body - buf)) >= clen) break;
    }
    return atoi(buf + 9);
}

/* One client thread's latencies (ms) and, where kept, when each request was
 * due (wall clock, ms since the epoch); index is the client's number. */
typedef struct {
    int index;
    double *lat, *due;
    size_t n, cap;
} client_stats;

static inline void latency_add(client_stats *cs, double ms)
{
    if (cs->n == cs->cap) {
        cs->cap = cs->cap ? cs->cap * 2 : 4096;
        cs->lat = realloc(cs->lat, cs->cap * sizeof *cs->lat);
        cs->due = realloc(cs->due, cs->cap * sizeof *cs->due);
    }
    cs->due[cs->n] = 0;
    cs->lat[cs->n++] = ms;
}

/* The wall clock in ms since the epoch: what two benchmark processes agree on. */
static inline double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A latency and when its request was due (t0, on now_ms's clock). */
static inline void latency_add_due(client_stats *cs, double t0, double ms)
{
    latency_add(cs, ms);
    cs->due[cs->n - 1] = t0 + (wall_ms() - now_ms());
}

/* Whether a duty cycle of `on` seconds (on, then off as long, aligned to the
 * epoch so that another process computes the same phases) is on at t
 * (now_ms's clock); always on when on <= 0. */
static inline bool duty_on(double on, double t)
{
    return on <= 0 || (long long)((t + wall_ms() - now_ms()) / (on * 1e3)) % 2 == 0;
}

static inline int latency_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Every client's latencies in one ascending array (the caller frees it), *n
 * of them; frees the clients' own arrays. */
static inline double *latencies_sorted(client_stats *cs, int clients, size_t *n)
{
    *n = 0;
    for (int i = 0; i < clients; i++) *n += cs[i].n;
    double *all = malloc((*n + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < clients; i++) {
        if (cs[i].n) memcpy(all + k, cs[i].lat, cs[i].n * sizeof *all);
        k += cs[i].n;
        free(cs[i].lat), free(cs[i].due);
        cs[i].lat = cs[i].due = NULL;
    }
    qsort(all, *n, sizeof *all, latency_cmp);
    return all;
}

/* Runs `clients` threads of fn, each given its own client_stats (index set),
 * waits for them all, and returns every latency in one ascending array (the
 * caller frees it), *n of them. */
static inline double *run_clients(int clients, void *(*fn)(void *), size_t *n)
{
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    client_stats *cs = calloc((size_t)clients, sizeof *cs);
    for (int i = 0; i < clients; i++) {
        cs[i].index = i;
        pthread_create(&th[i], NULL, fn, &cs[i]);
    }
    for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
    double *all = latencies_sorted(cs, clients, n);
    free(cs);
    free(th);
    return all;
}

static inline void print_latencies(const double *all, size_t n)
{
    printf("  latency p50  %.2f ms\n", n ? all[n / 2] : 0.0);
    printf("  latency p99  %.2f ms\n", n ? all[(size_t)(n * 0.99)] : 0.0);
    printf("  latency max  %.2f ms\n", n ? all[n - 1] : 0.0);
}
/* One request on the connection with one extra header line ("Name: value");
 * the reply's body moved to the front of buf, except a 303's: its Location is
 * in the headers, which stay for the caller. The status, or -1. */
static inline int http_request_with(int fd, const char *method, const char *path, const char *header, const char *ctype,
                                    const char *body, char *buf, size_t buflen)
{
    char req[4096];
    int n = snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n%s%s%sContent-Length: %zu\r\n\r\n%s",
                     method, path, header, ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "",
                     body ? strlen(body) : 0, body ? body : "");
    if (n <= 0 || (size_t)n >= sizeof req) return -1;
    char *reply_body;
    int status = http_exchange(fd, req, (size_t)n, buf, buflen, &reply_body);
    if (reply_body && status != 303) memmove(buf, reply_body, strlen(reply_body) + 1);
    return status;
}

/* The text after `"name":"` in buf, up to the next quote, into out. */
static inline int json_text_of(const char *buf, const char *name, char *out, size_t n)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", name);
    const char *at = strstr(buf, pattern);
    if (!at) return 0;
    at += strlen(pattern);
    const char *end = strchr(at, '"');
    if (!end || (size_t)(end - at) >= n) return 0;
    memcpy(out, at, (size_t)(end - at));
    out[end - at] = 0;
    return 1;
}

/* A broken step of a client's path: counted in *failures, and the
 * connection made again when it broke (status < 0), else kept. */
static inline int step_failed(int fd, int status, int port, atomic_long *failures)
{
    atomic_fetch_add(failures, 1);
    if (status >= 0) return fd;
    close(fd);
    return connect_loopback(port);
}

#endif
