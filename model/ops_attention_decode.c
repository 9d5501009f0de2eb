#include "model/ops_attention_decode.h"

#include <math.h>
#include <string.h>

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

/* shaders/kv_append.comp: Push */
typedef struct {
    uint32_t B, KD, max_len;
} push_kv_append;

static void spec_append(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

static const vkft_kernel_def kernel = {.name = "attention_decode", .shader = "attention_decode",
                                       .push_size = sizeof(push_attention_decode), .spec_count = 1,
                                       .specialize = spec_decode};
static const vkft_kernel_def append_kernel = {.name = "kv_cache_append", .shader = "kv_append",
                                              .push_size = sizeof(push_kv_append), .spec_count = 1,
                                              .specialize = spec_append};

const vkft_kernel_def *vkft_attention_decode_kernel(const char *name) {
    if (!strcmp(name, kernel.name)) return &kernel;
    if (!strcmp(name, append_kernel.name)) return &append_kernel;
    return NULL;
}

int vkft_attention_decode(vkft_recorder *rec, const vkft_attention_decode_dims *d, vkft_buf q, vkft_buf k_cache,
                          vkft_buf v_cache, vkft_buf out, const vkft_buf *positions) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    uint32_t n = positions ? 0 : d->n;
    if (!d->B || !d->H || !d->Hkv || !d->D || (!positions && !d->n) || !d->max_len)
        return vkft_set_error(ctx, "attention_decode: every size must be positive (B=%u H=%u Hkv=%u D=%u n=%u "
                                   "max_len=%u)", d->B, d->H, d->Hkv, d->D, d->n, d->max_len);
    if (d->H % d->Hkv)
        return vkft_set_error(ctx, "attention_decode: H=%u query heads is not a multiple of Hkv=%u kv heads", d->H,
                              d->Hkv);
    if (positions && positions->size < (VkDeviceSize)d->B * 4)
        return vkft_set_error(ctx, "attention_decode: positions holds %llu bytes, needs B*4 = %u",
                              (unsigned long long)positions->size, d->B * 4);
    if (n > d->max_len)
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
    push_attention_decode p = {d->B, d->H, d->Hkv, d->D, n, d->max_len,
                               d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->D)};
    /* Without positions, q is bound in their place (the shader does not read it). */
    vkft_binding b[] = {{q, VKFT_READ},    {k_cache, VKFT_READ}, {v_cache, VKFT_READ},
                        {out, VKFT_WRITE}, {positions ? *positions : q, VKFT_READ}};
    return vkft_rec_dispatch(rec, &kernel, &p, d->H, d->B, 1, b, 5);
}

int vkft_kv_cache_append(vkft_recorder *rec, uint32_t B, uint32_t KD, uint32_t max_len, vkft_buf k, vkft_buf v,
                         vkft_buf positions, vkft_buf k_cache, vkft_buf v_cache) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (!B || !KD || !max_len)
        return vkft_set_error(ctx, "kv_cache_append: B=%u KD=%u max_len=%u must be positive", B, KD, max_len);
    if (B > 65535) return vkft_set_error(ctx, "kv_cache_append: B=%u exceeds 65535 workgroups", B);
    uint64_t cache = (uint64_t)B * max_len * KD;
    if (cache >= (1ull << 32)) return vkft_set_error(ctx, "kv_cache_append: the cache exceeds 32-bit indexing");
    if (k.size < (uint64_t)B * KD * 4 || v.size < (uint64_t)B * KD * 4 || positions.size < (uint64_t)B * 4 ||
        k_cache.size < cache * 4 || v_cache.size < cache * 4)
        return vkft_set_error(ctx, "kv_cache_append: a buffer is smaller than its shape (B=%u KD=%u max_len=%u)", B,
                              KD, max_len);
    vkft_pipeline *pl = vkft_pipeline_get(ctx, &append_kernel);
    if (!pl) return -1;
    push_kv_append p = {B, KD, max_len};
    vkft_binding b[] = {{k, VKFT_READ},           {v, VKFT_READ},           {positions, VKFT_READ},
                        {k_cache, VKFT_READ_WRITE}, {v_cache, VKFT_READ_WRITE}};
    return vkft_rec_dispatch(rec, &append_kernel, &p, vkft_groups(KD, vkft_pipeline_spec(pl)[0]), B, 1, b, 5);
}
