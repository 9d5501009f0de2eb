#include "model/ops_matmul.h"

#include <string.h>

/* ---- kernel table: one row per (path, form, B type), with the C mirror of the push constants ----- */

/* shaders/common/matmul_common.glsl, block Push */
typedef struct {
    uint32_t M, N, K;
    uint32_t lda, ldb, ldc;
    uint32_t stride_a, stride_b, stride_c;
    uint32_t flags; /* 1: bias, 2: read C (beta) */
    float alpha, beta;
} push_matmul;

enum { FLAG_BIAS = 1, FLAG_BETA = 2, FLAG_CAUSAL = 4 };

/* Specialization constants. matmul.comp: 0 workgroup (= subgroup) size, 1 form, 2 TM, 3 TN, 4 A_WIDE.
 * matmul_tiled.comp: 0 workgroup size, 1 form, 2 BM, 3 BN, 4 BK, 5 TM, 6 TN.
 * matmul_coopmat.comp: 0 workgroup size, 1 form, 2 BM, 3 BN, 4 BK, 5 subgroup size. */
enum { LP_TM = 2, LP_TN = 3 };
enum { T_BM = 2, T_BN = 3, T_BK = 4, T_TM = 5, T_TN = 6 };
enum { CM_BM = 2, CM_BN = 3, CM_BK = 4, CM_SG = 5 };

/* lavapipe: one subgroup per workgroup, 32 rows x 4 columns per lane (measured best of 4..32 x 4..16 on a
 * 2-core AVX-512 machine, about 15% ahead of 16 x 4; see docs/benchmarks.md). */
static void spec_cpu(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->subgroup_size ? caps->subgroup_size : 8;
}

/* GPUs: 128x128 blocks of 8x8 per thread (256 threads) where the limits allow, else 64x64 of 4x4, else
 * 32x32 of 4x4 (64 threads). Shared memory: BK * (BM + BN + 8) floats. */
static void tiles_for_gpu(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t bm = 128, t = 8, bk = 16;
    if (caps->max_workgroup_invocations < 256 || caps->shared_memory < bk * (2 * bm + 8) * 4) bm = 64, t = 4;
    if (caps->max_workgroup_invocations < 256 || caps->shared_memory < bk * (2 * bm + 8) * 4) bm = 32, t = 4;
    spec[T_BM] = spec[T_BN] = bm;
    spec[T_BK] = bk;
    spec[T_TM] = spec[T_TN] = t;
    spec[0] = (bm / t) * (bm / t);
}

static void spec_tiled(const vkft_device_caps *caps, uint32_t *spec) {
    tiles_for_gpu(caps, spec);
    /* CPU drivers run this kernel only when forced (tests): small tiles keep its compile time short */
    if (caps->vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        spec[T_BM] = spec[T_BN] = 32;
        spec[T_BK] = 8;
        spec[T_TM] = spec[T_TN] = 4;
        spec[0] = 64;
    }
}

/* Cooperative matrices: 8 subgroups (of 32 where the device can be asked for it) on a 128x128 block,
 * K slices of 32 staged through shared memory. */
static void spec_coopmat(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t sg = caps->subgroup_size;
    if (caps->subgroup_size_control && caps->subgroup_size_min <= 32 && caps->subgroup_size_max >= 32)
        sg = 32;
    spec[CM_BM] = 128;
    spec[CM_BN] = 128;
    spec[CM_BK] = 32;
    spec[CM_SG] = sg;
    spec[0] = 8 * sg;
}

#define ROW_CPU(form, F, bt, variant)                                                                        \
    {                                                                                                        \
        .name = "matmul_" form "_" bt "_lp", .shader = "matmul", .variants = {variant},                      \
        .push_size = sizeof(push_matmul), .spec = {8, F, 32, 4}, .spec_count = 4, .specialize = spec_cpu     \
    }
#define ROW_TILED(form, F, bt, variant)                                                                      \
    {                                                                                                        \
        .name = "matmul_" form "_" bt, .shader = "matmul_tiled", .variants = {variant},                      \
        .push_size = sizeof(push_matmul), .spec = {256, F, 64, 64, 16, 4, 4}, .spec_count = 7,               \
        .specialize = spec_tiled                                                                             \
    }
#define ROW_CM(form, F, bt, variant)                                                                         \
    {                                                                                                        \
        .name = "matmul_" form "_" bt "_cm", .shader = "matmul_coopmat", .variants = {variant},              \
        .push_size = sizeof(push_matmul), .spec = {256, F, 128, 128, 32, 32}, .spec_count = 6,               \
        .specialize = spec_coopmat, .required_subgroup_size = 32                                             \
    }
#define ROWS(R, form, F) R(form, F, "f32", "f32"), R(form, F, "f16", "f16"), R(form, F, "bf16", "bf16")
#define ROWS_CM(form, F)                                                                                     \
    ROW_CM(form, F, "f32", "coopmat"), ROW_CM(form, F, "f16", "coopmat_f16"),                                \
        ROW_CM(form, F, "bf16", "coopmat_bf16")

/* Index: ((path - 1) * 3 + form) * 3 + b_type */
static const vkft_kernel_def kernels[27] = {
    ROWS(ROW_CPU, "nn", 0),   ROWS(ROW_CPU, "nt", 1),   ROWS(ROW_CPU, "tn", 2),
    ROWS(ROW_TILED, "nn", 0), ROWS(ROW_TILED, "nt", 1), ROWS(ROW_TILED, "tn", 2),
    ROWS_CM("nn", 0),         ROWS_CM("nt", 1),         ROWS_CM("tn", 2),
};

/* lavapipe, fp32 B, C narrower than a workgroup's 4 columns per lane or shorter than its 32 rows (LoRA's
 * x A^T, d(xA^T) and dA at r = 16): 16 rows x 2 columns per lane, so that such blocks take the interior
 * path instead of the clamped edge path (about 3x faster there). */
#define ROW_CPU_NARROW(form, F)                                                                              \
    {                                                                                                        \
        .name = "matmul_" form "_f32_lp_narrow", .shader = "matmul", .variants = {"f32"},                    \
        .push_size = sizeof(push_matmul), .spec = {8, F, 16, 2}, .spec_count = 4, .specialize = spec_cpu     \
    }
static const vkft_kernel_def kernels_cpu_narrow[3] = {ROW_CPU_NARROW("nn", 0), ROW_CPU_NARROW("nt", 1),
                                                      ROW_CPU_NARROW("tn", 2)};

/* lavapipe, A with an odd row stride (or batch stride): A read 32 bits at a time (spec 4 A_WIDE = 0), so
 * that whole blocks still take the interior path (GPT-2's head: dlogits rows of 50257 floats). */
#define ROW_CPU_A32(form, F, bt, variant)                                                                    \
    {                                                                                                        \
        .name = "matmul_" form "_" bt "_lp_a32", .shader = "matmul", .variants = {variant},                  \
        .push_size = sizeof(push_matmul), .spec = {8, F, 32, 4, 0}, .spec_count = 5, .specialize = spec_cpu  \
    }
/* Index: form * 3 + b_type */
static const vkft_kernel_def kernels_cpu_a32[9] = {ROWS(ROW_CPU_A32, "nn", 0), ROWS(ROW_CPU_A32, "nt", 1),
                                                   ROWS(ROW_CPU_A32, "tn", 2)};

/* lavapipe, fp32 B, A and B in whole 16-byte texels (row and batch strides multiples of 4 elements): A and B
 * of whole blocks read through uniform texel buffers, about 1.2x the rate of the storage-buffer loads. */
#define ROW_CPU_TEX(form, F)                                                                                 \
    {                                                                                                        \
        .name = "matmul_" form "_f32_lp_tex", .shader = "matmul", .variants = {"f32tex"},                    \
        .push_size = sizeof(push_matmul), .spec = {8, F, 32, 4}, .spec_count = 4, .specialize = spec_cpu     \
    }
static const vkft_kernel_def kernels_cpu_tex[3] = {ROW_CPU_TEX("nn", 0), ROW_CPU_TEX("nt", 1),
                                                   ROW_CPU_TEX("tn", 2)};

/* The tiled kernel with the tile sizes a GPU gets, whatever the device (vkft_matmul_opts.gpu_tiles). */
#define ROW_GPU_TILES(form, F)                                                                               \
    {                                                                                                        \
        .name = "matmul_" form "_f32_gputiles", .shader = "matmul_tiled", .variants = {"f32"},               \
        .push_size = sizeof(push_matmul), .spec = {256, F, 64, 64, 16, 4, 4}, .spec_count = 7,               \
        .specialize = tiles_for_gpu                                                                          \
    }
static const vkft_kernel_def kernels_gpu_tiles[3] = {ROW_GPU_TILES("nn", 0), ROW_GPU_TILES("nt", 1),
                                                     ROW_GPU_TILES("tn", 2)};

/* Whether the texel-buffer kernel can take a product: rows and batch items of A and B at multiples of 4
 * elements (whole texels), views within the device's texel count, and blocks its loads cover (32 rows:
 * subgroups of at most 8). */
static int texel_fits(const vkft_device_caps *caps, uint32_t sg, uint32_t lda, uint32_t ldb, uint32_t batch,
                      const vkft_matmul_opts *o, vkft_buf A, vkft_buf B) {
    if (sg > 8 || 32 % (4 * sg) || lda % 4 || ldb % 4) return 0;
    if (batch > 1 && (o->stride_a % 4 || o->stride_b % 4)) return 0;
    uint64_t most = (uint64_t)caps->max_texel_buffer_elements * 16;
    return A.size >= 16 && B.size >= 16 && A.size + 15 <= most && B.size + 15 <= most;
}

const vkft_kernel_def *vkft_matmul_kernel(vkft_mm_path path, vkft_mm_form form, vkft_mm_btype b_type) {
    if (path < VKFT_MM_SIMT_CPU || path > VKFT_MM_COOPMAT || (unsigned)form > 2 || (unsigned)b_type > 2)
        return NULL;
    return &kernels[((path - 1) * 3 + form) * 3 + b_type];
}

const char *vkft_matmul_path_name(vkft_mm_path path) {
    switch (path) {
    case VKFT_MM_AUTO: return "auto";
    case VKFT_MM_SIMT_CPU: return "simt-cpu";
    case VKFT_MM_SIMT_TILED: return "simt-tiled";
    case VKFT_MM_COOPMAT: return "coopmat";
    }
    return "?";
}

static int has_coopmat_shape(const vkft_device_caps *caps, const char *type) {
    if (!caps->coopmat) return 0;
    for (uint32_t i = 0; i < caps->coopmat_shape_count; i++) {
        const vkft_coopmat_shape *s = &caps->coopmat_shapes[i];
        if (s->M == 16 && s->N == 16 && s->K == 16 && s->subgroup_scope && !strcmp(s->a_type, type) &&
            !strcmp(s->b_type, type) && !strcmp(s->c_type, "f32") && !strcmp(s->result_type, "f32"))
            return 1;
    }
    return 0;
}

vkft_mm_path vkft_matmul_path_for(vkft_ctx *ctx, vkft_mm_btype b_type) {
    const vkft_device_caps *caps = vkft_device(ctx);
    if (b_type != VKFT_MM_B_F32 && has_coopmat_shape(caps, b_type == VKFT_MM_B_BF16 ? "bf16" : "f16") &&
        vkft_pipeline_get(ctx, vkft_matmul_kernel(VKFT_MM_COOPMAT, VKFT_MM_NN, b_type)))
        return VKFT_MM_COOPMAT;
    /* the lavapipe-shaped kernel reads 64-bit words (shaderInt64) */
    return caps->vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU && caps->int64 ? VKFT_MM_SIMT_CPU
                                                                       : VKFT_MM_SIMT_TILED;
}

vkft_matmul_opts vkft_matmul_opts_default(void) {
    vkft_matmul_opts o;
    memset(&o, 0, sizeof o);
    o.alpha = 1.0f;
    return o;
}

/* Workgroups of the dispatch for C of M x N: (columns, rows) of blocks. */
static void grid(const vkft_pipeline *pl, vkft_mm_path path, uint32_t M, uint32_t N, uint32_t *gx,
                 uint32_t *gy) {
    const uint32_t *s = vkft_pipeline_spec(pl);
    if (path == VKFT_MM_SIMT_CPU) {
        *gx = vkft_groups(N, s[0] * s[LP_TN]);
        *gy = vkft_groups(M, s[LP_TM]);
    } else if (path == VKFT_MM_SIMT_TILED) {
        *gx = vkft_groups(N, s[T_BN]);
        *gy = vkft_groups(M, s[T_BM]);
    } else {
        *gx = vkft_groups(N, s[CM_BN]);
        *gy = vkft_groups(M, s[CM_BM]);
    }
}

/* CPU devices: the longest K one dispatch takes. A longer product is a sum over chunks of K (each C += a
 * chunk's product), so that a block's rows of A and B stay in the caches: on lavapipe, 4096x768 with
 * K = 6144 went from 69 / 72 / 57 to 81 / 86 / 88 GFLOP/s (NN / NT / TN), the LM head's dh (320 x 768,
 * K = 8192) from 65 to 79. */
#define K_CHUNK_CPU 1024u

/* Chunks of K of equal size (a multiple of 4), or 0 where a chunk's views would not start 16-byte aligned. */
static uint32_t k_chunk(vkft_mm_form form, uint32_t K, uint32_t lda, uint32_t ldb, uint64_t b_size) {
    uint32_t n = (K + K_CHUNK_CPU - 1) / K_CHUNK_CPU, chunk = ((K + n - 1) / n + 3) / 4 * 4;
    uint64_t step_a = form == VKFT_MM_TN ? lda : 1, step_b = form == VKFT_MM_NT ? 1 : ldb;
    return (chunk * step_a * 4) % 16 || (chunk * step_b * b_size) % 16 ? 0 : chunk;
}

/* C = alpha A0.B0 + bias + beta C, then C += alpha Ai.Bi for the other chunks of K, one dispatch each. */
static int matmul_k_chunks(vkft_recorder *rec, vkft_mm_form form, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M,
                           uint32_t N, uint32_t K, uint32_t chunk, const vkft_matmul_opts *first) {
    uint64_t b_size = first->b_type == VKFT_MM_B_F32 ? 4 : 2;
    uint64_t step_a = form == VKFT_MM_TN ? first->lda : 1, step_b = form == VKFT_MM_NT ? 1 : first->ldb;
    vkft_matmul_opts o = *first;
    for (uint32_t k0 = 0; k0 < K; k0 += chunk) {
        VkDeviceSize oa = k0 * step_a * 4, ob = k0 * step_b * b_size;
        if (vkft_matmul(rec, form, vkft_buf_slice(A, oa, A.size - oa), vkft_buf_slice(B, ob, B.size - ob), C, M,
                        N, K - k0 < chunk ? K - k0 : chunk, &o))
            return -1;
        o.beta = 1.0f;
        o.bias = (vkft_buf){0};
    }
    return 0;
}

int vkft_matmul(vkft_recorder *rec, vkft_mm_form form, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M,
                uint32_t N, uint32_t K, const vkft_matmul_opts *opts) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    vkft_matmul_opts o = opts ? *opts : vkft_matmul_opts_default();
    if ((unsigned)form > 2 || (unsigned)o.b_type > 2 || (unsigned)o.path > VKFT_MM_COOPMAT)
        return vkft_set_error(ctx, "matmul: invalid form %d, B type %d or path %d", (int)form, (int)o.b_type,
                              (int)o.path);
    uint32_t batch = o.batch ? o.batch : 1;
    if (M == 0 || N == 0) return 0;
    uint32_t lda = o.lda ? o.lda : (form == VKFT_MM_TN ? M : K);
    uint32_t ldb = o.ldb ? o.ldb : (form == VKFT_MM_NT ? K : N);
    uint32_t ldc = o.ldc ? o.ldc : N;
    if (lda < (form == VKFT_MM_TN ? M : K) || ldb < (form == VKFT_MM_NT ? K : N) || ldc < N)
        return vkft_set_error(ctx, "matmul: a row stride (lda %u, ldb %u, ldc %u) is shorter than its row",
                              lda, ldb, ldc);
    /* Batched outputs must not overlap: one after another (stride_c >= M*ldc), or side by side within
     * the rows (stride_c >= N and every item within ldc: attention heads interleaved in [T, H, D]). */
    if (batch > 1 && (uint64_t)o.stride_c < (uint64_t)M * ldc &&
        !(o.stride_c >= N && (uint64_t)(batch - 1) * o.stride_c + N <= ldc))
        return vkft_set_error(ctx,
                              "matmul: batched outputs overlap (stride_c %llu: needs >= M*ldc = %llu, or "
                              ">= N = %u with the items side by side within ldc = %u)",
                              (unsigned long long)o.stride_c, (unsigned long long)M * ldc, N, ldc);
    /* Extents in elements, checked against the views (the kernels index from each view's start). */
    uint64_t rows_a = form == VKFT_MM_TN ? K : M, rows_b = form == VKFT_MM_NT ? N : K;
    uint64_t need_a =
        (batch - 1) * o.stride_a + (rows_a ? (rows_a - 1) * lda + (form == VKFT_MM_TN ? M : K) : 0);
    uint64_t need_b =
        (batch - 1) * o.stride_b + (rows_b ? (rows_b - 1) * ldb + (form == VKFT_MM_NT ? K : N) : 0);
    uint64_t need_c = (batch - 1) * o.stride_c + (uint64_t)(M - 1) * ldc + N;
    uint64_t b_size = o.b_type == VKFT_MM_B_F32 ? 4 : 2;
    if (need_a * 4 > A.size || need_b * b_size > B.size || need_c * 4 > C.size)
        return vkft_set_error(
            ctx, "matmul: a view is too small (A %llu of %llu bytes, B %llu of %llu, C %llu of %llu)",
            (unsigned long long)(need_a * 4), (unsigned long long)A.size,
            (unsigned long long)(need_b * b_size), (unsigned long long)B.size,
            (unsigned long long)(need_c * 4), (unsigned long long)C.size);
    if (need_a > UINT32_MAX || need_b > UINT32_MAX || need_c > UINT32_MAX)
        return vkft_set_error(ctx, "matmul: more than 2^32 elements in one operand");
    if (A.offset % 16 || B.offset % 16)
        return vkft_set_error(ctx, "matmul: the A and B views must start 16-byte aligned (offsets %llu, %llu)",
                              (unsigned long long)A.offset, (unsigned long long)B.offset);
    if (o.bias.block && o.bias.size < (uint64_t)N * 4)
        return vkft_set_error(ctx, "matmul: the bias view holds fewer than N = %u floats", N);

    vkft_mm_path path = o.path == VKFT_MM_AUTO ? vkft_matmul_path_for(ctx, o.b_type) : o.path;
    if (path == VKFT_MM_SIMT_CPU && !o.causal && K > K_CHUNK_CPU) {
        uint32_t chunk = k_chunk(form, K, lda, ldb, b_size);
        o.lda = lda, o.ldb = ldb;
        if (chunk) return matmul_k_chunks(rec, form, A, B, C, M, N, K, chunk, &o);
    }
    const vkft_kernel_def *def = vkft_matmul_kernel(path, form, o.b_type);
    if (o.gpu_tiles) {
        if (path != VKFT_MM_SIMT_TILED || o.b_type != VKFT_MM_B_F32)
            return vkft_set_error(ctx, "matmul: gpu_tiles is for the tiled path with fp32 B");
        def = &kernels_gpu_tiles[form];
    }
    const vkft_device_caps *caps = vkft_device(ctx);
    uint32_t sg = caps->subgroup_size ? caps->subgroup_size : 8;
    if (path == VKFT_MM_SIMT_CPU && o.b_type == VKFT_MM_B_F32 && (N < 4 * sg || M < 32))
        def = &kernels_cpu_narrow[form];
    else if (path == VKFT_MM_SIMT_CPU && ((lda & 1) || (batch > 1 && (o.stride_a & 1))))
        def = &kernels_cpu_a32[form * 3 + o.b_type];
    else if (path == VKFT_MM_SIMT_CPU && o.b_type == VKFT_MM_B_F32 && !o.storage_loads &&
             texel_fits(caps, sg, lda, ldb, batch, &o, A, B))
        def = &kernels_cpu_tex[form];
    vkft_pipeline *pl = vkft_pipeline_get(ctx, def);
    if (!pl) return -1;
    uint32_t gx, gy;
    grid(pl, path, M, N, &gx, &gy);
    if (gx > caps->max_workgroup_count[0] || gy > caps->max_workgroup_count[1] ||
        batch > caps->max_workgroup_count[2])
        return vkft_set_error(ctx, "matmul %s: %u x %u x %u workgroups exceed the device's limits", def->name,
                              gx, gy, batch);

    push_matmul p = {M,
                     N,
                     K,
                     lda,
                     ldb,
                     ldc,
                     (uint32_t)o.stride_a,
                     (uint32_t)o.stride_b,
                     (uint32_t)o.stride_c,
                     (o.bias.block ? FLAG_BIAS : 0) | (o.beta != 0.0f ? FLAG_BETA : 0) |
                         (o.causal ? FLAG_CAUSAL : 0),
                     o.alpha,
                     o.beta};
    vkft_binding b[6] = {{A, VKFT_READ},
                         {B, VKFT_READ},
                         {C, o.beta != 0.0f ? VKFT_READ_WRITE : VKFT_WRITE},
                         {o.bias.block ? o.bias : A, VKFT_READ},
                         {A, VKFT_READ},
                         {B, VKFT_READ}};
    return vkft_rec_dispatch(rec, def, &p, gx, gy, batch, b, def == &kernels_cpu_tex[form] ? 6 : 4);
}

int vkft_matmul_nn(vkft_recorder *rec, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M, uint32_t N,
                   uint32_t K) {
    return vkft_matmul(rec, VKFT_MM_NN, A, B, C, M, N, K, NULL);
}
int vkft_matmul_nt(vkft_recorder *rec, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M, uint32_t N,
                   uint32_t K) {
    return vkft_matmul(rec, VKFT_MM_NT, A, B, C, M, N, K, NULL);
}
int vkft_matmul_tn(vkft_recorder *rec, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M, uint32_t N,
                   uint32_t K) {
    return vkft_matmul(rec, VKFT_MM_TN, A, B, C, M, N, K, NULL);
}
