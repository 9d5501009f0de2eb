#include "tests/ref/attention_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t valid_len(const attention_ref_dims *d, uint32_t b) {
    uint32_t n = d->lengths ? d->lengths[b] : d->T;
    return n < d->T ? n : d->T;
}

/* Visible keys of row i: [0, n) */
static uint32_t visible_keys(const attention_ref_dims *d, uint32_t len, uint32_t i) {
    if (i >= len) return 0;
    return d->causal ? i + 1 : len;
}

/* Probabilities of row (b, h, i) into p[0..n); returns n and the logsumexp. */
static uint32_t row_probs(const attention_ref_dims *d, uint32_t b, uint32_t h, uint32_t i, const double *q,
                          const double *k, double *p, double *lse_out) {
    uint32_t T = d->T, H = d->H, Hkv = d->Hkv, D = d->D, hk = h / (H / Hkv);
    uint32_t n = visible_keys(d, valid_len(d, b), i);
    const double *qi = q + (((size_t)b * T + i) * H + h) * D;
    double m = -INFINITY;
    for (uint32_t j = 0; j < n; j++) {
        const double *kj = k + (((size_t)b * T + j) * Hkv + hk) * D;
        double s = 0;
        for (uint32_t c = 0; c < D; c++) s += qi[c] * kj[c];
        p[j] = s * d->scale;
        if (p[j] > m) m = p[j];
    }
    double sum = 0;
    for (uint32_t j = 0; j < n; j++) sum += (p[j] = exp(p[j] - m));
    for (uint32_t j = 0; j < n; j++) p[j] /= sum;
    *lse_out = n ? m + log(sum) : -INFINITY;
    return n;
}

void attention_forward_ref_f64(const attention_ref_dims *d, double *out, double *lse, const double *q,
                               const double *k, const double *v) {
    uint32_t T = d->T, H = d->H, Hkv = d->Hkv, D = d->D;
    double *p = malloc(sizeof(double) * (T ? T : 1));
    for (uint32_t b = 0; b < d->B; b++)
        for (uint32_t i = 0; i < T; i++)
            for (uint32_t h = 0; h < H; h++) {
                uint32_t hk = h / (H / Hkv);
                double l;
                uint32_t n = row_probs(d, b, h, i, q, k, p, &l);
                if (lse) lse[((size_t)b * H + h) * T + i] = l;
                double *oi = out + (((size_t)b * T + i) * H + h) * D;
                for (uint32_t c = 0; c < D; c++) oi[c] = 0;
                for (uint32_t j = 0; j < n; j++) {
                    const double *vj = v + (((size_t)b * T + j) * Hkv + hk) * D;
                    for (uint32_t c = 0; c < D; c++) oi[c] += p[j] * vj[c];
                }
            }
    free(p);
}

void attention_backward_ref_f64(const attention_ref_dims *d, double *dq, double *dk, double *dv,
                                const double *dout, const double *q, const double *k, const double *v) {
    uint32_t T = d->T, H = d->H, Hkv = d->Hkv, D = d->D;
    memset(dq, 0, sizeof(double) * d->B * T * H * D);
    memset(dk, 0, sizeof(double) * d->B * T * Hkv * D);
    memset(dv, 0, sizeof(double) * d->B * T * Hkv * D);
    double *p = malloc(sizeof(double) * (T ? T : 1)), *dp = malloc(sizeof(double) * (T ? T : 1));
    for (uint32_t b = 0; b < d->B; b++)
        for (uint32_t i = 0; i < T; i++)
            for (uint32_t h = 0; h < H; h++) {
                uint32_t hk = h / (H / Hkv);
                double l;
                uint32_t n = row_probs(d, b, h, i, q, k, p, &l);
                const double *qi = q + (((size_t)b * T + i) * H + h) * D;
                const double *doi = dout + (((size_t)b * T + i) * H + h) * D;
                double *dqi = dq + (((size_t)b * T + i) * H + h) * D;
                /* dP = dO V^T; dS = P (dP - sum_j P dP) */
                double pdp = 0;
                for (uint32_t j = 0; j < n; j++) {
                    const double *vj = v + (((size_t)b * T + j) * Hkv + hk) * D;
                    double s = 0;
                    for (uint32_t c = 0; c < D; c++) s += doi[c] * vj[c];
                    dp[j] = s;
                    pdp += p[j] * s;
                }
                for (uint32_t j = 0; j < n; j++) {
                    size_t kv = (((size_t)b * T + j) * Hkv + hk) * D;
                    double ds = p[j] * (dp[j] - pdp) * d->scale;
                    for (uint32_t c = 0; c < D; c++) {
                        dqi[c] += ds * k[kv + c];
                        dk[kv + c] += ds * qi[c];
                        dv[kv + c] += p[j] * doi[c];
                    }
                }
            }
    free(p);
    free(dp);
}

static double *to_f64(const float *x, size_t n) {
    double *y = calloc(n ? n : 1, sizeof(double));
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}

static void to_f32(float *y, const double *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (float)x[i];
}

void attention_forward_ref(const attention_ref_dims *d, float *out, float *lse, const float *q,
                           const float *k, const float *v) {
    size_t nq = (size_t)d->B * d->T * d->H * d->D, nk = (size_t)d->B * d->T * d->Hkv * d->D;
    size_t nl = (size_t)d->B * d->H * d->T;
    double *q64 = to_f64(q, nq), *k64 = to_f64(k, nk), *v64 = to_f64(v, nk);
    double *o64 = calloc(nq ? nq : 1, sizeof(double)), *l64 = calloc(nl ? nl : 1, sizeof(double));
    attention_forward_ref_f64(d, o64, l64, q64, k64, v64);
    to_f32(out, o64, nq);
    if (lse) to_f32(lse, l64, nl);
    free(q64), free(k64), free(v64), free(o64), free(l64);
}

void attention_backward_ref(const attention_ref_dims *d, float *dq, float *dk, float *dv, const float *dout,
                            const float *q, const float *k, const float *v) {
    size_t nq = (size_t)d->B * d->T * d->H * d->D, nk = (size_t)d->B * d->T * d->Hkv * d->D;
    double *q64 = to_f64(q, nq), *k64 = to_f64(k, nk), *v64 = to_f64(v, nk), *do64 = to_f64(dout, nq);
    double *dq64 = calloc(nq ? nq : 1, sizeof(double)), *dk64 = calloc(nk ? nk : 1, sizeof(double));
    double *dv64 = calloc(nk ? nk : 1, sizeof(double));
    attention_backward_ref_f64(d, dq64, dk64, dv64, do64, q64, k64, v64);
    to_f32(dq, dq64, nq);
    to_f32(dk, dk64, nk);
    to_f32(dv, dv64, nk);
    free(q64), free(k64), free(v64), free(do64), free(dq64), free(dk64), free(dv64);
}
