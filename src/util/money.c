#include "util/money.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const int64_t pow10_table[] = {1, 10, 100, 1000, 10000, 100000, 1000000};

void money_format(money amount, int decimals, char *out, size_t outlen)
{
    if (decimals < 0 || decimals > 6) decimals = 2;
    int64_t scale = pow10_table[decimals];
    const char *sign = amount < 0 ? "-" : "";
    uint64_t abs = amount < 0 ? (uint64_t)(-(amount + 1)) + 1 : (uint64_t)amount;
    if (decimals == 0)
        snprintf(out, outlen, "%s%llu", sign, (unsigned long long)abs);
    else
        snprintf(out, outlen, "%s%llu.%0*llu", sign, (unsigned long long)(abs / (uint64_t)scale), decimals,
                 (unsigned long long)(abs % (uint64_t)scale));
}

static bool parse_fixed(const char *text, int decimals, int64_t *out)
{
    if (!text) return false;
    const char *p = text;
    bool neg = false;
    if (*p == '-' || *p == '+') { neg = *p == '-'; p++; }
    if (!isdigit((unsigned char)*p)) return false;
    int64_t whole = 0;
    int digits = 0;
    while (isdigit((unsigned char)*p)) {
        if (++digits > 15) return false;
        whole = whole * 10 + (*p++ - '0');
    }
    int64_t frac = 0;
    int fdigits = 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return false;
        while (isdigit((unsigned char)*p)) {
            if (fdigits >= decimals) { if (*p != '0') return false; p++; continue; }
            frac = frac * 10 + (*p++ - '0');
            fdigits++;
        }
    }
    if (*p) return false;
    while (fdigits < decimals) { frac *= 10; fdigits++; }
    int64_t v = whole * pow10_table[decimals] + frac;
    *out = neg ? -v : v;
    return true;
}

bool money_parse(const char *text, int decimals, money *out)
{
    if (decimals < 0 || decimals > 6) return false;
    return parse_fixed(text, decimals, out);
}

bool rate_parse(const char *text, int32_t *out_bp)
{
    int64_t v;
    if (!parse_fixed(text, 2, &v) || v < 0 || v > 100 * 100) return false;
    *out_bp = (int32_t)v;
    return true;
}

void rate_format(int32_t bp, char *out, size_t outlen) { money_format(bp, 2, out, outlen); }

int64_t money_unit(int decimals)
{
    int64_t unit = 1;
    for (int i = 0; i < decimals; i++) unit *= 10;
    return unit;
}

int64_t div_round(int64_t num, int64_t den)
{
    if (num >= 0) return (num + den / 2) / den;
    return -((-num + den / 2) / den);
}

money money_percent(money amount, int32_t rate_bp) { return div_round(amount * rate_bp, RATE_ONE); }

money money_share(money total, int64_t n, int64_t index) { return total / n + (index < total % n ? 1 : 0); }

tax_split tax_compute(money price, int32_t rate_bp, int32_t proportion_bp, bool inclusive)
{
    tax_split s;
    s.taxable = div_round(price * proportion_bp, RATE_ONE);
    if (inclusive) {
        s.gross = price;
        /* tax = taxable * r / (1 + r): the part of the taxed share that is tax */
        s.tax = div_round(s.taxable * rate_bp, RATE_ONE + rate_bp);
        s.net = price - s.tax;
    } else {
        s.net = price;
        s.tax = div_round(s.taxable * rate_bp, RATE_ONE);
        s.gross = price + s.tax;
    }
    return s;
}
