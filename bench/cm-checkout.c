/* CM.com shop checkout over HTTP: C clients, each on its own keep-alive
 * connection, run the buyer's whole path until the event is sold out:
 *   reserve  POST /cm/.../events/{event}/reservations (one ticket)
 *   checkout POST .../reservations/{order_id}/checkout (answers /pay/{id})
 *   page     GET /pay/{id} (the hosted test page: its CSRF token)
 *   pay      POST /pay/{id} outcome=paid (303 to success_url ...status=paid)
 * Prints paid orders/s and p50/p99 of each step and of the whole path.
 *
 * usage: cm-checkout --port P --token PRODUCT_TOKEN --event UUID --ticket-type UUID --method UUID
 *        [--clients N] [--seconds S]
 * Loopback only; stops by itself when sold out (400 SOLD_OUT) or after S
 * seconds (default 120). */
#include "http_client.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int port;
static const char *token, *event, *ticket_type, *method;
static atomic_long paid, failures;
static atomic_bool sold_out;
static double deadline_ms;

enum { STEP_RESERVE, STEP_CHECKOUT, STEP_PAGE, STEP_PAY, STEP_ALL, NSTEPS };
static const char *const step_names[NSTEPS] = {"reserve", "checkout", "page", "pay", "whole path"};

/* One client's latencies per step. */
typedef struct {
    client_stats step[NSTEPS];
} client_steps;

/* One request on the connection with the client's credential. */
static int request(int fd, const char *method_name, const char *path, const char *ctype, const char *body, char *buf,
                   size_t buflen)
{
    char header[320];
    snprintf(header, sizeof header, "X-CM-PRODUCTTOKEN: %s", token);
    return http_request_with(fd, method_name, path, header, ctype, body, buf, buflen);
}

static void *client(void *arg)
{
    client_steps *cs = arg;
    int fd = connect_loopback(port);
    char *buf = malloc(65536);
    char path[512], body[1024], order_id[64], page[128], csrf[64];
    snprintf(path, sizeof path, "/cm/ticketingapi/v2.0/ticketshop/events/%s/reservations", event);
    char reserve_body[512];
    snprintf(reserve_body, sizeof reserve_body,
             "{\"customer_data\":{\"first_name\":\"Bench\",\"last_name\":\"Buyer\",\"email\":\"bench@example.com\"},"
             "\"ticket_types\":[{\"uuid\":\"%s\",\"amount\":1}]}",
             ticket_type);
    while (fd >= 0 && !atomic_load(&sold_out) && now_ms() < deadline_ms) {
        double t0 = now_ms(), t = t0;
        int st = request(fd, "POST", path, "application/json", reserve_body, buf, 65536);
        if (st == 400 && strstr(buf, "\"SOLD_OUT\"")) {
            atomic_store(&sold_out, true);
            break;
        }
        if (st != 201 || !json_text_of(buf, "order_id", order_id, sizeof order_id)) {
            fd = step_failed(fd, st, port, &failures);
            continue;
        }
        latency_add(&cs->step[STEP_RESERVE], now_ms() - t);
        t = now_ms();
        char checkout_path[640];
        snprintf(checkout_path, sizeof checkout_path, "%s/%s/checkout", path, order_id);
        snprintf(body, sizeof body,
                 "{\"order_id\":\"%s\",\"payment_method_uuid\":\"%s\",\"callback_urls\":{"
                 "\"success_url\":\"https://shop.example/ok\",\"failed_url\":\"https://shop.example/failed\","
                 "\"cancelled_url\":\"https://shop.example/cancelled\",\"expired_url\":\"https://shop.example/expired\"}}",
                 order_id, method);
        char redirect[256];
        st = request(fd, "POST", checkout_path, "application/json", body, buf, 65536);
        const char *pay_at = st == 201 && json_text_of(buf, "redirect_url", redirect, sizeof redirect)
                                 ? strstr(redirect, "/pay/")
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
        latency_add(&cs->step[STEP_PAY], now_ms() - t);
        latency_add(&cs->step[STEP_ALL], now_ms() - t0);
        atomic_fetch_add(&paid, 1);
    }
    if (fd >= 0) close(fd);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    int clients = 64;
    double seconds = 120;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port")) port = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--token")) token = argv[i + 1];
        else if (!strcmp(argv[i], "--event")) event = argv[i + 1];
        else if (!strcmp(argv[i], "--ticket-type")) ticket_type = argv[i + 1];
        else if (!strcmp(argv[i], "--method")) method = argv[i + 1];
        else if (!strcmp(argv[i], "--clients")) clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    }
    if (!port || !token || !event || !ticket_type || !method || clients < 1 || clients > 1024 ||
        strlen(event) > 64 || strlen(ticket_type) > 64 || strlen(method) > 64) {
        fprintf(stderr, "usage: %s --port P --token T --event UUID --ticket-type UUID --method UUID [--clients N]\n",
                argv[0]);
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
    printf("cm checkout: %d clients, %ld paid orders in %.2f s, %ld failed steps%s\n", clients, atomic_load(&paid),
           secs, atomic_load(&failures), atomic_load(&sold_out) ? ", sold out" : "");
    printf("  paid orders/s %.0f (reserve + checkout + page + pay, each write acknowledged after commit)\n",
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
