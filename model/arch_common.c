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

int vkft_arch_lm_head_loss(vkft_model *m, vkft_recorder *rec, int w, vkft_buf h, vkft_buf dh, int backward) {
    const vkft_model_config *c = &m->cfg;
    uint32_t V = c->vocab_size, C = c->hidden_size, rows_max = m->head_rows;
    vkft_buf none = {0}, gw = vkft_pgrad(m, w), gb = vkft_pgrad(m, m->mlm_bias);
    vkft_matmul_opts o = vkft_matmul_opts_default(), acc = vkft_matmul_opts_default();
    if (m->mlm_bias >= 0) o.bias = vkft_pbuf(m, m->mlm_bias);
    acc.beta = 1.0f;
    /* The mean's denominator needs every target, so it comes first; then each chunk of rows has its
     * logits computed, turned into losses and (in place) d loss / d logits, and taken back to dh and W's
     * gradient before the next chunk reuses the buffer. */
    if (vkft_cross_entropy_denom(rec, m->batch.targets, none, m->loss_stats, m->BT, V, -100)) return -1;
    for (uint32_t row0 = 0; row0 < m->BT; row0 += rows_max) {
        uint32_t rows = m->BT - row0 < rows_max ? m->BT - row0 : rows_max;
        vkft_buf logits = vkft_buf_slice(m->logits, 0, (VkDeviceSize)rows * V * 4);
        vkft_buf hc = vkft_buf_slice(h, (VkDeviceSize)row0 * C * 4, (VkDeviceSize)rows * C * 4);
        TRY(vkft_matmul(rec, VKFT_MM_NT, hc, vkft_pbuf(m, w), logits, rows, V, C, &o))
        TRY(vkft_cross_entropy_rows(rec, logits, m->batch.targets, none, m->loss_stats, backward ? logits : none,
                                    m->row_loss, row0, rows, V, -100, 0.0f, m->grad_scale))
        if (!backward) continue;
        vkft_buf dhc = vkft_buf_slice(dh, (VkDeviceSize)row0 * C * 4, (VkDeviceSize)rows * C * 4);
        TRY(vkft_matmul(rec, VKFT_MM_NN, logits, vkft_pbuf(m, w), dhc, rows, C, V, NULL))
        if (gw.block) TRY(vkft_matmul(rec, VKFT_MM_TN, logits, hc, gw, V, C, rows, &acc))
        if (gb.block) TRY(vkft_colsum_f32(rec, logits, rows, V, gb, 1))
    }
    return vkft_cross_entropy_mean(rec, m->row_loss, m->loss_stats, m->loss, m->BT);
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
