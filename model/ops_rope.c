#include "model/ops_rope.h"

#include <math.h>
#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t B, T, H, D, rot_dim;
    float inv_factor, sign;
} push_rope;

static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

/* K_x + K_VEC4: 4 pairs per invocation (rot_dim % 8 == 0, D % 4 == 0, 16-byte aligned buffers). */
enum { K_FWD, K_BWD, K_VEC4, K_COUNT = 2 * K_VEC4 };
#define ROPE_ROW(nm, variant)                                                                                \
    {                                                                                                        \
        .name = nm, .shader = "rope", .variants = {variant}, .push_size = sizeof(push_rope),                 \
        .spec_count = 1, .specialize = spec_elementwise                                                      \
    }
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_FWD] = ROPE_ROW("rope_forward", "scalar"),
    [K_BWD] = ROPE_ROW("rope_backward", "scalar"),
    [K_VEC4 + K_FWD] = ROPE_ROW("rope_forward_vec4", "vec4"),
    [K_VEC4 + K_BWD] = ROPE_ROW("rope_backward_vec4", "vec4"),
};

const vkft_kernel_def *vkft_rope_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

void vkft_rope_inv_freq(float *inv_freq, uint32_t rot_dim, float theta) {
    /* transformers: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)) in fp32: the exponent in fp32,
     * the power rounded to fp32 (here from double: correctly rounded, where torch's vectorized pow is
     * within one ulp of it), then the fp32 reciprocal. */
    for (uint32_t i = 0; i < rot_dim / 2; i++) {
        float e = (float)(2 * i) / (float)rot_dim;
        float power = (float)pow((double)theta, (double)e);
        inv_freq[i] = 1.0f / power;
    }
}

static int rope(vkft_recorder *rec, int k, vkft_buf in, vkft_buf out, vkft_buf pos, vkft_buf inv_freq,
                uint32_t B, uint32_t T, uint32_t H, uint32_t D, uint32_t rot_dim, float scaling_factor) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (D % 2 || rot_dim % 2 || rot_dim > D || rot_dim == 0)
        return vkft_set_error(ctx, "%s: need even D (%u) and even 0 < rot_dim (%u) <= D", kernels[k].name, D,
                              rot_dim);
    if (!(scaling_factor > 0.0f))
        return vkft_set_error(ctx, "%s: scaling factor must be positive", kernels[k].name);
    push_rope p = {B, T, H, D, rot_dim, 1.0f / scaling_factor, k == K_FWD ? 1.0f : -1.0f};
    vkft_binding b[] = {{in, VKFT_READ}, {pos, VKFT_READ}, {inv_freq, VKFT_READ}, {out, VKFT_WRITE}};
    int vec4 = rot_dim % 8 == 0 && D % 4 == 0 && in.offset % 16 == 0 && out.offset % 16 == 0 &&
               inv_freq.offset % 16 == 0;
    /* work items per row: scalar, D/2 (a pair or two copied elements each); vec4, R/8 quad pairs plus the
     * (D-R)/4 copied quads */
    uint64_t per_row = vec4 ? rot_dim / 8 + (D - rot_dim) / 4 : D / 2;
    if (vec4) k += K_VEC4;
    vkft_pipeline *pl = vkft_pipeline_get(ctx, &kernels[k]);
    uint32_t wg = pl ? vkft_pipeline_spec(pl)[0] : 1;
    uint32_t g = vkft_groups((uint64_t)B * T * H * per_row, wg);
    return vkft_rec_dispatch(rec, &kernels[k], &p, g == 0 ? 1 : g > 4096 ? 4096 : g, 1, 1, b, 4);
}

int vkft_rope_forward(vkft_recorder *rec, vkft_buf x, vkft_buf y, vkft_buf pos, vkft_buf inv_freq, uint32_t B,
                      uint32_t T, uint32_t H, uint32_t D, uint32_t rot_dim, float scaling_factor) {
    return rope(rec, K_FWD, x, y, pos, inv_freq, B, T, H, D, rot_dim, scaling_factor);
}

int vkft_rope_backward(vkft_recorder *rec, vkft_buf dy, vkft_buf dx, vkft_buf pos, vkft_buf inv_freq,
                       uint32_t B, uint32_t T, uint32_t H, uint32_t D, uint32_t rot_dim,
                       float scaling_factor) {
    return rope(rec, K_BWD, dy, dx, pos, inv_freq, B, T, H, D, rot_dim, scaling_factor);
}

int vkft_rope_qk_forward(vkft_recorder *rec, vkft_buf q, vkft_buf k, vkft_buf pos, vkft_buf inv_freq,
                         uint32_t B, uint32_t T, uint32_t Hq, uint32_t Hkv, uint32_t D, uint32_t rot_dim,
                         float scaling_factor) {
    if (Hkv == 0 || Hq % Hkv)
        return vkft_set_error(vkft_rec_ctx(rec), "rope: %u kv heads do not divide %u query heads", Hkv, Hq);
    return vkft_rope_forward(rec, q, q, pos, inv_freq, B, T, Hq, D, rot_dim, scaling_factor) ||
                   vkft_rope_forward(rec, k, k, pos, inv_freq, B, T, Hkv, D, rot_dim, scaling_factor)
               ? -1
               : 0;
}

int vkft_rope_qk_backward(vkft_recorder *rec, vkft_buf dq, vkft_buf dk, vkft_buf pos, vkft_buf inv_freq,
                          uint32_t B, uint32_t T, uint32_t Hq, uint32_t Hkv, uint32_t D, uint32_t rot_dim,
                          float scaling_factor) {
    if (Hkv == 0 || Hq % Hkv)
        return vkft_set_error(vkft_rec_ctx(rec), "rope: %u kv heads do not divide %u query heads", Hkv, Hq);
    return vkft_rope_backward(rec, dq, dq, pos, inv_freq, B, T, Hq, D, rot_dim, scaling_factor) ||
                   vkft_rope_backward(rec, dk, dk, pos, inv_freq, B, T, Hkv, D, rot_dim, scaling_factor)
               ? -1
               : 0;
}
