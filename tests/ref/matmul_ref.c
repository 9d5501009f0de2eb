#include "tests/ref/matmul_ref.h"

#include <math.h>
#include <string.h>

static size_t index_a(int form, int m, int k, int lda) {
    return form == 2 ? (size_t)k * lda + m : (size_t)m * lda + k;
}
static size_t index_b(int form, int k, int n, int ldb) {
    return form == 1 ? (size_t)n * ldb + k : (size_t)k * ldb + n;
}

void matmul_ref(int form, const float *A, const float *B, float *C, int M, int N, int K, int lda, int ldb,
                int ldc, float alpha, float beta, const float *bias) {
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)A[index_a(form, m, k, lda)] * B[index_b(form, k, n, ldb)];
            double v = (double)alpha * s;
            if (bias) v += bias[n];
            float *c = &C[(size_t)m * ldc + n];
            if (beta != 0.0f) v += (double)beta * *c;
            *c = (float)v;
        }
}

void matmul_ref_f64(int form, const double *A, const double *B, double *C, int M, int N, int K, double alpha,
                    double beta) {
    int lda = form == 2 ? M : K, ldb = form == 1 ? K : N;
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double s = 0;
            for (int k = 0; k < K; k++) s += A[index_a(form, m, k, lda)] * B[index_b(form, k, n, ldb)];
            double *c = &C[(size_t)m * N + n];
            *c = alpha * s + (beta != 0.0 ? beta * *c : 0.0);
        }
}

uint16_t f32_to_f16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t absu = u & 0x7fffffffu;
    if (absu >= 0x7f800000u)
        return (uint16_t)(sign | 0x7c00u | (absu > 0x7f800000u ? 0x200u : 0)); /* inf/nan */
    if (absu >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);                /* rounds to >= 65536: inf */
    if (absu < 0x38800000u) {                                                  /* subnormal half (or zero) */
        float f;
        memcpy(&f, &absu, 4);
        float scaled = f * 16777216.0f; /* 2^24: units of the smallest subnormal */
        uint32_t q = (uint32_t)lrintf(scaled);
        return (uint16_t)(sign | q);
    }
    uint32_t mant = absu & 0x7fffffu;
    uint32_t exp = (absu >> 23) - 112;
    uint32_t h = (exp << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, u;
    if (exp == 0) {
        float f = (float)mant / 16777216.0f;
        return sign ? -f : f;
    }
    if (exp == 31)
        u = sign | 0x7f800000u | (mant << 13);
    else
        u = sign | ((exp + 112) << 23) | (mant << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t f32_to_bf16(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
