#include "model/ops_norm.h"

#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t rows, C;
    float eps;
    uint32_t has_bias, rows_per_block, nblocks, accumulate;
} push_norm;

/* Row kernels: one workgroup of 128 per row (on a CPU driver one subgroup: lavapipe's barriers are
 * costly). Column kernels (weight gradients): 64 columns a group. */
static void spec_rows(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = vkft_row_workgroup_size(caps, 128);
}
static void spec_cols(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 64 ? caps->max_workgroup_invocations : 64;
}

/* The vec4 rows follow the scalar ones in the same order (K_x + K_VEC4 is the vec4 form of K_x). */
enum {
    K_LN_FWD,
    K_LN_BWD,
    K_LN_WGRAD,
    K_RMS_FWD,
    K_RMS_BWD,
    K_RMS_WGRAD,
    K_VEC4,
    K_WGRAD_REDUCE = 2 * K_VEC4,
    K_COUNT
};
/* norm.comp is built once per pass (variants forward, backward, wgrad, reduce); spec 1 picks rmsnorm. */
#define NORM_ROW(nm, pass, rms, sp)                                                                          \
    {                                                                                                        \
        .name = nm, .shader = "norm", .variants = {pass}, .push_size = sizeof(push_norm), .spec = {0, rms},  \
        .spec_count = 2, .specialize = sp                                                                    \
    }
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_LN_FWD] = NORM_ROW("layernorm_forward", "forward", 0, spec_rows),
    [K_LN_BWD] = NORM_ROW("layernorm_backward", "backward", 0, spec_rows),
    [K_LN_WGRAD] = NORM_ROW("layernorm_backward_wgrad", "wgrad", 0, spec_cols),
    [K_RMS_FWD] = NORM_ROW("rmsnorm_forward", "forward", 1, spec_rows),
    [K_RMS_BWD] = NORM_ROW("rmsnorm_backward", "backward", 1, spec_rows),
    [K_RMS_WGRAD] = NORM_ROW("rmsnorm_backward_wgrad", "wgrad", 1, spec_cols),
    [K_VEC4 + K_LN_FWD] = NORM_ROW("layernorm_forward_vec4", "forward_vec4", 0, spec_rows),
    [K_VEC4 + K_LN_BWD] = NORM_ROW("layernorm_backward_vec4", "backward_vec4", 0, spec_rows),
    [K_VEC4 + K_LN_WGRAD] = NORM_ROW("layernorm_backward_wgrad_vec4", "wgrad_vec4", 0, spec_cols),
    [K_VEC4 + K_RMS_FWD] = NORM_ROW("rmsnorm_forward_vec4", "forward_vec4", 1, spec_rows),
    [K_VEC4 + K_RMS_BWD] = NORM_ROW("rmsnorm_backward_vec4", "backward_vec4", 1, spec_rows),
    [K_VEC4 + K_RMS_WGRAD] = NORM_ROW("rmsnorm_backward_wgrad_vec4", "wgrad_vec4", 1, spec_cols),
    [K_WGRAD_REDUCE] = NORM_ROW("norm_backward_wgrad_reduce", "reduce", 0, spec_cols),
};

const vkft_kernel_def *vkft_norm_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

/* Bindings 0-6 (x, w, b, dy, mean, rstd, out) serve the forward, dx and partial passes; the reduce pass
 * also writes 7 and 8 (dw, db). The SPIR-V of a pass declares no binding above the last it uses. */
enum { NORM_BINDINGS_ROWS = 7, NORM_BINDINGS_REDUCE = 9 };

/* K_VEC4 when C % 4 == 0 and every buffer is 16-byte aligned, else 0. */
static int vec4_offset(uint32_t C, const vkft_buf *bufs, int count) {
    int ok = C % 4 == 0;
    for (int i = 0; i < count; i++) ok = ok && (!bufs[i].block || bufs[i].offset % 16 == 0);
    return ok ? K_VEC4 : 0;
}

static uint32_t row_groups(uint32_t rows) { return rows == 0 ? 1 : rows > 65535 ? 65535 : rows; }

static uint32_t local_size(vkft_recorder *rec, int k) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), &kernels[k]);
    return p ? vkft_pipeline_spec(p)[0] : 1;
}

/* Row blocks of the weight-gradient partials: at most 256 blocks of at least 16 rows. */
static uint32_t rows_per_block(uint32_t rows) {
    uint32_t rpb = (rows + 255) / 256;
    return rpb < 16 ? 16 : rpb;
}

size_t vkft_norm_scratch_floats(uint32_t rows, uint32_t C) {
    size_t nblocks = vkft_groups(rows ? rows : 1, rows_per_block(rows));
    return 2 * nblocks * C;
}

static int forward(vkft_recorder *rec, int k, vkft_buf x, vkft_buf w, vkft_buf b, vkft_buf y, vkft_buf mean,
                   vkft_buf rstd, uint32_t rows, uint32_t C, float eps) {
    int has_bias = b.block != NULL;
    vkft_buf all[] = {x, w, b, y};
    k += vec4_offset(C, all, 4);
    push_norm p = {rows, C, eps, has_bias ? 1u : 0u, 0, 0, 0};
    vkft_binding bind[] = {{x, VKFT_READ},  {w, VKFT_READ},     {has_bias ? b : w, VKFT_READ},
                           {x, VKFT_READ},  {mean, VKFT_WRITE}, {rstd, VKFT_WRITE},
                           {y, VKFT_WRITE}, {x, VKFT_READ},     {x, VKFT_READ}};
    return vkft_rec_dispatch(rec, &kernels[k], &p, row_groups(rows), 1, 1, bind, NORM_BINDINGS_ROWS);
}

static int backward(vkft_recorder *rec, int k_dx, int k_wgrad, vkft_buf x, vkft_buf w, vkft_buf mean,
                    vkft_buf rstd, vkft_buf dy, vkft_buf dx, vkft_buf dw, vkft_buf db, vkft_buf scratch,
                    uint32_t rows, uint32_t C, int accumulate) {
    int has_bias = db.block != NULL;
    uint32_t rpb = rows_per_block(rows), nblocks = vkft_groups(rows ? rows : 1, rpb);
    push_norm p = {rows, C, 0.0f, has_bias ? 1u : 0u, rpb, nblocks, accumulate ? 1u : 0u};
    vkft_buf all[] = {x, w, dy, dx, scratch};
    int v4 = vec4_offset(C, all, 5);
    k_dx += v4;
    k_wgrad += v4;
    /* The weight gradient first: it reads dy, which dx may overwrite. */
    if (dw.block) {
        if (scratch.size < vkft_norm_scratch_floats(rows, C) * 4)
            return vkft_set_error(vkft_rec_ctx(rec), "norm backward: scratch of %llu bytes, %zu needed",
                                  (unsigned long long)scratch.size, vkft_norm_scratch_floats(rows, C) * 4);
        vkft_binding bp[] = {{x, VKFT_READ},        {w, VKFT_READ},    {w, VKFT_READ},
                             {dy, VKFT_READ},       {mean, VKFT_READ}, {rstd, VKFT_READ},
                             {scratch, VKFT_WRITE}, {x, VKFT_READ},    {x, VKFT_READ}};
        uint32_t gx = vkft_groups(v4 ? C / 4 : C, local_size(rec, k_wgrad));
        if (vkft_rec_dispatch(rec, &kernels[k_wgrad], &p, gx, nblocks, 1, bp, NORM_BINDINGS_ROWS)) return -1;
        vkft_access acc = VKFT_READ_WRITE; /* read-write in the shader (accumulate is a push constant) */
        vkft_binding br[] = {{x, VKFT_READ},       {w, VKFT_READ}, {w, VKFT_READ},
                             {x, VKFT_READ},       {x, VKFT_READ}, {x, VKFT_READ},
                             {scratch, VKFT_READ}, {dw, acc},      {has_bias ? db : dw, acc}};
        gx = vkft_groups(C, local_size(rec, K_WGRAD_REDUCE));
        if (vkft_rec_dispatch(rec, &kernels[K_WGRAD_REDUCE], &p, gx, 1, 1, br, NORM_BINDINGS_REDUCE))
            return -1;
    }
    if (!dx.block) return 0;
    vkft_binding bd[] = {{x, VKFT_READ},   {w, VKFT_READ},    {w, VKFT_READ},
                         {dy, VKFT_READ},  {mean, VKFT_READ}, {rstd, VKFT_READ},
                         {dx, VKFT_WRITE}, {x, VKFT_READ},    {x, VKFT_READ}};
    return vkft_rec_dispatch(rec, &kernels[k_dx], &p, row_groups(rows), 1, 1, bd, NORM_BINDINGS_ROWS);
}

int vkft_layernorm_forward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf b, vkft_buf y, vkft_buf mean,
                           vkft_buf rstd, uint32_t rows, uint32_t C, float eps) {
    return forward(rec, K_LN_FWD, x, w, b, y, mean, rstd, rows, C, eps);
}

int vkft_layernorm_backward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf mean, vkft_buf rstd,
                            vkft_buf dy, vkft_buf dx, vkft_buf dw, vkft_buf db, vkft_buf scratch,
                            uint32_t rows, uint32_t C, int accumulate) {
    return backward(rec, K_LN_BWD, K_LN_WGRAD, x, w, mean, rstd, dy, dx, dw, db, scratch, rows, C,
                    accumulate);
}

int vkft_rmsnorm_forward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf y, vkft_buf rstd, uint32_t rows,
                         uint32_t C, float eps) {
    vkft_buf none = {0};
    /* rmsnorm saves no mean: rstd is bound in its place (the shader does not write it). */
    return forward(rec, K_RMS_FWD, x, w, none, y, rstd, rstd, rows, C, eps);
}

int vkft_rmsnorm_backward(vkft_recorder *rec, vkft_buf x, vkft_buf w, vkft_buf rstd, vkft_buf dy, vkft_buf dx,
                          vkft_buf dw, vkft_buf scratch, uint32_t rows, uint32_t C, int accumulate) {
    vkft_buf none = {0};
    return backward(rec, K_RMS_BWD, K_RMS_WGRAD, x, w, rstd, rstd, dy, dx, dw, none, scratch, rows, C,
                    accumulate);
}
