/* Attention's scores path (see ops_attention.h): the score blocks of a chunk of (batch item, head) pairs
 * are materialized in scratch and the products run on the matmul kernels, with one row pass
 * (shaders/attention_scores.comp) between them:
 *   forward:  S = q k^T;  P = softmax(scale S + mask), lse;  out = P v
 *   backward: S = q k^T, dP = dO v^T;  P = exp(scale S - lse), dS = P (dP - delta);
 *             dv (+)= P^T dO,  dq = scale dS k,  dk (+)= scale dS^T q
 * A chunk is one batch item, nk kv heads and nh of the query heads sharing each; a matmul dispatch covers
 * the chunk's nk kv heads for one query head (heads are interleaved in [B, T, H, D], so the batch stride
 * is a head's D columns). The query heads of a kv head add into its dk, dv one after another in a fixed
 * order: deterministic. */
#include "model/ops_attention_scores.h"

#include <math.h>

#include "model/ops_matmul.h"

/* shaders/attention_scores.comp: Push */
typedef struct {
    uint32_t T, ld, H, Hkv, D;
    uint32_t b, hk0, nk, hh0, rows;
    uint32_t causal, has_lengths;
    float scale;
} push_scores;

/* One workgroup per row (vkft_row_workgroup_size): 128 invocations on GPUs, one subgroup on CPU drivers. */
static void spec_rows(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = vkft_row_workgroup_size(caps, 128);
}

enum { K_ROWS_FORWARD, K_ROWS_BACKWARD };
static const vkft_kernel_def kernels[] = {
    [K_ROWS_FORWARD] = {.name = "attention_scores_forward", .shader = "attention_scores", .variants = {"forward"},
                        .push_size = sizeof(push_scores), .spec = {0}, .spec_count = 1, .specialize = spec_rows},
    [K_ROWS_BACKWARD] = {.name = "attention_scores_backward", .shader = "attention_scores",
                         .variants = {"backward"}, .push_size = sizeof(push_scores), .spec = {0}, .spec_count = 1,
                         .specialize = spec_rows},
};

/* Score buffers of at most this many bytes each, and within one binding. */
#define SCORES_BUDGET (64ull << 20)

static uint32_t row_floats(uint32_t T) { return (T + 3u) & ~3u; }
static uint64_t block_bytes(uint32_t T) { return (uint64_t)T * row_floats(T) * 4; }

/* The chunk for `blocks` score blocks per buffer: nk kv heads x nh query heads of each. */
static void chunk_shape(const vkft_attention_dims *d, uint64_t blocks, uint32_t *nk, uint32_t *nh) {
    uint32_t rep = d->H / d->Hkv;
    if (blocks >= rep) {
        *nh = rep;
        *nk = blocks / rep < d->Hkv ? (uint32_t)(blocks / rep) : d->Hkv;
    } else {
        *nh = (uint32_t)blocks;
        *nk = 1;
    }
}

uint64_t vkft_attention_scores_scratch_bytes(vkft_ctx *ctx, const vkft_attention_dims *d, uint32_t blocks) {
    if (!d->T || !d->H || !d->Hkv || d->H % d->Hkv || d->D % 4) return 0;
    uint64_t budget = SCORES_BUDGET, limit = vkft_binding_limit(ctx);
    if (limit && limit < budget) budget = limit;
    uint64_t fit = budget / block_bytes(d->T);
    if (!blocks || blocks > fit) blocks = fit;
    if (!blocks) return 0; /* one T x T block does not fit: the fused kernels */
    uint32_t nk, nh;
    chunk_shape(d, blocks, &nk, &nh);
    return 2 * (uint64_t)nk * nh * block_bytes(d->T);
}

uint64_t vkft_attention_scratch_bytes(vkft_ctx *ctx, const vkft_attention_dims *d) {
    const vkft_device_caps *caps = vkft_device(ctx);
    if (!caps || caps->vk_type != VK_PHYSICAL_DEVICE_TYPE_CPU) return 0;
    return vkft_attention_scores_scratch_bytes(ctx, d, 0);
}

/* ---- one chunk -------------------------------------------------------------------------------------- */

typedef struct {
    vkft_recorder *rec;
    const vkft_attention_dims *d;
    push_scores p;
    vkft_buf s, dp; /* the chunk's score buffers (dp: backward only) */
    const vkft_buf *lengths;
} chunk;

/* The view of `buf` from element `first` that an operand of `items` interleaved heads spans: rows of
 * `row_len` floats, `ld` apart, items `stride` apart. */
static vkft_buf span(vkft_buf buf, uint64_t first, uint32_t items, uint64_t stride, uint32_t rows, uint32_t ld,
                     uint32_t row_len) {
    uint64_t n = (uint64_t)(items - 1) * stride + (uint64_t)(rows - 1) * ld + row_len;
    return vkft_buf_slice(buf, first * 4, n * 4);
}

/* q-shaped tensor ([B, T, H, D]) at query head hh of the chunk's kv heads, one item per kv head. */
static vkft_buf q_heads(const chunk *c, vkft_buf x, uint32_t hh) {
    const vkft_attention_dims *d = c->d;
    uint32_t rep = d->H / d->Hkv;
    uint64_t first = ((uint64_t)c->p.b * d->T * d->H + (uint64_t)c->p.hk0 * rep + hh) * d->D;
    return span(x, first, c->p.nk, (uint64_t)rep * d->D, d->T, d->H * d->D, d->D);
}

/* k-shaped tensor ([B, T, Hkv, D]) at the chunk's kv heads. */
static vkft_buf kv_heads(const chunk *c, vkft_buf x) {
    const vkft_attention_dims *d = c->d;
    uint64_t first = ((uint64_t)c->p.b * d->T * d->Hkv + c->p.hk0) * d->D;
    return span(x, first, c->p.nk, d->D, d->T, d->Hkv * d->D, d->D);
}

/* The score blocks of local query head u (nk of them, one per kv head). */
static vkft_buf blocks_of(const chunk *c, vkft_buf scores, uint32_t u) {
    uint64_t bb = block_bytes(c->d->T);
    return vkft_buf_slice(scores, (uint64_t)u * c->p.nk * bb, c->p.nk * bb);
}

/* C (+)= alpha op(A) op(B) over the chunk's nk kv heads. */
static int product(const chunk *c, vkft_mm_form form, vkft_buf A, uint64_t sa, uint32_t lda, vkft_buf B,
                   uint64_t sb, uint32_t ldb, vkft_buf C, uint64_t sc, uint32_t ldc, uint32_t M, uint32_t N,
                   uint32_t K, float alpha, float beta) {
    vkft_matmul_opts o = vkft_matmul_opts_default();
    o.alpha = alpha;
    o.beta = beta;
    o.batch = c->p.nk;
    o.stride_a = sa, o.stride_b = sb, o.stride_c = sc;
    o.lda = lda, o.ldb = ldb, o.ldc = ldc;
    o.causal = (int)c->p.causal; /* skip what the mask makes zero (blocks of S above the diagonal stay unset) */
    return vkft_matmul(c->rec, form, A, B, C, M, N, K, &o);
}

/* S (or dP) of local query head u = x_q . y_k^T: rows of q-shaped x against rows of k-shaped y. */
static int scores(const chunk *c, vkft_buf out, uint32_t u, vkft_buf x, vkft_buf y) {
    const vkft_attention_dims *d = c->d;
    uint32_t T = d->T, ld = row_floats(T), rep = d->H / d->Hkv;
    return product(c, VKFT_MM_NT, q_heads(c, x, c->p.hh0 + u), (uint64_t)rep * d->D, d->H * d->D,
                   kv_heads(c, y), d->D, d->Hkv * d->D, blocks_of(c, out, u), (uint64_t)T * ld, ld, T, T, d->D,
                   1.0f, 0.0f);
}

static int row_pass(const chunk *c, int backward, const vkft_buf *extra) {
    uint32_t groups = c->p.rows > 65535 ? 65535 : c->p.rows; /* the shader loops over the rest */
    vkft_buf len = c->lengths ? *c->lengths : c->s;
    if (!backward) {
        vkft_binding b[] = {{c->s, VKFT_READ_WRITE}, {len, VKFT_READ}, {extra[0], VKFT_WRITE}};
        return vkft_rec_dispatch(c->rec, &kernels[K_ROWS_FORWARD], &c->p, groups, 1, 1, b, 3);
    }
    /* extra: lse, out, dout, delta */
    vkft_binding b[] = {{c->s, VKFT_READ_WRITE}, {len, VKFT_READ},      {extra[0], VKFT_READ},
                        {c->dp, VKFT_READ_WRITE}, {extra[1], VKFT_READ}, {extra[2], VKFT_READ},
                        {extra[3], VKFT_WRITE}};
    return vkft_rec_dispatch(c->rec, &kernels[K_ROWS_BACKWARD], &c->p, groups, 1, 1, b, 7);
}

/* Calls fn for every chunk the scratch allows, in a fixed order. */
typedef int (*chunk_fn)(chunk *c, void *user);
static int for_each_chunk(vkft_recorder *rec, const vkft_attention_dims *d, const vkft_buf *lengths,
                          vkft_buf scratch, int backward, chunk_fn fn, void *user) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    uint64_t bb = block_bytes(d->T);
    uint64_t blocks = scratch.size / (backward ? 2 : 1) / bb, limit = vkft_binding_limit(ctx);
    if (limit && blocks > limit / bb) blocks = limit / bb; /* the forward's one buffer: twice the blocks */
    if (d->D % 4 || !blocks)
        return vkft_set_error(ctx,
                              "attention (scores path): scratch of %llu bytes holds no %u x %u score block "
                              "(vkft_attention_scratch_bytes gives the size), or D=%u is not a multiple of 4",
                              (unsigned long long)scratch.size, d->T, d->T, d->D);
    uint32_t nk, nh, rep = d->H / d->Hkv;
    chunk_shape(d, blocks, &nk, &nh);
    chunk c = {.rec = rec, .d = d, .lengths = lengths};
    c.p = (push_scores){.T = d->T,
                        .ld = row_floats(d->T),
                        .H = d->H,
                        .Hkv = d->Hkv,
                        .D = d->D,
                        .causal = d->causal ? 1u : 0u,
                        .has_lengths = lengths ? 1u : 0u,
                        .scale = d->scale != 0.0f ? d->scale : 1.0f / sqrtf((float)d->D)};
    for (uint32_t b = 0; b < d->B; b++)
        for (uint32_t hk0 = 0; hk0 < d->Hkv; hk0 += nk)
            for (uint32_t hh0 = 0; hh0 < rep; hh0 += nh) {
                c.p.b = b, c.p.hk0 = hk0, c.p.hh0 = hh0;
                c.p.nk = hk0 + nk <= d->Hkv ? nk : d->Hkv - hk0;
                uint32_t n_heads = hh0 + nh <= rep ? nh : rep - hh0;
                c.p.rows = c.p.nk * n_heads * d->T;
                uint64_t bytes = (uint64_t)c.p.nk * n_heads * bb;
                c.s = vkft_buf_slice(scratch, 0, bytes);
                c.dp = backward ? vkft_buf_slice(scratch, bytes, bytes) : c.s;
                if (fn(&c, user)) return -1;
            }
    return 0;
}

/* ---- forward ---------------------------------------------------------------------------------------- */

typedef struct {
    vkft_buf out, lse, q, k, v;
} forward_args;

static uint32_t chunk_heads(const chunk *c) { return c->p.rows / (c->p.nk * c->d->T); }

static int forward_chunk(chunk *c, void *user) {
    const forward_args *a = user;
    const vkft_attention_dims *d = c->d;
    uint32_t T = d->T, ld = row_floats(T), rep = d->H / d->Hkv, nh = chunk_heads(c);
    for (uint32_t u = 0; u < nh; u++)
        if (scores(c, c->s, u, a->q, a->k)) return -1;
    if (row_pass(c, 0, &a->lse)) return -1;
    for (uint32_t u = 0; u < nh; u++) /* out = P v */
        if (product(c, VKFT_MM_NN, blocks_of(c, c->s, u), (uint64_t)T * ld, ld, kv_heads(c, a->v), d->D,
                    d->Hkv * d->D, q_heads(c, a->out, c->p.hh0 + u), (uint64_t)rep * d->D, d->H * d->D, T, d->D,
                    T, 1.0f, 0.0f))
            return -1;
    return 0;
}

int vkft_attention_scores_forward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf out,
                                  vkft_buf lse, vkft_buf q, vkft_buf k, vkft_buf v, const vkft_buf *lengths,
                                  vkft_buf scratch) {
    forward_args a = {out, lse, q, k, v};
    return for_each_chunk(rec, dims, lengths, scratch, 0, forward_chunk, &a);
}

/* ---- backward --------------------------------------------------------------------------------------- */

typedef struct {
    vkft_buf dq, dk, dv, delta, dout, q, k, v, out, lse;
} backward_args;

static int backward_chunk(chunk *c, void *user) {
    const backward_args *a = user;
    const vkft_attention_dims *d = c->d;
    uint32_t T = d->T, ld = row_floats(T), rep = d->H / d->Hkv, nh = chunk_heads(c);
    uint64_t sblk = (uint64_t)T * ld, sq = (uint64_t)rep * d->D;
    uint32_t ldq = d->H * d->D, ldk = d->Hkv * d->D;
    for (uint32_t u = 0; u < nh; u++)
        if (scores(c, c->s, u, a->q, a->k) || scores(c, c->dp, u, a->dout, a->v)) return -1;
    vkft_buf extra[] = {a->lse, a->out, a->dout, a->delta};
    if (row_pass(c, 1, extra)) return -1;
    for (uint32_t u = 0; u < nh; u++) {
        uint32_t hh = c->p.hh0 + u;
        float beta = hh > 0 ? 1.0f : 0.0f; /* the first query head of a kv head writes dk, dv; the rest add */
        vkft_buf P = blocks_of(c, c->s, u), dS = blocks_of(c, c->dp, u);
        vkft_buf dk = kv_heads(c, a->dk), dv = kv_heads(c, a->dv), k = kv_heads(c, a->k);
        if (product(c, VKFT_MM_TN, P, sblk, ld, q_heads(c, a->dout, hh), sq, ldq, dv, d->D, ldk, T, d->D, T,
                    1.0f, beta) ||
            product(c, VKFT_MM_NN, dS, sblk, ld, k, d->D, ldk, q_heads(c, a->dq, hh), sq, ldq, T, d->D, T,
                    c->p.scale, 0.0f) ||
            product(c, VKFT_MM_TN, dS, sblk, ld, q_heads(c, a->q, hh), sq, ldq, dk, d->D, ldk, T, d->D, T,
                    c->p.scale, beta))
            return -1;
    }
    return 0;
}

int vkft_attention_scores_backward(vkft_recorder *rec, const vkft_attention_dims *dims, vkft_buf dq,
                                   vkft_buf dk, vkft_buf dv, vkft_buf delta, vkft_buf dout, vkft_buf q,
                                   vkft_buf k, vkft_buf v, vkft_buf out, vkft_buf lse, const vkft_buf *lengths,
                                   vkft_buf scratch) {
    backward_args a = {dq, dk, dv, delta, dout, q, k, v, out, lse};
    return for_each_chunk(rec, dims, lengths, scratch, 1, backward_chunk, &a);
}

const vkft_kernel_def *vkft_attention_scores_kernel(int backward) {
    return &kernels[backward ? K_ROWS_BACKWARD : K_ROWS_FORWARD];
}
