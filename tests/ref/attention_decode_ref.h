/* CPU reference of shaders/attention_decode.comp (model/ops_attention_decode.h): one query row per
 * (b, h) against n cached keys, grouped-query heads, softmax accumulated in double. */
#ifndef VKFT_ATTENTION_DECODE_REF_H
#define VKFT_ATTENTION_DECODE_REF_H
#include <stdint.h>

/* q, out [B, H, D]; k, v [B, max_len, Hkv, D] (first n positions used); scale 0: 1 / sqrt(D). */
void attention_decode_ref(const float *q, const float *k, const float *v, float *out, uint32_t B, uint32_t H,
                          uint32_t Hkv, uint32_t D, uint32_t n, uint32_t max_len, float scale);
#endif
