/* The model's internals, shared by model.c and the architecture files (arch_*.c). */
#ifndef VKFT_MODEL_INTERNAL_H
#define VKFT_MODEL_INTERNAL_H
#include "model/model.h"

/* Per-layer saved activations (forward) and the buffers the backward needs. */
typedef struct {
    vkft_buf x_in;          /* residual stream entering the layer [BT, C] */
    vkft_buf stat1a, stat1b; /* norm statistics (layernorm: mean, rstd; rmsnorm: rstd) */
    vkft_buf h1;            /* normed input to attention [BT, C] (bert: the attention's input) */
    vkft_buf q, k, v;       /* [BT, H*D], [BT, Hkv*D] (after RoPE) */
    vkft_buf attn, lse;     /* attention output [BT, H*D], logsumexp [B, H, T] */
    vkft_buf x_mid;         /* residual after attention [BT, C] */
    vkft_buf stat2a, stat2b;
    vkft_buf h2;            /* normed input to the MLP [BT, C] */
    vkft_buf g, u, a;       /* MLP: gate/fc output, up output, activation output [BT, I] */
    vkft_buf o_pre, m_pre;  /* bert: attention and MLP outputs before their post-norm [BT, C] */
} vkft_layer_acts;

struct vkft_model {
    vkft_ctx *ctx;
    vkft_model_config cfg;
    char dir[4096];
    vkft_param *params;
    int n_params;
    vkft_block_params *blocks;
    /* embeddings and heads (parameter indices, -1 when absent) */
    int wte, wpe, wtt, emb_ln_w, emb_ln_b;  /* token, position, token-type embeddings; bert's embedding norm */
    int lnf_w, lnf_b;                        /* final norm (gpt2, llama) */
    int lm_head;                             /* untied output projection, or -1 (tied to wte) */
    int mlm_dense_w, mlm_dense_b, mlm_ln_w, mlm_ln_b, mlm_bias; /* bert's MLM head */
    vkft_arena *weights, *grads, *acts;
    /* the plan */
    uint32_t B, T, BT;
    int planned, planned_train;
    vkft_batch_dev batch;
    vkft_layer_acts *layer;
    vkft_buf x_final, statfa, statfb, hf;   /* after the last layer; the final normed hidden state */
    vkft_buf mlm_t, mlm_g;                  /* bert: transform dense output (pre-GELU), post-GELU */
    vkft_buf e_tmp, e_sum, e_mean, e_rstd;  /* gpt2/bert: position/type rows; bert: pre-norm sum, stats */
    vkft_buf emb_status;                    /* the embedding kernels' invalid-id report (2 uint32) */
    vkft_buf inv_freq;                      /* llama: RoPE inverse frequencies [head_dim / 2] */
    float grad_scale;                       /* of the step being recorded */
    vkft_buf logits; /* [head_rows, V], rows vkft_logits_ld apart; becomes dlogits in a backward step */
    uint32_t head_rows;                     /* rows of logits computed at a time (BT: all of them) */
    uint64_t logits_budget;                 /* bytes allowed for that buffer (0: the default) */
    vkft_buf row_loss, loss_stats, loss;
    /* backward scratch */
    vkft_buf dx, dh, dh2, dq, dk, dv, dattn, delta, dg, du, da, norm_scratch;
    vkft_buf attn_scratch; /* attention's score blocks (vkft_attention_scratch_bytes; block NULL: none) */
    vkft_buf dxa;            /* LoRA: d(x A^T) [BT, r] */
    uint32_t lora_r_max;
    /* LoRA dropout: p, the mask's seed, whether the step being recorded uses it (a training step), the
     * (step, micro) counters the host writes before each submission, and dropout(x) of the layer being
     * run [BT, widest adapted input] (one scratch for all: the backward regenerates it) */
    float lora_dropout;
    uint64_t dropout_seed;
    int dropout_on;
    vkft_buf dropout_ctr, lora_x;
    int checkpoint;          /* activation checkpointing: keep only each layer's input, recompute the rest */
    char lora_targets[512];  /* the adapted module names' last parts, comma-separated */
    vkft_memory_plan plan;
};

/* Linear layers (model/layers.c): forward with the bias fused; backward adds dW and db (when the
 * parameters are trainable) and writes dx (or adds to it with accumulate_dx; dx.block NULL: skipped). */
int vkft_linear_forward(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf y,
                        uint32_t rows);
int vkft_linear_backward(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf dy,
                         vkft_buf dx, uint32_t rows, int accumulate_dx);

/* The architectures: parameter tables and the forward/backward of one step. */
int vkft_gpt2_params(vkft_model *m);
int vkft_llama_params(vkft_model *m);
int vkft_bert_params(vkft_model *m);
int vkft_gpt2_step(vkft_model *m, vkft_recorder *rec, int backward);
int vkft_llama_step(vkft_model *m, vkft_recorder *rec, int backward);
int vkft_bert_step(vkft_model *m, vkft_recorder *rec, int backward);

/* Every linear layer of block l that the architecture uses (NULL-terminated array of 9 + 1). */
int vkft_block_linears(vkft_model *m, uint32_t l, vkft_linear **out);

/* Vocabulary rows of the output head's weight one binding holds: all of them, or aligned parts where the
 * weight is larger than a binding. */
uint32_t vkft_head_part_rows(const vkft_model *m);
/* The row stride of the logits: V rounded up to whole 16-byte texels, so that the head's backward
 * products read dlogits through the lavapipe matmul's texel-buffer kernel (GPT-2's 50257 -> 50260). */
static inline uint32_t vkft_logits_ld(const vkft_model *m) { return (m->cfg.vocab_size + 3u) & ~3u; }

/* Adds a parameter to the table; returns its index. */
int vkft_model_add_param(vkft_model *m, const char *name, uint32_t d0, uint32_t d1, int optional);
static inline vkft_buf vkft_pbuf(vkft_model *m, int i) {
    vkft_buf none = {0};
    return i < 0 ? none : m->params[i].w;
}
static inline vkft_buf vkft_pgrad(vkft_model *m, int i) {
    vkft_buf none = {0};
    return i < 0 ? none : m->params[i].grad;
}
#endif
