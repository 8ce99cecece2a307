/* Money is int64 minor units everywhere inside Boxoffice; rates are basis points
 * of a percent (20.00% == 2000) so that every tax figure is an exact integer. */
#ifndef BO_MONEY_H
#define BO_MONEY_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t money;           /* minor units, e.g. cents */
#define RATE_ONE 10000           /* 100.00% in basis points */

/* "49.20" for 4920 with 2 decimals; negative amounts get a leading '-'. */
void money_format(money amount, int decimals, char *out, size_t outlen);
/* Parses "49.2", "49.20", "49", "-1.5"; rejects more decimals than allowed,
 * exponent forms and garbage. Returns false on bad input. */
bool money_parse(const char *text, int decimals, money *out);
/* Parses a percentage "20.00" / "20" into basis points (2000). */
bool rate_parse(const char *text, int32_t *out_bp);
void rate_format(int32_t bp, char *out, size_t outlen); /* "20.00" */

/* Minor units in one major unit: 10^decimals (decimals 0..18). */
int64_t money_unit(int decimals);

/* Rounds num/den half away from zero; den > 0. */
int64_t div_round(int64_t num, int64_t den);

/* `rate_bp` of `amount`, rounded once, half away from zero. */
money money_percent(money amount, int32_t rate_bp);

/* Share `index` (0-based) of `total` split into `n` parts that differ by at
 * most one minor unit and sum to exactly `total`: largest remainder with equal
 * weights, the remainder's units going to the first shares, so the split is
 * the same every time. total >= 0, n > 0, 0 <= index < n. */
money money_share(money total, int64_t n, int64_t index);

typedef struct {
    money gross;    /* price including tax */
    money net;      /* price excluding tax */
    money tax;      /* gross - net */
    money taxable;  /* the part of the price the rate applies to */
} tax_split;

/* Splits `price` under a tax of `rate_bp` applied to `proportion_bp` of it.
 * inclusive: price already contains the tax (5.00 incl. 20% -> net 4.17, tax 0.83);
 * otherwise price is net and the tax is added on top. */
tax_split tax_compute(money price, int32_t rate_bp, int32_t proportion_bp, bool inclusive);
#endif
