/* Fused multi-head attention (flash-attention style), forward and backward, causal (decoder) or
 * bidirectional (encoder, with a key padding mask given as per-sequence lengths), with grouped-query
 * heads. Shaders: shaders/attention_forward.comp, attention_backward_dq.comp, attention_backward_dkdv.comp.
 *
 * Layouts (row-major fp32): q, out, dq, dout [B, T, H, D]; k, v, dk, dv [B, T, Hkv, D];
 * lse, delta [B, H, T]. H is a multiple of Hkv; query head h reads kv head h / (H / Hkv).
 * Score s_ij = scale * q_i . k_j. Key j is visible to query i when j < len(b) and, if causal, j <= i;
 * len(b) = lengths[b] (uint32, clamped to T; right padding) or T when lengths is NULL.
 * Query rows i >= len(b) are padding: out = 0, lse = -inf, dq = 0; keys j >= len(b) get dk = dv = 0.
 * The forward saves only lse (the logsumexp of each row's scores), never the T x T probabilities; the
 * backward recomputes them. dk/dv of a kv head shared by several query heads are summed in a fixed
 * order (deterministic, no atomics). */
#ifndef VKFT_OPS_ATTENTION_H
#define VKFT_OPS_ATTENTION_H
#include "runtime/runtime.h"

typedef struct {
    uint32_t B, T, H, Hkv, D; /* batch, sequence length, query heads, kv heads, head dim */
    int causal;               /* 1: decoder mask (j <= i) */
    float scale;              /* 0: 1 / sqrt(D) */
    vkft_buf scratch;         /* optional (block NULL: none): vkft_attention_scratch_bytes() bytes select
                               * the scores path below */
} vkft_attention_dims;

/* The scores path (model/ops_attention_scores.c): for a chunk of (batch item, head) pairs at a time the
 * T x T score blocks are materialized in scratch and every product (q k^T, P v, and in the backward
 * dO v^T, P^T dO, dS k, dS^T q) runs on the matmul kernels, with one row pass (mask, softmax or its
 * gradient) between them. On a CPU driver the matmul kernels run several times closer to peak than the
 * fused kernels (docs/benchmarks.md: "Attention"), which outweighs computing the masked half of each
 * block and the memory traffic of the blocks. vkft_attention_scratch_bytes() gives the scratch for a
 * chunk of at most 64 MiB of blocks per buffer (two buffers) on CPU devices, and 0 (the fused kernels)
 * on GPUs or when one block is larger than that. vkft_attention_scores_scratch_bytes() gives the size on
 * any device for chunks of `blocks` blocks (0: as many as fit). */
uint64_t vkft_attention_scratch_bytes(vkft_ctx *ctx, const vkft_attention_dims *dims);
uint64_t vkft_attention_scores_scratch_bytes(vkft_ctx *ctx, const vkft_attention_dims *dims, uint32_t blocks);

/* The head dims with kernels (the register arrays are sized at pipeline creation). */
int vkft_attention_supports_head_dim(uint32_t D);

/* out = softmax(scale q k^T + mask) v per head; lse[b, h, i] = logsumexp of row i's visible scores. */
int vkft_attention_forward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf out, vkft_buf lse,
                           vkft_buf q, vkft_buf k, vkft_buf v, const vkft_buf *lengths);
/* From dout and the forward's out and lse: dq, dk, dv (overwritten). delta is scratch of B*H*T floats
 * (it receives rowsum(dout * out)). */
int vkft_attention_backward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf dq, vkft_buf dk,
                            vkft_buf dv, vkft_buf delta, vkft_buf dout, vkft_buf q, vkft_buf k, vkft_buf v,
                            vkft_buf out, vkft_buf lse, const vkft_buf *lengths);

/* The same with the plain kernels (one row per invocation) forced: vkft_attention_forward/backward use the
 * subgroup-shaped kernels where they apply (D a multiple of 4 x a fixed subgroup size: lavapipe at D = 32,
 * 64, 96, 128; NVIDIA at 128) and these elsewhere. Tests use these to check, on lavapipe, the kernels GPUs
 * with wide subgroups run. */
int vkft_attention_forward_plain(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf out,
                                 vkft_buf lse, vkft_buf q, vkft_buf k, vkft_buf v, const vkft_buf *lengths);
int vkft_attention_backward_plain(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf dq,
                                  vkft_buf dk, vkft_buf dv, vkft_buf delta, vkft_buf dout, vkft_buf q,
                                  vkft_buf k, vkft_buf v, vkft_buf out, vkft_buf lse,
                                  const vkft_buf *lengths);

/* Floating-point operations of one forward / backward (a multiply-add counts 2; causal halves the
 * score matrix), for benchmarks. */
double vkft_attention_forward_flops(const vkft_attention_dims *dims);
double vkft_attention_backward_flops(const vkft_attention_dims *dims);
#endif
