/* Definitions shared by the runtime's own files; not part of the public API (runtime/runtime.h). */
#ifndef VKFT_RUNTIME_INTERNAL_H
#define VKFT_RUNTIME_INTERNAL_H
#include "runtime/runtime.h"
#include "runtime/vk_loader.h"

/* Checks a VkResult; on failure records file, line and the result's name and returns -1. */
#define VK_CHECK(ctx, call)                                                                              \
    do {                                                                                                 \
        VkResult vk_r_ = (call);                                                                         \
        if (vk_r_ != VK_SUCCESS) return vkft_vk_fail((ctx), vk_r_, #call, __FILE__, __LINE__);           \
    } while (0)
int vkft_vk_fail(vkft_ctx *ctx, VkResult r, const char *call, const char *file, int line);

typedef struct {
    char name[96];
    uint64_t calls;
    double total_ns;
} vkft_profile_row;

struct vkft_ctx {
    vkft_vk vk;
    vkft_ctx_options opts;
    char error[2048];
    int validation, profile;
    int validation_messages;
    uint32_t instance_version;

    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice *physical;
    vkft_device_caps *caps;
    int device_count;
    int chosen; /* index into caps, -1 none */

    VkDevice device;
    VkPhysicalDeviceMemoryProperties memory;
    uint32_t queue_family;
    VkQueue queue;
    VkCommandPool command_pool;
    VkFence fence;
    uint32_t timeout_s;

    /* memory */
    vkft_arena *default_arena;
    VkBuffer staging;
    VkDeviceMemory staging_memory;
    void *staging_map;
    VkDeviceSize staging_size;
    uint32_t next_block_id;
    VkDeviceSize device_bytes; /* held by arenas and staging */
    VkDeviceSize memory_limit; /* what vkft allows itself: the heap size or the user's limit */
    VkDeviceSize binding_limit; /* bytes one kernel binding may span (the device's range, or smaller) */

    /* pipelines: one per kernel definition, found by pointer */
    struct vkft_pipeline **pipelines;
    uint32_t pipeline_count, pipeline_cap;
    VkPipelineCache pipeline_cache;
    vkft_pipeline_stats pipeline_stats;

    /* profile */
    vkft_profile_row *profile_rows;
    uint32_t profile_count, profile_cap;
};

struct vkft_block {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size, reserved; /* usable bytes; bytes of device memory behind them */
    void *mapped; /* non-NULL when host-visible and coherent (and staging is not forced) */
    uint32_t id;
    /* free list: sorted, non-adjacent [offset, offset+size) ranges */
    VkDeviceSize *free_off, *free_len;
    uint32_t free_count, free_cap;
    VkDeviceSize used;
    uint32_t allocations;
};

struct vkft_pipeline {
    const vkft_kernel_def *def;
    const char *variant;
    VkShaderModule module;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    uint32_t binding_count;
    uint32_t texel_mask, texel_uint_mask; /* as in vkft_spirv_info */
    uint32_t spec[VKFT_MAX_SPEC];
};

/* One-shot command buffer: begin, record with the returned handle, then submit and wait. */
int vkft_oneshot_begin(vkft_ctx *ctx, VkCommandBuffer *cb);
int vkft_oneshot_submit(vkft_ctx *ctx, VkCommandBuffer cb);
/* Waits for the context's fence, turning a timeout or device loss into a clear error. */
int vkft_wait_fence(vkft_ctx *ctx, const char *what);

int vkft_memory_init(vkft_ctx *ctx);
void vkft_memory_shutdown(vkft_ctx *ctx);
int vkft_pipelines_init(vkft_ctx *ctx);
void vkft_pipelines_shutdown(vkft_ctx *ctx);
void vkft_profile_add(vkft_ctx *ctx, const char *name, double ns);
void vkft_profile_free(vkft_ctx *ctx);

/* SPIR-V reflection: the push-constant block's size and the highest binding + 1 (storage buffers, samplerBuffers)
 * (descriptor set 0). Returns 0, or -1 with a message when the module is malformed. */
typedef struct {
    uint32_t push_size;
    uint32_t binding_count;
    uint32_t texel_mask;      /* bindings that are uniform texel buffers (samplerBuffer / usamplerBuffer) */
    uint32_t texel_uint_mask; /* ... of unsigned integers (usamplerBuffer); the others hold floats */
    int uses_local_size_id; /* workgroup size x comes from specialization constant 0 */
} vkft_spirv_info;
int vkft_spirv_reflect(const uint32_t *code, size_t bytes, vkft_spirv_info *info, char *err, size_t errlen);
#endif
