/* The Llama family (llama, mistral, qwen2): RMSNorm, RoPE, grouped-query attention, SwiGLU MLP. */
#include <stdio.h>
#include <string.h>

#include "model/arch_common.h"
#include "model/model_internal.h"
#include "model/ops_activation.h"
#include "model/ops_attention.h"
#include "model/ops_basic.h"
#include "model/ops_norm.h"

static vkft_linear linear(vkft_model *m, const char *name, uint32_t out, uint32_t in, int bias) {
    char w[192], b[192];
    snprintf(w, sizeof w, "%s.weight", name);
    snprintf(b, sizeof b, "%s.bias", name);
    vkft_linear l = {.w = vkft_model_add_param(m, w, out, in, 0), .b = -1, .in = in, .out = out};
    if (bias) l.b = vkft_model_add_param(m, b, out, 0, 0);
    return l;
}

int vkft_llama_params(vkft_model *m) {
    const vkft_model_config *c = &m->cfg;
    uint32_t C = c->hidden_size, HD = c->num_heads * c->head_dim, KD = c->num_kv_heads * c->head_dim,
             I = c->intermediate_size;
    int qwen2 = !strcmp(c->model_type, "qwen2");
    m->wte = vkft_model_add_param(m, "model.embed_tokens.weight", c->vocab_size, C, 0);
    for (uint32_t l = 0; l < c->num_layers; l++) {
        vkft_block_params *p = &m->blocks[l];
        char n[128];
        snprintf(n, sizeof n, "model.layers.%u.input_layernorm.weight", l);
        p->ln1_w = vkft_model_add_param(m, n, C, 0, 0);
        p->ln1_b = p->ln2_b = -1;
#define LIN(field, part, out, in, bias)                                                                  \
    snprintf(n, sizeof n, "model.layers.%u.%s", l, part);                                                \
    p->field = linear(m, n, out, in, bias);
        LIN(q, "self_attn.q_proj", HD, C, c->attention_bias)
        LIN(k, "self_attn.k_proj", KD, C, c->attention_bias)
        LIN(v, "self_attn.v_proj", KD, C, c->attention_bias)
        LIN(o, "self_attn.o_proj", C, HD, c->attention_bias && !qwen2) /* qwen2: biases on q/k/v only */
        snprintf(n, sizeof n, "model.layers.%u.post_attention_layernorm.weight", l);
        p->ln2_w = vkft_model_add_param(m, n, C, 0, 0);
        LIN(gate, "mlp.gate_proj", I, C, c->mlp_bias)
        LIN(up, "mlp.up_proj", I, C, c->mlp_bias)
        LIN(down, "mlp.down_proj", C, I, c->mlp_bias)
#undef LIN
    }
    m->lnf_w = vkft_model_add_param(m, "model.norm.weight", C, 0, 0);
    m->lm_head = c->tie_word_embeddings ? -1 : vkft_model_add_param(m, "lm_head.weight", c->vocab_size, C, 0);
    return 0;
}

/* One layer's forward; also re-run before the layer's backward when activations are checkpointed. */
static int llama_layer_forward(vkft_model *m, vkft_recorder *rec, uint32_t l) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size, I = c->intermediate_size, L = c->num_layers;
    float eps = c->norm_eps;
    vkft_attention_dims dims = vkft_arch_attention_dims(m);
    vkft_buf lengths = m->batch.lengths;
    vkft_block_params *p = &m->blocks[l];
    vkft_layer_acts *a = &m->layer[l];
    vkft_buf next = l + 1 < L ? m->layer[l + 1].x_in : m->x_final;
    TRY(vkft_rmsnorm_forward(rec, a->x_in, vkft_pbuf(m, p->ln1_w), a->h1, a->stat1a, BT, C, eps))
    TRY(vkft_linear_forward(m, rec, &p->q, a->h1, a->q, BT))
    TRY(vkft_linear_forward(m, rec, &p->k, a->h1, a->k, BT))
    TRY(vkft_linear_forward(m, rec, &p->v, a->h1, a->v, BT))
    TRY(vkft_arch_rope(m, rec, a->q, c->num_heads, 0))
    TRY(vkft_arch_rope(m, rec, a->k, c->num_kv_heads, 0))
    TRY(vkft_attention_forward(rec, &dims, a->attn, a->lse, a->q, a->k, a->v, &lengths))
    TRY(vkft_linear_forward(m, rec, &p->o, a->attn, a->x_mid, BT))
    TRY(vkft_add_f32(rec, a->x_mid, a->x_in, a->x_mid, BT * C))
    TRY(vkft_rmsnorm_forward(rec, a->x_mid, vkft_pbuf(m, p->ln2_w), a->h2, a->stat2a, BT, C, eps))
    TRY(vkft_linear_forward(m, rec, &p->gate, a->h2, a->g, BT))
    TRY(vkft_linear_forward(m, rec, &p->up, a->h2, a->u, BT))
    TRY(vkft_swiglu_forward(rec, a->g, a->u, a->a, BT * I))
    TRY(vkft_linear_forward(m, rec, &p->down, a->a, next, BT))
    TRY(vkft_add_f32(rec, next, a->x_mid, next, BT * C))
    return 0;
}

int vkft_llama_step(vkft_model *m, vkft_recorder *rec, int backward) {
    const vkft_model_config *c = &m->cfg;
    uint32_t BT = m->BT, C = c->hidden_size, I = c->intermediate_size, L = c->num_layers;
    float eps = c->norm_eps;
    vkft_attention_dims dims = vkft_arch_attention_dims(m);
    vkft_buf lengths = m->batch.lengths;
    TRY(vkft_arch_embed(m, rec, m->wte, m->layer[0].x_in))
    for (uint32_t l = 0; l < L; l++) TRY(llama_layer_forward(m, rec, l))
    TRY(vkft_rmsnorm_forward(rec, m->x_final, vkft_pbuf(m, m->lnf_w), m->hf, m->statfa, BT, C, eps))
    int head = m->lm_head >= 0 ? m->lm_head : m->wte;
    TRY(vkft_arch_lm_head_loss(m, rec, head, m->hf, m->dh, backward))
    if (!backward) return 0;

    /* Backward: dh = d(final normed hidden) from the head, then the layers in reverse. m->dx carries the
     * gradient of the residual stream. */
    TRY(vkft_rmsnorm_backward(rec, m->x_final, vkft_pbuf(m, m->lnf_w), m->statfa, m->dh, m->dx,
                              vkft_pgrad(m, m->lnf_w), m->norm_scratch, BT, C, 1))
    for (uint32_t l = L; l-- > 0;) {
        vkft_block_params *p = &m->blocks[l];
        vkft_layer_acts *a = &m->layer[l];
        if (m->checkpoint) TRY(llama_layer_forward(m, rec, l)) /* recompute what was not kept */
        /* MLP: next = x_mid + down(swiglu(gate(h2), up(h2))) */
        TRY(vkft_linear_backward(m, rec, &p->down, a->a, m->dx, m->da, BT, 0))
        TRY(vkft_swiglu_backward(rec, a->g, a->u, m->da, m->dg, m->du, BT * I))
        TRY(vkft_linear_backward(m, rec, &p->gate, a->h2, m->dg, m->dh2, BT, 0))
        TRY(vkft_linear_backward(m, rec, &p->up, a->h2, m->du, m->dh2, BT, 1))
        TRY(vkft_rmsnorm_backward(rec, a->x_mid, vkft_pbuf(m, p->ln2_w), a->stat2a, m->dh2, m->dh,
                                  vkft_pgrad(m, p->ln2_w), m->norm_scratch, BT, C, 1))
        TRY(vkft_add_f32(rec, m->dx, m->dh, m->dx, BT * C))
        /* Attention: x_mid = x_in + o(attention(rope(q(h1)), rope(k(h1)), v(h1))) */
        TRY(vkft_linear_backward(m, rec, &p->o, a->attn, m->dx, m->dattn, BT, 0))
        TRY(vkft_attention_backward(rec, &dims, m->dq, m->dk, m->dv, m->delta, m->dattn, a->q, a->k, a->v, a->attn,
                                    a->lse, &lengths))
        TRY(vkft_arch_rope(m, rec, m->dq, c->num_heads, 1))
        TRY(vkft_arch_rope(m, rec, m->dk, c->num_kv_heads, 1))
        TRY(vkft_linear_backward(m, rec, &p->q, a->h1, m->dq, m->dh, BT, 0))
        TRY(vkft_linear_backward(m, rec, &p->k, a->h1, m->dk, m->dh, BT, 1))
        TRY(vkft_linear_backward(m, rec, &p->v, a->h1, m->dv, m->dh, BT, 1))
        TRY(vkft_rmsnorm_backward(rec, a->x_in, vkft_pbuf(m, p->ln1_w), a->stat1a, m->dh, m->dh,
                                  vkft_pgrad(m, p->ln1_w), m->norm_scratch, BT, C, 1))
        TRY(vkft_add_f32(rec, m->dx, m->dh, m->dx, BT * C))
    }
    TRY(vkft_arch_embed_backward(m, rec, m->wte, m->dx))
    return 0;
}
