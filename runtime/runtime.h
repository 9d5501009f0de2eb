/* vkft runtime: the public API of the Vulkan layer.
 *
 *   context  - loader, instance, device choice and capabilities, queue, errors
 *   memory   - arenas (a few large allocations sub-divided), upload/download through staging
 *   pipeline - kernels from a table, SPIR-V variant choice, specialization, on-disk pipeline cache
 *   recorder - many dispatches in one command buffer, barriers from declared reads/writes, submit
 *   profile  - per-kernel GPU time from timestamp queries (VKFT_PROFILE=1)
 *
 * Errors are values: functions return 0 (or a valid pointer) on success and -1 (or NULL) on failure,
 * with the message in vkft_last_error(ctx). Nothing here prints except through the warning callback. */
#ifndef VKFT_RUNTIME_H
#define VKFT_RUNTIME_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <vulkan/vulkan.h>

typedef struct vkft_ctx vkft_ctx;

/* ---- context ------------------------------------------------------------------------------ */

typedef struct {
    uint32_t M, N, K;
    const char *a_type, *b_type, *c_type, *result_type; /* "f16", "bf16", "f32", "s8", ... */
    int subgroup_scope;
} vkft_coopmat_shape;

typedef struct {
    VkDeviceSize size;
    int device_local;
} vkft_heap_info;

typedef struct {
    uint32_t index; /* position in vkEnumeratePhysicalDevices */
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    const char *type; /* "discrete", "integrated", "virtual", "cpu", "other" */
    VkPhysicalDeviceType vk_type;
    uint32_t api_version, driver_version, vendor_id, device_id;
    char driver_name[VK_MAX_DRIVER_NAME_SIZE];
    char driver_info[VK_MAX_DRIVER_INFO_SIZE];
    uint8_t device_uuid[VK_UUID_SIZE], driver_uuid[VK_UUID_SIZE], pipeline_cache_uuid[VK_UUID_SIZE];
    /* subgroups */
    uint32_t subgroup_size, subgroup_size_min, subgroup_size_max;
    VkSubgroupFeatureFlags subgroup_ops;
    int subgroup_size_control, compute_full_subgroups;
    /* arithmetic and storage */
    int fp16, int8, bf16, storage16, storage8, int64, fp64, vulkan_memory_model, maintenance4;
    int vulkan_memory_model_device_scope;
    /* limits */
    uint32_t shared_memory, max_workgroup_invocations, max_workgroup_size[3], max_workgroup_count[3];
    uint32_t max_push_constants, max_bound_descriptor_sets, max_texel_buffer_elements;
    VkDeviceSize max_storage_buffer_range, min_storage_buffer_offset_alignment, max_allocation_size;
    float timestamp_period; /* ns per tick */
    uint32_t timestamp_valid_bits;
    /* memory */
    vkft_heap_info heaps[VK_MAX_MEMORY_HEAPS];
    uint32_t heap_count;
    int memory_budget; /* VK_EXT_memory_budget */
    /* cooperative matrix (VK_KHR_cooperative_matrix) */
    int coopmat;
    vkft_coopmat_shape coopmat_shapes[32];
    uint32_t coopmat_shape_count;
} vkft_device_caps;

typedef void (*vkft_warning_fn)(void *user, const char *message);

typedef struct {
    const char *device;    /* "N" (index) or a name substring; NULL: $VKFT_DEVICE, else the best */
    int validation;        /* 1 on, 0 off, -1: $VKFT_VALIDATION */
    int profile;           /* 1 on, 0 off, -1: $VKFT_PROFILE */
    const char *cache_dir; /* pipeline cache folder; NULL: $XDG_CACHE_HOME/vkft or ~/.cache/vkft */
    int no_pipeline_cache; /* 1: neither read nor write the cache file */
    int force_staging;     /* 1: never map device memory directly (tests the staging path) */
    uint64_t memory_limit; /* bytes of device memory vkft may hold (0: $VKFT_MEMORY_LIMIT_MB, else the heap) */
    uint64_t binding_limit; /* tests: bytes one binding may span, below the device's maxStorageBufferRange
                             * (0: $VKFT_BINDING_LIMIT_KB, else the device's), to exercise split tensors */
    int unsafe_skip_barriers; /* tests only: record no barriers, to prove synchronization validation is on */
    vkft_warning_fn warn;  /* NULL: print "vkft: warning: ..." to stderr */
    void *warn_user;
} vkft_ctx_options;

/* Fills opts with the defaults described above. */
void vkft_ctx_options_default(vkft_ctx_options *opts);

/* Creates a context: loads Vulkan, creates the instance, reads every device's capabilities, picks one
 * and creates the logical device. Always stores a context in *out (even on failure, so that
 * vkft_last_error can say why); destroy it with vkft_ctx_destroy either way. */
int vkft_ctx_create(const vkft_ctx_options *opts, vkft_ctx **out);
void vkft_ctx_destroy(vkft_ctx *ctx);

const char *vkft_last_error(const vkft_ctx *ctx);
/* Sets the error message; returns -1 so that callers can `return vkft_set_error(...)`. */
int vkft_set_error(vkft_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vkft_warn(vkft_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* All physical devices seen (valid after create, even when the choice failed) and the chosen one. */
int vkft_device_count(const vkft_ctx *ctx);
const vkft_device_caps *vkft_device_caps_at(const vkft_ctx *ctx, int i);
const vkft_device_caps *vkft_device(const vkft_ctx *ctx); /* NULL when no device was chosen */
uint32_t vkft_instance_version(const vkft_ctx *ctx);
/* Validation messages (warnings and errors) seen so far; tests require 0. */
int vkft_validation_messages(const vkft_ctx *ctx);
int vkft_validation_enabled(const vkft_ctx *ctx);

/* ---- memory ------------------------------------------------------------------------------- */

typedef struct vkft_block vkft_block;
typedef struct vkft_arena vkft_arena;

/* A view into a block of device memory: what kernels bind. */
typedef struct {
    vkft_block *block;
    VkDeviceSize offset, size;
} vkft_buf;

typedef struct {
    VkDeviceSize reserved; /* bytes of device memory held by the arena's blocks */
    VkDeviceSize used, peak;
    uint32_t blocks, allocations;
} vkft_arena_stats;

/* An arena allocates blocks of block_size bytes (0: a default from the device's limits) on demand
 * and sub-divides them; a request larger than a block gets a block of its own. */
vkft_arena *vkft_arena_create(vkft_ctx *ctx, const char *name, VkDeviceSize block_size);
void vkft_arena_destroy(vkft_arena *arena);
int vkft_arena_alloc(vkft_arena *arena, VkDeviceSize size, vkft_buf *out);
void vkft_arena_free(vkft_arena *arena, vkft_buf buf);
vkft_arena_stats vkft_arena_get_stats(const vkft_arena *arena);
/* The alignment every allocation's offset has (storage-buffer offset alignment, at least 256). */
VkDeviceSize vkft_arena_alignment(const vkft_ctx *ctx);
/* The context's default arena, for tests, tools and small buffers. */
vkft_arena *vkft_default_arena(vkft_ctx *ctx);
/* The bytes one kernel binding may span: the device's maxStorageBufferRange (128 MiB on lavapipe) or the
 * smaller binding_limit option. Buffers may be larger (up to one allocation); kernels bind parts of them. */
VkDeviceSize vkft_binding_limit(const vkft_ctx *ctx);
/* For splitting a buffer of elem_bytes-sized elements into parts that start at aligned offsets: the largest
 * n <= max_elems with n * elem_bytes a multiple of vkft_arena_alignment, or the smallest such n when none
 * fits under max_elems (the caller then exceeds its budget by that much, or refuses). */
uint64_t vkft_aligned_count(const vkft_ctx *ctx, uint64_t elem_bytes, uint64_t max_elems);
/* A view of part of a buffer. */
vkft_buf vkft_buf_slice(vkft_buf buf, VkDeviceSize offset, VkDeviceSize size);

/* Copies between host memory and a buffer; synchronous (waits for the GPU). Mapped directly when the
 * memory is host-visible, else through the context's staging buffer. */
int vkft_upload(vkft_ctx *ctx, vkft_buf dst, VkDeviceSize dst_offset, const void *src, size_t bytes);
int vkft_download(vkft_ctx *ctx, vkft_buf src, VkDeviceSize src_offset, void *dst, size_t bytes);

/* ---- pipelines ---------------------------------------------------------------------------- */

#define VKFT_MAX_SPEC 12
#define VKFT_MAX_BINDINGS 12

/* One row of a kernel table. Specialization constant 0 is the workgroup size x by convention
 * (shaders declare `layout(local_size_x_id = 0) in;`); specialize() may set it and the others from
 * the device's limits. */
typedef struct vkft_kernel_def {
    const char *name;        /* shown in profiles and errors, e.g. "add_f32" */
    const char *shader;      /* shaders/<shader>.comp */
    const char *variants[4]; /* SPIR-V variants in order of preference; {NULL}: "base" */
    uint32_t push_size;      /* sizeof the C mirror of the push-constant block (0: none) */
    uint32_t spec[VKFT_MAX_SPEC];
    uint32_t spec_count;
    void (*specialize)(const vkft_device_caps *caps, uint32_t *spec);
    uint32_t required_subgroup_size; /* 0: any */
} vkft_kernel_def;

/* Workgroup size for kernels that give one workgroup to a row (shaders/common/rows.glsl): gpu_size
 * invocations, but one subgroup on CPU drivers (lavapipe runs a workgroup's subgroups one after another
 * and its barriers are costly: one subgroup measured 6x faster than 128), within the device's limit. */
uint32_t vkft_row_workgroup_size(const vkft_device_caps *caps, uint32_t gpu_size);

typedef struct vkft_pipeline vkft_pipeline;

/* Creates (once, then cached in the context) the pipeline of a kernel. */
vkft_pipeline *vkft_pipeline_get(vkft_ctx *ctx, const vkft_kernel_def *def);
/* The specialization constants the pipeline was built with (spec[0] = workgroup size x). */
const uint32_t *vkft_pipeline_spec(const vkft_pipeline *p);
const char *vkft_pipeline_variant(const vkft_pipeline *p);

typedef struct {
    uint32_t created;    /* pipelines created by this context */
    uint32_t cache_hits; /* of those, found in the pipeline cache (creation feedback) */
    size_t cache_loaded_bytes;
    char cache_path[4096];
} vkft_pipeline_stats;
vkft_pipeline_stats vkft_pipeline_get_stats(const vkft_ctx *ctx);
/* Writes the pipeline cache now (also done by vkft_ctx_destroy when pipelines were created). */
int vkft_pipeline_cache_save(vkft_ctx *ctx);

/* ---- recording ---------------------------------------------------------------------------- */

typedef enum { VKFT_READ = 1, VKFT_WRITE = 2, VKFT_READ_WRITE = 3 } vkft_access;

typedef struct {
    vkft_buf buf;
    vkft_access access;
} vkft_binding;

typedef struct vkft_recorder vkft_recorder;

typedef struct {
    uint32_t dispatches, copies, barriers;
} vkft_recorder_stats;

vkft_recorder *vkft_recorder_create(vkft_ctx *ctx);
void vkft_recorder_destroy(vkft_recorder *rec);
/* Starts a new recording (discarding the previous one). */
int vkft_rec_begin(vkft_recorder *rec);
/* Records a dispatch of `groups` workgroups; bindings follow the shader's binding numbers 0..n-1.
 * A binding the shader declares as a storage buffer is bound as one; one it declares as a samplerBuffer
 * (usamplerBuffer) gets a view of the buffer as 16-byte RGBA32F (RGBA32UI) texels, which must start 16-byte
 * aligned (texelFetch(t, i) reads elements 4i..4i+3 of the view). A barrier is inserted before it only if it reads or writes memory that earlier work in this
 * recording wrote, or writes memory that earlier work read. */
int vkft_rec_dispatch(vkft_recorder *rec, const vkft_kernel_def *def, const void *push, uint32_t gx,
                      uint32_t gy, uint32_t gz, const vkft_binding *bindings, uint32_t binding_count);
int vkft_rec_copy(vkft_recorder *rec, vkft_buf src, vkft_buf dst, VkDeviceSize bytes);
/* Fills bytes with a repeated 32-bit pattern (offset and size multiples of 4). */
int vkft_rec_fill(vkft_recorder *rec, vkft_buf dst, uint32_t pattern);
int vkft_rec_end(vkft_recorder *rec);
/* Submits the recorded work and waits for it (a recording may be submitted many times). */
int vkft_rec_submit(vkft_recorder *rec);
vkft_recorder_stats vkft_rec_get_stats(const vkft_recorder *rec);
vkft_ctx *vkft_rec_ctx(vkft_recorder *rec);
/* Helper: workgroups needed for n items at `per_group` items each. */
static inline uint32_t vkft_groups(uint64_t n, uint32_t per_group) {
    return (uint32_t)((n + per_group - 1) / per_group);
}

/* ---- profile ------------------------------------------------------------------------------ */

int vkft_profile_enabled(const vkft_ctx *ctx);
/* Prints a table: kernel, calls, total ms, mean us, share. */
void vkft_profile_print(const vkft_ctx *ctx, FILE *out);
/* Total GPU ms recorded for one kernel name (0 if none). */
double vkft_profile_kernel_ms(const vkft_ctx *ctx, const char *name, uint32_t *calls);
void vkft_profile_reset(vkft_ctx *ctx);

#endif
