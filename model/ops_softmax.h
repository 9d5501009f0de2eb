/* Softmax over rows, with an optional causal mask and a scale, and its backward. */
#ifndef VKFT_OPS_SOFTMAX_H
#define VKFT_OPS_SOFTMAX_H
#include "runtime/runtime.h"

/* y[r, :] = softmax(scale * x[r, :]) for a [rows, cols] matrix.
 * causal != 0: the rows form matrices of q_len rows (attention scores [B, H, q_len, cols], q_len <= cols);
 * row r is query i = r % q_len and sees columns j <= i + cols - q_len; the others get y = 0.
 * x and y may be the same buffer. */
int vkft_softmax_forward(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t rows, uint32_t cols,
                         float scale, int causal, uint32_t q_len);
/* dx = scale * y * (dy - rowsum(dy * y)), from the forward's output y (masked entries give dx = 0).
 * dy and dx may be the same buffer. */
int vkft_softmax_backward(vkft_recorder *rec, vkft_buf y, vkft_buf dy, vkft_buf dx, uint32_t rows,
                          uint32_t cols, float scale, int causal, uint32_t q_len);
/* The kernel definitions ("softmax_forward", "softmax_backward", and the same with "_vec4": 4 elements per
 * load, used when cols % 4 == 0), for tests and benches. */
const vkft_kernel_def *vkft_softmax_kernel(const char *name);
#endif
