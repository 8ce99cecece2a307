/* Minimal TAP-like checks: "ok - name" / "not ok - name (file:line)", then
 * check_summary() prints "N passed, N failed" and returns the exit code. */
#ifndef BO_CHECK_H
#define BO_CHECK_H
#include <stdatomic.h>
#include <stdio.h>

static atomic_int check_passed, check_failed;

#define CHECK(cond, name)                                                              \
    do {                                                                               \
        if (cond) {                                                                    \
            atomic_fetch_add(&check_passed, 1);                                        \
            printf("ok - %s\n", name);                                                 \
        } else {                                                                       \
            atomic_fetch_add(&check_failed, 1);                                        \
            printf("not ok - %s (%s:%d: %s)\n", name, __FILE__, __LINE__, #cond);      \
        }                                                                              \
        fflush(stdout);                                                                \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", atomic_load(&check_passed), atomic_load(&check_failed));
    return atomic_load(&check_failed) ? 1 : 0;
}
#endif
