/* cross_entropy_forward_backward (shaders/softmax_xent.comp) against the C reference on odd sizes (V up
 * to 49152, and logits larger than lavapipe's 128 MiB storage range, processed in row chunks), with
 * ignore_index, class weights and label smoothing; the reference's gradient against finite differences
 * in fp64; the GPU against PyTorch's F.cross_entropy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_xent.h"
#include "tests/ref/rows_ref.h"
#include "tests/ref/xent_ref.h"
#include "tests/test_gpu.h"

enum { IGNORE = -100 };

typedef struct {
    size_t N, V;
    const int32_t *t;
    const double *w;
    double eps, *row;
} fd_ctx;

static double fd_loss(void *c, const double *z) {
    fd_ctx *f = c;
    return cross_entropy_ref(z, f->t, f->w, f->N, f->V, IGNORE, f->eps, 1.0, f->row, NULL, NULL);
}

static void check_fd(test_state *t, int weighted, double eps) {
    enum { N = 5, V = 7 };
    float zf[N * V], wf[V];
    test_fill_uniform(zf, N * V, 3, -3, 3);
    test_fill_uniform(wf, V, 4, 0.2f, 2);
    double z[N * V], w[V], row[N], dz[N * V];
    for (int i = 0; i < N * V; i++) z[i] = zf[i];
    for (int i = 0; i < V; i++) w[i] = wf[i];
    int32_t tg[N] = {3, IGNORE, 0, 6, 2};
    fd_ctx f = {N, V, tg, weighted ? w : NULL, eps, row};
    cross_entropy_ref(z, tg, f.w, N, V, IGNORE, eps, 1.0, row, dz, NULL);
    double e = rows_fd_check(fd_loss, &f, z, dz, N * V, 1, 1e-6);
    CHECK(t, e < 1e-8, "cross_entropy_ref gradient vs finite differences (weights %d, eps %g): %.2e",
          weighted, eps, e);
    printf("fd   xent weights=%d eps=%.2f  max err %.2e\n", weighted, eps, e);
}

/* max |a - b| / max |b| (the gradient's entries are small: relative to its largest entry). */
static double err_vs_max(const float *a, const double *b, size_t n) {
    double m = 0, d = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(b[i]));
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= d)) d = isnan(e) ? INFINITY : e;
    }
    return m > 0 ? d / m : d;
}

typedef struct {
    float *dz, *row, stats[4], loss;
} gpu_out;

/* in_place: the gradient overwrites the logits buffer. */
static gpu_out run_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, const float *z, const int32_t *tg,
                       const float *w, size_t N, size_t V, float eps, float grad_scale, int in_place) {
    gpu_out o = {0};
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf Z = test_buf_f32(t, ctx, z, N * V), DZ = in_place ? Z : test_buf_f32(t, ctx, NULL, N * V),
             T = {0}, W = w ? test_buf_f32(t, ctx, w, V) : (vkft_buf){0},
             R = test_buf_f32(t, ctx, NULL, N ? N : 1), S = test_buf_f32(t, ctx, NULL, 4),
             L = test_buf_f32(t, ctx, NULL, 1);
    CHECK(t, vkft_arena_alloc(a, (N ? N : 1) * 4, &T) == 0 && vkft_upload(ctx, T, 0, tg, N * 4) == 0,
          "targets");
    int rc = vkft_rec_begin(rec) ||
             vkft_cross_entropy_forward_backward(rec, Z, T, W, DZ, R, S, L, (uint32_t)N, (uint32_t)V, IGNORE,
                                                 eps, grad_scale) ||
             vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "cross_entropy record/submit: %s", vkft_last_error(ctx));
    o.dz = test_download_f32(t, ctx, DZ, N * V);
    o.row = test_download_f32(t, ctx, R, N);
    vkft_download(ctx, S, 0, o.stats, 16);
    vkft_download(ctx, L, 0, &o.loss, 4);
    vkft_arena_free(a, Z), vkft_arena_free(a, T), vkft_arena_free(a, R), vkft_arena_free(a, S),
        vkft_arena_free(a, L);
    if (!in_place) vkft_arena_free(a, DZ);
    if (w) vkft_arena_free(a, W);
    return o;
}

static void make_inputs(float *z, int32_t *tg, float *w, size_t N, size_t V, uint64_t seed, int ignore_pct) {
    test_fill_uniform(z, N * V, seed, -10, 10);
    test_fill_uniform(w, V, seed + 1, 0.1f, 3);
    uint64_t s = seed * 7919 + 1;
    for (size_t i = 0; i < N; i++) {
        tg[i] = (int32_t)(test_rand_u64(&s) % V);
        if ((int)(test_rand_u64(&s) % 100) < ignore_pct) tg[i] = IGNORE;
    }
}

static void check_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t N, size_t V, int weighted,
                      float eps, int in_place, uint64_t seed) {
    size_t n = N * V;
    float *z = malloc(n * 4), *w = malloc(V * 4);
    int32_t *tg = malloc(N * 4);
    make_inputs(z, tg, w, N, V, seed, 20);
    if (N >= 7) tg[N - 1] = (int32_t)V; /* an invalid target: counted, treated as ignored */
    gpu_out o = run_gpu(t, ctx, rec, z, tg, weighted ? w : NULL, N, V, eps, 0.5f, in_place);
    double *zd = rows_to_double(z, n), *wd = rows_to_double(w, V), *row = malloc(N * 8), *dz = malloc(n * 8),
           D;
    free(z);
    double loss = cross_entropy_ref(zd, tg, weighted ? wd : NULL, N, V, IGNORE, eps, 0.5, row, dz, &D);
    free(zd);
    double el = fabs(o.loss - loss) / fmax(1.0, fabs(loss)), er = rows_max_err(o.row, row, N),
           eg = err_vs_max(o.dz, dz, n), ed = fabs(o.stats[0] - D) / fmax(1.0, D);
    int invalid_ok = o.stats[2] == (N >= 7 ? 1.0f : 0.0f);
    CHECK(t, el < 1e-5 && er < 1e-5 && eg < 1e-5 && ed < 1e-6 && invalid_ok,
          "xent N=%zu V=%zu w=%d eps=%g: loss %.2e rows %.2e grad %.2e denom %.2e invalid %g", N, V, weighted,
          eps, el, er, eg, ed, o.stats[2]);
    printf("gpu  xent N=%-4zu V=%-6zu w=%d eps=%.2f%s loss %.6f err %.2e  rows %.2e  grad %.2e (tol 1e-5)\n",
           N, V, weighted, eps, in_place ? " in-place" : "", o.loss, el, er, eg);
    free(o.dz), free(o.row), free(w), free(tg), free(wd), free(row), free(dz);
}

/* Losses only (no gradient buffer, as in evaluation): the logits are left as they were. */
static void check_forward_only(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t N, size_t V) {
    size_t n = N * V;
    float *z = malloc(n * 4), *w = malloc(V * 4), loss_gpu = -1;
    int32_t *tg = malloc(N * 4);
    make_inputs(z, tg, w, N, V, 4242, 20);
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf Z = test_buf_f32(t, ctx, z, n), T, R = test_buf_f32(t, ctx, NULL, N),
             S = test_buf_f32(t, ctx, NULL, 4), L = test_buf_f32(t, ctx, NULL, 1), none = {0};
    CHECK(t, vkft_arena_alloc(a, N * 4, &T) == 0 && vkft_upload(ctx, T, 0, tg, N * 4) == 0, "targets");
    int rc = vkft_rec_begin(rec) ||
             vkft_cross_entropy_forward_backward(rec, Z, T, none, none, R, S, L, (uint32_t)N, (uint32_t)V,
                                                 IGNORE, 0.1f, 1.0f) ||
             vkft_rec_end(rec) || vkft_rec_submit(rec) || vkft_download(ctx, L, 0, &loss_gpu, 4);
    CHECK(t, rc == 0, "cross_entropy forward only: %s", vkft_last_error(ctx));
    float *row = test_download_f32(t, ctx, R, N), *z_after = test_download_f32(t, ctx, Z, n);
    double *zd = rows_to_double(z, n), *rowr = malloc(N * 8);
    double loss = cross_entropy_ref(zd, tg, NULL, N, V, IGNORE, 0.1, 1.0, rowr, NULL, NULL);
    double el = fabs(loss_gpu - loss) / fmax(1.0, fabs(loss)), er = rows_max_err(row, rowr, N);
    int untouched = memcmp(z, z_after, n * 4) == 0;
    CHECK(t, el < 1e-5 && er < 1e-5 && untouched,
          "xent forward only N=%zu V=%zu: loss %.2e rows %.2e untouched %d", N, V, el, er, untouched);
    printf("gpu  xent N=%zu V=%zu losses only  loss err %.2e  rows %.2e  logits untouched %s\n", N, V, el, er,
           untouched ? "yes" : "NO");
    vkft_arena_free(a, Z), vkft_arena_free(a, T), vkft_arena_free(a, R), vkft_arena_free(a, S),
        vkft_arena_free(a, L);
    free(z), free(w), free(tg), free(row), free(z_after), free(zd), free(rowr);
}

/* The three-step API over logits held in `chunks` separate buffers (gradient in place), rows ld >= V
 * elements apart (the padding holds NaN, which must neither be read nor overwritten), vs the reference. */
static void check_chunked(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t N, size_t V, size_t ld,
                          size_t chunks, uint64_t seed) {
    size_t n = N * V, per = (N + chunks - 1) / chunks;
    float *z = malloc(n * 4), *w = malloc(V * 4), *got = malloc(n * 4), loss_gpu = 0;
    float *padded = malloc(per * ld * 4);
    int pad_kept = 1;
    int32_t *tg = malloc(N * 4);
    make_inputs(z, tg, w, N, V, seed, 20);
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf Z[8], T, W = test_buf_f32(t, ctx, w, V), R = test_buf_f32(t, ctx, NULL, N),
                      S = test_buf_f32(t, ctx, NULL, 4), L = test_buf_f32(t, ctx, NULL, 1);
    CHECK(t, vkft_arena_alloc(a, N * 4, &T) == 0 && vkft_upload(ctx, T, 0, tg, N * 4) == 0, "targets");
    int rc = vkft_rec_begin(rec) || vkft_cross_entropy_denom(rec, T, W, S, (uint32_t)N, (uint32_t)V, IGNORE);
    for (size_t c = 0; c < chunks; c++) {
        size_t r0 = c * per, rows = N - r0 < per ? N - r0 : per;
        for (size_t r = 0; r < rows; r++)
            for (size_t v = 0; v < ld; v++) padded[r * ld + v] = v < V ? z[(r0 + r) * V + v] : NAN;
        Z[c] = test_buf_f32(t, ctx, padded, (rows - 1) * ld + V);
        rc = rc || vkft_cross_entropy_rows(rec, Z[c], T, W, S, Z[c], R, (uint32_t)r0, (uint32_t)rows,
                                           (uint32_t)V, (uint32_t)ld, IGNORE, 0.05f, 1.0f);
    }
    rc =
        rc || vkft_cross_entropy_mean(rec, R, S, L, (uint32_t)N) || vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "chunked cross_entropy: %s", vkft_last_error(ctx));
    for (size_t c = 0; c < chunks; c++) {
        size_t r0 = c * per, rows = N - r0 < per ? N - r0 : per;
        vkft_download(ctx, Z[c], 0, padded, ((rows - 1) * ld + V) * 4);
        for (size_t r = 0; r < rows; r++)
            for (size_t v = 0; v < ld && (r + 1 < rows || v < V); v++) {
                if (v < V) got[(r0 + r) * V + v] = padded[r * ld + v];
                else pad_kept = pad_kept && isnan(padded[r * ld + v]);
            }
        vkft_arena_free(a, Z[c]);
    }
    vkft_download(ctx, L, 0, &loss_gpu, 4);
    double *zd = rows_to_double(z, n), *wd = rows_to_double(w, V), *row = malloc(N * 8), *dz = malloc(n * 8);
    free(z);
    double loss = cross_entropy_ref(zd, tg, wd, N, V, IGNORE, 0.05, 1.0, row, dz, NULL);
    double el = fabs(loss_gpu - loss) / fmax(1.0, fabs(loss)), eg = err_vs_max(got, dz, n);
    CHECK(t, el < 1e-5 && eg < 1e-5, "chunked xent N=%zu V=%zu ld=%zu: loss %.2e grad %.2e", N, V, ld, el, eg);
    CHECK(t, pad_kept, "chunked xent N=%zu V=%zu ld=%zu: the padding between rows was written", N, V, ld);
    printf("gpu  xent N=%zu V=%zu ld=%zu in %zu row chunks  loss %.6f err %.2e  grad %.2e (tol 1e-5)\n", N, V,
           ld, chunks, loss_gpu, el, eg);
    vkft_arena_free(a, T), vkft_arena_free(a, W), vkft_arena_free(a, R), vkft_arena_free(a, S),
        vkft_arena_free(a, L);
    free(w), free(got), free(tg), free(zd), free(wd), free(row), free(dz), free(padded);
}

static void check_torch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t N, size_t V, int weighted,
                        float eps) {
    char dir[256], path[512], args[768];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "tmpdir")) return;
    size_t n = N * V, nt;
    float *z = malloc(n * 4), *w = malloc(V * 4);
    int32_t *tg = malloc(N * 4);
    make_inputs(z, tg, w, N, V, 555 + V, 25);
    snprintf(path, sizeof path, "%s/logits.f32", dir), test_write_f32(path, z, n);
    snprintf(path, sizeof path, "%s/weight.f32", dir), test_write_f32(path, w, V);
    snprintf(path, sizeof path, "%s/targets.i32", dir);
    FILE *f = fopen(path, "wb");
    fwrite(tg, 4, N, f), fclose(f);
    snprintf(args, sizeof args, "%s %zu %zu %d %.9g %d", dir, N, V, IGNORE, eps, weighted);
    if (CHECK(t, test_run_reference("xent.py", args) == 0, "xent.py failed")) {
        gpu_out o = run_gpu(t, ctx, rec, z, tg, weighted ? w : NULL, N, V, eps, 1.0f, 0);
        snprintf(path, sizeof path, "%s/loss_torch.f32", dir);
        float *lt = test_read_f32(path, &nt);
        snprintf(path, sizeof path, "%s/dlogits_torch.f32", dir);
        float *gt = test_read_f32(path, &nt);
        CHECK(t, lt && gt && nt == n, "torch outputs");
        double *gtd = rows_to_double(gt, n), el = fabs(o.loss - lt[0]) / fmax(1.0, fabs(lt[0])),
               eg = err_vs_max(o.dz, gtd, n);
        CHECK(t, el < 1e-5 && eg < 1e-5, "xent vs torch N=%zu V=%zu w=%d eps=%g: loss %.2e grad %.2e", N, V,
              weighted, eps, el, eg);
        printf("torch xent N=%zu V=%zu w=%d eps=%.2f  loss %.6f (torch %.6f) err %.2e  grad %.2e\n", N, V,
               weighted, eps, o.loss, lt[0], el, eg);
        free(o.dz), free(o.row), free(lt), free(gt), free(gtd);
    }
    free(z), free(w), free(tg);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_xent");
    check_fd(&t, 0, 0.0);
    check_fd(&t, 1, 0.1);
    check_fd(&t, 0, 0.2);
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const size_t rows[] = {1, 7, 33, 129}, cols[] = {1, 7, 33, 129, 576};
    uint64_t seed = 1000;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 5; j++) {
            check_gpu(&t, ctx, rec, rows[i], cols[j], 0, 0.0f, 0, seed++);
            check_gpu(&t, ctx, rec, rows[i], cols[j], 1, 0.1f, 0, seed++);
        }
    check_gpu(&t, ctx, rec, 1, 49152, 1, 0.1f, 0, seed++);
    check_gpu(&t, ctx, rec, 33, 49152, 0, 0.1f, 1, seed++);
    check_gpu(&t, ctx, rec, 129, 49152, 0, 0.0f, 0, seed++);
    /* 137 MB of logits: more than lavapipe's 128 MiB storage-buffer range, so three row chunks. */
    check_chunked(&t, ctx, rec, 700, 49152, 49152, 3, seed++);
    /* padded rows (the LM head's logits: 50257 classes in rows of 50260) and a vec4 case with padding */
    check_chunked(&t, ctx, rec, 130, 50257, 50260, 2, seed++);
    check_chunked(&t, ctx, rec, 33, 1000, 1012, 3, seed++);
    /* vec4 rows whose last V % 4 classes are read one at a time (3 of 7: every class counts) */
    check_chunked(&t, ctx, rec, 40, 7, 8, 2, seed++);
    check_chunked(&t, ctx, rec, 33, 1001, 1004, 3, seed++);
    check_forward_only(&t, ctx, rec, 33, 576);
    check_forward_only(&t, ctx, rec, 7, 129);
    check_torch(&t, ctx, rec, 33, 576, 0, 0.0f);
    check_torch(&t, ctx, rec, 33, 576, 0, 0.1f);
    check_torch(&t, ctx, rec, 7, 49152, 1, 0.1f);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
