#include "model/ops_attention_decode.h"

#include <math.h>

/* shaders/attention_decode.comp: Push */
typedef struct {
    uint32_t B, H, Hkv, D;
    uint32_t n, max_len;
    float scale;
} push_attention_decode;

/* 64 invocations (or the subgroup size if larger, or the device's maximum if smaller). */
static void spec_decode(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t wg = 64;
    if (caps->subgroup_size > wg) wg = caps->subgroup_size;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    if (wg > 1024) wg = 1024;
    spec[0] = wg;
}

static const vkft_kernel_def kernel = {.name = "attention_decode", .shader = "attention_decode",
                                       .push_size = sizeof(push_attention_decode), .spec_count = 1,
                                       .specialize = spec_decode};

const vkft_kernel_def *vkft_attention_decode_kernel(void) { return &kernel; }

int vkft_attention_decode(vkft_recorder *rec, const vkft_attention_decode_dims *d, vkft_buf q, vkft_buf k_cache,
                          vkft_buf v_cache, vkft_buf out) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (!d->B || !d->H || !d->Hkv || !d->D || !d->n || !d->max_len)
        return vkft_set_error(ctx, "attention_decode: every size must be positive (B=%u H=%u Hkv=%u D=%u n=%u "
                                   "max_len=%u)", d->B, d->H, d->Hkv, d->D, d->n, d->max_len);
    if (d->H % d->Hkv)
        return vkft_set_error(ctx, "attention_decode: H=%u query heads is not a multiple of Hkv=%u kv heads", d->H,
                              d->Hkv);
    if (d->n > d->max_len)
        return vkft_set_error(ctx, "attention_decode: n=%u cached positions exceed the capacity %u", d->n,
                              d->max_len);
    if (d->H > 65535 || d->B > 65535)
        return vkft_set_error(ctx, "attention_decode: H=%u or B=%u exceeds 65535 workgroups", d->H, d->B);
    vkft_pipeline *pl = vkft_pipeline_get(ctx, &kernel);
    if (!pl) return -1;
    uint32_t wg = vkft_pipeline_spec(pl)[0];
    if (d->D > 1024 || d->D > 4 * wg)
        return vkft_set_error(ctx, "attention_decode: head dim D=%u exceeds %u (4 x the workgroup size, at most 1024)",
                              d->D, 4 * wg < 1024 ? 4 * wg : 1024);
    uint64_t cache = (uint64_t)d->B * d->max_len * d->Hkv * d->D, qn = (uint64_t)d->B * d->H * d->D;
    if (cache >= (1ull << 32))
        return vkft_set_error(ctx, "attention_decode: the cache (%llu floats) exceeds 32-bit indexing",
                              (unsigned long long)cache);
    if (k_cache.size < cache * 4 || v_cache.size < cache * 4 || q.size < qn * 4 || out.size < qn * 4)
        return vkft_set_error(ctx, "attention_decode: a buffer is smaller than its shape (cache %llu floats, q/out "
                                   "%llu floats)", (unsigned long long)cache, (unsigned long long)qn);
    push_attention_decode p = {d->B, d->H, d->Hkv, d->D, d->n, d->max_len,
                               d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->D)};
    vkft_binding b[] = {{q, VKFT_READ}, {k_cache, VKFT_READ}, {v_cache, VKFT_READ}, {out, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernel, &p, d->H, d->B, 1, b, 4);
}
