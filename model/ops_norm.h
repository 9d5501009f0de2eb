/* LayerNorm and RMSNorm over the rows of [rows, C] fp32 activations: forward (saving the per-row
 * statistics the backward needs) and backward (input, weight and bias gradients).
 * The weight and bias gradients are summed over rows deterministically: per-block partials in row order,
 * then a second pass over the blocks in block order (no atomics). */
#ifndef VKFT_OPS_NORM_H
#define VKFT_OPS_NORM_H
#include "runtime/runtime.h"

/* y = (x - mean) / sqrt(var + eps) * w + b; saves mean[rows] and rstd[rows].
 * b.block == NULL: no bias. x and y may be the same buffer. */
int vkft_layernorm_forward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf b, vkft_buf y, vkft_buf mean,
                           vkft_buf rstd, uint32_t rows, uint32_t C, float eps);
/* dx (written), dw and db (written, or added to when accumulate != 0) from the forward's x, mean, rstd.
 * dw.block == NULL: frozen weight and bias (no weight gradient); db.block == NULL: no bias.
 * scratch holds vkft_norm_scratch_floats(rows, C) floats. dx may be the same buffer as dy. */
int vkft_layernorm_backward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf mean, vkft_buf rstd,
                            vkft_buf dy, vkft_buf dx, vkft_buf dw, vkft_buf db, vkft_buf scratch,
                            uint32_t rows, uint32_t C, int accumulate);

/* y = x / sqrt(mean(x^2) + eps) * w (Llama's RMSNorm); saves rstd[rows]. */
int vkft_rmsnorm_forward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf y, vkft_buf rstd, uint32_t rows,
                         uint32_t C, float eps);
/* dx and dw (dw.block == NULL: frozen weight), as for layernorm. */
int vkft_rmsnorm_backward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf rstd, vkft_buf dy, vkft_buf dx,
                          vkft_buf dw, vkft_buf scratch, uint32_t rows, uint32_t C, int accumulate);

/* Floats of scratch the backward passes need for the weight-gradient partials. */
size_t vkft_norm_scratch_floats(uint32_t rows, uint32_t C);
/* The kernel definitions, by name (layernorm_forward, layernorm_backward, layernorm_backward_wgrad,
 * rmsnorm_forward, rmsnorm_backward, rmsnorm_backward_wgrad, norm_backward_wgrad_reduce). */
const vkft_kernel_def *vkft_norm_kernel(const char *name);
#endif
