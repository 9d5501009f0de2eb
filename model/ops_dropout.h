/* Dropout with a counter-based RNG (Philox 4x32-10): the mask is a pure function of (seed, step, site,
 * element index; and micro-batch for the _ctr forms), so the backward regenerates it and nothing is stored. `site` tells apart the dropout
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
/* The same masks with the step read on the GPU, so that one recorded command buffer serves every training
 * step: ctr holds two uint32 (step, micro), written by the host before each submission. Element i's
 * counter is (i / 4, site, step, micro): micro 0 gives vkft_dropout_forward's mask for that step, another
 * micro (a micro-batch of an accumulated step) another mask. accumulate: y += drop(x) instead of
 * y = drop(x) (x and y then distinct). */
int vkft_dropout_forward_ctr(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, float p, uint64_t seed,
                             vkft_buf ctr, uint32_t site, int accumulate);
int vkft_dropout_backward_ctr(vkft_recorder *rec, vkft_buf dy, vkft_buf dx, uint32_t n, float p, uint64_t seed,
                              vkft_buf ctr, uint32_t site, int accumulate);
/* The kernel definitions: "dropout_forward", "dropout_backward", "dropout_forward_ctr",
 * "dropout_backward_ctr" (and "_vec4" forms, used when n % 4 == 0). */
const vkft_kernel_def *vkft_dropout_kernel(const char *name);
#endif
