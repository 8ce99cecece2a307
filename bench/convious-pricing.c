/* The Convious pricing API under load (bench/convious-pricing.sh), C clients
 * each on its own keep-alive connection:
 *   rtp     POST /convious-pricing/api/price/rtp for DAYS days x the 9 hourly
 *           times 09:00-17:00 x the given products (1 item each); each client
 *           asks as 64 visitors in turn (cookieId), so quotes are both kept
 *           and read back, as a shop's returning visitors do.
 *   events  POST /convious-pricing/events: batches of BATCH browser analytics
 *           events (no bearer) for the account, a mix of the page, product,
 *           price, date and cart events a shop's pages log; a batch is one
 *           visitor's (cookieId), as the browser library sends them, and each
 *           batch a new visitor's.
 * Without --rate a client sends its next request when the reply arrives (full
 * load); with --rate R the clients together send R requests/s on a fixed
 * schedule and each latency counts from the request's scheduled time (no
 * coordinated omission). --duty S with --rate sends only in every other S
 * seconds (on, off, on, ..., aligned to the wall clock's epoch: the phases
 * another process computes), skipping what falls due while off. Prints
 * requests/s, p50, p99, max and, for events, events/s (over the whole run).
 *
 * usage: convious-pricing rtp --port P --token T --products ID,ID [--days N] [--from YYYY-MM-DD]
 *        convious-pricing events --port P --account SLUG [--product ID] [--batch N]
 *        common: [--clients N] [--seconds S] [--requests N] [--rate R [--duty S]]
 * Loopback only; stops by itself after S seconds (default 10, at most 600) or
 * N requests, whichever comes first. */
#include "http_client.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RTP_TIMES = 9, BODY_MAX = 1 << 16, REPLY_MAX = 1 << 22 };

static int port, clients = 16, days = 30, batch = 50;
static bool events_mode;
static const char *token, *products, *from_day, *account, *event_product = "d0000000-0000-4000-8000-000000000005";
static double rate, duty, start_ms, end_ms;
static long max_requests = 1000000;
static atomic_long issued, failures, reply_bytes;

/* The rtp body for one visitor: every product, DAYS days from from_day, 9 times. */
static int rtp_body(char *out, size_t cap, unsigned visitor, int client)
{
    struct tm first = {0};
    sscanf(from_day, "%d-%d-%d", &first.tm_year, &first.tm_mon, &first.tm_mday);
    first.tm_year -= 1900, first.tm_mon -= 1;
    time_t last = timegm(&first) + (time_t)(days - 1) * 86400;
    struct tm to;
    gmtime_r(&last, &to);
    int n = snprintf(out, cap,
                     "{\"cookieId\":\"bench-%d-%u\",\"ip\":\"203.0.113.%u\",\"dateFrom\":\"%s\","
                     "\"dateTo\":\"%04d-%02d-%02d\",\"timezone\":\"Europe/Amsterdam\",\"times\":[",
                     client, visitor, visitor % 250 + 1, from_day, to.tm_year + 1900, to.tm_mon + 1, to.tm_mday);
    for (int t = 0; t < RTP_TIMES; t++) n += snprintf(out + n, cap - (size_t)n, "%s\"%02d:00:00\"", t ? "," : "", 9 + t);
    n += snprintf(out + n, cap - (size_t)n, "],\"products\":[");
    char list[512];
    snprintf(list, sizeof list, "%s", products);
    char *save = NULL;
    bool first_product = true;
    for (char *id = strtok_r(list, ",", &save); id; id = strtok_r(NULL, ",", &save), first_product = false)
        n += snprintf(out + n, cap - (size_t)n, "%s{\"productReference\":\"%s\",\"numberOfItems\":1}",
                      first_product ? "" : ",", id);
    n += snprintf(out + n, cap - (size_t)n, "]}");
    return n;
}

/* One visitor's batch of analytics events; *visitor advances every batch, so
 * no cookie nears its per-minute limit (600 by default). */
static int events_body(char *out, size_t cap, unsigned *visitor, int client, unsigned *seed)
{
    static const char *kinds[] = {"PageViewed", "UserViewedProducts", "UserViewedPrices", "UserSelectedDate",
                                  "UserAddedItemToCart"};
    int n = snprintf(out, cap, "[");
    (*visitor)++;
    for (int i = 0; i < batch; i++) {
        const char *kind = kinds[rand_r(seed) % 5];
        n += snprintf(out + n, cap - (size_t)n,
                      "%s{\"type\":\"%s\",\"payload\":{\"accountId\":\"%s\",\"cookieId\":\"bench-%d-%u\","
                      "\"time\":\"2026-05-01T10:%02d:%02dZ\"",
                      i ? "," : "", kind, account, client, *visitor, i % 60, rand_r(seed) % 60);
        if (!strcmp(kind, "PageViewed"))
            n += snprintf(out + n, cap - (size_t)n,
                          ",\"refererUrl\":\"https://example.com/\",\"currentUrl\":\"https://shop.example.com/tickets\"");
        else if (strcmp(kind, "UserViewedProducts"))
            n += snprintf(out + n, cap - (size_t)n, ",\"productId\":\"%s\",\"eventDate\":\"2026-05-%02d\"",
                          event_product, 1 + rand_r(seed) % 28);
        n += snprintf(out + n, cap - (size_t)n, "}}");
    }
    n += snprintf(out + n, cap - (size_t)n, "]");
    return n;
}

static void *client(void *arg)
{
    client_stats *cs = arg;
    char *body = malloc(BODY_MAX), *req = malloc(BODY_MAX + 1024), *reply = malloc(REPLY_MAX);
    unsigned visitor = 0, seed = 7919u * (unsigned)(cs->index + 1);
    int fd = connect_loopback(port);
    double interval = rate > 0 ? 1e3 * clients / rate : 0, next = start_ms + (rate > 0 ? 1e3 * cs->index / rate : 0);
    bool was_off = false;
    while (fd >= 0 && now_ms() < end_ms && atomic_fetch_add(&issued, 1) < max_requests) {
        double t0 = now_ms();
        if (rate > 0) {
            if (next >= end_ms) break;
            sleep_until(next);
            t0 = next;
            next += interval;
            if (!duty_on(duty, t0)) {
                atomic_fetch_sub(&issued, 1);
                was_off = true;
                continue;
            }
            if (was_off) {
                /* a new connection after an off phase, as a browser's next page makes: the server
                 * closes keep-alive connections idle past its timeout */
                close(fd);
                fd = connect_loopback(port);
                was_off = false;
                if (fd < 0) break;
            }
        }
        int blen = events_mode ? events_body(body, BODY_MAX, &visitor, cs->index, &seed)
                               : rtp_body(body, BODY_MAX, visitor++ % 64, cs->index);
        int rlen = events_mode
                       ? snprintf(req, BODY_MAX + 1024,
                                  "POST /convious-pricing/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Accept-Version: 1.0.0\r\nContent-Type: application/json\r\n"
                                  "Content-Length: %d\r\n\r\n%s",
                                  blen, body)
                       : snprintf(req, BODY_MAX + 1024,
                                  "POST /convious-pricing/api/price/rtp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  "Accept-Version: 1.0.0\r\nAuthorization: Bearer %s\r\n"
                                  "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                                  token, blen, body);
        char *reply_body;
        int st = http_exchange(fd, req, (size_t)rlen, reply, REPLY_MAX, &reply_body);
        if (st != 200) {
            if (atomic_fetch_add(&failures, 1) < 3)
                fprintf(stderr, "status %d: %.300s\n", st, reply_body ? reply_body : "(broken connection)");
            if (st < 0) {
                close(fd);
                fd = connect_loopback(port);
            }
            continue;
        }
        atomic_fetch_add(&reply_bytes, (long)strlen(reply_body));
        latency_add(cs, now_ms() - t0);
    }
    if (fd >= 0) close(fd);
    free(body);
    free(req);
    free(reply);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 10;
    if (argc < 2 || (strcmp(argv[1], "rtp") && strcmp(argv[1], "events"))) goto usage;
    events_mode = !strcmp(argv[1], "events");
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--products")) products = argv[i + 1];
        else if (!strcmp(argv[i], "--days")) days = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--from")) from_day = argv[i + 1];
        else if (!strcmp(argv[i], "--account")) account = argv[i + 1];
        else if (!strcmp(argv[i], "--product")) event_product = argv[i + 1];
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--requests")) max_requests = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--duty")) duty = atof(argv[i + 1]);
        else goto usage;
    }
    time_t tomorrow = time(NULL) + 86400;
    char day[16];
    strftime(day, sizeof day, "%Y-%m-%d", gmtime(&tomorrow));
    if (!from_day) from_day = day;
    if (!port || clients < 1 || clients > 256 || seconds <= 0 || seconds > 600 || max_requests < 1 || rate < 0 ||
        days < 1 || days > 92 || batch < 1 || batch > 1000 || strlen(event_product) > 100 ||
        (events_mode ? !account || strlen(account) > 100
                     : !token || strlen(token) > 512 || !products || strlen(products) > 500 || strlen(from_day) != 10))
        goto usage;
    start_ms = now_ms() + 20;
    end_ms = start_ms + seconds * 1e3;
    size_t n;
    double *all = run_clients(clients, client, &n);
    double secs = (now_ms() - start_ms) / 1e3;
    if (events_mode)
        printf("events: %d clients%s, %zu batches of %d in %.2f s, %ld failed\n  events/s     %.0f\n", clients,
               rate > 0 ? " (paced)" : "", n, batch, secs, atomic_load(&failures), (double)n * batch / secs);
    else
        printf("rtp: %d clients%s, %d days x %d times, %zu replies (%.0f bytes each) in %.2f s, %ld failed\n", clients,
               rate > 0 ? " (paced)" : "", days, RTP_TIMES, n, n ? (double)atomic_load(&reply_bytes) / n : 0.0, secs,
               atomic_load(&failures));
    printf("  requests/s   %.0f\n", n / secs);
    print_latencies(all, n);
    free(all);
    return atomic_load(&failures) ? 1 : 0;
usage:
    fprintf(stderr,
            "usage: %s rtp --port P --token T --products ID,ID [--days N] [--from DAY]\n"
            "       %s events --port P --account SLUG [--product ID] [--batch N]\n"
            "       common: [--clients N] [--seconds S] [--requests N] [--rate R [--duty S]]\n",
            argv[0], argv[0]);
    return 2;
}
