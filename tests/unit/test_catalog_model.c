/* The typed catalog (core/catalog_model.h) and the JSON codec that fills it
 * (src/catalog_doc) on the database named by BOXOFFICE_TEST_DB (default: a
 * fresh SQLite file): every field of every kind, written through
 * catalog_put_json and read back compiled, with its default when absent;
 * lookups (unknown ids, ids shared across kinds, discount codes in any case,
 * 2,000 products); the helpers; the compiler (catalog_doc_compile) on raw
 * documents; each object's document text and decoded form; and documents
 * refused at write time with the offending field. */
#include "fixture.h"
#include "core/engine.h"
#include "core/internal.h"
#include "util/json_read.h"
#include "util/secure.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static engine *E;
static store *S;
static account A, B;

/* JSON with single quotes, for readable documents. */
static json_t *J(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) printf("# bad test JSON %s: %s\n", text, e.text);
    free(s);
    return j;
}

static bool put(const account *a, catalog_kind k, const char *text)
{
    json_t *doc = J(text);
    bo_error err = {0};
    bo_status st = catalog_put_json(E, a, k, NULL, doc, false, NULL, &err);
    if (st != BO_OK) printf("# catalog_put %s %s: %s\n", catalog_kind_name(k), text, err.message);
    json_decref(doc);
    return st == BO_OK;
}

static void refused(catalog_kind k, const char *text, const char *field, const char *what)
{
    json_t *doc = J(text);
    bo_error err = {0};
    bo_status st = catalog_put_json(E, &A, k, NULL, doc, false, NULL, &err);
    json_decref(doc);
    char name[256];
    snprintf(name, sizeof name, "%s refused at write: %s (field %s)", catalog_kind_name(k), what, field);
    CHECK(st == BO_INVALID && !strcmp(err.field, field), name);
    if (st != BO_INVALID || strcmp(err.field, field)) printf("# got status %d field '%s': %s\n", st, err.field, err.message);
}

static bool streq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

static civil_date D(int y, int m, int d) { return date_from_ymd(y, m, d); }

/* ---------------- writing the catalog ---------------- */

static void write_catalog(void)
{
    bool ok = true;
    ok &= put(&A, CAT_LOCATION, "{'id':'loc1','name':'Zoo','timezone':'Europe/London'}");
    ok &= put(&A, CAT_LOCATION, "{'id':'loc0','name':'Plain','timezone':'America/New_York','address':'1 Main St'}");
    ok &= put(&A, CAT_SCHEDULE,
              "{'id':'sch1','name':'Weekdays','weekdays':[0,2,4],'open':'09:30','close':'17:00:30','slot_minutes':30,"
              "'valid_from':'2026-01-01','valid_to':'2026-12-31',"
              "'closed_dates':['2026-12-25','2026-01-01','2026-06-15']}");
    ok &= put(&A, CAT_SCHEDULE, "{'id':'sch0','open':'00:00','close':'23:59'}");
    ok &= put(&A, CAT_SCHEDULE, "{'id':'schnone','open':'10:00','close':'11:00','weekdays':[]}");
    ok &= put(&A, CAT_CATEGORY, "{'id':'cat0','name':'Root'}");
    ok &= put(&A, CAT_CATEGORY,
              "{'id':'cat1','name':{'en':'Timed','nl':'Getimed'},'parent_id':'cat0','priority':5,'enabled':false,"
              "'show_in_checkout':false,'flow':'date_reservation','schedule_id':'sch1','location_id':'loc1'}");
    ok &= put(&A, CAT_CATEGORY, "{'id':'cf-undated','name':'U','flow':'undated'}");
    ok &= put(&A, CAT_CATEGORY, "{'id':'cf-dated','name':'D','flow':'dated'}");
    ok &= put(&A, CAT_CATEGORY, "{'id':'cf-rtp','name':'R','flow':'rtp'}");
    ok &= put(&A, CAT_CATEGORY, "{'id':'cf-change','name':'C','flow':'date_change'}");
    ok &= put(&A, CAT_EVENT,
              "{'id':'ev1','name':'Gala','location_id':'loc1','category_id':'cat1','schedule_id':'sch1',"
              "'status':'cancelled','occurrences':[{'id':'o1','start':'2026-05-01T10:00','end':'2026-05-01T12:00'},"
              "{'start':'2026-05-02T10:00:00+02:00','status':'cancelled'}]}");
    ok &= put(&A, CAT_EVENT, "{'id':'ev0','name':'Bare'}");
    ok &= put(&A, CAT_EVENT, "{'id':'evd','name':'Draft','status':'draft'}");
    ok &= put(&A, CAT_EVENT, "{'id':'evp','name':'Published','status':'published'}");
    ok &= put(&A, CAT_POOL, "{'id':'pl1','name':'Total','capacity':50,'per':'total'}");
    ok &= put(&A, CAT_POOL, "{'id':'pl0','capacity':null}");
    ok &= put(&A, CAT_POOL, "{'id':'plo','capacity':0,'per':'occurrence'}");
    ok &= put(&A, CAT_PRODUCT,
              "{'id':'pr1','name':'Full','kind':'addon','category_ids':['cat0','cat1'],'event_id':'ev1',"
              "'enabled':false,'dated':true,'priority':7,'min_per_order':2,'max_per_order':8,"
              "'show_from':'2026-02-01','show_to':'2026-02-28','valid_from':'2026-03-01','valid_to':'2026-03-31',"
              "'price':1250,'gate_price':1500,'booking_fee':99,'price_includes_tax':false,"
              "'taxes':[{'rate_bp':2100},{'type':'CITY','rate_bp':500,'proportion_bp':2500}],"
              "'prices':[{'price':1000,'date_from':'2026-03-01','date_to':'2026-03-15','weekdays':[5,6],"
              "'time_from':'10:00','time_to':'12:30'},{'price':900}],"
              "'pools':[{'pool_id':'pl1','amount':2},{'pool_id':'pl0','amount':3},{'pool_id':'plo'}],"
              "'scan':{'limit':'times_per_day','times':3,'max_scans':10,'validity_seconds':3600,"
              "'time_seconds':5400,'allow_overtime':true,'in_out':true},'barcode_format':'qrcode'}");
    ok &= put(&A, CAT_PRODUCT, "{'id':'pr0','name':'Bare','price':500}");
    ok &= put(&A, CAT_PRODUCT,
              "{'id':'prb','name':'Bundle','kind':'bundle','price':700,'gate_price':0,'max_per_order':null,"
              "'prices':[{'price':650}],'scan':{'limit':'none'},'barcode_format':'aztec'}");
    ok &= put(&A, CAT_PRODUCT, "{'id':'prt','name':'Ticket','kind':'ticket','price':1,'scan':{'limit':'times_per_day',"
              "'max_scans':null,'validity_seconds':null,'time_seconds':null}}");
    ok &= put(&A, CAT_PRODUCT, "{'id':'pro','name':'Once','price':1,'scan':{'limit':'once','times':5}}");
    ok &= put(&A, CAT_PRODUCT,
              "{'id':'propt','name':'Options','price':1000,'taxes':[{'rate_bp':2100}],'apf_enabled':true,"
              "'options':[{'id':'audio','name':{'en':'Audio','nl':'Audio NL'},'price':250},"
              "{'id':'book','name':'Book','price':999,'taxes':[{'type':'LOW','rate_bp':900}],'max_quantity':2}],"
              "'apf_fields':[{'id':'name','label':'Name','required':true},{'id':'mail','label':{'en':'Mail'},"
              "'type':'email'},{'id':'t','label':'T','type':'text'},{'id':'p','label':'P','type':'phone'},"
              "{'id':'d','label':'D','type':'date'},{'id':'n','label':'N','type':'number'},"
              "{'id':'c','label':'C','type':'checkbox'}]}");
    ok &= put(&A, CAT_DISCOUNT,
              "{'id':'d1','code':'Summer-10','name':'Summer','type':'percentage','percent_bp':1000,"
              "'product_ids':['pr0','pr1'],'expires_at':'2026-08-31T23:59:59Z','max_redemptions':100,"
              "'external_id':'ext-1'}");
    ok &= put(&A, CAT_DISCOUNT, "{'id':'d0','code':'FLAT','type':'fixed','amount':250}");
    ok &= put(&A, CAT_DISCOUNT, "{'id':'dn','code':'nolimit','type':'fixed','amount':1,'max_redemptions':null}");
    ok &= put(&A, CAT_VOUCHER,
              "{'id':'v1','name':'Gift','value':5000,'type':'gift_card','expires_at':'2027-01-01T00:00:00+01:00',"
              "'partial_redemption':false}");
    ok &= put(&A, CAT_VOUCHER, "{'id':'v0','name':'Credit','value':0}");
    /* one id in every kind */
    ok &= put(&A, CAT_LOCATION, "{'id':'same','name':'L','timezone':'Asia/Tokyo'}");
    ok &= put(&A, CAT_SCHEDULE, "{'id':'same','open':'06:00','close':'07:00'}");
    ok &= put(&A, CAT_POOL, "{'id':'same','capacity':7}");
    ok &= put(&A, CAT_CATEGORY, "{'id':'same','name':'C','priority':42}");
    ok &= put(&A, CAT_EVENT, "{'id':'same','name':'E','status':'draft'}");
    ok &= put(&A, CAT_PRODUCT, "{'id':'same','name':'P','price':4242}");
    ok &= put(&A, CAT_DISCOUNT, "{'id':'same','code':'SAMECODE','type':'fixed','amount':11}");
    ok &= put(&A, CAT_VOUCHER, "{'id':'same','name':'V','value':77}");
    CHECK(ok, "every valid document is accepted");
}

/* ---------------- the compiled catalog ---------------- */

static void test_locations(const catalog_model *m)
{
    const cat_location *l = model_location(m, "loc1");
    CHECK(l && streq(l->id, "loc1") && streq(l->timezone, "Europe/London"), "location: id and timezone");
    l = model_location(m, "loc0");
    CHECK(l && streq(l->timezone, "America/New_York"), "location: second location's timezone");
}

static void test_schedules(const catalog_model *m)
{
    const cat_schedule *s = model_schedule(m, "sch1");
    CHECK(s && streq(s->id, "sch1"), "schedule: id");
    if (!s) return;
    CHECK(s->weekdays == ((1 << 0) | (1 << 2) | (1 << 4)), "schedule: weekdays [0,2,4] -> mask 0x15");
    CHECK(s->open == 9 * 3600 + 30 * 60, "schedule: open 09:30");
    CHECK(s->close == 17 * 3600 + 30, "schedule: close 17:00:30 with seconds");
    CHECK(s->slot_seconds == 1800, "schedule: slot_minutes 30 -> 1800 s");
    CHECK(s->valid_from == D(2026, 1, 1) && s->valid_to == D(2026, 12, 31), "schedule: valid_from / valid_to");
    CHECK(s->nclosed == 3, "schedule: three closed dates");
    if (s->nclosed == 3)
        CHECK(s->closed_dates[0] == D(2026, 1, 1) && s->closed_dates[1] == D(2026, 6, 15) &&
                  s->closed_dates[2] == D(2026, 12, 25),
              "schedule: closed dates sorted ascending");
    CHECK(schedule_closed_on(s, D(2026, 12, 25)) && schedule_closed_on(s, D(2026, 1, 1)) &&
              schedule_closed_on(s, D(2026, 6, 15)),
          "schedule_closed_on: each closed date");
    CHECK(!schedule_closed_on(s, D(2026, 12, 24)) && !schedule_closed_on(s, D(2026, 6, 16)) &&
              !schedule_closed_on(s, D(2025, 12, 31)),
          "schedule_closed_on: other days open");

    s = model_schedule(m, "sch0");
    CHECK(s && s->weekdays == WEEKDAYS_ALL, "schedule default: weekdays absent -> WEEKDAYS_ALL");
    CHECK(s && s->open == 0 && s->close == 23 * 3600 + 59 * 60, "schedule: open 00:00 / close 23:59");
    CHECK(s && s->slot_seconds == 0, "schedule default: slot 0 (whole days)");
    CHECK(s && s->valid_from == -1 && s->valid_to == -1, "schedule default: validity unbounded (-1)");
    CHECK(s && s->nclosed == 0 && !schedule_closed_on(s, D(2026, 12, 25)), "schedule default: no closed dates");

    s = model_schedule(m, "schnone");
    CHECK(s && s->weekdays == 0, "schedule: an empty weekdays list opens no weekday");
}

static void test_categories(const catalog_model *m)
{
    const cat_category *c = model_category(m, "cat1");
    CHECK(c && streq(c->id, "cat1"), "category: id");
    if (!c) return;
    CHECK(streq(c->parent_id, "cat0"), "category: parent_id");
    CHECK(c->priority == 5, "category: priority");
    CHECK(!c->enabled, "category: enabled false");
    CHECK(!c->show_in_checkout, "category: show_in_checkout false");
    CHECK(c->has_flow && c->flow == FLOW_DATE_RESERVATION, "category: flow date_reservation");
    CHECK(c->schedule == model_schedule(m, "sch1") && c->schedule, "category: schedule link resolved");
    CHECK(c->location == model_location(m, "loc1") && c->location, "category: location link resolved");

    c = model_category(m, "cat0");
    CHECK(c && c->parent_id == NULL, "category default: no parent");
    CHECK(c && c->priority == 0, "category default: priority 0");
    CHECK(c && c->enabled && c->show_in_checkout, "category default: enabled and shown in checkout");
    CHECK(c && !c->has_flow, "category default: no flow");
    CHECK(c && !c->schedule && !c->location, "category default: no schedule, no location");

    const struct {
        const char *id;
        cat_flow flow;
    } flows[] = {{"cf-undated", FLOW_UNDATED}, {"cf-dated", FLOW_DATED}, {"cf-rtp", FLOW_RTP},
                 {"cf-change", FLOW_DATE_CHANGE}};
    for (size_t i = 0; i < sizeof flows / sizeof flows[0]; i++) {
        c = model_category(m, flows[i].id);
        char name[80];
        snprintf(name, sizeof name, "category: flow of %s", flows[i].id);
        CHECK(c && c->has_flow && c->flow == flows[i].flow, name);
    }
}

static void test_events(const catalog_model *m)
{
    const cat_event *e = model_event(m, "ev1");
    CHECK(e && streq(e->id, "ev1"), "event: id");
    if (!e) return;
    CHECK(e->location && e->location == model_location(m, "loc1"), "event: location link");
    CHECK(e->category && e->category == model_category(m, "cat1"), "event: category link");
    CHECK(e->schedule && e->schedule == model_schedule(m, "sch1"), "event: schedule link");
    CHECK(e->status == EVENT_CANCELLED, "event: status cancelled");
    CHECK(e->noccurrences == 2, "event: two occurrences");
    if (e->noccurrences == 2) {
        const cat_occurrence *o = e->occurrences;
        CHECK(streq(o[0].id, "o1") && streq(o[0].start_text, "2026-05-01T10:00") &&
                  streq(o[0].end_text, "2026-05-01T12:00") && !o[0].cancelled,
              "event: occurrence id, start and end as written, not cancelled");
        CHECK(o[1].id && !strncmp(o[1].id, "oc_", 3) && streq(o[1].start_text, "2026-05-02T10:00:00+02:00") &&
                  o[1].end_text == NULL && o[1].cancelled,
              "event: occurrence without id gets one; no end; cancelled");
    }
    e = model_event(m, "ev0");
    CHECK(e && e->status == EVENT_PUBLISHED, "event default: status published");
    CHECK(e && !e->location && !e->category && !e->schedule, "event default: no links");
    CHECK(e && e->noccurrences == 0 && e->occurrences == NULL, "event default: no occurrences");
    e = model_event(m, "evd");
    CHECK(e && e->status == EVENT_DRAFT, "event: status draft");
    e = model_event(m, "evp");
    CHECK(e && e->status == EVENT_PUBLISHED, "event: status published");
}

static void test_pools(const catalog_model *m)
{
    const cat_pool *p = model_pool(m, "pl1");
    CHECK(p && streq(p->id, "pl1") && p->capacity == 50 && p->per_total, "pool: capacity 50, per total");
    p = model_pool(m, "pl0");
    CHECK(p && p->capacity == -1, "pool: capacity null -> unlimited (-1)");
    CHECK(p && !p->per_total, "pool default: per occurrence");
    p = model_pool(m, "plo");
    CHECK(p && p->capacity == 0 && !p->per_total, "pool: capacity 0 is limited; per occurrence");
}

static void test_products(const catalog_model *m)
{
    const cat_product *p = model_product(m, "pr1");
    CHECK(p && streq(p->id, "pr1"), "product: id");
    if (!p) return;
    CHECK(p->kind == PRODUCT_ADDON, "product: kind addon");
    CHECK(p->ncategories == 2 && streq(p->category_ids[0], "cat0") && streq(p->category_ids[1], "cat1"),
          "product: category ids in order");
    CHECK(product_in_category(p, "cat0") && product_in_category(p, "cat1"), "product_in_category: listed");
    CHECK(!product_in_category(p, "cf-rtp") && !product_in_category(p, "cat"), "product_in_category: not listed");
    CHECK(streq(p->event_id, "ev1") && p->event == model_event(m, "ev1") && p->event, "product: event link");
    CHECK(!p->enabled, "product: enabled false");
    CHECK(p->dated, "product: dated true");
    CHECK(p->priority == 7, "product: priority");
    CHECK(p->min_per_order == 2 && p->max_per_order == 8, "product: min / max per order");
    CHECK(p->show_from == D(2026, 2, 1) && p->show_to == D(2026, 2, 28), "product: show window");
    CHECK(p->valid_from == D(2026, 3, 1) && p->valid_to == D(2026, 3, 31), "product: valid window");
    CHECK(p->price == 1250, "product: price");
    CHECK(p->gate_price == 1500 && p->gate_price_set, "product: gate_price set");
    CHECK(p->booking_fee == 99, "product: booking_fee");
    CHECK(!p->price_includes_tax, "product: price_includes_tax false");
    CHECK(p->ntaxes == 2, "product: two taxes");
    if (p->ntaxes == 2) {
        CHECK(streq(p->taxes[0].type, "VAT") && p->taxes[0].rate_bp == 2100 && p->taxes[0].proportion_bp == 10000,
              "product tax: type defaults to VAT, proportion to 10000");
        CHECK(streq(p->taxes[1].type, "CITY") && p->taxes[1].rate_bp == 500 && p->taxes[1].proportion_bp == 2500,
              "product tax: type, rate and proportion as written");
    }
    CHECK(p->nprices == 2, "product: two price rules");
    if (p->nprices == 2) {
        const cat_price_rule *r = &p->prices[0];
        CHECK(r->price == 1000, "price rule: price");
        CHECK(r->date_from == D(2026, 3, 1) && r->date_to == D(2026, 3, 15), "price rule: date bounds");
        CHECK(r->weekdays == ((1 << 5) | (1 << 6)), "price rule: weekdays [5,6]");
        CHECK(r->time_from == 10 * 3600 && r->time_to == 12 * 3600 + 30 * 60, "price rule: time bounds");
        r = &p->prices[1];
        CHECK(r->price == 900 && r->date_from == -1 && r->date_to == -1, "price rule default: dates unbounded");
        CHECK(r->weekdays == WEEKDAYS_ALL, "price rule default: every weekday");
        CHECK(r->time_from == -1 && r->time_to == -1, "price rule default: times unbounded");
    }
    CHECK(p->npools == 2, "product: unlimited pool skipped, limited ones kept");
    if (p->npools == 2) {
        CHECK(p->pools[0].pool == model_pool(m, "pl1") && p->pools[0].amount == 2, "product pool: pl1 amount 2");
        CHECK(p->pools[1].pool == model_pool(m, "plo") && p->pools[1].amount == 1,
              "product pool: plo (capacity 0) amount defaults to 1");
    }
    CHECK(p->npool_ids == 3 && streq(p->pool_ids[0], "pl1") && streq(p->pool_ids[1], "pl0") &&
              streq(p->pool_ids[2], "plo"),
          "product pool_ids: every pool named, the unlimited one too, in order");
    CHECK(p->scan.limit == SCAN_LIMIT_TIMES_PER_DAY && p->scan.times == 3, "scan: times_per_day, 3 times");
    CHECK(p->scan.max_scans == 10, "scan: max_scans");
    CHECK(p->scan.validity_seconds == 3600, "scan: validity_seconds");
    CHECK(p->scan.time_seconds == 5400, "scan: time_seconds");
    CHECK(p->scan.allow_overtime && p->scan.in_out, "scan: allow_overtime and in_out");
    CHECK(streq(p->barcode_format, "qrcode"), "product: barcode_format");

    p = model_product(m, "pr0");
    CHECK(p != NULL, "product: bare product compiles");
    if (!p) return;
    CHECK(p->kind == PRODUCT_TICKET, "product default: kind ticket");
    CHECK(p->ncategories == 0 && !product_in_category(p, "cat0"), "product default: no categories");
    CHECK(p->event_id == NULL && p->event == NULL, "product default: no event");
    CHECK(p->enabled && !p->dated, "product default: enabled, undated");
    CHECK(p->priority == 0, "product default: priority 0");
    CHECK(p->min_per_order == 0 && p->max_per_order == -1, "product default: min 0, max unlimited (-1)");
    CHECK(p->show_from == -1 && p->show_to == -1 && p->valid_from == -1 && p->valid_to == -1,
          "product default: windows unbounded");
    CHECK(p->price == 500 && p->gate_price == 500 && !p->gate_price_set, "product default: gate_price is price");
    CHECK(p->booking_fee == 0, "product default: no booking fee");
    CHECK(p->price_includes_tax, "product default: price includes tax");
    CHECK(p->ntaxes == 0 && p->nprices == 0 && p->npools == 0, "product default: no taxes, rules or pools");
    CHECK(p->scan.limit == SCAN_LIMIT_ONCE && p->scan.times == 1, "scan default: once");
    CHECK(p->scan.max_scans == -1, "scan default: no max_scans (-1)");
    CHECK(p->scan.validity_seconds == 0, "scan default: no validity (0)");
    CHECK(p->scan.time_seconds == -1, "scan default: not pay-per-minute (-1)");
    CHECK(!p->scan.allow_overtime && !p->scan.in_out, "scan default: no overtime, no in/out");
    CHECK(streq(p->barcode_format, "code128"), "product default: barcode_format code128");

    p = model_product(m, "prb");
    CHECK(p && p->kind == PRODUCT_BUNDLE, "product: kind bundle");
    CHECK(p && p->gate_price == 0 && p->gate_price_set && p->price == 700, "product: gate_price 0 is set");
    CHECK(p && p->max_per_order == -1, "product: max_per_order null -> -1");
    CHECK(p && p->scan.limit == SCAN_LIMIT_NONE, "scan: limit none");
    CHECK(p && streq(p->barcode_format, "aztec"), "product: barcode_format aztec");
    p = model_product(m, "prt");
    CHECK(p && p->kind == PRODUCT_TICKET && p->scan.limit == SCAN_LIMIT_TIMES_PER_DAY && p->scan.times == 1,
          "scan: times_per_day without times -> 1");
    CHECK(p && p->scan.max_scans == -1 && p->scan.validity_seconds == 0 && p->scan.time_seconds == -1,
          "scan: null integers read as their defaults");
    p = model_product(m, "pro");
    CHECK(p && p->scan.limit == SCAN_LIMIT_ONCE && p->scan.times == 1, "scan: once ignores times");
    p = model_product(m, "pr0");
    CHECK(p && p->noptions == 0 && !p->apf_enabled && p->napf_fields == 0 && !product_option(p, "audio"),
          "product default: no options, no after-payment form");

    p = model_product(m, "propt");
    CHECK(p && p->noptions == 2, "product: two options");
    if (p && p->noptions == 2) {
        const cat_option *o = product_option(p, "audio");
        CHECK(o == &p->options[0] && streq(o->name_json, "{\"en\":\"Audio\",\"nl\":\"Audio NL\"}") &&
                  o->price == 250 && o->max_quantity == -1,
              "option: id, translated name, price; no max_quantity (-1)");
        CHECK(o->ntaxes == 1 && o->taxes == p->taxes, "option without taxes: the product's");
        o = product_option(p, "book");
        CHECK(o && streq(o->name_json, "{\"en\":\"Book\"}") && o->price == 999 && o->max_quantity == 2,
              "option: a plain name is English; max_quantity");
        CHECK(o && o->ntaxes == 1 && streq(o->taxes[0].type, "LOW") && o->taxes[0].rate_bp == 900 &&
                  o->taxes[0].proportion_bp == 10000,
              "option: its own taxes");
        CHECK(!product_option(p, "Audio") && !product_option(p, NULL), "product_option: exact ids only");
    }
    CHECK(p && p->apf_enabled && p->napf_fields == 7, "product: after-payment form with seven fields");
    if (p && p->napf_fields == 7) {
        const cat_apf_field *f = product_apf_field(p, "name");
        CHECK(f && f->required && f->type == APF_TEXT && streq(f->label_json, "{\"en\":\"Name\"}"),
              "form field: required, type defaults to text, label");
        f = product_apf_field(p, "mail");
        CHECK(f && !f->required && f->type == APF_EMAIL, "form field: required defaults to false; email");
        CHECK(p->apf_fields[3].type == APF_PHONE && p->apf_fields[4].type == APF_DATE &&
                  p->apf_fields[5].type == APF_NUMBER && p->apf_fields[6].type == APF_CHECKBOX &&
                  p->apf_fields[2].type == APF_TEXT,
              "form field: every type");
        CHECK(!product_apf_field(p, "nope"), "product_apf_field: unknown id");
    }
}

static void test_discounts(const catalog_model *m)
{
    const cat_discount *d = model_discount(m, "d1");
    CHECK(d && streq(d->id, "d1"), "discount: by id");
    if (!d) return;
    CHECK(streq(d->code, "Summer-10") && streq(d->name, "Summer"), "discount: code and name");
    CHECK(streq(d->external_id, "ext-1"), "discount: external_id");
    CHECK(d->type == DISCOUNT_PERCENTAGE && d->percent_bp == 1000, "discount: percentage 10%");
    CHECK(d->nproducts == 2 && streq(d->product_ids[0], "pr0") && streq(d->product_ids[1], "pr1"),
          "discount: product list");
    CHECK(discount_applies_to(d, "pr0") && discount_applies_to(d, "pr1"), "discount_applies_to: listed products");
    CHECK(!discount_applies_to(d, "prb") && !discount_applies_to(d, "pr"), "discount_applies_to: others not");
    CHECK(d->expires_at == ((instant_us)D(2026, 8, 31) * 86400 + 86399) * 1000000, "discount: expires_at");
    CHECK(d->max_redemptions == 100, "discount: max_redemptions");
    CHECK(model_discount_by_code(m, "Summer-10") == d, "discount by code: as written");
    CHECK(model_discount_by_code(m, "summer-10") == d && model_discount_by_code(m, "SUMMER-10") == d &&
              model_discount_by_code(m, "sUmMeR-10") == d,
          "discount by code: case-insensitive");
    CHECK(!model_discount_by_code(m, "summer-1") && !model_discount_by_code(m, "summer-100") &&
              !model_discount_by_code(m, "d1") && !model_discount_by_code(m, NULL),
          "discount by code: other codes, ids and NULL are not found");

    d = model_discount(m, "d0");
    CHECK(d && d->type == DISCOUNT_FIXED && d->amount == 250, "discount: fixed amount");
    CHECK(d && streq(d->name, "FLAT"), "discount default: name is the code");
    CHECK(d && d->external_id == NULL, "discount default: no external_id");
    CHECK(d && d->nproducts == 0 && discount_applies_to(d, "pr0") && discount_applies_to(d, "anything"),
          "discount default: applies to every product");
    CHECK(d && d->expires_at == 0, "discount default: never expires (0)");
    CHECK(d && d->max_redemptions == -1, "discount default: unlimited redemptions (-1)");
    CHECK(d && model_discount_by_code(m, "flat") == d, "discount by code: lower case of FLAT");
    d = model_discount(m, "dn");
    CHECK(d && d->max_redemptions == -1 && model_discount_by_code(m, "NOLIMIT") == d,
          "discount: max_redemptions null -> -1; upper-case lookup");
}

static void test_vouchers(const catalog_model *m)
{
    const cat_voucher *v = model_voucher(m, "v1");
    CHECK(v && streq(v->id, "v1") && streq(v->name, "Gift"), "voucher: id and name");
    CHECK(v && v->value == 5000, "voucher: value");
    CHECK(v && v->expires_at == (instant_us)D(2026, 12, 31) * 86400 * 1000000 + (instant_us)23 * 3600 * 1000000,
          "voucher: expires_at with offset, in UTC");
    CHECK(v && !v->partial_redemption, "voucher: partial_redemption false");
    v = model_voucher(m, "v0");
    CHECK(v && v->value == 0 && v->expires_at == 0, "voucher default: never expires");
    CHECK(v && v->partial_redemption, "voucher default: partial redemption allowed");
}

static void test_lookups(const catalog_model *m)
{
    CHECK(!model_location(m, "nope") && !model_schedule(m, "nope") && !model_category(m, "nope") &&
              !model_event(m, "nope") && !model_pool(m, "nope") && !model_product(m, "nope") &&
              !model_discount(m, "nope") && !model_voucher(m, "nope") && !model_discount_by_code(m, "nope"),
          "unknown ids: every lookup returns NULL");
    CHECK(!model_location(m, NULL) && !model_product(m, NULL) && !model_pool(m, NULL) && !model_voucher(m, NULL),
          "NULL id: lookups return NULL");
    CHECK(!model_product(m, "PR0") && !model_product(m, "pr0 ") && !model_product(m, ""),
          "ids are exact: case and spaces matter");
    CHECK(!model_product(NULL, "pr0") && !model_discount_by_code(NULL, "FLAT"), "NULL model: lookups return NULL");
    CHECK(!model_product(m, "loc1") && !model_location(m, "pr0") && !model_pool(m, "sch1") &&
              !model_voucher(m, "d1") && !model_discount(m, "v1") && !model_event(m, "cat1"),
          "a kind does not find another kind's ids");

    const cat_location *l = model_location(m, "same");
    const cat_schedule *s = model_schedule(m, "same");
    const cat_pool *p = model_pool(m, "same");
    const cat_category *c = model_category(m, "same");
    const cat_event *e = model_event(m, "same");
    const cat_product *pr = model_product(m, "same");
    const cat_discount *d = model_discount(m, "same");
    const cat_voucher *v = model_voucher(m, "same");
    CHECK(l && streq(l->timezone, "Asia/Tokyo"), "shared id: location");
    CHECK(s && s->open == 6 * 3600 && s->close == 7 * 3600, "shared id: schedule");
    CHECK(p && p->capacity == 7, "shared id: pool");
    CHECK(c && c->priority == 42, "shared id: category");
    CHECK(e && e->status == EVENT_DRAFT, "shared id: event");
    CHECK(pr && pr->price == 4242, "shared id: product");
    CHECK(d && d->amount == 11 && model_discount_by_code(m, "samecode") == d, "shared id: discount");
    CHECK(v && v->value == 77, "shared id: voucher");
}

/* A model compiled by the JSON codec from documents given per kind (id -> doc),
 * in the engine's order. */
static catalog_model *compile_objects(json_t *const objs[CAT__COUNT])
{
    catalog_model *m = catalog_model_new(catalog_doc_json_codec.release);
    for (int c = 0; c < CAT__COUNT; c++) {
        catalog_kind k = catalog_compile_order[c];
        const char *id;
        json_t *doc;
        json_object_foreach(objs[k], id, doc)
        {
            char *text = json_dumps(doc, JSON_COMPACT);
            catalog_doc_compile(m, k, text);
            free(text);
        }
    }
    return m;
}

/* The compiler on raw documents (not normalised by validation): its own
 * defaults, and references that do not resolve read as absent. */
static void test_raw_compile(void)
{
    json_t *objs[CAT__COUNT];
    for (int k = 0; k < CAT__COUNT; k++) objs[k] = json_object();
    catalog_model *m = compile_objects(objs);
    CHECK(m && !model_product(m, "p") && !model_discount_by_code(m, "x") && !model_location(m, "l"),
          "empty catalog compiles; lookups NULL");
    catalog_model_free(m);
    catalog_model_free(NULL);

    json_object_set_new(objs[CAT_POOL], "lim", J("{'id':'lim','capacity':3}"));
    json_object_set_new(objs[CAT_POOL], "unl", J("{'id':'unl'}"));
    json_object_set_new(objs[CAT_SCHEDULE], "s", J("{'id':'s'}"));
    json_object_set_new(objs[CAT_CATEGORY], "c",
                        J("{'id':'c','schedule_id':'ghost','location_id':'ghost','flow':'bogus'}"));
    json_object_set_new(objs[CAT_EVENT], "e",
                        J("{'id':'e','category_id':'ghost','occurrences':[{'id':'o','start':'2026-01-01T10:00:00Z'}]}"));
    json_object_set_new(objs[CAT_PRODUCT], "p",
                        J("{'id':'p','price':100,'taxes':[{'rate_bp':900}],'prices':[{'weekdays':[]}],"
                          "'pools':[{'pool_id':'lim'},{'pool_id':'ghost','amount':2},{'pool_id':'unl'}],"
                          "'event_id':'ghost','category_ids':['ghost'],'scan':{}}"));
    json_object_set_new(objs[CAT_DISCOUNT], "d", J("{'id':'d','type':'fixed'}"));
    json_object_set_new(objs[CAT_VOUCHER], "v", J("{'id':'v'}"));
    m = compile_objects(objs);
    const cat_schedule *s = model_schedule(m, "s");
    CHECK(s && s->open == 0 && s->close == SECS_PER_DAY, "raw: schedule without hours is open all day");
    const cat_pool *unl = model_pool(m, "unl");
    CHECK(unl && unl->capacity == -1, "raw: pool without capacity is unlimited");
    const cat_category *c = model_category(m, "c");
    CHECK(c && !c->schedule && !c->location && !c->has_flow, "raw: unresolved category links and unknown flow absent");
    const cat_event *e = model_event(m, "e");
    CHECK(e && !e->category && e->noccurrences == 1 && e->occurrences[0].end_text == NULL,
          "raw: event with unresolved category; occurrence without end");
    const cat_product *p = model_product(m, "p");
    CHECK(p != NULL, "raw: product compiles");
    if (p) {
        CHECK(p->ntaxes == 1 && streq(p->taxes[0].type, "VAT") && p->taxes[0].proportion_bp == 10000 &&
                  p->taxes[0].rate_bp == 900,
              "raw: tax type VAT and proportion 10000 by default");
        CHECK(p->nprices == 1 && p->prices[0].price == 100 && p->prices[0].weekdays == 0,
              "raw: price rule without price takes the product's; empty weekdays -> 0");
        CHECK(p->npools == 1 && p->pools[0].pool == model_pool(m, "lim") && p->pools[0].amount == 1,
              "raw: unknown and unlimited pools skipped; amount defaults to 1");
        CHECK(p->npool_ids == 3 && streq(p->pool_ids[1], "ghost"), "raw: pool_ids keep unknown pools too");
        CHECK(streq(p->event_id, "ghost") && p->event == NULL, "raw: unresolved event reads as absent");
        CHECK(p->ncategories == 1 && product_in_category(p, "ghost"), "raw: category ids kept as written");
        CHECK(p->scan.limit == SCAN_LIMIT_ONCE && p->scan.max_scans == -1 && p->scan.time_seconds == -1,
              "raw: empty scan object -> defaults");
    }
    const cat_discount *d = model_discount(m, "d");
    CHECK(d && d->code == NULL && d->name == NULL && d->nproducts == 0 && discount_applies_to(d, "p"),
          "raw: discount without code is not indexed by code");
    const cat_voucher *v = model_voucher(m, "v");
    CHECK(v && v->value == 0 && v->name == NULL && v->partial_redemption, "raw: voucher defaults");
    catalog_model_free(m);
    for (int k = 0; k < CAT__COUNT; k++) json_decref(objs[k]);
}

/* ---------------- 2,000 products ---------------- */

#define MANY 2000

static db_status insert_many(db_conn *c, void *arg)
{
    const account *a = arg;
    instant_us now = clock_now();
    for (int i = 0; i < MANY; i++) {
        char id[24], doc[160];
        snprintf(id, sizeof id, "p-%d", i);
        snprintf(doc, sizeof doc, "{\"id\":\"%s\",\"name\":{\"en\":\"P%d\"},\"price\":%d,\"priority\":%d}", id, i,
                 i * 10, MANY - i);
        db_status st = db_exec(c,
                               "INSERT INTO catalog (account_id, kind, id, parent_id, doc, created_at, updated_at)"
                               " VALUES (?, 'product', ?, NULL, ?, ?, ?)",
                               DB_ARGS(DB_TEXT(a->id), DB_TEXT(id), DB_TEXT(doc), DB_INT(now), DB_INT(now)), NULL);
        if (st != DB_OK) return st;
    }
    return catalog_touch(c, a->id);
}

static void test_many_products(void)
{
    CHECK(put(&B, CAT_PRODUCT, "{'id':'first','name':'F','price':1}"), "account B: a product through catalog_put");
    CHECK(store_write(S, insert_many, &B) == DB_OK, "2,000 products written");
    catalog_snapshot *s = catalog_acquire(E, &B);
    CHECK(s && s->model, "2,000 products: snapshot compiled");
    if (!s) return;
    int found = 0;
    for (int i = 0; i < MANY; i++) {
        char id[24];
        snprintf(id, sizeof id, "p-%d", i);
        const cat_product *p = model_product(s->model, id);
        if (p && streq(p->id, id) && p->price == i * 10 && p->priority == MANY - i) found++;
    }
    CHECK(found == MANY, "2,000 products: each found by id with its own fields");
    CHECK(!model_product(s->model, "p-2000") && !model_product(s->model, "p--1") && !model_product(s->model, "p-"),
          "2,000 products: ids beyond are not found");
    CHECK(model_product(s->model, "first") != NULL, "2,000 products: the earlier product still found");
    CHECK(!model_product(s->model, "pr0") && !model_location(s->model, "loc1"),
          "account B does not see account A's catalog");
    catalog_release(s);
}

/* ---------------- refused documents ---------------- */

static void test_refused(void)
{
    /* F_STRING */
    refused(CAT_LOCATION, "{'id':'bad-l1','name':'','timezone':'Europe/London'}", "name", "empty string");
    refused(CAT_VOUCHER, "{'id':'bad-v1','name':5,'value':10}", "name", "number for a string");
    refused(CAT_DISCOUNT, "{'id':'bad-d0','code':'X','type':'fixed','amount':1,'external_id':''}", "external_id",
            "empty external_id");
    /* F_TEXT_MAP */
    refused(CAT_CATEGORY, "{'id':'bad-c1','name':{}}", "name", "empty text map");
    refused(CAT_PRODUCT, "{'id':'bad-p1','name':{'en':3},'price':1}", "name", "non-text in text map");
    /* F_TIMEZONE */
    refused(CAT_LOCATION, "{'id':'bad-l2','name':'X','timezone':'Mars/Base'}", "timezone", "unknown zone");
    /* missing required */
    refused(CAT_LOCATION, "{'id':'bad-l3','name':'X'}", "timezone", "missing timezone");
    refused(CAT_PRODUCT, "{'id':'bad-p2','name':'X'}", "price", "missing price");
    refused(CAT_POOL, "{'id':'bad-o0','name':'X'}", "capacity", "missing capacity");
    refused(CAT_SCHEDULE, "{'id':'bad-s0','open':'09:00'}", "close", "missing close");
    refused(CAT_EVENT, "{'id':'bad-e0'}", "name", "missing name");
    refused(CAT_DISCOUNT, "{'id':'bad-d1','code':'X'}", "type", "missing type");
    refused(CAT_VOUCHER, "{'id':'bad-v2','name':'X'}", "value", "missing value");
    /* unknown field */
    refused(CAT_PRODUCT, "{'id':'bad-p3','name':'X','price':1,'colour':'red'}", "colour", "unknown field");
    refused(CAT_LOCATION, "{'id':'bad-l4','name':'X','timezone':'UTC','capacity':1}", "capacity", "another kind's field");
    /* F_INT */
    refused(CAT_CATEGORY, "{'id':'bad-c2','name':'X','priority':-1}", "priority", "negative priority");
    refused(CAT_SCHEDULE, "{'id':'bad-s1','open':'09:00','close':'10:00','slot_minutes':'x'}", "slot_minutes",
            "string for an int");
    refused(CAT_DISCOUNT, "{'id':'bad-d2','code':'X','type':'percentage','percent_bp':1.5}", "percent_bp",
            "real for an int");
    /* F_INT_OR_NULL */
    refused(CAT_POOL, "{'id':'bad-o1','capacity':-5}", "capacity", "negative capacity");
    refused(CAT_POOL, "{'id':'bad-o2','capacity':'ten'}", "capacity", "string capacity");
    refused(CAT_PRODUCT, "{'id':'bad-p4','name':'X','price':1,'max_per_order':-1}", "max_per_order", "negative max");
    refused(CAT_DISCOUNT, "{'id':'bad-d3','code':'X','type':'fixed','amount':1,'max_redemptions':true}",
            "max_redemptions", "bool for int-or-null");
    /* F_MONEY */
    refused(CAT_PRODUCT, "{'id':'bad-p5','name':'X','price':-1}", "price", "negative price");
    refused(CAT_PRODUCT, "{'id':'bad-p6','name':'X','price':1,'gate_price':'5'}", "gate_price", "string gate_price");
    refused(CAT_PRODUCT, "{'id':'bad-p7','name':'X','price':1,'booking_fee':-3}", "booking_fee", "negative fee");
    refused(CAT_VOUCHER, "{'id':'bad-v3','name':'X','value':1.5}", "value", "fractional value");
    refused(CAT_DISCOUNT, "{'id':'bad-d4','code':'X','type':'fixed','amount':-1}", "amount", "negative amount");
    /* F_BOOL */
    refused(CAT_CATEGORY, "{'id':'bad-c3','name':'X','enabled':'yes'}", "enabled", "string for a bool");
    refused(CAT_PRODUCT, "{'id':'bad-p8','name':'X','price':1,'price_includes_tax':1}", "price_includes_tax",
            "int for a bool");
    refused(CAT_VOUCHER, "{'id':'bad-v4','name':'X','value':1,'partial_redemption':'no'}", "partial_redemption",
            "string for a bool");
    /* F_DATE */
    refused(CAT_PRODUCT, "{'id':'bad-p9','name':'X','price':1,'show_from':'2026-02-30'}", "show_from",
            "impossible date");
    refused(CAT_PRODUCT, "{'id':'bad-p10','name':'X','price':1,'valid_to':'31-12-2026'}", "valid_to", "wrong order");
    refused(CAT_SCHEDULE, "{'id':'bad-s2','open':'09:00','close':'10:00','valid_from':'tomorrow'}", "valid_from",
            "word for a date");
    /* F_TIME */
    refused(CAT_SCHEDULE, "{'id':'bad-s3','open':'25:00','close':'26:00'}", "open", "hour 25");
    refused(CAT_SCHEDULE, "{'id':'bad-s4','open':'09:00','close':'9am'}", "close", "word for a time");
    /* F_INSTANT */
    refused(CAT_DISCOUNT, "{'id':'bad-d5','code':'X','type':'fixed','amount':1,'expires_at':'soon'}", "expires_at",
            "word for an instant");
    refused(CAT_VOUCHER, "{'id':'bad-v5','name':'X','value':1,'expires_at':'2026-13-01T00:00:00Z'}", "expires_at",
            "month 13");
    /* F_ENUM */
    refused(CAT_POOL, "{'id':'bad-o3','capacity':1,'per':'week'}", "per", "unknown per");
    refused(CAT_EVENT, "{'id':'bad-e1','name':'X','status':'live'}", "status", "unknown status");
    refused(CAT_PRODUCT, "{'id':'bad-p11','name':'X','price':1,'barcode_format':'upc'}", "barcode_format",
            "unknown barcode format");
    refused(CAT_PRODUCT, "{'id':'bad-p12','name':'X','price':1,'kind':'Ticket'}", "kind", "enum is case-sensitive");
    refused(CAT_CATEGORY, "{'id':'bad-c4','name':'X','flow':'timed'}", "flow", "unknown flow");
    refused(CAT_DISCOUNT, "{'id':'bad-d6','code':'X','type':'free'}", "type", "unknown discount type");
    refused(CAT_VOUCHER, "{'id':'bad-v6','name':'X','value':1,'type':'coupon'}", "type", "unknown voucher type");
    /* F_REF */
    refused(CAT_EVENT, "{'id':'bad-e2','name':'X','location_id':'nope'}", "location_id", "unknown location");
    refused(CAT_CATEGORY, "{'id':'bad-c5','name':'X','schedule_id':'nope'}", "schedule_id", "unknown schedule");
    refused(CAT_CATEGORY, "{'id':'bad-c6','name':'X','parent_id':'loc1'}", "parent_id", "a location id as parent");
    refused(CAT_PRODUCT, "{'id':'bad-p13','name':'X','price':1,'event_id':'pr0'}", "event_id", "a product id as event");
    refused(CAT_EVENT, "{'id':'bad-e3','name':'X','category_id':5}", "category_id", "number for a ref");
    /* F_REF_LIST */
    refused(CAT_PRODUCT, "{'id':'bad-p14','name':'X','price':1,'category_ids':['cat0','nope']}", "category_ids",
            "unknown category in list");
    refused(CAT_DISCOUNT, "{'id':'bad-d7','code':'X','type':'fixed','amount':1,'product_ids':'pr0'}", "product_ids",
            "string for a list");
    refused(CAT_DISCOUNT, "{'id':'bad-d8','code':'X','type':'fixed','amount':1,'product_ids':['ev1']}", "product_ids",
            "an event id as product");
    /* F_OBJECT */
    refused(CAT_LOCATION, "{'id':'bad-l5','name':'X','timezone':'UTC','external_ids':[]}", "external_ids",
            "list for an object");
    refused(CAT_PRODUCT, "{'id':'bad-p15','name':'X','price':1,'scan':'once'}", "scan", "string for scan");
    refused(CAT_EVENT, "{'id':'bad-e4','name':'X','extras':1}", "extras", "number for extras");
    /* F_ARRAY */
    refused(CAT_SCHEDULE, "{'id':'bad-s5','open':'09:00','close':'10:00','weekdays':'mon'}", "weekdays",
            "string for weekdays");
    refused(CAT_EVENT, "{'id':'bad-e5','name':'X','occurrences':{}}", "occurrences", "object for occurrences");
    refused(CAT_PRODUCT, "{'id':'bad-p16','name':'X','price':1,'taxes':{'rate_bp':1}}", "taxes", "object for taxes");
    /* the kinds' own checks */
    refused(CAT_SCHEDULE, "{'id':'bad-s6','open':'10:00','close':'10:00'}", "close", "close not after open");
    refused(CAT_SCHEDULE, "{'id':'bad-s7','open':'10:00','close':'11:00','slot_minutes':1441}", "slot_minutes",
            "slot longer than a day");
    refused(CAT_SCHEDULE, "{'id':'bad-s8','open':'10:00','close':'11:00','weekdays':[0,7]}", "weekdays",
            "weekday 7");
    refused(CAT_SCHEDULE, "{'id':'bad-s9','open':'10:00','close':'11:00','closed_dates':['2026-02-30']}",
            "closed_dates", "impossible closed date");
    refused(CAT_EVENT, "{'id':'bad-e6','name':'X','occurrences':[{'start':'later'}]}", "occurrences",
            "occurrence start not ISO");
    refused(CAT_EVENT,
            "{'id':'bad-e7','name':'X','occurrences':[{'start':'2026-01-02T10:00:00Z','end':'2026-01-01T10:00:00Z'}]}",
            "occurrences", "occurrence ending before it starts");
    refused(CAT_PRODUCT, "{'id':'bad-p17','name':'X','price':1,'taxes':[{'rate_bp':20000}]}", "taxes",
            "tax rate above 100%");
    refused(CAT_PRODUCT, "{'id':'bad-p18','name':'X','price':1,'taxes':[{'rate_bp':100,'proportion_bp':-1}]}",
            "taxes", "negative tax proportion");
    refused(CAT_PRODUCT, "{'id':'bad-p19','name':'X','price':1,'pools':[{'amount':1}]}", "pools",
            "pool entry without pool_id");
    refused(CAT_PRODUCT, "{'id':'bad-p20','name':'X','price':1,'pools':[{'pool_id':'pl1','amount':0}]}", "pools",
            "pool amount 0");
    refused(CAT_PRODUCT, "{'id':'bad-p21','name':'X','price':1,'prices':[{'price':-1}]}", "prices",
            "negative rule price");
    refused(CAT_PRODUCT, "{'id':'bad-p22','name':'X','price':1,'prices':[{'price':1,'date_from':'2026-02-30'}]}",
            "prices", "bad rule date");
    refused(CAT_PRODUCT, "{'id':'bad-p23','name':'X','price':1,'prices':[{'price':1,'time_to':'24:61'}]}", "prices",
            "bad rule time");
    refused(CAT_PRODUCT, "{'id':'bad-p24','name':'X','price':1,'prices':[{'price':1,'weekdays':[9]}]}", "prices",
            "rule weekday 9");
    refused(CAT_PRODUCT, "{'id':'bad-p25','name':'X','price':1,'scan':{'limit':'twice'}}", "scan.limit",
            "unknown scan limit");
    refused(CAT_PRODUCT, "{'id':'bad-p26','name':'X','price':1,'scan':{'times':-1}}", "times", "negative scan times");
    refused(CAT_PRODUCT, "{'id':'bad-p27','name':'X','price':1,'scan':{'time_seconds':'1h'}}", "time_seconds",
            "string scan time_seconds");
    refused(CAT_PRODUCT, "{'id':'bad-p28','name':'X','price':1,'min_per_order':5,'max_per_order':2}",
            "min_per_order", "min above max");
    refused(CAT_PRODUCT, "{'id':'bad-p29','name':'X','price':1,'options':[{'name':'A','price':1}]}", "options.id",
            "option without id");
    refused(CAT_PRODUCT,
            "{'id':'bad-p30','name':'X','price':1,'options':[{'id':'a','name':'A','price':1},"
            "{'id':'a','name':'B','price':2}]}",
            "options.id", "two options of one id");
    refused(CAT_PRODUCT, "{'id':'bad-p31','name':'X','price':1,'options':[{'id':'a','price':1}]}", "options.name",
            "option without name");
    refused(CAT_PRODUCT, "{'id':'bad-p32','name':'X','price':1,'options':[{'id':'a','name':'A','price':1,'x':1}]}",
            "options.x", "unknown option field");
    refused(CAT_PRODUCT,
            "{'id':'bad-p33','name':'X','price':1,'options':[{'id':'a','name':'A','price':1,'max_quantity':1001}]}",
            "options.max_quantity", "option max_quantity above 1000");
    refused(CAT_PRODUCT, "{'id':'bad-p34','name':'X','price':1,'apf_fields':[{'id':'f','label':'F','type':'file'}]}",
            "apf_fields.type", "unknown form field type");
    refused(CAT_PRODUCT, "{'id':'bad-p35','name':'X','price':1,'apf_fields':[{'id':'','label':'F'}]}",
            "apf_fields.id", "form field with an empty id");
    refused(CAT_DISCOUNT, "{'id':'bad-d9','code':'X','type':'fixed'}", "amount", "fixed discount without amount");
    refused(CAT_DISCOUNT, "{'id':'bad-d10','code':'X','type':'percentage','percent_bp':20000}", "percent_bp",
            "percentage above 100%");
    refused(CAT_DISCOUNT, "{'id':'bad-d11','code':'X','type':'percentage'}", "percent_bp",
            "percentage without percent_bp");
    refused(CAT_POOL, "{'id':'a/b','capacity':1}", "id", "id with a slash");
    refused(CAT_POOL, "{'id':'0123456789012345678901234567890123456789x','capacity':1}", "id", "id too long");

    /* nothing refused was stored */
    catalog_snapshot *s = catalog_acquire(E, &A);
    int stored = 0;
    for (int k = 0; s && k < CAT__COUNT; k++)
        for (size_t i = 0; i < model_count(s->model, k); i++)
            if (!strncmp(*(const char *const *)model_object_at(s->model, k, i), "bad-", 4)) stored++;
    CHECK(s && stored == 0, "refused documents are not stored");
    CHECK(s && !model_product(s->model, "bad-p1") && !model_pool(s->model, "bad-o1"),
          "refused documents are not compiled");
    catalog_release(s);
}

/* Beside each typed object the model keeps its document text (what
 * catalog_get echoes) and the codec's decoded document (what the dialects read
 * free-form fields from); documents the codec cannot read are left out. */
static void test_documents(void)
{
    catalog_snapshot *s = catalog_acquire(E, &A);
    const catalog_model *m = s ? s->model : NULL;
    const char *doc = model_doc(m, CAT_LOCATION, "loc1");
    CHECK(streq(doc, "{\"id\":\"loc1\",\"name\":\"Zoo\",\"timezone\":\"Europe/London\"}"),
          "model_doc: the stored text, compact, id first as written");
    CHECK(model_doc(m, CAT_LOCATION, "nope") == NULL && model_doc(m, CAT_PRODUCT, "loc1") == NULL,
          "model_doc: NULL for an unknown id or another kind");
    const json_t *decoded = catalog_view_find(s, CAT_LOCATION, "loc1");
    CHECK(decoded && streq(jstr(decoded, "name"), "Zoo"), "catalog_view_find: the decoded document");
    size_t nloc = model_count(m, CAT_LOCATION);
    CHECK(nloc >= 2 && streq(model_doc_at(m, CAT_LOCATION, 1), model_doc(m, CAT_LOCATION, "loc0")) &&
              model_object_at(m, CAT_LOCATION, 0) == model_location(m, "loc1") &&
              !model_object_at(m, CAT_LOCATION, nloc) && !model_doc_at(m, CAT_LOCATION, nloc),
          "model_count / *_at: objects in the order written");
    catalog_release(s);

    char *text = NULL;
    CHECK(catalog_get(E, &A, CAT_LOCATION, "loc0", &text) == BO_OK && text && strstr(text, "\"address\":\"1 Main St\""),
          "catalog_get: the document text");
    free(text);
    text = NULL;
    CHECK(catalog_get(E, &B, CAT_LOCATION, "loc0", &text) == BO_NOT_FOUND && !text,
          "catalog_get: another account's id is not found");
    bo_error err = {0};
    CHECK(catalog_put(E, &A, CAT_LOCATION, NULL, "[1,2]", false, NULL, &err) == BO_INVALID &&
              streq(err.code, "invalid_body"),
          "catalog_put: text that is not a JSON object refused");
    CHECK(catalog_put(E, &A, CAT_LOCATION, NULL, "{\"id\":\"loc-t\",\"name\":\"T\",\"timezone\":\"UTC\"}", false,
                      &text, &err) == BO_OK &&
              streq(text, "{\"id\":\"loc-t\",\"name\":\"T\",\"timezone\":\"UTC\"}"),
          "catalog_put: document text in, stored text out");
    free(text);

    catalog_model *raw = catalog_model_new(catalog_doc_json_codec.release);
    catalog_doc_compile(raw, CAT_POOL, "not json");
    catalog_doc_compile(raw, CAT_POOL, "{\"capacity\":1}");
    catalog_doc_compile(raw, CAT_POOL, "{\"id\":\"p\",\"capacity\":1}");
    catalog_doc_compile(raw, CAT_POOL, "{\"id\":\"p\",\"capacity\":2}");
    CHECK(model_count(raw, CAT_POOL) == 1 && model_pool(raw, "p")->capacity == 1,
          "compile: unreadable and id-less documents left out; the first of an id wins");
    catalog_model_free(raw);

    /* an engine without a codec refuses catalog work rather than guessing */
    engine_config bare = {.default_hold_seconds = 900};
    engine *no_codec = engine_open(S, &bare);
    CHECK(catalog_put(no_codec, &A, CAT_POOL, NULL, "{\"capacity\":1}", false, NULL, &err) == BO_INTERNAL,
          "no codec: catalog_put BO_INTERNAL");
    CHECK(catalog_view_open(no_codec, &A) == NULL, "no codec: no view");
    engine_close(no_codec);
}

/* A new version compiles anew; a snapshot held before keeps what it had. */
static void test_versions(void)
{
    catalog_snapshot *before = catalog_acquire(E, &A);
    json_t *patch = J("{'price':600,'enabled':false}");
    bo_error err;
    CHECK(catalog_put_json(E, &A, CAT_PRODUCT, "pr0", patch, true, NULL, &err) == BO_OK, "partial update of pr0");
    json_decref(patch);
    CHECK(catalog_delete(E, &A, CAT_VOUCHER, "v0", &err) == BO_OK, "voucher v0 deleted");
    catalog_snapshot *after = catalog_acquire(E, &A);
    const cat_product *old = before ? model_product(before->model, "pr0") : NULL;
    const cat_product *now = after ? model_product(after->model, "pr0") : NULL;
    CHECK(old && old->price == 500 && old->enabled && old->gate_price == 500, "held snapshot keeps the old product");
    CHECK(now && now->price == 600 && !now->enabled && now->gate_price == 600,
          "new snapshot: merged fields compiled, gate_price follows price");
    CHECK(before && model_voucher(before->model, "v0") && after && !model_voucher(after->model, "v0"),
          "deleted voucher: gone from the new snapshot only");
    catalog_release(before);
    catalog_release(after);
}

/* ---------------- ticket groups, payment methods, voucher events ---------------- */

static void write_extras(void)
{
    bool ok = true;
    ok &= put(&A, CAT_PAYMENT_METHOD,
              "{'id':'pm1','name':'Card','kind':'card','instructions':'Tap','fee_fixed':35,'fee_percent_bp':260,"
              "'enabled':false,'sort_order':3,'external_id':'acct-9'}");
    ok &= put(&A, CAT_PAYMENT_METHOD, "{'id':'pm0','name':'Door','kind':'offline'}");
    ok &= put(&A, CAT_TICKET_GROUP, "{'id':'tg1','name':'April 20th','sort_order':50050,'max_per_order':4,"
                                    "'event_id':'ev0'}");
    ok &= put(&A, CAT_TICKET_GROUP, "{'id':'tg0','name':'Plain','max_per_order':null}");
    ok &= put(&A, CAT_EVENT, "{'id':'evpm','name':'Paid','payment_method_ids':['pm1','pm0']}");
    ok &= put(&A, CAT_PRODUCT, "{'id':'prg','name':'Grouped','price':800,'group_id':'tg1','event_id':'evpm'}");
    ok &= put(&A, CAT_VOUCHER, "{'id':'vev','name':'Festival','value':500,'event_ids':['evpm','ev0']}");
    /* the id every other kind has too (write_catalog) */
    ok &= put(&A, CAT_TICKET_GROUP, "{'id':'same','name':'G','sort_order':9}");
    ok &= put(&A, CAT_PAYMENT_METHOD, "{'id':'same','name':'M','kind':'other','sort_order':8}");
    ok &= put(&A, CAT_EVENT, "{'id':'evgl','name':'Listed'}");
    ok &= put(&A, CAT_GUEST_LIST, "{'id':'gl0','name':'Only','event_id':'evgl','prices':[{'id':'a','name':'A',"
                                  "'price':0}]}");
    ok &= put(&A, CAT_GUEST_LIST,
              "{'id':'gl1','name':'Lista VIP','event_id':'evpm','slug':'vip','enabled':false,'prices':["
              "{'id':'girls','name':'Free before 1','price':0,'men':false,'min_age':18,"
              "'shown_from':'2030-01-01T00:00:00Z','valid_from':'2030-01-02T20:00:00Z',"
              "'valid_until':'2030-01-03T01:00:00Z'},{'id':'all','name':'Door','price':1250}]}");
    CHECK(ok, "ticket groups, payment methods, guest lists and their references are accepted");
}

static void test_extras(const catalog_model *m)
{
    const cat_payment_method *pm = model_payment_method(m, "pm1");
    CHECK(pm && streq(pm->name, "Card") && streq(pm->kind, "card") && streq(pm->instructions, "Tap") &&
              streq(pm->external_id, "acct-9"),
          "payment method: name, kind, instructions, external_id");
    CHECK(pm && pm->fee_fixed == 35 && pm->fee_percent_bp == 260 && !pm->enabled && pm->sort_order == 3,
          "payment method: typed fees, enabled false, sort_order");
    pm = model_payment_method(m, "pm0");
    CHECK(pm && pm->enabled && pm->fee_fixed == 0 && pm->fee_percent_bp == 0 && pm->sort_order == 0 &&
              !pm->instructions && !pm->external_id,
          "payment method defaults: enabled, no fees, sort 0, no instructions");
    const cat_ticket_group *g = model_ticket_group(m, "tg1");
    CHECK(g && streq(g->name, "April 20th") && g->sort_order == 50050 && g->max_per_order == 4 &&
              streq(g->event_id, "ev0"),
          "ticket group: name, sort_order, max_per_order, event_id");
    g = model_ticket_group(m, "tg0");
    CHECK(g && g->max_per_order == -1 && g->sort_order == 0 && !g->event_id,
          "ticket group defaults: no limit (null -> -1), sort 0, no event");
    const cat_product *p = model_product(m, "prg");
    CHECK(p && streq(p->group_id, "tg1"), "product: group_id");
    CHECK(model_product(m, "pr0") && !model_product(m, "pr0")->group_id, "product default: no group");
    const cat_event *ev = model_event(m, "evpm"), *bare = model_event(m, "ev0");
    CHECK(ev && ev->npayment_methods == 2 && streq(ev->payment_method_ids[0], "pm1") &&
              streq(ev->payment_method_ids[1], "pm0"),
          "event: payment_method_ids in order");
    CHECK(bare && bare->npayment_methods == 0, "event default: no payment methods named");
    CHECK(ev && bare && !payment_method_offered(ev, model_payment_method(m, "pm1")) &&
              payment_method_offered(ev, model_payment_method(m, "pm0")) &&
              payment_method_offered(bare, model_payment_method(m, "pm0")),
          "payment_method_offered: named and enabled; an event naming none offers every enabled one");
    const cat_voucher *v = model_voucher(m, "vev");
    CHECK(v && v->nevents == 2 && streq(v->event_ids[0], "evpm"), "voucher: event_ids");
    CHECK(v && voucher_applies_to_event(v, "ev0") && !voucher_applies_to_event(v, "ev1") &&
              !voucher_applies_to_event(v, NULL),
          "voucher_applies_to_event: its events only, not a product of no event");
    v = model_voucher(m, "v0");
    CHECK(v && v->nevents == 0 && voucher_applies_to_event(v, NULL) && voucher_applies_to_event(v, "ev1"),
          "voucher default: any event, or none");
    CHECK(!model_ticket_group(m, "nope") && !model_payment_method(m, "nope") && !model_ticket_group(m, NULL),
          "unknown ticket group and payment method: NULL");
    CHECK(model_ticket_group(m, "same") && model_ticket_group(m, "same")->sort_order == 9 &&
              model_payment_method(m, "same") && model_payment_method(m, "same")->sort_order == 8 &&
              model_voucher(m, "same") && model_voucher(m, "same")->value == 77,
          "shared id: ticket group and payment method beside the other kinds");
    CHECK(!model_ticket_group(m, "pm1") && !model_payment_method(m, "tg1"), "a kind does not find another kind's ids");
    const cat_guest_list *gl = model_guest_list(m, "gl1");
    CHECK(gl && streq(gl->name, "Lista VIP") && streq(gl->event_id, "evpm") && streq(gl->slug, "vip") &&
              !gl->enabled && gl->nprices == 2,
          "guest list: name, event, slug, enabled, prices");
    instant_us shown, from, until;
    iso_parse("2030-01-01T00:00:00Z", NULL, &shown);
    iso_parse("2030-01-02T20:00:00Z", NULL, &from);
    iso_parse("2030-01-03T01:00:00Z", NULL, &until);
    const cat_guest_list_price *gp = gl && gl->nprices == 2 ? gl->prices : NULL;
    CHECK(gp && streq(gp[0].id, "girls") && gp[0].price == 0 && !gp[0].men && gp[0].women && gp[0].min_age == 18 &&
              gp[0].shown_from == shown && gp[0].valid_from == from && gp[0].valid_until == until,
          "guest list price: whom, age and times");
    CHECK(gp && gp[1].price == 1250 && gp[1].men && gp[1].women && !gp[1].min_age && !gp[1].shown_from &&
              !gp[1].valid_from && !gp[1].valid_until,
          "guest list price defaults: for everyone, no age, open times");
}

static void test_extras_refused(void)
{
    refused(CAT_TICKET_GROUP, "{'id':'bad-g0'}", "name", "group without a name");
    refused(CAT_TICKET_GROUP, "{'id':'bad-g1','name':'X','max_per_order':-1}", "max_per_order", "negative limit");
    refused(CAT_TICKET_GROUP, "{'id':'bad-g2','name':'X','event_id':'nope'}", "event_id", "unknown event");
    refused(CAT_PAYMENT_METHOD, "{'id':'bad-m0','name':'X'}", "kind", "method without a kind");
    refused(CAT_PAYMENT_METHOD, "{'id':'bad-m1','name':'X','kind':'gold'}", "kind", "unknown kind");
    refused(CAT_PAYMENT_METHOD, "{'id':'bad-m2','name':'X','kind':'cash','fee_percent_bp':10001}", "fee_percent_bp",
            "percentage over 100%");
    refused(CAT_PAYMENT_METHOD, "{'id':'bad-m3','name':'X','kind':'cash','fee_fixed':-1}", "fee_fixed",
            "negative fee");
    refused(CAT_PRODUCT, "{'id':'bad-pg','name':'X','price':1,'group_id':'nope'}", "group_id", "unknown group");
    refused(CAT_EVENT, "{'id':'bad-em','name':'X','payment_method_ids':['pm0','nope']}", "payment_method_ids",
            "unknown payment method");
    refused(CAT_VOUCHER, "{'id':'bad-ve','name':'X','value':1,'event_ids':['nope']}", "event_ids", "unknown event");
    refused(CAT_GUEST_LIST, "{'id':'bad-gl0','name':'X','event_id':'nope','prices':[{'id':'a','name':'A','price':1}]}",
            "event_id", "guest list of an unknown event");
    refused(CAT_GUEST_LIST, "{'id':'bad-gl1','name':'X','event_id':'evpm','prices':[]}", "prices",
            "guest list without prices");
    refused(CAT_GUEST_LIST, "{'id':'bad-gl2','name':'X','event_id':'evpm','prices':[{'id':'a','name':'A','price':1,"
            "'valid_from':'2030-01-02T00:00:00Z','valid_until':'2030-01-01T00:00:00Z'}]}",
            "prices", "a price ending before it starts");
    bo_error err = {0};
    CHECK(catalog_delete(E, &A, CAT_TICKET_GROUP, "tg1", &err) == BO_CONFLICT && !strcmp(err.code, "in_use"),
          "a ticket group a product names cannot be deleted (in_use)");
    CHECK(catalog_delete(E, &A, CAT_PAYMENT_METHOD, "pm0", &err) == BO_CONFLICT && !strcmp(err.code, "in_use"),
          "a payment method an event names cannot be deleted (in_use)");
    CHECK(catalog_delete(E, &A, CAT_EVENT, "ev0", &err) == BO_CONFLICT && !strcmp(err.code, "in_use"),
          "an event a ticket group or voucher names cannot be deleted (in_use)");
    CHECK(catalog_delete(E, &A, CAT_TICKET_GROUP, "tg0", &err) == BO_OK, "an unused ticket group is deleted");
    CHECK(catalog_delete(E, &A, CAT_EVENT, "evgl", &err) == BO_CONFLICT && !strcmp(err.code, "in_use"),
          "an event a guest list names cannot be deleted (in_use)");
    CHECK(catalog_delete(E, &A, CAT_GUEST_LIST, "gl0", &err) == BO_OK &&
              catalog_delete(E, &A, CAT_EVENT, "evgl", &err) == BO_OK,
          "without its guest list, it can");
}

int main(void)
{
    test_server_key(7);
    char path[128];
    const char *uri = test_db_uri("catalog-model", path);
    S = test_store_open(uri);
    if (!S) return check_summary();
    E = test_engine_open(S);
    CHECK(test_account(E, "cm", "Catalog", &A), "account A");
    CHECK(test_account(E, "cn", "Many", &B), "account B");

    write_catalog();
    write_extras();
    catalog_snapshot *s = catalog_acquire(E, &A);
    CHECK(s && s->model, "snapshot with a compiled model");
    if (s && s->model) {
        test_locations(s->model);
        test_schedules(s->model);
        test_categories(s->model);
        test_events(s->model);
        test_pools(s->model);
        test_products(s->model);
        test_discounts(s->model);
        test_vouchers(s->model);
        test_lookups(s->model);
        test_extras(s->model);
    }
    catalog_release(s);
    test_raw_compile();
    test_refused();
    test_extras_refused();
    test_documents();
    test_many_products();
    test_versions();

    return test_finish(E, S, uri, path);
}
