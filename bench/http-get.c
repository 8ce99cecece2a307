/* Paced GETs of one path: N clients, each on its own keep-alive connection,
 * together send R requests/s on a fixed schedule, and each latency is
 * measured from the request's scheduled time, so a slow reply also counts
 * against the requests queued behind it (no coordinated omission, which a
 * closed loop such as wrk's has). For a read's latency while something else
 * loads the server (bench/http-read.sh: availability during a flash sale).
 *
 * usage: http-get --port P --path /x --header 'Authorization: ...' [--clients N] [--rate R] [--seconds S]
 * Loopback only; runs S seconds (default 10, at most 60). */
#include "http_client.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int port, clients = 8;
static const char *path, *header = "";
static double rate = 200, start_ms, end_ms;
static atomic_long failures;

static void *client(void *arg)
{
    client_stats *cs = arg;
    char req[2048];
    int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s\r\n", path, header,
                          *header ? "\r\n" : "");
    size_t buflen = 1 << 22; /* a year of timeslots fits */
    char *buf = malloc(buflen);
    int fd = connect_loopback(port);
    double interval = 1e3 * clients / rate, next = start_ms + 1e3 * cs->index / rate;
    while (fd >= 0 && next < end_ms && now_ms() < end_ms) {
        sleep_until(next);
        double scheduled = next;
        next += interval;
        char *body;
        int st = http_exchange(fd, req, (size_t)reqlen, buf, buflen, &body);
        if (st != 200) {
            atomic_fetch_add(&failures, 1);
            if (st < 0) {
                close(fd);
                fd = connect_loopback(port);
            }
            continue;
        }
        latency_add(cs, now_ms() - scheduled);
    }
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--path")) path = argv[i + 1];
        else if (!strcmp(argv[i], "--header")) header = argv[i + 1];
        else if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    }
    if (!port || !path || strlen(path) > 1024 || strlen(header) > 512 || clients < 1 || clients > 256 ||
        seconds <= 0 || seconds > 60 || rate <= 0) {
        fprintf(stderr, "usage: %s --port P --path /x [--header H] [--clients N] [--rate R] [--seconds S]\n", argv[0]);
        return 2;
    }
    start_ms = now_ms() + 50;
    end_ms = start_ms + seconds * 1e3;
    size_t n;
    double *all = run_clients(clients, client, &n);
    double secs = (now_ms() - start_ms) / 1e3;
    printf("http get: %d clients paced at %.0f/s (%.0f scheduled), %zu replies in %.2f s, %ld failed\n", clients, rate,
           rate * seconds, n, secs, atomic_load(&failures));
    print_latencies(all, n);
    free(all);
    return 0;
}
