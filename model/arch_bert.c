/* BERT with its masked-LM head: post-LayerNorm encoder, GELU (erf), token types, bidirectional attention
 * with a key padding mask, and the tied decoder with its own bias. */
#include <stdio.h>

#include "model/arch_common.h"
#include "model/model_internal.h"
#include "model/ops_activation.h"
#include "model/ops_attention.h"
#include "model/ops_basic.h"
#include "model/ops_norm.h"

static vkft_linear linear(vkft_model *m, const char *name, uint32_t out, uint32_t in) {
    char w[192], b[192];
    snprintf(w, sizeof w, "%s.weight", name);
    snprintf(b, sizeof b, "%s.bias", name);
    vkft_linear l = {.w = vkft_model_add_param(m, w, out, in, 0), .in = in, .out = out};
    l.b = vkft_model_add_param(m, b, out, 0, 0);
    return l;
}

int vkft_bert_params(vkft_model *m) {
    const vkft_model_config *c = &m->cfg;
    uint32_t C = c->hidden_size, I = c->intermediate_size;
    m->wte = vkft_model_add_param(m, "bert.embeddings.word_embeddings.weight", c->vocab_size, C, 0);
    m->wpe = vkft_model_add_param(m, "bert.embeddings.position_embeddings.weight", c->max_positions, C, 0);
    m->wtt = vkft_model_add_param(m, "bert.embeddings.token_type_embeddings.weight", c->type_vocab_size, C, 0);
    m->emb_ln_w = vkft_model_add_param(m, "bert.embeddings.LayerNorm.weight", C, 0, 0);
    m->emb_ln_b = vkft_model_add_param(m, "bert.embeddings.LayerNorm.bias", C, 0, 0);
    for (uint32_t l = 0; l < c->num_layers; l++) {
        vkft_block_params *p = &m->blocks[l];
        char n[128];
#define LIN(field, part, out, in)                                                                        \
    snprintf(n, sizeof n, "bert.encoder.layer.%u.%s", l, part);                                          \
    p->field = linear(m, n, out, in);
#define NORM(w, b, part)                                                                                 \
    snprintf(n, sizeof n, "bert.encoder.layer.%u.%s.weight", l, part);                                   \
    p->w = vkft_model_add_param(m, n, C, 0, 0);                                                          \
    snprintf(n, sizeof n, "bert.encoder.layer.%u.%s.bias", l, part);                                     \
    p->b = vkft_model_add_param(m, n, C, 0, 0);
        LIN(q, "attention.self.query", C, C)
        LIN(k, "attention.self.key", C, C)
        LIN(v, "attention.self.value", C, C)
        LIN(o, "attention.output.dense", C, C)
        NORM(ln1_w, ln1_b, "attention.output.LayerNorm")
        LIN(fc, "intermediate.dense", I, C)
        LIN(proj, "output.dense", C, I)
        NORM(ln2_w, ln2_b, "output.LayerNorm")
#undef LIN
#undef NORM
    }
    m->mlm_dense_w = vkft_model_add_param(m, "cls.predictions.transform.dense.weight", C, C, 0);
    m->mlm_dense_b = vkft_model_add_param(m, "cls.predictions.transform.dense.bias", C, 0, 0);
    m->mlm_ln_w = vkft_model_add_param(m, "cls.predictions.transform.LayerNorm.weight", C, 0, 0);
    m->mlm_ln_b = vkft_model_add_param(m, "cls.predictions.transform.LayerNorm.bias", C, 0, 0);
    m->mlm_bias = vkft_model_add_param(m, "cls.predictions.bias", c->vocab_size, 0, 0);
    return 0;
}

/* One layer's forward; also re-run before the layer's backward when activations are checkpointed. */
static int bert_layer_forward(vkft_model *m, vkft_recorder *rec, uint32_t l) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size, I = c->intermediate_size, L = c->num_layers;
    float eps = c->norm_eps;
    vkft_attention_dims dims = vkft_arch_attention_dims(m);
    vkft_buf lengths = m->batch.lengths;
    vkft_block_params *p = &m->blocks[l];
    vkft_layer_acts *a = &m->layer[l];
    vkft_buf next = l + 1 < L ? m->layer[l + 1].x_in : m->x_final;
    TRY(vkft_linear_forward(m, rec, &p->q, a->x_in, a->q, BT))
    TRY(vkft_linear_forward(m, rec, &p->k, a->x_in, a->k, BT))
    TRY(vkft_linear_forward(m, rec, &p->v, a->x_in, a->v, BT))
    TRY(vkft_attention_forward(rec, &dims, a->attn, a->lse, a->q, a->k, a->v, &lengths))
    TRY(vkft_linear_forward(m, rec, &p->o, a->attn, a->o_pre, BT))
    TRY(vkft_add_f32(rec, a->o_pre, a->x_in, a->o_pre, BT * C))
    TRY(vkft_layernorm_forward(rec, a->o_pre, vkft_pbuf(m, p->ln1_w), vkft_pbuf(m, p->ln1_b), a->x_mid,
                               a->stat1a, a->stat1b, BT, C, eps))
    TRY(vkft_linear_forward(m, rec, &p->fc, a->x_mid, a->g, BT))
    TRY(vkft_activation_forward(rec, VKFT_ACT_GELU_ERF, a->g, a->a, BT * I))
    TRY(vkft_linear_forward(m, rec, &p->proj, a->a, a->m_pre, BT))
    TRY(vkft_add_f32(rec, a->m_pre, a->x_mid, a->m_pre, BT * C))
    TRY(vkft_layernorm_forward(rec, a->m_pre, vkft_pbuf(m, p->ln2_w), vkft_pbuf(m, p->ln2_b), next, a->stat2a,
                               a->stat2b, BT, C, eps))
    return 0;
}

int vkft_bert_step(vkft_model *m, vkft_recorder *rec, int backward) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size, I = c->intermediate_size, L = c->num_layers;
    float eps = c->norm_eps;
    vkft_attention_dims dims = vkft_arch_attention_dims(m);
    vkft_buf lengths = m->batch.lengths;
    vkft_linear transform = {.w = m->mlm_dense_w, .b = m->mlm_dense_b, .in = C, .out = C};
    TRY(vkft_arch_embed(m, rec, m->wte, m->layer[0].x_in))
    for (uint32_t l = 0; l < L; l++) TRY(bert_layer_forward(m, rec, l))
    /* MLM head: LayerNorm(gelu(dense(h))) then the tied decoder with its bias. */
    TRY(vkft_linear_forward(m, rec, &transform, m->x_final, m->mlm_t, BT))
    TRY(vkft_activation_forward(rec, VKFT_ACT_GELU_ERF, m->mlm_t, m->mlm_g, BT * C))
    TRY(vkft_layernorm_forward(rec, m->mlm_g, vkft_pbuf(m, m->mlm_ln_w), vkft_pbuf(m, m->mlm_ln_b), m->hf,
                               m->statfa, m->statfb, BT, C, eps))
    TRY(vkft_arch_lm_head_loss(m, rec, m->wte, m->hf, m->dh, backward))
    if (!backward) return 0;

    TRY(vkft_layernorm_backward(rec, m->mlm_g, vkft_pbuf(m, m->mlm_ln_w), m->statfa, m->statfb, m->dh, m->dh,
                                vkft_pgrad(m, m->mlm_ln_w), vkft_pgrad(m, m->mlm_ln_b), m->norm_scratch, BT, C, 1))
    TRY(vkft_activation_backward(rec, VKFT_ACT_GELU_ERF, m->mlm_t, m->dh, m->dh, BT * C))
    TRY(vkft_linear_backward(m, rec, &transform, m->x_final, m->dh, m->dx, BT, 0))
    for (uint32_t l = L; l-- > 0;) {
        vkft_block_params *p = &m->blocks[l];
        vkft_layer_acts *a = &m->layer[l];
        if (m->checkpoint) TRY(bert_layer_forward(m, rec, l)) /* recompute what was not kept */
        /* next = LN2(m_pre), m_pre = x_mid + proj(gelu(fc(x_mid))) */
        TRY(vkft_layernorm_backward(rec, a->m_pre, vkft_pbuf(m, p->ln2_w), a->stat2a, a->stat2b, m->dx, m->dh,
                                    vkft_pgrad(m, p->ln2_w), vkft_pgrad(m, p->ln2_b), m->norm_scratch, BT, C, 1))
        TRY(vkft_linear_backward(m, rec, &p->proj, a->a, m->dh, m->da, BT, 0))
        TRY(vkft_activation_backward(rec, VKFT_ACT_GELU_ERF, a->g, m->da, m->dg, BT * I))
        TRY(vkft_linear_backward(m, rec, &p->fc, a->x_mid, m->dg, m->dh2, BT, 0))
        TRY(vkft_add_f32(rec, m->dh, m->dh2, m->dx, BT * C)) /* d x_mid */
        /* x_mid = LN1(o_pre), o_pre = x_in + o(attention(q(x_in), k(x_in), v(x_in))) */
        TRY(vkft_layernorm_backward(rec, a->o_pre, vkft_pbuf(m, p->ln1_w), a->stat1a, a->stat1b, m->dx, m->dh,
                                    vkft_pgrad(m, p->ln1_w), vkft_pgrad(m, p->ln1_b), m->norm_scratch, BT, C, 1))
        TRY(vkft_linear_backward(m, rec, &p->o, a->attn, m->dh, m->dattn, BT, 0))
        TRY(vkft_attention_backward(rec, &dims, m->dq, m->dk, m->dv, m->delta, m->dattn, a->q, a->k, a->v, a->attn,
                                    a->lse, &lengths))
        TRY(vkft_linear_backward(m, rec, &p->q, a->x_in, m->dq, m->dh2, BT, 0))
        TRY(vkft_linear_backward(m, rec, &p->k, a->x_in, m->dk, m->dh2, BT, 1))
        TRY(vkft_linear_backward(m, rec, &p->v, a->x_in, m->dv, m->dh2, BT, 1))
        TRY(vkft_add_f32(rec, m->dh, m->dh2, m->dx, BT * C)) /* d x_in */
    }
    TRY(vkft_arch_embed_backward(m, rec, m->wte, m->dx))
    return 0;
}
