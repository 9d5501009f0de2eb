/* CPU reference of shaders/dropout.comp and shaders/common/philox.glsl. */
#ifndef VKFT_DROPOUT_REF_H
#define VKFT_DROPOUT_REF_H
#include <stddef.h>
#include <stdint.h>

/* Philox 4x32-10: out = philox(counter, key). */
void philox4x32_10_ref(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4]);
/* 1 if element i is kept (the shader's rule, bit for bit). */
int dropout_keep_ref(size_t i, float p, uint64_t seed, uint32_t step, uint32_t site);
/* y = keep ? x * (1 / (1 - p)) : 0 (in fp32, as the shader computes it); the backward is the same map. */
void dropout_ref(const float *x, float *y, size_t n, float p, uint64_t seed, uint32_t step, uint32_t site);
/* The _ctr kernels' rule: counter (i / 4, site, step, micro); micro 0 is dropout_keep_ref's mask. */
int dropout_keep_micro_ref(size_t i, float p, uint64_t seed, uint32_t step, uint32_t micro, uint32_t site);
/* y = drop(x), or y += drop(x) with accumulate (fp32, as the shader computes it). */
void dropout_micro_ref(const float *x, float *y, size_t n, float p, uint64_t seed, uint32_t step, uint32_t micro,
                       uint32_t site, int accumulate);
#endif
