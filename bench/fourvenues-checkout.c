/* Fourvenues checkout over HTTP: C clients, each on its own keep-alive
 * connection, run the channel buyer's whole path until the rate is sold out:
 *   checkout POST /fourvenues/tickets/checkout (two tickets; answers /pay/{id})
 *   page     GET /pay/{id} (the hosted test page: its CSRF token)
 *   pay      POST /pay/{id} outcome=paid (303 to redirect_url ...status=paid)
 * Prints paid checkouts/s and p50/p99 of each step and of the whole path, and
 * writes "payment_id wall-clock-ms" for every paid checkout to --paid-log, so
 * the script can measure the payment.success delivery lag against its receiver.
 *
 * usage: fourvenues-checkout --port P --key CHANNEL_KEY --rate RATE_ID --price PRICE_ID
 *        [--clients N] [--seconds S] [--paid-log FILE]
 * Loopback only; stops by itself when sold out (409 sold_out) or after S
 * seconds (default 120). */
#include "http_client.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port;
static const char *key, *rate, *price;
static atomic_long paid, failures;
static atomic_bool sold_out;
static double deadline_ms;
static FILE *paid_log;
static pthread_mutex_t paid_log_lock = PTHREAD_MUTEX_INITIALIZER;

enum { STEP_CHECKOUT, STEP_PAGE, STEP_PAY, STEP_ALL, NSTEPS };
static const char *const step_names[NSTEPS] = {"checkout", "page", "pay", "whole path"};

typedef struct {
    client_stats step[NSTEPS];
} client_steps;

/* One request on the connection with the client's credential. */
static int request(int fd, const char *method_name, const char *path, const char *ctype, const char *body, char *buf,
                   size_t buflen)
{
    char header[320];
    snprintf(header, sizeof header, "X-Api-Key: %s", key);
    return http_request_with(fd, method_name, path, header, ctype, body, buf, buflen);
}

static void *client(void *arg)
{
    client_steps *cs = arg;
    int fd = connect_loopback(port);
    char *buf = malloc(65536);
    char body[1024], payment_id[64], payment_url[256], page[128], csrf[64];
    char checkout_body[1024];
    snprintf(checkout_body, sizeof checkout_body,
             "{\"redirect_url\":\"https://app.example/ok\",\"error_url\":\"https://app.example/error\","
             "\"send_resourcers\":false,\"metadata\":{\"bench\":true},\"ticket_rate_id\":\"%s\",\"tickets\":["
             "{\"price_id\":\"%s\",\"full_name\":\"Bench Buyer\",\"email\":\"bench@example.com\"},"
             "{\"price_id\":\"%s\"}]}",
             rate, price, price);
    while (fd >= 0 && !atomic_load(&sold_out) && now_ms() < deadline_ms) {
        double t0 = now_ms(), t = t0;
        int st = request(fd, "POST", "/fourvenues/tickets/checkout", "application/json", checkout_body, buf, 65536);
        if (st == 409 && strstr(buf, "\"sold_out\"")) {
            atomic_store(&sold_out, true);
            break;
        }
        const char *pay_at = st == 201 && json_text_of(buf, "payment_id", payment_id, sizeof payment_id) &&
                                     json_text_of(buf, "payment_url", payment_url, sizeof payment_url)
                                 ? strstr(payment_url, "/pay/")
                                 : NULL;
        if (!pay_at) {
            fd = step_failed(fd, st, port, &failures);
            continue;
        }
        snprintf(page, sizeof page, "%s", pay_at);
        latency_add(&cs->step[STEP_CHECKOUT], now_ms() - t);
        t = now_ms();
        st = request(fd, "GET", page, NULL, NULL, buf, 65536);
        const char *token_at = st == 200 ? strstr(buf, "name=\"csrf\" value=\"") : NULL;
        if (!token_at || sscanf(token_at + 19, "%63[0-9a-f]", csrf) != 1) {
            fd = step_failed(fd, st, port, &failures);
            continue;
        }
        latency_add(&cs->step[STEP_PAGE], now_ms() - t);
        t = now_ms();
        snprintf(body, sizeof body, "csrf=%s&outcome=paid", csrf);
        st = request(fd, "POST", page, "application/x-www-form-urlencoded", body, buf, 65536);
        if (st != 303 || !strstr(buf, "status=paid")) {
            fd = step_failed(fd, st, port, &failures);
            continue;
        }
        double done = wall_ms();
        latency_add(&cs->step[STEP_PAY], now_ms() - t);
        latency_add(&cs->step[STEP_ALL], now_ms() - t0);
        atomic_fetch_add(&paid, 1);
        if (paid_log) {
            pthread_mutex_lock(&paid_log_lock);
            fprintf(paid_log, "%s %.3f\n", payment_id, done);
            pthread_mutex_unlock(&paid_log_lock);
        }
    }
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    int clients = 64;
    double seconds = 120;
    const char *log_path = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--key")) key = argv[i + 1];
        else if (!strcmp(argv[i], "--rate")) rate = argv[i + 1];
        else if (!strcmp(argv[i], "--price")) price = argv[i + 1];
        else if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--paid-log")) log_path = argv[i + 1];
    }
    if (!port || !key || !rate || !price || clients < 1 || clients > 1024 || strlen(key) > 256 || strlen(rate) > 64 ||
        strlen(price) > 64) {
        fprintf(stderr, "usage: %s --port P --key KEY --rate RATE_ID --price PRICE_ID [--clients N]\n", argv[0]);
        return 2;
    }
    if (log_path && !(paid_log = fopen(log_path, "w"))) {
        perror(log_path);
        return 2;
    }
    if (seconds <= 0 || seconds > 120) seconds = 120;
    deadline_ms = now_ms() + seconds * 1e3;
    pthread_t *th = calloc((size_t)clients, sizeof *th);
    client_steps *cs = calloc((size_t)clients, sizeof *cs);
    double t0 = now_ms();
    for (int i = 0; i < clients; i++) pthread_create(&th[i], NULL, client, &cs[i]);
    for (int i = 0; i < clients; i++) pthread_join(th[i], NULL);
    double secs = (now_ms() - t0) / 1e3;
    if (paid_log) fclose(paid_log);
    printf("fourvenues checkout: %d clients, %ld paid checkouts in %.2f s, %ld failed steps%s\n", clients,
           atomic_load(&paid), secs, atomic_load(&failures), atomic_load(&sold_out) ? ", sold out" : "");
    printf("  paid checkouts/s %.0f (2 tickets each: checkout + page + pay, each write acknowledged after commit)\n",
           atomic_load(&paid) / secs);
    for (int s = 0; s < NSTEPS; s++) {
        client_stats per[1024];
        for (int i = 0; i < clients; i++) per[i] = cs[i].step[s];
        size_t n;
        double *all = latencies_sorted(per, clients, &n);
        printf("  %-10s p50 %7.2f ms  p99 %7.2f ms\n", step_names[s], n ? all[n / 2] : 0.0,
               n ? all[(size_t)(n * 0.99)] : 0.0);
        free(all);
    }
    free(cs);
    free(th);
    return 0;
}
