/* Attention for incremental (KV-cached) decoding: one new query row per sequence and head against the
 * cached keys and values, with grouped-query heads. Shader: shaders/attention_decode.comp.
 *
 * Layouts (row-major fp32): q, out [B, H, D] (one token per sequence); k_cache, v_cache
 * [B, max_len, Hkv, D], of which positions 0..n-1 are valid. H is a multiple of Hkv; query head h reads
 * kv head h / (H / Hkv). out = softmax(scale q k^T) v over the n cached keys (the new token's own key
 * must already be in the cache). Deterministic: fixed summation order, no atomics.
 * With a positions buffer (int32 [B], the new tokens' positions), n is positions[b] + 1 per sequence and is
 * read on the device, so that one recording serves every decoding step (vkft_kv_cache_append writes the
 * new keys and values at the same positions). */
#ifndef VKFT_OPS_ATTENTION_DECODE_H
#define VKFT_OPS_ATTENTION_DECODE_H
#include "runtime/runtime.h"

typedef struct {
    uint32_t B, H, Hkv, D; /* sequences, query heads, kv heads, head dim (D <= 1024) */
    uint32_t n;            /* valid cached positions (1..max_len); unused with a positions buffer */
    uint32_t max_len;      /* the caches' capacity in positions */
    float scale;           /* 0: 1 / sqrt(D) */
} vkft_attention_decode_dims;

/* positions NULL: dims->n keys for every sequence; else positions[b] + 1 (clamped to max_len). */
int vkft_attention_decode(vkft_recorder *rec, const vkft_attention_decode_dims *dims, vkft_buf q, vkft_buf k_cache,
                          vkft_buf v_cache, vkft_buf out, const vkft_buf *positions);
/* k_cache[b, positions[b], :] = k[b, :] and v_cache likewise, for k, v [B, KD] and caches [B, max_len, KD]
 * (KD = kv heads x head dim); positions int32 [B] (outside 0..max_len-1: skipped). */
int vkft_kv_cache_append(vkft_recorder *rec, uint32_t B, uint32_t KD, uint32_t max_len, vkft_buf k, vkft_buf v,
                         vkft_buf positions, vkft_buf k_cache, vkft_buf v_cache);
/* The kernel definitions ("attention_decode", "kv_cache_append"), for tests and benchmarks. */
const vkft_kernel_def *vkft_attention_decode_kernel(const char *name);
#endif
