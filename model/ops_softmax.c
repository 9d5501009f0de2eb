#include "model/ops_softmax.h"

#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t rows, cols;
    float scale;
    uint32_t causal, q_len;
} push_softmax;

/* One workgroup per row (vkft_row_workgroup_size): 128 invocations on GPUs (rows are often short:
 * attention over T keys), one subgroup on CPU drivers. */
static void spec_rows(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = vkft_row_workgroup_size(caps, 128);
}

/* spec 1 picks the pass; K_x + K_VEC4 is the vec4 form of K_x (cols % 4 == 0, aligned buffers). */
enum { K_FWD, K_BWD, K_VEC4, K_COUNT = 2 * K_VEC4 };
#define SOFTMAX_ROW(nm, variant, pass)                                                                       \
    {                                                                                                        \
        .name = nm, .shader = "softmax", .variants = {variant}, .push_size = sizeof(push_softmax),           \
        .spec = {0, pass}, .spec_count = 2, .specialize = spec_rows                                          \
    }
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_FWD] = SOFTMAX_ROW("softmax_forward", "scalar", 0),
    [K_BWD] = SOFTMAX_ROW("softmax_backward", "scalar", 1),
    [K_VEC4 + K_FWD] = SOFTMAX_ROW("softmax_forward_vec4", "vec4", 0),
    [K_VEC4 + K_BWD] = SOFTMAX_ROW("softmax_backward_vec4", "vec4", 1),
};

static int vec4_ok(uint32_t cols, vkft_buf a, vkft_buf b, vkft_buf c) {
    return cols % 4 == 0 && a.offset % 16 == 0 && b.offset % 16 == 0 && c.offset % 16 == 0 ? K_VEC4 : 0;
}

const vkft_kernel_def *vkft_softmax_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

/* Rows beyond the grid limit are covered by the shader's row loop. */
static uint32_t row_groups(uint32_t rows) { return rows == 0 ? 1 : rows > 65535 ? 65535 : rows; }

static int check_args(vkft_recorder *rec, const char *what, uint32_t cols, int causal, uint32_t q_len) {
    if (causal && (q_len == 0 || q_len > cols))
        return vkft_set_error(vkft_rec_ctx(rec), "%s: causal mask needs 0 < q_len (%u) <= cols (%u)", what,
                              q_len, cols);
    return 0;
}

int vkft_softmax_forward(vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t rows, uint32_t cols,
                         float scale, int causal, uint32_t q_len) {
    if (check_args(rec, "softmax_forward", cols, causal, q_len)) return -1;
    push_softmax p = {rows, cols, scale, causal ? 1u : 0u, causal ? q_len : 1u};
    vkft_binding b[] = {{x, VKFT_READ}, {x, VKFT_READ}, {y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_FWD + vec4_ok(cols, x, x, y)], &p, row_groups(rows), 1, 1, b, 3);
}

int vkft_softmax_backward(vkft_recorder *rec, vkft_buf y, vkft_buf dy, vkft_buf dx, uint32_t rows,
                          uint32_t cols, float scale, int causal, uint32_t q_len) {
    if (check_args(rec, "softmax_backward", cols, causal, q_len)) return -1;
    push_softmax p = {rows, cols, scale, causal ? 1u : 0u, causal ? q_len : 1u};
    vkft_binding b[] = {{y, VKFT_READ}, {dy, VKFT_READ}, {dx, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, &kernels[K_BWD + vec4_ok(cols, y, dy, dx)], &p, row_groups(rows), 1, 1, b,
                             3);
}
