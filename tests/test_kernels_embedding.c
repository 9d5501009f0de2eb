/* embedding_forward / embedding_backward (shaders/embedding.comp) against the C reference on odd sizes
 * (repeated ids, out-of-range ids reported and never read, V up to 49152, accumulation into a tied table),
 * bit-for-bit repetition of the backward, the reference's backward against finite differences in fp64,
 * and the GPU against PyTorch's F.embedding. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_embedding.h"
#include "tests/ref/embedding_ref.h"
#include "tests/ref/rows_ref.h"
#include "tests/test_gpu.h"

typedef struct {
    size_t N, V, C;
    const int32_t *ids;
    const double *r;
    double *out;
} fd_ctx;

static double fd_loss(void *c, const double *table) {
    fd_ctx *f = c;
    uint32_t first;
    embedding_forward_ref(f->ids, table, f->out, f->N, f->V, f->C, &first);
    double l = 0;
    for (size_t i = 0; i < f->N * f->C; i++) l += f->out[i] * f->r[i];
    return l;
}

static void check_fd(test_state *t) {
    enum { N = 6, V = 5, C = 3 };
    int32_t ids[N] = {1, 4, 1, -1, 0, 1};
    float tf[V * C], rf[N * C];
    test_fill_uniform(tf, V * C, 1, -1, 1), test_fill_uniform(rf, N * C, 2, -1, 1);
    double table[V * C], r[N * C], out[N * C], dt[V * C];
    for (int i = 0; i < V * C; i++) table[i] = tf[i];
    for (int i = 0; i < N * C; i++) r[i] = rf[i];
    embedding_backward_ref(ids, r, dt, N, V, C);
    fd_ctx f = {N, V, C, ids, r, out};
    double e = rows_fd_check(fd_loss, &f, table, dt, V * C, 1, 1e-6);
    CHECK(t, e < 1e-8, "embedding backward ref vs finite differences: %.2e", e);
    printf("fd   embedding N=6 V=5 C=3  max err %.2e\n", e);
}

typedef struct {
    float *out, *dtable;
    uint32_t status[2];
} gpu_out;

/* slices: vocabulary slices of the backward (0: the device's choice). */
static gpu_out run_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, const int32_t *ids,
                       const float *table, const float *dout, const float *dtable0, size_t N, size_t V,
                       size_t C, uint32_t slices) {
    gpu_out o = {0};
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf I, S, TB = test_buf_f32(t, ctx, table, V * C), O = test_buf_f32(t, ctx, NULL, N * C),
                   DO = test_buf_f32(t, ctx, dout, N * C), DT = test_buf_f32(t, ctx, dtable0, V * C);
    CHECK(t,
          vkft_arena_alloc(a, N * 4, &I) == 0 && vkft_upload(ctx, I, 0, ids, N * 4) == 0 &&
              vkft_arena_alloc(a, 8, &S) == 0,
          "ids");
    uint32_t n = (uint32_t)N, v = (uint32_t)V, c = (uint32_t)C;
    int rc = vkft_rec_begin(rec) || vkft_embedding_forward(rec, I, TB, O, S, n, v, c) ||
             vkft_embedding_backward_sliced(rec, I, DO, DT, n, v, c, dtable0 != NULL, slices) ||
             vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "embedding record/submit: %s", vkft_last_error(ctx));
    o.out = test_download_f32(t, ctx, O, N * C);
    o.dtable = test_download_f32(t, ctx, DT, V * C);
    vkft_download(ctx, S, 0, o.status, 8);
    vkft_arena_free(a, I), vkft_arena_free(a, S), vkft_arena_free(a, TB), vkft_arena_free(a, O);
    vkft_arena_free(a, DO), vkft_arena_free(a, DT);
    return o;
}

static void make_ids(int32_t *ids, size_t N, size_t V, uint64_t seed, int with_bad) {
    uint64_t s = seed;
    size_t hot = V < 3 ? V : 3; /* many repeats of a few ids: long sums in the backward */
    for (size_t n = 0; n < N; n++)
        ids[n] = (int32_t)(test_rand_u64(&s) % 2 ? test_rand_u64(&s) % hot : test_rand_u64(&s) % V);
    if (with_bad && N >= 7) ids[2] = -1, ids[5] = (int32_t)V, ids[N - 1] = 0x7fffffff;
}

static void check_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t N, size_t V, size_t C,
                      int accumulate, uint32_t slices, uint64_t seed) {
    int32_t *ids = malloc(N * 4);
    float *table = malloc(V * C * 4), *dout = malloc(N * C * 4), *dt0 = malloc(V * C * 4);
    make_ids(ids, N, V, seed, 1);
    test_fill_uniform(table, V * C, seed + 1, -1, 1), test_fill_uniform(dout, N * C, seed + 2, -1, 1);
    test_fill_uniform(dt0, V * C, seed + 3, -1, 1);
    gpu_out o = run_gpu(t, ctx, rec, ids, table, dout, accumulate ? dt0 : NULL, N, V, C, slices);
    double *td = rows_to_double(table, V * C), *dod = rows_to_double(dout, N * C), *out = malloc(N * C * 8),
           *dt = malloc(V * C * 8);
    uint32_t first;
    size_t bad = embedding_forward_ref(ids, td, out, N, V, C, &first);
    embedding_backward_ref(ids, dod, dt, N, V, C);
    for (size_t i = 0; accumulate && i < V * C; i++) dt[i] += dt0[i];
    double eo = rows_max_err(o.out, out, N * C), ed = rows_max_err(o.dtable, dt, V * C);
    int status_ok = o.status[0] == bad && o.status[1] == first;
    CHECK(t, eo == 0 && ed < 1e-5 && status_ok,
          "embedding N=%zu V=%zu C=%zu: out %.2e dtable %.2e bad %u/%zu at %u/%u", N, V, C, eo, ed,
          o.status[0], bad, o.status[1], first);
    printf("gpu  embedding N=%-4zu V=%-6zu C=%-4zu acc=%d slices=%u  out %.2e  dtable %.2e (tol 0, 1e-5)  "
           "bad ids %u at "
           "%d\n",
           N, V, C, accumulate, slices, eo, ed, o.status[0], o.status[0] ? (int)o.status[1] : -1);
    free(o.out), free(o.dtable), free(ids), free(table), free(dout), free(dt0), free(td), free(dod),
        free(out), free(dt);
}

/* Two runs of the backward with heavily repeated ids give identical bits. */
static void check_repeatable(test_state *t, vkft_ctx *ctx, vkft_recorder *rec) {
    enum { N = 4099, V = 11, C = 65 };
    int32_t *ids = malloc(N * 4);
    float *table = malloc(V * C * 4), *dout = malloc(N * C * 4);
    make_ids(ids, N, V, 5, 0);
    test_fill_uniform(table, V * C, 6, -1, 1), test_fill_uniform(dout, N * C, 7, -1, 1);
    gpu_out a = run_gpu(t, ctx, rec, ids, table, dout, NULL, N, V, C, 0);
    gpu_out b = run_gpu(t, ctx, rec, ids, table, dout, NULL, N, V, C, 0);
    gpu_out s = run_gpu(t, ctx, rec, ids, table, dout, NULL, N, V, C, 5); /* same order per row: same bits */
    int same = memcmp(a.dtable, b.dtable, V * C * 4) == 0 && memcmp(a.dtable, s.dtable, V * C * 4) == 0;
    CHECK(t, same, "embedding backward repeats bit for bit, with any number of slices");
    printf("gpu  embedding backward N=%d over V=%d: repeatable (and slice-independent) %s\n", N, V,
           same ? "yes" : "no");
    free(s.out), free(s.dtable);
    free(a.out), free(a.dtable), free(b.out), free(b.dtable), free(ids), free(table), free(dout);
}

static void check_torch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t N, size_t V, size_t C) {
    char dir[256], path[512], args[768];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "tmpdir")) return;
    int32_t *ids = malloc(N * 4);
    float *table = malloc(V * C * 4), *dout = malloc(N * C * 4);
    make_ids(ids, N, V, 77, 0);
    test_fill_uniform(table, V * C, 78, -1, 1), test_fill_uniform(dout, N * C, 79, -1, 1);
    snprintf(path, sizeof path, "%s/table.f32", dir), test_write_f32(path, table, V * C);
    snprintf(path, sizeof path, "%s/dout.f32", dir), test_write_f32(path, dout, N * C);
    snprintf(path, sizeof path, "%s/ids.i32", dir);
    FILE *f = fopen(path, "wb");
    fwrite(ids, 4, N, f), fclose(f);
    snprintf(args, sizeof args, "%s %zu %zu %zu", dir, N, V, C);
    if (CHECK(t, test_run_reference("embedding.py", args) == 0, "embedding.py failed")) {
        gpu_out o = run_gpu(t, ctx, rec, ids, table, dout, NULL, N, V, C, 0);
        size_t n1, n2;
        snprintf(path, sizeof path, "%s/out_torch.f32", dir);
        float *ot = test_read_f32(path, &n1);
        snprintf(path, sizeof path, "%s/dtable_torch.f32", dir);
        float *dtt = test_read_f32(path, &n2);
        CHECK(t, n1 == N * C && n2 == V * C, "torch outputs");
        double *otd = rows_to_double(ot, N * C), *dttd = rows_to_double(dtt, V * C);
        double eo = rows_max_err(o.out, otd, N * C), ed = rows_max_err(o.dtable, dttd, V * C);
        CHECK(t, eo == 0 && ed < 1e-5, "embedding vs torch: out %.2e dtable %.2e", eo, ed);
        printf("torch embedding N=%zu V=%zu C=%zu  out %.2e  dtable %.2e\n", N, V, C, eo, ed);
        free(o.out), free(o.dtable), free(ot), free(dtt), free(otd), free(dttd);
    }
    free(ids), free(table), free(dout);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_embedding");
    check_fd(&t);
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const size_t ns[] = {1, 7, 33, 129}, vs[] = {1, 7, 33, 576}, cs[] = {1, 7, 33, 129, 576};
    uint64_t seed = 300;
    for (size_t i = 0; i < 4; i++)
        for (size_t k = 0; k < 5; k++) {
            check_gpu(&t, ctx, rec, ns[i], vs[(i + k) % 4], cs[k], 0, 0, seed += 10);
            check_gpu(&t, ctx, rec, ns[i], vs[(i + k) % 4], cs[k], 0, 7, seed += 10); /* a GPU's slicing */
        }
    check_gpu(&t, ctx, rec, 129, 49152, 64, 0, 0, seed += 10);
    check_gpu(&t, ctx, rec, 129, 49152, 64, 0, 64, seed += 10);
    check_gpu(&t, ctx, rec, 33, 576, 129, 1, 0,
              seed += 10); /* accumulate, as for a table tied to the LM head */
    check_gpu(&t, ctx, rec, 33, 576, 129, 1, 3, seed += 10);
    check_repeatable(&t, ctx, rec);
    check_torch(&t, ctx, rec, 129, 33, 65);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
