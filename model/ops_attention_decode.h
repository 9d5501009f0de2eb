/* Attention for incremental (KV-cached) decoding: one new query row per sequence and head against the
 * cached keys and values, with grouped-query heads. Shader: shaders/attention_decode.comp.
 *
 * Layouts (row-major fp32): q, out [B, H, D] (one token per sequence); k_cache, v_cache
 * [B, max_len, Hkv, D], of which positions 0..n-1 are valid. H is a multiple of Hkv; query head h reads
 * kv head h / (H / Hkv). out = softmax(scale q k^T) v over the n cached keys (the new token's own key
 * must already be in the cache). Deterministic: fixed summation order, no atomics. */
#ifndef VKFT_OPS_ATTENTION_DECODE_H
#define VKFT_OPS_ATTENTION_DECODE_H
#include "runtime/runtime.h"

typedef struct {
    uint32_t B, H, Hkv, D; /* sequences, query heads, kv heads, head dim (D <= 1024) */
    uint32_t n;            /* valid cached positions (1..max_len) */
    uint32_t max_len;      /* the caches' capacity in positions */
    float scale;           /* 0: 1 / sqrt(D) */
} vkft_attention_decode_dims;

int vkft_attention_decode(vkft_recorder *rec, const vkft_attention_decode_dims *dims, vkft_buf q, vkft_buf k_cache,
                          vkft_buf v_cache, vkft_buf out);
/* The kernel definition ("attention_decode"), for tests and benchmarks. */
const vkft_kernel_def *vkft_attention_decode_kernel(void);
#endif
