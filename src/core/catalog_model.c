/* The typed catalog's container: the arena its structs live in, the indexes
 * by id (and discount code), and the lookups requests use. The catalog codec
 * fills it (catalog_model.h, "building a model"); nothing here reads a
 * document. */
#include "core/catalog_model.h"
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <strings.h>

/* ---- arena: every struct and string of a model, freed at once ---- */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[];
} arena_chunk;

static void *arena_alloc(arena_chunk **head, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    arena_chunk *c = *head;
    if (!c || c->size - c->used < n) {
        size_t size = n > 16384 ? n : 16384;
        c = malloc(sizeof *c + size);
        c->next = *head;
        c->used = 0;
        c->size = size;
        *head = c;
    }
    void *p = (char *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

static const char *arena_str(arena_chunk **head, const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *p = arena_alloc(head, n);
    memcpy(p, s, n);
    return p;
}

/* ---- index: open addressing over id strings ---- */

typedef struct {
    const char **keys;
    size_t *slots;  /* entry number of each key */
    size_t mask;    /* capacity - 1; capacity a power of two, at most half full */
    size_t n;
} id_index;

static uint64_t hash_id(const char *s, bool fold_case)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (fold_case && ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch - 'A' + 'a');
        h = (h ^ ch) * 1099511628211ULL;
    }
    return h;
}

static bool key_eq(const char *a, const char *b, bool fold_case) { return fold_case ? !strcasecmp(a, b) : !strcmp(a, b); }

static void index_free(id_index *ix)
{
    free(ix->keys);
    free(ix->slots);
}

static void index_insert(id_index *ix, const char *key, size_t slot, bool fold_case);

/* Doubles the table (8 at first), so it stays at most half full. */
static void index_grow(id_index *ix, bool fold_case)
{
    id_index old = *ix;
    size_t cap = old.keys ? (old.mask + 1) * 2 : 8;
    *ix = (id_index){calloc(cap, sizeof *ix->keys), calloc(cap, sizeof *ix->slots), cap - 1, 0};
    for (size_t i = 0; old.keys && i <= old.mask; i++)
        if (old.keys[i]) index_insert(ix, old.keys[i], old.slots[i], fold_case);
    index_free(&old);
}

static void index_insert(id_index *ix, const char *key, size_t slot, bool fold_case)
{
    if (!ix->keys || (ix->n + 1) * 2 > ix->mask + 1) index_grow(ix, fold_case);
    size_t i = hash_id(key, fold_case) & ix->mask;
    while (ix->keys[i]) {
        if (key_eq(ix->keys[i], key, fold_case)) return; /* first wins */
        i = (i + 1) & ix->mask;
    }
    ix->keys[i] = key;
    ix->slots[i] = slot;
    ix->n++;
}

/* The entry number of key, or SIZE_MAX. */
static size_t index_get(const id_index *ix, const char *key, bool fold_case)
{
    if (!key || !ix->keys) return SIZE_MAX;
    for (size_t i = hash_id(key, fold_case) & ix->mask; ix->keys[i]; i = (i + 1) & ix->mask)
        if (key_eq(ix->keys[i], key, fold_case)) return ix->slots[i];
    return SIZE_MAX;
}

/* One object as filed: its typed struct, its document text, the codec's form. */
typedef struct {
    const void *obj;
    const char *doc;
    void *decoded;
} model_entry;

typedef struct {
    model_entry *entries; /* in the order added */
    size_t n, cap;
    id_index by_id;
} model_kind;

struct catalog_model {
    arena_chunk *arena;
    model_kind kinds[CAT__COUNT];
    id_index discount_codes; /* entry numbers of kinds[CAT_DISCOUNT] */
    void (*release)(void *decoded);
};

/* Pools, locations and schedules first: the kinds after them refer to them. */
const catalog_kind catalog_compile_order[CAT__COUNT] = {CAT_LOCATION, CAT_SCHEDULE, CAT_POOL,     CAT_CATEGORY,
                                                        CAT_EVENT,    CAT_PRODUCT,  CAT_DISCOUNT, CAT_VOUCHER,
                                                        CAT_QUESTION,
                                                        /* referred to by id only: compiled in any order */
                                                        CAT_TICKET_GROUP, CAT_PAYMENT_METHOD, CAT_GUEST_LIST};

catalog_model *catalog_model_new(void (*release)(void *decoded))
{
    catalog_model *m = calloc(1, sizeof *m);
    m->release = release;
    return m;
}

void *model_alloc(catalog_model *m, size_t n) { return arena_alloc(&m->arena, n ? n : 1); }

const char *model_strdup(catalog_model *m, const char *s) { return arena_str(&m->arena, s); }

void model_add(catalog_model *m, catalog_kind k, const void *obj, const char *doc, void *decoded)
{
    const char *id = obj ? *(const char *const *)obj : NULL; /* every cat_* struct starts with its id */
    if (k >= CAT__COUNT || !id || index_get(&m->kinds[k].by_id, id, false) != SIZE_MAX) {
        if (decoded && m->release) m->release(decoded);
        return;
    }
    model_kind *mk = &m->kinds[k];
    if (mk->n == mk->cap) {
        mk->cap = mk->cap ? mk->cap * 2 : 16;
        mk->entries = realloc(mk->entries, mk->cap * sizeof *mk->entries);
    }
    mk->entries[mk->n] = (model_entry){obj, arena_str(&m->arena, doc), decoded};
    index_insert(&mk->by_id, id, mk->n, false);
    if (k == CAT_DISCOUNT && ((const cat_discount *)obj)->code)
        index_insert(&m->discount_codes, ((const cat_discount *)obj)->code, mk->n, true);
    mk->n++;
}

static const model_entry *entry_of(const catalog_model *m, catalog_kind k, const char *id)
{
    if (!m || k >= CAT__COUNT) return NULL;
    size_t i = index_get(&m->kinds[k].by_id, id, false);
    return i == SIZE_MAX ? NULL : &m->kinds[k].entries[i];
}

void catalog_model_free(catalog_model *m)
{
    if (!m) return;
    for (int k = 0; k < CAT__COUNT; k++) {
        model_kind *mk = &m->kinds[k];
        for (size_t i = 0; i < mk->n && m->release; i++)
            if (mk->entries[i].decoded) m->release(mk->entries[i].decoded);
        free(mk->entries);
        index_free(&mk->by_id);
    }
    index_free(&m->discount_codes);
    for (arena_chunk *c = m->arena, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(m);
}

/* ---- lookups ---- */

const void *model_object(const catalog_model *m, catalog_kind k, const char *id)
{
    const model_entry *en = entry_of(m, k, id);
    return en ? en->obj : NULL;
}

const char *model_doc(const catalog_model *m, catalog_kind k, const char *id)
{
    const model_entry *en = entry_of(m, k, id);
    return en ? en->doc : NULL;
}

const void *model_decoded(const catalog_model *m, catalog_kind k, const char *id)
{
    const model_entry *en = entry_of(m, k, id);
    return en ? en->decoded : NULL;
}

size_t model_count(const catalog_model *m, catalog_kind k) { return m && k < CAT__COUNT ? m->kinds[k].n : 0; }

const void *model_object_at(const catalog_model *m, catalog_kind k, size_t i)
{
    return i < model_count(m, k) ? m->kinds[k].entries[i].obj : NULL;
}

const char *model_doc_at(const catalog_model *m, catalog_kind k, size_t i)
{
    return i < model_count(m, k) ? m->kinds[k].entries[i].doc : NULL;
}

const void *model_decoded_at(const catalog_model *m, catalog_kind k, size_t i)
{
    return i < model_count(m, k) ? m->kinds[k].entries[i].decoded : NULL;
}

#define LOOKUP(fn, type, kind)                                                                                     \
    const type *fn(const catalog_model *m, const char *id) { return model_object(m, kind, id); }
LOOKUP(model_location, cat_location, CAT_LOCATION)
LOOKUP(model_category, cat_category, CAT_CATEGORY)
LOOKUP(model_schedule, cat_schedule, CAT_SCHEDULE)
LOOKUP(model_event, cat_event, CAT_EVENT)
LOOKUP(model_pool, cat_pool, CAT_POOL)
LOOKUP(model_product, cat_product, CAT_PRODUCT)
LOOKUP(model_voucher, cat_voucher, CAT_VOUCHER)
LOOKUP(model_discount, cat_discount, CAT_DISCOUNT)
LOOKUP(model_question, cat_question, CAT_QUESTION)
LOOKUP(model_ticket_group, cat_ticket_group, CAT_TICKET_GROUP)
LOOKUP(model_payment_method, cat_payment_method, CAT_PAYMENT_METHOD)
LOOKUP(model_guest_list, cat_guest_list, CAT_GUEST_LIST)

const cat_discount *model_discount_by_code(const catalog_model *m, const char *code)
{
    size_t i = m ? index_get(&m->discount_codes, code, true) : SIZE_MAX;
    return i == SIZE_MAX ? NULL : m->kinds[CAT_DISCOUNT].entries[i].obj;
}

static int date_cmp(const void *x, const void *y)
{
    civil_date a = *(const civil_date *)x, b = *(const civil_date *)y;
    return (a > b) - (a < b);
}

void model_sort_dates(civil_date *dates, size_t n)
{
    if (n > 1) qsort(dates, n, sizeof *dates, date_cmp);
}

bool schedule_closed_on(const cat_schedule *s, civil_date day)
{
    return s->nclosed && bsearch(&day, s->closed_dates, s->nclosed, sizeof day, date_cmp) != NULL;
}

static bool id_listed(const char *const *ids, size_t n, const char *id)
{
    for (size_t i = 0; id && i < n; i++)
        if (!strcmp(ids[i], id)) return true;
    return false;
}

bool discount_applies_to(const cat_discount *d, const char *product_id)
{
    if (!d->nproducts) return true;
    for (size_t i = 0; i < d->nproducts; i++)
        if (!strcmp(d->product_ids[i], product_id)) return true;
    return false;
}

bool question_asked_for(const cat_question *q, const char *product_id)
{
    if (!q->nproducts) return true;
    for (size_t i = 0; i < q->nproducts; i++)
        if (!strcmp(q->product_ids[i], product_id)) return true;
    return false;
}

const cat_location *event_venue(const cat_event *ev)
{
    return ev->location ? ev->location : ev->category ? ev->category->location : NULL;
}

const char *event_timezone(const cat_event *ev, const char *fallback)
{
    const cat_location *l = event_venue(ev);
    return l && l->timezone ? l->timezone : fallback;
}

bool product_in_category(const cat_product *p, const char *category_id)
{
    for (size_t i = 0; i < p->ncategories; i++)
        if (!strcmp(p->category_ids[i], category_id)) return true;
    return false;
}

bool voucher_applies_to_event(const cat_voucher *v, const char *event_id)
{
    return !v->nevents || id_listed(v->event_ids, v->nevents, event_id);
}

bool payment_method_offered(const cat_event *ev, const cat_payment_method *pm)
{
    return pm->enabled && (!ev->npayment_methods || id_listed(ev->payment_method_ids, ev->npayment_methods, pm->id));
}

const cat_payment_method **model_payment_methods_offered(const catalog_model *m, const cat_event *ev, size_t *n)
{
    static const cat_event every_method = {0};
    size_t total = model_count(m, CAT_PAYMENT_METHOD);
    const cat_payment_method **out = calloc(total + 1, sizeof *out);
    *n = 0;
    if (!out) return NULL;
    for (size_t i = 0; i < total; i++) {
        const cat_payment_method *pm = model_object_at(m, CAT_PAYMENT_METHOD, i);
        if (!payment_method_offered(ev ? ev : &every_method, pm)) continue;
        size_t at = (*n)++;
        /* insertion keeps equal sort orders in catalog order; an account has a handful */
        for (; at > 0 && out[at - 1]->sort_order > pm->sort_order; at--) out[at] = out[at - 1];
        out[at] = pm;
    }
    return out;
}

const cat_option *product_option(const cat_product *p, const char *option_id)
{
    for (size_t i = 0; option_id && i < p->noptions; i++)
        if (!strcmp(p->options[i].id, option_id)) return &p->options[i];
    return NULL;
}

const cat_apf_field *product_apf_field(const cat_product *p, const char *field_id)
{
    for (size_t i = 0; field_id && i < p->napf_fields; i++)
        if (!strcmp(p->apf_fields[i].id, field_id)) return &p->apf_fields[i];
    return NULL;
}
