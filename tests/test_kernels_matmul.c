/* matmul kernels (model/ops_matmul.c) against the C reference (tests/ref/matmul_ref.c) and PyTorch:
 * the three forms, odd sizes, padded rows, batches, the epilogue (alpha, bias, beta), fp16 and bf16 B,
 * on both SIMT paths (the lavapipe-shaped one and the shared-memory tiled one, forced on this device).
 * Odd row strides of A (sizes 33, 67, 129, the padded cases) run the lavapipe kernel's 32-bit-A
 * specialization on their whole blocks; rows in whole 16-byte texels its texel-buffer kernel (and the same
 * products its storage-buffer kernels); K > 1024 its sum over chunks of K.
 * Tolerance: max |gpu - ref| / max(1, |ref|) <= 1e-4 with fp32 data (inputs in [-1, 1], K <= 300);
 * fp16/bf16 B are compared with the reference computed on the same rounded weights (1e-4), and with
 * the unrounded fp32 product at 4e-3 (fp16) / 3e-2 (bf16) * sqrt(K) / 4. Where the device has cooperative
 * matrices the same cases run through that path (A rounded to fp16/bf16 too): 8e-3 (6e-2 with bf16)
 * * sqrt(K) / 4 + 1e-3. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_matmul.h"
#include "tests/ref/matmul_ref.h"
#include "tests/test_gpu.h"

typedef struct {
    vkft_mm_path path;
    vkft_mm_form form;
    vkft_mm_btype b_type;
    int M, N, K;
    int batch;    /* 1: one product */
    int pad;      /* extra elements per row of A, B and C */
    int shared_b; /* batched with stride_b = 0 */
    float alpha, beta;
    int bias;
    int gpu_tiles;     /* the tiled path with a GPU's tile sizes */
    int storage_loads; /* SIMT_CPU: the storage-buffer kernels even where the texel-buffer one fits */
} mm_case;

static const char *form_name[] = {"NN", "NT", "TN"};
static const char *btype_name[] = {"f32", "f16", "bf16"};

static int run_case(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, const mm_case *c, uint64_t seed) {
    int rows_a = c->form == VKFT_MM_TN ? c->K : c->M, cols_a = c->form == VKFT_MM_TN ? c->M : c->K;
    int rows_b = c->form == VKFT_MM_NT ? c->N : c->K, cols_b = c->form == VKFT_MM_NT ? c->K : c->N;
    int lda = cols_a + c->pad, ldb = cols_b + c->pad, ldc = c->N + c->pad;
    size_t sa = (size_t)rows_a * lda, sb = (size_t)rows_b * ldb, sc = (size_t)c->M * ldc;
    int nb_b = c->shared_b ? 1 : c->batch;
    float *A = malloc(sa * c->batch * 4), *B = malloc(sb * nb_b * 4), *C0 = malloc(sc * c->batch * 4);
    float *want = malloc(sc * c->batch * 4), *exact = malloc(sc * c->batch * 4), *bias = malloc(c->N * 4);
    uint16_t *B16 = malloc(sb * nb_b * 2 + 16);
    test_fill_uniform(A, sa * c->batch, seed, -1, 1);
    test_fill_uniform(B, sb * nb_b, seed + 1, -1, 1);
    test_fill_uniform(C0, sc * c->batch, seed + 2, -1, 1);
    test_fill_uniform(bias, c->N, seed + 3, -1, 1);
    float *Bq = malloc(sb * nb_b * 4); /* B as the kernel sees it */
    for (size_t i = 0; i < sb * nb_b; i++) {
        if (c->b_type == VKFT_MM_B_F16)
            B16[i] = f32_to_f16(B[i]), Bq[i] = f16_to_f32(B16[i]);
        else if (c->b_type == VKFT_MM_B_BF16)
            B16[i] = f32_to_bf16(B[i]), Bq[i] = bf16_to_f32(B16[i]);
        else
            Bq[i] = B[i];
    }
    memcpy(want, C0, sc * c->batch * 4);
    memcpy(exact, C0, sc * c->batch * 4);
    for (int b = 0; b < c->batch; b++) {
        size_t ob = c->shared_b ? 0 : b * sb;
        matmul_ref(c->form, A + b * sa, Bq + ob, want + b * sc, c->M, c->N, c->K, lda, ldb, ldc, c->alpha,
                   c->beta, c->bias ? bias : NULL);
        matmul_ref(c->form, A + b * sa, B + ob, exact + b * sc, c->M, c->N, c->K, lda, ldb, ldc, c->alpha,
                   c->beta, c->bias ? bias : NULL);
    }

    size_t b_bytes = c->b_type == VKFT_MM_B_F32 ? sb * nb_b * 4 : (sb * nb_b * 2 + 3) / 4 * 4;
    vkft_buf dA = test_buf_f32(t, ctx, A, sa * c->batch);
    vkft_buf dB = test_buf_f32(t, ctx, NULL, (b_bytes + 3) / 4);
    vkft_buf dC = test_buf_f32(t, ctx, C0, sc * c->batch);
    vkft_buf dbias = test_buf_f32(t, ctx, bias, c->N);
    vkft_upload(ctx, dB, 0, c->b_type == VKFT_MM_B_F32 ? (const void *)B : (const void *)B16, b_bytes);

    vkft_matmul_opts o = vkft_matmul_opts_default();
    o.path = c->path;
    o.gpu_tiles = c->gpu_tiles;
    o.storage_loads = c->storage_loads;
    o.b_type = c->b_type;
    o.alpha = c->alpha;
    o.beta = c->beta;
    if (c->bias) o.bias = dbias;
    o.batch = c->batch;
    o.stride_a = sa;
    o.stride_b = c->shared_b ? 0 : sb;
    o.stride_c = sc;
    o.lda = lda, o.ldb = ldb, o.ldc = ldc;
    int rc = vkft_rec_begin(rec) || vkft_matmul(rec, c->form, dA, dB, dC, c->M, c->N, c->K, &o) ||
             vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, !rc, "matmul: %s", vkft_last_error(ctx));
    float *got = test_download_f32(t, ctx, dC, sc * c->batch);
    /* compare only the M x N part of each row (the padding must stay as it was) */
    double err = test_max_rel_err(got, want, sc * c->batch);
    double tol = 1e-4;
    if (c->path == VKFT_MM_COOPMAT) /* A (and fp32 B) rounded to fp16 or bf16 */
        tol = (c->b_type == VKFT_MM_B_BF16 ? 6e-2 : 8e-3) * sqrt((double)c->K) / 4 + 1e-3;
    char what[200];
    snprintf(what, sizeof what, "%-10s%s %s B=%-4s M=%-4d N=%-4d K=%-4d batch=%d pad=%d%s alpha=%g beta=%g%s",
             vkft_matmul_path_name(c->path), c->gpu_tiles ? "(gpu tiles)" : c->storage_loads ? "(storage)" : "",
             form_name[c->form],
             btype_name[c->b_type], c->M, c->N, c->K, c->batch, c->pad, c->shared_b ? " sharedB" : "",
             c->alpha, c->beta, c->bias ? " bias" : "");
    CHECK(t, err <= tol, "%s: max rel err %.3g > %.0e", what, err, tol);
    if (c->b_type != VKFT_MM_B_F32) {
        double err_exact = test_max_rel_err(got, exact, sc * c->batch);
        double tol_exact = (c->b_type == VKFT_MM_B_F16 ? 4e-3 : 3e-2) * sqrt((double)c->K) / 4 + 1e-4;
        CHECK(t, err_exact <= tol_exact, "%s: vs fp32 weights max rel err %.3g > %.2g", what, err_exact,
              tol_exact);
        printf("  %s  err %.2e (vs fp32 weights %.2e)\n", what, err, err_exact);
    } else {
        printf("  %s  err %.2e\n", what, err);
    }
    vkft_arena *ar = vkft_default_arena(ctx);
    vkft_arena_free(ar, dA), vkft_arena_free(ar, dB), vkft_arena_free(ar, dC), vkft_arena_free(ar, dbias);
    free(A), free(B), free(C0), free(want), free(exact), free(bias), free(B16), free(Bq), free(got);
    return rc;
}

/* The causal hint (vkft_matmul_opts.causal, attention's score blocks) on square products with batch
 * items side by side in C's rows (heads interleaved, as the scores path writes them): NT must give every
 * entry on and below the diagonal; NN and TN with A zero above the diagonal the whole product. Run on
 * both SIMT paths (the tiled one ignores the hint). */
static void check_causal(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, vkft_mm_path path) {
    static const int Ts[] = {7, 33, 70, 129};
    const int D = 20, batch = 2;
    for (int form = 0; form < 3; form++)
        for (int s = 0; s < 4; s++) {
            int T = Ts[s], M = T, N = form == VKFT_MM_NT ? T : D, K = form == VKFT_MM_NT ? D : T;
            int lda = form == VKFT_MM_TN ? M : K, ldb = form == VKFT_MM_NT ? K : N, ldc = batch * N;
            size_t sa = (size_t)T * lda, sb = (size_t)T * ldb, sc = (size_t)M * ldc;
            float *A = malloc(sa * batch * 4), *B = malloc(sb * batch * 4), *want = calloc(sc, 4);
            test_fill_uniform(A, sa * batch, 700 + s, -1, 1);
            test_fill_uniform(B, sb * batch, 710 + s, -1, 1);
            /* A lower-triangular as stored: NN A[m][k] = 0 for k > m (P), TN A[k][m] = 0 for m > k (P^T) */
            if (form != VKFT_MM_NT)
                for (int b = 0; b < batch; b++)
                    for (int r = 0; r < T; r++)
                        for (int c = r + 1; c < T; c++) A[b * sa + (size_t)r * lda + c] = 0;
            for (int b = 0; b < batch; b++)
                matmul_ref(form, A + b * sa, B + b * sb, want + b * N, M, N, K, lda, ldb, ldc, 1, 0, NULL);
            vkft_buf dA = test_buf_f32(t, ctx, A, sa * batch), dB = test_buf_f32(t, ctx, B, sb * batch);
            vkft_buf dC = test_buf_f32(t, ctx, NULL, sc);
            vkft_matmul_opts o = vkft_matmul_opts_default();
            o.path = path;
            o.causal = 1;
            o.batch = batch;
            o.stride_a = sa, o.stride_b = sb, o.stride_c = N;
            o.lda = lda, o.ldb = ldb, o.ldc = ldc;
            int rc = vkft_rec_begin(rec) || vkft_rec_fill(rec, dC, 0x7fc00000u) ||
                     vkft_matmul(rec, form, dA, dB, dC, M, N, K, &o) || vkft_rec_end(rec) || vkft_rec_submit(rec);
            CHECK(t, !rc, "causal matmul: %s", vkft_last_error(ctx));
            float *got = test_download_f32(t, ctx, dC, sc);
            double err = 0;
            for (int m = 0; got && m < M; m++)
                for (int b = 0; b < batch; b++)
                    for (int n = 0; n < (form == VKFT_MM_NT ? m + 1 : N); n++) {
                        size_t i = (size_t)m * ldc + b * N + n;
                        double e = fabs((double)got[i] - want[i]) / fmax(1.0, fabs((double)want[i]));
                        if (!(e <= err)) err = isnan(e) ? INFINITY : e;
                    }
            printf("  %-10s %s causal T=%-3d D=%d batch=%d (side by side)  err %.2e\n",
                   vkft_matmul_path_name(path), form_name[form], T, D, batch, err);
            CHECK(t, err <= 1e-4, "causal %s T=%d: max rel err %.3g", form_name[form], T, err);
            vkft_arena *ar = vkft_default_arena(ctx);
            vkft_arena_free(ar, dA), vkft_arena_free(ar, dB), vkft_arena_free(ar, dC);
            free(A), free(B), free(want), free(got);
        }
}

/* The three forms through PyTorch (tests/reference/matmul.py) on shared inputs. */
static void check_pytorch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec) {
    const int M = 37, N = 29, K = 45;
    char dir[256], path[512], args[600];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "mkdtemp")) return;
    float *X = malloc(M * K * 4), *W = malloc(N * K * 4), *G = malloc(M * N * 4);
    test_fill_uniform(X, M * K, 91, -1, 1);
    test_fill_uniform(W, N * K, 92, -1, 1);
    test_fill_uniform(G, M * N, 93, -1, 1);
    snprintf(path, sizeof path, "%s/x.f32", dir), test_write_f32(path, X, M * K);
    snprintf(path, sizeof path, "%s/w.f32", dir), test_write_f32(path, W, N * K);
    snprintf(path, sizeof path, "%s/g.f32", dir), test_write_f32(path, G, M * N);
    snprintf(args, sizeof args, "'%s' %d %d %d", dir, M, N, K);
    int rc = test_run_reference("matmul.py", args);
    if (!CHECK(t, rc == 0, "tests/reference/matmul.py failed (%d)", rc)) goto done;
    vkft_buf dX = test_buf_f32(t, ctx, X, M * K), dW = test_buf_f32(t, ctx, W, N * K),
             dG = test_buf_f32(t, ctx, G, M * N);
    vkft_buf dY = test_buf_f32(t, ctx, NULL, M * N), dDX = test_buf_f32(t, ctx, NULL, M * K);
    vkft_buf dDW = test_buf_f32(t, ctx, NULL, N * K);
    /* y = x W^T (NT), dx = g W (NN), dW = g^T x (TN) */
    rc = vkft_rec_begin(rec) || vkft_matmul_nt(rec, dX, dW, dY, M, N, K) ||
         vkft_matmul_nn(rec, dG, dW, dDX, M, K, N) || vkft_matmul_tn(rec, dG, dX, dDW, N, K, M) ||
         vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, !rc, "matmul: %s", vkft_last_error(ctx));
    struct {
        const char *file;
        vkft_buf buf;
        size_t n;
    } outs[] = {{"y", dY, M * N}, {"dx", dDX, M * K}, {"dw", dDW, N * K}};
    for (int i = 0; i < 3; i++) {
        size_t n;
        snprintf(path, sizeof path, "%s/%s.f32", dir, outs[i].file);
        float *want = test_read_f32(path, &n), *got = test_download_f32(t, ctx, outs[i].buf, outs[i].n);
        if (CHECK(t, want && n == outs[i].n, "%s: %zu values from PyTorch, expected %zu", path, n,
                  outs[i].n)) {
            double err = test_max_rel_err(got, want, n);
            printf("  PyTorch %-2s (%s) max rel err %.2e\n", outs[i].file,
                   i == 0   ? "x.W^T"
                   : i == 1 ? "g.W"
                            : "g^T.x",
                   err);
            CHECK(t, err <= 1e-5, "PyTorch %s: max rel err %.3g > 1e-5", outs[i].file, err);
        }
        free(want), free(got);
    }
done:
    free(X), free(W), free(G);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_matmul");
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    printf("automatic path on this device: %s\n",
           vkft_matmul_path_name(vkft_matmul_path_for(ctx, VKFT_MM_B_F32)));

    static const int sizes[][3] = {{1, 1, 1},    {7, 7, 7},     {33, 33, 33},    {1, 129, 33},  {129, 1, 7},
                                   {64, 64, 64}, {70, 200, 67}, {129, 129, 129}, {17, 257, 300},
                                   {48, 16, 36}, {100, 24, 64}};
    const int n_sizes = sizeof sizes / sizeof sizes[0];
    uint64_t seed = 1;
    /* the cooperative-matrix path too where the device has it (not lavapipe); unverified until then */
    int last_path =
        vkft_matmul_path_for(ctx, VKFT_MM_B_F16) == VKFT_MM_COOPMAT ? VKFT_MM_COOPMAT : VKFT_MM_SIMT_TILED;
    for (int path = VKFT_MM_SIMT_CPU; path <= last_path; path++) {
        for (int form = 0; form < 3; form++) {
            for (int s = 0; s < n_sizes; s++) {
                mm_case c = {path, form, VKFT_MM_B_F32, sizes[s][0], sizes[s][1], sizes[s][2], 1, 0, 0, 1, 0,
                             0,    0, 0};
                run_case(&t, ctx, rec, &c, seed++);
            }
            /* padded rows (unaligned strides: the lavapipe kernel's clamped path), batches, epilogue */
            mm_case pad = {path, form, VKFT_MM_B_F32, 40, 72, 35, 1, 3, 0, 1, 0, 0, 0, 0};
            run_case(&t, ctx, rec, &pad, seed++);
            mm_case pad4 = {path, form, VKFT_MM_B_F32, 24, 130, 36, 1, 4, 0, 1, 0, 0, 0, 0};
            run_case(&t, ctx, rec, &pad4, seed++);
            mm_case batched = {path, form, VKFT_MM_B_F32, 19, 70, 23, 3, 0, 0, 1, 0, 0, 0, 0};
            run_case(&t, ctx, rec, &batched, seed++);
            mm_case shared = {path, form, VKFT_MM_B_F32, 16, 64, 20, 2, 1, 1, 1, 0, 0, 0, 0};
            run_case(&t, ctx, rec, &shared, seed++);
            mm_case epi = {path, form, VKFT_MM_B_F32, 33, 65, 31, 1, 0, 0, 0.5f, 0.75f, 1, 0, 0};
            run_case(&t, ctx, rec, &epi, seed++);
            mm_case acc = {path, form, VKFT_MM_B_F32, 8, 64, 16, 2, 2, 0, -1.5f, 1, 0, 0, 0};
            run_case(&t, ctx, rec, &acc, seed++);
            /* rows of A and B in whole 16-byte texels with whole 32 x 32 blocks: the lavapipe path's texel-buffer
             * kernel, and the storage-buffer one on the same products */
            for (int storage = 0; path == VKFT_MM_SIMT_CPU && storage <= 1; storage++) {
                mm_case tex = {path, form, VKFT_MM_B_F32, 64, 100, 40, 1, 0, 0, 1, 0, 0, 0, storage};
                run_case(&t, ctx, rec, &tex, seed++);
                mm_case tex_batched = {path, form, VKFT_MM_B_F32, 72, 96, 36, 2, 4, 0, 0.5f, 0.75f, 1, 0, storage};
                run_case(&t, ctx, rec, &tex_batched, seed++);
                mm_case tex_shared = {path, form, VKFT_MM_B_F32, 96, 64, 132, 3, 0, 1, 1, 0, 0, 0, storage};
                run_case(&t, ctx, rec, &tex_shared, seed++);
            }
            /* K longer than one dispatch takes on CPU devices (a sum over chunks of K: bias and beta only in
             * the first), with and without whole texels, fp32 and fp16 B */
            if (path == VKFT_MM_SIMT_CPU) {
                mm_case long_k = {path, form, VKFT_MM_B_F32, 37, 70, 2053, 1, 0, 0, 0.5f, 0.75f, 1, 0, 0};
                run_case(&t, ctx, rec, &long_k, seed++);
                mm_case long_tex = {path, form, VKFT_MM_B_F32, 64, 96, 2048, 2, 4, 0, 1, 1, 1, 0, 0};
                run_case(&t, ctx, rec, &long_tex, seed++);
                mm_case long_f16 = {path, form, VKFT_MM_B_F16, 33, 130, 1500, 1, 0, 0, 1, 0, 1, 0, 0};
                run_case(&t, ctx, rec, &long_f16, seed++);
            }
            for (int bt = VKFT_MM_B_F16; bt <= VKFT_MM_B_BF16; bt++) {
                if (path == VKFT_MM_COOPMAT && vkft_matmul_path_for(ctx, bt) != VKFT_MM_COOPMAT) continue;
                mm_case h = {path, form, bt, 33, 130, 68, 1, 0, 0, 1, 0, 1, 0, 0};
                run_case(&t, ctx, rec, &h, seed++);
                mm_case h2 = {path, form, bt, 7, 64, 129, 2, 0, 0, 2, 0.5f, 0, 0, 0};
                run_case(&t, ctx, rec, &h2, seed++);
            }
        }
    }
    /* the tiled kernel with the tile sizes GPUs get (128x128 blocks of 8x8 where the limits allow): the
     * loop above runs it with the small tiles CPU devices get. NT and TN cover the 4 staging layouts of A
     * and B (each pipeline costs about 9 s of lavapipe compile time). */
    for (int form = VKFT_MM_NT; form <= VKFT_MM_TN; form++) {
        static const int gsizes[][3] = {{1, 1, 1}, {129, 130, 33}, {256, 128, 40}, {70, 300, 17}};
        for (int s = 0; s < 4; s++) {
            mm_case c = {VKFT_MM_SIMT_TILED,
                         form,
                         VKFT_MM_B_F32,
                         gsizes[s][0],
                         gsizes[s][1],
                         gsizes[s][2],
                         1,
                         0,
                         0,
                         1,
                         0,
                         0,
                         1, 0};
            c.batch = s == 3 ? 2 : 1; /* batched, padded, epilogue: one each */
            c.pad = s == 1;
            c.alpha = s == 2 ? 0.5f : 1;
            c.beta = s == 3 ? 1 : 0;
            c.bias = s == 2;
            run_case(&t, ctx, rec, &c, seed++);
        }
    }
    check_causal(&t, ctx, rec, VKFT_MM_SIMT_CPU);
    check_causal(&t, ctx, rec, VKFT_MM_SIMT_TILED);
    check_pytorch(&t, ctx, rec);

    /* errors are values */
    vkft_buf small = test_buf_f32(&t, ctx, NULL, 4);
    CHECK(&t, vkft_rec_begin(rec) == 0, "begin");
    CHECK(&t, vkft_matmul_nn(rec, small, small, small, 8, 8, 8) == -1, "a too-small view is refused");
    printf("  refused as expected: %s\n", vkft_last_error(ctx));
    vkft_buf c64 = test_buf_f32(&t, ctx, NULL, 64);
    vkft_matmul_opts ov = vkft_matmul_opts_default();
    ov.batch = 2, ov.stride_c = 3, ov.ldc = 8; /* items 3 apart, 4 wide: they would overlap */
    CHECK(&t,
          vkft_matmul(rec, VKFT_MM_NN, c64, c64, c64, 2, 4, 2, &ov) == -1 &&
              strstr(vkft_last_error(ctx), "overlap"),
          "overlapping batched outputs are refused");
    printf("  refused as expected: %s\n", vkft_last_error(ctx));
    vkft_arena_free(vkft_default_arena(ctx), c64);
    if (!vkft_device(ctx)->coopmat) {
        vkft_matmul_opts o = vkft_matmul_opts_default();
        o.path = VKFT_MM_COOPMAT;
        CHECK(&t, vkft_matmul(rec, VKFT_MM_NN, small, small, small, 2, 2, 2, &o) == -1,
              "the cooperative-matrix path is refused on a device without cooperative matrices");
        printf("  refused as expected: %s\n", vkft_last_error(ctx));
    }
    vkft_rec_end(rec);

    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
