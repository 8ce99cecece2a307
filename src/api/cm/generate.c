/* POST /events/{event_uuid}/reservations/generate: a free reservation,
 * completed at once. Every ticket type asked for must cost 0.00 (price, every
 * price rule and booking fee); the cart is held and booked as a confirmed
 * order in the same request, one barcode per ticket. */
#include "api/cm/reservation.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool product_free(const cat_product *p)
{
    if (p->price || p->booking_fee) return false;
    for (size_t i = 0; i < p->nprices; i++)
        if (p->prices[i].price) return false;
    return true;
}

/* The order's PDF e-tickets (src/eticket): the same link every dialect gives. */
static json_t *download_url(http_request *r, const account *a, const char *order_id)
{
    char url[512];
    return api_eticket_url(r, ETICKET_ORDER, a->id, order_id, "pdf", url, sizeof url) ? json_string(url)
                                                                                         : json_null();
}

static json_t *barcodes_json(const catalog_model *m, const order_record *o)
{
    json_t *list = json_array();
    for (size_t i = 0; i < o->ntickets; i++) {
        const store_ticket_row *t = &o->tickets[i];
        json_array_append_new(
            list, json_pack("{s:s,s:s,s:s,s:o,s:o}", "barcode_id", t->barcode, "type", "QRCODE", "ticket_type_uuid",
                            t->product_id, "name",
                            cm_texts(json_object_get(model_decoded(m, CAT_PRODUCT, t->product_id), "name")),
                            "subtitle", cm_texts(NULL)));
    }
    return list;
}

void cm_reservation_generate(http_request *r, void *app_)
{
    engine *e = cm_engine(app_);
    const account *a = api_account(r);
    cm_event ce;
    cm_reservation_input in = {.free_only = true};
    catalog_view *v = cm_reservation_open(r, e, &ce, &in);
    if (!v) return;
    const catalog_model *m = catalog_view_model(v);
    for (size_t i = 0; i < in.nlines; i++)
        if (!product_free(model_product(m, in.lines[i].product_id))) {
            char field[64];
            snprintf(field, sizeof field, "ticket_types[%zu].uuid", in.line_index[i]);
            cm_error(r, 400, "TICKET_TYPE_NOT_FREE", field, "only ticket types that cost 0.00 can be generated");
            cm_reservation_input_clear(&in);
            return catalog_view_close(v);
        }
    char customer_uuid[37];
    rand_uuid(customer_uuid);
    cm_reservation_texts(&in, customer_uuid, clock_now());
    cart_record cart;
    bo_error err = {0};
    if (cart_create(e, a, &in.req, &cart, &err) != BO_OK) {
        cm_hold_failed(r, e, a, m, &in.req, &err);
        cm_reservation_input_clear(&in);
        return catalog_view_close(v);
    }
    order_record order;
    char order_id[40];
    bool created = false;
    book_request booking = {.cart_id = cart.id, .channel = "cm", .status = "confirmed", .order_out = &order};
    if (order_book(e, a, &booking, order_id, &created, &err) != BO_OK) {
        bo_error ignored = {0};
        cart_delete(e, a, cart.id, &ignored); /* give the seats back at once, not at expiry */
        cm_fail(r, &err);
    } else {
        cm_reply(r, 201, json_pack("{s:s,s:s,s:s,s:o,s:o}", "order_id", order.order.number, "order_uuid",
                                   order.order.id, "customer_data_uuid", customer_uuid, "download_url",
                                   download_url(r, a, order.order.id), "barcodes", barcodes_json(m, &order)));
        order_record_free(&order);
    }
    cart_record_free(&cart);
    cm_reservation_input_clear(&in);
    catalog_view_close(v);
}
