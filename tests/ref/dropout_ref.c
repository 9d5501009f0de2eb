#include "tests/ref/dropout_ref.h"

void philox4x32_10_ref(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3], k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; r++) {
        if (r > 0) k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0, hi1 = (uint32_t)(p1 >> 32),
                 lo1 = (uint32_t)p1;
        c0 = hi1 ^ c1 ^ k0;
        c1 = lo1;
        c2 = hi0 ^ c3 ^ k1;
        c3 = lo0;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

int dropout_keep_ref(size_t i, float p, uint64_t seed, uint32_t step, uint32_t site) {
    return dropout_keep_micro_ref(i, p, seed, step, 0, site);
}

int dropout_keep_micro_ref(size_t i, float p, uint64_t seed, uint32_t step, uint32_t micro, uint32_t site) {
    uint32_t c[4] = {(uint32_t)(i / 4), site, step, micro}, k[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, r[4];
    philox4x32_10_ref(c, k, r);
    float u = (float)(r[i % 4] >> 8) * (1.0f / 16777216.0f);
    return u >= p;
}

void dropout_ref(const float *x, float *y, size_t n, float p, uint64_t seed, uint32_t step, uint32_t site) {
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) y[i] = dropout_keep_ref(i, p, seed, step, site) ? x[i] * scale : 0.0f;
}

void dropout_micro_ref(const float *x, float *y, size_t n, float p, uint64_t seed, uint32_t step, uint32_t micro,
                       uint32_t site, int accumulate) {
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        float v = dropout_keep_micro_ref(i, p, seed, step, micro, site) ? x[i] * scale : 0.0f;
        y[i] = accumulate ? v + y[i] : v;
    }
}
