/* dropout_forward / dropout_backward (shaders/dropout.comp, shaders/common/philox.glsl): the C Philox
 * against the published known-answer vectors, the GPU mask and values against the C reference bit for
 * bit on odd sizes, the keep rate against p statistically, forward and backward agreeing (the backward
 * regenerates the forward's mask), masks changing with step and site, and the reference's backward
 * against finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_dropout.h"
#include "tests/ref/dropout_ref.h"
#include "tests/ref/rows_ref.h"
#include "tests/test_gpu.h"

static const uint64_t SEED = 0x123456789abcdefull;

static void check_philox_kat(test_state *t) {
    /* Random123's kat_vectors for philox4x32_10 */
    static const uint32_t ctr[3][4] = {{0, 0, 0, 0},
                                       {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
                                       {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}};
    static const uint32_t key[3][2] = {{0, 0}, {0xffffffff, 0xffffffff}, {0xa4093822, 0x299f31d0}};
    static const uint32_t want[3][4] = {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                                        {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                                        {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        philox4x32_10_ref(ctr[i], key[i], out);
        CHECK(t, memcmp(out, want[i], 16) == 0, "philox4x32_10 known answer %d: %08x %08x %08x %08x", i,
              out[0], out[1], out[2], out[3]);
    }
    printf("ref  philox4x32-10 known-answer vectors: checked 3\n");
}

typedef struct {
    size_t n;
    float p;
    const double *r;
} fd_ctx;

static double fd_loss(void *c, const double *x) {
    fd_ctx *f = c;
    double l = 0;
    float scale = 1.0f / (1.0f - f->p);
    for (size_t i = 0; i < f->n; i++)
        if (dropout_keep_ref(i, f->p, SEED, 3, 1)) l += x[i] * (double)scale * f->r[i];
    return l;
}

static void check_fd(test_state *t) {
    enum { N = 37 };
    float rf[N], dxf[N];
    test_fill_uniform(rf, N, 1, -1, 1);
    dropout_ref(rf, dxf, N, 0.3f, SEED, 3, 1);
    double x[N] = {0}, r[N], dx[N];
    for (int i = 0; i < N; i++) r[i] = rf[i], dx[i] = dxf[i], x[i] = 0.1 * i;
    fd_ctx f = {N, 0.3f, r};
    double e = rows_fd_check(fd_loss, &f, x, dx, N, 1, 1e-6);
    CHECK(t, e < 1e-7, "dropout backward ref vs finite differences: %.2e", e);
    printf("fd   dropout n=37 p=0.3  max err %.2e\n", e);
}

/* Forward on x and backward on dy in one recording. */
static void run_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, const float *x, const float *dy,
                    float *y, float *dx, size_t n, float p, uint32_t step, uint32_t site) {
    vkft_buf X = test_buf_f32(t, ctx, x, n), DY = test_buf_f32(t, ctx, dy, n),
             Y = test_buf_f32(t, ctx, NULL, n), DX = test_buf_f32(t, ctx, NULL, n);
    uint32_t N = (uint32_t)n;
    int rc = vkft_rec_begin(rec) || vkft_dropout_forward(rec, X, Y, N, p, SEED, step, site) ||
             vkft_dropout_backward(rec, DY, DX, N, p, SEED, step, site) || vkft_rec_end(rec) ||
             vkft_rec_submit(rec) || vkft_download(ctx, Y, 0, y, n * 4) ||
             vkft_download(ctx, DX, 0, dx, n * 4);
    CHECK(t, rc == 0, "dropout record/submit: %s", vkft_last_error(ctx));
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_arena_free(a, X), vkft_arena_free(a, DY), vkft_arena_free(a, Y), vkft_arena_free(a, DX);
}

static void check_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t n, float p, uint32_t step) {
    float *x = malloc(n * 4), *dy = malloc(n * 4), *y = malloc(n * 4), *dx = malloc(n * 4),
          *want = malloc(n * 4);
    test_fill_uniform(x, n, step * 31 + n, 0.5f, 2), test_fill_uniform(dy, n, step * 37 + n, 0.5f, 2);
    run_gpu(t, ctx, rec, x, dy, y, dx, n, p, step, 7);
    dropout_ref(x, want, n, p, SEED, step, 7);
    int same_y = memcmp(y, want, n * 4) == 0;
    dropout_ref(dy, want, n, p, SEED, step, 7);
    int same_dx = memcmp(dx, want, n * 4) == 0;
    size_t kept = 0, agree = 0;
    for (size_t i = 0; i < n; i++) {
        kept += y[i] != 0;
        agree += (y[i] != 0) == (dx[i] != 0); /* inputs are nonzero: a zero is a dropped element */
    }
    double rate = (double)kept / n, sigma = sqrt(p * (1 - p) / n);
    int rate_ok = n < 1000 || fabs(rate - (1 - p)) <= 5 * sigma;
    CHECK(t, same_y && same_dx && agree == n && rate_ok,
          "dropout n=%zu p=%g: y exact %d, dx exact %d, masks agree %zu/%zu, keep rate %.5f (expected %.5f "
          "+- %.5f)",
          n, p, same_y, same_dx, agree, n, rate, 1 - p, 5 * sigma);
    printf("gpu  dropout n=%-7zu p=%.2f step=%u  y and dx bit-exact %s, masks agree %s, keep rate %.5f (1-p "
           "%.2f, 5 "
           "sigma %.5f)\n",
           n, p, step, same_y && same_dx ? "yes" : "NO", agree == n ? "yes" : "NO", rate, 1 - p, 5 * sigma);
    free(x), free(dy), free(y), free(dx), free(want);
}

/* Masks differ across steps and sites, and repeat for the same (seed, step, site). */
static void check_streams(test_state *t, vkft_ctx *ctx, vkft_recorder *rec) {
    enum { N = 10007 };
    float *x = malloc(N * 4), *y[4], *dx = malloc(N * 4);
    for (size_t i = 0; i < N; i++) x[i] = 1.0f;
    static const uint32_t steps[4] = {1, 1, 2, 1}, sites[4] = {0, 0, 0, 1};
    for (int k = 0; k < 4; k++) {
        y[k] = malloc(N * 4);
        run_gpu(t, ctx, rec, x, x, y[k], dx, N, 0.5f, steps[k], sites[k]);
    }
    size_t diff_step = 0, diff_site = 0;
    for (size_t i = 0; i < N; i++)
        diff_step += (y[0][i] != 0) != (y[2][i] != 0), diff_site += (y[0][i] != 0) != (y[3][i] != 0);
    int same = memcmp(y[0], y[1], N * 4) == 0;
    /* independent masks at p = 0.5 differ in about half the elements */
    CHECK(t, same && diff_step > N / 3 && diff_site > N / 3,
          "dropout streams: repeat %d, step differs in %zu, site in %zu", same, diff_step, diff_site);
    printf("gpu  dropout masks: same (seed, step, site) repeats %s; another step differs in %zu/%d, another "
           "site in "
           "%zu/%d\n",
           same ? "yes" : "no", diff_step, N, diff_site, N);
    for (int k = 0; k < 4; k++) free(y[k]);
    free(x), free(dx);
}

/* The _ctr kernels: one recording submitted for several (step, micro) written into the counter buffer
 * between submissions; y = drop(x) and dx += drop(dy) bit for bit against the reference each time. */
static void check_ctr(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t n, float p) {
    float *x = malloc(n * 4), *dy = malloc(n * 4), *dx0 = malloc(n * 4), *y = malloc(n * 4),
          *dx = malloc(n * 4), *want = malloc(n * 4);
    test_fill_uniform(x, n, n + 1, 0.5f, 2), test_fill_uniform(dy, n, n + 2, 0.5f, 2);
    test_fill_uniform(dx0, n, n + 3, -1, 1);
    uint32_t N = (uint32_t)n, ctr0[2] = {0, 0};
    vkft_buf X = test_buf_f32(t, ctx, x, n), DY = test_buf_f32(t, ctx, dy, n), Y = test_buf_f32(t, ctx, NULL, n),
             DX = test_buf_f32(t, ctx, NULL, n), CTR = test_buf_f32(t, ctx, (const float *)ctr0, 2);
    int rc = vkft_rec_begin(rec) || vkft_dropout_forward_ctr(rec, X, Y, N, p, SEED, CTR, 5, 0) ||
             vkft_dropout_backward_ctr(rec, DY, DX, N, p, SEED, CTR, 5, 1) || vkft_rec_end(rec);
    static const uint32_t runs[3][2] = {{1, 0}, {2, 0}, {2, 1}}; /* (step, micro) */
    int all = 1;
    size_t differ = 0;
    for (int k = 0; k < 3 && !rc; k++) {
        rc = vkft_upload(ctx, CTR, 0, runs[k], 8) || vkft_upload(ctx, DX, 0, dx0, n * 4) || vkft_rec_submit(rec) ||
             vkft_download(ctx, Y, 0, y, n * 4) || vkft_download(ctx, DX, 0, dx, n * 4);
        dropout_micro_ref(x, want, n, p, SEED, runs[k][0], runs[k][1], 5, 0);
        int same_y = memcmp(y, want, n * 4) == 0;
        memcpy(want, dx0, n * 4);
        dropout_micro_ref(dy, want, n, p, SEED, runs[k][0], runs[k][1], 5, 1);
        int same_dx = memcmp(dx, want, n * 4) == 0;
        if (runs[k][1] == 0) { /* micro 0: the push-constant kernels' mask */
            dropout_ref(x, want, n, p, SEED, runs[k][0], 5);
            same_y = same_y && memcmp(y, want, n * 4) == 0;
        }
        if (k > 0)
            for (size_t i = 0; i < n; i++) differ += (y[i] != 0) != (dropout_keep_micro_ref(i, p, SEED, 1, 0, 5) != 0);
        CHECK(t, same_y && same_dx, "dropout_ctr n=%zu p=%g step %u micro %u: y exact %d, dx += exact %d", n, p,
              runs[k][0], runs[k][1], same_y, same_dx);
        all = all && same_y && same_dx;
    }
    all = all && rc == 0;
    CHECK(t, rc == 0, "dropout_ctr record/submit: %s", vkft_last_error(ctx));
    CHECK(t, n < 1000 || differ > n / 10, "dropout_ctr: masks of other steps/micro-batches differ in %zu", differ);
    printf("gpu  dropout_ctr n=%-7zu p=%.2f  one recording, (step, micro) = (1,0) (2,0) (2,1) read from a buffer: "
           "y and dx+= bit-exact %s\n",
           n, p, all ? "yes" : "NO");
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_arena_free(a, X), vkft_arena_free(a, DY), vkft_arena_free(a, Y), vkft_arena_free(a, DX),
        vkft_arena_free(a, CTR);
    free(x), free(dy), free(dx0), free(y), free(dx), free(want);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_dropout");
    check_philox_kat(&t);
    check_fd(&t);
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const size_t sizes[] = {1, 7, 33, 129, 576, 1000003, 1000004}; /* multiples of 4: vec4 kernels */
    static const float ps[] = {0.0f, 0.1f, 0.5f, 0.9f};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (size_t j = 0; j < 4; j++) check_gpu(&t, ctx, rec, sizes[i], ps[j], (uint32_t)(i * 4 + j));
    check_streams(&t, ctx, rec);
    static const size_t ctr_sizes[] = {7, 33, 1000003, 1000004};
    for (size_t i = 0; i < sizeof ctr_sizes / sizeof ctr_sizes[0]; i++) check_ctr(&t, ctx, rec, ctr_sizes[i], 0.2f);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
