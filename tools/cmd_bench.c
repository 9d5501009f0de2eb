/* vkft bench: benchmarks. Each prints what it measured; figures go to docs/benchmarks.md by hand, with
 * the device named (never timing assertions in tests). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_basic.h"
#include "tools/bench.h"
#include "tools/cli.h"
#include "tools/commands.h"

/* Submits a recording `iters` times; returns seconds per submission (submit + wait), or -1. */
static double time_submissions(vkft_recorder *rec, int iters) {
    if (vkft_rec_submit(rec)) return -1; /* warm-up */
    double t0 = cli_now_s();
    for (int i = 0; i < iters; i++)
        if (vkft_rec_submit(rec)) return -1;
    return (cli_now_s() - t0) / iters;
}

static int bench_dispatch(vkft_ctx *ctx, int iters) {
    vkft_recorder *rec = vkft_recorder_create(ctx);
    vkft_buf x;
    if (!rec || vkft_arena_alloc(vkft_default_arena(ctx), 4096 * 4, &x)) return -1;
    int rc = -1;
    double empty_submit, one, chain, independent;
    vkft_recorder_stats chain_stats, indep_stats;

    /* An empty submission: only the fixed cost of submit + fence wait. */
    if (vkft_rec_begin(rec) || vkft_rec_end(rec) || (empty_submit = time_submissions(rec, iters)) < 0) goto done;
    /* One empty dispatch (n = 0: the kernel starts and returns). */
    if (vkft_rec_begin(rec) || vkft_fill_f32(rec, x, 0, 0) || vkft_rec_end(rec) ||
        (one = time_submissions(rec, iters)) < 0)
        goto done;
    /* 100 dependent dispatches: each scales the result of the previous one (a barrier between each). */
    if (vkft_rec_begin(rec)) goto done;
    for (int i = 0; i < 100; i++)
        if (vkft_scale_f32(rec, x, x, 1024, 1.0f)) goto done;
    if (vkft_rec_end(rec) || (chain = time_submissions(rec, iters)) < 0) goto done;
    chain_stats = vkft_rec_get_stats(rec);
    /* 100 independent dispatches: each fills its own slice (no barriers). */
    if (vkft_rec_begin(rec)) goto done;
    for (int i = 0; i < 100; i++)
        if (vkft_fill_f32(rec, vkft_buf_slice(x, (VkDeviceSize)i * 64, 16), 4, (float)i)) goto done;
    if (vkft_rec_end(rec) || (independent = time_submissions(rec, iters)) < 0) goto done;
    indep_stats = vkft_rec_get_stats(rec);

    printf("dispatch overhead on %s (%d submissions each, mean)\n", vkft_device(ctx)->name, iters);
    printf("  %-46s %10.1f us\n", "empty submission (submit + fence wait)", empty_submit * 1e6);
    printf("  %-46s %10.1f us\n", "1 empty dispatch per submission", one * 1e6);
    printf("  %-46s %10.1f us  (%.2f us per dispatch, %u barriers)\n", "100 dependent dispatches in one submission",
           chain * 1e6, (chain - empty_submit) / 100 * 1e6, chain_stats.barriers);
    printf("  %-46s %10.1f us  (%.2f us per dispatch, %u barriers)\n",
           "100 independent dispatches in one submission", independent * 1e6,
           (independent - empty_submit) / 100 * 1e6, indep_stats.barriers);
    rc = 0;
done:
    if (rc) fprintf(stderr, "vkft bench dispatch: %s\n", vkft_last_error(ctx));
    vkft_arena_free(vkft_default_arena(ctx), x);
    vkft_recorder_destroy(rec);
    return rc;
}

/* vkft bench dispatch [--device N|NAME] [--iters N] */
int bench_dispatch_main(int argc, char **argv) {
    const char *device = NULL;
    int iters = 200, bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vkft bench dispatch [--device N|NAME] [--iters N]\n\n"
                   "The cost of a submission (submit + fence wait), of one empty dispatch, and of 100 dependent\n"
                   "(with barriers) and 100 independent dispatches recorded in one command buffer; each case is\n"
                   "recorded once and submitted N times (default 200) after a warm-up.\n");
            return 0;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else if ((v = cli_value(argc, argv, &i, "--iters", &bad))) {
            iters = atoi(v);
            if (iters < 1) {
                fprintf(stderr, "vkft bench dispatch: --iters must be a positive number\n");
                return 2;
            }
        } else {
            if (!bad) fprintf(stderr, "vkft bench dispatch: unknown option '%s' (see vkft bench --help)\n", argv[i]);
            return 2;
        }
    }
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    int rc = bench_dispatch(ctx, iters);
    return cli_close_device(ctx) || rc ? 1 : 0;
}

/* One row per benchmark; each lives in tools/bench_*.c (declared in tools/bench.h). */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
    int own_help; /* the bench answers --help itself; else this table's line is the help */
} benches[] = {
    {"dispatch", bench_dispatch_main,
     "the cost of a submission, of an empty dispatch, and of 100 dependent and 100 independent\n"
     "             dispatches recorded in one command buffer  [--iters N]",
     1},
    {"rows", bench_rows_main, "row-wise/elementwise kernels, cross-entropy, AdamW  [--iters N] [--only NAME]", 0},
    {"matmul", bench_matmul_main,
     "A.B, A.B^T, A^T.B at training shapes  [--shapes small|MxNxK,...] [--forms nn,nt,tn]\n"
     "             [--path auto|cpu|tiled|coopmat] [--btype f32|f16|bf16] [--loads texel|storage] [--iters N]",
     0},
    {"model", bench_model_main, "model forward, forward+backward tokens/s --model DIR [--batch B] [--seq T]", 1},
    {"attention", bench_attention_main,
     "attention forward and backward, T=512 and 2048, 9 and 32 heads of 64, by the fused\n"
     "             kernels and by the scores path (score blocks + matmuls)\n"
     "             [--small] [--iters N] [--batch B] [--kv-heads N] [--bidirectional]\n"
     "             [--path fused|scores|both]",
     0},
};

static void usage(void) {
    printf("usage: vkft bench WHAT [--device N|NAME] [options]\n\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        printf("  %-10s %s\n", benches[i].name, benches[i].help);
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage();
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
        if (!strcmp(argv[1], benches[i].name)) {
            if (!benches[i].own_help && cli_wants_help(argc - 1, argv + 1)) {
                usage();
                return 0;
            }
            return benches[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "vkft bench: unknown benchmark '%s' (see vkft bench --help)\n", argv[1]);
    return 2;
}
