/* The payment total with a method's fees (core/fees.h): the CM.com shop doc's
 * formula as docs/dialects/cm.md fixes it, with its three worked examples,
 * and the shop's money printing (no float artefacts). */
#include "check.h"
#include "api/cm/cm.h"
#include "core/fees.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2 × (10.00 + 1.00) + 5 × (5.00 + 0.50) */
static const fee_line example[] = {{1000, 100, 2}, {500, 50, 5}};

static void test_worked_examples(void)
{
    money sub = -1, total = -1;
    CHECK(fee_total(example, 2, 0, 0, &sub, &total) && sub == 4950 && total == 4950, "no fees: 49.50");
    CHECK(fee_total(example, 2, 260, 35, &sub, &total) && sub == 4950 && total == 5114,
          "Bancontact 2.6% + 0.35: 49.50 + 1.287 (1.29) + 0.35 = 51.14");
    CHECK(fee_total(example, 2, 0, 68, &sub, &total) && total == 5018, "iDEAL 0.68: 50.18");
}

static void test_rounding_once(void)
{
    money sub, total;
    /* 3 lines of 0.10 at 5%: per line 0.005 each (would round to 0.01 × 3 = 0.03); once: 0.015 → 0.02 */
    fee_line tiny[] = {{10, 0, 1}, {10, 0, 1}, {10, 0, 1}};
    CHECK(fee_total(tiny, 3, 500, 0, &sub, &total) && sub == 30 && total == 32, "percentage rounded once, half up");
    fee_line half[] = {{50, 0, 1}};
    CHECK(fee_total(half, 1, 100, 0, &sub, &total) && total == 51, "0.50 × 1% = 0.005 rounds up to 0.01");
    CHECK(fee_total(NULL, 0, 260, 35, &sub, &total) && sub == 0 && total == 35, "an empty order pays the fixed fee");
}

static void test_refused(void)
{
    money sub = 7, total = 7;
    fee_line negative[] = {{-1, 0, 1}};
    CHECK(!fee_total(negative, 1, 0, 0, &sub, &total) && sub == 7, "a negative price is refused");
    fee_line huge[] = {{(money)1 << 47, 0, (int64_t)1 << 40}};
    CHECK(!fee_total(huge, 1, 0, 0, &sub, &total), "an overflowing line is refused");
    CHECK(!fee_total(example, 2, 10001, 0, &sub, &total), "a percentage above 100 is refused");
    CHECK(!fee_total(example, 2, -1, 0, &sub, &total), "a negative percentage is refused");
}

static bool prints(json_t *v, const char *want)
{
    char *text = cm_dumps(v);
    bool ok = text && !strcmp(text, want);
    free(text);
    json_decref(v);
    return ok;
}

static void test_money_printing(void)
{
    CHECK(prints(cm_money(68, 2), "0.68"), "0.68");
    CHECK(prints(cm_money(1950, 2), "19.5"), "19.5");
    CHECK(prints(cm_money(1000, 2), "10"), "10, not 10.0");
    CHECK(prints(cm_money(0, 2), "0"), "0");
    CHECK(prints(cm_money(5114, 2), "51.14"), "51.14");
    CHECK(prints(cm_money(1, 2), "0.01"), "0.01");
    CHECK(prints(cm_money(99999999999999, 2), "999999999999.99"), "the largest amount prints exactly");
    CHECK(prints(cm_money(1234, 0), "1234"), "no decimals");
    CHECK(prints(cm_percent(260), "2.6"), "2.6 percent");
    CHECK(prints(cm_percent(0), "0"), "0 percent");
    for (money m = 0; m < 100000; m += 7) {
        json_t *v = cm_money(m, 2);
        char *text = cm_dumps(v), want[32];
        json_decref(v);
        if (m % 100 == 0) snprintf(want, sizeof want, "%lld", (long long)(m / 100));
        else if (m % 10 == 0) snprintf(want, sizeof want, "%lld.%lld", (long long)(m / 100), (long long)(m % 100 / 10));
        else snprintf(want, sizeof want, "%lld.%02lld", (long long)(m / 100), (long long)(m % 100));
        bool ok = text && !strcmp(text, want);
        free(text);
        if (!ok) {
            CHECK(ok, "every amount up to 1000.00 prints as its shortest decimal");
            return;
        }
    }
    CHECK(true, "every amount up to 1000.00 prints as its shortest decimal");
}

int main(void)
{
    test_worked_examples();
    test_rounding_once();
    test_refused();
    test_money_printing();
    return check_summary();
}
