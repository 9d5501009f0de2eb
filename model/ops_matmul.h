/* Matrix products for training: C = A.B, C = A.B^T, C = A^T.B (row-major), batched, with an epilogue
 * C = alpha * product + bias[n] + beta * C. A is fp32; B is fp32, or fp16/bf16 for frozen weights
 * (accumulation is always fp32). fp16/bf16 B is read as packed 32/64-bit words: no 16-bit device feature
 * is needed on the SIMT paths.
 *
 * Three kernels compute it, picked per device (vkft_matmul_path_for):
 *   SIMT_CPU   shaped for CPU Vulkan drivers (lavapipe): A shared across the subgroup by subgroupBroadcast,
 *              64-bit loads of B, big register blocks, no shared memory (shaders/matmul.comp)
 *   SIMT_TILED shared-memory tiles and register blocks, tile sizes from the device's limits, for GPUs
 *              (shaders/matmul_tiled.comp)
 *   COOPMAT    VK_KHR_cooperative_matrix, fp16 (or bf16) inputs and fp32 accumulation
 *              (shaders/matmul_coopmat.comp); A and fp32 B are rounded to fp16 when staged.
 * Any path can be forced through vkft_matmul_opts.path (tests run SIMT_TILED on lavapipe too). */
#ifndef VKFT_OPS_MATMUL_H
#define VKFT_OPS_MATMUL_H
#include "runtime/runtime.h"

typedef enum {
    VKFT_MM_NN = 0, /* C[M,N] = A[M,K] . B[K,N]   (linear backward dx = dy . W)          */
    VKFT_MM_NT = 1, /* C[M,N] = A[M,K] . B[N,K]^T (linear forward y = x . W^T)           */
    VKFT_MM_TN = 2, /* C[M,N] = A[K,M]^T . B[K,N] (weight gradient dW = dy^T . x)        */
} vkft_mm_form;

typedef enum { VKFT_MM_B_F32 = 0, VKFT_MM_B_F16 = 1, VKFT_MM_B_BF16 = 2 } vkft_mm_btype;

typedef enum { VKFT_MM_AUTO = 0, VKFT_MM_SIMT_CPU, VKFT_MM_SIMT_TILED, VKFT_MM_COOPMAT } vkft_mm_path;

typedef struct {
    float alpha, beta; /* C = alpha * A.B + bias + beta * C; beta == 0: C is only written */
    vkft_buf bias;     /* N floats added to every row; bias.block == NULL: none */
    uint32_t batch;    /* products in one dispatch (0 or 1: one) */
    uint64_t stride_a, stride_b, stride_c; /* elements between batch items (0 for A or B: shared) */
    uint32_t lda, ldb, ldc; /* row strides in elements; 0: packed (the row length of the form) */
    vkft_mm_btype b_type;   /* element type of B */
    vkft_mm_path path;      /* VKFT_MM_AUTO: vkft_matmul_path_for() */
    int gpu_tiles; /* tests: SIMT_TILED (fp32 B) with the tile sizes of a GPU, even on a CPU device */
    int storage_loads; /* tests, benchmarks: SIMT_CPU reads A and B as storage buffers, never texel buffers */
    int causal;    /* attention's causal score blocks (shaders/common/matmul_common.glsl, FLAG_CAUSAL): NT may
                    * leave blocks of C wholly above the diagonal unwritten; NN and TN may skip the k where A
                    * is zero (A[m, k] = 0 for k > m; TN: A[k, m] = 0 for m > k) */
} vkft_matmul_opts;

/* alpha 1, beta 0, no bias, one product, packed, fp32 B, automatic path. */
vkft_matmul_opts vkft_matmul_opts_default(void);

/* Records C = alpha * op(A).op(B) + bias + beta * C, C of M x N, inner size K; opts may be NULL
 * (the defaults). A and B views must start 16-byte aligned (arena allocations do). On CPU devices a
 * product with K > 1024 is recorded as one dispatch per chunk of K, each adding to C. */
int vkft_matmul(vkft_recorder *rec, vkft_mm_form form, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M,
                uint32_t N, uint32_t K, const vkft_matmul_opts *opts);

/* Shorthands with the default options. */
int vkft_matmul_nn(vkft_recorder *rec, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M, uint32_t N,
                   uint32_t K);
int vkft_matmul_nt(vkft_recorder *rec, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M, uint32_t N,
                   uint32_t K);
int vkft_matmul_tn(vkft_recorder *rec, vkft_buf A, vkft_buf B, vkft_buf C, uint32_t M, uint32_t N,
                   uint32_t K);

/* The path VKFT_MM_AUTO takes on this device for B of type b_type: COOPMAT for fp16/bf16 B where the
 * device has 16x16x16 cooperative matrices of that type and the variant was built, else SIMT_CPU on
 * CPU devices and SIMT_TILED on GPUs. */
vkft_mm_path vkft_matmul_path_for(vkft_ctx *ctx, vkft_mm_btype b_type);
const char *vkft_matmul_path_name(vkft_mm_path path);
/* The kernel definition a call would use (for tests and benchmarks), or NULL. */
const vkft_kernel_def *vkft_matmul_kernel(vkft_mm_path path, vkft_mm_form form, vkft_mm_btype b_type);
#endif
