/* Matrix-vector products for decoding: y[b, :] = x[b, :] W^T + bias (or x[b, :] W + bias) for a few rows b,
 * where the tiled matmuls waste their row blocks (one token per sequence). Shader: shaders/matvec.comp.
 * Bandwidth-bound: each row b reads W once, so use it for small row counts (decoding), vkft_matmul beyond. */
#ifndef VKFT_OPS_MATVEC_H
#define VKFT_OPS_MATVEC_H
#include "runtime/runtime.h"

typedef enum {
    VKFT_MV_NT = 0, /* W[N, K] (nn.Linear [out, in]): y = x W^T */
    VKFT_MV_NN = 1, /* W[K, N] (Conv1D [in, out]):    y = x W   */
} vkft_mv_form;

/* y[rows, N] = x[rows, K] . op(W) + bias[N] (bias.block == NULL: none); ldw is W's row stride in elements
 * (0: packed, K for NT and N for NN). */
int vkft_matvec(vkft_recorder *rec, vkft_mv_form form, vkft_buf x, vkft_buf W, vkft_buf bias, vkft_buf y, uint32_t rows,
                uint32_t N, uint32_t K, uint32_t ldw);
/* The same with a given kernel of vkft_matvec_kernel() (NULL: the device's), for tests. */
int vkft_matvec_using(vkft_recorder *rec, const vkft_kernel_def *kernel, vkft_mv_form form, vkft_buf x, vkft_buf W,
                      vkft_buf bias, vkft_buf y, uint32_t rows, uint32_t N, uint32_t K, uint32_t ldw);
/* The kernel definitions: "matvec_nt", "matvec_nn" (GPUs), "matvec_nt_cpu", "matvec_nn_cpu" (CPU drivers,
 * chosen automatically there). */
const vkft_kernel_def *vkft_matvec_kernel(const char *name);
#endif
