/* Schedule slots across both DST changes (core/schedule.c): in
 * Europe/Amsterdam 02:00-03:00 local does not exist on the last Sunday of
 * March and happens twice on the last Sunday of October. Every slot keeps its
 * length and no two share a start. Pure: no database. */
#include "check.h"
#include "core/schedule.h"
#include <stdlib.h>

static size_t slots_on(const cat_schedule *sch, civil_date day, slot **out)
{
    cat_product product = {.enabled = true, .valid_from = -1, .valid_to = -1, .show_from = -1, .show_to = -1};
    occurrence_source src = {.kind = SOURCE_SCHEDULE, .schedule = sch, .timezone = "Europe/Amsterdam"};
    return occurrence_slots(&src, &product, day, day + 1, 0, 1000, out);
}

static bool distinct_and_whole(const slot *s, size_t n, int32_t slot_seconds)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i].ends_at - s[i].starts_at != (instant_us)slot_seconds * US_PER_SEC) return false;
        if (i && s[i].starts_at <= s[i - 1].starts_at) return false;
    }
    return true;
}

int main(void)
{
    /* 01:00-04:00 local, 30-minute slots */
    cat_schedule sch = {.weekdays = WEEKDAYS_ALL, .open = 3600, .close = 4 * 3600, .slot_seconds = 1800,
                        .valid_from = -1, .valid_to = -1};
    slot *s = NULL;
    size_t n = slots_on(&sch, date_from_ymd(2027, 3, 28), &s);
    CHECK(n == 4, "spring: the two slots in the gap hour do not exist (6 wall-clock slots, 4 real)");
    CHECK(distinct_and_whole(s, n, 1800), "spring: every slot 30 minutes, no two at one instant");
    CHECK(n == 4 && s[2].time_from == 3 * 3600 && s[2].starts_at == s[1].ends_at,
          "spring: 03:00 follows 01:30 without a hole in time");
    free(s);
    n = slots_on(&sch, date_from_ymd(2027, 10, 31), &s);
    CHECK(n == 6, "autumn: six slots");
    CHECK(distinct_and_whole(s, n, 1800), "autumn: the slot before the overlap keeps its 30 minutes");
    free(s);
    n = slots_on(&sch, date_from_ymd(2027, 6, 1), &s);
    CHECK(n == 6 && distinct_and_whole(s, n, 1800), "an ordinary day: six slots of 30 minutes");
    free(s);
    /* hour-long slots: 02:00-03:00 is all gap, 01:00-02:00 ends at the gap */
    sch.slot_seconds = 3600;
    n = slots_on(&sch, date_from_ymd(2027, 3, 28), &s);
    CHECK(n == 2 && distinct_and_whole(s, n, 3600), "spring, hourly: 01:00 and 03:00");
    free(s);
    return check_summary();
}
