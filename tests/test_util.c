#include "tests/test_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

void test_begin(test_state *t, const char *name) {
    t->checks = 0;
    t->failures = 0;
    t->name = name;
    printf("== %s\n", name);
}

int test_check(test_state *t, int ok, const char *fmt, ...) {
    t->checks++;
    if (!ok) {
        t->failures++;
        va_list ap;
        va_start(ap, fmt);
        printf("FAIL: ");
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
        fflush(stdout);
    }
    return ok;
}

int test_finish(test_state *t) {
    printf("%s: %d checks, %d failed\n", t->name, t->checks, t->failures);
    return t->failures == 0 && t->checks > 0 ? 0 : 1;
}

uint64_t test_rand_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float test_rand_uniform(uint64_t *s, float lo, float hi) {
    double u = (double)(test_rand_u64(s) >> 11) / 9007199254740992.0;
    return (float)(lo + (hi - lo) * u);
}

void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = test_rand_uniform(&seed, lo, hi);
}

double test_max_rel_err(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]) / fmax(1.0, fabs((double)b[i]));
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}
