/* vkft bench attention: attention (model/ops_attention.c) at training-like shapes, forward and backward,
 * in ms and GFLOP/s (FLOPs: vkft_attention_*_flops; causal counts half the score matrix), by the fused
 * kernels and by the scores path (score blocks in scratch, products on the matmul kernels) side by side.
 * Figures go to docs/benchmarks.md by hand, with the device named. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/ops_attention.h"
#include "tools/bench.h"
#include "tools/cli.h"

static double process_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Submits a recording once to warm up, then `iters` times; returns seconds per submission, or -1, and
 * the process CPU seconds per submission in *cpu (lavapipe runs in this process: on a shared machine
 * this says how much work a submission was, whatever else the cores were doing). */
static double time_recording(vkft_recorder *rec, int iters, double *cpu) {
    if (vkft_rec_submit(rec)) return -1;
    double t0 = cli_now_s(), c0 = process_cpu_s();
    for (int i = 0; i < iters; i++)
        if (vkft_rec_submit(rec)) return -1;
    *cpu = (process_cpu_s() - c0) / iters;
    return (cli_now_s() - t0) / iters;
}

/* scores: run the scores path (scratch for as many score blocks as fit), else the fused kernels. */
static int bench_shape(vkft_ctx *ctx, const vkft_attention_dims *dims, int scores, int iters) {
    vkft_attention_dims dd = *dims, *d = &dd;
    vkft_arena *arena = vkft_default_arena(ctx);
    size_t nq = (size_t)d->B * d->T * d->H * d->D, nk = (size_t)d->B * d->T * d->Hkv * d->D;
    size_t nl = (size_t)d->B * d->H * d->T;
    vkft_buf q = {0}, k = {0}, v = {0}, out = {0}, lse = {0}, dout = {0}, dq = {0}, dk = {0}, dv = {0},
             delta = {0};
    vkft_buf *bufs[] = {&q, &k, &v, &out, &lse, &dout, &dq, &dk, &dv, &delta, &dd.scratch};
    size_t sizes[] = {nq, nk, nk, nq, nl, nq, nq, nk, nk, nl,
                      scores ? vkft_attention_scores_scratch_bytes(ctx, d, 0) / 4 : 0};
    vkft_recorder *rec = vkft_recorder_create(ctx);
    int rc = -1;
    float *host = malloc(nq * 4);
    if (!rec || !host) goto done;
    if (scores && !sizes[10]) {
        vkft_set_error(ctx, "the scores path does not apply at T=%u", d->T);
        goto done;
    }
    for (int i = 0; i < 11; i++)
        if (sizes[i] && vkft_arena_alloc(arena, sizes[i] * 4, bufs[i])) goto done;
    /* inputs in [-1, 1] (a fixed LCG): realistic exponent ranges for the softmax */
    uint32_t s = 12345;
    for (size_t i = 0; i < nq; i++)
        host[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
    if (vkft_upload(ctx, q, 0, host, nq * 4) || vkft_upload(ctx, k, 0, host, nk * 4) ||
        vkft_upload(ctx, v, 0, host + (nq - nk), nk * 4) || vkft_upload(ctx, dout, 0, host, nq * 4))
        goto done;
    double fwd, bwd, fwd_cpu = 0, bwd_cpu = 0;
    if (vkft_rec_begin(rec) || vkft_attention_forward(rec, d, out, lse, q, k, v, NULL) || vkft_rec_end(rec) ||
        (fwd = time_recording(rec, iters, &fwd_cpu)) < 0)
        goto done;
    if (vkft_rec_begin(rec) ||
        vkft_attention_backward(rec, d, dq, dk, dv, delta, dout, q, k, v, out, lse, NULL) ||
        vkft_rec_end(rec) || (bwd = time_recording(rec, iters, &bwd_cpu)) < 0)
        goto done;
    double ff = vkft_attention_forward_flops(d), fb = vkft_attention_backward_flops(d);
    printf("  %-6s B=%u T=%-5u H=%-3u Hkv=%-3u D=%-3u %-6s  forward %9.2f ms %7.1f GFLOP/s (%8.1f cpu-ms)   "
           "backward %9.2f ms %7.1f GFLOP/s (%8.1f cpu-ms)\n",
           scores ? "scores" : "fused", d->B, d->T, d->H, d->Hkv, d->D, d->causal ? "causal" : "bidir",
           fwd * 1e3, ff / fwd * 1e-9, fwd_cpu * 1e3, bwd * 1e3, fb / bwd * 1e-9, bwd_cpu * 1e3);
    fflush(stdout);
    rc = 0;
done:
    for (int i = 0; i < 11; i++)
        if (bufs[i]->block) vkft_arena_free(arena, *bufs[i]);
    vkft_recorder_destroy(rec);
    free(host);
    return rc;
}

/* vkft bench attention [--device N|NAME] [--iters N] [--small] [--bidirectional] [--batch B] [--kv-heads N]
 *                      [--path fused|scores|both] */
int bench_attention_main(int argc, char **argv) {
    const char *device = NULL;
    int iters = 3, bad = 0, small = 0, causal = 1, run_fused = 1, run_scores = 1;
    uint32_t batch = 1, kv_heads = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else if ((v = cli_value(argc, argv, &i, "--iters", &bad))) {
            iters = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--batch", &bad))) {
            batch = (uint32_t)atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--kv-heads", &bad))) {
            kv_heads = (uint32_t)atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--path", &bad))) {
            run_fused = !strcmp(v, "fused") || !strcmp(v, "both");
            run_scores = !strcmp(v, "scores") || !strcmp(v, "both");
            if (!run_fused && !run_scores) {
                fprintf(stderr, "vkft bench attention: --path takes fused, scores or both, not '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(argv[i], "--small")) {
            small = 1;
        } else if (!strcmp(argv[i], "--bidirectional")) {
            causal = 0;
        } else {
            if (!bad)
                fprintf(stderr, "vkft bench attention: unknown option '%s' (see vkft bench --help)\n",
                        argv[i]);
            return 2;
        }
    }
    if (bad) return 2;
    if (iters < 1 || batch < 1) {
        fprintf(stderr, "vkft bench attention: --iters and --batch must be positive numbers\n");
        return 2;
    }
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    static const uint32_t full_T[] = {512, 2048}, small_T[] = {128, 256};
    static const uint32_t full_H[] = {9, 32}, small_H[] = {9};
    const uint32_t *Ts = small ? small_T : full_T, *Hs = small ? small_H : full_H;
    int nT = 2, nH = small ? 1 : 2, rc = 0;
    printf("attention on %s, head dim 64, mean of %d submissions after one warm-up\n"
           "(GFLOP/s: forward 4*D, backward 10*D flops per visible (query, key) pair and head)\n",
           vkft_device(ctx)->name, iters);
    for (int h = 0; h < nH && !rc; h++)
        for (int t = 0; t < nT && !rc; t++) {
            uint32_t hkv = kv_heads ? kv_heads : Hs[h];
            if (Hs[h] % hkv) {
                fprintf(stderr, "vkft bench attention: --kv-heads %u does not divide %u heads\n", hkv, Hs[h]);
                rc = 1;
                break;
            }
            vkft_attention_dims d = {batch, Ts[t], Hs[h], hkv, 64, causal, 0, {0}};
            for (int scores = 0; scores < 2 && !rc; scores++)
                if ((scores ? run_scores : run_fused) && bench_shape(ctx, &d, scores, iters)) {
                    fprintf(stderr, "vkft bench attention: %s\n", vkft_last_error(ctx));
                    rc = 1;
                }
        }
    return cli_close_device(ctx) || rc ? 1 : 0;
}
