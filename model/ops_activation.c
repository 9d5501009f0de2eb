#include "model/ops_activation.h"

#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t n;
} push_activation;

static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

/* Rows 4i .. 4i+3: forward, backward, and their vec4 variants (4 elements per load, used when n % 4 == 0
 * and every buffer is 16-byte aligned) of op i; op i is specialization constant 1. */
#define ACT_ROW(nm, variant, op)                                                                             \
    {                                                                                                        \
        .name = nm, .shader = "activation", .variants = {variant}, .push_size = sizeof(push_activation),     \
        .spec = {0, op}, .spec_count = 2, .specialize = spec_elementwise                                     \
    }
#define ACT_ROWS(nm, op)                                                                                     \
    ACT_ROW(nm "_forward", "forward", op), ACT_ROW(nm "_backward", "backward", op),                          \
        ACT_ROW(nm "_forward_vec4", "forward_vec4", op), ACT_ROW(nm "_backward_vec4", "backward_vec4", op)
enum { OP_SWIGLU = 4, K_COUNT = 20 };
static const vkft_kernel_def kernels[K_COUNT] = {
    ACT_ROWS("relu", 0), ACT_ROWS("gelu_tanh", 1),      ACT_ROWS("gelu_erf", 2),
    ACT_ROWS("silu", 3), ACT_ROWS("swiglu", OP_SWIGLU),
};

/* The kernel of op `op`, pass `backward`, vectorized when every buffer allows it. */
static const vkft_kernel_def *pick(int op, int backward, uint32_t n, const vkft_buf *bufs, int count) {
    int vec4 = n % 4 == 0;
    for (int i = 0; i < count; i++) vec4 = vec4 && bufs[i].offset % 16 == 0;
    return &kernels[4 * op + 2 * vec4 + backward];
}

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
    uint32_t per = strstr(k->name, "_vec4") ? 4 : 1, wg = p ? vkft_pipeline_spec(p)[0] : 1;
    uint32_t g = vkft_groups(vkft_groups(n, per), wg);
    return g == 0 ? 1 : g > 4096 ? 4096 : g; /* the shader's grid-stride loop covers the rest */
}

static int check_act(vkft_recorder *rec, vkft_activation act) {
    if ((unsigned)act >= 4) return vkft_set_error(vkft_rec_ctx(rec), "activation: unknown kind %d", (int)act);
    return 0;
}

int vkft_activation_forward(vkft_recorder *rec, vkft_activation act, vkft_buf x, vkft_buf y, uint32_t n) {
    if (check_act(rec, act)) return -1;
    push_activation p = {n};
    vkft_binding b[] = {{x, VKFT_READ}, {x, VKFT_READ}, {y, VKFT_WRITE}};
    vkft_buf all[] = {x, y};
    const vkft_kernel_def *k = pick(act, 0, n, all, 2);
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 3);
}

int vkft_activation_backward(vkft_recorder *rec, vkft_activation act, vkft_buf x, vkft_buf dy, vkft_buf dx,
                             uint32_t n) {
    if (check_act(rec, act)) return -1;
    push_activation p = {n};
    /* du (binding 4) is not written by these ops: dx is bound there too. */
    vkft_binding b[] = {{x, VKFT_READ}, {x, VKFT_READ}, {dy, VKFT_READ}, {dx, VKFT_WRITE}, {dx, VKFT_WRITE}};
    vkft_buf all[] = {x, dy, dx};
    const vkft_kernel_def *k = pick(act, 1, n, all, 3);
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 5);
}

int vkft_swiglu_forward(vkft_recorder *rec, vkft_buf g, vkft_buf u, vkft_buf y, uint32_t n) {
    push_activation p = {n};
    vkft_binding b[] = {{g, VKFT_READ}, {u, VKFT_READ}, {y, VKFT_WRITE}};
    vkft_buf all[] = {g, u, y};
    const vkft_kernel_def *k = pick(OP_SWIGLU, 0, n, all, 3);
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 3);
}

int vkft_swiglu_backward(vkft_recorder *rec, vkft_buf g, vkft_buf u, vkft_buf dy, vkft_buf dg, vkft_buf du,
                         uint32_t n) {
    push_activation p = {n};
    vkft_binding b[] = {{g, VKFT_READ}, {u, VKFT_READ}, {dy, VKFT_READ}, {dg, VKFT_WRITE}, {du, VKFT_WRITE}};
    vkft_buf all[] = {g, u, dy, dg, du};
    const vkft_kernel_def *k = pick(OP_SWIGLU, 1, n, all, 5);
    return vkft_rec_dispatch(rec, k, &p, groups(rec, k, n), 1, 1, b, 5);
}
