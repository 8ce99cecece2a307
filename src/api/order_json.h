/* The canonical order and ticket documents of docs/MODEL.md, rendered from the
 * engine's typed records: what /admin/v1 serves, what the Convious and Ticket
 * Tailor dialects translate, and what the outbox records (the engine is handed
 * order_json_install's renderer at start-up). */
#ifndef BO_API_ORDER_JSON_H
#define BO_API_ORDER_JSON_H
#include "core/engine.h"
#include <jansson.h>

/* New references. */
json_t *order_json(const order_record *o, const account *a);
json_t *ticket_json(const ticket_record *t);
/* A ticket of a list page: the canonical ticket with "order_email" and
 * "order_name" of its order (when it has one). */
json_t *ticket_listed_json(const store_ticket_listed *t);
/* The canonical ticket with an "order" summary {visit_date, visit_time,
 * visit_end_time, customer}: what a scan reply shows. */
json_t *scan_ticket_json(const scan_ticket *t);

/* json_dumps(order_json(o, a), JSON_COMPACT) and the same of ticket_json,
 * written without a tree where the docs allow (the outbox's renderer):
 * malloc'd, NULL out of memory. */
char *order_text(const order_record *o, const account *a);
char *ticket_text(const ticket_record *t);

/* Hands the engine the outbox renderer (order and ticket as compact JSON
 * text); at start-up, before requests. */
void order_json_install(engine *e);

/* The engine's reads, rendered: the same statuses, *out a new reference (an
 * array for the lists) only on BO_OK. */
bo_status order_get_json(engine *e, const account *a, const char *order_id, json_t **out);
bo_status order_get_by_number_json(engine *e, const account *a, const char *number, json_t **out);
bo_status orders_list_json(engine *e, const account *a, const order_query *q, json_t **out, bool *has_more,
                           bo_error *err);
bo_status ticket_get_json(engine *e, const account *a, const char *ticket_id, json_t **out);
bo_status tickets_list_json(engine *e, const account *a, const ticket_query *q, json_t **out, bool *has_more,
                            bo_error *err);
#endif
