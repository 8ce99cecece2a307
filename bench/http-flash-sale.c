/* Flash sale over HTTP through the Convious dialect: C clients, each on its
 * own keep-alive connection, create a cart and book it until the timeslot is
 * sold out (409). Prints bookings/s and p50/p99 of cart+booking.
 *
 * usage: http-flash-sale --port P --token T --category C --product ID --date D --time HH:MM:SS [--clients N]
 *        [--seconds S] [--days N --slots K] [--email ADDR]
 * --days/--slots spread the carts at random over N days from D and K hourly
 * slots from the time (every slot of a schedule), instead of one timeslot.
 * --email books each order for a customer with that e-mail (a confirmation mail
 * per order where the account sends them, bench/mail.sh).
 * --rate R paces the clients together at R bookings/s on a fixed schedule, each
 * latency counted from its scheduled time (a steady booking load beside another,
 * bench/convious-pricing.sh); without it each client books as fast as replies come.
 * --latencies FILE writes each booking's due time (wall clock, ms since the
 * epoch) and latency (ms), one pair a line: bench/convious-pricing.sh sorts
 * them into the phases of an ingest load that runs on and off.
 * Loopback only; stops by itself when sold out or after S seconds (default 120, at most 600). */
#include "http_client.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int port, days = 1, slots = 1;
static const char *token, *category, *product, *date, *start_time, *email, *latencies_file;
static atomic_long bookings, failures;
static atomic_bool sold_out;
static double deadline_ms, rate, start_ms;
static int clients = 64;

/* Sends one POST and reads the reply; returns the status, body into buf. */
static int post(int fd, const char *path, const char *json, char *buf, size_t buflen)
{
    char req[2048];
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     path, token, strlen(json), json);
    char *body;
    int status = http_exchange(fd, req, (size_t)n, buf, buflen, &body);
    if (body) memmove(buf, body, strlen(body) + 1);
    return status;
}

static void *client(void *arg)
{
    client_stats *cs = arg;
    int fd = connect_loopback(port);
    char buf[65536], body[1024], cart_path[256];
    snprintf(cart_path, sizeof cart_path, "/convious/api/v1/accounts/demo/carts/");
    struct tm first = {0};
    int hour = 0, minute = 0;
    sscanf(date, "%d-%d-%d", &first.tm_year, &first.tm_mon, &first.tm_mday);
    sscanf(start_time, "%d:%d", &hour, &minute);
    first.tm_year -= 1900;
    first.tm_mon -= 1;
    time_t day0 = timegm(&first);
    unsigned seed = (unsigned)(uintptr_t)cs;
    double interval = rate > 0 ? 1e3 * clients / rate : 0, next = start_ms + (rate > 0 ? 1e3 * cs->index / rate : 0);
    while (fd >= 0 && !atomic_load(&sold_out) && now_ms() < deadline_ms) {
        double t0 = now_ms();
        if (rate > 0) {
            if (next >= deadline_ms) break;
            sleep_until(next);
            t0 = next;
            next += interval;
        }
        time_t day = day0 + (time_t)(rand_r(&seed) % days) * 86400;
        struct tm d;
        gmtime_r(&day, &d);
        snprintf(body, sizeof body,
                 "{\"categoryId\":\"%s\",\"eventDate\":\"%04d-%02d-%02d\",\"startTime\":\"%02d:%02d:00\","
                 "\"items\":[{\"productId\":\"%s\",\"amount\":1}]}",
                 category, d.tm_year + 1900, d.tm_mon + 1, d.tm_mday, hour + rand_r(&seed) % slots, minute, product);
        int st = post(fd, cart_path, body, buf, sizeof buf);
        if (st == 409) {
            atomic_store(&sold_out, true);
            break;
        }
        char *id = strstr(buf, "\"id\":\"");
        if (st != 200 || !id) {
            atomic_fetch_add(&failures, 1);
            if (st < 0) {
                close(fd);
                fd = connect_loopback(port);
            }
            continue;
        }
        char cart_id[64];
        snprintf(cart_id, sizeof cart_id, "%.36s", id + 6);
        if (email)
            snprintf(body, sizeof body, "{\"cartId\":\"%s\",\"customer\":{\"email\":\"%s\",\"name\":\"Bench Buyer\"}}",
                     cart_id, email);
        else
            snprintf(body, sizeof body, "{\"cartId\":\"%s\"}", cart_id);
        st = post(fd, "/convious/api/v1/accounts/demo/bookings/", body, buf, sizeof buf);
        if (st != 200) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        atomic_fetch_add(&bookings, 1);
        latency_add_due(cs, t0, now_ms() - t0);
    }
    if (fd >= 0) close(fd);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 120;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--category")) category = argv[i + 1];
        else if (!strcmp(argv[i], "--product")) product = argv[i + 1];
        else if (!strcmp(argv[i], "--date")) date = argv[i + 1];
        else if (!strcmp(argv[i], "--time")) start_time = argv[i + 1];
        else if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--days")) days = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--slots")) slots = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--email")) email = argv[i + 1];
        else if (!strcmp(argv[i], "--rate")) rate = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--latencies")) latencies_file = argv[i + 1];
    }
    if (days < 1 || slots < 1 || days > 3660 || slots > 24) return 2;
    if (!port || !token || !category || !product || !date || !start_time || clients < 1 || clients > 1024) {
        fprintf(stderr, "usage: %s --port P --token T --category C --product ID --date D --time T [--clients N]\n",
                argv[0]);
        return 2;
    }
    if (seconds <= 0) seconds = 120;
    if (seconds > 600) seconds = 600;
    if (rate < 0) return 2;
    start_ms = now_ms() + 20;
    deadline_ms = start_ms + seconds * 1e3;
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    client_stats *cs = calloc((size_t)clients, sizeof *cs);
    double t0 = now_ms();
    for (int i = 0; i < clients; i++) {
        cs[i].index = i;
        pthread_create(&th[i], NULL, client, &cs[i]);
    }
    for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
    double secs = (now_ms() - t0) / 1e3;
    FILE *f = latencies_file ? fopen(latencies_file, "w") : NULL;
    if (latencies_file && !f) perror(latencies_file);
    for (int i = 0; f && i < clients; i++)
        for (size_t k = 0; k < cs[i].n; k++) fprintf(f, "%.3f %.3f\n", cs[i].due[k], cs[i].lat[k]);
    if (f) fclose(f);
    size_t n;
    double *all = latencies_sorted(cs, clients, &n);
    printf("http flash sale: %d clients%s, %ld bookings in %.2f s, %ld failed requests\n", clients,
           rate > 0 ? " (paced)" : "", atomic_load(&bookings), secs, atomic_load(&failures));
    printf("  bookings/s   %.0f (cart + booking, each acknowledged after commit)\n", atomic_load(&bookings) / secs);
    printf("  latency p50  %.2f ms\n", n ? all[n / 2] : 0.0);
    printf("  latency p99  %.2f ms\n", n ? all[(size_t)(n * 0.99)] : 0.0);
    free(all);
    free(cs);
    free(th);
    return 0;
}
