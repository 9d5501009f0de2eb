#include "tests/ref/xent_ref.h"

#include <math.h>

double cross_entropy_ref(const double *logits, const int32_t *targets, const double *weight, size_t N,
                         size_t V, int32_t ignore_index, double eps, double grad_scale, double *row_loss,
                         double *dlogits, double *denom) {
    double D = 0, W = 0, total = 0;
    for (size_t c = 0; c < V; c++) W += weight ? weight[c] : 1.0;
    for (size_t i = 0; i < N; i++) {
        int32_t t = targets[i];
        if (t != ignore_index && t >= 0 && (size_t)t < V) D += weight ? weight[t] : 1.0;
    }
    for (size_t i = 0; i < N; i++) {
        const double *z = logits + i * V;
        int32_t t = targets[i];
        int skip = t == ignore_index || t < 0 || (size_t)t >= V;
        if (skip) {
            row_loss[i] = 0;
            for (size_t c = 0; dlogits && c < V; c++) dlogits[i * V + c] = 0;
            continue;
        }
        double m = -INFINITY, s = 0, sz = 0;
        for (size_t c = 0; c < V; c++) m = fmax(m, z[c]);
        for (size_t c = 0; c < V; c++) {
            s += exp(z[c] - m);
            sz += (weight ? weight[c] : 1.0) * z[c];
        }
        double lse = m + log(s), wt = weight ? weight[t] : 1.0;
        row_loss[i] = (1 - eps) * wt * (lse - z[t]) + eps / (double)V * (lse * W - sz);
        total += row_loss[i];
        if (!dlogits) continue;
        double scale = D > 0 ? grad_scale / D : 0;
        for (size_t c = 0; c < V; c++) {
            double pc = exp(z[c] - lse), wc = weight ? weight[c] : 1.0;
            dlogits[i * V + c] = scale * ((1 - eps) * wt * (pc - ((size_t)t == c ? 1.0 : 0.0)) +
                                          eps / (double)V * (pc * W - wc));
        }
    }
    if (denom) *denom = D;
    return D > 0 ? total / D : 0;
}
