/* vkft bench matmul: the matmul kernels (model/ops_matmul.c) at the training shapes of issue 4, in the
 * three forms. Prints one line per (shape, form): ms per product and GFLOP/s (2*M*N*K flops).
 * bench/matmul_vs_blas.sh runs it beside OpenBLAS (bench/peer_blas.c) on the same shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/ops_basic.h"
#include "model/ops_matmul.h"
#include "tools/bench.h"
#include "tools/cli.h"

typedef struct {
    uint32_t M, N, K;
} mm_shape;

/* CPU seconds used by this process (all threads): on a CPU Vulkan driver (lavapipe) the work done,
 * which stays meaningful when other processes share the cores. */
static double process_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const mm_shape shapes_all[] = {{4096, 576, 576},   {4096, 1536, 576},  {4096, 576, 1536},
                                      {4096, 2048, 2048}, {4096, 5632, 2048}, {1024, 1024, 1024}};
static const mm_shape shapes_small[] = {{1024, 576, 576}, {1024, 1024, 1024}, {4096, 576, 576}};

static const char *form_names[] = {"NN", "NT", "TN"};

static int bench_one(vkft_ctx *ctx, vkft_recorder *rec, mm_shape s, vkft_mm_form form,
                     const vkft_matmul_opts *o, int iters, double min_s) {
    vkft_arena *ar = vkft_default_arena(ctx);
    uint64_t b_elem = o->b_type == VKFT_MM_B_F32 ? 4 : 2;
    vkft_buf A, B, C;
    int rc = -1;
    if (vkft_arena_alloc(ar, (uint64_t)s.M * s.K * 4, &A)) return -1;
    if (vkft_arena_alloc(ar, ((uint64_t)s.K * s.N * b_elem + 3) / 4 * 4, &B)) goto free_a;
    if (vkft_arena_alloc(ar, (uint64_t)s.M * s.N * 4, &C)) goto free_b;
    /* operands filled on the device (values in a benign range: 0.01; fp16/bf16 B as bit patterns) */
    if (vkft_rec_begin(rec) || vkft_fill_f32(rec, A, s.M * s.K, 0.01f) ||
        vkft_fill_f32(rec, B, (uint32_t)(B.size / 4), b_elem == 4 ? 0.01f : 0.0f) || vkft_rec_end(rec) ||
        vkft_rec_submit(rec))
        goto done;
    if (vkft_rec_begin(rec) || vkft_matmul(rec, form, A, B, C, s.M, s.N, s.K, o) || vkft_rec_end(rec))
        goto done;
    if (vkft_rec_submit(rec)) goto done; /* warm-up (and pipeline creation) */
    double t0 = cli_now_s(), c0 = process_cpu_s(), el;
    int n = 0;
    do {
        if (vkft_rec_submit(rec)) goto done;
        n++;
        el = cli_now_s() - t0;
    } while (n < iters || el < min_s);
    double ms = el / n * 1e3, cpu_ms = (process_cpu_s() - c0) / n * 1e3;
    double gflops = 2.0 * s.M * s.N * s.K / (el / n) / 1e9;
    printf("matmul %s %5u %5u %5u  %10.3f ms  %8.1f GFLOP/s  %10.1f cpu-ms\n", form_names[form], s.M, s.N,
           s.K, ms, gflops, cpu_ms);
    fflush(stdout);
    rc = 0;
done:
    vkft_arena_free(ar, C);
free_b:
    vkft_arena_free(ar, B);
free_a:
    vkft_arena_free(ar, A);
    return rc;
}

static int parse_shapes(const char *v, mm_shape *out, int cap) {
    if (!strcmp(v, "all")) {
        memcpy(out, shapes_all, sizeof shapes_all);
        return sizeof shapes_all / sizeof shapes_all[0];
    }
    if (!strcmp(v, "small")) {
        memcpy(out, shapes_small, sizeof shapes_small);
        return sizeof shapes_small / sizeof shapes_small[0];
    }
    int n = 0;
    const char *p = v;
    while (*p && n < cap) { /* MxNxK[,MxNxK...] */
        unsigned m, nn, k;
        int used = 0;
        if (sscanf(p, "%ux%ux%u%n", &m, &nn, &k, &used) != 3 || !m || !nn || !k) return -1;
        out[n++] = (mm_shape){m, nn, k};
        p += used;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return n;
}

/* vkft bench matmul [--device N|NAME] [--shapes all|small|MxNxK,...] [--forms nn,nt,tn]
 *                   [--path auto|cpu|tiled|coopmat] [--btype f32|f16|bf16] [--loads texel|storage]
 *                   [--iters N]
 * --loads storage: the lavapipe path's storage-buffer kernels even where its texel-buffer kernel fits. */
int bench_matmul_main(int argc, char **argv) {
    const char *device = NULL, *forms = "nn,nt,tn";
    mm_shape shapes[32];
    int n_shapes = parse_shapes("all", shapes, 32), iters = 3, bad = 0;
    vkft_matmul_opts o = vkft_matmul_opts_default();
    for (int i = 1; i < argc; i++) {
        const char *v;
        if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else if ((v = cli_value(argc, argv, &i, "--shapes", &bad))) {
            n_shapes = parse_shapes(v, shapes, 32);
            if (n_shapes <= 0) {
                fprintf(stderr,
                        "vkft bench matmul: --shapes takes all, small or MxNxK[,MxNxK...], not '%s'\n", v);
                return 2;
            }
        } else if ((v = cli_value(argc, argv, &i, "--forms", &bad))) {
            forms = v;
        } else if ((v = cli_value(argc, argv, &i, "--path", &bad))) {
            if (!strcmp(v, "auto"))
                o.path = VKFT_MM_AUTO;
            else if (!strcmp(v, "cpu"))
                o.path = VKFT_MM_SIMT_CPU;
            else if (!strcmp(v, "tiled"))
                o.path = VKFT_MM_SIMT_TILED;
            else if (!strcmp(v, "coopmat"))
                o.path = VKFT_MM_COOPMAT;
            else {
                fprintf(stderr, "vkft bench matmul: --path takes auto, cpu, tiled or coopmat, not '%s'\n", v);
                return 2;
            }
        } else if ((v = cli_value(argc, argv, &i, "--btype", &bad))) {
            if (!strcmp(v, "f32"))
                o.b_type = VKFT_MM_B_F32;
            else if (!strcmp(v, "f16"))
                o.b_type = VKFT_MM_B_F16;
            else if (!strcmp(v, "bf16"))
                o.b_type = VKFT_MM_B_BF16;
            else {
                fprintf(stderr, "vkft bench matmul: --btype takes f32, f16 or bf16, not '%s'\n", v);
                return 2;
            }
        } else if ((v = cli_value(argc, argv, &i, "--loads", &bad))) {
            if (strcmp(v, "texel") && strcmp(v, "storage")) {
                fprintf(stderr, "vkft bench matmul: --loads takes texel or storage, not '%s'\n", v);
                return 2;
            }
            o.storage_loads = !strcmp(v, "storage");
        } else if ((v = cli_value(argc, argv, &i, "--iters", &bad))) {
            iters = atoi(v);
            if (iters < 1) {
                fprintf(stderr, "vkft bench matmul: --iters must be a positive number\n");
                return 2;
            }
        } else {
            if (!bad)
                fprintf(stderr, "vkft bench matmul: unknown option '%s' (see vkft bench --help)\n", argv[i]);
            return 2;
        }
    }
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    vkft_recorder *rec = vkft_recorder_create(ctx);
    vkft_mm_path path = o.path == VKFT_MM_AUTO ? vkft_matmul_path_for(ctx, o.b_type) : o.path;
    printf("# vkft matmul on %s, path %s%s, B %s, fp32 accumulate (ms per product, 2*M*N*K flops)\n",
           vkft_device(ctx)->name, vkft_matmul_path_name(path), o.storage_loads ? " (storage loads)" : "",
           o.b_type == VKFT_MM_B_F32   ? "f32"
           : o.b_type == VKFT_MM_B_F16 ? "f16"
                                       : "bf16");
    printf("# form     M     N     K\n");
    int rc = rec ? 0 : 1;
    for (int s = 0; s < n_shapes && !rc; s++)
        for (int f = 0; f < 3 && !rc; f++) {
            const char *names[] = {"nn", "nt", "tn"};
            if (!strstr(forms, names[f])) continue;
            if (bench_one(ctx, rec, shapes[s], (vkft_mm_form)f, &o, iters, 0.3)) {
                fprintf(stderr, "vkft bench matmul: %s\n", vkft_last_error(ctx));
                rc = 1;
            }
        }
    vkft_recorder_destroy(rec);
    return cli_close_device(ctx) || rc ? 1 : 0;
}
