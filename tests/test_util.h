/* Small helpers shared by the test programs: checks that count failures, a seeded RNG,
 * and the closing line. A test program returns test_finish()'s value from main. */
#ifndef VKFT_TEST_UTIL_H
#define VKFT_TEST_UTIL_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int checks, failures;
    const char *name;
} test_state;

void test_begin(test_state *t, const char *name);
/* Records one check; prints the message on failure. Returns ok. */
int test_check(test_state *t, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Prints "NAME: N checks, F failed" and returns the process exit status. */
int test_finish(test_state *t);

/* Deterministic pseudo-random numbers (splitmix64). */
uint64_t test_rand_u64(uint64_t *state);
float test_rand_uniform(uint64_t *state, float lo, float hi);
void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

/* Largest |a-b| / max(1, |b|) over n elements (relative for large values, absolute near zero). */
double test_max_rel_err(const float *a, const float *b, size_t n);

#define CHECK(t, cond, ...) test_check((t), (cond), __VA_ARGS__)
#endif
