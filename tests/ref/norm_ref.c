#include "tests/ref/norm_ref.h"

#include <math.h>
#include <string.h>

void layernorm_forward_ref(const double *x, const double *w, const double *b, double *y, double *mean,
                           double *rstd, size_t rows, size_t C, double eps) {
    for (size_t r = 0; r < rows; r++) {
        const double *xr = x + r * C;
        double m = 0, v = 0;
        for (size_t j = 0; j < C; j++) m += xr[j];
        m /= (double)C;
        for (size_t j = 0; j < C; j++) v += (xr[j] - m) * (xr[j] - m);
        double rs = 1.0 / sqrt(v / (double)C + eps);
        for (size_t j = 0; j < C; j++) y[r * C + j] = (xr[j] - m) * rs * w[j] + (b ? b[j] : 0.0);
        mean[r] = m;
        rstd[r] = rs;
    }
}

/* Shared by both norms: mean == NULL for rmsnorm (no centring, no mean(g) term). */
static void norm_backward(const double *x, const double *w, const double *mean, const double *rstd,
                          const double *dy, double *dx, double *dw, double *db, size_t rows, size_t C) {
    if (dw) memset(dw, 0, C * sizeof *dw);
    if (db) memset(db, 0, C * sizeof *db);
    for (size_t r = 0; r < rows; r++) {
        double m = mean ? mean[r] : 0.0, rs = rstd[r], sg = 0, sgx = 0;
        for (size_t j = 0; j < C; j++) {
            double xhat = (x[r * C + j] - m) * rs, g = dy[r * C + j] * w[j];
            sg += g;
            sgx += g * xhat;
            if (dw) dw[j] += dy[r * C + j] * xhat;
            if (db) db[j] += dy[r * C + j];
        }
        double mg = mean ? sg / (double)C : 0.0, mgx = sgx / (double)C;
        if (dx)
            for (size_t j = 0; j < C; j++) {
                double xhat = (x[r * C + j] - m) * rs, g = dy[r * C + j] * w[j];
                dx[r * C + j] = rs * (g - mg - xhat * mgx);
            }
    }
}

void layernorm_backward_ref(const double *x, const double *w, const double *mean, const double *rstd,
                            const double *dy, double *dx, double *dw, double *db, size_t rows, size_t C) {
    norm_backward(x, w, mean, rstd, dy, dx, dw, db, rows, C);
}

void rmsnorm_forward_ref(const double *x, const double *w, double *y, double *rstd, size_t rows, size_t C,
                         double eps) {
    for (size_t r = 0; r < rows; r++) {
        const double *xr = x + r * C;
        double s = 0;
        for (size_t j = 0; j < C; j++) s += xr[j] * xr[j];
        double rs = 1.0 / sqrt(s / (double)C + eps);
        for (size_t j = 0; j < C; j++) y[r * C + j] = xr[j] * rs * w[j];
        rstd[r] = rs;
    }
}

void rmsnorm_backward_ref(const double *x, const double *w, const double *rstd, const double *dy, double *dx,
                          double *dw, size_t rows, size_t C) {
    norm_backward(x, w, NULL, rstd, dy, dx, dw, NULL, rows, C);
}
