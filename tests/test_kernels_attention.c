/* Attention kernels (model/ops_attention.c) against the unfused C reference (tests/ref/attention_ref.c)
 * at awkward sizes, causal and bidirectional with padding, multi-head, grouped-query and multi-query;
 * the reference's backward against finite differences in fp64; and one comparison with PyTorch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_attention.h"
#include "tests/ref/attention_ref.h"
#include "tests/test_gpu.h"

/* Tolerances (|got - want| / max(1, |want|)): fp32 accumulation over D products and up to T keys. */
#define TOL_FORWARD 1e-5
#define TOL_BACKWARD 3e-5

typedef struct {
    uint32_t B, T, H, Hkv, D;
    int causal, padded;
    float scale; /* 0: 1/sqrt(D) */
} attn_case;

static double max_abs_err(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (isnan(d)) return INFINITY;
        if (d > m) m = d;
    }
    return m;
}

static void make_lengths(const attn_case *c, uint32_t *len) {
    for (uint32_t b = 0; b < c->B; b++) {
        if (!c->padded)
            len[b] = c->T;
        else if (c->B > 1 && b == c->B - 1)
            len[b] = c->T > 7 ? 0 : c->T; /* an empty sequence: every row is padding */
        else
            len[b] = c->T * (2 + b) / 3 > 0 ? c->T * (2 + b) / 3 : 1;
    }
}

/* ---- the reference's backward against central differences, in fp64 --------------------------------- */

static double fd_loss(const attention_ref_dims *d, const double *q, const double *k, const double *v,
                      const double *w, double *out) {
    attention_forward_ref_f64(d, out, NULL, q, k, v);
    double s = 0;
    for (size_t i = 0; i < (size_t)d->B * d->T * d->H * d->D; i++) s += out[i] * w[i];
    return s;
}

static void test_reference_fd(test_state *t, int causal, int padded) {
    uint32_t lengths[2] = {4, 6};
    attention_ref_dims d = {.B = 2,
                            .T = 6,
                            .H = 4,
                            .Hkv = 2,
                            .D = 5,
                            .causal = causal,
                            .scale = 0.7,
                            .lengths = padded ? lengths : NULL};
    size_t nq = (size_t)d.B * d.T * d.H * d.D, nk = (size_t)d.B * d.T * d.Hkv * d.D;
    double *x = malloc(sizeof(double) * (nq + 2 * nk)), *w = malloc(sizeof(double) * nq);
    double *out = malloc(sizeof(double) * nq), *g = malloc(sizeof(double) * (nq + 2 * nk));
    uint64_t seed = 1234 + causal * 2 + padded;
    for (size_t i = 0; i < nq + 2 * nk; i++) x[i] = test_rand_uniform(&seed, -1.5f, 1.5f);
    for (size_t i = 0; i < nq; i++) w[i] = test_rand_uniform(&seed, -1, 1);
    double *q = x, *k = x + nq, *v = x + nq + nk;
    attention_backward_ref_f64(&d, g, g + nq, g + nq + nk, w, q, k, v);
    double worst = 0, h = 1e-6;
    for (size_t i = 0; i < nq + 2 * nk; i++) {
        double keep = x[i];
        x[i] = keep + h;
        double lp = fd_loss(&d, q, k, v, w, out);
        x[i] = keep - h;
        double lm = fd_loss(&d, q, k, v, w, out);
        x[i] = keep;
        double fd = (lp - lm) / (2 * h), e = fabs(fd - g[i]) / fmax(1.0, fabs(fd));
        if (e > worst) worst = e;
    }
    printf("reference backward vs finite differences (B=2 T=6 H=4 Hkv=2 D=5, %s%s): max err %.2e\n",
           causal ? "causal" : "bidirectional", padded ? ", padded" : "", worst);
    CHECK(t, worst < 1e-7, "finite differences: error %.2e >= 1e-7", worst);
    free(x), free(w), free(out), free(g);
}

/* ---- GPU against the reference --------------------------------------------------------------------- */

typedef struct {
    float *q, *k, *v, *dout;
    uint32_t len[64];
    size_t nq, nk, nl;
} attn_inputs;

static void make_inputs(const attn_case *c, attn_inputs *in, uint64_t seed) {
    in->nq = (size_t)c->B * c->T * c->H * c->D;
    in->nk = (size_t)c->B * c->T * c->Hkv * c->D;
    in->nl = (size_t)c->B * c->H * c->T;
    in->q = malloc(in->nq * 4), in->k = malloc(in->nk * 4), in->v = malloc(in->nk * 4);
    in->dout = malloc(in->nq * 4);
    test_fill_uniform(in->q, in->nq, seed, -2, 2);
    test_fill_uniform(in->k, in->nk, seed + 1, -2, 2);
    test_fill_uniform(in->v, in->nk, seed + 2, -1, 1);
    test_fill_uniform(in->dout, in->nq, seed + 3, -1, 1);
    make_lengths(c, in->len);
}

static void free_inputs(attn_inputs *in) { free(in->q), free(in->k), free(in->v), free(in->dout); }

typedef struct {
    float *out, *lse, *dq, *dk, *dv;
} attn_results;

static void free_results(attn_results *r) {
    free(r->out), free(r->lse), free(r->dq), free(r->dk), free(r->dv);
}

/* Which kernels run a case: the device's choice of fused kernels, the plain one-row-per-invocation ones
 * (GPUs with 32-wide subgroups run them at D=64), or the scores path with scratch for one score block at
 * a time (the most chunks) or for as many as fit. */
typedef enum { RUN_FUSED, RUN_PLAIN, RUN_SCORES_ONE, RUN_SCORES } run_mode;
static const char *mode_names[] = {"fused", "plain", "scores1", "scores"};

/* Runs forward then backward in one recording (twice: the results must repeat bit for bit). */
static int run_gpu(test_state *t, vkft_ctx *ctx, const attn_case *c, run_mode mode, const attn_inputs *in,
                   attn_results *r) {
    vkft_attention_dims dims = {c->B, c->T, c->H, c->Hkv, c->D, c->causal, c->scale, {0}};
    int plain = mode == RUN_PLAIN;
    if (mode >= RUN_SCORES_ONE) {
        uint64_t bytes = vkft_attention_scores_scratch_bytes(ctx, &dims, mode == RUN_SCORES_ONE ? 1 : 0);
        CHECK(t, bytes > 0, "scores path: no scratch size");
        dims.scratch = test_buf_f32(t, ctx, NULL, bytes / 4);
    }
    vkft_buf q = test_buf_f32(t, ctx, in->q, in->nq), k = test_buf_f32(t, ctx, in->k, in->nk);
    vkft_buf v = test_buf_f32(t, ctx, in->v, in->nk), dout = test_buf_f32(t, ctx, in->dout, in->nq);
    vkft_buf out = test_buf_f32(t, ctx, NULL, in->nq), lse = test_buf_f32(t, ctx, NULL, in->nl);
    vkft_buf dq = test_buf_f32(t, ctx, NULL, in->nq), dk = test_buf_f32(t, ctx, NULL, in->nk);
    vkft_buf dv = test_buf_f32(t, ctx, NULL, in->nk), delta = test_buf_f32(t, ctx, NULL, in->nl);
    vkft_buf len = test_buf_f32(t, ctx, NULL, c->B);
    CHECK(t, vkft_upload(ctx, len, 0, in->len, c->B * 4) == 0, "upload lengths");
    vkft_recorder *rec = vkft_recorder_create(ctx);
    const vkft_buf *lp = c->padded ? &len : NULL;
    int rc =
        !rec || vkft_rec_begin(rec) ||
        (dims.scratch.block && vkft_rec_fill(rec, dims.scratch, 0x7fc00000u)) || /* NaN must not leak out */
        (plain ? vkft_attention_forward_plain : vkft_attention_forward)(rec, &dims, out, lse, q, k, v, lp) ||
        (plain ? vkft_attention_backward_plain : vkft_attention_backward)(rec, &dims, dq, dk, dv, delta, dout,
                                                                          q, k, v, out, lse, lp) ||
        vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "attention record/submit: %s", vkft_last_error(ctx));
    r->out = test_download_f32(t, ctx, out, in->nq);
    r->lse = test_download_f32(t, ctx, lse, in->nl);
    r->dq = test_download_f32(t, ctx, dq, in->nq);
    r->dk = test_download_f32(t, ctx, dk, in->nk);
    r->dv = test_download_f32(t, ctx, dv, in->nk);
    if (!rc) { /* determinism: a second run gives the same bits */
        CHECK(t, vkft_rec_submit(rec) == 0, "second submit: %s", vkft_last_error(ctx));
        float *dk2 = test_download_f32(t, ctx, dk, in->nk), *dv2 = test_download_f32(t, ctx, dv, in->nk);
        float *dq2 = test_download_f32(t, ctx, dq, in->nq);
        CHECK(t,
              !memcmp(dk2, r->dk, in->nk * 4) && !memcmp(dv2, r->dv, in->nk * 4) &&
                  !memcmp(dq2, r->dq, in->nq * 4),
              "backward is not deterministic");
        free(dk2), free(dv2), free(dq2);
    }
    vkft_recorder_destroy(rec);
    vkft_buf all[] = {q, k, v, dout, out, lse, dq, dk, dv, delta, len, dims.scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) vkft_arena_free(vkft_default_arena(ctx), all[i]);
    return rc;
}

/* lse of valid rows within tol, -inf on padding rows */
static double lse_err(const attn_case *c, const attn_inputs *in, const float *got, const float *want,
                      int *bad_pad) {
    double worst = 0;
    *bad_pad = 0;
    for (uint32_t b = 0; b < c->B; b++)
        for (uint32_t h = 0; h < c->H; h++)
            for (uint32_t i = 0; i < c->T; i++) {
                size_t at = ((size_t)b * c->H + h) * c->T + i;
                if (i >= in->len[b]) {
                    if (!(isinf(got[at]) && got[at] < 0)) *bad_pad = 1;
                    continue;
                }
                double e = fabs((double)got[at] - want[at]) / fmax(1.0, fabs((double)want[at]));
                if (!(e <= worst)) worst = isnan(e) ? INFINITY : e;
            }
    return worst;
}

static void test_case(test_state *t, vkft_ctx *ctx, const attn_case *c, run_mode mode, uint64_t seed) {
    attn_inputs in;
    make_inputs(c, &in, seed);
    attention_ref_dims rd = {
        c->B,  c->T, c->H, c->Hkv, c->D, c->causal, c->scale != 0.0f ? c->scale : 1.0f / sqrtf((float)c->D),
        in.len};
    float *out = malloc(in.nq * 4), *lse = malloc(in.nl * 4), *dq = malloc(in.nq * 4);
    float *dk = malloc(in.nk * 4), *dv = malloc(in.nk * 4);
    attention_forward_ref(&rd, out, lse, in.q, in.k, in.v);
    attention_backward_ref(&rd, dq, dk, dv, in.dout, in.q, in.k, in.v);
    attn_results r = {0};
    if (run_gpu(t, ctx, c, mode, &in, &r) == 0) {
        int bad_pad;
        double e_out = test_max_rel_err(r.out, out, in.nq), e_lse = lse_err(c, &in, r.lse, lse, &bad_pad);
        double e_dq = test_max_rel_err(r.dq, dq, in.nq), e_dk = test_max_rel_err(r.dk, dk, in.nk);
        double e_dv = test_max_rel_err(r.dv, dv, in.nk);
        printf("%-7s B=%u T=%-3u H=%u Hkv=%u D=%-3u %-13s %-6s out %.1e lse %.1e dq %.1e dk %.1e dv %.1e\n",
               mode_names[mode], c->B, c->T, c->H, c->Hkv, c->D,
               c->causal ? "causal" : "bidirectional", c->padded ? "padded" : "", e_out, e_lse, e_dq, e_dk,
               e_dv);
        CHECK(t, e_out <= TOL_FORWARD, "out error %.2e > %.0e", e_out, TOL_FORWARD);
        CHECK(t, e_lse <= TOL_FORWARD, "lse error %.2e > %.0e", e_lse, TOL_FORWARD);
        CHECK(t, !bad_pad, "lse of a padding row is not -inf");
        CHECK(t, e_dq <= TOL_BACKWARD, "dq error %.2e > %.0e", e_dq, TOL_BACKWARD);
        CHECK(t, e_dk <= TOL_BACKWARD, "dk error %.2e > %.0e", e_dk, TOL_BACKWARD);
        CHECK(t, e_dv <= TOL_BACKWARD, "dv error %.2e > %.0e", e_dv, TOL_BACKWARD);
        /* padding rows and keys: exactly zero (the reference writes zeros there too) */
        CHECK(t, max_abs_err(r.out, out, in.nq) < 1 && max_abs_err(r.dq, dq, in.nq) < 1, "NaN in out or dq");
    }
    free_results(&r);
    free(out), free(lse), free(dq), free(dk), free(dv);
    free_inputs(&in);
}

/* ---- PyTorch on shared inputs ---------------------------------------------------------------------- */

static float *read_expect(test_state *t, const char *dir, const char *name, size_t n) {
    char path[600];
    snprintf(path, sizeof path, "%s/%s.torch.f32", dir, name);
    size_t got = 0;
    float *x = test_read_f32(path, &got);
    CHECK(t, x && got == n, "%s: read %zu of %zu floats", path, got, n);
    return x;
}

static void test_pytorch(test_state *t, vkft_ctx *ctx, const attn_case *c, run_mode mode, uint64_t seed) {
    char dir[512], path[600], args[800];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "mkdtemp")) return;
    attn_inputs in;
    make_inputs(c, &in, seed);
    const char *names[] = {"q", "k", "v", "dout"};
    const float *data[] = {in.q, in.k, in.v, in.dout};
    size_t sizes[] = {in.nq, in.nk, in.nk, in.nq};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s.f32", dir, names[i]);
        CHECK(t, test_write_f32(path, data[i], sizes[i]) == 0, "write %s", path);
    }
    float lenf[64];
    for (uint32_t b = 0; b < c->B; b++) lenf[b] = (float)in.len[b];
    snprintf(path, sizeof path, "%s/lengths.f32", dir);
    test_write_f32(path, lenf, c->B);
    float scale = c->scale != 0.0f ? c->scale : 1.0f / sqrtf((float)c->D);
    snprintf(args, sizeof args, "'%s' %u %u %u %u %u %d %.9g %d", dir, c->B, c->T, c->H, c->Hkv, c->D,
             c->causal, scale, c->padded);
    int rc = test_run_reference("attention.py", args);
    if (!CHECK(t, rc == 0, "tests/reference/attention.py failed (status %d)", rc)) {
        free_inputs(&in);
        return;
    }
    float *out = read_expect(t, dir, "out", in.nq), *lse = read_expect(t, dir, "lse", in.nl);
    float *dq = read_expect(t, dir, "dq", in.nq), *dk = read_expect(t, dir, "dk", in.nk);
    float *dv = read_expect(t, dir, "dv", in.nk);
    attn_results r = {0};
    if (out && lse && dq && dk && dv && run_gpu(t, ctx, c, mode, &in, &r) == 0) {
        int bad_pad;
        double e_out = test_max_rel_err(r.out, out, in.nq), e_lse = lse_err(c, &in, r.lse, lse, &bad_pad);
        double e_dq = test_max_rel_err(r.dq, dq, in.nq), e_dk = test_max_rel_err(r.dk, dk, in.nk);
        double e_dv = test_max_rel_err(r.dv, dv, in.nk);
        printf("PyTorch (%s) B=%u T=%u H=%u Hkv=%u D=%u %s%s: out %.1e lse %.1e dq %.1e dk %.1e dv %.1e\n",
               mode_names[mode], c->B,
               c->T, c->H, c->Hkv, c->D, c->causal ? "causal" : "bidirectional", c->padded ? " padded" : "",
               e_out, e_lse, e_dq, e_dk, e_dv);
        CHECK(t, e_out <= TOL_FORWARD && e_lse <= TOL_FORWARD && !bad_pad, "PyTorch forward mismatch");
        CHECK(t, e_dq <= TOL_BACKWARD && e_dk <= TOL_BACKWARD && e_dv <= TOL_BACKWARD,
              "PyTorch backward mismatch");
    }
    free_results(&r);
    free(out), free(lse), free(dq), free(dk), free(dv);
    free_inputs(&in);
}

/* ---- argument errors --------------------------------------------------------------------------------- */

static void test_errors(test_state *t, vkft_ctx *ctx) {
    vkft_recorder *rec = vkft_recorder_create(ctx);
    vkft_buf x = test_buf_f32(t, ctx, NULL, 64);
    vkft_attention_dims bad_heads = {1, 4, 3, 2, 8, 1, 0, {0}}, bad_dim = {1, 4, 2, 2, 7, 1, 0, {0}};
    CHECK(t, vkft_rec_begin(rec) == 0, "begin");
    CHECK(t,
          vkft_attention_forward(rec, &bad_heads, x, x, x, x, x, NULL) == -1 &&
              strstr(vkft_last_error(ctx), "multiple"),
          "H not a multiple of Hkv is refused: %s", vkft_last_error(ctx));
    CHECK(t,
          vkft_attention_forward(rec, &bad_dim, x, x, x, x, x, NULL) == -1 &&
              strstr(vkft_last_error(ctx), "D=7"),
          "an unsupported head dim is refused: %s", vkft_last_error(ctx));
    vkft_rec_end(rec);
    vkft_recorder_destroy(rec);
    vkft_arena_free(vkft_default_arena(ctx), x);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_attention");
    for (int causal = 0; causal < 2; causal++)
        for (int padded = 0; padded < 2; padded++) test_reference_fd(&t, causal, padded);

    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    static const attn_case cases[] = {
        /* B  T   H  Hkv D   causal padded scale */
        {1, 1, 1, 1, 8, 1, 0, 0},       {1, 7, 2, 2, 16, 1, 0, 0},   {2, 33, 4, 2, 16, 1, 0, 0},
        {2, 33, 4, 1, 8, 0, 1, 0},      {1, 129, 4, 2, 64, 1, 0, 0}, {2, 129, 2, 2, 64, 0, 1, 0},
        {2, 70, 4, 4, 32, 0, 0, 0.25f}, {2, 7, 4, 1, 64, 1, 1, 0},   {1, 65, 3, 1, 128, 1, 0, 0},
        {1, 1, 2, 1, 16, 0, 0, 0},      {2, 33, 4, 2, 48, 0, 1, 0},  {1, 40, 2, 1, 80, 1, 0, 0},
        {1, 1, 2, 1, 64, 1, 0, 0},      {3, 3, 2, 2, 32, 0, 1, 0},   {2, 9, 4, 2, 64, 1, 1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (run_mode m = RUN_FUSED; m <= RUN_SCORES; m++)
            if (m != RUN_PLAIN) test_case(&t, ctx, &cases[i], m, 100 + i);
    /* The plain kernels at the head dims where lavapipe takes the subgroup-shaped ones (GPUs with 32-wide
     * subgroups run these at D=64). */
    static const attn_case plain_cases[] = {{1, 129, 4, 2, 64, 1, 0, 0},
                                            {2, 33, 4, 1, 64, 0, 1, 0},
                                            {1, 65, 3, 1, 128, 1, 0, 0},
                                            {2, 70, 4, 4, 32, 0, 0, 0}};
    for (size_t i = 0; i < sizeof plain_cases / sizeof plain_cases[0]; i++)
        test_case(&t, ctx, &plain_cases[i], RUN_PLAIN, 200 + i);

    static const attn_case torch_cases[] = {{2, 33, 4, 2, 16, 1, 0, 0}, {2, 37, 4, 1, 64, 0, 1, 0}};
    for (size_t i = 0; i < 2; i++) {
        test_pytorch(&t, ctx, &torch_cases[i], RUN_FUSED, 900 + i);
        test_pytorch(&t, ctx, &torch_cases[i], RUN_SCORES_ONE, 900 + i);
    }
    test_errors(&t, ctx);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
