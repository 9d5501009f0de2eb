#include "model/ops_activation.h"

#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t n;
} push_activation;

static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

/* Row i*2 is the forward of op i, row i*2+1 its backward; op i is specialization constant 1. */
#define ACT_ROWS(nm, op)                                                                                         \
    {.name = nm "_forward", .shader = "activation", .variants = {"forward"},                                    \
     .push_size = sizeof(push_activation), .spec = {0, op}, .spec_count = 2, .specialize = spec_elementwise},    \
    {.name = nm "_backward", .shader = "activation", .variants = {"backward"},                                  \
     .push_size = sizeof(push_activation), .spec = {0, op}, .spec_count = 2, .specialize = spec_elementwise}
enum { OP_SWIGLU = 4, K_COUNT = 10 };
static const vkft_kernel_def kernels[K_COUNT] = {
    ACT_ROWS("relu", 0), ACT_ROWS("gelu_tanh", 1), ACT_ROWS("gelu_erf", 2), ACT_ROWS("silu", 3),
    ACT_ROWS("swiglu", OP_SWIGLU),
};

const vkft_kernel_def *vkft_activation_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

const char *vkft_activation_name(vkft_activation act) {
    static const char *names[] = {"relu", "gelu_tanh", "gelu_erf", "silu"};
    return (unsigned)act < 4 ? names[act] : NULL;
}

static uint32_t groups(vkft_recorder *rec, const vkft_kernel_def *k, uint32_t n) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), k);
    uint32_t wg = p ? vkft_pipeline_spec(p)[0] : 1, g = vkft_groups(n, wg);
    return g == 0 ? 1 : g > 4096 ? 4096 : g; /* the shader's grid-stride loop covers the rest */
}

static int check_act(vkft_recorder *rec, vkft_activation act) {
    if ((unsigned)act >= 4) return vkft_set_error(vkft_rec_ctx(rec), "activation: unknown kind %d", (int)act);
    return 0;
}

int vkft_activation_forward(vkft_recorder *rec, vkft_activation act, vkft_buf x, vkft_buf y, uint32_t n) {
    if (check_act(rec, act)) return -1;
    const vkft_kernel_def *k = &kernels[2 * act];
    push_activation p = {n};
    vkft_binding b[] = {{x, VKFT_READ}, {x, VKFT_READ}, {y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 3);
}

int vkft_activation_backward(vkft_recorder *rec, vkft_activation act, vkft_buf x, vkft_buf dy, vkft_buf dx,
                             uint32_t n) {
    if (check_act(rec, act)) return -1;
    const vkft_kernel_def *k = &kernels[2 * act + 1];
    push_activation p = {n};
    /* du (binding 4) is not written by these ops: dx is bound there too. */
    vkft_binding b[] = {{x, VKFT_READ}, {x, VKFT_READ}, {dy, VKFT_READ}, {dx, VKFT_WRITE}, {dx, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 5);
}

int vkft_swiglu_forward(vkft_recorder *rec, vkft_buf g, vkft_buf u, vkft_buf y, uint32_t n) {
    const vkft_kernel_def *k = &kernels[2 * OP_SWIGLU];
    push_activation p = {n};
    vkft_binding b[] = {{g, VKFT_READ}, {u, VKFT_READ}, {y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 3);
}

int vkft_swiglu_backward(vkft_recorder *rec, vkft_buf g, vkft_buf u, vkft_buf dy, vkft_buf dg, vkft_buf du,
                         uint32_t n) {
    const vkft_kernel_def *k = &kernels[2 * OP_SWIGLU + 1];
    push_activation p = {n};
    vkft_binding b[] = {{g, VKFT_READ}, {u, VKFT_READ}, {dy, VKFT_READ}, {dg, VKFT_WRITE}, {du, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 5);
}
