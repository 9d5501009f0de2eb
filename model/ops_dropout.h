/* Dropout with a counter-based RNG (Philox 4x32-10): the mask is a pure function of (seed, step, site,
 * element index), so the backward regenerates it and nothing is stored. `site` tells apart the dropout
 * layers of one step (e.g. layer * 4 + which). */
#ifndef VKFT_OPS_DROPOUT_H
#define VKFT_OPS_DROPOUT_H
#include "runtime/runtime.h"

/* y = keep ? x / (1 - p) : 0 with element i kept when its uniform number is >= p (0 <= p < 1; p = 0
 * copies). x and y may be the same buffer. */
int vkft_dropout_forward(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, float p, uint64_t seed,
                         uint32_t step, uint32_t site);
/* dx = keep ? dy / (1 - p) : 0 with the forward's mask (same seed, step, site). */
int vkft_dropout_backward(vkft_recorder *rec, vkft_buf dy, vkft_buf dx, uint32_t n, float p, uint64_t seed,
                          uint32_t step, uint32_t site);
/* The kernel definitions: "dropout_forward", "dropout_backward" (and "_vec4" forms, used when n % 4 == 0). */
const vkft_kernel_def *vkft_dropout_kernel(const char *name);
#endif
