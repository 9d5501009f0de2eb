#include "model/ops_embedding.h"

#include <string.h>

/* ---- kernel table --------------------------------------------------------------------------- */

typedef struct {
    uint32_t N, V, C, slices, v0, vtotal;
} push_embedding;

/* Rows of a [V, C] table one binding holds: all of them when they fit, else parts whose offsets keep the
 * storage-buffer alignment (a table larger than the binding limit, e.g. GPT-2's 147 MiB on lavapipe). */
static uint32_t rows_per_part(vkft_ctx *ctx, uint32_t V, uint32_t C) {
    uint64_t row = (uint64_t)C * 4, limit = vkft_binding_limit(ctx);
    return (uint64_t)V * row <= limit ? V : (uint32_t)vkft_aligned_count(ctx, row, limit / row);
}

static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}
/* Backward: one thread per column of a vocabulary slice; 64 columns per workgroup. */
static void spec_columns(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 64 ? caps->max_workgroup_invocations : 64;
}

enum { K_FWD, K_CHECK, K_BWD, K_FWD4, K_COUNT };
static const vkft_kernel_def kernels[K_COUNT] = {
    [K_FWD] = {.name = "embedding_forward",
               .shader = "embedding",
               .variants = {"forward"},
               .push_size = sizeof(push_embedding),
               .spec_count = 1,
               .specialize = spec_elementwise},
    [K_CHECK] = {.name = "embedding_check_ids",
                 .shader = "embedding",
                 .variants = {"check"},
                 .push_size = sizeof(push_embedding),
                 .spec_count = 1,
                 .specialize = spec_elementwise},
    [K_BWD] = {.name = "embedding_backward",
               .shader = "embedding",
               .variants = {"backward"},
               .push_size = sizeof(push_embedding),
               .spec_count = 1,
               .specialize = spec_columns},
    /* 4 columns per load: C % 4 == 0 and 16-byte aligned table and output */
    [K_FWD4] = {.name = "embedding_forward_vec4",
                .shader = "embedding",
                .variants = {"forward_vec4"},
                .push_size = sizeof(push_embedding),
                .spec_count = 1,
                .specialize = spec_elementwise},
};

const vkft_kernel_def *vkft_embedding_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

static uint32_t local_size(vkft_recorder *rec, int k) {
    vkft_pipeline *p = vkft_pipeline_get(vkft_rec_ctx(rec), &kernels[k]);
    return p ? vkft_pipeline_spec(p)[0] : 1;
}

int vkft_embedding_forward(vkft_recorder *rec, vkft_buf ids, vkft_buf table, vkft_buf out, vkft_buf status,
                           uint32_t N, uint32_t V, uint32_t C) {
    if (status.size < 8) return vkft_set_error(vkft_rec_ctx(rec), "embedding_forward: status needs 8 bytes");
    push_embedding p = {N, V, C, 1, 0, V};
    vkft_binding bc[] = {{ids, VKFT_READ}, {vkft_buf_slice(status, 0, 8), VKFT_WRITE}};
    if (vkft_rec_dispatch(rec, &kernels[K_CHECK], &p, 1, 1, 1, bc, 2)) return -1;
    int vec4 = C % 4 == 0 && table.offset % 16 == 0 && out.offset % 16 == 0, k = vec4 ? K_FWD4 : K_FWD;
    uint32_t g = vkft_groups((uint64_t)N * (vec4 ? C / 4 : C), local_size(rec, k));
    uint32_t part = rows_per_part(vkft_rec_ctx(rec), V, C);
    for (uint32_t v0 = 0; v0 < V; v0 += part) {
        p.v0 = v0;
        p.V = V - v0 < part ? V - v0 : part;
        vkft_binding b[] = {{ids, VKFT_READ},
                            {vkft_buf_slice(table, (VkDeviceSize)v0 * C * 4, (VkDeviceSize)p.V * C * 4), VKFT_READ},
                            {out, VKFT_WRITE}};
        if (vkft_rec_dispatch(rec, &kernels[k], &p, g == 0 ? 1 : g > 4096 ? 4096 : g, 1, 1, b, 3)) return -1;
    }
    return 0;
}

int vkft_embedding_backward_sliced(vkft_recorder *rec, vkft_buf ids, vkft_buf dout, vkft_buf dtable,
                                   uint32_t N, uint32_t V, uint32_t C, int accumulate, uint32_t slices) {
    if (!accumulate && vkft_rec_fill(rec, vkft_buf_slice(dtable, 0, (VkDeviceSize)V * C * 4), 0)) return -1;
    if (slices == 0) {
        /* Enough (column, slice) threads to fill a GPU (~16k), at most 64 slices: each thread reads all N
         * ids. A CPU driver has threads enough with one slice (measured: 28 slices cost lavapipe 8x). */
        const vkft_device_caps *caps = vkft_device(vkft_rec_ctx(rec));
        slices = C ? 16384 / C : 1;
        if (caps && caps->vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU) slices = 1;
    }
    if (slices < 1) slices = 1;
    if (slices > 64) slices = 64;
    if (slices > V) slices = V ? V : 1;
    push_embedding p = {N, V, C, slices, 0, V};
    uint32_t gx = vkft_groups(C, local_size(rec, K_BWD));
    uint32_t part = rows_per_part(vkft_rec_ctx(rec), V, C);
    for (uint32_t v0 = 0; v0 < V; v0 += part) {
        p.v0 = v0;
        p.V = V - v0 < part ? V - v0 : part;
        vkft_binding b[] = {
            {ids, VKFT_READ},
            {dout, VKFT_READ},
            {vkft_buf_slice(dtable, (VkDeviceSize)v0 * C * 4, (VkDeviceSize)p.V * C * 4), VKFT_READ_WRITE}};
        if (vkft_rec_dispatch(rec, &kernels[K_BWD], &p, gx ? gx : 1, slices, 1, b, 3)) return -1;
    }
    return 0;
}

int vkft_embedding_backward(vkft_recorder *rec, vkft_buf ids, vkft_buf dout, vkft_buf dtable, uint32_t N,
                            uint32_t V, uint32_t C, int accumulate) {
    return vkft_embedding_backward_sliced(rec, ids, dout, dtable, N, V, C, accumulate, 0);
}
