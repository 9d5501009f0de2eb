#include "tests/ref/lora_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *zeros(size_t n) { return calloc(n ? n : 1, sizeof(double)); }

/* C[M,N] = alpha * op(A) op(B) + beta * C, forms as in matmul_ref (0 NN, 1 NT, 2 TN), packed rows. */
static void mm(int form, const double *A, const double *B, double *C, int M, int N, int K, double alpha,
               double beta) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double acc = 0;
            for (int k = 0; k < K; k++) {
                double a = form == 2 ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                double b = form == 1 ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
                acc += a * b;
            }
            double *c = &C[(size_t)i * N + j];
            *c = alpha * acc + (beta != 0 ? beta * *c : 0);
        }
}

void lora_forward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                      const double *bias, const double *A, const double *B, double *h, double *y) {
    double *hh = zeros((size_t)T * r);
    mm(1, x, A, hh, T, r, in, 1, 0);
    mm(1, x, W, y, T, out, in, 1, 0);
    mm(1, hh, B, y, T, out, r, s, 1);
    if (bias)
        for (int t = 0; t < T; t++)
            for (int o = 0; o < out; o++) y[(size_t)t * out + o] += bias[o];
    if (h) memcpy(h, hh, sizeof(double) * T * r);
    free(hh);
}

void lora_backward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                       const double *A, const double *B, const double *dy, double *dx, double *dA,
                       double *dB) {
    double *h = zeros((size_t)T * r), *dh = zeros((size_t)T * r);
    mm(1, x, A, h, T, r, in, 1, 0);
    mm(2, dy, h, dB, out, r, T, s, 0); /* dB = s dy^T h */
    mm(0, dy, B, dh, T, r, out, s, 0); /* dh = s dy B */
    mm(2, dh, x, dA, r, in, T, 1, 0);  /* dA = dh^T x */
    if (dx) {
        mm(0, dy, W, dx, T, in, out, 1, 0); /* dx = dy W + dh A */
        mm(0, dh, A, dx, T, in, r, 1, 1);
    }
    free(h), free(dh);
}

double act_ref(int act, double z) {
    if (act == 0) return z > 0 ? z : 0;
    double c = 0.7978845608028654; /* sqrt(2/pi) */
    return 0.5 * z * (1 + tanh(c * (z + 0.044715 * z * z * z)));
}

double act_grad_ref(int act, double z) {
    if (act == 0) return z > 0 ? 1 : 0;
    double c = 0.7978845608028654, u = c * (z + 0.044715 * z * z * z), th = tanh(u);
    return 0.5 * (1 + th) + 0.5 * z * (1 - th * th) * c * (1 + 3 * 0.044715 * z * z);
}

void adapter_forward_ref(int T, int C, int r, int act, const double *h, const double *Wd, const double *bd,
                         const double *Wu, const double *bu, double *z, double *y) {
    double *zz = zeros((size_t)T * r), *a = zeros((size_t)T * r);
    mm(1, h, Wd, zz, T, r, C, 1, 0);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < r; j++) {
            zz[(size_t)t * r + j] += bd[j];
            a[(size_t)t * r + j] = act_ref(act, zz[(size_t)t * r + j]);
        }
    memcpy(y, h, sizeof(double) * T * C);
    mm(1, a, Wu, y, T, C, r, 1, 1);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < C; c++) y[(size_t)t * C + c] += bu[c];
    if (z) memcpy(z, zz, sizeof(double) * T * r);
    free(zz), free(a);
}

void adapter_backward_ref(int T, int C, int r, int act, const double *h, const double *Wd, const double *bd,
                          const double *Wu, const double *dy, double *dh, double *dWd, double *dbd,
                          double *dWu, double *dbu) {
    double *z = zeros((size_t)T * r), *a = zeros((size_t)T * r);
    double *dz = zeros((size_t)T * r);
    mm(1, h, Wd, z, T, r, C, 1, 0);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < r; j++) {
            z[(size_t)t * r + j] += bd[j];
            a[(size_t)t * r + j] = act_ref(act, z[(size_t)t * r + j]);
        }
    mm(2, dy, a, dWu, C, r, T, 1, 0); /* dWu = dy^T a */
    for (int c = 0; c < C; c++) {
        double acc = 0;
        for (int t = 0; t < T; t++) acc += dy[(size_t)t * C + c];
        dbu[c] = acc;
    }
    mm(0, dy, Wu, dz, T, r, C, 1, 0); /* da = dy Wu, then dz = da * act'(z) */
    for (size_t i = 0; i < (size_t)T * r; i++) dz[i] *= act_grad_ref(act, z[i]);
    mm(2, dz, h, dWd, r, C, T, 1, 0); /* dWd = dz^T h */
    for (int j = 0; j < r; j++) {
        double acc = 0;
        for (int t = 0; t < T; t++) acc += dz[(size_t)t * r + j];
        dbd[j] = acc;
    }
    memcpy(dh, dy, sizeof(double) * T * C); /* dh = dy + dz Wd */
    mm(0, dz, Wd, dh, T, C, r, 1, 1);
    free(z), free(a), free(dz);
}

static void dora_norms(int in, int out, int r, double s, const double *W, const double *A, const double *B,
                       double *n) {
    for (int o = 0; o < out; o++) {
        double acc = 0;
        for (int i = 0; i < in; i++) {
            double w = W[(size_t)o * in + i];
            for (int j = 0; j < r; j++) w += s * B[(size_t)o * r + j] * A[(size_t)j * in + i];
            acc += w * w;
        }
        n[o] = sqrt(acc);
    }
}

void dora_forward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                      const double *bias, const double *A, const double *B, const double *m,
                      const double *n_fixed, double *n_out, double *y) {
    double *n = zeros((size_t)out);
    if (n_fixed)
        memcpy(n, n_fixed, sizeof(double) * out);
    else
        dora_norms(in, out, r, s, W, A, B, n);
    lora_forward_ref(T, in, out, r, s, x, W, NULL, A, B, NULL, y);
    for (int t = 0; t < T; t++)
        for (int o = 0; o < out; o++) {
            double *v = &y[(size_t)t * out + o];
            *v = m[o] / n[o] * *v + (bias ? bias[o] : 0);
        }
    if (n_out) memcpy(n_out, n, sizeof(double) * out);
    free(n);
}

void dora_backward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                       const double *A, const double *B, const double *m, const double *dy, double *dx,
                       double *dA, double *dB, double *dm) {
    double *n = zeros((size_t)out), *u = zeros((size_t)T * out);
    double *du = zeros((size_t)T * out);
    dora_norms(in, out, r, s, W, A, B, n);
    lora_forward_ref(T, in, out, r, s, x, W, NULL, A, B, NULL, u);
    for (int o = 0; o < out; o++) {
        double acc = 0;
        for (int t = 0; t < T; t++) acc += dy[(size_t)t * out + o] * u[(size_t)t * out + o];
        dm[o] = acc / n[o];
    }
    for (int t = 0; t < T; t++)
        for (int o = 0; o < out; o++) du[(size_t)t * out + o] = dy[(size_t)t * out + o] * m[o] / n[o];
    lora_backward_ref(T, in, out, r, s, x, W, A, B, du, dx, dA, dB);
    free(n), free(u), free(du);
}
