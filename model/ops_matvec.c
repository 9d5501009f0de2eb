#include "model/ops_matvec.h"

#include <string.h>

/* shaders/matvec.comp: Push */
typedef struct {
    uint32_t rows, N, K, ldw;
    uint32_t has_bias;
} push_matvec;

/* 64 invocations (several subgroups, each with its own output rows in the NT form), or the subgroup size
 * if larger, or the device's maximum if smaller. */
static void spec_matvec(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t wg = 64;
    if (caps->subgroup_size > wg) wg = caps->subgroup_size;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    spec[0] = wg;
}

/* matvec_cpu's NT form: a workgroup is one subgroup and owns MATVEC_CPU_RB output rows. */
enum { MATVEC_CPU_RB = 4 };
static void spec_matvec_cpu_nt(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t wg = caps->subgroup_size ? caps->subgroup_size : 8;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    spec[0] = wg;
}

enum { K_NT, K_NN, K_NT_CPU, K_NN_CPU, K_COUNT };
static const vkft_kernel_def kernels[K_COUNT] = {
    {.name = "matvec_nt", .shader = "matvec", .push_size = sizeof(push_matvec), .spec = {0, 0}, .spec_count = 2,
     .specialize = spec_matvec},
    {.name = "matvec_nn", .shader = "matvec", .push_size = sizeof(push_matvec), .spec = {0, 1}, .spec_count = 2,
     .specialize = spec_matvec},
    /* CPU drivers: shaders/matvec_cpu.comp (one output per lane, 64-bit loads) */
    {.name = "matvec_nt_cpu", .shader = "matvec_cpu", .push_size = sizeof(push_matvec), .spec = {0, 0, MATVEC_CPU_RB},
     .spec_count = 3, .specialize = spec_matvec_cpu_nt},
    {.name = "matvec_nn_cpu", .shader = "matvec_cpu", .push_size = sizeof(push_matvec), .spec = {0, 1, MATVEC_CPU_RB},
     .spec_count = 3, .specialize = spec_matvec},
};

const vkft_kernel_def *vkft_matvec_kernel(const char *name) {
    for (int i = 0; i < K_COUNT; i++)
        if (!strcmp(kernels[i].name, name)) return &kernels[i];
    return NULL;
}

int vkft_matvec(vkft_recorder *rec, vkft_mv_form form, vkft_buf x, vkft_buf W, vkft_buf bias, vkft_buf y, uint32_t rows,
                uint32_t N, uint32_t K, uint32_t ldw) {
    return vkft_matvec_using(rec, NULL, form, x, W, bias, y, rows, N, K, ldw);
}

int vkft_matvec_using(vkft_recorder *rec, const vkft_kernel_def *kernel, vkft_mv_form form, vkft_buf x, vkft_buf W,
                      vkft_buf bias, vkft_buf y, uint32_t rows, uint32_t N, uint32_t K, uint32_t ldw) {
    vkft_ctx *ctx = vkft_rec_ctx(rec);
    if (!rows || !N || !K) return vkft_set_error(ctx, "matvec: rows=%u N=%u K=%u must be positive", rows, N, K);
    if (rows > 65535) return vkft_set_error(ctx, "matvec: %u rows exceed 65535 workgroups", rows);
    if (!ldw) ldw = form == VKFT_MV_NT ? K : N;
    if (ldw < (form == VKFT_MV_NT ? K : N))
        return vkft_set_error(ctx, "matvec: row stride %u is shorter than a row (%u)", ldw, form == VKFT_MV_NT ? K : N);
    uint64_t w_need = form == VKFT_MV_NT ? (uint64_t)(N - 1) * ldw + K : (uint64_t)(K - 1) * ldw + N;
    if (w_need >= (1ull << 32) || (uint64_t)rows * (K > N ? K : N) >= (1ull << 32))
        return vkft_set_error(ctx, "matvec: sizes exceed 32-bit indexing");
    if (x.size < (uint64_t)rows * K * 4 || W.size < w_need * 4 || y.size < (uint64_t)rows * N * 4 ||
        (bias.block && bias.size < (uint64_t)N * 4))
        return vkft_set_error(ctx, "matvec: a buffer is smaller than its shape (rows=%u N=%u K=%u ldw=%u)", rows, N,
                              K, ldw);
    const vkft_device_caps *caps = vkft_device(ctx);
    int cpu = caps->vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU && caps->int64;
    int nt = form == VKFT_MV_NT;
    const vkft_kernel_def *k = &kernels[cpu ? (nt ? K_NT_CPU : K_NN_CPU) : (nt ? K_NT : K_NN)];
    if (kernel) {
        int i = (int)(kernel - kernels);
        if (i < 0 || i >= K_COUNT || (i == K_NT || i == K_NT_CPU) != nt)
            return vkft_set_error(ctx, "matvec: kernel %s does not compute the %s form", kernel->name, nt ? "NT" : "NN");
        k = kernel;
        cpu = i == K_NT_CPU || i == K_NN_CPU;
    }
    vkft_pipeline *pl = vkft_pipeline_get(ctx, k);
    if (!pl) return -1;
    uint32_t wg = vkft_pipeline_spec(pl)[0], sg = caps->subgroup_size;
    if (!sg || sg > wg) sg = wg;
    /* GPU NT: one subgroup per output (wg / sg per workgroup); GPU NN: one invocation per output; CPU NT: one
     * subgroup per MATVEC_CPU_RB outputs; CPU NN: one invocation per two outputs. All loop over the rest, so the counts need only cover N
     * in the common case. */
    uint32_t groups = cpu ? (nt ? vkft_groups(N, MATVEC_CPU_RB) : vkft_groups((N + 1) / 2, wg)) : nt ? vkft_groups(N, wg / sg) : vkft_groups(N, wg);
    if (groups > 65535) groups = 65535;
    push_matvec pc = {rows, N, K, ldw, bias.block ? 1u : 0u};
    vkft_binding b[] = {{x, VKFT_READ}, {W, VKFT_READ}, {bias.block ? bias : x, VKFT_READ}, {y, VKFT_WRITE}};
    return vkft_rec_dispatch(rec, k, &pc, groups, rows, 1, b, 4);
}
