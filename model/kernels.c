#include "model/kernels.h"

/* Elementwise kernels: 256 threads, or the device's maximum if smaller. */
static void spec_elementwise(const vkft_device_caps *caps, uint32_t *spec) {
    spec[0] = caps->max_workgroup_invocations < 256 ? caps->max_workgroup_invocations : 256;
}

/* Reductions need a power-of-two workgroup of at most 1024 (the shader's shared array). */
static void spec_reduce(const vkft_device_caps *caps, uint32_t *spec) {
    uint32_t wg = 256;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    spec[0] = wg;
}

const vkft_kernel_def vkft_kernels[VKFT_KERNEL_COUNT] = {
    [VKFT_K_FILL_F32] = {.name = "fill_f32", .shader = "fill", .push_size = sizeof(vkft_push_fill),
                         .spec_count = 1, .specialize = spec_elementwise},
    [VKFT_K_ADD_F32] = {.name = "add_f32", .shader = "elementwise", .push_size = sizeof(vkft_push_elementwise),
                        .spec = {0, 0}, .spec_count = 2, .specialize = spec_elementwise},
    [VKFT_K_SCALE_F32] = {.name = "scale_f32", .shader = "elementwise",
                          .push_size = sizeof(vkft_push_elementwise), .spec = {0, 1}, .spec_count = 2,
                          .specialize = spec_elementwise},
    [VKFT_K_SUM_F32] = {.name = "sum_f32", .shader = "reduce", .push_size = sizeof(vkft_push_reduce),
                        .spec_count = 1, .specialize = spec_reduce},
};
