/* The kernel table: one row per kernel (shader, variants, push-constant struct, specialization), and the
 * C mirror of every push-constant block. Adding a kernel is one row here plus its shader. */
#ifndef VKFT_KERNELS_H
#define VKFT_KERNELS_H
#include <stdint.h>

#include "runtime/runtime.h"

typedef enum {
    VKFT_K_FILL_F32,
    VKFT_K_ADD_F32,
    VKFT_K_SCALE_F32,
    VKFT_K_SUM_F32,
    VKFT_KERNEL_COUNT
} vkft_kernel_id;

extern const vkft_kernel_def vkft_kernels[VKFT_KERNEL_COUNT];

/* Push-constant blocks, in step with the shaders (the pipeline library checks the sizes). */
typedef struct {
    uint32_t n;
    float value;
} vkft_push_fill;

typedef struct {
    uint32_t n;
    float alpha;
} vkft_push_elementwise;

typedef struct {
    uint32_t n;
} vkft_push_reduce;

#endif
