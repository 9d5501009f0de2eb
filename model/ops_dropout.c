#include "model/ops_dropout.h"

#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t n;
    float p, scale;
    uint32_t seed_lo, seed_hi, step, site, flags;
} push_dropout;

static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

/* Forward and backward are the same kernel (the mask applied to x or to dy): two rows, two names; the
 * _ctr rows read the step from a buffer. K_x + K_VEC4: one vec4 per quad (n % 4 == 0, 16-byte aligned
 * buffers). */
enum { K_FWD, K_BWD, K_FWD_CTR, K_BWD_CTR, K_VEC4, K_COUNT = 2 * K_VEC4 };
#define DROPOUT_ROW(nm, variant)                                                                             \
    {                                                                                                        \
        .name = nm, .shader = "dropout", .variants = {variant}, .push_size = sizeof(push_dropout),           \
        .spec_count = 1, .specialize = spec_elementwise                                                      \
    }
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_FWD] = DROPOUT_ROW("dropout_forward", "scalar"),
    [K_BWD] = DROPOUT_ROW("dropout_backward", "scalar"),
    [K_VEC4 + K_FWD] = DROPOUT_ROW("dropout_forward_vec4", "vec4"),
    [K_VEC4 + K_BWD] = DROPOUT_ROW("dropout_backward_vec4", "vec4"),
    [K_FWD_CTR] = DROPOUT_ROW("dropout_forward_ctr", "ctr"),
    [K_BWD_CTR] = DROPOUT_ROW("dropout_backward_ctr", "ctr"),
    [K_VEC4 + K_FWD_CTR] = DROPOUT_ROW("dropout_forward_ctr_vec4", "ctr_vec4"),
    [K_VEC4 + K_BWD_CTR] = DROPOUT_ROW("dropout_backward_ctr_vec4", "ctr_vec4"),
};

const vkft_kernel_def *vkft_dropout_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

/* ctr.block NULL: the step from the push constants (micro 0); else (step, micro) read from ctr. */
static int dropout(vkft_recorder *rec, int k, vkft_buf in, vkft_buf out, uint32_t n, float p, uint64_t seed,
                   uint32_t step, vkft_buf ctr, uint32_t site, int accumulate) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (!(p >= 0.0f && p < 1.0f))
        return vkft_set_error(ctx, "%s: p = %g is outside [0, 1)", kernels[k].name, p);
    push_dropout pc = {n, p, 1.0f / (1.0f - p), (uint32_t)seed, (uint32_t)(seed >> 32), step, site,
                       accumulate ? 1u : 0u};
    if (n % 4 == 0 && in.offset % 16 == 0 && out.offset % 16 == 0) k += K_VEC4;
    vkft_binding b[] = {{in, VKFT_READ}, {out, accumulate ? VKFT_READ_WRITE : VKFT_WRITE}, {ctr, VKFT_READ}};
    vkft_pipeline *pl = vkft_pipeline_get(ctx, &kernels[k]);
    uint32_t wg = pl ? vkft_pipeline_spec(pl)[0] : 1, g = vkft_groups(((uint64_t)n + 3) / 4, wg);
    return vkft_rec_dispatch(rec, &kernels[k], &pc, g == 0 ? 1 : g > 4096 ? 4096 : g, 1, 1, b, ctr.block ? 3 : 2);
}

int vkft_dropout_forward(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, float p, uint64_t seed,
                         uint32_t step, uint32_t site) {
    vkft_buf none = {0};
    return dropout(rec, K_FWD, x, y, n, p, seed, step, none, site, 0);
}

int vkft_dropout_backward(vkft_recorder *rec, vkft_buf dy, vkft_buf dx, uint32_t n, float p, uint64_t seed,
                          uint32_t step, uint32_t site) {
    vkft_buf none = {0};
    return dropout(rec, K_BWD, dy, dx, n, p, seed, step, none, site, 0);
}

static int check_ctr(vkft_recorder *rec, vkft_buf ctr, vkft_buf in, vkft_buf out, int accumulate) {
    if (!ctr.block || ctr.size < 8)
        return vkft_set_error(vkft_rec_ctx(rec), "dropout: the counter buffer must hold (step, micro)");
    if (accumulate && in.block == out.block && in.offset == out.offset)
        return vkft_set_error(vkft_rec_ctx(rec), "dropout: accumulating in place");
    return 0;
}

int vkft_dropout_forward_ctr(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, float p, uint64_t seed,
                             vkft_buf ctr, uint32_t site, int accumulate) {
    if (check_ctr(rec, ctr, x, y, accumulate)) return -1;
    return dropout(rec, K_FWD_CTR, x, y, n, p, seed, 0, ctr, site, accumulate);
}

int vkft_dropout_backward_ctr(vkft_recorder *rec, vkft_buf dy, vkft_buf dx, uint32_t n, float p, uint64_t seed,
                              vkft_buf ctr, uint32_t site, int accumulate) {
    if (check_ctr(rec, ctr, dy, dx, accumulate)) return -1;
    return dropout(rec, K_BWD_CTR, dy, dx, n, p, seed, 0, ctr, site, accumulate);
}
