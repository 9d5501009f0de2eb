/* Loading a Hugging Face model folder onto the device, planning a batch shape, and recording steps. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/arch_common.h"
#include "model/model_internal.h"
#include "util/fsutil.h"
#include "model/ops_basic.h"
#include "model/ops_norm.h"
#include "model/ops_xent.h"
#include "model/safetensors.h"

int vkft_model_add_param(vkft_model *m, const char *name, uint32_t d0, uint32_t d1, int optional) {
    m->params = realloc(m->params, (m->n_params + 1) * sizeof *m->params);
    vkft_param *p = &m->params[m->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = d1 ? 2 : 1;
    p->shape[0] = d0;
    p->shape[1] = d1;
    p->numel = (uint64_t)d0 * (d1 ? d1 : 1);
    p->optional = optional;
    return m->n_params++;
}

/* The checkpoint's tensor for a parameter: its canonical name, or with the architecture's prefix
 * ("transformer.", "bert.") added or removed, as checkpoints of the same model differ there. */
static const vkft_st_tensor *find_tensor(const vkft_safetensors *st, const char *name) {
    static const char *const prefixes[] = {"transformer.", "bert.", "model."};
    const vkft_st_tensor *t = vkft_st_find(st, name);
    if (t) return t;
    char alt[200];
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (!strncmp(name, prefixes[i], n)) {
            if ((t = vkft_st_find(st, name + n))) return t;
        }
    }
    for (size_t i = 0; i < 2; i++) { /* model. is never added: llama's names always carry it */
        snprintf(alt, sizeof alt, "%s%s", prefixes[i], name);
        if ((t = vkft_st_find(st, alt))) return t;
    }
    /* Older BERT checkpoints (bert-base-uncased's own) name LayerNorm parameters gamma and beta. */
    const char *ln = strstr(name, "LayerNorm.");
    if (ln && (!strcmp(ln, "LayerNorm.weight") || !strcmp(ln, "LayerNorm.bias"))) {
        snprintf(alt, sizeof alt, "%.*sLayerNorm.%s", (int)(ln - name), name,
                 !strcmp(ln, "LayerNorm.weight") ? "gamma" : "beta");
        return find_tensor(st, alt);
    }
    return NULL;
}

static int upload_param(vkft_model *m, vkft_param *p, const vkft_st_tensor *t, char *err, size_t errlen) {
    float *host = malloc(p->numel * 4);
    if (!host) return vkft_fail(err, errlen, "out of host memory loading %s", p->name);
    vkft_to_f32(t->data, t->dtype, host, p->numel);
    int rc = vkft_upload(m->ctx, p->w, 0, host, p->numel * 4);
    free(host);
    if (rc) return vkft_fail(err, errlen, "uploading %s: %s", p->name, vkft_last_error(m->ctx));
    return 0;
}

int vkft_model_load(vkft_ctx *ctx, const char *dir, vkft_model **out, char *err, size_t errlen) {
    *out = NULL;
    vkft_model *m = calloc(1, sizeof *m);
    m->ctx = ctx;
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    m->wte = m->wpe = m->wtt = m->emb_ln_w = m->emb_ln_b = m->lnf_w = m->lnf_b = m->lm_head = -1;
    m->mlm_dense_w = m->mlm_dense_b = m->mlm_ln_w = m->mlm_ln_b = m->mlm_bias = -1;
    if (vkft_config_load(dir, &m->cfg, err, errlen)) {
        vkft_model_free(m);
        return -1;
    }
    m->blocks = calloc(m->cfg.num_layers, sizeof *m->blocks);
    int rc = m->cfg.arch == VKFT_ARCH_GPT2    ? vkft_gpt2_params(m)
             : m->cfg.arch == VKFT_ARCH_LLAMA ? vkft_llama_params(m)
                                              : vkft_bert_params(m);
    if (rc) {
        vkft_model_free(m);
        return vkft_fail(err, errlen, "%s: %s", dir, vkft_last_error(ctx));
    }
    vkft_safetensors st;
    if (vkft_st_open_dir(dir, &st, err, errlen)) {
        vkft_model_free(m);
        return -1;
    }
    /* Every required tensor present with its shape, before anything is uploaded. */
    char missing[1024] = "";
    int n_missing = 0;
    for (int i = 0; i < m->n_params; i++) {
        vkft_param *p = &m->params[i];
        const vkft_st_tensor *t = find_tensor(&st, p->name);
        if (!t) {
            if (p->optional) continue;
            if (n_missing++ < 8) {
                size_t len = strlen(missing);
                snprintf(missing + len, sizeof missing - len, "%s%s", len ? ", " : "", p->name);
            }
            continue;
        }
        int shape_ok = t->numel == (int64_t)p->numel && (t->ndim == p->ndim || (p->ndim == 1 && t->ndim == 1));
        for (int d = 0; shape_ok && d < p->ndim; d++) shape_ok = t->shape[d] == (int64_t)p->shape[d];
        if (!shape_ok) {
            vkft_st_close(&st);
            char want[64];
            snprintf(want, sizeof want, p->ndim == 2 ? "[%u, %u]" : "[%u]", p->shape[0], p->shape[1]);
            vkft_fail(err, errlen, "%s: tensor %s has %d dimensions (%lld elements), but config.json implies %s", dir,
                 t->name, t->ndim, (long long)t->numel, want);
            vkft_model_free(m);
            return -1;
        }
    }
    if (n_missing) {
        vkft_st_close(&st);
        vkft_fail(err, errlen, "%s: the checkpoint lacks %d tensor%s that a %s model with this config.json needs: %s%s",
             dir, n_missing, n_missing == 1 ? "" : "s", m->cfg.model_type, missing, n_missing > 8 ? ", ..." : "");
        vkft_model_free(m);
        return -1;
    }
    m->weights = vkft_arena_create(ctx, "weights", 0);
    m->grads = vkft_arena_create(ctx, "gradients", 0);
    m->acts = vkft_arena_create(ctx, "activations", 0);
    rc = 0;
    for (int i = 0; i < m->n_params && rc == 0; i++) {
        vkft_param *p = &m->params[i];
        if (vkft_arena_alloc(m->weights, p->numel * 4, &p->w)) {
            rc = vkft_fail(err, errlen, "%s: %s", p->name, vkft_last_error(ctx));
            break;
        }
        m->plan.weights += p->numel * 4;
        const vkft_st_tensor *t = find_tensor(&st, p->name);
        if (t) {
            snprintf(p->name, sizeof p->name, "%s", t->name); /* the checkpoint's own spelling */
            rc = upload_param(m, p, t, err, errlen);
            p->loaded = 1;
        } else {
            float *zero = calloc(p->numel, 4);
            rc = vkft_upload(ctx, p->w, 0, zero, p->numel * 4);
            free(zero);
        }
    }
    vkft_st_close(&st);
    if (rc == 0 && m->cfg.arch == VKFT_ARCH_LLAMA) {
        uint32_t half = m->cfg.head_dim / 2;
        float *inv = malloc(half * 4);
        vkft_arch_rope_inv_freq(&m->cfg, inv);
        rc = vkft_arena_alloc(m->weights, half * 4, &m->inv_freq) || vkft_upload(ctx, m->inv_freq, 0, inv, half * 4);
        free(inv);
        if (rc) vkft_fail(err, errlen, "%s: %s", dir, vkft_last_error(ctx));
    }
    if (rc) {
        vkft_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

static void free_plan(vkft_model *m) {
    if (m->acts) {
        vkft_arena_destroy(m->acts);
        m->acts = vkft_arena_create(m->ctx, "activations", 0);
    }
    free(m->layer);
    m->layer = NULL;
    m->planned = 0;
}

void vkft_model_free(vkft_model *m) {
    if (!m) return;
    free(m->layer);
    vkft_arena_destroy(m->acts);
    vkft_arena_destroy(m->grads);
    vkft_arena_destroy(m->weights);
    free(m->params);
    free(m->blocks);
    free(m);
}

const vkft_model_config *vkft_model_cfg(const vkft_model *m) { return &m->cfg; }
int vkft_model_param_count(const vkft_model *m) { return m->n_params; }
vkft_param *vkft_model_param(vkft_model *m, int i) { return i >= 0 && i < m->n_params ? &m->params[i] : NULL; }
vkft_ctx *vkft_model_ctx(vkft_model *m) { return m->ctx; }

int vkft_model_find_param(const vkft_model *m, const char *name) {
    for (int i = 0; i < m->n_params; i++)
        if (!strcmp(m->params[i].name, name)) return i;
    return -1;
}

int vkft_block_linears(vkft_model *m, uint32_t l, vkft_linear **out) {
    vkft_block_params *p = &m->blocks[l];
    vkft_linear *all[] = {&p->q, &p->k, &p->v, &p->o, &p->gate, &p->up, &p->down, &p->fc, &p->proj};
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]->out > 0) out[n++] = all[i];
    out[n] = NULL;
    return n;
}

void vkft_model_set_checkpointing(vkft_model *m, int on) {
    if (m->checkpoint != on) m->planned = 0;
    m->checkpoint = on;
}

void vkft_model_set_logits_budget(vkft_model *m, uint64_t bytes) {
    if (m->logits_budget != bytes) m->planned = 0;
    m->logits_budget = bytes;
}

/* Row counts of the head's chunks and parts are multiples of this where they can be (the matmul kernels'
 * row and column blocks divide it). */
#define HEAD_ROW_BLOCK 64

/* Rows of logits per LM-head chunk: as many as the budget (and the device's binding range) allows, a
 * multiple of the rows whose hidden states start at an aligned offset (chunks bind slices of h and dh). */
static uint32_t lm_head_rows(const vkft_model *m) {
    uint64_t row_bytes = (uint64_t)vkft_logits_ld(m) * 4, budget = m->logits_budget ? m->logits_budget : 64ull << 20;
    if (budget > vkft_binding_limit(m->ctx)) budget = vkft_binding_limit(m->ctx);
    uint64_t row = (uint64_t)m->cfg.hidden_size * 4, fit = budget / row_bytes;
    /* whole blocks of 64 rows where the budget allows: a partial block of rows takes the matmul's slow
     * edge path (measured on lavapipe: the logits product 1.56x slower with 341 rows than with 320) */
    uint64_t rows = fit >= HEAD_ROW_BLOCK ? vkft_aligned_count(m->ctx, row * HEAD_ROW_BLOCK, fit / HEAD_ROW_BLOCK) *
                                                HEAD_ROW_BLOCK
                                          : 0;
    if (!rows) rows = vkft_aligned_count(m->ctx, row, fit);
    return rows >= m->BT ? m->BT : (uint32_t)rows;
}

uint32_t vkft_head_part_rows(const vkft_model *m) {
    uint64_t row = (uint64_t)m->cfg.hidden_size * 4, limit = vkft_binding_limit(m->ctx);
    if ((uint64_t)m->cfg.vocab_size * row <= limit) return m->cfg.vocab_size;
    /* a part's first row v0 starts both W's rows (v0 * row bytes) and the logits' columns (v0 * 4 bytes):
     * aligned 4-byte offsets make both aligned */
    uint64_t fit = limit / row, part = vkft_aligned_count(m->ctx, 4 * HEAD_ROW_BLOCK, fit / HEAD_ROW_BLOCK);
    return (uint32_t)(part ? part * HEAD_ROW_BLOCK : vkft_aligned_count(m->ctx, 4, fit));
}

void vkft_model_set_trainable(vkft_model *m, int trainable) {
    for (int i = 0; i < m->n_params; i++) m->params[i].trainable = trainable;
}

/* ---- the plan ----------------------------------------------------------------------------- */

static int alloc_f(vkft_model *m, vkft_buf *b, uint64_t floats, uint64_t *kind) {
    if (vkft_arena_alloc(m->acts, (floats ? floats : 1) * 4, b)) return -1;
    *kind += (floats ? floats : 1) * 4;
    return 0;
}

int vkft_model_plan(vkft_model *m, uint32_t B, uint32_t T, int train, vkft_memory_plan *plan) {
    const vkft_model_config *c = &m->cfg;
    if (m->planned && m->B == B && m->T == T && m->planned_train == train) {
        if (plan) *plan = m->plan;
        return 0;
    }
    if (T > c->max_positions && c->arch != VKFT_ARCH_LLAMA)
        return vkft_set_error(m->ctx, "sequence length %u exceeds the model's %u positions", T, c->max_positions);
    free_plan(m);
    m->B = B;
    m->T = T;
    m->BT = B * T;
    m->head_rows = lm_head_rows(m);
    if ((uint64_t)vkft_head_part_rows(m) * c->hidden_size * 4 > vkft_binding_limit(m->ctx))
        return vkft_set_error(m->ctx, "the output head's rows (%u floats) exceed what one binding spans", c->hidden_size);
    m->plan.gradients = m->plan.activations = m->plan.scratch = 0;
    /* gradients, once per trainable parameter */
    for (int i = 0; i < m->n_params; i++) {
        vkft_param *p = &m->params[i];
        if (p->grad.block) {
            vkft_arena_free(m->grads, p->grad);
            memset(&p->grad, 0, sizeof p->grad);
        }
        if (train && p->trainable) {
            if (vkft_arena_alloc(m->grads, p->numel * 4, &p->grad)) return -1;
            m->plan.gradients += p->numel * 4;
        }
    }
    uint64_t BT = m->BT, C = c->hidden_size, HD = (uint64_t)c->num_heads * c->head_dim,
             KD = (uint64_t)c->num_kv_heads * c->head_dim, I = c->intermediate_size;
    uint64_t *act = &m->plan.activations, *scr = &m->plan.scratch;
    int llama = c->arch == VKFT_ARCH_LLAMA, bert = c->arch == VKFT_ARCH_BERT;
    vkft_batch_dev *b = &m->batch;
    b->B = B;
    b->T = T;
    if (alloc_f(m, &b->input_ids, BT, scr) || alloc_f(m, &b->position_ids, BT, scr) ||
        alloc_f(m, &b->token_type_ids, BT, scr) || alloc_f(m, &b->targets, BT, scr) ||
        alloc_f(m, &b->lengths, B, scr))
        return -1;
    m->layer = calloc(c->num_layers, sizeof *m->layer);
    /* In eval, one set of layer activations serves every layer (nothing is kept for a backward); with
     * checkpointing, every layer keeps its own input and shares the rest. */
    for (uint32_t l = 0; l < c->num_layers; l++) {
        vkft_layer_acts *a = &m->layer[l];
        if (!train && l > 0) {
            *a = m->layer[0];
            continue;
        }
        if (train && m->checkpoint && l > 0) {
            *a = m->layer[0];
            if (alloc_f(m, &a->x_in, BT * C, act)) return -1;
            continue;
        }
        if (alloc_f(m, &a->x_in, BT * C, act) || alloc_f(m, &a->stat1a, BT, act) ||
            alloc_f(m, &a->stat1b, BT, act) || alloc_f(m, &a->h1, BT * C, act) || alloc_f(m, &a->q, BT * HD, act) ||
            alloc_f(m, &a->k, BT * KD, act) || alloc_f(m, &a->v, BT * KD, act) ||
            alloc_f(m, &a->attn, BT * HD, act) || alloc_f(m, &a->lse, (uint64_t)B * c->num_heads * T, act) ||
            alloc_f(m, &a->x_mid, BT * C, act) || alloc_f(m, &a->stat2a, BT, act) ||
            alloc_f(m, &a->stat2b, BT, act) || alloc_f(m, &a->h2, BT * C, act) || alloc_f(m, &a->g, BT * I, act) ||
            alloc_f(m, &a->a, BT * I, act))
            return -1;
        if (llama && alloc_f(m, &a->u, BT * I, act)) return -1;
        if (bert && (alloc_f(m, &a->o_pre, BT * C, act) || alloc_f(m, &a->m_pre, BT * C, act))) return -1;
    }
    uint64_t logits = (uint64_t)m->head_rows * vkft_logits_ld(m);
    if (alloc_f(m, &m->x_final, BT * C, act) || alloc_f(m, &m->statfa, BT, act) || alloc_f(m, &m->statfb, BT, act) ||
        alloc_f(m, &m->hf, BT * C, act) || alloc_f(m, &m->logits, logits, act) ||
        alloc_f(m, &m->row_loss, BT, scr) || alloc_f(m, &m->loss_stats, 4, scr) || alloc_f(m, &m->loss, 1, scr) ||
        alloc_f(m, &m->emb_status, 2, scr))
        return -1;
    if (bert && (alloc_f(m, &m->mlm_t, BT * C, act) || alloc_f(m, &m->mlm_g, BT * C, act) ||
                 alloc_f(m, &m->e_sum, BT * C, act) || alloc_f(m, &m->e_mean, BT, act) ||
                 alloc_f(m, &m->e_rstd, BT, act)))
        return -1;
    if (!llama && alloc_f(m, &m->e_tmp, BT * C, scr)) return -1;
    /* attention's score blocks on CPU devices (the scores path, model/ops_attention.h); none on GPUs */
    m->attn_scratch = (vkft_buf){0};
    vkft_attention_dims ad = vkft_arch_attention_dims(m);
    uint64_t score_bytes = vkft_attention_scratch_bytes(m->ctx, &ad);
    if (score_bytes && alloc_f(m, &m->attn_scratch, score_bytes / 4, scr)) return -1;
    /* LoRA: each adapted layer keeps x A^T for its backward. */
    uint64_t lora_in_max = 0;
    for (uint32_t l = 0; l < c->num_layers; l++) {
        vkft_linear *lin[10];
        int n = vkft_block_linears(m, l, lin);
        for (int i = 0; i < n; i++) {
            if (lin[i]->lora_r && alloc_f(m, &lin[i]->xa, BT * lin[i]->lora_r, act)) return -1;
            if (lin[i]->lora_r && lin[i]->in > lora_in_max) lora_in_max = lin[i]->in;
        }
    }
    if (m->lora_r_max && train && alloc_f(m, &m->dxa, BT * m->lora_r_max, scr)) return -1;
    if (m->lora_r_max && train && m->lora_dropout > 0) {
        static const uint32_t zero[2] = {0, 0};
        if (alloc_f(m, &m->lora_x, BT * lora_in_max, scr) || alloc_f(m, &m->dropout_ctr, 2, scr) ||
            vkft_upload(m->ctx, m->dropout_ctr, 0, zero, sizeof zero))
            return -1;
    }
    if (train) {
        if (alloc_f(m, &m->dx, BT * C, scr) || alloc_f(m, &m->dh, BT * C, scr) || alloc_f(m, &m->dh2, BT * C, scr) ||
            alloc_f(m, &m->dq, BT * HD, scr) || alloc_f(m, &m->dk, BT * KD, scr) || alloc_f(m, &m->dv, BT * KD, scr) ||
            alloc_f(m, &m->dattn, BT * HD, scr) || alloc_f(m, &m->delta, (uint64_t)B * c->num_heads * T, scr) ||
            alloc_f(m, &m->dg, BT * I, scr) || alloc_f(m, &m->du, BT * I, scr) || alloc_f(m, &m->da, BT * I, scr) ||
            alloc_f(m, &m->norm_scratch, vkft_norm_scratch_floats((uint32_t)BT, (uint32_t)(C > I ? C : I)), scr))
            return -1;
    }
    m->planned = 1;
    m->planned_train = train;
    if (plan) *plan = m->plan;
    return 0;
}

int vkft_model_set_batch(vkft_model *m, const int32_t *ids, const int32_t *targets, const uint32_t *lengths,
                         const int32_t *token_types) {
    if (!m->planned) return vkft_set_error(m->ctx, "set_batch before plan");
    uint32_t B = m->B, T = m->T;
    int32_t *pos = malloc((size_t)B * T * 4), *tt = calloc((size_t)B * T, 4);
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t t = 0; t < T; t++) pos[b * T + t] = (int32_t)t;
    if (token_types) memcpy(tt, token_types, (size_t)B * T * 4);
    for (uint32_t i = 0; i < B * T; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= m->cfg.vocab_size) {
            free(pos), free(tt);
            return vkft_set_error(m->ctx, "token id %d at position %u is outside the vocabulary (%u)", ids[i], i,
                                  m->cfg.vocab_size);
        }
    int rc = vkft_upload(m->ctx, m->batch.input_ids, 0, ids, (size_t)B * T * 4) ||
             vkft_upload(m->ctx, m->batch.position_ids, 0, pos, (size_t)B * T * 4) ||
             vkft_upload(m->ctx, m->batch.token_type_ids, 0, tt, (size_t)B * T * 4) ||
             vkft_upload(m->ctx, m->batch.targets, 0, targets, (size_t)B * T * 4) ||
             vkft_upload(m->ctx, m->batch.lengths, 0, lengths, (size_t)B * 4);
    free(pos), free(tt);
    return rc ? -1 : 0;
}

int vkft_model_record_step(vkft_model *m, vkft_recorder *rec, int backward, float grad_scale) {
    m->grad_scale = grad_scale;
    if (!m->planned || (backward && !m->planned_train))
        return vkft_set_error(m->ctx, "the model was not planned for %s", backward ? "training" : "this batch");
    m->dropout_on = backward && m->lora_dropout > 0 && m->lora_r_max; /* training steps only */
    switch (m->cfg.arch) {
    case VKFT_ARCH_GPT2: return vkft_gpt2_step(m, rec, backward);
    case VKFT_ARCH_LLAMA: return vkft_llama_step(m, rec, backward);
    case VKFT_ARCH_BERT: return vkft_bert_step(m, rec, backward);
    }
    return -1;
}

int vkft_model_read_loss(vkft_model *m, float *loss, float *tokens) {
    float stats[4];
    if (vkft_download(m->ctx, m->loss, 0, loss, 4) || vkft_download(m->ctx, m->loss_stats, 0, stats, 16)) return -1;
    if (tokens) *tokens = stats[3];
    return 0;
}

int vkft_model_read_logits(vkft_model *m, float *logits) {
    if (m->head_rows < m->BT)
        return vkft_set_error(m->ctx, "the logits of a %u x %u batch are computed %u rows at a time and not kept; "
                              "raise the logits budget (vkft_model_set_logits_budget) to read them",
                              m->B, m->T, m->head_rows);
    size_t V = m->cfg.vocab_size, ld = vkft_logits_ld(m), rows = m->BT;
    if (ld == V) return vkft_download(m->ctx, m->logits, 0, logits, rows * V * 4);
    float *padded = malloc(rows * ld * 4);
    if (!padded) return vkft_set_error(m->ctx, "out of host memory reading %zu x %zu logits", rows, V);
    int rc = vkft_download(m->ctx, m->logits, 0, padded, rows * ld * 4);
    for (size_t r = 0; !rc && r < rows; r++) memcpy(logits + r * V, padded + r * ld, V * 4);
    free(padded);
    return rc;
}

int vkft_model_read_hidden(vkft_model *m, float *hidden) {
    vkft_buf h = m->cfg.arch == VKFT_ARCH_BERT ? m->x_final : m->hf;
    return vkft_download(m->ctx, h, 0, hidden, (size_t)m->BT * m->cfg.hidden_size * 4);
}

int vkft_model_zero_grads(vkft_model *m, vkft_recorder *rec) {
    for (int i = 0; i < m->n_params; i++)
        if (m->params[i].grad.block && vkft_rec_fill(rec, m->params[i].grad, 0)) return -1;
    return 0;
}

int64_t vkft_model_store_frozen_weights(vkft_model *m, vkft_dtype dtype, char *err, size_t errlen) {
    if (dtype == VKFT_F32) return 0;
    int64_t saved = 0;
    for (uint32_t l = 0; l < m->cfg.num_layers; l++) {
        vkft_linear *lin[10];
        int n = vkft_block_linears(m, l, lin);
        for (int i = 0; i < n; i++) {
            vkft_param *p = &m->params[lin[i]->w];
            if (p->trainable || p->dtype != VKFT_F32) continue; /* trainable: fp32; a fused weight: once */
            float *host = malloc(p->numel * 4);
            void *half = malloc(p->numel * 2);
            vkft_buf nb;
            int rc = vkft_download(m->ctx, p->w, 0, host, p->numel * 4);
            if (!rc) {
                vkft_from_f32(host, dtype, half, p->numel);
                rc = vkft_arena_alloc(m->weights, p->numel * 2, &nb) || vkft_upload(m->ctx, nb, 0, half, p->numel * 2);
            }
            free(host);
            free(half);
            if (rc) return vkft_fail(err, errlen, "storing %s as %s: %s", p->name, vkft_dtype_name(dtype),
                                     vkft_last_error(m->ctx));
            vkft_arena_free(m->weights, p->w);
            p->w = nb;
            p->dtype = dtype;
            saved += (int64_t)p->numel * 2;
        }
    }
    m->plan.weights -= (uint64_t)saved;
    return saved;
}
