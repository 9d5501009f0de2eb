#include "data/labelcheck.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vkft_labelcheck_opts_defaults(vkft_labelcheck_opts *o) {
    o->folds = 5;
    o->l2 = 1e-2;
    o->iters = 300;
    o->threshold = 0.7;
    o->seed = 1;
}

static uint64_t next_u64(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Softmax of the row's scores z[k] = W x + b into p. W is [k, h + 1], the last column the bias. */
static void scores(const double *W, const double *x, int h, int k, double *p) {
    double mx = -INFINITY, sum = 0;
    for (int c = 0; c < k; c++) {
        const double *w = W + (size_t)c * (h + 1);
        double z = w[h];
        for (int j = 0; j < h; j++) z += w[j] * x[j];
        p[c] = z;
        if (z > mx) mx = z;
    }
    for (int c = 0; c < k; c++) sum += p[c] = exp(p[c] - mx);
    for (int c = 0; c < k; c++) p[c] /= sum;
}

int vkft_logreg_fit_predict(const float *X, const int *y, long n, int h, int k, double l2, int iters,
                            const float *Xt, long m, float *proba, char *err, size_t errlen) {
    size_t H = (size_t)h, P = (size_t)k * (H + 1);
    double *mu = calloc(H, sizeof(double)), *sd = calloc(H, sizeof(double));
    double *Z = malloc(sizeof(double) * (size_t)n * H), *W = calloc(P, sizeof(double));
    double *V = calloc(P, sizeof(double)), *G = calloc(P, sizeof(double)), *Wp = calloc(P, sizeof(double));
    double *p = malloc(sizeof(double) * (size_t)k), *v = malloc(sizeof(double) * (H + 1));
    double *u = malloc(sizeof(double) * (H + 1)), *xt = malloc(sizeof(double) * H);
    int rc = -1;
    if (!mu || !sd || !Z || !W || !V || !G || !Wp || !p || !v || !u || !xt) {
        snprintf(err, errlen, "logistic regression: out of memory (%ld rows x %d features)", n, h);
        goto done;
    }
    /* Standardize with the training rows' mean and deviation (constant features: left at 0). */
    for (long i = 0; i < n; i++)
        for (size_t j = 0; j < H; j++) mu[j] += X[i * H + j];
    for (size_t j = 0; j < H; j++) mu[j] /= (double)n;
    for (long i = 0; i < n; i++)
        for (size_t j = 0; j < H; j++) sd[j] += (X[i * H + j] - mu[j]) * (X[i * H + j] - mu[j]);
    for (size_t j = 0; j < H; j++) sd[j] = sd[j] > 0 ? sqrt(sd[j] / (double)n) : 0;
    for (long i = 0; i < n; i++)
        for (size_t j = 0; j < H; j++) Z[i * H + j] = sd[j] > 0 ? (X[i * H + j] - mu[j]) / sd[j] : 0;
    /* lambda_max of [Z 1]^T [Z 1] / n by power iteration (30 steps: an estimate, padded by 10%). */
    for (size_t j = 0; j <= H; j++) v[j] = 1.0 / sqrt((double)(H + 1));
    double lam = 1;
    for (int it = 0; it < 30; it++) {
        memset(u, 0, sizeof(double) * (H + 1));
        for (long i = 0; i < n; i++) {
            const double *z = Z + i * H;
            double d = v[H];
            for (size_t j = 0; j < H; j++) d += z[j] * v[j];
            for (size_t j = 0; j < H; j++) u[j] += d * z[j];
            u[H] += d;
        }
        double norm = 0;
        for (size_t j = 0; j <= H; j++) {
            u[j] /= (double)n;
            norm += u[j] * u[j];
        }
        norm = sqrt(norm);
        if (norm <= 0) break;
        lam = norm;
        for (size_t j = 0; j <= H; j++) v[j] = u[j] / norm;
    }
    double step = 1.0 / (0.5 * lam * 1.1 + l2);
    /* Nesterov: gradient at V = W + (t-1)/(t+2) (W - W_prev). */
    for (int it = 0; it < iters; it++) {
        memset(G, 0, sizeof(double) * P);
        for (long i = 0; i < n; i++) {
            const double *z = Z + i * H;
            scores(V, z, h, k, p);
            p[y[i]] -= 1;
            for (int c = 0; c < k; c++) {
                double *g = G + (size_t)c * (H + 1), e = p[c] / (double)n;
                for (size_t j = 0; j < H; j++) g[j] += e * z[j];
                g[H] += e;
            }
        }
        memcpy(Wp, W, sizeof(double) * P);
        for (size_t q = 0; q < P; q++) {
            int bias = q % (H + 1) == H;
            W[q] = V[q] - step * (G[q] + (bias ? 0 : l2 * V[q]));
        }
        double mom = (double)it / (it + 3);
        for (size_t q = 0; q < P; q++) V[q] = W[q] + mom * (W[q] - Wp[q]);
    }
    for (long i = 0; i < m; i++) {
        for (size_t j = 0; j < H; j++) xt[j] = sd[j] > 0 ? (Xt[i * H + j] - mu[j]) / sd[j] : 0;
        scores(W, xt, h, k, p);
        for (int c = 0; c < k; c++) proba[i * k + c] = (float)p[c];
    }
    rc = 0;
done:
    free(mu), free(sd), free(Z), free(W), free(V), free(G), free(Wp), free(p), free(v), free(u), free(xt);
    return rc;
}

int vkft_labelcheck_oof(const float *X, const int *y, long n, int h, int k, const vkft_labelcheck_opts *o,
                        float *proba, char *err, size_t errlen) {
    /* Folds: each class's rows shuffled and dealt round-robin, so every fold holds every class. */
    long *count = calloc((size_t)k, sizeof(long)), min_c = -1;
    int *fold = malloc(sizeof(int) * (size_t)(n ? n : 1)), rc = -1;
    long *idx = malloc(sizeof(long) * (size_t)(n ? n : 1));
    float *Xtr = malloc(sizeof(float) * (size_t)(n ? n : 1) * (size_t)h);
    float *Xte = malloc(sizeof(float) * (size_t)(n ? n : 1) * (size_t)h), *pr = NULL;
    int *ytr = malloc(sizeof(int) * (size_t)(n ? n : 1));
    if (!count || !fold || !idx || !Xtr || !Xte || !ytr) {
        snprintf(err, errlen, "label check: out of memory");
        goto done;
    }
    for (long i = 0; i < n; i++) count[y[i]]++;
    int present = 0;
    for (int c = 0; c < k; c++)
        if (count[c]) {
            present++;
            if (min_c < 0 || count[c] < min_c) min_c = count[c];
        }
    if (present < 2) {
        snprintf(err, errlen, "label check needs at least 2 labels with records (found %d)", present);
        goto done;
    }
    int folds = o->folds < 2 ? 2 : o->folds;
    if (folds > n) folds = (int)n;
    uint64_t rng = o->seed ^ 0xf01d5ULL;
    long dealt = 0;
    for (int c = 0; c < k; c++) {
        long nc = 0;
        for (long i = 0; i < n; i++)
            if (y[i] == c) idx[nc++] = i;
        for (long i = nc - 1; i > 0; i--) {
            long j = (long)(next_u64(&rng) % (uint64_t)(i + 1)), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        for (long i = 0; i < nc; i++) fold[idx[i]] = (int)(dealt++ % folds);
    }
    pr = malloc(sizeof(float) * (size_t)n * (size_t)k);
    if (!pr) goto done;
    for (int f = 0; f < folds; f++) {
        long ntr = 0, nte = 0;
        for (long i = 0; i < n; i++) {
            if (fold[i] == f) {
                memcpy(Xte + (size_t)nte * h, X + (size_t)i * h, sizeof(float) * (size_t)h);
                idx[nte++] = i;
            } else {
                memcpy(Xtr + (size_t)ntr * h, X + (size_t)i * h, sizeof(float) * (size_t)h);
                ytr[ntr++] = y[i];
            }
        }
        if (!nte) continue;
        if (vkft_logreg_fit_predict(Xtr, ytr, ntr, h, k, o->l2, o->iters, Xte, nte, pr, err, errlen)) goto done;
        for (long t = 0; t < nte; t++) memcpy(proba + idx[t] * k, pr + t * k, sizeof(float) * (size_t)k);
    }
    rc = folds;
done:
    free(count), free(fold), free(idx), free(Xtr), free(Xte), free(ytr), free(pr);
    return rc;
}
