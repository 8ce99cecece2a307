/* The payment total (fees.h). The percentage is taken once of the whole
 * sub-total, not per line, so a total never drifts by a cent per line. */
#include "core/fees.h"

/* far above any order (2.8e14 minor units), and × RATE_ONE stays below INT64_MAX */
#define FEE_MONEY_MAX ((money)1 << 48)

bool fee_total(const fee_line *lines, size_t n, int32_t method_percent_bp, money method_fixed_fee, money *sub_total,
               money *total)
{
    if (method_percent_bp < 0 || method_percent_bp > RATE_ONE || method_fixed_fee < 0 ||
        method_fixed_fee > FEE_MONEY_MAX)
        return false;
    money sum = 0;
    for (size_t i = 0; i < n; i++) {
        const fee_line *l = &lines[i];
        if (l->price < 0 || l->ticket_fee < 0 || l->amount < 0 || l->price > FEE_MONEY_MAX ||
            l->ticket_fee > FEE_MONEY_MAX || l->amount > FEE_MONEY_MAX)
            return false;
        money each = l->price + l->ticket_fee, line;
        if (__builtin_mul_overflow(each, l->amount, &line) || line > FEE_MONEY_MAX - sum) return false;
        sum += line;
    }
    /* money_percent rounds half away from zero: half up, as every figure here is >= 0 */
    *sub_total = sum;
    *total = sum + money_percent(sum, method_percent_bp) + method_fixed_fee;
    return true;
}
