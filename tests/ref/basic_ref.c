#include "tests/ref/basic_ref.h"

void fill_ref(float *y, size_t n, float value) {
    for (size_t i = 0; i < n; i++) y[i] = value;
}

void add_ref(const float *a, const float *b, float *c, size_t n) {
    for (size_t i = 0; i < n; i++) c[i] = a[i] + b[i];
}

void scale_ref(const float *x, float *y, size_t n, float alpha) {
    for (size_t i = 0; i < n; i++) y[i] = alpha * x[i];
}

double sum_ref(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += x[i];
    return s;
}

void colsum_ref(const float *x, size_t rows, size_t cols, float *out, int accumulate) {
    for (size_t c = 0; c < cols; c++) {
        double acc = accumulate ? out[c] : 0;
        for (size_t r = 0; r < rows; r++) acc += x[r * cols + c];
        out[c] = (float)acc;
    }
}
