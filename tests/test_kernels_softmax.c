/* softmax_forward / softmax_backward (shaders/softmax.comp) against the C reference on odd sizes, with
 * and without the causal mask; the reference's backward against finite differences in fp64; the GPU
 * against PyTorch on shared inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/ops_softmax.h"
#include "tests/ref/rows_ref.h"
#include "tests/ref/softmax_ref.h"
#include "tests/test_gpu.h"

typedef struct {
    size_t rows, cols, q_len;
    double scale;
    int causal;
    const double *r;
    double *y;
} fd_ctx;

static double fd_loss(void *c, const double *x) {
    fd_ctx *f = c;
    softmax_forward_ref(x, f->y, f->rows, f->cols, f->scale, f->causal, f->q_len);
    double l = 0;
    for (size_t i = 0; i < f->rows * f->cols; i++) l += f->y[i] * f->r[i];
    return l;
}

/* The reference's backward against central differences of its forward. */
static void check_fd(test_state *t, size_t rows, size_t cols, int causal, size_t q_len, uint64_t seed) {
    size_t n = rows * cols;
    float *xf = malloc(n * 4), *rf = malloc(n * 4);
    test_fill_uniform(xf, n, seed, -2, 2);
    test_fill_uniform(rf, n, seed + 1, -1, 1);
    double *x = rows_to_double(xf, n), *r = rows_to_double(rf, n), *y = malloc(n * 8), *dx = malloc(n * 8);
    fd_ctx f = {rows, cols, q_len, 0.7, causal, r, y};
    softmax_forward_ref(x, y, rows, cols, 0.7, causal, q_len);
    softmax_backward_ref(y, r, dx, rows, cols, 0.7, causal, q_len);
    double e = rows_fd_check(fd_loss, &f, x, dx, n, 1, 1e-6);
    CHECK(t, e < 1e-7, "softmax_backward_ref vs finite differences rows=%zu cols=%zu causal=%d: %.2e", rows,
          cols, causal, e);
    printf("fd   softmax rows=%-4zu cols=%-4zu causal=%d  max err %.2e\n", rows, cols, causal, e);
    free(xf), free(rf), free(x), free(r), free(y), free(dx);
}

/* Runs forward then backward in one recording; returns the downloaded y and dx. */
static int run_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, const float *x, const float *dy,
                   size_t rows, size_t cols, float scale, int causal, size_t q_len, float **y_out,
                   float **dx_out) {
    size_t n = rows * cols;
    vkft_buf X = test_buf_f32(t, ctx, x, n), DY = test_buf_f32(t, ctx, dy, n),
             Y = test_buf_f32(t, ctx, NULL, n), DX = test_buf_f32(t, ctx, NULL, n);
    int rc =
        vkft_rec_begin(rec) ||
        vkft_softmax_forward(rec, X, Y, (uint32_t)rows, (uint32_t)cols, scale, causal, (uint32_t)q_len) ||
        vkft_softmax_backward(rec, Y, DY, DX, (uint32_t)rows, (uint32_t)cols, scale, causal,
                              (uint32_t)q_len) ||
        vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "softmax record/submit: %s", vkft_last_error(ctx));
    *y_out = test_download_f32(t, ctx, Y, n);
    *dx_out = test_download_f32(t, ctx, DX, n);
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_arena_free(a, X), vkft_arena_free(a, DY), vkft_arena_free(a, Y), vkft_arena_free(a, DX);
    return rc;
}

static void check_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t rows, size_t cols, int causal,
                      size_t q_len, uint64_t seed) {
    size_t n = rows * cols;
    float scale = 0.125f * (float)(1 + seed % 9);
    float *x = malloc(n * 4), *dy = malloc(n * 4), *y, *dx;
    test_fill_uniform(x, n, seed, -8, 8);
    test_fill_uniform(dy, n, seed + 7, -1, 1);
    /* masked scores may hold anything (exp of them overflows): the kernel must never touch them */
    for (size_t r = 0; causal && r < rows; r++)
        for (size_t j = r % q_len + cols - q_len + 1; j < cols; j++) x[r * cols + j] = 1e4f;
    run_gpu(t, ctx, rec, x, dy, rows, cols, scale, causal, q_len, &y, &dx);
    double *xd = rows_to_double(x, n), *dyd = rows_to_double(dy, n), *yr = malloc(n * 8),
           *dxr = malloc(n * 8);
    softmax_forward_ref(xd, yr, rows, cols, scale, causal, q_len);
    softmax_backward_ref(yr, dyd, dxr, rows, cols, scale, causal, q_len);
    double ey = rows_max_err(y, yr, n), ed = rows_max_err(dx, dxr, n);
    CHECK(t, ey < 2e-6 && ed < 2e-6, "softmax rows=%zu cols=%zu causal=%d: y err %.2e, dx err %.2e", rows,
          cols, causal, ey, ed);
    printf("gpu  softmax rows=%-4zu cols=%-5zu causal=%d q_len=%-4zu y err %.2e  dx err %.2e (tol 2e-6)\n",
           rows, cols, causal, q_len, ey, ed);
    free(x), free(dy), free(y), free(dx), free(xd), free(dyd), free(yr), free(dxr);
}

static void check_torch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t rows, size_t cols,
                        int causal, size_t q_len) {
    char dir[256], path[512], args[768];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "tmpdir")) return;
    size_t n = rows * cols, nt;
    float scale = 0.375f, *x = malloc(n * 4), *dy = malloc(n * 4), *y, *dx;
    test_fill_uniform(x, n, 99, -6, 6);
    test_fill_uniform(dy, n, 98, -1, 1);
    snprintf(path, sizeof path, "%s/x.f32", dir), test_write_f32(path, x, n);
    snprintf(path, sizeof path, "%s/dy.f32", dir), test_write_f32(path, dy, n);
    snprintf(args, sizeof args, "%s %zu %zu %.9g %d %zu", dir, rows, cols, scale, causal, q_len);
    if (!CHECK(t, test_run_reference("softmax.py", args) == 0, "softmax.py failed")) return;
    run_gpu(t, ctx, rec, x, dy, rows, cols, scale, causal, q_len, &y, &dx);
    snprintf(path, sizeof path, "%s/y_torch.f32", dir);
    float *yt = test_read_f32(path, &nt);
    CHECK(t, nt == n, "y_torch size");
    snprintf(path, sizeof path, "%s/dx_torch.f32", dir);
    float *dxt = test_read_f32(path, &nt);
    CHECK(t, nt == n, "dx_torch size");
    double *ytd = rows_to_double(yt, n), *dxtd = rows_to_double(dxt, n);
    double ey = rows_max_err(y, ytd, n), ed = rows_max_err(dx, dxtd, n);
    CHECK(t, ey < 2e-6 && ed < 2e-6, "softmax vs torch: y %.2e dx %.2e", ey, ed);
    printf("torch softmax rows=%zu cols=%zu causal=%d: y err %.2e  dx err %.2e (tol 2e-6)\n", rows, cols,
           causal, ey, ed);
    free(x), free(dy), free(y), free(dx), free(yt), free(dxt), free(ytd), free(dxtd);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_softmax");
    check_fd(&t, 3, 7, 0, 1, 1);
    check_fd(&t, 6, 5, 1, 3, 2);
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const size_t rows[] = {1, 7, 33, 129}, cols[] = {1, 7, 33, 129, 576};
    uint64_t seed = 10;
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 5; j++) {
            check_gpu(&t, ctx, rec, rows[i], cols[j], 0, 1, seed++);
            size_t q = rows[i] < cols[j] ? rows[i] : cols[j];
            check_gpu(&t, ctx, rec, rows[i], cols[j], 1, q, seed++);
        }
    check_gpu(&t, ctx, rec, 2 * 3 * 65, 65, 1, 65, seed++); /* [B=2, H=3, T=65, T] attention scores */
    check_torch(&t, ctx, rec, 33, 129, 0, 1);
    check_torch(&t, ctx, rec, 66, 129, 1, 33);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
