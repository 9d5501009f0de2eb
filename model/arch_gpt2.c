/* GPT-2: learned positions, pre-LayerNorm blocks, fused c_attn (Conv1D [C, 3C]), GELU (tanh), tied head. */
#include <stdio.h>

#include "model/arch_common.h"
#include "model/model_internal.h"
#include "model/ops_activation.h"
#include "model/ops_attention.h"
#include "model/ops_basic.h"
#include "model/ops_norm.h"

/* A Conv1D layer [in, out], or the column slice [col, col + out) of one with ld columns. */
static vkft_linear conv1d(int w, int b, uint32_t in, uint32_t out, uint32_t col, uint32_t ld) {
    vkft_linear l = {.w = w, .b = b, .conv1d = 1, .in = in, .out = out, .col = col, .ld = ld};
    return l;
}

int vkft_gpt2_params(vkft_model *m) {
    const vkft_model_config *c = &m->cfg;
    uint32_t C = c->hidden_size, I = c->intermediate_size;
    m->wte = vkft_model_add_param(m, "transformer.wte.weight", c->vocab_size, C, 0);
    m->wpe = vkft_model_add_param(m, "transformer.wpe.weight", c->max_positions, C, 0);
    for (uint32_t l = 0; l < c->num_layers; l++) {
        vkft_block_params *p = &m->blocks[l];
        char n[128];
#define P(idx, part, d0, d1)                                                                             \
    snprintf(n, sizeof n, "transformer.h.%u.%s", l, part);                                              \
    int idx = vkft_model_add_param(m, n, d0, d1, 0);
        P(ln1_w, "ln_1.weight", C, 0)
        P(ln1_b, "ln_1.bias", C, 0)
        P(attn_w, "attn.c_attn.weight", C, 3 * C)
        P(attn_b, "attn.c_attn.bias", 3 * C, 0)
        P(proj_w, "attn.c_proj.weight", C, C)
        P(proj_b, "attn.c_proj.bias", C, 0)
        P(ln2_w, "ln_2.weight", C, 0)
        P(ln2_b, "ln_2.bias", C, 0)
        P(fc_w, "mlp.c_fc.weight", C, I)
        P(fc_b, "mlp.c_fc.bias", I, 0)
        P(mproj_w, "mlp.c_proj.weight", I, C)
        P(mproj_b, "mlp.c_proj.bias", C, 0)
#undef P
        p->ln1_w = ln1_w, p->ln1_b = ln1_b, p->ln2_w = ln2_w, p->ln2_b = ln2_b;
        p->q = conv1d(attn_w, attn_b, C, C, 0, 3 * C);
        p->k = conv1d(attn_w, attn_b, C, C, C, 3 * C);
        p->v = conv1d(attn_w, attn_b, C, C, 2 * C, 3 * C);
        p->o = conv1d(proj_w, proj_b, C, C, 0, C);
        p->fc = conv1d(fc_w, fc_b, C, I, 0, I);
        p->proj = conv1d(mproj_w, mproj_b, I, C, 0, C);
    }
    m->lnf_w = vkft_model_add_param(m, "transformer.ln_f.weight", C, 0, 0);
    m->lnf_b = vkft_model_add_param(m, "transformer.ln_f.bias", C, 0, 0);
    return 0;
}

/* One layer's forward; also re-run before the layer's backward when activations are checkpointed. */
static int gpt2_layer_forward(vkft_model *m, vkft_recorder *rec, uint32_t l) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size, I = c->intermediate_size, L = c->num_layers;
    float eps = c->norm_eps;
    vkft_attention_dims dims = vkft_arch_attention_dims(m);
    vkft_buf lengths = m->batch.lengths;
    vkft_block_params *p = &m->blocks[l];
    vkft_layer_acts *a = &m->layer[l];
    vkft_buf next = l + 1 < L ? m->layer[l + 1].x_in : m->x_final;
    TRY(vkft_layernorm_forward(rec, a->x_in, vkft_pbuf(m, p->ln1_w), vkft_pbuf(m, p->ln1_b), a->h1, a->stat1a,
                               a->stat1b, BT, C, eps))
    TRY(vkft_linear_forward(m, rec, &p->q, a->h1, a->q, BT))
    TRY(vkft_linear_forward(m, rec, &p->k, a->h1, a->k, BT))
    TRY(vkft_linear_forward(m, rec, &p->v, a->h1, a->v, BT))
    TRY(vkft_attention_forward(rec, &dims, a->attn, a->lse, a->q, a->k, a->v, &lengths))
    TRY(vkft_linear_forward(m, rec, &p->o, a->attn, a->x_mid, BT))
    TRY(vkft_add_f32(rec, a->x_mid, a->x_in, a->x_mid, BT * C))
    TRY(vkft_layernorm_forward(rec, a->x_mid, vkft_pbuf(m, p->ln2_w), vkft_pbuf(m, p->ln2_b), a->h2, a->stat2a,
                               a->stat2b, BT, C, eps))
    TRY(vkft_linear_forward(m, rec, &p->fc, a->h2, a->g, BT))
    TRY(vkft_activation_forward(rec, VKFT_ACT_GELU_TANH, a->g, a->a, BT * I))
    TRY(vkft_linear_forward(m, rec, &p->proj, a->a, next, BT))
    TRY(vkft_add_f32(rec, next, a->x_mid, next, BT * C))
    return 0;
}

int vkft_gpt2_step(vkft_model *m, vkft_recorder *rec, int backward) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size, I = c->intermediate_size, L = c->num_layers;
    float eps = c->norm_eps;
    vkft_attention_dims dims = vkft_arch_attention_dims(m);
    vkft_buf lengths = m->batch.lengths;
    TRY(vkft_arch_embed(m, rec, m->wte, m->layer[0].x_in))
    for (uint32_t l = 0; l < L; l++) TRY(gpt2_layer_forward(m, rec, l))
    TRY(vkft_layernorm_forward(rec, m->x_final, vkft_pbuf(m, m->lnf_w), vkft_pbuf(m, m->lnf_b), m->hf, m->statfa,
                               m->statfb, BT, C, eps))
    TRY(vkft_arch_lm_head_loss(m, rec, m->wte, m->hf, m->dh, backward))
    if (!backward) return 0;

    TRY(vkft_layernorm_backward(rec, m->x_final, vkft_pbuf(m, m->lnf_w), m->statfa, m->statfb, m->dh, m->dx,
                                vkft_pgrad(m, m->lnf_w), vkft_pgrad(m, m->lnf_b), m->norm_scratch, BT, C, 1))
    for (uint32_t l = L; l-- > 0;) {
        vkft_block_params *p = &m->blocks[l];
        vkft_layer_acts *a = &m->layer[l];
        if (m->checkpoint) TRY(gpt2_layer_forward(m, rec, l)) /* recompute what was not kept */
        TRY(vkft_linear_backward(m, rec, &p->proj, a->a, m->dx, m->da, BT, 0))
        TRY(vkft_activation_backward(rec, VKFT_ACT_GELU_TANH, a->g, m->da, m->dg, BT * I))
        TRY(vkft_linear_backward(m, rec, &p->fc, a->h2, m->dg, m->dh2, BT, 0))
        TRY(vkft_layernorm_backward(rec, a->x_mid, vkft_pbuf(m, p->ln2_w), a->stat2a, a->stat2b, m->dh2, m->dh,
                                    vkft_pgrad(m, p->ln2_w), vkft_pgrad(m, p->ln2_b), m->norm_scratch, BT, C, 1))
        TRY(vkft_add_f32(rec, m->dx, m->dh, m->dx, BT * C))
        TRY(vkft_linear_backward(m, rec, &p->o, a->attn, m->dx, m->dattn, BT, 0))
        TRY(vkft_attention_backward(rec, &dims, m->dq, m->dk, m->dv, m->delta, m->dattn, a->q, a->k, a->v, a->attn,
                                    a->lse, &lengths))
        TRY(vkft_linear_backward(m, rec, &p->q, a->h1, m->dq, m->dh, BT, 0))
        TRY(vkft_linear_backward(m, rec, &p->k, a->h1, m->dk, m->dh, BT, 1))
        TRY(vkft_linear_backward(m, rec, &p->v, a->h1, m->dv, m->dh, BT, 1))
        TRY(vkft_layernorm_backward(rec, a->x_in, vkft_pbuf(m, p->ln1_w), a->stat1a, a->stat1b, m->dh, m->dh,
                                    vkft_pgrad(m, p->ln1_w), vkft_pgrad(m, p->ln1_b), m->norm_scratch, BT, C, 1))
        TRY(vkft_add_f32(rec, m->dx, m->dh, m->dx, BT * C))
    }
    TRY(vkft_arch_embed_backward(m, rec, m->wte, m->dx))
    return 0;
}
