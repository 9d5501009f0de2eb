#include "model/ops_basic.h"

#include <string.h>

/* ---- kernel table: one row per kernel, with the C mirror of its push-constant block -------- */

typedef struct {
    uint32_t n;
    float value;
} push_fill;

typedef struct {
    uint32_t n;
    float alpha;
} push_elementwise;

typedef struct {
    uint32_t n;
} push_reduce;

/* Elementwise kernels: 256 threads, or the device's maximum if smaller. */
static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

/* Reductions need a power-of-two workgroup of at most 1024 (the shader's shared array). */
static void spec_reduce(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t wg = 256;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    spec[0] = wg;
}

typedef struct {
    uint32_t rows, cols, accumulate, ld;
} push_colsum;

enum { K_FILL, K_ADD, K_SCALE, K_SUM, K_COLSUM, K_COUNT };
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_FILL] = {.name = "fill_f32", .shader = "fill", .push_size = sizeof(push_fill), .spec_count = 1,
                .specialize = spec_elementwise},
    /* elementwise.comp: specialization constant 1 picks the op */
    [K_ADD] = {.name = "add_f32", .shader = "elementwise", .push_size = sizeof(push_elementwise),
               .spec = {0, 0}, .spec_count = 2, .specialize = spec_elementwise},
    [K_SCALE] = {.name = "scale_f32", .shader = "elementwise", .push_size = sizeof(push_elementwise),
                 .spec = {0, 1}, .spec_count = 2, .specialize = spec_elementwise},
    [K_SUM] = {.name = "sum_f32", .shader = "reduce", .push_size = sizeof(push_reduce), .spec_count = 1,
               .specialize = spec_reduce},
    [K_COLSUM] = {.name = "colsum_f32", .shader = "colsum", .push_size = sizeof(push_colsum), .spec_count = 1,
                  .specialize = spec_elementwise},
};

const vkft_kernel_def *vkft_basic_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

/* Enough workgroups to cover n with one element per thread, capped (the shaders loop over the rest). */
static uint32_t cover(uint32_t n, uint32_t wg, uint32_t cap) {
    uint32_t g = vkft_groups(n, wg);
    if (g > cap) g = cap;
    return g ? g : 1;
}

/* The workgroup size the kernel's pipeline was specialized with (1 if it cannot be created: the
 * dispatch then reports the error). */
static uint32_t local_size(vkft_recorder *rec, int k) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), &kernels[k]);
    return p ? vkft_pipeline_spec(p)[0] : 1;
}

int vkft_fill_f32(vkft_recorder *rec, vkft_buf y, uint32_t n, float value) {
    push_fill p = {n, value};
    vkft_binding b[] = {{y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_FILL], &p,
                             cover(n, local_size(rec, K_FILL), 4096), 1, 1, b, 1);
}

int vkft_add_f32(vkft_recorder *rec, vkft_buf a, vkft_buf b, vkft_buf c, uint32_t n) {
    push_elementwise p = {n, 1.0f};
    vkft_binding bind[] = {{a, VKFT_READ}, {b, VKFT_READ}, {c, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_ADD], &p,
                             cover(n, local_size(rec, K_ADD), 4096), 1, 1, bind, 3);
}

int vkft_scale_f32(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, float alpha) {
    push_elementwise p = {n, alpha};
    /* b is not read by scale; x is bound there too so that every binding is valid. */
    vkft_binding bind[] = {{x, VKFT_READ}, {x, VKFT_READ}, {y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_SCALE], &p,
                             cover(n, local_size(rec, K_SCALE), 4096), 1, 1, bind, 3);
}

/* The reduction's first pass uses at most this many workgroups, so the second pass is one workgroup. */
enum { SUM_PARTIALS = 256 };

uint32_t vkft_sum_scratch_floats(void) { return SUM_PARTIALS; }

int vkft_sum_f32(vkft_recorder *rec, vkft_buf x, uint32_t n, vkft_buf scratch, vkft_buf out) {
    const vkft_kernel_def *k = &kernels[K_SUM];
    uint32_t groups = cover(n, local_size(rec, K_SUM), SUM_PARTIALS);
    push_reduce p1 = {n};
    vkft_binding b1[] = {{x, VKFT_READ}, {vkft_buf_slice(scratch, 0, groups * 4), VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, k, &p1, groups, 1, 1, b1, 2)) return -1;
    push_reduce p2 = {groups};
    vkft_binding b2[] = {{vkft_buf_slice(scratch, 0, groups * 4), VKFT_READ}, {out, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, k, &p2, 1, 1, 1, b2, 2);
}


int vkft_colsum_f32(vkft_recorder *rec, vkft_buf x, uint32_t rows, uint32_t cols, uint32_t ld, vkft_buf out,
                    int accumulate) {
    if (ld < cols)
        return vkft_set_error(vkft_rec_ctx(rec), "colsum: row stride %u is shorter than the %u columns", ld, cols);
    push_colsum p = {rows, cols, accumulate ? 1u : 0u, ld};
    vkft_binding b[] = {{x, VKFT_READ}, {out, accumulate ? VKFT_READ_WRITE : VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_COLSUM], &p, cover(cols, local_size(rec, K_COLSUM), 4096), 1, 1, b, 2);
}
