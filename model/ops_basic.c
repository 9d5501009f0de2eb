#include "model/ops_basic.h"

#include "model/kernels.h"

/* Enough workgroups to cover n with one element per thread, capped (the shaders loop over the rest). */
static uint32_t cover(uint32_t n, uint32_t wg, uint32_t cap) {
    uint32_t g = vkft_groups(n, wg);
    if (g > cap) g = cap;
    return g ? g : 1;
}

/* The workgroup size the kernel's pipeline was specialized with (1 if it cannot be created: the
 * dispatch then reports the error). */
static uint32_t local_size(vkft_recorder *rec, vkft_kernel_id k) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), &vkft_kernels[k]);
    return p ? vkft_pipeline_spec(p)[0] : 1;
}

int vkft_fill_f32(vkft_recorder *rec, vkft_buf y, uint32_t n, float value) {
    vkft_push_fill p = {n, value};
    vkft_binding b[] = {{y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &vkft_kernels[VKFT_K_FILL_F32], &p,
                             cover(n, local_size(rec, VKFT_K_FILL_F32), 4096), 1, 1, b, 1);
}

int vkft_add_f32(vkft_recorder *rec, vkft_buf a, vkft_buf b, vkft_buf c, uint32_t n) {
    vkft_push_elementwise p = {n, 1.0f};
    vkft_binding bind[] = {{a, VKFT_READ}, {b, VKFT_READ}, {c, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &vkft_kernels[VKFT_K_ADD_F32], &p,
                             cover(n, local_size(rec, VKFT_K_ADD_F32), 4096), 1, 1, bind, 3);
}

int vkft_scale_f32(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, float alpha) {
    vkft_push_elementwise p = {n, alpha};
    /* b is not read by scale; x is bound there too so that every binding is valid. */
    vkft_binding bind[] = {{x, VKFT_READ}, {x, VKFT_READ}, {y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &vkft_kernels[VKFT_K_SCALE_F32], &p,
                             cover(n, local_size(rec, VKFT_K_SCALE_F32), 4096), 1, 1, bind, 3);
}

/* The reduction's first pass uses at most this many workgroups, so the second pass is one workgroup. */
enum { SUM_PARTIALS = 256 };

uint32_t vkft_sum_scratch_floats(void) { return SUM_PARTIALS; }

int vkft_sum_f32(vkft_recorder *rec, vkft_buf x, uint32_t n, vkft_buf scratch, vkft_buf out) {
    const vkft_kernel_def *k = &vkft_kernels[VKFT_K_SUM_F32];
    uint32_t groups = cover(n, local_size(rec, VKFT_K_SUM_F32), SUM_PARTIALS);
    vkft_push_reduce p1 = {n};
    vkft_binding b1[] = {{x, VKFT_READ}, {vkft_buf_slice(scratch, 0, groups * 4), VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, k, &p1, groups, 1, 1, b1, 2)) return -1;
    vkft_push_reduce p2 = {groups};
    vkft_binding b2[] = {{vkft_buf_slice(scratch, 0, groups * 4), VKFT_READ}, {out, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, k, &p2, 1, 1, 1, b2, 2);
}

