#include "model/ops_xent.h"

#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t N, V;
    int32_t ignore_index;
    uint32_t has_weight;
    float label_smoothing, grad_scale;
    uint32_t row0, rows, write_grad, ld;
} push_xent;

/* Rows of up to 49152+ classes: 256 invocations per row (on a CPU driver one subgroup: lavapipe's
 * barriers are costly); the one-workgroup passes use the same. */
static void spec_rows(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = vkft_row_workgroup_size(caps, 256);
}

enum { K_DENOM, K_ROWS, K_ROWS_VEC4, K_MEAN, K_COUNT };
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_DENOM] = {.name = "cross_entropy_denom",
                 .shader = "softmax_xent",
                 .variants = {"denom"},
                 .push_size = sizeof(push_xent),
                 .spec_count = 1,
                 .specialize = spec_rows},
    [K_ROWS] = {.name = "cross_entropy_rows",
                .shader = "softmax_xent",
                .variants = {"rows"},
                .push_size = sizeof(push_xent),
                .spec_count = 1,
                .specialize = spec_rows},
    [K_ROWS_VEC4] = {.name = "cross_entropy_rows_vec4",
                     .shader = "softmax_xent",
                     .variants = {"rows_vec4"},
                     .push_size = sizeof(push_xent),
                     .spec_count = 1,
                     .specialize = spec_rows},
    [K_MEAN] = {.name = "cross_entropy_mean",
                .shader = "softmax_xent",
                .variants = {"mean"},
                .push_size = sizeof(push_xent),
                .spec_count = 1,
                .specialize = spec_rows},
};

const vkft_kernel_def *vkft_xent_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

static int check(vkft_recorder *rec, uint32_t V, float label_smoothing) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (V == 0) return vkft_set_error(ctx, "cross_entropy: V must be positive");
    if (!(label_smoothing >= 0.0f && label_smoothing <= 1.0f))
        return vkft_set_error(ctx, "cross_entropy: label_smoothing %g is outside [0, 1]", label_smoothing);
    return 0;
}

int vkft_cross_entropy_denom(vkft_recorder *rec, vkft_buf targets, vkft_buf weight, vkft_buf stats,
                             uint32_t N, uint32_t V, int32_t ignore_index) {
    if (check(rec, V, 0.0f)) return -1;
    int has_weight = weight.block != NULL;
    push_xent p = {N, V, ignore_index, has_weight ? 1u : 0u, 0.0f, 0.0f, 0, 0, 0, V};
    vkft_binding b[] = {
        {targets, VKFT_READ}, {has_weight ? weight : targets, VKFT_READ}, {stats, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_DENOM], &p, 1, 1, 1, b, 3);
}

int vkft_cross_entropy_rows(vkft_recorder *rec, vkft_buf logits, vkft_buf targets, vkft_buf weight,
                            vkft_buf stats, vkft_buf dlogits, vkft_buf row_loss, uint32_t row0, uint32_t rows,
                            uint32_t V, uint32_t ld, int32_t ignore_index, float label_smoothing, float grad_scale) {
    if (check(rec, V, label_smoothing)) return -1;
    if (ld < V) return vkft_set_error(vkft_rec_ctx(rec), "cross_entropy: row stride %u is shorter than V = %u", ld, V);
    int has_weight = weight.block != NULL, write_grad = dlogits.block != NULL;
    push_xent p = {row0 + rows, V,    ignore_index, has_weight ? 1u : 0u, label_smoothing,
                   grad_scale,  row0, rows,         write_grad ? 1u : 0u, ld};
    /* Without class weights or a gradient, readable / writable buffers the shader does not touch stand in. */
    vkft_binding b[] = {
        {logits, VKFT_READ}, {targets, VKFT_READ},   {has_weight ? weight : targets, VKFT_READ},
        {stats, VKFT_READ},  {row_loss, VKFT_WRITE}, {write_grad ? dlogits : row_loss, VKFT_WRITE}};
    /* 4 logits per load when the rows and every float buffer allow it */
    int vec4 = ld % 4 == 0 && logits.offset % 16 == 0 && (!write_grad || dlogits.offset % 16 == 0) &&
               (!has_weight || weight.offset % 16 == 0);
    const vkft_kernel_def *k = &kernels[vec4 ? K_ROWS_VEC4 : K_ROWS];
    return vkft_rec_dispatch(rec, k, &p, rows == 0 ? 1 : rows > 65535 ? 65535 : rows, 1, 1, b, 6);
}

int vkft_cross_entropy_mean(vkft_recorder *rec, vkft_buf row_loss, vkft_buf stats, vkft_buf loss,
                            uint32_t N) {
    push_xent p = {N, 1, 0, 0, 0.0f, 0.0f, 0, 0, 0, 1};
    vkft_binding b[] = {{row_loss, VKFT_READ}, {stats, VKFT_READ}, {loss, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_MEAN], &p, 1, 1, 1, b, 3);
}

int vkft_cross_entropy_forward_backward(vkft_recorder *rec, vkft_buf logits, vkft_buf targets,
                                        vkft_buf weight, vkft_buf dlogits, vkft_buf row_loss, vkft_buf stats,
                                        vkft_buf loss, uint32_t N, uint32_t V, int32_t ignore_index,
                                        float label_smoothing, float grad_scale) {
    return vkft_cross_entropy_denom(rec, targets, weight, stats, N, V, ignore_index) ||
                   vkft_cross_entropy_rows(rec, logits, targets, weight, stats, dlogits, row_loss, 0, N, V, V,
                                           ignore_index, label_smoothing, grad_scale) ||
                   vkft_cross_entropy_mean(rec, row_loss, stats, loss, N)
               ? -1
               : 0;
}
