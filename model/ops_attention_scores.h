/* Attention's scores path (model/ops_attention_scores.c): the launchers vkft_attention_forward/backward
 * call when dims->scratch is given; tests call them directly with a small scratch to cut the work into
 * many chunks. Same layouts and results as the fused kernels (model/ops_attention.h). */
#ifndef VKFT_OPS_ATTENTION_SCORES_H
#define VKFT_OPS_ATTENTION_SCORES_H
#include "model/ops_attention.h"

int vkft_attention_scores_forward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf out,
                                  vkft_buf lse, vkft_buf q, vkft_buf k, vkft_buf v, const vkft_buf *lengths,
                                  vkft_buf scratch);
int vkft_attention_scores_backward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf dq,
                                   vkft_buf dk, vkft_buf dv, vkft_buf delta, vkft_buf dout, vkft_buf q,
                                   vkft_buf k, vkft_buf v, vkft_buf out, vkft_buf lse, const vkft_buf *lengths,
                                   vkft_buf scratch);
/* The row-pass kernel (shaders/attention_scores.comp), for benchmarks and tests. */
const vkft_kernel_def *vkft_attention_scores_kernel(int backward);
#endif
