#include "model/ops_optim.h"

#include <math.h>
#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t n, slot, step, use_clip;
    float lr, beta1, beta2, eps, weight_decay, step_size, sqrt_bc2;
    float max_norm;
} push_optim;

static void spec_wg(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t wg = 256;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    spec[0] = wg;
}

enum {
    K_NORM_PARTIAL,
    K_NORM_FINAL,
    K_CLIP,
    K_ADAMW,
    K_NORM_PARTIAL4,
    K_CLIP4,
    K_ADAMW4,
    K_ADAMW_HP,
    K_ADAMW_HP4,
    K_COUNT
};
#define OPTIM_ROW(nm, variant)                                                                               \
    {                                                                                                        \
        .name = nm, .shader = "adamw", .variants = {variant}, .push_size = sizeof(push_optim),               \
        .spec_count = 1, .specialize = spec_wg                                                               \
    }
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_NORM_PARTIAL] = OPTIM_ROW("grad_norm_partial", "norm_partial"),
    [K_NORM_FINAL] = OPTIM_ROW("grad_norm_final", "norm_final"),
    [K_CLIP] = OPTIM_ROW("clip_grads", "clip"),
    [K_ADAMW] = OPTIM_ROW("adamw_step", "adamw"),
    /* 4 elements per load: n % 4 == 0 and 16-byte aligned buffers */
    [K_NORM_PARTIAL4] = OPTIM_ROW("grad_norm_partial_vec4", "norm_partial_vec4"),
    [K_CLIP4] = OPTIM_ROW("clip_grads_vec4", "clip_vec4"),
    [K_ADAMW4] = OPTIM_ROW("adamw_step_vec4", "adamw_vec4"),
    /* hyperparameters read from a buffer (one recording for every step) */
    [K_ADAMW_HP] = OPTIM_ROW("adamw_step_hp", "adamw_hp"),
    [K_ADAMW_HP4] = OPTIM_ROW("adamw_step_hp_vec4", "adamw_hp_vec4"),
};

static int vec4_ok(uint32_t n, const vkft_buf *bufs, int count) {
    int ok = n % 4 == 0;
    for (int i = 0; i < count; i++) ok = ok && bufs[i].offset % 16 == 0;
    return ok;
}

const vkft_kernel_def *vkft_optim_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

/* Partial sums of the norm's first pass, per buffer: up to NORM_GROUPS workgroups, each visiting at least
 * NORM_PER_INVOCATION elements where n allows (a count that depends only on n: so does the sum's order).
 * LoRA's small gradients then take a few workgroups instead of 256 (on lavapipe each costs ~5 us). */
enum { NORM_GROUPS = 256, NORM_PER_INVOCATION = 64 };

size_t vkft_grad_norm_scratch_floats(uint32_t count) { return (size_t)count * NORM_GROUPS; }

static uint32_t groups(vkft_recorder *rec, int k, uint32_t n) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), &kernels[k]);
    if (k == K_CLIP4 || k == K_ADAMW4 || k == K_ADAMW_HP4) n = vkft_groups(n, 4);
    uint32_t wg = p ? vkft_pipeline_spec(p)[0] : 1, g = vkft_groups(n, wg);
    return g == 0 ? 1 : g > 4096 ? 4096 : g;
}

int vkft_grad_norm(vkft_recorder *rec, const vkft_buf *grads, const uint32_t *n, uint32_t count,
                   vkft_buf scratch, vkft_buf norm, float max_norm) {
    if (count == 0) return vkft_set_error(vkft_rec_ctx(rec), "grad_norm: no gradient buffers");
    if (scratch.size < vkft_grad_norm_scratch_floats(count) * 4)
        return vkft_set_error(vkft_rec_ctx(rec), "grad_norm: scratch of %llu bytes, %zu needed",
                              (unsigned long long)scratch.size, vkft_grad_norm_scratch_floats(count) * 4);
    for (uint32_t i = 0; i < count; i++) {
        push_optim p = {.n = n[i], .slot = i};
        /* Each buffer writes its own slice of partials, so these dispatches need no barrier between them. */
        vkft_binding b[] = {
            {grads[i], VKFT_READ},
            {vkft_buf_slice(scratch, (VkDeviceSize)i * NORM_GROUPS * 4, NORM_GROUPS * 4), VKFT_WRITE}};
        int k = vec4_ok(n[i], &grads[i], 1) ? K_NORM_PARTIAL4 : K_NORM_PARTIAL;
        uint32_t g = groups(rec, k, vkft_groups(n[i], NORM_PER_INVOCATION * (k == K_NORM_PARTIAL4 ? 4 : 1)));
        if (vkft_rec_dispatch(rec, &kernels[k], &p, g > NORM_GROUPS ? NORM_GROUPS : g, 1, 1, b, 2)) return -1;
    }
    push_optim p = {.n = count * NORM_GROUPS, .max_norm = max_norm};
    vkft_binding b[] = {{vkft_buf_slice(scratch, 0, (VkDeviceSize)count * NORM_GROUPS * 4), VKFT_READ},
                        {norm, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_NORM_FINAL], &p, 1, 1, 1, b, 2);
}

int vkft_clip_grads(vkft_recorder *rec, vkft_buf grads, uint32_t n, vkft_buf norm) {
    push_optim p = {.n = n};
    vkft_binding b[] = {{norm, VKFT_READ}, {grads, VKFT_READ_WRITE}};
    int k = vec4_ok(n, &grads, 1) ? K_CLIP4 : K_CLIP;
    return vkft_rec_dispatch(rec, &kernels[k], &p, groups(rec, k, n), 1, 1, b, 2);
}

int vkft_adamw_step(vkft_recorder *rec, vkft_buf params, vkft_buf grads, vkft_buf m, vkft_buf v, uint32_t n,
                    const vkft_adamw_hparams *hp, uint32_t step, vkft_buf norm) {
    if (step == 0) return vkft_set_error(vkft_rec_ctx(rec), "adamw_step: the step number starts at 1");
    double bc1 = 1.0 - pow(hp->beta1, step), bc2 = 1.0 - pow(hp->beta2, step);
    push_optim p = {.n = n,
                    .step = step,
                    .use_clip = norm.block != NULL,
                    .lr = hp->lr,
                    .beta1 = hp->beta1,
                    .beta2 = hp->beta2,
                    .eps = hp->eps,
                    .weight_decay = hp->weight_decay,
                    .step_size = (float)(hp->lr / bc1),
                    .sqrt_bc2 = (float)sqrt(bc2)};
    vkft_binding b[] = {{norm.block ? norm : grads, VKFT_READ},
                        {grads, VKFT_READ},
                        {params, VKFT_READ_WRITE},
                        {m, VKFT_READ_WRITE},
                        {v, VKFT_READ_WRITE}};
    vkft_buf all[] = {params, grads, m, v};
    int k = vec4_ok(n, all, 4) ? K_ADAMW4 : K_ADAMW;
    return vkft_rec_dispatch(rec, &kernels[k], &p, groups(rec, k, n), 1, 1, b, 5);
}

void vkft_adamw_hp_pack(const vkft_adamw_hparams *hp, uint32_t step, float out[VKFT_ADAMW_HP_FLOATS]) {
    double bc1 = 1.0 - pow(hp->beta1, step ? step : 1), bc2 = 1.0 - pow(hp->beta2, step ? step : 1);
    out[0] = hp->lr, out[1] = hp->beta1, out[2] = hp->beta2, out[3] = hp->eps, out[4] = hp->weight_decay;
    out[5] = (float)(hp->lr / bc1), out[6] = (float)sqrt(bc2), out[7] = (float)step;
}

int vkft_adamw_step_hp(vkft_recorder *rec, vkft_buf params, vkft_buf grads, vkft_buf m, vkft_buf v,
                       uint32_t n, vkft_buf hp, vkft_buf norm) {
    if (hp.size < VKFT_ADAMW_HP_FLOATS * 4)
        return vkft_set_error(vkft_rec_ctx(rec), "adamw_step_hp: the hyperparameter buffer needs %d bytes",
                              VKFT_ADAMW_HP_FLOATS * 4);
    push_optim p = {.n = n, .use_clip = norm.block != NULL};
    vkft_binding b[] = {{norm.block ? norm : grads, VKFT_READ},
                        {grads, VKFT_READ},
                        {params, VKFT_READ_WRITE},
                        {m, VKFT_READ_WRITE},
                        {v, VKFT_READ_WRITE},
                        {hp, VKFT_READ}};
    vkft_buf all[] = {params, grads, m, v};
    int k = vec4_ok(n, all, 4) ? K_ADAMW_HP4 : K_ADAMW_HP;
    return vkft_rec_dispatch(rec, &kernels[k], &p, groups(rec, k, n), 1, 1, b, 6);
}
