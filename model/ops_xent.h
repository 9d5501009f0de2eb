/* Cross-entropy fused with softmax over the vocabulary: per-row losses, their mean over the non-ignored
 * rows, and the logits gradient, in one pass over the logits (plus two one-workgroup dispatches for the
 * denominator and the mean). Matches PyTorch's
 *   F.cross_entropy(logits, targets, weight=weight, ignore_index=ignore_index,
 *                   label_smoothing=label_smoothing, reduction='mean')
 * in value and gradient (times grad_scale, e.g. 1 / gradient-accumulation steps). */
#ifndef VKFT_OPS_XENT_H
#define VKFT_OPS_XENT_H
#include "runtime/runtime.h"

/* logits [N, V] fp32, targets [N] int32 (ignore_index rows contribute nothing; a target outside [0, V)
 * that is not ignore_index is counted in stats[2] and treated as ignored), weight [V] fp32 or
 * weight.block == NULL (no class weights).
 * Writes dlogits [N, V] (may be the same buffer as logits; dlogits.block == NULL: losses only),
 * row_loss [N] (unnormalized per-row losses, 0 on ignored rows), stats [4] = {D = sum of w[t] over the
 * non-ignored rows (the mean's denominator), sum of w, invalid targets, non-ignored rows}, and loss [1] =
 * sum(row_loss) / D (0 when every row is ignored; PyTorch gives NaN there, and the gradient is then 0).
 * One buffer holds all the logits, so N * V * 4 bytes must fit the device's storage-buffer range
 * (lavapipe: 128 MiB); beyond that, use the three steps below with row chunks. */
int vkft_cross_entropy_forward_backward(vkft_recorder *rec, vkft_buf logits, vkft_buf targets,
                                        vkft_buf weight, vkft_buf dlogits, vkft_buf row_loss, vkft_buf stats,
                                        vkft_buf loss, uint32_t N, uint32_t V, int32_t ignore_index,
                                        float label_smoothing, float grad_scale);
/* The same in three steps, for logits computed (and freed) a chunk of rows at a time, e.g. by the LM
 * head: the denominator first (it needs only the targets), then each chunk of `rows` rows starting at
 * row0 (logits and dlogits hold just that chunk, rows ld >= V elements apart; targets and row_loss are the
 * whole [N]), then the mean. */
int vkft_cross_entropy_denom(vkft_recorder *rec, vkft_buf targets, vkft_buf weight, vkft_buf stats,
                             uint32_t N, uint32_t V, int32_t ignore_index);
int vkft_cross_entropy_rows(vkft_recorder *rec, vkft_buf logits, vkft_buf targets, vkft_buf weight,
                            vkft_buf stats, vkft_buf dlogits, vkft_buf row_loss, uint32_t row0, uint32_t rows,
                            uint32_t V, uint32_t ld, int32_t ignore_index, float label_smoothing, float grad_scale);
int vkft_cross_entropy_mean(vkft_recorder *rec, vkft_buf row_loss, vkft_buf stats, vkft_buf loss, uint32_t N);
/* The kernel definitions: "cross_entropy_denom", "cross_entropy_rows" (and "cross_entropy_rows_vec4", used
 * when V % 4 == 0), "cross_entropy_mean". */
const vkft_kernel_def *vkft_xent_kernel(const char *name);
#endif
