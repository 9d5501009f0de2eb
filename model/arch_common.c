#include "model/arch_common.h"

#include <math.h>
#include <stdlib.h>

#include "model/ops_basic.h"
#include "model/ops_embedding.h"
#include "model/ops_matmul.h"
#include "model/ops_norm.h"
#include "model/ops_rope.h"
#include "model/ops_xent.h"

vkft_attention_dims vkft_arch_attention_dims(const vkft_model *m) {
    const vkft_model_config *c = &m->cfg;
    vkft_attention_dims d = {m->B, m->T, c->num_heads, c->num_kv_heads, c->head_dim,
                             c->arch != VKFT_ARCH_BERT, 0};
    return d;
}

int vkft_arch_embed(vkft_model *m, vkft_recorder *rec, int wte, vkft_buf x) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size;
    const vkft_batch_dev *b = &m->batch;
    if (vkft_embedding_forward(rec, b->input_ids, vkft_pbuf(m, wte), x, m->emb_status, BT, c->vocab_size, C)) return -1;
    if (c->arch == VKFT_ARCH_LLAMA) return 0;
    /* Learned positions (and bert's token types) are added to the token embeddings. */
    vkft_buf sum = c->arch == VKFT_ARCH_BERT ? m->e_sum : x;
    if (vkft_embedding_forward(rec, b->position_ids, vkft_pbuf(m, m->wpe), m->e_tmp, m->emb_status, BT, c->max_positions, C) ||
        vkft_add_f32(rec, x, m->e_tmp, sum, BT * C))
        return -1;
    if (c->arch != VKFT_ARCH_BERT) return 0;
    if (vkft_embedding_forward(rec, b->token_type_ids, vkft_pbuf(m, m->wtt), m->e_tmp, m->emb_status, BT, c->type_vocab_size, C) ||
        vkft_add_f32(rec, sum, m->e_tmp, sum, BT * C))
        return -1;
    return vkft_layernorm_forward(rec, sum, vkft_pbuf(m, m->emb_ln_w), vkft_pbuf(m, m->emb_ln_b), x, m->e_mean,
                                  m->e_rstd, BT, C, c->norm_eps);
}

int vkft_arch_embed_backward(vkft_model *m, vkft_recorder *rec, int wte, vkft_buf dx) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size;
    const vkft_batch_dev *b = &m->batch;
    if (c->arch == VKFT_ARCH_BERT &&
        vkft_layernorm_backward(rec, m->e_sum, vkft_pbuf(m, m->emb_ln_w), m->e_mean, m->e_rstd, dx, dx,
                                vkft_pgrad(m, m->emb_ln_w), vkft_pgrad(m, m->emb_ln_b), m->norm_scratch, BT, C, 1))
        return -1;
    vkft_buf g = vkft_pgrad(m, wte);
    if (g.block && vkft_embedding_backward(rec, b->input_ids, dx, g, BT, c->vocab_size, C, 1)) return -1;
    if (c->arch == VKFT_ARCH_LLAMA) return 0;
    g = vkft_pgrad(m, m->wpe);
    if (g.block && vkft_embedding_backward(rec, b->position_ids, dx, g, BT, c->max_positions, C, 1)) return -1;
    g = vkft_pgrad(m, m->wtt);
    if (c->arch == VKFT_ARCH_BERT && g.block &&
        vkft_embedding_backward(rec, b->token_type_ids, dx, g, BT, c->type_vocab_size, C, 1))
        return -1;
    return 0;
}

int vkft_arch_lm_head_loss(vkft_model *m, vkft_recorder *rec, int w, vkft_buf h, int backward) {
    const vkft_model_config *c = &m->cfg;
    vkft_matmul_opts o = vkft_matmul_opts_default();
    if (m->mlm_bias >= 0) o.bias = vkft_pbuf(m, m->mlm_bias);
    if (vkft_matmul(rec, VKFT_MM_NT, h, vkft_pbuf(m, w), m->logits, m->BT, c->vocab_size, c->hidden_size, &o))
        return -1;
    vkft_buf none = {0};
    return vkft_cross_entropy_forward_backward(rec, m->logits, m->batch.targets, none, backward ? m->logits : none,
                                               m->row_loss, m->loss_stats, m->loss, m->BT, c->vocab_size, -100, 0.0f,
                                               m->grad_scale);
}

int vkft_arch_lm_head_backward(vkft_model *m, vkft_recorder *rec, int w, vkft_buf h, vkft_buf dh) {
    const vkft_model_config *c = &m->cfg;
    /* m->logits now holds d loss / d logits */
    if (vkft_matmul(rec, VKFT_MM_NN, m->logits, vkft_pbuf(m, w), dh, m->BT, c->hidden_size, c->vocab_size, NULL))
        return -1;
    vkft_buf gw = vkft_pgrad(m, w);
    if (gw.block) {
        vkft_matmul_opts g = vkft_matmul_opts_default();
        g.beta = 1.0f;
        if (vkft_matmul(rec, VKFT_MM_TN, m->logits, h, gw, c->vocab_size, c->hidden_size, m->BT, &g)) return -1;
    }
    vkft_buf gb = vkft_pgrad(m, m->mlm_bias);
    if (m->mlm_bias >= 0 && gb.block && vkft_colsum_f32(rec, m->logits, m->BT, c->vocab_size, gb, 1)) return -1;
    return 0;
}

int vkft_arch_rope(vkft_model *m, vkft_recorder *rec, vkft_buf x, uint32_t heads, int inverse) {
    uint32_t D = m->cfg.head_dim;
    if (inverse)
        return vkft_rope_backward(rec, x, x, m->batch.position_ids, m->inv_freq, m->B, m->T, heads, D, D, 1.0f);
    return vkft_rope_forward(rec, x, x, m->batch.position_ids, m->inv_freq, m->B, m->T, heads, D, D, 1.0f);
}

void vkft_arch_rope_inv_freq(const vkft_model_config *c, float *inv_freq) {
    uint32_t half = c->head_dim / 2;
    vkft_rope_inv_freq(inv_freq, c->head_dim, c->rope_theta);
    if (c->rope_scaling == VKFT_ROPE_LINEAR) {
        for (uint32_t i = 0; i < half; i++) inv_freq[i] = inv_freq[i] / c->rope_factor;
    } else if (c->rope_scaling == VKFT_ROPE_LLAMA3) {
        /* transformers' _compute_llama3_parameters, in fp32 */
        float factor = c->rope_factor, low = c->rope_low_freq_factor, high = c->rope_high_freq_factor;
        float orig = (float)c->rope_original_max_positions;
        float low_wavelen = orig / low, high_wavelen = orig / high;
        for (uint32_t i = 0; i < half; i++) {
            float f = inv_freq[i], wavelen = 2.0f * (float)M_PI / f;
            float scaled = wavelen > low_wavelen ? f / factor : f;
            float smooth = (orig / wavelen - low) / (high - low);
            float smoothed = (1.0f - smooth) * scaled / factor + smooth * scaled;
            int medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
            inv_freq[i] = medium ? smoothed : scaled;
        }
    }
}
