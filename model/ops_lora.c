#include "model/ops_lora.h"

#include "model/ops_basic.h"

/* ---- kernel table: the small kernels of DoRA and the adapter, with their push-constant mirrors ---- */

typedef struct { /* shaders/lora.comp */
    uint32_t rows, cols, inner, flags;
} push_lora;

typedef struct { /* shaders/adapter.comp */
    uint32_t rows, cols, act;
} push_adapter;

static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

/* Row kernels (one thread per output row or column) use small workgroups: there are few rows. */
static void spec_rows(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 64 ? caps->max_workgroup_invocations : 64;
}

enum { K_DORA_NORM, K_DORA_SCALE, K_DORA_DMAG, K_ACT_FWD, K_ACT_BWD, K_COUNT };
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_DORA_NORM] = {.name = "dora_norm",
                     .shader = "lora",
                     .push_size = sizeof(push_lora),
                     .spec = {0, 0},
                     .spec_count = 2,
                     .specialize = spec_rows},
    [K_DORA_SCALE] = {.name = "dora_scale",
                      .shader = "lora",
                      .push_size = sizeof(push_lora),
                      .spec = {0, 1},
                      .spec_count = 2,
                      .specialize = spec_elementwise},
    [K_DORA_DMAG] = {.name = "dora_magnitude_backward",
                     .shader = "lora",
                     .push_size = sizeof(push_lora),
                     .spec = {0, 2},
                     .spec_count = 2,
                     .specialize = spec_rows},
    [K_ACT_FWD] = {.name = "adapter_act_forward",
                   .shader = "adapter",
                   .push_size = sizeof(push_adapter),
                   .spec = {0, 0},
                   .spec_count = 2,
                   .specialize = spec_elementwise},
    [K_ACT_BWD] = {.name = "adapter_act_backward",
                   .shader = "adapter",
                   .push_size = sizeof(push_adapter),
                   .spec = {0, 1},
                   .spec_count = 2,
                   .specialize = spec_elementwise},
};

static uint32_t local_size(vkft_recorder *rec, int k) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), &kernels[k]);
    return p ? vkft_pipeline_spec(p)[0] : 1;
}

/* Enough workgroups for n items, one per thread, capped (the shaders loop over the rest). */
static uint32_t cover(vkft_recorder *rec, int k, uint64_t n) {
    uint32_t g = vkft_groups(n, local_size(rec, k));
    return g > 4096 ? 4096 : g ? g : 1;
}

static vkft_matmul_opts mm_opts(float alpha, float beta) {
    vkft_matmul_opts o = vkft_matmul_opts_default();
    o.alpha = alpha;
    o.beta = beta;
    return o;
}

static int check_dims(vkft_recorder *rec, const vkft_lora_dims *d) {
    if (!d->T || !d->in || !d->out || !d->r)
        return vkft_set_error(vkft_rec_ctx(rec), "lora: T, in, out and r must be positive (%u %u %u %u)",
                              d->T, d->in, d->out, d->r);
    return 0;
}

/* ---- LoRA ------------------------------------------------------------------------------------ */

int vkft_lora_forward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf bias,
                      vkft_buf A, vkft_buf B, vkft_buf h, vkft_buf y) {
    if (check_dims(rec, d)) return -1;
    vkft_matmul_opts base = mm_opts(1, 0), up = mm_opts(d->scale, 1);
    base.b_type = d->w_type;
    base.bias = bias;
    return vkft_matmul_nt(rec, x, A, h, d->T, d->r, d->in) ||                           /* h = x A^T  */
                   vkft_matmul(rec, VKFT_MM_NT, x, W, y, d->T, d->out, d->in, &base) || /* y = x W^T + b */
                   vkft_matmul(rec, VKFT_MM_NT, h, B, y, d->T, d->out, d->r, &up)       /* y += s h B^T */
               ? -1
               : 0;
}

int vkft_lora_backward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf A,
                       vkft_buf B, vkft_buf h, vkft_buf dy, vkft_buf dx, vkft_buf dA, vkft_buf dB,
                       vkft_buf dh) {
    if (check_dims(rec, d)) return -1;
    vkft_matmul_opts s = mm_opts(d->scale, 0), dxw = mm_opts(1, 0), acc = mm_opts(1, 1);
    dxw.b_type = d->w_type;
    if (vkft_matmul(rec, VKFT_MM_TN, dy, h, dB, d->out, d->r, d->T, &s) || /* dB = s dy^T h */
        vkft_matmul(rec, VKFT_MM_NN, dy, B, dh, d->T, d->r, d->out, &s) || /* dh = s dy B   */
        vkft_matmul_tn(rec, dh, x, dA, d->r, d->in, d->T))                 /* dA = dh^T x   */
        return -1;
    if (!dx.block) return 0;
    return vkft_matmul(rec, VKFT_MM_NN, dy, W, dx, d->T, d->in, d->out, &dxw) ||    /* dx = dy W   */
                   vkft_matmul(rec, VKFT_MM_NN, dh, A, dx, d->T, d->in, d->r, &acc) /* dx += dh A */
               ? -1
               : 0;
}

/* ---- bottleneck adapter ------------------------------------------------------------------------ */

/* Workspace parts start 256 bytes apart at least (every device's storage-buffer offset alignment). */
static uint64_t part(uint64_t floats) { return (floats + 63) / 64 * 64; }

uint64_t vkft_adapter_workspace_floats(const vkft_adapter_dims *d) {
    return 2 * part((uint64_t)d->T * d->r) + part(d->T);
}

int vkft_adapter_forward(vkft_recorder *rec, const vkft_adapter_dims *d, vkft_buf h, vkft_buf Wd, vkft_buf bd,
                         vkft_buf Wu, vkft_buf bu, vkft_buf z, vkft_buf a, vkft_buf y) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (!d->T || !d->C || !d->r || (d->act != VKFT_ADAPTER_RELU && d->act != VKFT_ADAPTER_GELU))
        return vkft_set_error(ctx, "adapter: bad dimensions or activation (T %u, C %u, r %u, act %d)", d->T,
                              d->C, d->r, d->act);
    vkft_matmul_opts down = mm_opts(1, 0), up = mm_opts(1, 1);
    down.bias = bd;
    up.bias = bu;
    if (vkft_matmul(rec, VKFT_MM_NT, h, Wd, z, d->T, d->r, d->C, &down)) return -1; /* z = h Wd^T + bd */
    push_adapter p = {d->T, d->r, (uint32_t)d->act};
    vkft_binding b[] = {{z, VKFT_READ}, {z, VKFT_READ}, {a, VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, &kernels[K_ACT_FWD], &p, cover(rec, K_ACT_FWD, (uint64_t)d->T * d->r), 1, 1, b,
                          3))
        return -1;
    if (vkft_rec_copy(rec, h, y, (VkDeviceSize)d->T * d->C * 4)) return -1;        /* y = h */
    return vkft_matmul(rec, VKFT_MM_NT, a, Wu, y, d->T, d->C, d->r, &up) ? -1 : 0; /* y += a Wu^T + bu */
}

int vkft_adapter_backward(vkft_recorder *rec, const vkft_adapter_dims *d, vkft_buf h, vkft_buf Wd,
                          vkft_buf Wu, vkft_buf z, vkft_buf a, vkft_buf dy, vkft_buf dh, vkft_buf dWd,
                          vkft_buf dbd, vkft_buf dWu, vkft_buf dbu, vkft_buf work) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    uint64_t tr = (uint64_t)d->T * d->r;
    if (work.size < vkft_adapter_workspace_floats(d) * 4)
        return vkft_set_error(ctx, "adapter backward: the workspace holds %llu bytes, %llu needed",
                              (unsigned long long)work.size,
                              (unsigned long long)vkft_adapter_workspace_floats(d) * 4);
    vkft_buf da = vkft_buf_slice(work, 0, tr * 4), dz = vkft_buf_slice(work, part(tr) * 4, tr * 4);
    vkft_buf ones = vkft_buf_slice(work, 2 * part(tr) * 4, (uint64_t)d->T * 4);
    vkft_matmul_opts acc = mm_opts(1, 1);
    if (vkft_fill_f32(rec, ones, d->T, 1.0f) ||
        vkft_matmul_tn(rec, dy, a, dWu, d->C, d->r, d->T) || /* dWu = dy^T a        */
        vkft_matmul_nn(rec, ones, dy, dbu, 1, d->C, d->T) || /* dbu = 1^T dy        */
        vkft_matmul_nn(rec, dy, Wu, da, d->T, d->r, d->C))   /* da = dy Wu          */
        return -1;
    push_adapter p = {d->T, d->r, (uint32_t)d->act};
    vkft_binding b[] = {{z, VKFT_READ}, {da, VKFT_READ}, {dz, VKFT_WRITE}}; /* dz = da * act'(z) */
    if (vkft_rec_dispatch(rec, &kernels[K_ACT_BWD], &p, cover(rec, K_ACT_BWD, tr), 1, 1, b, 3)) return -1;
    return vkft_matmul_tn(rec, dz, h, dWd, d->r, d->C, d->T) ||         /* dWd = dz^T h  */
                   vkft_matmul_nn(rec, ones, dz, dbd, 1, d->r, d->T) || /* dbd = 1^T dz  */
                   vkft_rec_copy(rec, dy, dh, (VkDeviceSize)d->T * d->C * 4) ||
                   vkft_matmul(rec, VKFT_MM_NN, dz, Wd, dh, d->T, d->C, d->r, &acc) /* dh = dy + dz Wd */
               ? -1
               : 0;
}

/* ---- DoRA ------------------------------------------------------------------------------------ */

uint64_t vkft_dora_workspace_floats(const vkft_lora_dims *d) {
    uint64_t fwd = part((uint64_t)d->out * d->r) + part((uint64_t)d->r * d->r), bwd = (uint64_t)d->T * d->out;
    return fwd > bwd ? fwd : bwd;
}

static int dora_check(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf work) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (check_dims(rec, d)) return -1;
    if (d->w_type != VKFT_MM_B_F32)
        return vkft_set_error(ctx, "dora: the frozen weight must be fp32 (for its norms)");
    if (work.size < vkft_dora_workspace_floats(d) * 4)
        return vkft_set_error(ctx, "dora: the workspace holds %llu bytes, %llu needed",
                              (unsigned long long)work.size,
                              (unsigned long long)vkft_dora_workspace_floats(d) * 4);
    return 0;
}

int vkft_dora_forward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf bias,
                      vkft_buf A, vkft_buf B, vkft_buf m, vkft_buf h, vkft_buf u, vkft_buf g, vkft_buf n,
                      vkft_buf y, vkft_buf work) {
    if (dora_check(rec, d, work)) return -1;
    float s = d->scale;
    vkft_buf R = vkft_buf_slice(work, 0, (uint64_t)d->out * d->r * 4);
    vkft_buf G = vkft_buf_slice(work, part((uint64_t)d->out * d->r) * 4, (uint64_t)d->r * d->r * 4);
    vkft_matmul_opts two_s = mm_opts(2 * s, 0), s2 = mm_opts(s * s, 1);
    /* norms: n_o^2 = ||W_o||^2 + B_o . R_o, R = 2s W A^T + s^2 B (A A^T) */
    if (vkft_matmul_nt(rec, A, A, G, d->r, d->r, d->in) ||
        vkft_matmul(rec, VKFT_MM_NT, W, A, R, d->out, d->r, d->in, &two_s) ||
        vkft_matmul(rec, VKFT_MM_NN, B, G, R, d->out, d->r, d->r, &s2))
        return -1;
    push_lora pn = {d->out, d->r, d->in, 0};
    vkft_binding bn[] = {{W, VKFT_READ}, {B, VKFT_READ},  {R, VKFT_READ},
                         {m, VKFT_READ}, {g, VKFT_WRITE}, {n, VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, &kernels[K_DORA_NORM], &pn, cover(rec, K_DORA_NORM, d->out), 1, 1, bn, 6))
        return -1;
    /* u = x W^T + s h B^T (the LoRA forward without bias), then y = g * u + bias */
    vkft_buf none = {0};
    if (vkft_lora_forward(rec, d, x, W, none, A, B, h, u)) return -1;
    push_lora ps = {d->T, d->out, 0, bias.block ? 1u : 0u};
    vkft_binding bs[] = {{u, VKFT_READ}, {g, VKFT_READ},  {bias.block ? bias : g, VKFT_READ},
                         {g, VKFT_READ}, {y, VKFT_WRITE}, {y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_DORA_SCALE], &ps,
                             cover(rec, K_DORA_SCALE, (uint64_t)d->T * d->out), 1, 1, bs, 6);
}

int vkft_dora_backward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf A,
                       vkft_buf B, vkft_buf h, vkft_buf u, vkft_buf g, vkft_buf n, vkft_buf dy, vkft_buf dx,
                       vkft_buf dA, vkft_buf dB, vkft_buf dm, vkft_buf dh, vkft_buf work) {
    if (dora_check(rec, d, work)) return -1;
    vkft_buf du = vkft_buf_slice(work, 0, (uint64_t)d->T * d->out * 4);
    push_lora pm = {d->T, d->out, 0, 0};
    vkft_binding bm[] = {{dy, VKFT_READ}, {u, VKFT_READ},   {n, VKFT_READ},
                         {n, VKFT_READ},  {dm, VKFT_WRITE}, {dm, VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, &kernels[K_DORA_DMAG], &pm, cover(rec, K_DORA_DMAG, d->out), 1, 1, bm, 6))
        return -1;
    push_lora ps = {d->T, d->out, 0, 0}; /* du = g * dy */
    vkft_binding bs[] = {{dy, VKFT_READ}, {g, VKFT_READ},   {g, VKFT_READ},
                         {g, VKFT_READ},  {du, VKFT_WRITE}, {du, VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, &kernels[K_DORA_SCALE], &ps, cover(rec, K_DORA_SCALE, (uint64_t)d->T * d->out),
                          1, 1, bs, 6))
        return -1;
    return vkft_lora_backward(rec, d, x, W, A, B, h, du, dx, dA, dB, dh);
}
