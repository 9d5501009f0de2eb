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
                             c->arch != VKFT_ARCH_BERT, 0, m->attn_scratch};
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

/* The output head's weight [V, C] in parts of vkft_head_part_rows rows (all of them unless the table is larger
 * than one binding): logits, dh and dW of each part are strided views of the chunk's buffers. The forward
 * products, or with backward those of the backward. */
static int lm_head_chunk(vkft_model *m, vkft_recorder *rec, int w, vkft_buf hc, vkft_buf logits, vkft_buf dhc,
                         uint32_t rows, int backward) {
    const vkft_model_config *c = &m->cfg;
    uint32_t V = c->vocab_size, C = c->hidden_size, part = vkft_head_part_rows(m), ld = vkft_logits_ld(m);
    vkft_buf W = vkft_pbuf(m, w), gw = vkft_pgrad(m, w), bias = vkft_pbuf(m, m->mlm_bias);
    for (uint32_t v0 = 0; v0 < V; v0 += part) {
        uint32_t n = V - v0 < part ? V - v0 : part;
        VkDeviceSize woff = (VkDeviceSize)v0 * C * 4, wlen = (VkDeviceSize)n * C * 4;
        vkft_buf Wp = vkft_buf_slice(W, woff, wlen);
        /* the chunk's columns v0.. (row stride ld) */
        vkft_buf lp = vkft_buf_slice(logits, (VkDeviceSize)v0 * 4, ((VkDeviceSize)(rows - 1) * ld + n) * 4);
        vkft_matmul_opts o = vkft_matmul_opts_default();
        if (!backward) { /* logits = h W^T (+ bias) */
            o.ldc = ld;
            if (bias.block) o.bias = vkft_buf_slice(bias, (VkDeviceSize)v0 * 4, (VkDeviceSize)n * 4);
            TRY(vkft_matmul(rec, VKFT_MM_NT, hc, Wp, lp, rows, n, C, &o))
            continue;
        }
        /* dh (+)= dlogits W (K = the part's vocabulary rows: on CPU devices vkft_matmul records it in
         * chunks of K), dW += dlogits^T h */
        o.lda = ld;
        o.beta = v0 ? 1.0f : 0.0f;
        TRY(vkft_matmul(rec, VKFT_MM_NN, lp, Wp, dhc, rows, C, n, &o))
        if (gw.block) {
            vkft_matmul_opts g = vkft_matmul_opts_default();
            g.lda = ld;
            g.beta = 1.0f;
            TRY(vkft_matmul(rec, VKFT_MM_TN, lp, hc, vkft_buf_slice(gw, woff, wlen), n, C, rows, &g))
        }
    }
    return 0;
}

int vkft_arch_lm_head_loss(vkft_model *m, vkft_recorder *rec, int w, vkft_buf h, vkft_buf dh, int backward) {
    const vkft_model_config *c = &m->cfg;
    uint32_t V = c->vocab_size, C = c->hidden_size, rows_max = m->head_rows, ld = vkft_logits_ld(m);
    vkft_buf none = {0}, gb = vkft_pgrad(m, m->mlm_bias);
    /* The mean's denominator needs every target, so it comes first; then each chunk of rows has its
     * logits computed, turned into losses and (in place) d loss / d logits, and taken back to dh and W's
     * gradient before the next chunk reuses the buffer. */
    if (vkft_cross_entropy_denom(rec, m->batch.targets, none, m->loss_stats, m->BT, V, -100)) return -1;
    for (uint32_t row0 = 0; row0 < m->BT; row0 += rows_max) {
        uint32_t rows = m->BT - row0 < rows_max ? m->BT - row0 : rows_max;
        vkft_buf logits = vkft_buf_slice(m->logits, 0, (VkDeviceSize)rows * ld * 4);
        vkft_buf hc = vkft_buf_slice(h, (VkDeviceSize)row0 * C * 4, (VkDeviceSize)rows * C * 4);
        vkft_buf dhc = backward ? vkft_buf_slice(dh, (VkDeviceSize)row0 * C * 4, (VkDeviceSize)rows * C * 4) : none;
        TRY(lm_head_chunk(m, rec, w, hc, logits, dhc, rows, 0))
        TRY(vkft_cross_entropy_rows(rec, logits, m->batch.targets, none, m->loss_stats, backward ? logits : none,
                                    m->row_loss, row0, rows, V, ld, -100, 0.0f, m->grad_scale))
        if (!backward) continue;
        TRY(lm_head_chunk(m, rec, w, hc, logits, dhc, rows, 1))
        if (gb.block) TRY(vkft_colsum_f32(rec, logits, rows, V, ld, gb, 1))
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
