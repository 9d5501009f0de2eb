/* LoRA, bottleneck adapter and DoRA (model/ops_lora.c) against the C references (tests/ref/lora_ref.c)
 * at odd sizes, the references' backward against finite differences in fp64, and LoRA and DoRA against
 * PyTorch (PEFT's formulas).
 * Tolerances: GPU vs reference max |d| / max(1, |ref|) <= 2e-4 (fp32 products of length <= 130);
 * finite differences (central, h = 1e-6, fp64) <= 1e-6 relative to max(1, |grad|). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_lora.h"
#include "tests/ref/lora_ref.h"
#include "tests/ref/matmul_ref.h"
#include "tests/test_gpu.h"

#define GPU_TOL 2e-4
#define FD_TOL 1e-6

/* A host tensor: fp32 for the device, fp64 for the reference (the same values). */
typedef struct {
    size_t n;
    float *f;
    double *d;
} tensor;

static tensor make(size_t n, uint64_t seed, float lo, float hi) {
    tensor t = {n, calloc(n ? n : 1, 4), calloc(n ? n : 1, 8)};
    if (hi > lo) test_fill_uniform(t.f, n, seed, lo, hi);
    for (size_t i = 0; i < n; i++) t.d[i] = t.f[i];
    return t;
}
static void drop(tensor *t) { free(t->f), free(t->d); }

static double max_err_d(const float *got, const double *want, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / fmax(1.0, fabs(want[i]));
        if (!(e <= m)) m = e;
    }
    return m;
}

/* Downloads buf and compares it with the reference. */
static void compare(test_state *t, vkft_ctx *ctx, const char *what, vkft_buf buf, const double *want,
                    size_t n, double tol) {
    float *got = test_download_f32(t, ctx, buf, n);
    double err = max_err_d(got, want, n);
    printf("    %-5s max rel err %.2e\n", what, err);
    CHECK(t, err <= tol, "%s: max rel err %.3g > %.1g", what, err, tol);
    free(got);
}

static vkft_buf up(test_state *t, vkft_ctx *ctx, const tensor *x) { return test_buf_f32(t, ctx, x->f, x->n); }

/* Central difference of L(p) = sum(dy * y(p)) with respect to p[i]. */
typedef double (*loss_fn)(void *state);
static double fd(loss_fn L, void *state, double *p, size_t i) {
    double h = 1e-6, keep = p[i];
    p[i] = keep + h;
    double lp = L(state);
    p[i] = keep - h;
    double lm = L(state);
    p[i] = keep;
    return (lp - lm) / (2 * h);
}

static void fd_check(test_state *t, const char *what, loss_fn L, void *state, double *p, const double *grad,
                     size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs(fd(L, state, p, i) - grad[i]) / fmax(1.0, fabs(grad[i]));
        if (!(e <= worst)) worst = e;
    }
    printf("    finite differences %-4s max rel err %.2e\n", what, worst);
    CHECK(t, worst <= FD_TOL, "finite differences of %s: %.3g > %.0e", what, worst, FD_TOL);
}

/* ---- LoRA ------------------------------------------------------------------------------------ */

typedef struct {
    int T, in, out, r;
    double s;
    tensor x, W, bias, A, B, dy, m;
    double *n_fixed; /* DoRA: norms held constant */
    int dora;
} lora_case;

static double lora_loss(void *p) {
    lora_case *c = p;
    double *y = malloc(sizeof(double) * c->T * c->out), L = 0;
    if (c->dora)
        dora_forward_ref(c->T, c->in, c->out, c->r, c->s, c->x.d, c->W.d, c->bias.d, c->A.d, c->B.d, c->m.d,
                         c->n_fixed, NULL, y);
    else
        lora_forward_ref(c->T, c->in, c->out, c->r, c->s, c->x.d, c->W.d, c->bias.d, c->A.d, c->B.d, NULL, y);
    for (size_t i = 0; i < (size_t)c->T * c->out; i++) L += y[i] * c->dy.d[i];
    free(y);
    return L;
}

static void lora_setup(lora_case *c, int T, int in, int out, int r, uint64_t seed, int dora) {
    memset(c, 0, sizeof *c);
    c->T = T, c->in = in, c->out = out, c->r = r, c->s = 2.0 / r, c->dora = dora;
    c->x = make((size_t)T * in, seed, -1, 1);
    c->W = make((size_t)out * in, seed + 1, -0.5f, 0.5f);
    c->bias = make(out, seed + 2, -1, 1);
    c->A = make((size_t)r * in, seed + 3, -0.5f, 0.5f);
    c->B = make((size_t)out * r, seed + 4, -0.5f, 0.5f);
    c->dy = make((size_t)T * out, seed + 5, -1, 1);
    c->m = make(out, seed + 6, 0.5f, 1.5f);
}

static void lora_free(lora_case *c) {
    drop(&c->x), drop(&c->W), drop(&c->bias), drop(&c->A), drop(&c->B), drop(&c->dy), drop(&c->m);
    free(c->n_fixed);
}

/* The references' gradients against finite differences (fp64). */
static void lora_fd(test_state *t, int dora) {
    lora_case c;
    lora_setup(&c, 5, 7, 6, 3, dora ? 700 : 600, dora);
    printf("  %s reference backward, T=5 in=7 out=6 r=3\n", dora ? "DoRA" : "LoRA");
    size_t nx = c.x.n, nA = c.A.n, nB = c.B.n;
    double *dx = malloc(8 * nx), *dA = malloc(8 * nA), *dB = malloc(8 * nB), *dm = malloc(8 * c.out);
    if (dora) {
        c.n_fixed = malloc(8 * c.out);
        double *y = malloc(8 * (size_t)c.T * c.out);
        dora_forward_ref(c.T, c.in, c.out, c.r, c.s, c.x.d, c.W.d, c.bias.d, c.A.d, c.B.d, c.m.d, NULL,
                         c.n_fixed, y);
        free(y);
        dora_backward_ref(c.T, c.in, c.out, c.r, c.s, c.x.d, c.W.d, c.A.d, c.B.d, c.m.d, c.dy.d, dx, dA, dB,
                          dm);
        fd_check(t, "dm", lora_loss, &c, c.m.d, dm, c.out);
    } else {
        lora_backward_ref(c.T, c.in, c.out, c.r, c.s, c.x.d, c.W.d, c.A.d, c.B.d, c.dy.d, dx, dA, dB);
    }
    fd_check(t, "dx", lora_loss, &c, c.x.d, dx, nx);
    fd_check(t, "dA", lora_loss, &c, c.A.d, dA, nA);
    fd_check(t, "dB", lora_loss, &c, c.B.d, dB, nB);
    free(dx), free(dA), free(dB), free(dm);
    lora_free(&c);
}

static void lora_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int T, int in, int out, int r,
                     vkft_mm_btype w_type, int dora, uint64_t seed) {
    lora_case c;
    lora_setup(&c, T, in, out, r, seed, dora);
    printf("  %s T=%d in=%d out=%d r=%d W %s\n", dora ? "DoRA" : "LoRA", T, in, out, r,
           w_type == VKFT_MM_B_F16    ? "f16"
           : w_type == VKFT_MM_B_BF16 ? "bf16"
                                      : "f32");
    /* frozen weights in 16 bits: the reference uses the same rounded values */
    uint16_t *W16 = malloc(c.W.n * 2 + 4);
    for (size_t i = 0; i < c.W.n && w_type != VKFT_MM_B_F32; i++) {
        W16[i] = w_type == VKFT_MM_B_F16 ? f32_to_f16(c.W.f[i]) : f32_to_bf16(c.W.f[i]);
        c.W.d[i] = w_type == VKFT_MM_B_F16 ? f16_to_f32(W16[i]) : bf16_to_f32(W16[i]);
    }
    size_t ny = (size_t)T * out, nh = (size_t)T * r;
    double *y = malloc(8 * ny), *h = malloc(8 * nh), *dx = malloc(8 * c.x.n), *dA = malloc(8 * c.A.n);
    double *dB = malloc(8 * c.B.n), *dm = malloc(8 * out), *n = malloc(8 * out);
    if (dora) {
        dora_forward_ref(T, in, out, r, c.s, c.x.d, c.W.d, c.bias.d, c.A.d, c.B.d, c.m.d, NULL, n, y);
        dora_backward_ref(T, in, out, r, c.s, c.x.d, c.W.d, c.A.d, c.B.d, c.m.d, c.dy.d, dx, dA, dB, dm);
    } else {
        lora_forward_ref(T, in, out, r, c.s, c.x.d, c.W.d, c.bias.d, c.A.d, c.B.d, h, y);
        lora_backward_ref(T, in, out, r, c.s, c.x.d, c.W.d, c.A.d, c.B.d, c.dy.d, dx, dA, dB);
    }

    vkft_lora_dims d = {T, in, out, r, (float)c.s, w_type};
    vkft_buf bx = up(t, ctx, &c.x), bW, bbias = up(t, ctx, &c.bias), bA = up(t, ctx, &c.A),
             bB = up(t, ctx, &c.B);
    if (w_type == VKFT_MM_B_F32) {
        bW = up(t, ctx, &c.W);
    } else {
        bW = test_buf_f32(t, ctx, NULL, (c.W.n + 1) / 2);
        vkft_upload(ctx, bW, 0, W16, (c.W.n * 2 + 3) / 4 * 4);
    }
    vkft_buf bdy = up(t, ctx, &c.dy), bm = up(t, ctx, &c.m);
    vkft_buf by = test_buf_f32(t, ctx, NULL, ny), bh = test_buf_f32(t, ctx, NULL, nh);
    vkft_buf bdx = test_buf_f32(t, ctx, NULL, c.x.n), bdA = test_buf_f32(t, ctx, NULL, c.A.n);
    vkft_buf bdB = test_buf_f32(t, ctx, NULL, c.B.n), bdh = test_buf_f32(t, ctx, NULL, nh);
    vkft_buf bu = test_buf_f32(t, ctx, NULL, ny), bg = test_buf_f32(t, ctx, NULL, out);
    vkft_buf bn = test_buf_f32(t, ctx, NULL, out), bdm = test_buf_f32(t, ctx, NULL, out);
    vkft_buf work = test_buf_f32(t, ctx, NULL, vkft_dora_workspace_floats(&d));
    int rc = vkft_rec_begin(rec);
    if (dora)
        rc = rc || vkft_dora_forward(rec, &d, bx, bW, bbias, bA, bB, bm, bh, bu, bg, bn, by, work) ||
             vkft_dora_backward(rec, &d, bx, bW, bA, bB, bh, bu, bg, bn, bdy, bdx, bdA, bdB, bdm, bdh, work);
    else
        rc = rc || vkft_lora_forward(rec, &d, bx, bW, bbias, bA, bB, bh, by) ||
             vkft_lora_backward(rec, &d, bx, bW, bA, bB, bh, bdy, bdx, bdA, bdB, bdh);
    rc = rc || vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, !rc, "%s: %s", dora ? "dora" : "lora", vkft_last_error(ctx));
    if (!rc) {
        compare(t, ctx, "y", by, y, ny, GPU_TOL);
        if (!dora) compare(t, ctx, "h", bh, h, nh, GPU_TOL);
        if (dora) compare(t, ctx, "norm", bn, n, out, GPU_TOL);
        if (dora) compare(t, ctx, "dm", bdm, dm, out, GPU_TOL);
        compare(t, ctx, "dx", bdx, dx, c.x.n, GPU_TOL);
        compare(t, ctx, "dA", bdA, dA, c.A.n, GPU_TOL);
        compare(t, ctx, "dB", bdB, dB, c.B.n, GPU_TOL);
    }
    vkft_arena *ar = vkft_default_arena(ctx);
    vkft_buf all[] = {bx, bW, bbias, bA, bB, bdy, bm, by, bh, bdx, bdA, bdB, bdh, bu, bg, bn, bdm, work};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) vkft_arena_free(ar, all[i]);
    free(W16), free(y), free(h), free(dx), free(dA), free(dB), free(dm), free(n);
    lora_free(&c);
}

/* ---- bottleneck adapter ------------------------------------------------------------------------ */

typedef struct {
    int T, C, r, act;
    tensor h, Wd, bd, Wu, bu, dy;
} adapter_case;

static double adapter_loss(void *p) {
    adapter_case *c = p;
    double *y = malloc(sizeof(double) * c->T * c->C), L = 0;
    adapter_forward_ref(c->T, c->C, c->r, c->act, c->h.d, c->Wd.d, c->bd.d, c->Wu.d, c->bu.d, NULL, y);
    for (size_t i = 0; i < (size_t)c->T * c->C; i++) L += y[i] * c->dy.d[i];
    free(y);
    return L;
}

static void adapter_setup(adapter_case *c, int T, int C, int r, int act, uint64_t seed) {
    c->T = T, c->C = C, c->r = r, c->act = act;
    c->h = make((size_t)T * C, seed, -1, 1);
    c->Wd = make((size_t)r * C, seed + 1, -0.5f, 0.5f);
    c->bd = make(r, seed + 2, -0.5f, 0.5f);
    c->Wu = make((size_t)C * r, seed + 3, -0.5f, 0.5f);
    c->bu = make(C, seed + 4, -0.5f, 0.5f);
    c->dy = make((size_t)T * C, seed + 5, -1, 1);
}

static void adapter_free(adapter_case *c) {
    drop(&c->h), drop(&c->Wd), drop(&c->bd), drop(&c->Wu), drop(&c->bu), drop(&c->dy);
}

static void adapter_run(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int T, int C, int r, int act,
                        uint64_t seed) {
    adapter_case c;
    adapter_setup(&c, T, C, r, act, seed);
    printf("  adapter T=%d C=%d r=%d act=%s\n", T, C, r, act ? "gelu" : "relu");
    size_t ny = (size_t)T * C, nz = (size_t)T * r;
    double *y = malloc(8 * ny), *z = malloc(8 * nz), *dh = malloc(8 * ny), *dWd = malloc(8 * c.Wd.n);
    double *dbd = malloc(8 * r), *dWu = malloc(8 * c.Wu.n), *dbu = malloc(8 * C);
    adapter_forward_ref(T, C, r, act, c.h.d, c.Wd.d, c.bd.d, c.Wu.d, c.bu.d, z, y);
    adapter_backward_ref(T, C, r, act, c.h.d, c.Wd.d, c.bd.d, c.Wu.d, c.dy.d, dh, dWd, dbd, dWu, dbu);
    if (T * C <= 64) { /* the reference's backward against finite differences */
        fd_check(t, "dh", adapter_loss, &c, c.h.d, dh, c.h.n);
        fd_check(t, "dWd", adapter_loss, &c, c.Wd.d, dWd, c.Wd.n);
        fd_check(t, "dbd", adapter_loss, &c, c.bd.d, dbd, c.bd.n);
        fd_check(t, "dWu", adapter_loss, &c, c.Wu.d, dWu, c.Wu.n);
        fd_check(t, "dbu", adapter_loss, &c, c.bu.d, dbu, c.bu.n);
    }
    vkft_adapter_dims d = {T, C, r, act};
    vkft_buf bh = up(t, ctx, &c.h), bWd = up(t, ctx, &c.Wd), bbd = up(t, ctx, &c.bd), bWu = up(t, ctx, &c.Wu);
    vkft_buf bbu = up(t, ctx, &c.bu), bdy = up(t, ctx, &c.dy);
    vkft_buf bz = test_buf_f32(t, ctx, NULL, nz), ba = test_buf_f32(t, ctx, NULL, nz);
    vkft_buf by = test_buf_f32(t, ctx, NULL, ny), bdh = test_buf_f32(t, ctx, NULL, ny);
    vkft_buf bdWd = test_buf_f32(t, ctx, NULL, c.Wd.n), bdbd = test_buf_f32(t, ctx, NULL, r);
    vkft_buf bdWu = test_buf_f32(t, ctx, NULL, c.Wu.n), bdbu = test_buf_f32(t, ctx, NULL, C);
    vkft_buf work = test_buf_f32(t, ctx, NULL, vkft_adapter_workspace_floats(&d));
    int rc = vkft_rec_begin(rec) || vkft_adapter_forward(rec, &d, bh, bWd, bbd, bWu, bbu, bz, ba, by) ||
             vkft_adapter_backward(rec, &d, bh, bWd, bWu, bz, ba, bdy, bdh, bdWd, bdbd, bdWu, bdbu, work) ||
             vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, !rc, "adapter: %s", vkft_last_error(ctx));
    if (!rc) {
        compare(t, ctx, "y", by, y, ny, GPU_TOL);
        compare(t, ctx, "z", bz, z, nz, GPU_TOL);
        compare(t, ctx, "dh", bdh, dh, ny, GPU_TOL);
        compare(t, ctx, "dWd", bdWd, dWd, c.Wd.n, GPU_TOL);
        compare(t, ctx, "dbd", bdbd, dbd, r, GPU_TOL);
        compare(t, ctx, "dWu", bdWu, dWu, c.Wu.n, GPU_TOL);
        compare(t, ctx, "dbu", bdbu, dbu, C, GPU_TOL);
    }
    vkft_arena *ar = vkft_default_arena(ctx);
    vkft_buf all[] = {bh, bWd, bbd, bWu, bbu, bdy, bz, ba, by, bdh, bdWd, bdbd, bdWu, bdbu, work};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) vkft_arena_free(ar, all[i]);
    free(y), free(z), free(dh), free(dWd), free(dbd), free(dWu), free(dbu);
    adapter_free(&c);
}

/* ---- PyTorch: LoRA and DoRA forward and backward on shared inputs (tests/reference/lora.py) ------ */

static void lora_pytorch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int dora) {
    const int T = 19, in = 37, out = 23, r = 4;
    const float s = 8.0f / r;
    const char *what = dora ? "DoRA" : "LoRA";
    char dir[256], path[512], args[700];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "mkdtemp")) return;
    lora_case c;
    lora_setup(&c, T, in, out, r, 900, dora);
    struct {
        const char *name;
        tensor *x;
    } ins[] = {{"x", &c.x}, {"w", &c.W},   {"bias", &c.bias}, {"a", &c.A},
               {"b", &c.B}, {"dy", &c.dy}, {"m", &c.m}};
    for (int i = 0; i < 7; i++) {
        snprintf(path, sizeof path, "%s/%s.f32", dir, ins[i].name);
        test_write_f32(path, ins[i].x->f, ins[i].x->n);
    }
    snprintf(args, sizeof args, "'%s' %d %d %d %d %.9g%s", dir, T, in, out, r, s, dora ? " dora" : "");
    int rc = test_run_reference("lora.py", args);
    if (CHECK(t, rc == 0, "tests/reference/lora.py (%s) failed (%d)", what, rc)) {
        vkft_lora_dims d = {T, in, out, r, s, VKFT_MM_B_F32};
        vkft_buf bx = up(t, ctx, &c.x), bW = up(t, ctx, &c.W), bbias = up(t, ctx, &c.bias);
        vkft_buf bA = up(t, ctx, &c.A), bB = up(t, ctx, &c.B), bdy = up(t, ctx, &c.dy), bm = up(t, ctx, &c.m);
        vkft_buf by = test_buf_f32(t, ctx, NULL, (size_t)T * out),
                 bh = test_buf_f32(t, ctx, NULL, (size_t)T * r);
        vkft_buf bdx = test_buf_f32(t, ctx, NULL, c.x.n), bdA = test_buf_f32(t, ctx, NULL, c.A.n);
        vkft_buf bdB = test_buf_f32(t, ctx, NULL, c.B.n), bdh = test_buf_f32(t, ctx, NULL, (size_t)T * r);
        vkft_buf bu = test_buf_f32(t, ctx, NULL, (size_t)T * out), bg = test_buf_f32(t, ctx, NULL, out);
        vkft_buf bn = test_buf_f32(t, ctx, NULL, out), bdm = test_buf_f32(t, ctx, NULL, out);
        vkft_buf work = test_buf_f32(t, ctx, NULL, vkft_dora_workspace_floats(&d));
        rc = vkft_rec_begin(rec);
        if (dora)
            rc = rc || vkft_dora_forward(rec, &d, bx, bW, bbias, bA, bB, bm, bh, bu, bg, bn, by, work) ||
                 vkft_dora_backward(rec, &d, bx, bW, bA, bB, bh, bu, bg, bn, bdy, bdx, bdA, bdB, bdm, bdh,
                                    work);
        else
            rc = rc || vkft_lora_forward(rec, &d, bx, bW, bbias, bA, bB, bh, by) ||
                 vkft_lora_backward(rec, &d, bx, bW, bA, bB, bh, bdy, bdx, bdA, bdB, bdh);
        rc = rc || vkft_rec_end(rec) || vkft_rec_submit(rec);
        CHECK(t, !rc, "%s: %s", what, vkft_last_error(ctx));
        struct {
            const char *name;
            vkft_buf buf;
            size_t n;
        } outs[] = {{"y", by, (size_t)T * out},
                    {"dx", bdx, c.x.n},
                    {"da", bdA, c.A.n},
                    {"db", bdB, c.B.n},
                    {"dm", bdm, (size_t)out}};
        for (int i = 0; i < (dora ? 5 : 4) && !rc; i++) {
            size_t n;
            snprintf(path, sizeof path, "%s/out_%s.f32", dir, outs[i].name);
            float *want = test_read_f32(path, &n), *got = test_download_f32(t, ctx, outs[i].buf, outs[i].n);
            if (CHECK(t, want && n == outs[i].n, "%s: %zu values, expected %zu", path, n, outs[i].n)) {
                double err = test_max_rel_err(got, want, n);
                printf("  PyTorch %s %-2s max rel err %.2e\n", what, outs[i].name, err);
                CHECK(t, err <= 1e-5, "PyTorch %s %s: %.3g > 1e-5", what, outs[i].name, err);
            }
            free(want), free(got);
        }
        vkft_arena *ar = vkft_default_arena(ctx);
        vkft_buf all[] = {bx, bW, bbias, bA, bB, bdy, bm, by, bh, bdx, bdA, bdB, bdh, bu, bg, bn, bdm, work};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) vkft_arena_free(ar, all[i]);
    }
    lora_free(&c);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_lora");
    lora_fd(&t, 0);
    lora_fd(&t, 1);
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const int sizes[][4] = {{1, 1, 1, 1}, {7, 33, 17, 4}, {33, 65, 129, 8}, {129, 70, 36, 16}};
    for (int i = 0; i < 4; i++)
        lora_gpu(&t, ctx, rec, sizes[i][0], sizes[i][1], sizes[i][2], sizes[i][3], 0, 0, 10 + i);
    lora_gpu(&t, ctx, rec, 33, 64, 72, 8, VKFT_MM_B_F16, 0, 20);
    lora_gpu(&t, ctx, rec, 17, 40, 24, 4, VKFT_MM_B_BF16, 0, 21);
    for (int i = 0; i < 4; i++)
        lora_gpu(&t, ctx, rec, sizes[i][0], sizes[i][1], sizes[i][2], sizes[i][3], 0, 1, 30 + i);
    adapter_run(&t, ctx, rec, 4, 6, 3, VKFT_ADAPTER_GELU, 40);
    adapter_run(&t, ctx, rec, 4, 6, 3, VKFT_ADAPTER_RELU, 41);
    adapter_run(&t, ctx, rec, 1, 1, 1, VKFT_ADAPTER_GELU, 42);
    adapter_run(&t, ctx, rec, 33, 129, 7, VKFT_ADAPTER_GELU, 43);
    adapter_run(&t, ctx, rec, 70, 65, 16, VKFT_ADAPTER_RELU, 44);
    lora_pytorch(&t, ctx, rec, 0);
    lora_pytorch(&t, ctx, rec, 1);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
