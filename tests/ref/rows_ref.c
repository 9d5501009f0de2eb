#include "tests/ref/rows_ref.h"

#include <math.h>
#include <stdlib.h>

double *rows_to_double(const float *x, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = x[i];
    return d;
}

float *rows_to_float(const double *x, size_t n) {
    float *f = malloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = (float)x[i];
    return f;
}

double rows_max_err(const float *a, const double *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs(b[i]));
        if (!(d <= m)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

double rows_fd_check(rows_loss_fn loss, void *ctx, double *x, const double *grad, size_t n, size_t stride,
                     double h) {
    double worst = 0;
    if (stride == 0) stride = 1;
    for (size_t i = 0; i < n; i += stride) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = loss(ctx, x);
        x[i] = keep - h;
        double lm = loss(ctx, x);
        x[i] = keep;
        double fd = (lp - lm) / (2 * h);
        double e = fabs(fd - grad[i]) / fmax(1.0, fabs(grad[i]));
        if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
    }
    return worst;
}
