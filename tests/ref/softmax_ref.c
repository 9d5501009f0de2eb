#include "tests/ref/softmax_ref.h"

#include <math.h>

static size_t visible(size_t r, size_t cols, int causal, size_t q_len) {
    if (!causal) return cols;
    size_t lim = r % q_len + cols - q_len + 1;
    return lim < cols ? lim : cols;
}

void softmax_forward_ref(const double *x, double *y, size_t rows, size_t cols, double scale, int causal,
                         size_t q_len) {
    for (size_t r = 0; r < rows; r++) {
        const double *xr = x + r * cols;
        double *yr = y + r * cols;
        size_t lim = visible(r, cols, causal, q_len);
        double m = -INFINITY, s = 0;
        for (size_t j = 0; j < lim; j++) m = fmax(m, scale * xr[j]);
        for (size_t j = 0; j < lim; j++) s += exp(scale * xr[j] - m);
        for (size_t j = 0; j < cols; j++) yr[j] = j < lim ? exp(scale * xr[j] - m) / s : 0.0;
    }
}

void softmax_backward_ref(const double *y, const double *dy, double *dx, size_t rows, size_t cols,
                          double scale, int causal, size_t q_len) {
    for (size_t r = 0; r < rows; r++) {
        const double *yr = y + r * cols, *dyr = dy + r * cols;
        size_t lim = visible(r, cols, causal, q_len);
        double d = 0;
        for (size_t j = 0; j < lim; j++) d += yr[j] * dyr[j];
        for (size_t j = 0; j < cols; j++) dx[r * cols + j] = j < lim ? scale * yr[j] * (dyr[j] - d) : 0.0;
    }
}
