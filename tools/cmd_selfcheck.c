/* vkft selfcheck: runs the kernels on the chosen device and compares them with their CPU references,
 * at awkward sizes. The quickest way to see that a machine's Vulkan driver computes what vkft expects. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_basic.h"
#include "tests/ref/basic_ref.h"
#include "tools/cli.h"
#include "tools/commands.h"

typedef struct {
    vkft_ctx *ctx;
    vkft_arena *arena;
    vkft_recorder *rec;
    int failures, checks;
} check_state;

static void report(check_state *s, const char *what, uint32_t n, double err, double tol) {
    int ok = err <= tol;
    s->checks++;
    if (!ok) s->failures++;
    printf("  %-8s n=%-8u max rel. error %.2e (tolerance %.0e)  %s\n", what, n, err, tol, ok ? "ok" : "FAIL");
}

static double max_rel(const float *a, const float *b, uint32_t n) {
    double m = 0;
    for (uint32_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
    }
    return m;
}

static int run_size(check_state *s, uint32_t n, uint64_t seed) {
    size_t bytes = (size_t)n * 4;
    float *a = malloc(bytes), *b = malloc(bytes), *got = malloc(bytes), *want = malloc(bytes);
    for (uint32_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = (float)((seed >> 40) / 16777216.0 * 2 - 1);
        b[i] = (float)((seed >> 20 & 0xfffff) / 1048576.0 * 2 - 1);
    }
    vkft_buf A, B, C, scratch, out;
    int rc = -1;
    if (vkft_arena_alloc(s->arena, bytes, &A) || vkft_arena_alloc(s->arena, bytes, &B) ||
        vkft_arena_alloc(s->arena, bytes, &C) ||
        vkft_arena_alloc(s->arena, vkft_sum_scratch_floats() * 4, &scratch) || vkft_arena_alloc(s->arena, 4, &out))
        goto done;
    if (vkft_upload(s->ctx, A, 0, a, bytes) || vkft_upload(s->ctx, B, 0, b, bytes)) goto done;

    /* fill, then add, then scale in place, then sum: one recording, barriers from the recorder */
    if (vkft_rec_begin(s->rec) || vkft_fill_f32(s->rec, C, n, 0.5f) || vkft_rec_end(s->rec) ||
        vkft_rec_submit(s->rec) || vkft_download(s->ctx, C, 0, got, bytes))
        goto done;
    fill_ref(want, n, 0.5f);
    report(s, "fill", n, max_rel(got, want, n), 0);
    if (vkft_rec_begin(s->rec) || vkft_add_f32(s->rec, A, B, C, n) || vkft_rec_end(s->rec) ||
        vkft_rec_submit(s->rec) || vkft_download(s->ctx, C, 0, got, bytes))
        goto done;
    add_ref(a, b, want, n);
    report(s, "add", n, max_rel(got, want, n), 0);
    if (vkft_rec_begin(s->rec) || vkft_scale_f32(s->rec, A, A, n, -1.75f) || vkft_rec_end(s->rec) ||
        vkft_rec_submit(s->rec) || vkft_download(s->ctx, A, 0, got, bytes))
        goto done;
    scale_ref(a, want, n, -1.75f);
    report(s, "scale", n, max_rel(got, want, n), 0);
    float sum = 0;
    if (vkft_rec_begin(s->rec) || vkft_sum_f32(s->rec, B, n, scratch, out) || vkft_rec_end(s->rec) ||
        vkft_rec_submit(s->rec) || vkft_download(s->ctx, out, 0, &sum, 4))
        goto done;
    double ref = sum_ref(b, n);
    /* fp32 partial sums of n values in [-1, 1]: error grows about like sqrt(n) * eps. */
    report(s, "sum", n, fabs(sum - ref) / fmax(1.0, fabs(ref)), 1e-5 * (1 + sqrt((double)n) / 16));
    rc = 0;
done:
    vkft_arena_free(s->arena, A);
    vkft_arena_free(s->arena, B);
    vkft_arena_free(s->arena, C);
    vkft_arena_free(s->arena, scratch);
    vkft_arena_free(s->arena, out);
    free(a), free(b), free(got), free(want);
    return rc;
}

int cmd_selfcheck(int argc, char **argv) {
    const char *device = NULL;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vkft selfcheck [--device N|NAME]\n\n"
                   "Runs vkft's kernels on the device at awkward sizes and compares every result with the\n"
                   "CPU reference; exits non-zero on any mismatch or Vulkan validation message\n"
                   "(VKFT_VALIDATION=1 turns the validation layer on).\n");
            return 0;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else {
            if (!bad) fprintf(stderr, "vkft selfcheck: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    check_state s = {0};
    s.ctx = cli_open_device(device);
    if (!s.ctx) return 1;
    printf("selfcheck on %s\n", vkft_device(s.ctx)->name);
    s.arena = vkft_default_arena(s.ctx);
    s.rec = vkft_recorder_create(s.ctx);
    static const uint32_t sizes[] = {1, 7, 33, 129, 1000, 65537, 1 << 20};
    int rc = s.rec ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < sizeof sizes / sizeof sizes[0]; i++) rc = run_size(&s, sizes[i], 42 + i);
    if (rc) fprintf(stderr, "vkft selfcheck: %s\n", vkft_last_error(s.ctx));
    vkft_recorder_destroy(s.rec);
    int validation = cli_close_device(s.ctx);
    printf("selfcheck: %d checks, %d failed%s\n", s.checks, s.failures, validation ? ", validation messages" : "");
    return rc || s.failures || validation ? 1 : 0;
}
