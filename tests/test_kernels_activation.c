/* relu / gelu_tanh / gelu_erf / silu / swiglu forward and backward (shaders/activation.comp) against the
 * C reference on odd sizes; the reference's backward against finite differences in fp64; the GPU against
 * PyTorch on shared inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "model/ops_activation.h"
#include "tests/ref/activation_ref.h"
#include "tests/ref/rows_ref.h"
#include "tests/test_gpu.h"

static const char *const OPS[] = {"relu", "gelu_tanh", "gelu_erf", "silu", "swiglu"};
enum { SWIGLU = 4 };

typedef struct {
    int op, wrt_u;
    size_t n;
    const double *x, *u, *r;
    double *y;
} fd_ctx;

static double fd_loss(void *c, const double *v) {
    fd_ctx *f = c;
    if (f->op == SWIGLU)
        swiglu_forward_ref(f->wrt_u ? f->x : v, f->wrt_u ? v : f->u, f->y, f->n);
    else
        activation_forward_ref(f->op, v, f->y, f->n);
    double l = 0;
    for (size_t i = 0; i < f->n; i++) l += f->y[i] * f->r[i];
    return l;
}

static void check_fd(test_state *t, int op) {
    enum { N = 41 };
    float xf[N], uf[N], rf[N];
    test_fill_uniform(xf, N, 11 + op, -5, 5);
    test_fill_uniform(uf, N, 12 + op, -2, 2);
    test_fill_uniform(rf, N, 13 + op, -1, 1);
    for (int i = 0; i < N; i++)
        if (fabsf(xf[i]) < 1e-3f) xf[i] = 0.5f; /* keep relu away from its kink */
    double x[N], u[N], r[N], y[N], dx[N], du[N];
    for (int i = 0; i < N; i++) x[i] = xf[i], u[i] = uf[i], r[i] = rf[i];
    fd_ctx f = {op, 0, N, x, u, r, y};
    double e = 0, eu = 0;
    if (op == SWIGLU) {
        swiglu_backward_ref(x, u, r, dx, du, N);
        e = rows_fd_check(fd_loss, &f, x, dx, N, 1, 1e-6);
        f.wrt_u = 1;
        eu = rows_fd_check(fd_loss, &f, u, du, N, 1, 1e-6);
    } else {
        activation_backward_ref(op, x, r, dx, N);
        e = rows_fd_check(fd_loss, &f, x, dx, N, 1, 1e-6);
    }
    CHECK(t, e < 1e-7 && eu < 1e-7, "%s backward ref vs finite differences: %.2e %.2e", OPS[op], e, eu);
    printf("fd   %-9s dx %.2e  du %.2e\n", OPS[op], e, eu);
}

typedef struct {
    float *y, *dx, *du;
} gpu_out;

static gpu_out run_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int op, const float *x,
                       const float *u, const float *dy, size_t n) {
    vkft_buf X = test_buf_f32(t, ctx, x, n), U = test_buf_f32(t, ctx, u, n), DY = test_buf_f32(t, ctx, dy, n),
             Y = test_buf_f32(t, ctx, NULL, n), DX = test_buf_f32(t, ctx, NULL, n),
             DU = test_buf_f32(t, ctx, NULL, n);
    uint32_t N = (uint32_t)n;
    int rc = vkft_rec_begin(rec);
    if (!rc && op == SWIGLU)
        rc = vkft_swiglu_forward(rec, X, U, Y, N) || vkft_swiglu_backward(rec, X, U, DY, DX, DU, N);
    else if (!rc)
        rc = vkft_activation_forward(rec, (vkft_activation)op, X, Y, N) ||
             vkft_activation_backward(rec, (vkft_activation)op, X, DY, DX, N);
    rc = rc || vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "%s record/submit: %s", OPS[op], vkft_last_error(ctx));
    gpu_out o = {test_download_f32(t, ctx, Y, n), test_download_f32(t, ctx, DX, n),
                 op == SWIGLU ? test_download_f32(t, ctx, DU, n) : NULL};
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_arena_free(a, X), vkft_arena_free(a, U), vkft_arena_free(a, DY), vkft_arena_free(a, Y);
    vkft_arena_free(a, DX), vkft_arena_free(a, DU);
    return o;
}

static void inputs(float *x, float *u, float *dy, size_t n, uint64_t seed) {
    test_fill_uniform(x, n, seed, -6, 6);
    test_fill_uniform(u, n, seed + 1, -2, 2);
    test_fill_uniform(dy, n, seed + 2, -1, 1);
    static const float special[] = {0.0f, -0.0f, 30.0f, -30.0f, 90.0f, -90.0f, 1e-6f, -1e-6f};
    for (size_t i = 0; i < 8 && i < n; i++) x[n - 1 - i] = special[i];
}

static void check_gpu(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int op, size_t n, uint64_t seed) {
    float *x = malloc(n * 4), *u = malloc(n * 4), *dy = malloc(n * 4);
    inputs(x, u, dy, n, seed);
    gpu_out o = run_gpu(t, ctx, rec, op, x, u, dy, n);
    double *xd = rows_to_double(x, n), *ud = rows_to_double(u, n), *dyd = rows_to_double(dy, n),
           *y = malloc(n * 8), *dx = malloc(n * 8), *du = malloc(n * 8);
    if (op == SWIGLU) {
        swiglu_forward_ref(xd, ud, y, n);
        swiglu_backward_ref(xd, ud, dyd, dx, du, n);
    } else {
        activation_forward_ref(op, xd, y, n);
        activation_backward_ref(op, xd, dyd, dx, n);
    }
    double ey = rows_max_err(o.y, y, n), edx = rows_max_err(o.dx, dx, n),
           edu = op == SWIGLU ? rows_max_err(o.du, du, n) : 0;
    CHECK(t, ey < 2e-6 && edx < 2e-6 && edu < 2e-6, "%s n=%zu: y %.2e dx %.2e du %.2e", OPS[op], n, ey, edx,
          edu);
    printf("gpu  %-9s n=%-6zu y %.2e  dx %.2e  du %.2e (tol 2e-6)\n", OPS[op], n, ey, edx, edu);
    free(o.y), free(o.dx), free(o.du), free(x), free(u), free(dy), free(xd), free(ud), free(dyd), free(y),
        free(dx), free(du);
}

/* In place: y over x in the forward, dx over dy in the backward (the backward reads a saved copy of x). */
static void check_in_place(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, int op, size_t n) {
    float *x = malloc(n * 4), *u = malloc(n * 4), *dy = malloc(n * 4);
    inputs(x, u, dy, n, 900 + op);
    vkft_buf X = test_buf_f32(t, ctx, x, n), XS = test_buf_f32(t, ctx, x, n), U = test_buf_f32(t, ctx, u, n),
             DY = test_buf_f32(t, ctx, dy, n), DU = test_buf_f32(t, ctx, NULL, n);
    uint32_t N = (uint32_t)n;
    int rc = vkft_rec_begin(rec);
    if (!rc && op == SWIGLU)
        rc = vkft_swiglu_forward(rec, X, U, X, N) || vkft_swiglu_backward(rec, XS, U, DY, DY, DU, N);
    else if (!rc)
        rc = vkft_activation_forward(rec, (vkft_activation)op, X, X, N) ||
             vkft_activation_backward(rec, (vkft_activation)op, XS, DY, DY, N);
    rc = rc || vkft_rec_end(rec) || vkft_rec_submit(rec);
    CHECK(t, rc == 0, "%s in place: %s", OPS[op], vkft_last_error(ctx));
    float *y = test_download_f32(t, ctx, X, n), *dx = test_download_f32(t, ctx, DY, n);
    double *xd = rows_to_double(x, n), *ud = rows_to_double(u, n), *dyd = rows_to_double(dy, n),
           *yr = malloc(n * 8), *dxr = malloc(n * 8), *dur = malloc(n * 8);
    if (op == SWIGLU) {
        swiglu_forward_ref(xd, ud, yr, n);
        swiglu_backward_ref(xd, ud, dyd, dxr, dur, n);
    } else {
        activation_forward_ref(op, xd, yr, n);
        activation_backward_ref(op, xd, dyd, dxr, n);
    }
    double ey = rows_max_err(y, yr, n), ed = rows_max_err(dx, dxr, n);
    CHECK(t, ey < 2e-6 && ed < 2e-6, "%s in place n=%zu: y %.2e dx %.2e", OPS[op], n, ey, ed);
    printf("gpu  %-9s n=%-6zu in place  y %.2e  dx %.2e\n", OPS[op], n, ey, ed);
    vkft_arena *a = vkft_default_arena(ctx);
    vkft_arena_free(a, X), vkft_arena_free(a, XS), vkft_arena_free(a, U), vkft_arena_free(a, DY),
        vkft_arena_free(a, DU);
    free(x), free(u), free(dy), free(y), free(dx), free(xd), free(ud), free(dyd), free(yr), free(dxr),
        free(dur);
}

static double cmp_torch(test_state *t, const char *dir, const char *name, const float *got, size_t n) {
    char path[512];
    size_t nt;
    snprintf(path, sizeof path, "%s/%s.f32", dir, name);
    float *want = test_read_f32(path, &nt);
    if (!CHECK(t, want && nt == n, "%s: %zu values, %zu expected", path, nt, n)) return INFINITY;
    double *wd = rows_to_double(want, n), e = rows_max_err(got, wd, n);
    free(want), free(wd);
    return e;
}

static void check_torch(test_state *t, vkft_ctx *ctx, vkft_recorder *rec, size_t n) {
    char dir[256], path[512], args[768], name[64];
    if (!CHECK(t, test_tmpdir(dir, sizeof dir) != NULL, "tmpdir")) return;
    float *x = malloc(n * 4), *u = malloc(n * 4), *dy = malloc(n * 4);
    inputs(x, u, dy, n, 77);
    snprintf(path, sizeof path, "%s/x.f32", dir), test_write_f32(path, x, n);
    snprintf(path, sizeof path, "%s/u.f32", dir), test_write_f32(path, u, n);
    snprintf(path, sizeof path, "%s/dy.f32", dir), test_write_f32(path, dy, n);
    snprintf(args, sizeof args, "%s %zu", dir, n);
    if (CHECK(t, test_run_reference("activation.py", args) == 0, "activation.py failed"))
        for (int op = 0; op <= SWIGLU; op++) {
            gpu_out o = run_gpu(t, ctx, rec, op, x, u, dy, n);
            snprintf(name, sizeof name, "y_%s", OPS[op]);
            double ey = cmp_torch(t, dir, name, o.y, n);
            snprintf(name, sizeof name, "dx_%s", OPS[op]);
            double edx = cmp_torch(t, dir, name, o.dx, n);
            double edu = op == SWIGLU ? cmp_torch(t, dir, "du_swiglu", o.du, n) : 0;
            CHECK(t, ey < 2e-6 && edx < 2e-6 && edu < 2e-6, "%s vs torch: y %.2e dx %.2e du %.2e", OPS[op],
                  ey, edx, edu);
            printf("torch %-9s n=%zu  y %.2e  dx %.2e  du %.2e\n", OPS[op], n, ey, edx, edu);
            free(o.y), free(o.dx), free(o.du);
        }
    free(x), free(u), free(dy);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_kernels_activation");
    for (int op = 0; op <= SWIGLU; op++) check_fd(&t, op);
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    static const size_t sizes[] = {1, 7, 33, 129, 576, 1048583, 100004}; /* 576, 100004: the vec4 kernels */
    for (int op = 0; op <= SWIGLU; op++)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            check_gpu(&t, ctx, rec, op, sizes[i], 31 * op + i);
    for (int op = 0; op <= SWIGLU; op++) check_in_place(&t, ctx, rec, op, op % 2 ? 576 : 33);
    check_torch(&t, ctx, rec, 4099);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
