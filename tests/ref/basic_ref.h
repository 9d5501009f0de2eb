/* CPU references of the first kernels (shaders/fill.comp, elementwise.comp, reduce.comp). */
#ifndef VKFT_BASIC_REF_H
#define VKFT_BASIC_REF_H
#include <stddef.h>

void fill_ref(float *y, size_t n, float value);
void add_ref(const float *a, const float *b, float *c, size_t n);
void scale_ref(const float *x, float *y, size_t n, float alpha);
/* Summed in double: the reference the fp32 GPU reduction is compared with. */
double sum_ref(const float *x, size_t n);
/* out[c] = sum_r x[r, c] (+ out[c] when accumulate), summed in double. */
void colsum_ref(const float *x, size_t rows, size_t cols, float *out, int accumulate);
#endif
