/* Price tiers, supplements and warranty (docs/MODEL.md, "Price tiers"): the
 * codec's checks and compilation, the active tier rule, the fees, and the
 * tier counts in the database under concurrency (a tier of 100 sells exactly
 * 100 of 150 concurrent takes), on BOXOFFICE_TEST_DB or a fresh SQLite file. */
#include "check.h"
#include "fixture.h"
#include "catalog_doc/catalog_doc.h"
#include "core/engine.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static char *quoted(const char *text)
{
    char *s = strdup(text);
    for (char *p = s; *p; p++)
        if (*p == '\'') *p = '"';
    return s;
}

static bool no_refs(catalog_kind k, const char *id, void *ctx)
{
    (void)k, (void)id, (void)ctx;
    return true;
}

/* What the codec makes of a product document written as body. */
static bo_status prepared(const char *body, bo_error *err)
{
    char *s = quoted(body);
    catalog_doc out = {0};
    bo_status st = catalog_doc_prepare(CAT_PRODUCT, NULL, s, false, "p", no_refs, NULL, &out, err);
    free(s);
    free(out.text), free(out.parent_id);
    for (size_t i = 0; i < out.npool_ids; i++) free(out.pool_ids[i]);
    free(out.pool_ids);
    return st;
}

/* Whether the codec refuses body with code on field. */
static bool refused(const char *body, const char *code, const char *field)
{
    bo_error err = {0};
    bo_status st = prepared(body, &err);
    if (st == BO_INVALID && !strcmp(err.code, code) && !strcmp(err.field, field)) return true;
    printf("# %s: got %d %s %s: %s\n", body, st, err.code, err.field, err.message);
    return false;
}

static void test_checks(void)
{
    const char *base = "{'name':{'en':'Rate'},'price':1200,";
    char doc[600];
#define WITH(extra) (snprintf(doc, sizeof doc, "%s%s}", base, extra), doc)
    CHECK(refused(WITH("'price_tiers':[{'id':'a','name':'A'}]"), "invalid_price_tier", "price_tiers"),
          "check: a tier needs a price");
    CHECK(refused(WITH("'price_tiers':[{'id':'a','name':'A','price':1},{'id':'a','name':'B','price':2}]"),
                  "invalid_price_tier", "price_tiers"),
          "check: tier ids are unique");
    CHECK(refused(WITH("'price_tiers':[{'id':'a','name':'A','price':1,'fee_amount':1,'fee_percent_bp':10}]"),
                  "invalid_price_tier", "price_tiers"),
          "check: one fee kind per tier");
    CHECK(refused(WITH("'price_tiers':[{'id':'a','name':'A','price':1,'fee_percent_bp':10001}]"),
                  "invalid_price_tier", "price_tiers"),
          "check: a percentage fee is at most 100%");
    CHECK(refused(WITH("'price_tiers':[{'id':'a','name':'A','price':1,'valid_until':'soon'}]"), "invalid_price_tier",
                  "price_tiers"),
          "check: valid_until is a time");
    CHECK(refused(WITH("'price_tiers':[{'id':'a','name':'A','price':1,'quantity':-1}]"), "invalid_price_tier",
                  "price_tiers"),
          "check: quantity >= 0");
    CHECK(refused(WITH("'price_tiers':[{'id':'a','name':'A','price':1,'colour':'red'}]"), "invalid_price_tier",
                  "price_tiers"),
          "check: unknown tier keys are refused (a misspelt fee would go unseen)");
    CHECK(refused(WITH("'supplements':[{'id':'s','name':'Drink','price':-1}]"), "invalid_supplement", "supplements"),
          "check: supplement price >= 0");
    CHECK(refused(WITH("'supplements':[{'id':'s','name':'A','price':1},{'id':'s','name':'B','price':1}]"),
                  "invalid_supplement", "supplements"),
          "check: supplement ids are unique");
    CHECK(refused(WITH("'warranty':{'enabled':true,'percent_bp':500}"), "invalid_warranty", "warranty"),
          "check: warranty needs hours");
    CHECK(refused(WITH("'warranty':{'enabled':'yes','percent_bp':500,'hours':12}"), "invalid_warranty", "warranty"),
          "check: warranty enabled is a boolean");
    CHECK(refused(WITH("'slug':'Bad Slug'"), "invalid_slug", "slug"), "check: slug characters");
    bo_error err = {0};
    CHECK(prepared(WITH("'price_tiers':[{'id':'a','name':'A','price':1,'quantity':100,'fee_percent_bp':1000,"
                        "'valid_until':'2030-01-01T00:00:00Z','includes':'1 Drink'}],"
                        "'supplements':[{'id':'s','name':'Drink','price':100}],"
                        "'warranty':{'enabled':true,'percent_bp':1000,'hours':12},'slug':'early-bird'"),
                   &err) == BO_OK,
          "check: a full document passes");
#undef WITH
}

static const cat_product *compiled(catalog_model *m)
{
    char *s = quoted("{'id':'p','name':{'en':'Rate'},'price':1200,'price_tiers':["
                     "{'id':'early','name':'Early Bird','price':1000,'quantity':100,'fee_percent_bp':1000,"
                     "'valid_until':'2030-01-01T00:00:00Z','includes':'1 Drink','additional_info':'Before 2 am'},"
                     "{'id':'regular','name':'Regular','price':1205,'fee_percent_bp':1000},"
                     "{'id':'door','name':'Door','price':1500,'fee_amount':150}],"
                     "'supplements':[{'id':'drink','name':'Drink','price':100},{'id':'coat','name':'Cloakroom',"
                     "'price':250}],'warranty':{'enabled':true,'percent_bp':1000,'hours':12}}");
    catalog_doc_compile(m, CAT_PRODUCT, s);
    free(s);
    return model_product(m, "p");
}

static void test_compile_and_rules(void)
{
    catalog_model *m = catalog_model_new(catalog_doc_json_codec.release);
    const cat_product *p = compiled(m);
    CHECK(p && p->ntiers == 3 && p->nsupplements == 2, "compile: tiers and supplements");
    if (!p || p->ntiers != 3) return catalog_model_free(m);
    instant_us deadline;
    iso_parse("2030-01-01T00:00:00Z", NULL, &deadline);
    const cat_price_tier *t = p->tiers;
    CHECK(!strcmp(t[0].id, "early") && t[0].price == 1000 && t[0].quantity == 100 && t[0].fee_percent_bp == 1000 &&
              t[0].valid_until == deadline && !strcmp(t[0].includes, "1 Drink") &&
              !strcmp(t[0].additional_info, "Before 2 am"),
          "compile: a tier's fields");
    CHECK(t[1].quantity == 0 && t[1].valid_until == 0 && !strcmp(t[1].includes, ""), "compile: tier defaults");
    CHECK(t[2].fee_percent_bp == -1 && t[2].fee_amount == 150, "compile: a fixed fee");
    CHECK(!strcmp(p->supplements[1].id, "coat") && p->supplements[1].price == 250, "compile: a supplement");
    CHECK(p->warranty.enabled && p->warranty.percent_bp == 1000 && p->warranty.hours == 12, "compile: warranty");

    instant_us before = deadline - 1, after = deadline;
    CHECK(price_tier_active(p, before, NULL) == 0, "active: the first tier while it lasts");
    int64_t used[3] = {99, 0, 0};
    CHECK(price_tier_active(p, before, used) == 0, "active: 99 of 100 used, still the first");
    used[0] = 100;
    CHECK(price_tier_active(p, before, used) == 1, "active: used up, the next");
    CHECK(price_tier_active(p, after, NULL) == 1, "active: past its deadline, the next");
    cat_product only_early = *p;
    only_early.ntiers = 1;
    CHECK(price_tier_active(&only_early, after, NULL) == -1, "active: none left");
    cat_product plain = {.id = "x"};
    CHECK(price_tier_active(&plain, before, NULL) == -1, "active: a product without tiers has none");

    CHECK(price_tier_fee(&t[0]) == 100, "fee: 10% of 10.00 is 1.00");
    CHECK(price_tier_fee(&t[1]) == 121, "fee: 10% of 12.05 is 1.205, half up to 1.21");
    CHECK(price_tier_fee(&t[2]) == 150, "fee: fixed 1.50");
    CHECK(warranty_price(&p->warranty, 1000) == 100 && warranty_price(&p->warranty, 1205) == 121,
          "warranty: 10% of the ticket price, half up");
    cat_warranty off = {.enabled = false, .percent_bp = 1000};
    CHECK(warranty_price(&off, 1000) == 0, "warranty: nothing when not enabled");

    catalog_model *bare = catalog_model_new(catalog_doc_json_codec.release);
    char *s = quoted("{'id':'q','name':{'en':'Plain'},'price':500}");
    catalog_doc_compile(bare, CAT_PRODUCT, s);
    free(s);
    const cat_product *q = model_product(bare, "q");
    CHECK(q && !q->ntiers && !q->nsupplements && !q->warranty.enabled, "compile: no tiers, no supplements");
    catalog_model_free(bare);
    catalog_model_free(m);
}

typedef struct {
    engine *e;
    const account *a;
    const cat_product *p;
    const cat_price_tier *t;
    bo_status st;
} taker;

static void *take_one(void *arg)
{
    taker *k = arg;
    bo_error err = {0};
    k->st = price_tier_take(k->e, k->a, k->p, "occ-1", k->t, 1, &err);
    return NULL;
}

#define TAKERS 150

static void test_counts(engine *e, const account *a)
{
    cat_price_tier tiers[2] = {{.id = "t100", .name = "Hundred", .price = 1000, .quantity = 100, .fee_percent_bp = -1},
                               {.id = "open", .name = "Open", .price = 1500, .fee_percent_bp = -1}};
    cat_product p = {.id = "prod-tiers", .tiers = tiers, .ntiers = 2};
    static taker takers[TAKERS];
    pthread_t threads[TAKERS];
    size_t started = 0;
    for (size_t i = 0; i < TAKERS; i++) {
        takers[i] = (taker){e, a, &p, &tiers[0], BO_INTERNAL};
        if (!pthread_create(&threads[i], NULL, take_one, &takers[i])) started++;
        else break;
    }
    for (size_t i = 0; i < started; i++) pthread_join(threads[i], NULL);
    int ok = 0, sold_out = 0;
    for (size_t i = 0; i < started; i++) ok += takers[i].st == BO_OK, sold_out += takers[i].st == BO_SOLD_OUT;
    CHECK(started == TAKERS, "counts: 150 concurrent takers started");
    CHECK(ok == 100 && sold_out == (int)started - 100, "counts: a tier of 100 sells exactly 100 of 150 concurrent takes");
    int64_t used[2] = {-1, -1};
    CHECK(price_tier_usage(e, a, &p, "occ-1", used) == BO_OK && used[0] == 100 && used[1] == 0,
          "counts: usage reads 100 and 0");
    CHECK(price_tier_active(&p, clock_now(), used) == 1, "counts: the rule moves on to the next tier");
    bo_error err = {0};
    CHECK(price_tier_take(e, a, &p, "occ-1", &tiers[0], 1, &err) == BO_SOLD_OUT && !strcmp(err.code, "tier_sold_out") &&
              !strcmp(err.field, "price_tier_id"),
          "counts: one more is sold out");
    CHECK(price_tier_give_back(e, a, &p, "occ-1", &tiers[0], 1, &err) == BO_OK, "counts: give one back");
    CHECK(price_tier_take(e, a, &p, "occ-1", &tiers[0], 2, &err) == BO_SOLD_OUT, "counts: two do not fit in one");
    CHECK(price_tier_take(e, a, &p, "occ-1", &tiers[0], 1, &err) == BO_OK, "counts: one does");
    CHECK(price_tier_take(e, a, &p, "occ-2", &tiers[0], 101, &err) == BO_SOLD_OUT,
          "counts: a first take larger than the tier is refused");
    CHECK(price_tier_take(e, a, &p, "occ-2", &tiers[0], 100, &err) == BO_OK, "counts: each occurrence counts alone");
    CHECK(price_tier_take(e, a, &p, "occ-1", &tiers[1], 100000, &err) == BO_OK, "counts: quantity 0 is unlimited");
    CHECK(price_tier_take(e, a, &p, "occ-1", &tiers[1], 0, &err) == BO_INVALID, "counts: a take of 0 is refused");
    CHECK(price_tier_give_back(e, a, &p, "occ-3", &tiers[0], 5, &err) == BO_OK &&
              price_tier_usage(e, a, &p, "occ-3", used) == BO_OK && used[0] == 0,
          "counts: giving back what was never taken leaves 0");

    account other;
    CHECK(test_account(e, "tiers-b", "Tiers B", &other), "counts: a second account");
    CHECK(price_tier_usage(e, &other, &p, "occ-1", used) == BO_OK && used[0] == 0 && used[1] == 0,
          "counts: another account's counts are its own");
    CHECK(price_tier_take(e, &other, &p, "occ-1", &tiers[0], 100, &err) == BO_OK,
          "counts: the same ids in another account take their own 100");
}

int main(void)
{
    secure_init();
    test_server_key(9);
    test_checks();
    test_compile_and_rules();
    char path[128];
    const char *uri = test_db_uri("price_tiers", path);
    store *s = test_store_open(uri);
    CHECK(s != NULL, "store opens");
    if (!s) return check_summary();
    engine *e = test_engine_open(s);
    account a;
    CHECK(e && test_account(e, "tiers", "Tiers", &a), "engine and account");
    if (e) test_counts(e, &a);
    return test_finish(e, s, uri, path);
}
