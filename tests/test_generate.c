/* KV-cached decoding (model/generate.h):
 *   (a) the decode-attention kernel against its C reference (tests/ref/attention_decode_ref.c) on odd sizes,
 *       grouped-query heads, lengths from the push constants or per sequence from a positions buffer, and
 *       bit-for-bit repeatability; the KV-cache append;
 *   (b) on tiny checkpoints from tests/reference/tiny_models.py (GQA 2:1, 4:1, MQA, biases, tied heads,
 *       llama3 RoPE scaling), the logits of every decoding step (token by
 *       token, and after a batched prefill) equal the reference logits of a full forward over the same
 *       prefix (position t's logits predict token t+1) within 1e-4 relative;
 *   (c) greedy generation repeats and matches the argmax of the reference; sampling with a seed repeats;
 *       top-k 1 and a tiny top-p reduce to greedy.
 * Also the matrix-vector kernel of the decoding steps' linear layers against the matmul reference.
 * Usage: test_generate [CASE...] (default: gpt2 llama qwen2 llama_tied mistral llama3_rope). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/generate.h"
#include "model/ops_attention_decode.h"
#include "model/ops_matvec.h"
#include "model/safetensors.h"
#include "tests/ref/attention_decode_ref.h"
#include "tests/ref/matmul_ref.h"
#include "tests/test_gpu.h"
#include "util/fsutil.h"

/* ---- (a) the kernel ------------------------------------------------------------------------------- */

static void kernel_case(test_state *t, vkft_ctx *ctx, uint32_t B, uint32_t H, uint32_t Hkv, uint32_t D, uint32_t n,
                        uint32_t max_len) {
    size_t nq = (size_t)B * H * D, nc = (size_t)B * max_len * Hkv * D;
    float *q = malloc(nq * 4), *k = malloc(nc * 4), *v = malloc(nc * 4), *want = malloc(nq * 4);
    uint64_t seed = 1000 + B * 7 + H * 13 + D * 17 + n;
    for (size_t i = 0; i < nq; i++) q[i] = test_rand_uniform(&seed, -2, 2);
    for (size_t i = 0; i < nc; i++) k[i] = test_rand_uniform(&seed, -2, 2), v[i] = test_rand_uniform(&seed, -1, 1);
    /* Positions beyond n hold garbage that must not be read: huge values would show. */
    for (uint32_t b = 0; b < B; b++)
        for (size_t j = n; j < max_len; j++)
            for (size_t e = 0; e < (size_t)Hkv * D; e++) {
                size_t i = ((size_t)b * max_len + j) * Hkv * D + e;
                k[i] = 1e30f, v[i] = 1e30f;
            }
    attention_decode_ref(q, k, v, want, B, H, Hkv, D, n, max_len, 0.0f);
    vkft_buf bq = test_buf_f32(t, ctx, q, nq), bk = test_buf_f32(t, ctx, k, nc), bv = test_buf_f32(t, ctx, v, nc),
             bo = test_buf_f32(t, ctx, NULL, nq);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    vkft_attention_decode_dims dd = {B, H, Hkv, D, n, max_len, 0.0f};
    int ok = vkft_rec_begin(rec) == 0 && vkft_attention_decode(rec, &dd, bq, bk, bv, bo, NULL) == 0 &&
             vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0;
    if (CHECK(t, ok, "attention_decode B=%u H=%u Hkv=%u D=%u n=%u: %s", B, H, Hkv, D, n, vkft_last_error(ctx))) {
        float *got = test_download_f32(t, ctx, bo, nq);
        double e = test_max_rel_err(got, want, nq);
        /* again: the same bits */
        ok = vkft_rec_submit(rec) == 0;
        float *again = test_download_f32(t, ctx, bo, nq);
        int same = ok && memcmp(got, again, nq * 4) == 0;
        printf("attention_decode B=%u H=%-2u Hkv=%u D=%-3u n=%-3u max_len=%-3u  max err %.1e%s\n", B, H, Hkv, D, n,
               max_len, e, same ? "  repeats bit for bit" : "");
        CHECK(t, e <= 2e-5, "attention_decode B=%u H=%u Hkv=%u D=%u n=%u: error %.2e", B, H, Hkv, D, n, e);
        CHECK(t, same, "attention_decode B=%u H=%u Hkv=%u D=%u n=%u: a second run differs", B, H, Hkv, D, n);
        free(got);
        free(again);
    }
    /* Lengths read on the device: sequence b attends to positions[b] + 1 <= n keys (the reused step
     * recording's mode); the reference runs each sequence on its own. */
    int32_t *pos = malloc((size_t)B * 4);
    for (uint32_t b = 0; b < B; b++) {
        pos[b] = (int32_t)(n - 1 - (b * 5) % n);
        size_t qo = (size_t)b * H * D, co = (size_t)b * max_len * Hkv * D;
        attention_decode_ref(q + qo, k + co, v + co, want + qo, 1, H, Hkv, D, (uint32_t)pos[b] + 1, max_len, 0.0f);
    }
    vkft_buf bp = test_buf_f32(t, ctx, (const float *)pos, B);
    ok = vkft_rec_begin(rec) == 0 && vkft_attention_decode(rec, &dd, bq, bk, bv, bo, &bp) == 0 &&
         vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0;
    if (CHECK(t, ok, "attention_decode with positions: %s", vkft_last_error(ctx))) {
        float *got = test_download_f32(t, ctx, bo, nq);
        double e = test_max_rel_err(got, want, nq);
        CHECK(t, e <= 2e-5, "attention_decode B=%u H=%u Hkv=%u D=%u with positions: error %.2e", B, H, Hkv, D, e);
        free(got);
    }
    vkft_recorder_destroy(rec);
    vkft_arena *ar = vkft_default_arena(ctx);
    vkft_arena_free(ar, bq), vkft_arena_free(ar, bk), vkft_arena_free(ar, bv), vkft_arena_free(ar, bo);
    vkft_arena_free(ar, bp);
    free(q), free(k), free(v), free(want), free(pos);
}

/* The KV append writes each sequence's row at its position and skips positions outside the cache. */
static void kv_append_test(test_state *t, vkft_ctx *ctx) {
    enum { B = 3, KD = 5, L = 4 };
    float k[B * KD], v[B * KD], cache[B * L * KD], got_k[B * L * KD], got_v[B * L * KD];
    int32_t pos[B] = {0, 3, 7};
    for (int i = 0; i < B * KD; i++) k[i] = (float)(i + 1), v[i] = (float)(-i - 1);
    for (int i = 0; i < B * L * KD; i++) cache[i] = 0.5f;
    vkft_buf bk = test_buf_f32(t, ctx, k, B * KD), bv = test_buf_f32(t, ctx, v, B * KD),
             bp = test_buf_f32(t, ctx, (const float *)pos, B), kc = test_buf_f32(t, ctx, cache, B * L * KD),
             vc = test_buf_f32(t, ctx, cache, B * L * KD);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    int ok = vkft_rec_begin(rec) == 0 && vkft_kv_cache_append(rec, B, KD, L, bk, bv, bp, kc, vc) == 0 &&
             vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0 && vkft_download(ctx, kc, 0, got_k, sizeof got_k) == 0 &&
             vkft_download(ctx, vc, 0, got_v, sizeof got_v) == 0;
    if (CHECK(t, ok, "kv_cache_append: %s", vkft_last_error(ctx))) {
        int bad = 0;
        for (int b = 0; b < B; b++)
            for (int j = 0; j < L; j++)
                for (int e = 0; e < KD; e++) {
                    int i = (b * L + j) * KD + e, hit = j == pos[b];
                    bad += got_k[i] != (hit ? k[b * KD + e] : 0.5f) || got_v[i] != (hit ? v[b * KD + e] : 0.5f);
                }
        CHECK(t, bad == 0, "kv_cache_append: %d wrong cache entries", bad);
        printf("kv_cache_append B=%d KD=%d max_len=%d positions 0 3 7 (skipped): %s\n", B, KD, L, bad ? "WRONG" : "ok");
    }
    vkft_recorder_destroy(rec);
    vkft_arena *ar = vkft_default_arena(ctx);
    vkft_arena_free(ar, bk), vkft_arena_free(ar, bv), vkft_arena_free(ar, bp), vkft_arena_free(ar, kc);
    vkft_arena_free(ar, vc);
}

static void kernel_tests(test_state *t) {
    vkft_ctx *ctx = test_open_ctx(t);
    if (!ctx) return;
    static const uint32_t cases[][6] = {
        /* B, H, Hkv, D, n, max_len */
        {1, 1, 1, 1, 1, 1},   {1, 1, 1, 7, 7, 7},    {2, 4, 2, 7, 33, 40},  {1, 6, 3, 33, 129, 130},
        {3, 8, 1, 64, 7, 9},  {2, 4, 4, 16, 65, 65}, {1, 9, 3, 64, 200, 257}, {1, 2, 1, 128, 31, 64},
        {1, 3, 1, 250, 5, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        kernel_case(t, ctx, cases[i][0], cases[i][1], cases[i][2], cases[i][3], cases[i][4], cases[i][5]);
    kv_append_test(t, ctx);
    /* Errors are values. */
    vkft_recorder *rec = vkft_recorder_create(ctx);
    vkft_buf x = test_buf_f32(t, ctx, NULL, 64);
    vkft_attention_decode_dims bad = {1, 3, 2, 4, 1, 1, 0.0f};
    vkft_rec_begin(rec);
    CHECK(t, vkft_attention_decode(rec, &bad, x, x, x, x, NULL) != 0 && strstr(vkft_last_error(ctx), "multiple"),
          "H not a multiple of Hkv is refused: %s", vkft_last_error(ctx));
    vkft_attention_decode_dims over = {1, 2, 2, 4, 5, 4, 0.0f};
    CHECK(t, vkft_attention_decode(rec, &over, x, x, x, x, NULL) != 0 && strstr(vkft_last_error(ctx), "capacity"),
          "n beyond the cache is refused: %s", vkft_last_error(ctx));
    vkft_rec_end(rec);
    vkft_recorder_destroy(rec);
    test_close_ctx(t, ctx);
}

/* The matrix-vector kernel (decoding's linear layers) against the matmul reference: NT and NN (with a row
 * stride, as a Conv1D column slice), bias or not, odd sizes. */
static void matvec_case(test_state *t, vkft_ctx *ctx, const char *kernel, uint32_t rows, uint32_t N, uint32_t K,
                        uint32_t ldw, int with_bias) {
    vkft_mv_form form = strstr(kernel, "_nt") ? VKFT_MV_NT : VKFT_MV_NN;
    size_t nw = form == VKFT_MV_NT ? (size_t)N * ldw : (size_t)K * ldw;
    float *x = malloc((size_t)rows * K * 4), *w = malloc(nw * 4), *bias = malloc((size_t)N * 4),
          *want = malloc((size_t)rows * N * 4);
    test_fill_uniform(x, (size_t)rows * K, 1 + rows + N, -1, 1);
    test_fill_uniform(w, nw, 2 + K, -1, 1);
    test_fill_uniform(bias, N, 3, -1, 1);
    matmul_ref(form == VKFT_MV_NT ? 1 : 0, x, w, want, (int)rows, (int)N, (int)K, (int)K, (int)ldw, (int)N, 1.0f, 0.0f,
               with_bias ? bias : NULL);
    vkft_buf bx = test_buf_f32(t, ctx, x, (size_t)rows * K), bw = test_buf_f32(t, ctx, w, nw),
             bb = test_buf_f32(t, ctx, bias, N), by = test_buf_f32(t, ctx, NULL, (size_t)rows * N), none = {0};
    vkft_recorder *rec = vkft_recorder_create(ctx);
    int ok = vkft_rec_begin(rec) == 0 &&
             vkft_matvec_using(rec, vkft_matvec_kernel(kernel), form, bx, bw, with_bias ? bb : none, by, rows, N, K,
                               ldw) == 0 &&
             vkft_rec_end(rec) == 0 &&
             vkft_rec_submit(rec) == 0;
    const char *fn = kernel;
    if (CHECK(t, ok, "%s rows=%u N=%u K=%u: %s", fn, rows, N, K, vkft_last_error(ctx))) {
        float *got = test_download_f32(t, ctx, by, (size_t)rows * N);
        double e = test_max_rel_err(got, want, (size_t)rows * N);
        printf("%s rows=%u N=%-4u K=%-4u ldw=%-4u bias=%d  max err %.1e\n", fn, rows, N, K, ldw, with_bias, e);
        CHECK(t, e <= 1e-5, "%s rows=%u N=%u K=%u: error %.2e", fn, rows, N, K, e);
        free(got);
    }
    vkft_recorder_destroy(rec);
    vkft_arena *ar = vkft_default_arena(ctx);
    vkft_arena_free(ar, bx), vkft_arena_free(ar, bw), vkft_arena_free(ar, bb), vkft_arena_free(ar, by);
    free(x), free(w), free(bias), free(want);
}

static void matvec_tests(test_state *t) {
    vkft_ctx *ctx = test_open_ctx(t);
    if (!ctx) return;
    static const char *const names[] = {"matvec_nt", "matvec_nt_cpu", "matvec_nn", "matvec_nn_cpu"};
    for (int i = 0; i < 4; i++) {
        /* NT: even sizes take the CPU kernel's 64-bit path, odd ones its 32-bit path */
        if (strstr(names[i], "_nt")) {
            matvec_case(t, ctx, names[i], 1, 1, 1, 1, 0);
            matvec_case(t, ctx, names[i], 1, 33, 7, 7, 1);
            matvec_case(t, ctx, names[i], 3, 129, 130, 133, 1);
            matvec_case(t, ctx, names[i], 2, 1000, 578, 578, 0);
            matvec_case(t, ctx, names[i], 1, 65, 130, 130, 1);
        } else {
            matvec_case(t, ctx, names[i], 1, 1, 1, 1, 1);
            matvec_case(t, ctx, names[i], 2, 65, 33, 195, 1);
            matvec_case(t, ctx, names[i], 1, 129, 257, 129, 0);
            matvec_case(t, ctx, names[i], 2, 66, 33, 198, 1);
        }
    }
    test_close_ctx(t, ctx);
}

/* ---- (b), (c) tiny models ------------------------------------------------------------------------- */

static int32_t *read_ids(const char *path, uint32_t *B, uint32_t *T) {
    char *text, err[256];
    size_t n;
    if (vkft_read_file(path, &text, &n, err, sizeof err)) return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *m = j ? cJSON_GetObjectItem(j, "input_ids") : NULL;
    if (!m) {
        cJSON_Delete(j);
        return NULL;
    }
    *B = (uint32_t)cJSON_GetArraySize(m);
    *T = (uint32_t)cJSON_GetArraySize(cJSON_GetArrayItem(m, 0));
    int32_t *x = calloc((size_t)*B * *T, 4);
    uint32_t b = 0;
    for (cJSON *row = m->child; row; row = row->next, b++) {
        uint32_t i = 0;
        for (cJSON *v = row->child; v && i < *T; v = v->next, i++) x[b * *T + i] = (int32_t)v->valuedouble;
    }
    cJSON_Delete(j);
    return x;
}

/* max |a - b| / max |b| over the logits of position t of every sequence. */
static double step_err(const float *got, const float *want, uint32_t B, uint32_t T, uint32_t V, uint32_t t) {
    double md = 0, mb = 0;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t i = 0; i < V; i++) {
            double w = want[((size_t)b * T + t) * V + i], d = fabs(got[(size_t)b * V + i] - w);
            if (!(d <= md)) md = d;
            if (fabs(w) > mb) mb = fabs(w);
        }
    return md / (mb > 0 ? mb : 1);
}

static int32_t argmax_row(const float *x, uint32_t n) {
    int32_t best = 0;
    for (uint32_t i = 1; i < n; i++)
        if (x[i] > x[best]) best = (int32_t)i;
    return best;
}

static void model_case(test_state *t, const char *name, const char *tmp) {
    char out[1024], args[1200], path[1200], err[1024];
    snprintf(out, sizeof out, "%s/%s", tmp, name);
    snprintf(args, sizeof args, "%s '%s' > /dev/null", name, out);
    if (!CHECK(t, test_run_reference("tiny_models.py", args) == 0, "%s: the PyTorch reference failed", name)) return;
    vkft_ctx *ctx = test_open_ctx(t);
    if (!ctx) return;
    vkft_model *m = NULL;
    vkft_decoder *d = NULL;
    vkft_safetensors want;
    int have_want = 0;
    uint32_t B = 0, T = 0;
    snprintf(path, sizeof path, "%s/batch.json", out);
    int32_t *ids = read_ids(path, &B, &T);
    snprintf(path, sizeof path, "%s/model", out);
    if (!CHECK(t, ids != NULL, "%s: batch.json", name) ||
        !CHECK(t, vkft_model_load(ctx, path, &m, err, sizeof err) == 0, "%s: load: %s", name, err))
        goto done;
    snprintf(path, sizeof path, "%s/expected.safetensors", out);
    if (!CHECK(t, vkft_st_open(path, &want, err, sizeof err) == 0, "%s: %s", name, err)) goto done;
    have_want = 1;
    const vkft_st_tensor *wl = vkft_st_find(&want, "logits");
    const float *ref = (const float *)wl->data;
    uint32_t V = vkft_model_cfg(m)->vocab_size;
    float *logits = malloc((size_t)B * V * 4);
    int32_t *col = malloc((size_t)B * 4), *prompt = malloc((size_t)B * T * 4);
    if (!CHECK(t, vkft_decoder_create(m, B, T, &d) == 0, "%s: decoder: %s", name, vkft_last_error(ctx))) goto free_host;

    /* Token by token from an empty cache. */
    double worst = 0;
    for (uint32_t s = 0; s < T; s++) {
        for (uint32_t b = 0; b < B; b++) col[b] = ids[b * T + s];
        int rc = s == 0 ? vkft_decoder_prefill(d, col, 1, logits) : vkft_decoder_step(d, col, logits);
        if (!CHECK(t, rc == 0, "%s: step %u: %s", name, s, vkft_last_error(ctx))) goto free_host;
        double e = step_err(logits, ref, B, T, V, s);
        CHECK(t, e <= 1e-4, "%s: token-by-token logits at position %u: rel. error %.2e", name, s, e);
        if (e > worst) worst = e;
    }
    /* A batched prefill of the first P tokens, then steps. */
    uint32_t P = T / 2;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t s = 0; s < P; s++) prompt[b * P + s] = ids[b * T + s];
    vkft_decoder_reset(d);
    double worst_prefill = 0;
    if (CHECK(t, vkft_decoder_prefill(d, prompt, P, logits) == 0, "%s: prefill: %s", name, vkft_last_error(ctx))) {
        worst_prefill = step_err(logits, ref, B, T, V, P - 1);
        CHECK(t, worst_prefill <= 1e-4, "%s: prefill of %u tokens: rel. error %.2e", name, P, worst_prefill);
        for (uint32_t s = P; s < T; s++) {
            for (uint32_t b = 0; b < B; b++) col[b] = ids[b * T + s];
            if (!CHECK(t, vkft_decoder_step(d, col, logits) == 0, "%s: step: %s", name, vkft_last_error(ctx))) break;
            double e = step_err(logits, ref, B, T, V, s);
            CHECK(t, e <= 1e-4, "%s: logits at position %u after prefill: rel. error %.2e", name, s, e);
            if (e > worst_prefill) worst_prefill = e;
        }
        /* the cache is full */
        CHECK(t, vkft_decoder_step(d, col, logits) != 0 && strstr(vkft_last_error(ctx), "capacity"),
              "%s: a step beyond the capacity is refused", name);
    }
    vkft_decoder_free(d);
    d = NULL;

    /* (c) generation with B = 1: greedy repeats and follows the reference; a seed repeats. */
    const uint32_t prompt_len = 3, max_new = 5;
    CHECK(t, vkft_decoder_create(m, 1, prompt_len + max_new, &d) == 0, "%s: decoder: %s", name, vkft_last_error(ctx));
    int32_t g1[8], g2[8], s1[8], s2[8], k1[8], p1[8];
    vkft_generate_opts o = {.max_new_tokens = max_new, .sampling = vkft_sampling_default()};
    vkft_generate_stats st1, st2;
    o.sampling.greedy = 1;
    int ok = d && vkft_generate(d, ids, prompt_len, &o, g1, &st1) == 0 && vkft_generate(d, ids, prompt_len, &o, g2, &st2) == 0;
    if (CHECK(t, ok, "%s: greedy generation: %s", name, vkft_last_error(ctx))) {
        CHECK(t, st1.n_new == max_new && st2.n_new == max_new && !memcmp(g1, g2, sizeof g1[0] * max_new),
              "%s: greedy generation repeats", name);
        /* The first greedy token is the argmax of the reference logits at the prompt's last position. */
        CHECK(t, g1[0] == argmax_row(ref + (size_t)(prompt_len - 1) * V, V), "%s: greedy token %d is the argmax",
              name, g1[0]);
        /* An EOS id stops generation after producing it. */
        vkft_generate_opts oe = o;
        oe.eos_ids = &g1[1];
        oe.n_eos = 1;
        vkft_generate_stats se;
        int32_t ge[8];
        CHECK(t, vkft_generate(d, ids, prompt_len, &oe, ge, &se) == 0 && se.stopped_at_eos && se.n_new <= 2 &&
                     ge[se.n_new - 1] == g1[1],
              "%s: generation stops at EOS", name);
        o.sampling = vkft_sampling_default();
        o.sampling.seed = 42;
        o.sampling.temperature = 1.5f;
        ok = vkft_generate(d, ids, prompt_len, &o, s1, &st1) == 0 && vkft_generate(d, ids, prompt_len, &o, s2, &st2) == 0;
        CHECK(t, ok && !memcmp(s1, s2, sizeof s1[0] * max_new), "%s: sampling with a seed repeats", name);
        o.sampling.top_k = 1;
        CHECK(t, vkft_generate(d, ids, prompt_len, &o, k1, &st1) == 0 && !memcmp(k1, g1, sizeof k1[0] * max_new),
              "%s: top-k 1 is greedy", name);
        o.sampling.top_k = 0;
        o.sampling.top_p = 1e-6f;
        CHECK(t, vkft_generate(d, ids, prompt_len, &o, p1, &st1) == 0 && !memcmp(p1, g1, sizeof p1[0] * max_new),
              "%s: a tiny top-p is greedy", name);
        printf("%-12s decode logits: token by token %.1e, after a %u-token prefill %.1e; greedy %d %d %d %d %d; "
               "seed 42: %d %d %d %d %d\n",
               name, worst, P, worst_prefill, g1[0], g1[1], g1[2], g1[3], g1[4], s1[0], s1[1], s1[2], s1[3], s1[4]);
    }
free_host:
    free(logits), free(col), free(prompt);
done:
    vkft_decoder_free(d);
    if (have_want) vkft_st_close(&want);
    free(ids);
    vkft_model_free(m);
    test_close_ctx(t, ctx);
}

/* Sampling alone: the distribution follows the logits (a rough frequency check) and settings are checked. */
static void sampler_tests(test_state *t) {
    float logits[4] = {0.0f, logf(2.0f), logf(3.0f), -INFINITY}; /* p = 1/6, 2/6, 3/6, 0 */
    vkft_sampling s = vkft_sampling_default();
    s.seed = 5;
    vkft_sampler *sp = vkft_sampler_create(4, &s);
    int count[4] = {0};
    for (int i = 0; i < 60000; i++) count[vkft_sample(sp, logits)]++;
    vkft_sampler_free(sp);
    printf("sampling 60000 draws of p = 1/6 2/6 3/6 0: %d %d %d %d\n", count[0], count[1], count[2], count[3]);
    CHECK(t, abs(count[0] - 10000) < 600 && abs(count[1] - 20000) < 800 && abs(count[2] - 30000) < 800 &&
                 count[3] == 0,
          "sampled frequencies follow the probabilities");
    s.top_k = 2;
    sp = vkft_sampler_create(4, &s);
    int c2[4] = {0};
    for (int i = 0; i < 10000; i++) c2[vkft_sample(sp, logits)]++;
    vkft_sampler_free(sp);
    CHECK(t, c2[0] == 0 && c2[3] == 0 && c2[1] > 3000 && c2[2] > 5000, "top-k 2 keeps the two likeliest");
    s.top_k = 0;
    s.top_p = 0.6f; /* 3/6 < 0.6 <= 5/6: ids 2 and 1 */
    sp = vkft_sampler_create(4, &s);
    int c3[4] = {0};
    for (int i = 0; i < 10000; i++) c3[vkft_sample(sp, logits)]++;
    vkft_sampler_free(sp);
    CHECK(t, c3[0] == 0 && c3[3] == 0 && c3[1] > 3000 && c3[2] > 5000, "top-p 0.6 keeps the nucleus {2, 1}");
    s.top_p = 1.5f;
    CHECK(t, vkft_sampling_check(&s) != NULL, "top-p 1.5 is refused");
    s.top_p = 1.0f;
    s.temperature = 0.0f;
    CHECK(t, vkft_sampling_check(&s) != NULL, "temperature 0 without greedy is refused");
}

int main(int argc, char **argv) {
    test_state t;
    test_begin(&t, "generate");
    char tmp[256];
    test_tmpdir(tmp, sizeof tmp);
    static const char *const cases[] = {"gpt2", "llama", "qwen2", "llama_tied", "mistral", "llama3_rope"};
    if (argc > 1) {
        for (int i = 1; i < argc; i++) model_case(&t, argv[i], tmp);
        return test_finish(&t);
    }
    kernel_tests(&t);
    matvec_tests(&t);
    sampler_tests(&t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) model_case(&t, cases[i], tmp);
    return test_finish(&t);
}
