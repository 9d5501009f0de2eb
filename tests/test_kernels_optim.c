/* adamw_step, grad_norm and clip_grads (shaders/adamw.comp) against the C reference on odd sizes over
 * several steps (clipping fused into the step, the coefficient read on the GPU), the norm over several
 * buffers and its determinism, and a few steps against torch.optim.AdamW + clip_grad_norm_. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_optim.h"
#include "tests/ref/optim_ref.h"
#include "tests/ref/rows_ref.h"
#include "tests/test_gpu.h"

static const vkft_adamw_hparams HP = {1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f};
enum { STEPS = 3 };

/* max |a - b| / max(max |b|, 1e-30): errors relative to the array's scale (m and v are small). */
static double err_vs_max(const float *a, const double *b, size_t n) {
    double m = 0, d = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(b[i]));
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = isnan(e) ? INFINITY : e;
    }
    return d / fmax(m, 1e-30);
}

typedef struct {
    float *p, *m, *v, norms[STEPS];
} gpu_out;

/* STEPS steps of: upload the step's gradients, norm + clip coefficient, AdamW with the clip fused. */
static gpu_out run_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, const float *p0, float *const *g,
                       size_t n, float max_norm) {
    gpu_out o = {0};
    vkft_buf P = test_buf_f32(t, ctx, p0, n), G = test_buf_f32(t, ctx, NULL, n),
             M = test_buf_f32(t, ctx, NULL, n), V = test_buf_f32(t, ctx, NULL, n),
             S = test_buf_f32(t, ctx, NULL, vkft_grad_norm_scratch_floats(1)),
             NORM = test_buf_f32(t, ctx, NULL, 2);
    uint32_t N = (uint32_t)n;
    int rc = vkft_rec_begin(rec) || vkft_rec_fill(rec, M, 0) || vkft_rec_fill(rec, V, 0) ||
             vkft_rec_end(rec) || vkft_rec_submit(rec);
    for (int s = 0; s < STEPS && !rc; s++) {
        rc = vkft_upload(ctx, G, 0, g[s], n * 4) || vkft_rec_begin(rec) ||
             vkft_grad_norm(rec, &G, &N, 1, S, NORM, max_norm) ||
             vkft_adamw_step(rec, P, G, M, V, N, &HP, (uint32_t)s + 1, NORM) || vkft_rec_end(rec) ||
             vkft_rec_submit(rec) || vkft_download(ctx, NORM, 0, &o.norms[s], 4);
    }
    CHECK(t, rc == 0, "adamw record/submit: %s", vkft_last_error(ctx));
    o.p = test_download_f32(t, ctx, P, n), o.m = test_download_f32(t, ctx, M, n),
    o.v = test_download_f32(t, ctx, V, n);
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_arena_free(a, P), vkft_arena_free(a, G), vkft_arena_free(a, M), vkft_arena_free(a, V);
    vkft_arena_free(a, S), vkft_arena_free(a, NORM);
    return o;
}

static void make_inputs(float *p0, float **g, size_t n, uint64_t seed) {
    test_fill_uniform(p0, n, seed, -1, 1);
    for (int s = 0; s < STEPS; s++)
        test_fill_uniform(g[s], n, seed + 1 + s, -0.05f * (s + 1), 0.05f * (s + 1));
}

static void check_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t n, float max_norm,
                      uint64_t seed) {
    float *p0 = malloc(n * 4), *g[STEPS];
    for (int s = 0; s < STEPS; s++) g[s] = malloc(n * 4);
    make_inputs(p0, g, n, seed);
    gpu_out o = run_gpu(t, ctx, rec, p0, g, n, max_norm);
    double *p = rows_to_double(p0, n), *m = calloc(n, 8), *v = calloc(n, 8), en = 0;
    for (int s = 0; s < STEPS; s++) {
        double *gd = rows_to_double(g[s], n), norm = grad_norm_ref(gd, n);
        en = fmax(en, fabs(o.norms[s] - norm) / fmax(1.0, norm));
        adamw_step_ref(p, gd, m, v, n, HP.lr, HP.beta1, HP.beta2, HP.eps, HP.weight_decay, (unsigned)s + 1,
                       clip_coef_ref(norm, max_norm));
        free(gd);
    }
    double ep = rows_max_err(o.p, p, n), em = err_vs_max(o.m, m, n), ev = err_vs_max(o.v, v, n);
    CHECK(t, ep < 2e-6 && em < 1e-5 && ev < 1e-5 && en < 1e-5, "adamw n=%zu: p %.2e m %.2e v %.2e norm %.2e",
          n, ep, em, ev, en);
    printf("gpu  adamw n=%-7zu max_norm=%.1f %d steps  p %.2e  m %.2e  v %.2e  norm %.2e (tol 2e-6, 1e-5)\n",
           n, max_norm, STEPS, ep, em, ev, en);
    free(o.p), free(o.m), free(o.v), free(p0), free(p), free(m), free(v);
    for (int s = 0; s < STEPS; s++) free(g[s]);
}

/* One recording (grad norm + adamw_step_hp) submitted for every step, the host rewriting the gradients and
 * the hyperparameter buffer in between: the same bits as recording each step with push constants. */
static void check_recorded_once(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t n, uint64_t seed) {
    float *p0 = malloc(n * 4), *g[STEPS];
    for (int s = 0; s < STEPS; s++) g[s] = malloc(n * 4);
    make_inputs(p0, g, n, seed);
    gpu_out want = run_gpu(t, ctx, rec, p0, g, n, 1.0f);
    vkft_buf P = test_buf_f32(t, ctx, p0, n), G = test_buf_f32(t, ctx, NULL, n),
             M = test_buf_f32(t, ctx, NULL, n), V = test_buf_f32(t, ctx, NULL, n),
             S = test_buf_f32(t, ctx, NULL, vkft_grad_norm_scratch_floats(1)),
             NORM = test_buf_f32(t, ctx, NULL, 2), HPB = test_buf_f32(t, ctx, NULL, VKFT_ADAMW_HP_FLOATS);
    uint32_t N = (uint32_t)n;
    int rc = vkft_rec_begin(rec) || vkft_rec_fill(rec, M, 0) || vkft_rec_fill(rec, V, 0) ||
             vkft_rec_end(rec) || vkft_rec_submit(rec);
    rc = rc || vkft_rec_begin(rec) || vkft_grad_norm(rec, &G, &N, 1, S, NORM, 1.0f) ||
         vkft_adamw_step_hp(rec, P, G, M, V, N, HPB, NORM) || vkft_rec_end(rec);
    for (int s = 0; s < STEPS && !rc; s++) {
        float hp[VKFT_ADAMW_HP_FLOATS];
        vkft_adamw_hp_pack(&HP, (uint32_t)s + 1, hp);
        rc = vkft_upload(ctx, G, 0, g[s], n * 4) || vkft_upload(ctx, HPB, 0, hp, sizeof hp) ||
             vkft_rec_submit(rec);
    }
    CHECK(t, rc == 0, "adamw_step_hp: %s", vkft_last_error(ctx));
    float *p = test_download_f32(t, ctx, P, n), *m = test_download_f32(t, ctx, M, n),
          *v = test_download_f32(t, ctx, V, n);
    double *pd = rows_to_double(want.p, n), *md = rows_to_double(want.m, n), *vd = rows_to_double(want.v, n);
    double ep = rows_max_err(p, pd, n), em = err_vs_max(m, md, n), ev = err_vs_max(v, vd, n);
    int same = !memcmp(p, want.p, n * 4) && !memcmp(m, want.m, n * 4) && !memcmp(v, want.v, n * 4);
    CHECK(t, same, "adamw_step_hp n=%zu recorded once vs push constants: %.2e %.2e %.2e, not bit-identical",
          n, ep, em, ev);
    printf("gpu  adamw_step_hp n=%-7zu one recording, %d submissions vs push constants: p %.2e m %.2e v %.2e "
           "(bit-identical: %s)\n",
           n, STEPS, ep, em, ev, same ? "yes" : "no");
    free(pd), free(md), free(vd);
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf all[] = {P, G, M, V, S, NORM, HPB};
    for (size_t i = 0; i < 7; i++) vkft_arena_free(a, all[i]);
    free(p), free(m), free(v), free(want.p), free(want.m), free(want.v), free(p0);
    for (int s = 0; s < STEPS; s++) free(g[s]);
}

/* The norm over three buffers, the clip kernel, and bit-for-bit repetition. */
static void check_norm_group(test_state *t, vkft_ctx *ctx, vkft_recorder *rec) {
    static const uint32_t n[3] = {7, 132, 1000003}; /* 132: clip_grads_vec4 */
    float *g[3];
    vkft_buf G[3];
    double sq = 0;
    for (int i = 0; i < 3; i++) {
        g[i] = malloc(n[i] * 4);
        test_fill_uniform(g[i], n[i], 40 + i, -1, 1);
        G[i] = test_buf_f32(t, ctx, g[i], n[i]);
        double *gd = rows_to_double(g[i], n[i]), nn = grad_norm_ref(gd, n[i]);
        sq += nn * nn;
        free(gd);
    }
    double norm = sqrt(sq), coef = clip_coef_ref(norm, 10.0);
    /* scratch full of NaN: the small buffers' unused partial slots must be zeroed, not read as they were */
    size_t ns = vkft_grad_norm_scratch_floats(3);
    float *nan_fill = malloc(ns * 4);
    for (size_t i = 0; i < ns; i++) nan_fill[i] = NAN;
    vkft_buf S = test_buf_f32(t, ctx, nan_fill, ns), NORM = test_buf_f32(t, ctx, NULL, 2);
    free(nan_fill);
    float got[2][2];
    for (int rep = 0; rep < 2; rep++) {
        int rc = vkft_rec_begin(rec) || vkft_grad_norm(rec, G, n, 3, S, NORM, 10.0f) || vkft_rec_end(rec) ||
                 vkft_rec_submit(rec) || vkft_download(ctx, NORM, 0, got[rep], 8);
        CHECK(t, rc == 0, "grad_norm: %s", vkft_last_error(ctx));
    }
    int rc = vkft_rec_begin(rec) || vkft_clip_grads(rec, G[1], n[1], NORM) || vkft_rec_end(rec) ||
             vkft_rec_submit(rec);
    CHECK(t, rc == 0, "clip: %s", vkft_last_error(ctx));
    float *clipped = test_download_f32(t, ctx, G[1], n[1]);
    double ec = 0;
    for (uint32_t i = 0; i < n[1]; i++) ec = fmax(ec, fabs(clipped[i] - g[1][i] * coef));
    double en = fabs(got[0][0] - norm) / norm, ecoef = fabs(got[0][1] - coef);
    CHECK(t, en < 1e-5 && ecoef < 1e-6 && ec < 1e-6, "grad norm of 3 buffers: norm %.2e coef %.2e clip %.2e",
          en, ecoef, ec);
    CHECK(t, memcmp(got[0], got[1], 8) == 0, "grad norm repeats bit for bit");
    printf("gpu  grad_norm of 3 buffers (%u floats): %.6f (ref %.6f) err %.2e  clip coef err %.2e  clip err "
           "%.2e, "
           "repeatable %s\n",
           n[0] + n[1] + n[2], got[0][0], norm, en, ecoef, ec, memcmp(got[0], got[1], 8) ? "no" : "yes");
    vkft_arena *a = vkft_default_arena(ctx);
    for (int i = 0; i < 3; i++) vkft_arena_free(a, G[i]), free(g[i]);
    vkft_arena_free(a, S), vkft_arena_free(a, NORM);
    free(clipped);
}

static void check_torch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t n, float max_norm) {
    char dir[256], path[512], args[768];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "tmpdir")) return;
    float *p0 = malloc(n * 4), *g[STEPS];
    for (int s = 0; s < STEPS; s++) g[s] = malloc(n * 4);
    make_inputs(p0, g, n, 9);
    snprintf(path, sizeof path, "%s/p0.f32", dir), test_write_f32(path, p0, n);
    for (int s = 0; s < STEPS; s++)
        snprintf(path, sizeof path, "%s/g%d.f32", dir, s + 1), test_write_f32(path, g[s], n);
    snprintf(args, sizeof args, "%s %zu %d %.9g %.9g %.9g %.9g %.9g %.9g", dir, n, STEPS, HP.lr, HP.beta1,
             HP.beta2, HP.eps, HP.weight_decay, max_norm);
    if (CHECK(t, test_run_reference("adamw.py", args) == 0, "adamw.py failed")) {
        gpu_out o = run_gpu(t, ctx, rec, p0, g, n, max_norm);
        const char *names[4] = {"p", "m", "v", "norms"};
        float *got[4] = {o.p, o.m, o.v, o.norms};
        double e[4];
        for (int k = 0; k < 4; k++) {
            size_t nt, want_n = k == 3 ? STEPS : n;
            snprintf(path, sizeof path, "%s/%s_torch.f32", dir, names[k]);
            float *tv = test_read_f32(path, &nt);
            CHECK(t, tv && nt == want_n, "%s", path);
            double *td = rows_to_double(tv, want_n);
            e[k] = k == 0 ? rows_max_err(got[k], td, want_n) : err_vs_max(got[k], td, want_n);
            free(tv), free(td);
        }
        CHECK(t, e[0] < 2e-6 && e[1] < 1e-5 && e[2] < 1e-5 && e[3] < 1e-5,
              "adamw vs torch: p %.2e m %.2e v %.2e norms %.2e", e[0], e[1], e[2], e[3]);
        printf("torch adamw n=%zu %d steps max_norm=%.2f  p %.2e  m %.2e  v %.2e  norms %.2e\n", n, STEPS,
               max_norm, e[0], e[1], e[2], e[3]);
        free(o.p), free(o.m), free(o.v);
    }
    free(p0);
    for (int s = 0; s < STEPS; s++) free(g[s]);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_optim");
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const size_t sizes[] = {1, 7, 33, 129, 576, 100003, 100004}; /* multiples of 4: the vec4 kernels */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        check_gpu(&t, ctx, rec, sizes[i], 1.0f, 500 + i); /* clipping active on the larger sizes */
        check_gpu(&t, ctx, rec, sizes[i], 0.0f, 600 + i); /* no clipping */
    }
    check_norm_group(&t, ctx, rec);
    check_recorded_once(&t, ctx, rec, 1031, 700);
    check_recorded_once(&t, ctx, rec, 100004, 701);
    check_torch(&t, ctx, rec, 1032, 0.5f);
    check_torch(&t, ctx, rec, 33, 0.0f);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
