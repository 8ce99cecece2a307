/* Barcode redeem over HTTP (Convious scan v2): N C clients, each on its own
 * keep-alive connection, POST the same unlimited-scan barcode. Without --rate
 * every client sends its next request as soon as the reply arrives (full
 * load); with --rate R the clients together send R requests/s on a fixed
 * schedule and latency is measured from each request's scheduled time, so a
 * slow reply also counts against the requests queued behind it.
 *
 * usage: http-redeem --port P --token T --barcode B [--clients N] [--rate R] [--seconds S]
 * Loopback only; runs S seconds (default 10, at most 60). */
#include "http_client.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int port;
static const char *token, *barcode;
static double rate, start_ms, end_ms;
static int clients = 64;
static atomic_long failures;

/* One request; returns the HTTP status, or -1 on a broken connection. */
static int redeem(int fd, const char *req, size_t reqlen, char *buf, size_t buflen)
{
    char *body;
    int status = http_exchange(fd, req, reqlen, buf, buflen, &body);
    if (status == 200 && !strstr(body ? body : "", "\"status\":\"success\"")) return 0;
    return status;
}

static void *client(void *arg)
{
    client_stats *cs = arg;
    char req[1024], buf[16384];
    char json[256];
    snprintf(json, sizeof json, "{\"barcode\":\"%s\"}", barcode);
    int reqlen = snprintf(req, sizeof req,
                          "POST /convious/api/v2/accounts/demo/barcode/scan/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Authorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                          token, strlen(json), json);
    int fd = connect_loopback(port);
    /* paced: client i sends at start + (i + k * clients) / rate */
    double interval = rate > 0 ? 1e3 * clients / rate : 0;
    double next = start_ms + (rate > 0 ? 1e3 * cs->index / rate : 0);
    while (fd >= 0) {
        double t0;
        if (rate > 0) {
            /* a server slower than the rate leaves the rest of the schedule unsent */
            if (next >= end_ms || now_ms() >= end_ms) break;
            sleep_until(next);
            t0 = next;
            next += interval;
        } else {
            t0 = now_ms();
            if (t0 >= end_ms) break;
        }
        int st = redeem(fd, req, (size_t)reqlen, buf, sizeof buf);
        if (st != 200) {
            atomic_fetch_add(&failures, 1);
            if (st < 0) {
                close(fd);
                fd = connect_loopback(port);
            }
            continue;
        }
        latency_add(cs, now_ms() - t0);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--barcode")) barcode = argv[i + 1];
        else if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    }
    if (!port || !token || !barcode || strlen(barcode) > 128 || strlen(token) > 512 || clients < 1 ||
        clients > 1024 || seconds <= 0 || seconds > 60 || rate < 0) {
        fprintf(stderr, "usage: %s --port P --token T --barcode B [--clients N] [--rate R] [--seconds S]\n",
                argv[0]);
        return 2;
    }
    start_ms = now_ms() + 50;
    end_ms = start_ms + seconds * 1e3;
    size_t n;
    double *all = run_clients(clients, client, &n);
    double secs = (now_ms() - start_ms) / 1e3;
    if (rate > 0) printf("http redeem: %d clients paced at %.0f/s (%.0f scheduled), ", clients, rate, rate * seconds);
    else printf("http redeem: %d clients at full load, ", clients);
    printf("%zu redeems in %.2f s, %ld failed\n", n, secs, atomic_load(&failures));
    printf("  redeems/s    %.0f\n", n / secs);
    print_latencies(all, n);
    free(all);
    return 0;
}
