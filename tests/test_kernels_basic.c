/* The first kernels against their CPU references (tests/ref/basic_ref.c) at awkward sizes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_basic.h"
#include "tests/ref/basic_ref.h"
#include "tests/test_gpu.h"

static void run(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, uint32_t n) {
    float *a = malloc(n * 4), *b = malloc(n * 4), *want = malloc(n * 4);
    test_fill_uniform(a, n, n, -1, 1);
    test_fill_uniform(b, n, n + 1, -1, 1);
    vkft_buf A = test_buf_f32(t, ctx, a, n), B = test_buf_f32(t, ctx, b, n), C = test_buf_f32(t, ctx, NULL, n);
    vkft_buf scratch = test_buf_f32(t, ctx, NULL, vkft_sum_scratch_floats()), S = test_buf_f32(t, ctx, NULL, 1);
    vkft_buf D = test_buf_f32(t, ctx, NULL, n);
    vkft_rec_begin(rec);
    vkft_fill_f32(rec, D, n, 3.25f);
    vkft_add_f32(rec, A, B, C, n);
    vkft_sum_f32(rec, B, n, scratch, S);
    vkft_scale_f32(rec, A, A, n, -0.5f); /* after add read A: a write-after-read barrier */
    CHECK(t, vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0, "n=%u: %s", n, vkft_last_error(ctx));

    float *got = test_download_f32(t, ctx, D, n);
    fill_ref(want, n, 3.25f);
    CHECK(t, test_max_rel_err(got, want, n) == 0, "fill n=%u", n);
    free(got);
    got = test_download_f32(t, ctx, C, n);
    add_ref(a, b, want, n);
    double e_add = test_max_rel_err(got, want, n);
    CHECK(t, e_add == 0, "add n=%u: %.2e", n, e_add);
    free(got);
    got = test_download_f32(t, ctx, A, n);
    scale_ref(a, want, n, -0.5f);
    CHECK(t, test_max_rel_err(got, want, n) == 0, "scale n=%u", n);
    free(got);
    float sum;
    vkft_download(ctx, S, 0, &sum, 4);
    double ref = sum_ref(b, n), err = fabs(sum - ref) / fmax(1.0, fabs(ref));
    double tol = 1e-5 * (1 + sqrt((double)n) / 16); /* fp32 partial sums: error grows like sqrt(n)*eps */
    CHECK(t, err <= tol, "sum n=%u: %.2e > %.2e", n, err, tol);
    printf("n=%-7u fill/add/scale exact, sum rel. error %.2e (tolerance %.1e)\n", n, err, tol);
    vkft_arena *arena = vkft_default_arena(ctx);
    vkft_arena_free(arena, A), vkft_arena_free(arena, B), vkft_arena_free(arena, C), vkft_arena_free(arena, D);
    vkft_arena_free(arena, scratch), vkft_arena_free(arena, S);
    free(a), free(b), free(want);
}

/* Column sums (bias gradients) on awkward shapes, written and accumulated. */
/* x's rows ld >= cols apart on the device, NaN between them (a read of the padding would show) */
static void run_colsum(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, uint32_t rows, uint32_t cols, uint32_t ld) {
    size_t n = (size_t)rows * cols;
    float *x = malloc(n * 4), *init = malloc(cols * 4), *want = malloc(cols * 4), *xp = malloc((size_t)rows * ld * 4);
    test_fill_uniform(x, n, rows * 31 + cols, -1, 1);
    test_fill_uniform(init, cols, cols, -1, 1);
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < ld; c++) xp[r * ld + c] = c < cols ? x[r * cols + c] : NAN;
    vkft_buf X = test_buf_f32(t, ctx, xp, (size_t)rows * ld), O = test_buf_f32(t, ctx, init, cols);
    vkft_buf O2 = test_buf_f32(t, ctx, init, cols);
    free(xp);
    vkft_rec_begin(rec);
    vkft_colsum_f32(rec, X, rows, cols, ld, O, 0);
    vkft_colsum_f32(rec, X, rows, cols, ld, O2, 1);
    CHECK(t, vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0, "colsum: %s", vkft_last_error(ctx));
    float *got = test_download_f32(t, ctx, O, cols), *got2 = test_download_f32(t, ctx, O2, cols);
    colsum_ref(x, rows, cols, want, 0);
    double e1 = test_max_rel_err(got, want, cols);
    memcpy(want, init, cols * 4);
    colsum_ref(x, rows, cols, want, 1);
    double e2 = test_max_rel_err(got2, want, cols);
    double tol = 2e-6 * (1 + rows / 64.0);
    CHECK(t, e1 <= tol && e2 <= tol, "colsum %ux%u (ld %u): %.2e / %.2e (tolerance %.1e)", rows, cols, ld, e1, e2,
          tol);
    printf("colsum %ux%u (ld %u): rel. error %.2e written, %.2e accumulated\n", rows, cols, ld, e1, e2);
    vkft_arena_free(vkft_default_arena(ctx), X), vkft_arena_free(vkft_default_arena(ctx), O);
    vkft_arena_free(vkft_default_arena(ctx), O2);
    free(x), free(init), free(want), free(got), free(got2);
}

int main(void) {
    test_state t;
    test_begin(&t, "kernels_basic");
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const uint32_t sizes[] = {1, 7, 33, 129, 255, 257, 1000, 65537, 1234567};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) run(&t, ctx, rec, sizes[i]);
    static const uint32_t shapes[][3] = {{1, 1, 1}, {7, 33, 33}, {129, 7, 7}, {33, 576, 576}, {1000, 129, 129},
                                         {7, 33, 36}, {65, 30522, 30524}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        run_colsum(&t, ctx, rec, shapes[i][0], shapes[i][1], shapes[i][2]);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
