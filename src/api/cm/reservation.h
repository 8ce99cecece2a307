/* What the reservation endpoints share (reservations.c, generate.c). */
#ifndef BO_CM_RESERVATION_H
#define BO_CM_RESERVATION_H
#include "api/cm/cm.h"

#define CM_MAX_TYPES 50
#define CM_MAX_AMOUNT 1000

/* A reservation body, checked against the event. */
typedef struct {
    json_t *body;            /* borrowed from the request */
    bool free_only;          /* set by the caller: a free reservation takes no ?code */
    cart_line lines[CM_MAX_TYPES];
    size_t line_index[CM_MAX_TYPES]; /* each line's place in the body's ticket_types */
    size_t nlines;
    cart_request req;        /* lines, occurrence or slot, discount code */
    json_t *extras;          /* owned: time_slot_id, discount_code / voucher_code */
    char *customer, *extras_text; /* owned texts handed to the engine */
    json_t *customer_doc;    /* owned: what customer was dumped from */
} cm_reservation_input;
/* Checks the body (customer_data against the event's requirements,
 * ticket_types, time_slot_id, ?code); false after replying 400. */
bool cm_reservation_parse(http_request *r, engine *e, const catalog_model *m, const cm_event *ce,
                          cm_reservation_input *in);
void cm_reservation_input_clear(cm_reservation_input *in);
/* cm_event_open, then cm_reservation_parse: the view (the caller closes it
 * and clears *in), or NULL after replying. */
catalog_view *cm_reservation_open(http_request *r, engine *e, cm_event *ce, cm_reservation_input *in);
/* The engine's customer and extras texts of *in, handed to in->req. */
void cm_reservation_texts(cm_reservation_input *in, const char *customer_uuid, instant_us created_at);
/* Replies for a refused hold: CODE_SOLD_OUT, SOLD_OUT, CODE_EXPIRED, ... */
void cm_hold_failed(http_request *r, engine *e, const account *a, const catalog_model *m, const cart_request *req,
                    const bo_error *err);
/* {order_id, due_at, time_slot_id, customer_data, ticket_types} of a reservation. */
json_t *cm_reservation_json(const cart_record *cart);
/* The engine's customer document for customer_data (malloc'd text). */
char *cm_customer_text(const json_t *cd, const char *uuid, instant_us created_at);
/* The doc's customer_data object from the engine's customer text. */
json_t *cm_customer_json(const char *customer_text, instant_us updated_at);
/* Whether a discount is a code of this event (it names none of its products, or one of them). */
bool cm_discount_for_event(const catalog_model *m, const cm_event *ce, const cat_discount *d);
/* The cart of order_id when it is a reservation of this event made here:
 * false after replying 404 ORDER_NOT_FOUND. */
bool cm_reservation_find(http_request *r, engine *e, const account *a, const catalog_model *m, const cm_event *ce,
                         const char *order_id, cart_record *cart);
#endif
