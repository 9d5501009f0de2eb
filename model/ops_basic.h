/* The first kernels: fill, elementwise add and scale, and a sum reduction, on fp32 vectors.
 * Each records its dispatches into a recorder; nothing runs until the recording is submitted. */
#ifndef VKFT_OPS_BASIC_H
#define VKFT_OPS_BASIC_H
#include "runtime/runtime.h"

/* y[i] = value */
int vkft_fill_f32(vkft_recorder *rec, vkft_buf y, uint32_t n, float value);
/* c[i] = a[i] + b[i] */
int vkft_add_f32(vkft_recorder *rec, vkft_buf a, vkft_buf b, vkft_buf c, uint32_t n);
/* y[i] = alpha * x[i] (x and y may be the same buffer) */
int vkft_scale_f32(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, float alpha);
/* out[0] = sum of x[0..n); scratch holds vkft_sum_scratch_floats() floats. */
int vkft_sum_f32(vkft_recorder *rec, vkft_buf x, uint32_t n, vkft_buf scratch, vkft_buf out);
uint32_t vkft_sum_scratch_floats(void);
/* out[c] = sum over rows of x[r, c] (x row-major [rows, cols], rows ld >= cols elements apart), added to
 * out when accumulate: bias gradients, summed in row order (deterministic). */
int vkft_colsum_f32(vkft_recorder *rec, vkft_buf x, uint32_t rows, uint32_t cols, uint32_t ld, vkft_buf out,
                    int accumulate);
/* The kernel definitions, by name ("fill_f32", "add_f32", "scale_f32", "sum_f32", "colsum_f32"), for tests. */
const vkft_kernel_def *vkft_basic_kernel(const char *name);
#endif
