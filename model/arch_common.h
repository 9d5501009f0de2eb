/* Pieces the architectures share: embeddings in, the language-model head and loss out, and RoPE. */
#ifndef VKFT_ARCH_COMMON_H
#define VKFT_ARCH_COMMON_H
#include "model/model_internal.h"
#include "model/ops_attention.h"

/* Returns -1 from the calling function when a recording call fails (its message is on the context). */
#define TRY(x)                                                                                           \
    if ((x)) return -1;

/* The attention shape of this model and batch: bert attends both ways, the decoders causally. */
vkft_attention_dims vkft_arch_attention_dims(const vkft_model *m);

/* x = wte[ids] (+ wpe[positions] for gpt2 and bert, + token types and the embedding LayerNorm for bert). */
int vkft_arch_embed(vkft_model *m, vkft_recorder *rec, int wte, vkft_buf x);
/* Adds the embedding tables' gradients from dx (the gradient of x); bert: dx is first taken back through
 * the embedding LayerNorm (m->dx is overwritten). */
int vkft_arch_embed_backward(vkft_model *m, vkft_recorder *rec, int wte, vkft_buf dx);
/* logits = h W^T (+ the MLM bias for bert) and the mean cross-entropy, m->head_rows rows at a time; with
 * backward also dh = d loss / d h and W's (and the MLM bias's) gradients, times the step's gradient scale. */
int vkft_arch_lm_head_loss(vkft_model *m, vkft_recorder *rec, int w, vkft_buf h, vkft_buf dh, int backward);
/* Rotates [BT, heads, head_dim] in place by each token's position (inverse = 1: the backward). */
int vkft_arch_rope(vkft_model *m, vkft_recorder *rec, vkft_buf x, uint32_t heads, int inverse);
/* RoPE's inverse frequencies for the config (rope_theta, linear or llama3 scaling), head_dim / 2 floats,
 * computed in fp32 as transformers computes them. */
void vkft_arch_rope_inv_freq(const vkft_model_config *c, float *inv_freq);
#endif
