/* PEFT layers built from the matmul kernels (model/ops_matmul.h) and a few small kernels of their own
 * (shaders/lora.comp, shaders/adapter.comp). Row-major fp32 unless stated; x [T, in], y [T, out];
 * W [out, in] is the frozen weight (fp32, or fp16/bf16 through dims.w_type), A [r, in], B [out, r].
 * Gradients are written (not accumulated). Buffers are vkft_buf views; sizes are explicit.
 *
 *   LoRA     y = x W^T + bias + s (x A^T) B^T, s = alpha / r; backward gives dA, dB and dx without
 *            forming B A.
 *   adapter  y = h + up(act(down(h))) (bottleneck adapter), down: Wd [r, C], bd [r]; up: Wu [C, r], bu [C].
 *   DoRA     y = g * (x W^T + s (x A^T) B^T) + bias, g = m / ||W + s B A|| per output row (PEFT's
 *            definition: norm over each row of the combined weight, treated as a constant in backward).
 *            The norms come from ||W_o||^2 + B_o . (2s W A^T + s^2 B A A^T)_o: B A is never formed. */
#ifndef VKFT_OPS_LORA_H
#define VKFT_OPS_LORA_H
#include "model/ops_matmul.h"

typedef struct {
    uint32_t T, in, out, r;
    float scale;          /* alpha / r */
    vkft_mm_btype w_type; /* element type of W (DoRA: fp32 only) */
} vkft_lora_dims;

/* h [T, r] = x A^T (saved for the backward); y = x W^T + bias + scale * h B^T. bias.block NULL: none. */
int vkft_lora_forward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf bias,
                      vkft_buf A, vkft_buf B, vkft_buf h, vkft_buf y);
/* dB = s dy^T h, dh = s dy B (scratch [T, r]), dA = dh^T x, dx = dy W + dh A (dx.block NULL: skipped). */
int vkft_lora_backward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf A,
                       vkft_buf B, vkft_buf h, vkft_buf dy, vkft_buf dx, vkft_buf dA, vkft_buf dB,
                       vkft_buf dh);

enum { VKFT_ADAPTER_RELU = 0, VKFT_ADAPTER_GELU = 1 /* tanh approximation */ };
typedef struct {
    uint32_t T, C, r;
    int act;
} vkft_adapter_dims;

/* Floats of the backward's workspace: da and dz [T, r] and a row of T ones. */
uint64_t vkft_adapter_workspace_floats(const vkft_adapter_dims *d);
/* z = h Wd^T + bd and a = act(z) [T, r] are saved for the backward; y = h + a Wu^T + bu (y != h). */
int vkft_adapter_forward(vkft_recorder *rec, const vkft_adapter_dims *d, vkft_buf h, vkft_buf Wd, vkft_buf bd,
                         vkft_buf Wu, vkft_buf bu, vkft_buf z, vkft_buf a, vkft_buf y);
int vkft_adapter_backward(vkft_recorder *rec, const vkft_adapter_dims *d, vkft_buf h, vkft_buf Wd,
                          vkft_buf Wu, vkft_buf z, vkft_buf a, vkft_buf dy, vkft_buf dh, vkft_buf dWd,
                          vkft_buf dbd, vkft_buf dWu, vkft_buf dbu, vkft_buf work);

/* Floats of DoRA's workspace (forward: R [out, r] and A A^T [r, r]; backward: du [T, out]). */
uint64_t vkft_dora_workspace_floats(const vkft_lora_dims *d);
/* Saves h [T, r], u = x W^T + s h B^T [T, out], g = m / n and n [out]; y = g * u + bias. */
int vkft_dora_forward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf bias,
                      vkft_buf A, vkft_buf B, vkft_buf m, vkft_buf h, vkft_buf u, vkft_buf g, vkft_buf n,
                      vkft_buf y, vkft_buf work);
/* dm = sum_t dy * u / n; then the LoRA backward of du = g * dy: dA, dB, dx (dx.block NULL: skipped).
 * dh: scratch [T, r]. */
int vkft_dora_backward(vkft_recorder *rec, const vkft_lora_dims *d, vkft_buf x, vkft_buf W, vkft_buf A,
                       vkft_buf B, vkft_buf h, vkft_buf u, vkft_buf g, vkft_buf n, vkft_buf dy, vkft_buf dx,
                       vkft_buf dA, vkft_buf dB, vkft_buf dm, vkft_buf dh, vkft_buf work);
#endif
