#include "model/ops_attention.h"

#include "model/ops_attention_scores.h"

#include <math.h>

/* ---- kernel table: one row per kernel and head dim, with the C mirror of the push-constant block - */

/* shaders/common/attention.glsl: Push */
typedef struct {
    uint32_t B, T, H, Hkv;
    uint32_t has_lengths, causal;
    float scale;
} push_attention;

/* Specialization constants: 0 workgroup size (rows per workgroup), 1 head dim D (set by the row),
 * 2 keys per online-softmax step in the forward. Each invocation keeps 2 to 4 rows of D floats in
 * registers; no shared memory is used, so the limits that matter are the invocation count and, on
 * GPUs, registers: 64 rows per workgroup (two subgroups of 32, eight of lavapipe's 8 lanes), fewer for
 * large D where a GPU would spill. */
static void spec_attention(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t wg = spec[1] > 64 ? 32 : 64;
    uint32_t sg = caps->subgroup_size ? caps->subgroup_size : 32;
    if (wg < sg) wg = sg;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    spec[0] = wg;
    spec[2] = 16;
}

/* One row per kernel: name, shader, head dim, specialize callback, specialization count. */
// clang-format off
#define ATTN_ROW(kname, kshader, Dv, fn, n)                                                            \
    {.name = kname, .shader = kshader, .push_size = sizeof(push_attention), .spec = {0, Dv, 16, 8, 4},     \
     .spec_count = n, .specialize = fn}
#define ATTN_ROWS(Dv)                                                                                  \
    ATTN_ROW("attention_forward_d" #Dv, "attention_forward", Dv, spec_attention, 3),                   \
    ATTN_ROW("attention_backward_dq_d" #Dv, "attention_backward_dq", Dv, spec_attention, 3),           \
    ATTN_ROW("attention_backward_dkdv_d" #Dv, "attention_backward_dkdv", Dv, spec_attention, 3)
// clang-format on

/* The subgroup-shaped kernels (shaders/attention_sg_*.comp, shaped for lavapipe like the matmul): a
 * workgroup is one subgroup; spec 3 = TM, spec 4 = TN (common/attention_sg.glsl). Used when D is a multiple
 * of 4 x the subgroup size (32, 64, 96, 128 with lavapipe's 8 lanes). */
static void spec_attention_sg(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->subgroup_size ? caps->subgroup_size : 32;
    spec[3] = 8; /* TM: rows a workgroup owns */
    spec[4] = 4; /* TN: streamed rows per lane per step */
}

// clang-format off
#define ATTN_SG_ROWS(Dv)                                                                                     \
    ATTN_ROW("attention_sg_forward_d" #Dv, "attention_sg_forward", Dv, spec_attention_sg, 5),                \
    ATTN_ROW("attention_sg_backward_dq_d" #Dv, "attention_sg_backward_dq", Dv, spec_attention_sg, 5),        \
    ATTN_ROW("attention_sg_backward_dkdv_d" #Dv, "attention_sg_backward_dkdv", Dv, spec_attention_sg, 5)
// clang-format on

enum { K_FORWARD, K_BACKWARD_DQ, K_BACKWARD_DKDV, K_PER_DIM };
static const uint32_t head_dims[] = {8, 16, 32, 48, 64, 80, 96, 128};
enum { N_DIMS = sizeof head_dims / sizeof head_dims[0] };
static const vkft_kernel_def kernels[N_DIMS * K_PER_DIM] = {
    ATTN_ROWS(8),  ATTN_ROWS(16), ATTN_ROWS(32), ATTN_ROWS(48),
    ATTN_ROWS(64), ATTN_ROWS(80), ATTN_ROWS(96), ATTN_ROWS(128),
};

static const uint32_t sg_head_dims[] = {32, 64, 96, 128};
enum { N_SG_DIMS = sizeof sg_head_dims / sizeof sg_head_dims[0] };
static const vkft_kernel_def sg_kernels[N_SG_DIMS * K_PER_DIM] = {
    ATTN_SG_ROWS(32),
    ATTN_SG_ROWS(64),
    ATTN_SG_ROWS(96),
    ATTN_SG_ROWS(128),
};

int vkft_attention_supports_head_dim(uint32_t D) {
    for (int i = 0; i < N_DIMS; i++)
        if (head_dims[i] == D) return 1;
    return 0;
}

static const vkft_kernel_def *kernel_for(uint32_t D, int which) {
    for (int i = 0; i < N_DIMS; i++)
        if (head_dims[i] == D) return &kernels[i * K_PER_DIM + which];
    return NULL;
}

/* The subgroup-shaped kernel when D splits into 4-wide groups over the subgroup and the subgroup size is
 * fixed (a workgroup of subgroup_size invocations is then exactly one subgroup: lavapipe, NVIDIA), else
 * the plain one (also for devices whose compiler may pick another subgroup size, e.g. AMD, Intel). */
static const vkft_kernel_def *kernel_for_device(vkft_recorder *rec, uint32_t D, int which, int plain) {
    const vkft_device_caps *caps = vkft_device(vkft_rec_ctx(rec));
    if (plain || !caps || !caps->subgroup_size) return kernel_for(D, which);
    uint32_t sg = caps->subgroup_size;
    int fixed = caps->subgroup_size_min == sg && caps->subgroup_size_max == sg;
    int has_ops = (caps->subgroup_ops & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                  (caps->subgroup_ops & VK_SUBGROUP_FEATURE_BALLOT_BIT);
    if (fixed && has_ops && D % (4 * sg) == 0)
        for (int i = 0; i < N_SG_DIMS; i++)
            if (sg_head_dims[i] == D) return &sg_kernels[i * K_PER_DIM + which];
    return kernel_for(D, which);
}

static int is_sg(const vkft_kernel_def *k) {
    return k >= sg_kernels && k < sg_kernels + N_SG_DIMS * K_PER_DIM;
}

/* Rows (queries, or keys for dK/dV) one workgroup owns: the workgroup size for the plain kernels,
 * specialization constant 3 for the subgroup-shaped ones (1 if the pipeline cannot be created: the
 * dispatch then reports the error). */
static uint32_t rows_per_group(vkft_recorder *rec, const vkft_kernel_def *k) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), k);
    if (!p) return 1;
    return is_sg(k) ? vkft_pipeline_spec(p)[3] : vkft_pipeline_spec(p)[0];
}

/* Checks the sizes and fills the push constants; returns 0 or -1 with the error set. */
static int prepare(vkft_recorder *rec, const char *what, const vkft_attention_dims *d,
                   const vkft_buf *lengths, push_attention *p) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (!d->B || !d->T || !d->H || !d->Hkv || !d->D)
        return vkft_set_error(ctx, "%s: every size must be positive (B=%u T=%u H=%u Hkv=%u D=%u)", what, d->B,
                              d->T, d->H, d->Hkv, d->D);
    if (d->H % d->Hkv)
        return vkft_set_error(ctx, "%s: H=%u query heads is not a multiple of Hkv=%u kv heads", what, d->H,
                              d->Hkv);
    if (!vkft_attention_supports_head_dim(d->D))
        return vkft_set_error(ctx, "%s: head dim D=%u has no kernel (supported: 8 16 32 48 64 80 96 128)",
                              what, d->D);
    if (d->H > 65535 || d->B > 65535)
        return vkft_set_error(ctx, "%s: H=%u or B=%u exceeds 65535 workgroups", what, d->H, d->B);
    uint64_t elems = (uint64_t)d->B * d->T * d->H * d->D;
    if (elems >= (1ull << 32))
        return vkft_set_error(ctx, "%s: B*T*H*D = %llu exceeds 32-bit indexing", what,
                              (unsigned long long)elems);
    if (lengths && lengths->size < (VkDeviceSize)d->B * 4)
        return vkft_set_error(ctx, "%s: lengths holds %llu bytes, needs B*4 = %u", what,
                              (unsigned long long)lengths->size, d->B * 4);
    *p = (push_attention){d->B,
                          d->T,
                          d->H,
                          d->Hkv,
                          lengths ? 1u : 0u,
                          d->causal ? 1u : 0u,
                          d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->D)};
    return 0;
}

static int attention_forward(vkft_recorder *rec, int plain, const vkft_attention_dims *dims, vkft_buf out,
                             vkft_buf lse, vkft_buf q, vkft_buf k, vkft_buf v, const vkft_buf *lengths) {
    push_attention p;
    if (prepare(rec, "attention_forward", dims, lengths, &p)) return -1;
    const vkft_kernel_def *kd = kernel_for_device(rec, dims->D, K_FORWARD, plain);
    /* Without lengths, q is bound in their place (the shader does not read it). */
    vkft_binding b[] = {{q, VKFT_READ},    {k, VKFT_READ},
                        {v, VKFT_READ},    {lengths ? *lengths : q, VKFT_READ},
                        {out, VKFT_WRITE}, {lse, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, kd, &p, vkft_groups(dims->T, rows_per_group(rec, kd)), dims->H, dims->B, b,
                             6);
}

static int attention_backward(vkft_recorder *rec, int plain, const vkft_attention_dims *dims, vkft_buf dq,
                              vkft_buf dk, vkft_buf dv, vkft_buf delta, vkft_buf dout, vkft_buf q, vkft_buf k,
                              vkft_buf v, vkft_buf out, vkft_buf lse, const vkft_buf *lengths) {
    push_attention p;
    if (prepare(rec, "attention_backward", dims, lengths, &p)) return -1;
    const vkft_kernel_def *kq = kernel_for_device(rec, dims->D, K_BACKWARD_DQ, plain);
    const vkft_kernel_def *kkv = kernel_for_device(rec, dims->D, K_BACKWARD_DKDV, plain);
    vkft_buf len = lengths ? *lengths : q;
    vkft_binding b1[] = {{q, VKFT_READ},    {k, VKFT_READ},   {v, VKFT_READ},
                         {len, VKFT_READ},  {out, VKFT_READ}, {lse, VKFT_READ},
                         {dout, VKFT_READ}, {dq, VKFT_WRITE}, {delta, VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, kq, &p, vkft_groups(dims->T, rows_per_group(rec, kq)), dims->H, dims->B, b1,
                          9))
        return -1;
    vkft_binding b2[] = {{q, VKFT_READ},    {k, VKFT_READ},   {v, VKFT_READ},
                         {len, VKFT_READ},  {lse, VKFT_READ}, {delta, VKFT_READ},
                         {dout, VKFT_READ}, {dk, VKFT_WRITE}, {dv, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, kkv, &p, vkft_groups(dims->T, rows_per_group(rec, kkv)), dims->Hkv, dims->B,
                             b2, 9);
}

int vkft_attention_forward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf out, vkft_buf lse,
                           vkft_buf q, vkft_buf k, vkft_buf v, const vkft_buf *lengths) {
    push_attention p;
    if (dims->scratch.block)
        return prepare(rec, "attention_forward", dims, lengths, &p) ||
                       vkft_attention_scores_forward(rec, dims, out, lse, q, k, v, lengths, dims->scratch)
                   ? -1
                   : 0;
    return attention_forward(rec, 0, dims, out, lse, q, k, v, lengths);
}

int vkft_attention_backward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf dq, vkft_buf dk,
                            vkft_buf dv, vkft_buf delta, vkft_buf dout, vkft_buf q, vkft_buf k, vkft_buf v,
                            vkft_buf out, vkft_buf lse, const vkft_buf *lengths) {
    push_attention p;
    if (dims->scratch.block)
        return prepare(rec, "attention_backward", dims, lengths, &p) ||
                       vkft_attention_scores_backward(rec, dims, dq, dk, dv, delta, dout, q, k, v, out, lse,
                                                      lengths, dims->scratch)
                   ? -1
                   : 0;
    return attention_backward(rec, 0, dims, dq, dk, dv, delta, dout, q, k, v, out, lse, lengths);
}

int vkft_attention_forward_plain(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf out,
                                 vkft_buf lse, vkft_buf q, vkft_buf k, vkft_buf v, const vkft_buf *lengths) {
    return attention_forward(rec, 1, dims, out, lse, q, k, v, lengths);
}

int vkft_attention_backward_plain(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf dq,
                                  vkft_buf dk, vkft_buf dv, vkft_buf delta, vkft_buf dout, vkft_buf q,
                                  vkft_buf k, vkft_buf v, vkft_buf out, vkft_buf lse,
                                  const vkft_buf *lengths) {
    return attention_backward(rec, 1, dims, dq, dk, dv, delta, dout, q, k, v, out, lse, lengths);
}

/* Visible (query, key) pairs per head and sequence, assuming no padding. */
static double attention_pairs(const vkft_attention_dims *d) {
    double T = d->T;
    return d->causal ? T * (T + 1) / 2 : T * T;
}

double vkft_attention_forward_flops(const vkft_attention_dims *d) {
    /* q.k and p.v: 2 multiply-adds of length D per pair */
    return 4.0 * d->D * attention_pairs(d) * d->H * d->B;
}

double vkft_attention_backward_flops(const vkft_attention_dims *d) {
    /* the usual count: recompute q.k, then dO.v, dS.k (dQ), dS.q (dK), p.dO (dV): 5 products */
    return 10.0 * d->D * attention_pairs(d) * d->H * d->B;
}
