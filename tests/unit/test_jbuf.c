/* The reply writer's number, money, date, time and offset formatting (written
 * without snprintf) against snprintf, money_format and jansson's own output,
 * and the per-day offset memo against tz_offset_at across DST days. */
#include "check.h"
#include "util/jbuf.h"
#include "util/money.h"
#include "util/timeutil.h"
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void test_ints(void)
{
    static const int64_t values[] = {0,         1,          -1,        9,         10,        -10,      99,
                                     100,       -100,       101,       12345,     -98765,    1000000,  INT32_MAX,
                                     INT32_MIN, 4294967296, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    bool same = true;
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char mine[JB_INT_MAX], want[32];
        size_t n = jb_format_int(values[i], mine);
        snprintf(want, sizeof want, "%" PRId64, values[i]);
        if (strcmp(mine, want) || n != strlen(want)) {
            printf("# %s != %s\n", mine, want);
            same = false;
        }
    }
    CHECK(same, "jb_format_int matches %lld for edge values (INT64_MIN, INT64_MAX, 0, -1)");
    /* every magnitude boundary, both signs */
    same = true;
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10)
        for (int d = -1; d <= 1; d++)
            for (int sign = -1; sign <= 1; sign += 2) {
                int64_t v = sign * (p + d);
                char mine[JB_INT_MAX], want[32];
                jb_format_int(v, mine);
                snprintf(want, sizeof want, "%" PRId64, v);
                if (strcmp(mine, want)) same = false;
            }
    CHECK(same, "jb_format_int matches at every power of ten, plus and minus one");
}

static void test_money_text(void)
{
    static const struct {
        int64_t amount;
        int decimals;
        const char *want;
    } cases[] = {
        {4920, 2, "49.20"},       {5, 2, "0.05"},         {-5, 2, "-0.05"},         {0, 2, "0.00"},
        {-1950, 2, "-19.50"},     {1500, 0, "1500"},      {-1500, 0, "-1500"},      {1, 3, "0.001"},
        {123456789, 6, "123.456789"}, {7, 7, "0.07"}, /* out of range: 2 places, as money_format */
        {INT64_MIN, 2, "-92233720368547758.08"}, {INT64_MAX, 2, "92233720368547758.07"},
        {INT64_MIN, 0, "-9223372036854775808"},
    };
    bool same = true, as_money_format = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char mine[JB_MONEY_MAX], theirs[64];
        jb_format_money(cases[i].amount, cases[i].decimals, mine);
        money_format(cases[i].amount, cases[i].decimals, theirs, sizeof theirs);
        if (strcmp(mine, cases[i].want)) {
            printf("# %s != %s\n", mine, cases[i].want);
            same = false;
        }
        if (strcmp(mine, theirs)) as_money_format = false;
    }
    CHECK(same, "jb_format_money: minor units, negatives, 0 and 6 decimals, INT64_MIN");
    CHECK(as_money_format, "jb_format_money writes what money_format writes");
    for (int64_t v = -100005; v <= 100005; v += 7) {
        char mine[JB_MONEY_MAX], theirs[64];
        for (int d = 0; d <= 6; d++) {
            jb_format_money(v, d, mine);
            money_format(v, d, theirs, sizeof theirs);
            if (strcmp(mine, theirs)) as_money_format = false;
        }
    }
    CHECK(as_money_format, "jb_format_money equals money_format over a sweep of amounts and decimals");
}

static void test_buffer(void)
{
    jbuf b;
    jb_init(&b, 4); /* grows */
    jb_obj(&b);
    jb_kint(&b, "min", INT64_MIN);
    jb_kint(&b, "zero", 0);
    jb_key(&b, "price");
    jb_money(&b, -1950, 2);
    JB_KEY(&b, "day");
    jb_plain(&b, "2026-03-29", 10);
    jb_key(&b, "list");
    jb_arr(&b);
    jb_int(&b, -7);
    jb_money(&b, 100, 0);
    jb_plain(&b, "+02:00", 6);
    jb_arr_end(&b);
    jb_obj_end(&b);
    size_t len;
    char *text = jb_take(&b, &len);
    json_t *v = json_pack("{s:I,s:I,s:s,s:s,s:[I,s,s]}", "min", (json_int_t)INT64_MIN, "zero", (json_int_t)0, "price",
                          "-19.50", "day", "2026-03-29", "list", (json_int_t)-7, "100", "+02:00");
    char *want = json_dumps(v, JSON_COMPACT);
    CHECK(text && !strcmp(text, want) && len == strlen(want), "jb_int, jb_money, jb_plain, JB_KEY write what jansson writes");
    free(text);
    free(want);
    json_decref(v);

    /* jb_reset: empty again, the allocation kept (the analytics log's text, flush after flush) */
    jbuf r = {0};
    jb_reset(&r);
    jb_obj(&r), jb_kint(&r, "a", 1), jb_obj_end(&r);
    char *kept = r.p;
    size_t cap = r.cap;
    jb_reset(&r);
    jb_arr(&r), jb_int(&r, 2), jb_arr_end(&r);
    text = jb_take(&r, &len);
    CHECK(text == kept && r.p == NULL && !strcmp(text, "[2]") && len == 3 && cap >= 4,
          "jb_reset starts over in the same buffer, with no comma carried from before");
    free(text);
}

/* Strings through the plain-ASCII shortcut and the escaping path alike. */
static void test_strings(void)
{
    static const char *const texts[] = {"",          "plain-ascii_id 123", "quote \" here", "back\\slash",
                                        "tab\tnew\nline", "\x01\x1f ctl", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x9f",
                                        "del \x7f", "/slash/"};
    bool same = true;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        jbuf b;
        jb_init(&b, 1);
        jb_obj(&b);
        jb_kstr(&b, texts[i], texts[i]);
        jb_key(&b, "v");
        jb_str(&b, texts[i]);
        jb_obj_end(&b);
        char *mine = jb_take(&b, NULL);
        json_t *v = json_pack("{s:s,s:s}", texts[i], texts[i], "v", texts[i]);
        char *want = json_dumps(v, JSON_COMPACT);
        if (!mine || strcmp(mine, want)) {
            printf("# %s != %s\n", mine, want);
            same = false;
        }
        free(mine);
        free(want);
        json_decref(v);
    }
    CHECK(same, "jb_kstr and jb_str escape as jansson: quotes, backslashes, controls, UTF-8, DEL");
    jbuf b;
    jb_init(&b, 1);
    jb_obj(&b);
    jb_kstr(&b, "bad", "x\xff");
    jb_kint(&b, "n", 1);
    jb_obj_end(&b);
    char *text = jb_take(&b, NULL);
    CHECK(text && !strcmp(text, "{\"n\":1}"), "jb_kstr leaves out a key whose value is not UTF-8");
    free(text);
}

static void test_time_text(void)
{
    char d[11], t[9], o[7], want[40];
    bool same = true;
    for (civil_date day = date_from_ymd(1900, 1, 1); day < date_from_ymd(2100, 1, 1); day += 13) {
        int y, m, dd;
        date_to_ymd(day, &y, &m, &dd);
        date_format(day, d);
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, dd);
        if (strcmp(d, want)) same = false;
    }
    CHECK(same, "date_format over two centuries");
    same = true;
    for (int32_t s = 0; s <= 24 * 3600; s += 37) {
        time_of_day_format(s, t);
        snprintf(want, sizeof want, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
        if (strcmp(t, want)) same = false;
    }
    time_of_day_format(-5, t);
    CHECK(same && !strcmp(t, "00:00:00"), "time_of_day_format, negative clamps to 00:00:00");
    tz_offset_format(0, o);
    bool offs = !strcmp(o, "+00:00");
    tz_offset_format(-(3 * 3600 + 30 * 60), o);
    offs = offs && !strcmp(o, "-03:30");
    tz_offset_format(5 * 3600 + 45 * 60, o);
    offs = offs && !strcmp(o, "+05:45");
    tz_offset_format(1172, o); /* Amsterdam's +00:19:32 before 1937: minutes only */
    offs = offs && !strcmp(o, "+00:19");
    tz_offset_format(INT32_MIN, o);
    offs = offs && o[0] == '-' && strlen(o) == 6;
    CHECK(offs, "tz_offset_format: zero, negative half hours, +05:45, seconds dropped, INT32_MIN");
}

/* Every quarter hour over days around both of Amsterdam's switches (and
 * Lord Howe's half-hour one), forwards and backwards through one memo. */
static void test_offset_memo(void)
{
    static const char *const zones[] = {"Europe/Amsterdam", "Australia/Lord_Howe", "UTC", "America/Sao_Paulo"};
    bool same = true;
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        tz_offset_memo memo = TZ_OFFSET_MEMO_INIT;
        civil_date days[] = {date_from_ymd(2026, 3, 27), date_from_ymd(2026, 10, 23), date_from_ymd(2026, 4, 3)};
        for (size_t k = 0; k < 3; k++)
            for (int64_t q = 0; q < 4 * 24 * 5; q++) {
                instant_us t = ((instant_us)days[k] * SECS_PER_DAY + q * 900) * US_PER_SEC;
                if (tz_offset_memo_at(&memo, zones[z], t) != tz_offset_at(zones[z], t)) same = false;
                instant_us back = t - 2 * q * 900 * US_PER_SEC - 1;
                if (tz_offset_memo_at(&memo, zones[z], back) != tz_offset_at(zones[z], back)) same = false;
            }
    }
    CHECK(same, "tz_offset_memo_at equals tz_offset_at every quarter hour across DST days, both directions");
    tz_offset_memo memo = TZ_OFFSET_MEMO_INIT;
    instant_us summer = ((instant_us)date_from_ymd(2026, 7, 1) * SECS_PER_DAY + 12 * 3600) * US_PER_SEC;
    bool switched = tz_offset_memo_at(&memo, "Europe/Amsterdam", summer) == 7200 &&
                    tz_offset_memo_at(&memo, "America/New_York", summer) == -4 * 3600 &&
                    tz_offset_memo_at(&memo, "Europe/Amsterdam", summer) == 7200;
    CHECK(switched, "a memo asked for another zone searches that zone");
}

/* tz_offset_at and tz_local_to_instant remember a span per thread: each
 * answer in a run equals the one computed afresh (after a lookup in another
 * zone has replaced the span), every hour of the 40 days before a DST switch
 * and every quarter hour of the days around it, gaps and overlaps included,
 * and Samoa's skipped day. */
static void test_thread_spans(void)
{
    static const char *const zones[] = {"Europe/Amsterdam", "Australia/Lord_Howe", "America/Sao_Paulo",
                                        "Pacific/Apia", "America/New_York"};
    static const int days[][3] = {{2026, 3, 27}, {2026, 10, 23}, {2026, 4, 3}, {2011, 12, 28}, {2026, 11, 1}};
    bool local_same = true, offset_same = true;
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++)
        for (size_t k = 0; k < sizeof days / sizeof days[0]; k++) {
            civil_date first = date_from_ymd(days[k][0], days[k][1], days[k][2]);
            /* from 40 days before, so spans of weeks run into the switch */
            for (civil_date d = first - 40; d < first + 5; d++)
                for (int32_t s = 0; s < SECS_PER_DAY; s += d < first ? 3600 : 900) {
                    instant_us run = tz_local_to_instant(zones[z], d, s);
                    int32_t run_off = tz_offset_at(zones[z], run + 7 * 60 * US_PER_SEC);
                    tz_local_to_instant("UTC", 0, 0); /* replaces both spans */
                    tz_offset_at("UTC", 0);
                    instant_us fresh = tz_local_to_instant(zones[z], d, s);
                    tz_offset_at("UTC", 0);
                    int32_t fresh_off = tz_offset_at(zones[z], run + 7 * 60 * US_PER_SEC);
                    if (run != fresh) local_same = false;
                    if (run_off != fresh_off) offset_same = false;
                    tz_local_to_instant(zones[z], d, s); /* the run goes on from here */
                }
        }
    CHECK(local_same, "tz_local_to_instant in a run equals a fresh lookup across DST days (5 zones)");
    CHECK(offset_same, "tz_offset_at in a run equals a fresh lookup across DST days (5 zones)");
    /* a wall time in a gap or an overlap, asked right after a plain day's span
     * was set up, reads as GLib reads it afresh */
    civil_date spring = date_from_ymd(2026, 3, 29), autumn = date_from_ymd(2026, 10, 25);
    tz_local_to_instant("UTC", 0, 0);
    instant_us gap_fresh = tz_local_to_instant("Europe/Amsterdam", spring, 2 * 3600 + 1800);
    tz_local_to_instant("UTC", 0, 0);
    instant_us overlap_fresh = tz_local_to_instant("Europe/Amsterdam", autumn, 2 * 3600 + 1800);
    tz_local_to_instant("Europe/Amsterdam", spring - 3, 3600); /* a plain day's span */
    instant_us gap = tz_local_to_instant("Europe/Amsterdam", spring, 2 * 3600 + 1800);
    tz_local_to_instant("Europe/Amsterdam", autumn - 3, 3600);
    instant_us overlap = tz_local_to_instant("Europe/Amsterdam", autumn, 2 * 3600 + 1800);
    CHECK(gap == gap_fresh && overlap == overlap_fresh, "02:30 in the spring gap and the autumn overlap as read afresh");
}

int main(void)
{
    test_ints();
    test_money_text();
    test_buffer();
    test_time_text();
    test_offset_memo();
    test_thread_spans();
    test_strings();
    return check_summary();
}
