/* layernorm / rmsnorm forward and backward (shaders/norm.comp) against the C reference on odd sizes;
 * the reference's backward (dx, dw, db) against finite differences in fp64; the GPU against PyTorch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_norm.h"
#include "tests/ref/norm_ref.h"
#include "tests/ref/rows_ref.h"
#include "tests/test_gpu.h"

enum { WRT_X, WRT_W, WRT_B };
typedef struct {
    int rms, wrt;
    size_t rows, C;
    double *x, *w, *b, *y, *mean, *rstd;
    const double *r;
} fd_ctx;

static double fd_loss(void *c, const double *v) {
    fd_ctx *f = c;
    const double *x = f->wrt == WRT_X ? v : f->x, *w = f->wrt == WRT_W ? v : f->w,
                 *b = f->wrt == WRT_B ? v : f->b;
    if (f->rms)
        rmsnorm_forward_ref(x, w, f->y, f->rstd, f->rows, f->C, 1e-5);
    else
        layernorm_forward_ref(x, w, b, f->y, f->mean, f->rstd, f->rows, f->C, 1e-5);
    double l = 0;
    for (size_t i = 0; i < f->rows * f->C; i++) l += f->y[i] * f->r[i];
    return l;
}

static double *rand_d(size_t n, uint64_t seed, float lo, float hi) {
    float *f = malloc(n * 4);
    test_fill_uniform(f, n, seed, lo, hi);
    double *d = rows_to_double(f, n);
    free(f);
    return d;
}

static void check_fd(test_state *t, int rms, size_t rows, size_t C) {
    size_t n = rows * C;
    fd_ctx f = {rms,
                0,
                rows,
                C,
                rand_d(n, 1, -2, 2),
                rand_d(C, 2, 0.5f, 1.5f),
                rand_d(C, 3, -1, 1),
                malloc(n * 8),
                malloc(rows * 8),
                malloc(rows * 8),
                rand_d(n, 4, -1, 1)};
    double *dx = malloc(n * 8), *dw = malloc(C * 8), *db = malloc(C * 8);
    fd_loss(&f, f.x);
    if (rms)
        rmsnorm_backward_ref(f.x, f.w, f.rstd, f.r, dx, dw, rows, C);
    else
        layernorm_backward_ref(f.x, f.w, f.mean, f.rstd, f.r, dx, dw, db, rows, C);
    double e[3] = {0};
    f.wrt = WRT_X, e[0] = rows_fd_check(fd_loss, &f, f.x, dx, n, 1, 1e-6);
    f.wrt = WRT_W, e[1] = rows_fd_check(fd_loss, &f, f.w, dw, C, 1, 1e-6);
    if (!rms) f.wrt = WRT_B, e[2] = rows_fd_check(fd_loss, &f, f.b, db, C, 1, 1e-6);
    CHECK(t, e[0] < 1e-7 && e[1] < 1e-7 && e[2] < 1e-7,
          "%s backward ref vs finite differences: %.2e %.2e %.2e", rms ? "rmsnorm" : "layernorm", e[0], e[1],
          e[2]);
    printf("fd   %-9s rows=%zu C=%zu  dx %.2e  dw %.2e  db %.2e\n", rms ? "rmsnorm" : "layernorm", rows, C,
           e[0], e[1], e[2]);
    free(f.x), free(f.w), free(f.b), free(f.y), free(f.mean), free(f.rstd), free((void *)f.r), free(dx),
        free(dw), free(db);
}

typedef struct {
    float *y, *dx, *dw, *db;
} gpu_out;

/* Forward then backward in one recording. dw0/db0: initial gradients when accumulating (else NULL). */
static gpu_out run_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int rms, int has_bias,
                       const float *x, const float *w, const float *b, const float *dy, const float *dw0,
                       const float *db0, size_t rows, size_t C) {
    size_t n = rows * C;
    vkft_buf X = test_buf_f32(t, ctx, x, n), W = test_buf_f32(t, ctx, w, C), B = {0},
             Y = test_buf_f32(t, ctx, NULL, n), DY = test_buf_f32(t, ctx, dy, n),
             DX = test_buf_f32(t, ctx, NULL, n), DW = test_buf_f32(t, ctx, dw0, C), DB = {0},
             MEAN = test_buf_f32(t, ctx, NULL, rows), RSTD = test_buf_f32(t, ctx, NULL, rows),
             S = test_buf_f32(t, ctx, NULL, vkft_norm_scratch_floats((uint32_t)rows, (uint32_t)C));
    if (has_bias) B = test_buf_f32(t, ctx, b, C), DB = test_buf_f32(t, ctx, db0, C);
    uint32_t R = (uint32_t)rows, c = (uint32_t)C;
    int acc = dw0 != NULL, rc = vkft_rec_begin(rec);
    if (!rc && rms)
        rc = vkft_rmsnorm_forward(rec, X, W, Y, RSTD, R, c, 1e-5f) ||
             vkft_rmsnorm_backward(rec, X, W, RSTD, DY, DX, DW, S, R, c, acc);
    else if (!rc)
        rc = vkft_layernorm_forward(rec, X, W, B, Y, MEAN, RSTD, R, c, 1e-5f) ||
             vkft_layernorm_backward(rec, X, W, MEAN, RSTD, DY, DX, DW, DB, S, R, c, acc);
    rc = rc || vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "norm record/submit: %s", vkft_last_error(ctx));
    gpu_out o = {test_download_f32(t, ctx, Y, n), test_download_f32(t, ctx, DX, n),
                 test_download_f32(t, ctx, DW, C), has_bias ? test_download_f32(t, ctx, DB, C) : NULL};
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf all[] = {X, W, B, Y, DY, DX, DW, DB, MEAN, RSTD, S};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i].block) vkft_arena_free(a, all[i]);
    return o;
}

static void free_out(gpu_out o) { free(o.y), free(o.dx), free(o.dw), free(o.db); }

/* The forward in place (y over x) and a backward with frozen weights (no dw/db, as in LoRA fine-tuning)
 * writing dx over dy, against the reference. */
static void check_frozen_in_place(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int rms, size_t rows,
                                  size_t C) {
    size_t n = rows * C;
    float *x = malloc(n * 4), *w = malloc(C * 4), *b = malloc(C * 4), *dy = malloc(n * 4);
    test_fill_uniform(x, n, 11, -3, 5), test_fill_uniform(w, C, 12, -1.5f, 1.5f);
    test_fill_uniform(b, C, 13, -1, 1), test_fill_uniform(dy, n, 14, -1, 1);
    vkft_buf X = test_buf_f32(t, ctx, x, n), XB = test_buf_f32(t, ctx, x, n), W = test_buf_f32(t, ctx, w, C),
             B = test_buf_f32(t, ctx, b, C), DY = test_buf_f32(t, ctx, dy, n),
             MEAN = test_buf_f32(t, ctx, NULL, rows), RSTD = test_buf_f32(t, ctx, NULL, rows), none = {0};
    uint32_t R = (uint32_t)rows, c = (uint32_t)C;
    int rc = vkft_rec_begin(rec);
    if (!rc && rms)
        rc = vkft_rmsnorm_forward(rec, X, W, X, RSTD, R, c, 1e-5f) ||
             vkft_rmsnorm_backward(rec, XB, W, RSTD, DY, DY, none, none, R, c, 0);
    else if (!rc)
        rc = vkft_layernorm_forward(rec, X, W, B, X, MEAN, RSTD, R, c, 1e-5f) ||
             vkft_layernorm_backward(rec, XB, W, MEAN, RSTD, DY, DY, none, none, none, R, c, 0);
    rc = rc || vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "frozen norm: %s", vkft_last_error(ctx));
    float *y = test_download_f32(t, ctx, X, n), *dx = test_download_f32(t, ctx, DY, n);
    double *xd = rows_to_double(x, n), *wd = rows_to_double(w, C), *bd = rows_to_double(b, C),
           *dyd = rows_to_double(dy, n), *yr = malloc(n * 8), *dxr = malloc(n * 8), *mean = malloc(rows * 8),
           *rstd = malloc(rows * 8);
    if (rms) {
        rmsnorm_forward_ref(xd, wd, yr, rstd, rows, C, 1e-5);
        rmsnorm_backward_ref(xd, wd, rstd, dyd, dxr, NULL, rows, C);
    } else {
        layernorm_forward_ref(xd, wd, bd, yr, mean, rstd, rows, C, 1e-5);
        layernorm_backward_ref(xd, wd, mean, rstd, dyd, dxr, NULL, NULL, rows, C);
    }
    double ey = rows_max_err(y, yr, n), ed = rows_max_err(dx, dxr, n);
    CHECK(t, ey < 1e-5 && ed < 1e-5, "%s frozen/in place rows=%zu C=%zu: y %.2e dx %.2e",
          rms ? "rmsnorm" : "layernorm", rows, C, ey, ed);
    printf("gpu  %-9s rows=%-4zu C=%-4zu in place, frozen weights  y %.2e dx %.2e (tol 1e-5)\n",
           rms ? "rmsnorm" : "layernorm", rows, C, ey, ed);
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf all[] = {X, XB, W, B, DY, MEAN, RSTD};
    for (size_t i = 0; i < 7; i++) vkft_arena_free(a, all[i]);
    free(x), free(w), free(b), free(dy), free(y), free(dx), free(xd), free(wd), free(bd), free(dyd), free(yr),
        free(dxr), free(mean), free(rstd);
}

static void check_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int rms, int has_bias, int accumulate,
                      size_t rows, size_t C, uint64_t seed) {
    size_t n = rows * C;
    float *x = malloc(n * 4), *w = malloc(C * 4), *b = malloc(C * 4), *dy = malloc(n * 4),
          *g0 = malloc(C * 4);
    test_fill_uniform(x, n, seed, -3, 5);
    test_fill_uniform(w, C, seed + 1, -1.5f, 1.5f);
    test_fill_uniform(b, C, seed + 2, -1, 1);
    test_fill_uniform(dy, n, seed + 3, -1, 1);
    test_fill_uniform(g0, C, seed + 4, -1, 1);
    gpu_out o = run_gpu(t, ctx, rec, rms, has_bias, x, w, b, dy, accumulate ? g0 : NULL,
                        accumulate ? g0 : NULL, rows, C);
    double *xd = rows_to_double(x, n), *wd = rows_to_double(w, C), *bd = rows_to_double(b, C),
           *dyd = rows_to_double(dy, n), *y = malloc(n * 8), *dx = malloc(n * 8), *dw = malloc(C * 8),
           *db = malloc(C * 8), *mean = malloc(rows * 8), *rstd = malloc(rows * 8);
    if (rms) {
        rmsnorm_forward_ref(xd, wd, y, rstd, rows, C, 1e-5);
        rmsnorm_backward_ref(xd, wd, rstd, dyd, dx, dw, rows, C);
    } else {
        layernorm_forward_ref(xd, wd, has_bias ? bd : NULL, y, mean, rstd, rows, C, 1e-5);
        layernorm_backward_ref(xd, wd, mean, rstd, dyd, dx, dw, db, rows, C);
    }
    for (size_t j = 0; accumulate && j < C; j++) dw[j] += g0[j], db[j] += g0[j];
    double ey = rows_max_err(o.y, y, n), edx = rows_max_err(o.dx, dx, n), edw = rows_max_err(o.dw, dw, C),
           edb = has_bias ? rows_max_err(o.db, db, C) : 0;
    CHECK(t, ey < 1e-5 && edx < 1e-5 && edw < 2e-5 && edb < 2e-5,
          "%s rows=%zu C=%zu bias=%d acc=%d: y %.2e dx %.2e dw %.2e db %.2e", rms ? "rmsnorm" : "layernorm",
          rows, C, has_bias, accumulate, ey, edx, edw, edb);
    printf("gpu  %-9s rows=%-4zu C=%-4zu bias=%d acc=%d  y %.2e dx %.2e dw %.2e db %.2e (tol 1e-5, 2e-5)\n",
           rms ? "rmsnorm" : "layernorm", rows, C, has_bias, accumulate, ey, edx, edw, edb);
    free_out(o);
    free(x), free(w), free(b), free(dy), free(g0), free(xd), free(wd), free(bd), free(dyd), free(y), free(dx),
        free(dw), free(db), free(mean), free(rstd);
}

static double cmp_torch(test_state *t, const char *dir, const char *name, const float *got, size_t n) {
    char path[512];
    size_t nt;
    snprintf(path, sizeof path, "%s/%s_torch.f32", dir, name);
    float *want = test_read_f32(path, &nt);
    if (!CHECK(t, want && nt == n, "%s: %zu values, %zu expected", path, nt, n)) return INFINITY;
    double *wd = rows_to_double(want, n), e = rows_max_err(got, wd, n);
    free(want), free(wd);
    return e;
}

static void check_torch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int rms, size_t rows, size_t C) {
    char dir[256], path[512], args[768];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "tmpdir")) return;
    size_t n = rows * C;
    float *x = malloc(n * 4), *w = malloc(C * 4), *b = malloc(C * 4), *dy = malloc(n * 4);
    test_fill_uniform(x, n, 5, -2, 3), test_fill_uniform(w, C, 6, 0.5f, 1.5f);
    test_fill_uniform(b, C, 7, -1, 1), test_fill_uniform(dy, n, 8, -1, 1);
    snprintf(path, sizeof path, "%s/x.f32", dir), test_write_f32(path, x, n);
    snprintf(path, sizeof path, "%s/w.f32", dir), test_write_f32(path, w, C);
    snprintf(path, sizeof path, "%s/b.f32", dir), test_write_f32(path, b, C);
    snprintf(path, sizeof path, "%s/dy.f32", dir), test_write_f32(path, dy, n);
    snprintf(args, sizeof args, "%s %s %zu %zu 1e-5", dir, rms ? "rmsnorm" : "layernorm", rows, C);
    if (CHECK(t, test_run_reference("norm.py", args) == 0, "norm.py failed")) {
        gpu_out o = run_gpu(t, ctx, rec, rms, !rms, x, w, b, dy, NULL, NULL, rows, C);
        double ey = cmp_torch(t, dir, "y", o.y, n), edx = cmp_torch(t, dir, "dx", o.dx, n),
               edw = cmp_torch(t, dir, "dw", o.dw, C), edb = rms ? 0 : cmp_torch(t, dir, "db", o.db, C);
        CHECK(t, ey < 1e-5 && edx < 1e-5 && edw < 2e-5 && edb < 2e-5,
              "%s vs torch: y %.2e dx %.2e dw %.2e db %.2e", rms ? "rmsnorm" : "layernorm", ey, edx, edw,
              edb);
        printf("torch %-9s rows=%zu C=%zu  y %.2e dx %.2e dw %.2e db %.2e\n", rms ? "rmsnorm" : "layernorm",
               rows, C, ey, edx, edw, edb);
        free_out(o);
    }
    free(x), free(w), free(b), free(dy);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_norm");
    check_fd(&t, 0, 3, 7);
    check_fd(&t, 1, 4, 5);
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const size_t rows[] = {1, 7, 33, 129}, cols[] = {1, 7, 33, 129, 576};
    uint64_t seed = 100;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 5; j++) {
            check_gpu(&t, ctx, rec, 0, 1, 0, rows[i], cols[j], seed += 10);
            check_gpu(&t, ctx, rec, 1, 0, 0, rows[i], cols[j], seed += 10);
        }
    check_gpu(&t, ctx, rec, 0, 0, 0, 33, 129, seed += 10); /* layernorm without bias */
    check_gpu(&t, ctx, rec, 0, 1, 1, 129, 33, seed += 10); /* gradient accumulation */
    check_gpu(&t, ctx, rec, 1, 0, 1, 129, 33, seed += 10);
    check_gpu(&t, ctx, rec, 0, 1, 1, 129, 132, seed += 10);  /* accumulation through the vec4 kernels */
    check_gpu(&t, ctx, rec, 1, 0, 0, 1031, 576, seed += 10); /* several row blocks of the dw partials */
    check_gpu(&t, ctx, rec, 0, 1, 0, 4099, 65, seed += 10);
    for (int rms = 0; rms < 2; rms++) {
        check_frozen_in_place(&t, ctx, rec, rms, 33, 576);
        check_frozen_in_place(&t, ctx, rec, rms, 7, 33);
    }
    check_torch(&t, ctx, rec, 0, 33, 129);
    check_torch(&t, ctx, rec, 1, 129, 576);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
