/* KV-cached decoding (GPT-2 and the Llama family) and sampling. The layer sequence is the one of
 * arch_gpt2.c / arch_llama.c's forward, on B * P rows, with the attention replaced by: causal flash
 * attention over the prompt (prefill from an empty cache), or one query row against the cache (step). */
#include "model/generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model_internal.h"
#include "model/ops_activation.h"
#include "model/ops_attention.h"
#include "model/ops_attention_decode.h"
#include "model/ops_basic.h"
#include "model/ops_embedding.h"
#include "model/ops_matmul.h"
#include "model/ops_matvec.h"
#include "model/ops_norm.h"
#include "model/ops_rope.h"

struct vkft_decoder {
    vkft_model *m;
    vkft_ctx *ctx;
    uint32_t B, max_len, n;
    vkft_arena *arena;
    vkft_buf *kc, *vc; /* per layer [B, max_len, Hkv, D] */
    /* activations of up to B * max_len rows */
    vkft_buf ids, pos, emb_status;
    vkft_buf x, h, q, k, v, attn, lse, xm, g, u, a, stat_a, stat_b, e_tmp;
    vkft_buf last, last_n, last_a, last_b, logits; /* the last position of each sequence: [B, C], [B, V] */
    vkft_recorder *rec;      /* prompts: recorded for each call */
    vkft_recorder *step_rec; /* one token per sequence: recorded once, submitted at every step */
    int step_recorded;
    int32_t *host_ids, *host_pos;
};

static int record_forward(vkft_decoder *d, vkft_recorder *rec, uint32_t P);

static int alloc_f(vkft_decoder *d, vkft_buf *b, uint64_t floats) {
    return vkft_arena_alloc(d->arena, (floats ? floats : 1) * 4, b);
}

int vkft_decoder_create(vkft_model *m, uint32_t B, uint32_t max_len, vkft_decoder **out) {
    *out = NULL;
    const vkft_model_config *c = &m->cfg;
    vkft_ctx *ctx = m->ctx;
    if (c->arch == VKFT_ARCH_BERT)
        return vkft_set_error(ctx, "generation needs a causal language model (gpt2 or the llama family), not %s",
                              c->model_type);
    if (!B || !max_len) return vkft_set_error(ctx, "decoder: B=%u and max_len=%u must be positive", B, max_len);
    if (c->arch == VKFT_ARCH_GPT2 && max_len > c->max_positions)
        return vkft_set_error(ctx, "%u positions (prompt + new tokens) exceed the model's %u learned positions",
                              max_len, c->max_positions);
    if (c->num_heads % c->num_kv_heads)
        return vkft_set_error(ctx, "%u heads is not a multiple of %u kv heads", c->num_heads, c->num_kv_heads);
    vkft_decoder *d = calloc(1, sizeof *d);
    if (!d) return vkft_set_error(ctx, "decoder: out of host memory");
    d->m = m;
    d->ctx = ctx;
    d->B = B;
    d->max_len = max_len;
    uint32_t L = c->num_layers;
    uint64_t R = (uint64_t)B * max_len, C = c->hidden_size, HD = (uint64_t)c->num_heads * c->head_dim,
             KD = (uint64_t)c->num_kv_heads * c->head_dim, I = c->intermediate_size, V = c->vocab_size;
    d->kc = calloc(L, sizeof *d->kc);
    d->vc = calloc(L, sizeof *d->vc);
    d->host_ids = malloc(R * 4);
    d->host_pos = malloc(R * 4);
    d->arena = vkft_arena_create(ctx, "decoder", 0);
    d->rec = vkft_recorder_create(ctx);
    d->step_rec = vkft_recorder_create(ctx);
    if (!d->kc || !d->vc || !d->host_ids || !d->host_pos) {
        vkft_decoder_free(d);
        return vkft_set_error(ctx, "decoder: out of host memory");
    }
    int rc = !d->arena || !d->rec || !d->step_rec; /* their errors are set on the context */
    for (uint32_t l = 0; l < L && !rc; l++) rc = alloc_f(d, &d->kc[l], R * KD) || alloc_f(d, &d->vc[l], R * KD);
    if (!rc)
        rc = alloc_f(d, &d->ids, R) || alloc_f(d, &d->pos, R) || alloc_f(d, &d->emb_status, 2) ||
             alloc_f(d, &d->x, R * C) || alloc_f(d, &d->h, R * C) || alloc_f(d, &d->q, R * HD) ||
             alloc_f(d, &d->k, R * KD) || alloc_f(d, &d->v, R * KD) || alloc_f(d, &d->attn, R * HD) ||
             alloc_f(d, &d->lse, R * c->num_heads) || alloc_f(d, &d->xm, R * C) || alloc_f(d, &d->g, R * I) ||
             alloc_f(d, &d->u, R * I) || alloc_f(d, &d->a, R * I) || alloc_f(d, &d->stat_a, R) ||
             alloc_f(d, &d->stat_b, R) || alloc_f(d, &d->e_tmp, R * C) || alloc_f(d, &d->last, B * C) ||
             alloc_f(d, &d->last_n, B * C) || alloc_f(d, &d->last_a, B) || alloc_f(d, &d->last_b, B) ||
             alloc_f(d, &d->logits, B * V);
    if (rc) {
        vkft_decoder_free(d);
        return -1;
    }
    /* The step's recording does not depend on the position: record it now (this also creates its
     * pipelines, so that the first step is not slower than the others, and finds unsupported shapes). */
    if (vkft_rec_begin(d->step_rec) || record_forward(d, d->step_rec, 1) || vkft_rec_end(d->step_rec)) {
        vkft_decoder_free(d);
        return -1;
    }
    d->step_recorded = 1;
    *out = d;
    return 0;
}

void vkft_decoder_free(vkft_decoder *d) {
    if (!d) return;
    vkft_recorder_destroy(d->rec);
    vkft_recorder_destroy(d->step_rec);
    vkft_arena_destroy(d->arena);
    free(d->kc);
    free(d->vc);
    free(d->host_ids);
    free(d->host_pos);
    free(d);
}

void vkft_decoder_reset(vkft_decoder *d) { d->n = 0; }
uint32_t vkft_decoder_length(const vkft_decoder *d) { return d->n; }
uint32_t vkft_decoder_capacity(const vkft_decoder *d) { return d->max_len; }

/* Rows of B sequences x P positions: a view of the first B * P * width floats. */
static vkft_buf rows(vkft_buf b, uint64_t n, uint64_t width) { return vkft_buf_slice(b, 0, n * width * 4); }

/* Rows up to this many go through the matrix-vector kernel (each row reads the weights once); more rows
 * (a prompt) through the tiled matmul of vkft_linear_forward. */
enum { MATVEC_MAX_ROWS = 4 };

/* y = x W^T + b (nn.Linear) or x W + b (Conv1D, possibly a column slice), as vkft_linear_forward. */
static int linear(vkft_decoder *d, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf y, uint32_t rows) {
    vkft_model *m = d->m;
    if (rows > MATVEC_MAX_ROWS) return vkft_linear_forward(m, rec, l, x, y, rows);
    vkft_buf w = vkft_pbuf(m, l->w), b = vkft_pbuf(m, l->b);
    if (!l->conv1d) return vkft_matvec(rec, VKFT_MV_NT, x, w, b, y, rows, l->out, l->in, l->in);
    VkDeviceSize off = (VkDeviceSize)l->col * 4;
    w = vkft_buf_slice(w, off, w.size - off);
    if (b.block) b = vkft_buf_slice(b, off, (VkDeviceSize)l->out * 4);
    return vkft_matvec(rec, VKFT_MV_NN, x, w, b, y, rows, l->out, l->in, l->ld);
}

/* Records the forward of P new tokens per sequence (ids and positions uploaded), appending their keys and
 * values to the caches, then the logits of each sequence's last token. P == 1 (a step): the positions are
 * read on the device (the recording serves every step); P > 1: a prompt from an empty cache. */
static int record_forward(vkft_decoder *d, vkft_recorder *rec, uint32_t P) {
    vkft_model *m = d->m;
    const vkft_model_config *c = &m->cfg;
    uint32_t B = d->B, R = B * P, C = c->hidden_size, I = c->intermediate_size, H = c->num_heads,
             Hkv = c->num_kv_heads, D = c->head_dim, V = c->vocab_size;
    uint64_t HD = (uint64_t)H * D, KD = (uint64_t)Hkv * D;
    int gpt2 = c->arch == VKFT_ARCH_GPT2;
    float eps = c->norm_eps;
    vkft_buf none = {0};
    vkft_buf x = rows(d->x, R, C), h = rows(d->h, R, C), q = rows(d->q, R, HD), k = rows(d->k, R, KD),
             v = rows(d->v, R, KD), attn = rows(d->attn, R, HD), xm = rows(d->xm, R, C), g = rows(d->g, R, I),
             u = rows(d->u, R, I), a = rows(d->a, R, I), ids = rows(d->ids, R, 1), pos = rows(d->pos, R, 1);
#define TRY(e)                                                                                           \
    {                                                                                                    \
        if ((e)) return -1;                                                                              \
    }
    TRY(vkft_embedding_forward(rec, ids, vkft_pbuf(m, m->wte), x, d->emb_status, R, V, C))
    if (gpt2) {
        vkft_buf e = rows(d->e_tmp, R, C);
        TRY(vkft_embedding_forward(rec, pos, vkft_pbuf(m, m->wpe), e, d->emb_status, R, c->max_positions, C))
        TRY(vkft_add_f32(rec, x, e, x, R * C))
    }
    for (uint32_t l = 0; l < c->num_layers; l++) {
        vkft_block_params *p = &m->blocks[l];
        if (gpt2)
            TRY(vkft_layernorm_forward(rec, x, vkft_pbuf(m, p->ln1_w), vkft_pbuf(m, p->ln1_b), h, d->stat_a,
                                       d->stat_b, R, C, eps))
        else
            TRY(vkft_rmsnorm_forward(rec, x, vkft_pbuf(m, p->ln1_w), h, d->stat_a, R, C, eps))
        TRY(linear(d, rec, &p->q, h, q, R))
        TRY(linear(d, rec, &p->k, h, k, R))
        TRY(linear(d, rec, &p->v, h, v, R))
        if (!gpt2) {
            TRY(vkft_rope_forward(rec, q, q, pos, m->inv_freq, B, P, H, D, D, 1.0f))
            TRY(vkft_rope_forward(rec, k, k, pos, m->inv_freq, B, P, Hkv, D, D, 1.0f))
        }
        if (P == 1) { /* one token per sequence, at positions[b], attending to cache rows 0..positions[b] */
            vkft_attention_decode_dims dd = {B, H, Hkv, D, 0, d->max_len, 0.0f};
            TRY(vkft_kv_cache_append(rec, B, (uint32_t)KD, d->max_len, k, v, pos, d->kc[l], d->vc[l]))
            TRY(vkft_attention_decode(rec, &dd, q, d->kc[l], d->vc[l], attn, &pos))
        } else { /* a prompt from an empty cache attends to itself; its rows go to cache positions 0..P-1 */
            for (uint32_t b = 0; b < B; b++) {
                VkDeviceSize src = (VkDeviceSize)b * P * KD * 4, dst = (VkDeviceSize)b * d->max_len * KD * 4,
                             bytes = (VkDeviceSize)P * KD * 4;
                TRY(vkft_rec_copy(rec, vkft_buf_slice(k, src, bytes), vkft_buf_slice(d->kc[l], dst, bytes), bytes))
                TRY(vkft_rec_copy(rec, vkft_buf_slice(v, src, bytes), vkft_buf_slice(d->vc[l], dst, bytes), bytes))
            }
            vkft_attention_dims ad = {B, P, H, Hkv, D, 1, 0.0f, {0}};
            TRY(vkft_attention_forward(rec, &ad, attn, rows(d->lse, R, H), q, k, v, NULL))
        }
        TRY(linear(d, rec, &p->o, attn, xm, R))
        TRY(vkft_add_f32(rec, xm, x, xm, R * C))
        if (gpt2) {
            TRY(vkft_layernorm_forward(rec, xm, vkft_pbuf(m, p->ln2_w), vkft_pbuf(m, p->ln2_b), h, d->stat_a,
                                       d->stat_b, R, C, eps))
            TRY(linear(d, rec, &p->fc, h, g, R))
            TRY(vkft_activation_forward(rec, VKFT_ACT_GELU_TANH, g, a, R * I))
            TRY(linear(d, rec, &p->proj, a, x, R))
        } else {
            TRY(vkft_rmsnorm_forward(rec, xm, vkft_pbuf(m, p->ln2_w), h, d->stat_a, R, C, eps))
            TRY(linear(d, rec, &p->gate, h, g, R))
            TRY(linear(d, rec, &p->up, h, u, R))
            TRY(vkft_swiglu_forward(rec, g, u, a, R * I))
            TRY(linear(d, rec, &p->down, a, x, R))
        }
        TRY(vkft_add_f32(rec, x, xm, x, R * C))
    }
    /* The final norm and the head, on each sequence's last position only. */
    vkft_buf last = x;
    if (P > 1) {
        last = d->last;
        for (uint32_t b = 0; b < B; b++) {
            VkDeviceSize row = (VkDeviceSize)C * 4;
            TRY(vkft_rec_copy(rec, vkft_buf_slice(x, ((VkDeviceSize)b * P + P - 1) * row, row),
                              vkft_buf_slice(d->last, (VkDeviceSize)b * row, row), row))
        }
    }
    last = rows(last, B, C);
    if (gpt2)
        TRY(vkft_layernorm_forward(rec, last, vkft_pbuf(m, m->lnf_w), vkft_pbuf(m, m->lnf_b), d->last_n, d->last_a,
                                   d->last_b, B, C, eps))
    else
        TRY(vkft_rmsnorm_forward(rec, last, vkft_pbuf(m, m->lnf_w), d->last_n, d->last_a, B, C, eps))
    int head = m->lm_head >= 0 ? m->lm_head : m->wte;
    uint32_t part = vkft_head_part_rows(m);
    if (part == V && B <= MATVEC_MAX_ROWS)
        TRY(vkft_matvec(rec, VKFT_MV_NT, d->last_n, vkft_pbuf(m, head), none, d->logits, B, V, C, C))
    else if (part == V)
        TRY(vkft_matmul(rec, VKFT_MM_NT, d->last_n, vkft_pbuf(m, head), d->logits, B, V, C, NULL))
    else /* a head larger than one binding, in parts of its rows: the logits' columns v0.. */
        for (uint32_t v0 = 0; v0 < V; v0 += part) {
            uint32_t n = V - v0 < part ? V - v0 : part;
            vkft_buf w = vkft_buf_slice(vkft_pbuf(m, head), (VkDeviceSize)v0 * C * 4, (VkDeviceSize)n * C * 4);
            vkft_buf y = vkft_buf_slice(d->logits, (VkDeviceSize)v0 * 4, ((VkDeviceSize)(B - 1) * V + n) * 4);
            vkft_matmul_opts o = vkft_matmul_opts_default();
            o.ldc = V;
            TRY(vkft_matmul(rec, VKFT_MM_NT, d->last_n, w, y, B, n, C, &o))
        }
    return 0;
#undef TRY
}

/* Runs P tokens per sequence (ids [B, P]) through the model at positions n.. and reads the logits. */
static int run(vkft_decoder *d, const int32_t *ids, uint32_t P, float *logits) {
    const vkft_model_config *c = &d->m->cfg;
    uint32_t B = d->B;
    if (!P) return vkft_set_error(d->ctx, "decoder: no tokens to feed");
    if (d->n + P > d->max_len)
        return vkft_set_error(d->ctx, "decoder: %u cached + %u new positions exceed the capacity %u", d->n, P,
                              d->max_len);
    for (uint32_t i = 0; i < B * P; i++) {
        if (ids[i] < 0 || (uint32_t)ids[i] >= c->vocab_size)
            return vkft_set_error(d->ctx, "token id %d is outside the model's vocabulary (0..%u)", ids[i],
                                  c->vocab_size - 1);
        d->host_ids[i] = ids[i];
        d->host_pos[i] = (int32_t)(d->n + i % P);
    }
    if (P > 1 && d->n > 0) return vkft_set_error(d->ctx, "decoder: a batched prompt needs an empty cache");
    if (vkft_upload(d->ctx, d->ids, 0, d->host_ids, (size_t)B * P * 4) ||
        vkft_upload(d->ctx, d->pos, 0, d->host_pos, (size_t)B * P * 4))
        return -1;
    if (P == 1) {
        if (!d->step_recorded) {
            if (vkft_rec_begin(d->step_rec) || record_forward(d, d->step_rec, 1) || vkft_rec_end(d->step_rec))
                return -1;
            d->step_recorded = 1;
        }
        if (vkft_rec_submit(d->step_rec)) return -1;
    } else if (vkft_rec_begin(d->rec) || record_forward(d, d->rec, P) || vkft_rec_end(d->rec) ||
               vkft_rec_submit(d->rec)) {
        return -1;
    }
    d->n += P;
    if (logits && vkft_download(d->ctx, d->logits, 0, logits, (size_t)B * c->vocab_size * 4)) return -1;
    return 0;
}

int vkft_decoder_prefill(vkft_decoder *d, const int32_t *ids, uint32_t P, float *logits) {
    const vkft_model_config *c = &d->m->cfg;
    if (P > 1 && d->n == 0 && vkft_attention_supports_head_dim(c->head_dim)) return run(d, ids, P, logits);
    /* Token by token: gather column t of ids [B, P]. */
    int32_t *col = malloc((size_t)d->B * 4);
    if (!col) return vkft_set_error(d->ctx, "decoder: out of host memory");
    int rc = 0;
    for (uint32_t t = 0; t < P && !rc; t++) {
        for (uint32_t b = 0; b < d->B; b++) col[b] = ids[(size_t)b * P + t];
        rc = run(d, col, 1, t + 1 == P ? logits : NULL);
    }
    free(col);
    return rc;
}

int vkft_decoder_step(vkft_decoder *d, const int32_t *ids, float *logits) { return run(d, ids, 1, logits); }

/* ---- sampling ---------------------------------------------------------------------------------- */

vkft_sampling vkft_sampling_default(void) {
    vkft_sampling s = {.greedy = 0, .temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = 0};
    return s;
}

const char *vkft_sampling_check(const vkft_sampling *s) {
    if (s->greedy) return NULL;
    if (!(s->temperature > 0.0f) || !isfinite(s->temperature))
        return "temperature must be a positive number (use greedy decoding for temperature 0)";
    if (!(s->top_p > 0.0f && s->top_p <= 1.0f)) return "top-p must be in (0, 1]";
    return NULL;
}

struct vkft_sampler {
    uint32_t V;
    vkft_sampling s;
    uint64_t rng[4]; /* xoshiro256** */
    uint32_t *order;
    double *prob;
};

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(uint64_t *s) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

vkft_sampler *vkft_sampler_create(uint32_t V, const vkft_sampling *s) {
    vkft_sampler *sp = calloc(1, sizeof *sp);
    if (!sp) return NULL;
    sp->V = V;
    sp->s = *s;
    uint64_t seed = s->seed;
    for (int i = 0; i < 4; i++) sp->rng[i] = splitmix64(&seed);
    sp->order = malloc((size_t)(V ? V : 1) * sizeof *sp->order);
    sp->prob = malloc((size_t)(V ? V : 1) * sizeof *sp->prob);
    if (!sp->order || !sp->prob) {
        vkft_sampler_free(sp);
        return NULL;
    }
    return sp;
}

void vkft_sampler_free(vkft_sampler *s) {
    if (!s) return;
    free(s->order);
    free(s->prob);
    free(s);
}

static int32_t argmax(const float *x, uint32_t n) {
    int32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (x[i] > x[best] || isnan(x[best])) best = (int32_t)i;
    return best;
}

/* Sorts ids by probability, largest first, ties by the lower id (a total order: deterministic). */
static void sort_desc(uint32_t *ids, const double *p, uint32_t n) {
    /* heap sort: no comparator context needed and no recursion */
    for (uint32_t start = n / 2; start-- > 0;) {
        for (uint32_t root = start;;) {
            uint32_t child = 2 * root + 1;
            if (child >= n) break;
#define LESS_FIRST(a, b) (p[a] < p[b] || (p[a] == p[b] && (a) > (b))) /* a sorts after b */
            if (child + 1 < n && LESS_FIRST(ids[child + 1], ids[child])) child++;
            if (!LESS_FIRST(ids[child], ids[root])) break;
            uint32_t t = ids[root];
            ids[root] = ids[child], ids[child] = t, root = child;
        }
    }
    for (uint32_t end = n; end-- > 1;) {
        uint32_t t = ids[0];
        ids[0] = ids[end], ids[end] = t;
        for (uint32_t root = 0;;) {
            uint32_t child = 2 * root + 1;
            if (child >= end) break;
            if (child + 1 < end && LESS_FIRST(ids[child + 1], ids[child])) child++;
            if (!LESS_FIRST(ids[child], ids[root])) break;
            uint32_t tt = ids[root];
            ids[root] = ids[child], ids[child] = tt, root = child;
#undef LESS_FIRST
        }
    }
}

int32_t vkft_sample(vkft_sampler *sp, const float *logits) {
    const vkft_sampling *s = &sp->s;
    uint32_t V = sp->V;
    if (s->greedy || V < 2) return argmax(logits, V);
    /* softmax(logits / temperature) in double; NaN and -inf logits get probability 0 */
    double mx = -INFINITY, inv_t = 1.0 / s->temperature, sum = 0;
    for (uint32_t i = 0; i < V; i++)
        if (logits[i] * inv_t > mx) mx = logits[i] * inv_t;
    if (!isfinite(mx)) return argmax(logits, V);
    for (uint32_t i = 0; i < V; i++) {
        double z = logits[i] * inv_t - mx;
        sp->prob[i] = z == z ? exp(z) : 0.0;
        sum += sp->prob[i];
        sp->order[i] = i;
    }
    uint32_t keep = V;
    if (s->top_k || s->top_p < 1.0f) {
        sort_desc(sp->order, sp->prob, V);
        if (s->top_k && s->top_k < keep) keep = s->top_k;
        if (s->top_p < 1.0f) { /* the smallest prefix whose mass reaches top_p (at least one token) */
            double total = 0, cum = 0;
            for (uint32_t i = 0; i < keep; i++) total += sp->prob[sp->order[i]];
            uint32_t n = 0;
            while (n < keep) {
                cum += sp->prob[sp->order[n++]];
                if (cum >= s->top_p * total) break;
            }
            keep = n;
        }
        sum = 0;
        for (uint32_t i = 0; i < keep; i++) sum += sp->prob[sp->order[i]];
    }
    double u = (double)(xoshiro_next(sp->rng) >> 11) * 0x1.0p-53 * sum, cum = 0;
    for (uint32_t i = 0; i < keep; i++) {
        cum += sp->prob[sp->order[i]];
        if (u < cum) return (int32_t)sp->order[i];
    }
    /* rounding: the last token with nonzero probability */
    for (uint32_t i = keep; i-- > 0;)
        if (sp->prob[sp->order[i]] > 0) return (int32_t)sp->order[i];
    return argmax(logits, V);
}

/* ---- one sequence, end to end --------------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int vkft_generate(vkft_decoder *d, const int32_t *prompt, uint32_t P, const vkft_generate_opts *o, int32_t *out,
                  vkft_generate_stats *stats) {
    vkft_generate_stats st = {0};
    if (stats) *stats = st;
    if (d->B != 1) return vkft_set_error(d->ctx, "vkft_generate needs a decoder with B = 1 (it has %u)", d->B);
    if (!P) return vkft_set_error(d->ctx, "the prompt is empty: give at least one token");
    const char *bad = vkft_sampling_check(&o->sampling);
    if (bad) return vkft_set_error(d->ctx, "%s", bad);
    if (P + o->max_new_tokens > d->max_len + 1) /* the last generated token is never fed back */
        return vkft_set_error(d->ctx, "%u prompt + %u new tokens exceed the decoder's %u positions", P,
                              o->max_new_tokens, d->max_len);
    uint32_t V = d->m->cfg.vocab_size;
    float *logits = malloc((size_t)V * 4);
    vkft_sampler *sp = vkft_sampler_create(V, &o->sampling);
    if (!logits || !sp) {
        free(logits);
        vkft_sampler_free(sp);
        return vkft_set_error(d->ctx, "out of host memory");
    }
    vkft_decoder_reset(d);
    int rc = 0;
    double t0 = now_s();
    if (o->max_new_tokens) rc = vkft_decoder_prefill(d, prompt, P, logits);
    double t1 = now_s();
    st.prefill_s = t1 - t0;
    for (uint32_t i = 0; i < o->max_new_tokens && !rc; i++) {
        if (i > 0 && (rc = vkft_decoder_step(d, &out[i - 1], logits))) break;
        int32_t id = vkft_sample(sp, logits);
        out[st.n_new++] = id;
        int eos = 0;
        for (uint32_t e = 0; e < o->n_eos; e++) eos |= o->eos_ids[e] == id;
        if (o->on_token && o->on_token(o->user, id)) break;
        if (eos) {
            st.stopped_at_eos = 1;
            break;
        }
    }
    st.decode_s = now_s() - t1;
    free(logits);
    vkft_sampler_free(sp);
    if (stats) *stats = st;
    return rc;
}
