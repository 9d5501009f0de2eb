/* vkft bench rows: the row-wise and elementwise kernels of a training step and the optimizer at the
 * shapes of a SmolLM-135M-like model (C=576, MLP 1536, 9 heads of 64, V=49152). Prints one line per
 * kernel: microseconds per call, GB/s of the minimum traffic (each input read once, each output written
 * once), the figure to hold against the device's memory bandwidth, and on a CPU driver the CPU time per
 * call (the work done, meaningful when other processes share the cores). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/ops_activation.h"
#include "model/ops_dropout.h"
#include "model/ops_embedding.h"
#include "model/ops_norm.h"
#include "model/ops_optim.h"
#include "model/ops_rope.h"
#include "model/ops_softmax.h"
#include "model/ops_xent.h"
#include "tools/bench.h"
#include "tools/cli.h"

/* Buffers shared by the cases, sized for the largest; filled with small values once. */
typedef struct {
    vkft_buf a, b, c, d, e, f, g, ids, small, scratch;
} bufs;

enum { TOKENS = 2048, C = 576, F = 1536, HEADS = 9, HD = 64, T = 512, V = 49152, XENT_ROWS = 512 };
enum { OPT_N = 8 << 20 };
static const size_t BIG = (size_t)XENT_ROWS * V; /* floats: the largest tensor (xent logits) */

typedef int (*record_fn)(vkft_recorder *rec, const bufs *b);

static int r_softmax_fwd(vkft_recorder *r, const bufs *b) {
    return vkft_softmax_forward(r, b->a, b->b, HEADS * T, T, 0.125f, 1, T);
}
static int r_softmax_bwd(vkft_recorder *r, const bufs *b) {
    return vkft_softmax_backward(r, b->a, b->b, b->c, HEADS * T, T, 0.125f, 1, T);
}
static int r_ln_fwd(vkft_recorder *r, const bufs *b) {
    return vkft_layernorm_forward(r, b->a, b->d, b->e, b->b, b->f, b->g, TOKENS, C, 1e-5f);
}
static int r_ln_bwd(vkft_recorder *r, const bufs *b) {
    return vkft_layernorm_backward(r, b->a, b->d, b->f, b->g, b->b, b->c, b->d, b->e, b->scratch, TOKENS, C,
                                   0);
}
static int r_rms_fwd(vkft_recorder *r, const bufs *b) {
    return vkft_rmsnorm_forward(r, b->a, b->d, b->b, b->g, TOKENS, C, 1e-5f);
}
static int r_rms_bwd(vkft_recorder *r, const bufs *b) {
    return vkft_rmsnorm_backward(r, b->a, b->d, b->g, b->b, b->c, b->e, b->scratch, TOKENS, C, 0);
}
static int r_gelu_fwd(vkft_recorder *r, const bufs *b) {
    return vkft_activation_forward(r, VKFT_ACT_GELU_TANH, b->a, b->b, TOKENS * F);
}
static int r_gelu_bwd(vkft_recorder *r, const bufs *b) {
    return vkft_activation_backward(r, VKFT_ACT_GELU_TANH, b->a, b->b, b->c, TOKENS * F);
}
static int r_swiglu_fwd(vkft_recorder *r, const bufs *b) {
    return vkft_swiglu_forward(r, b->a, b->b, b->c, TOKENS * F);
}
static int r_swiglu_bwd(vkft_recorder *r, const bufs *b) {
    return vkft_swiglu_backward(r, b->a, b->b, b->c, b->d, b->e, TOKENS * F);
}
static int r_rope_fwd(vkft_recorder *r, const bufs *b) {
    return vkft_rope_forward(r, b->a, b->b, b->ids, b->small, TOKENS / T, T, HEADS, HD, HD, 1.0f);
}
static int r_emb_fwd(vkft_recorder *r, const bufs *b) {
    return vkft_embedding_forward(r, b->ids, b->a, b->b, b->g, TOKENS, V, C);
}
static int r_emb_bwd(vkft_recorder *r, const bufs *b) {
    return vkft_embedding_backward(r, b->ids, b->b, b->a, TOKENS, V, C, 0);
}
static int r_xent(vkft_recorder *r, const bufs *b) {
    vkft_buf none = {0};
    return vkft_cross_entropy_forward_backward(r, b->a, b->ids, none, b->b, b->c, b->g, b->small, XENT_ROWS,
                                               V, -100, 0.0f, 1.0f);
}
static int r_dropout(vkft_recorder *r, const bufs *b) {
    return vkft_dropout_forward(r, b->a, b->b, TOKENS * C, 0.1f, 42, 1, 0);
}
static int r_adamw(vkft_recorder *r, const bufs *b) {
    vkft_adamw_hparams hp = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f};
    return vkft_adamw_step(r, b->a, b->b, b->c, b->d, OPT_N, &hp, 10, b->g);
}
static int r_grad_norm(vkft_recorder *r, const bufs *b) {
    uint32_t n = OPT_N;
    return vkft_grad_norm(r, &b->a, &n, 1, b->scratch, b->g, 1.0f);
}

static const struct {
    const char *name, *shape;
    record_fn record;
    double bytes; /* minimum traffic per call */
} cases[] = {
    {"softmax_forward", "9x512 rows of 512, causal", r_softmax_fwd, 8.0 * HEADS *T *T},
    {"softmax_backward", "9x512 rows of 512, causal", r_softmax_bwd, 12.0 * HEADS *T *T},
    {"layernorm_forward", "2048 x 576", r_ln_fwd, 8.0 * TOKENS *C},
    {"layernorm_backward", "2048 x 576, dx dw db", r_ln_bwd, 12.0 * TOKENS *C},
    {"rmsnorm_forward", "2048 x 576", r_rms_fwd, 8.0 * TOKENS *C},
    {"rmsnorm_backward", "2048 x 576, dx dw", r_rms_bwd, 12.0 * TOKENS *C},
    {"gelu_tanh_forward", "2048 x 1536", r_gelu_fwd, 8.0 * TOKENS *F},
    {"gelu_tanh_backward", "2048 x 1536", r_gelu_bwd, 12.0 * TOKENS *F},
    {"swiglu_forward", "2048 x 1536", r_swiglu_fwd, 12.0 * TOKENS *F},
    {"swiglu_backward", "2048 x 1536", r_swiglu_bwd, 20.0 * TOKENS *F},
    {"rope_forward", "B=4 T=512 H=9 D=64", r_rope_fwd, 8.0 * TOKENS *HEADS *HD},
    {"embedding_forward", "2048 tokens, C=576", r_emb_fwd, 8.0 * TOKENS *C},
    {"embedding_backward", "2048 tokens into 49152 x 576", r_emb_bwd, 4.0 * V *C + 8.0 * TOKENS *C},
    {"cross_entropy", "512 rows of 49152, loss + grad", r_xent, 8.0 * XENT_ROWS *V},
    {"dropout_forward", "2048 x 576, p=0.1", r_dropout, 8.0 * TOKENS *C},
    {"adamw_step", "8M parameters, clip fused", r_adamw, 28.0 * OPT_N},
    {"grad_norm", "8M gradients", r_grad_norm, 4.0 * OPT_N},
};

static int alloc_all(vkft_ctx *ctx, bufs *b) {
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_buf *big[] = {&b->a, &b->b, &b->c, &b->d, &b->e};
    size_t n_big = BIG > (size_t)V * C ? BIG : (size_t)V * C;
    for (size_t i = 0; i < 5; i++)
        if (vkft_arena_alloc(a, n_big * 4, big[i])) return -1;
    if (vkft_arena_alloc(a, TOKENS * 4 * 2, &b->f) || vkft_arena_alloc(a, TOKENS * 4 * 2, &b->g) ||
        vkft_arena_alloc(a, TOKENS * 4, &b->ids) || vkft_arena_alloc(a, 4096, &b->small) ||
        vkft_arena_alloc(a, vkft_norm_scratch_floats(TOKENS, C) * 4 + (1 << 20), &b->scratch))
        return -1;
    float *x = malloc(n_big * 4);
    for (size_t i = 0; i < n_big; i++) x[i] = (float)((i * 2654435761u) % 1000) * 1e-3f - 0.5f;
    int rc = 0;
    for (size_t i = 0; i < 5 && !rc; i++) rc = vkft_upload(ctx, *big[i], 0, x, n_big * 4);
    int32_t *ids = malloc(TOKENS * 4);
    for (int i = 0; i < TOKENS; i++)
        ids[i] = (int32_t)((i * 7919u) % (T < V ? T : V)); /* valid ids and positions */
    float inv_freq[HD / 2];
    vkft_rope_inv_freq(inv_freq, HD, 10000.0f);
    rc = rc || vkft_upload(ctx, b->ids, 0, ids, TOKENS * 4) ||
         vkft_upload(ctx, b->small, 0, inv_freq, sizeof inv_freq) ||
         vkft_upload(ctx, b->f, 0, x, TOKENS * 8) || vkft_upload(ctx, b->g, 0, x, TOKENS * 8);
    free(x), free(ids);
    return rc;
}

/* CPU seconds used by this process (all threads): on a CPU driver (lavapipe) the work done, which stays
 * meaningful when other processes share the cores. */
static double process_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench_rows(vkft_ctx *ctx, int iters, const char *only) {
    vkft_recorder *rec = vkft_recorder_create(ctx);
    bufs b;
    memset(&b, 0, sizeof b);
    if (!rec || alloc_all(ctx, &b)) {
        fprintf(stderr, "vkft bench rows: %s\n", vkft_last_error(ctx));
        vkft_recorder_destroy(rec);
        return -1;
    }
    printf("row-wise and elementwise kernels on %s (%d calls each, one submission)\n", vkft_device(ctx)->name,
           iters);
    printf("  %-20s %-32s %12s %8s %12s\n", "kernel", "shape", "us/call", "GB/s", "cpu-us/call");
    int rc = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0] && !rc; k++) {
        if (only && !strstr(cases[k].name, only)) continue;
        /* warm-up (pipeline creation), then `iters` calls in one submission */
        if (vkft_rec_begin(rec) || cases[k].record(rec, &b) || vkft_rec_end(rec) || vkft_rec_submit(rec)) {
            rc = -1;
            break;
        }
        if (vkft_rec_begin(rec)) rc = -1;
        for (int i = 0; i < iters && !rc; i++) rc = cases[k].record(rec, &b);
        if (rc || vkft_rec_end(rec)) {
            rc = -1;
            break;
        }
        double t0 = cli_now_s(), c0 = process_cpu_s();
        if (vkft_rec_submit(rec)) {
            rc = -1;
            break;
        }
        double s = (cli_now_s() - t0) / iters, cpu = (process_cpu_s() - c0) / iters;
        printf("  %-20s %-32s %12.1f %8.2f %12.1f\n", cases[k].name, cases[k].shape, s * 1e6,
               cases[k].bytes / s * 1e-9, cpu * 1e6);
        fflush(stdout);
    }
    if (rc) fprintf(stderr, "vkft bench rows: %s\n", vkft_last_error(ctx));
    vkft_buf *all[] = {&b.a, &b.b, &b.c, &b.d, &b.e, &b.f, &b.g, &b.ids, &b.small, &b.scratch};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i]->block) vkft_arena_free(vkft_default_arena(ctx), *all[i]);
    vkft_recorder_destroy(rec);
    return rc;
}

/* vkft bench rows [--device N|NAME] [--iters N] [--only SUBSTRING] */
int bench_rows_main(int argc, char **argv) {
    const char *device = NULL, *only = NULL;
    int iters = 10, bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else if ((v = cli_value(argc, argv, &i, "--iters", &bad))) {
            iters = atoi(v);
            if (iters < 1) {
                fprintf(stderr, "vkft bench rows: --iters must be a positive number\n");
                return 2;
            }
        } else if ((v = cli_value(argc, argv, &i, "--only", &bad))) {
            only = v;
        } else {
            if (!bad)
                fprintf(stderr, "vkft bench rows: unknown option '%s' (see vkft bench --help)\n", argv[i]);
            return 2;
        }
    }
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    int rc = bench_rows(ctx, iters, only);
    return cli_close_device(ctx) || rc ? 1 : 0;
}
