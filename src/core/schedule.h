/* Which occurrences a product has: event occurrences, schedule timeslots,
 * whole days, or none (undated). Pure functions over a catalog snapshot. */
#ifndef BO_SCHEDULE_H
#define BO_SCHEDULE_H
#include "core/internal.h"

typedef enum { SOURCE_UNDATED, SOURCE_DAYS, SOURCE_SCHEDULE, SOURCE_EVENT } occurrence_source_kind;

typedef struct {
    occurrence_source_kind kind;
    const cat_schedule *schedule; /* SOURCE_SCHEDULE */
    const cat_event *event;       /* SOURCE_EVENT */
    const char *category_id;  /* the category the product is sold under, if any */
    const char *timezone;     /* venue time zone */
} occurrence_source;

/* Picks the source for product (under category_id, or its first category). */
bo_status occurrence_source_for(const catalog_model *m, const account *a, const cat_product *product,
                                const char *category_id, occurrence_source *out, bo_error *err);
/* The product may be used on day (valid window) and sold today (show window). */
bool product_open_on(const cat_product *p, civil_date day, civil_date today);
/* Slots of the source in [from, to) (dates in the venue's zone); available is
 * left at -1. Product sale and validity windows and the past close slots
 * (open=false). Stops after max + 1 slots, so a count above max means "more
 * than max" (the rest is never built). Returns count; *out malloc'd. */
size_t occurrence_slots(const occurrence_source *src, const cat_product *product, civil_date from, civil_date to,
                        instant_us now, size_t max, slot **out);
#endif
