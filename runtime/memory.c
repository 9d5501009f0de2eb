/* Memory: arenas of large device allocations, each sub-divided by a first-fit free list, and the
 * staging buffer used for uploads and downloads where device memory cannot be mapped. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

#define MiB (1024.0 * 1024.0)

struct vkft_arena {
    vkft_ctx *ctx;
    char name[64];
    VkDeviceSize block_size;
    vkft_block **blocks;
    uint32_t block_count;
    VkDeviceSize used, peak;
};

VkDeviceSize vkft_arena_alignment(const vkft_ctx *ctx) {
    VkDeviceSize a = vkft_device(ctx)->min_storage_buffer_offset_alignment;
    return a > 256 ? a : 256;
}

static int find_memory_type(vkft_ctx *ctx, uint32_t bits, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid) {
    int best = -1;
    for (uint32_t i = 0; i < ctx->memory.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = ctx->memory.memoryTypes[i].propertyFlags;
        if (!(bits & (1u << i)) || (f & want) != want || (f & avoid)) continue;
        if (best < 0 || ctx->memory.memoryHeaps[ctx->memory.memoryTypes[i].heapIndex].size >
                            ctx->memory.memoryHeaps[ctx->memory.memoryTypes[best].heapIndex].size)
            best = (int)i;
    }
    return best;
}

static VkDeviceSize heap_size(vkft_ctx *ctx, uint32_t heap) { return ctx->memory.memoryHeaps[heap].size; }

static VkBufferUsageFlags buffer_usage(void) {
    return VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
           VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
}

/* Creates one buffer with its own memory. host=1: host-visible coherent staging memory. */
static int create_buffer(vkft_ctx *ctx, VkDeviceSize size, int host, const char *what, VkBuffer *buf,
                         VkDeviceMemory *mem, void **mapped) {
    vkft_vk *vk = &ctx->vk;
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                             .size = size,
                             .usage = buffer_usage(),
                             .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VK_CHECK(ctx, vk->CreateBuffer(ctx->device, &bi, NULL, buf));
    VkMemoryRequirements req;
    vk->GetBufferMemoryRequirements(ctx->device, *buf, &req);
    const VkMemoryPropertyFlags hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    int type;
    if (host) {
        type = find_memory_type(ctx, req.memoryTypeBits, hv | VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0);
        if (type < 0) type = find_memory_type(ctx, req.memoryTypeBits, hv, 0);
    } else {
        /* Prefer device memory that is not host-visible (a small BAR window on discrete GPUs). */
        type = find_memory_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
        if (type < 0) type = find_memory_type(ctx, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
        if (type < 0) type = find_memory_type(ctx, req.memoryTypeBits, 0, 0);
    }
    if (type < 0) {
        vk->DestroyBuffer(ctx->device, *buf, NULL);
        *buf = VK_NULL_HANDLE;
        return vkft_set_error(ctx, "no suitable memory type for %s", what);
    }
    uint32_t heap = ctx->memory.memoryTypes[type].heapIndex;
    VkDeviceSize limit = ctx->memory_limit && ctx->memory_limit < heap_size(ctx, heap) ? ctx->memory_limit
                                                                                        : heap_size(ctx, heap);
    if (ctx->device_bytes + req.size > limit) {
        vk->DestroyBuffer(ctx->device, *buf, NULL);
        *buf = VK_NULL_HANDLE;
        return vkft_set_error(ctx, "out of memory: %s asked for %.1f MiB while vkft holds %.1f MiB of the %.1f MiB "
                                   "it may use%s. Use a smaller model, batch or sequence length",
                              what, req.size / MiB, ctx->device_bytes / MiB, limit / MiB,
                              limit < heap_size(ctx, heap) ? " (VKFT_MEMORY_LIMIT_MB)" : "");
    }
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                               .allocationSize = req.size,
                               .memoryTypeIndex = (uint32_t)type};
    VkResult r = vk->AllocateMemory(ctx->device, &ai, NULL, mem);
    if (r != VK_SUCCESS) {
        vk->DestroyBuffer(ctx->device, *buf, NULL);
        *buf = VK_NULL_HANDLE;
        if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
            return vkft_set_error(ctx, "out of memory: %s asked for %.1f MiB while vkft holds %.1f MiB of a %.1f MiB "
                                       "heap (%s). Use a smaller model, batch or sequence length",
                                  what, req.size / MiB, ctx->device_bytes / MiB, heap_size(ctx, heap) / MiB,
                                  vkft_vk_result_name(r));
        return vkft_vk_fail(ctx, r, "vkAllocateMemory", __FILE__, __LINE__);
    }
    ctx->device_bytes += req.size;
    VK_CHECK(ctx, vk->BindBufferMemory(ctx->device, *buf, *mem, 0));
    *mapped = NULL;
    VkMemoryPropertyFlags flags = ctx->memory.memoryTypes[type].propertyFlags;
    if ((flags & hv) == hv && (host || !ctx->opts.force_staging))
        VK_CHECK(ctx, vk->MapMemory(ctx->device, *mem, 0, VK_WHOLE_SIZE, 0, mapped));
    return 0;
}

/* The bytes of memory behind a buffer, as allocated (counted against the memory limit). */
static VkDeviceSize buffer_memory_size(vkft_ctx *ctx, VkBuffer buf) {
    VkMemoryRequirements req;
    ctx->vk.GetBufferMemoryRequirements(ctx->device, buf, &req);
    return req.size;
}

/* ---- blocks and their free lists ---------------------------------------------------------- */

static void free_list_insert(vkft_block *b, uint32_t at, VkDeviceSize off, VkDeviceSize len) {
    if (b->free_count == b->free_cap) {
        b->free_cap = b->free_cap ? b->free_cap * 2 : 16;
        b->free_off = realloc(b->free_off, b->free_cap * sizeof *b->free_off);
        b->free_len = realloc(b->free_len, b->free_cap * sizeof *b->free_len);
    }
    memmove(b->free_off + at + 1, b->free_off + at, (b->free_count - at) * sizeof *b->free_off);
    memmove(b->free_len + at + 1, b->free_len + at, (b->free_count - at) * sizeof *b->free_len);
    b->free_off[at] = off;
    b->free_len[at] = len;
    b->free_count++;
}

static void free_list_remove(vkft_block *b, uint32_t at) {
    memmove(b->free_off + at, b->free_off + at + 1, (b->free_count - at - 1) * sizeof *b->free_off);
    memmove(b->free_len + at, b->free_len + at + 1, (b->free_count - at - 1) * sizeof *b->free_len);
    b->free_count--;
}

static int block_take(vkft_block *b, VkDeviceSize size, VkDeviceSize *offset) {
    for (uint32_t i = 0; i < b->free_count; i++) {
        if (b->free_len[i] < size) continue;
        *offset = b->free_off[i];
        b->free_off[i] += size;
        b->free_len[i] -= size;
        if (b->free_len[i] == 0) free_list_remove(b, i);
        b->used += size;
        b->allocations++;
        return 1;
    }
    return 0;
}

static void block_give(vkft_block *b, VkDeviceSize off, VkDeviceSize len) {
    uint32_t at = 0;
    while (at < b->free_count && b->free_off[at] < off) at++;
    free_list_insert(b, at, off, len);
    if (at + 1 < b->free_count && b->free_off[at] + b->free_len[at] == b->free_off[at + 1]) {
        b->free_len[at] += b->free_len[at + 1];
        free_list_remove(b, at + 1);
    }
    if (at > 0 && b->free_off[at - 1] + b->free_len[at - 1] == b->free_off[at]) {
        b->free_len[at - 1] += b->free_len[at];
        free_list_remove(b, at);
    }
    b->used -= len;
    b->allocations--;
}

static void block_destroy(vkft_ctx *ctx, vkft_block *b) {
    if (!b) return;
    if (b->memory) ctx->device_bytes -= b->reserved;
    if (b->mapped) ctx->vk.UnmapMemory(ctx->device, b->memory);
    if (b->buffer) ctx->vk.DestroyBuffer(ctx->device, b->buffer, NULL);
    if (b->memory) ctx->vk.FreeMemory(ctx->device, b->memory, NULL);
    free(b->free_off);
    free(b->free_len);
    free(b);
}

/* ---- arenas ------------------------------------------------------------------------------- */

/* A block is one allocation (at most maxMemoryAllocationSize). A buffer inside it may exceed what one
 * kernel binding spans (maxStorageBufferRange, 128 MiB on lavapipe): kernels then bind parts of it (an
 * embedding table by vocabulary slices), and vkft_rec_dispatch refuses a binding beyond the limit. */
static VkDeviceSize max_block_size(const vkft_ctx *ctx) {
    const vkft_device_caps *c = vkft_device(ctx);
    return c->max_allocation_size ? c->max_allocation_size : (VkDeviceSize)1 << 30;
}

VkDeviceSize vkft_binding_limit(const vkft_ctx *ctx) { return ctx->binding_limit; }

uint64_t vkft_aligned_count(const vkft_ctx *ctx, uint64_t elem_bytes, uint64_t max_elems) {
    uint64_t align = vkft_arena_alignment(ctx), a = align, b = elem_bytes % align;
    while (b) { /* gcd(align, elem_bytes): n must be a multiple of align / gcd */
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    uint64_t step = align / a, n = max_elems / step * step;
    return n ? n : step;
}

vkft_arena *vkft_arena_create(vkft_ctx *ctx, const char *name, VkDeviceSize block_size) {
    vkft_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->ctx = ctx;
    snprintf(a->name, sizeof a->name, "%s", name ? name : "arena");
    if (block_size == 0) block_size = 256ull << 20;
    if (block_size > max_block_size(ctx)) block_size = max_block_size(ctx);
    a->block_size = block_size;
    return a;
}

void vkft_arena_destroy(vkft_arena *a) {
    if (!a) return;
    for (uint32_t i = 0; i < a->block_count; i++) block_destroy(a->ctx, a->blocks[i]);
    free(a->blocks);
    free(a);
}

static vkft_block *arena_new_block(vkft_arena *a, VkDeviceSize size) {
    vkft_ctx *ctx = a->ctx;
    vkft_block *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    char what[128];
    snprintf(what, sizeof what, "arena '%s' (block %u)", a->name, a->block_count);
    if (create_buffer(ctx, size, 0, what, &b->buffer, &b->memory, &b->mapped)) {
        block_destroy(ctx, b);
        return NULL;
    }
    b->size = size;
    b->reserved = buffer_memory_size(ctx, b->buffer);
    b->id = ++ctx->next_block_id;
    free_list_insert(b, 0, 0, size);
    vkft_block **grown = realloc(a->blocks, (a->block_count + 1) * sizeof *grown);
    if (!grown) {
        block_destroy(ctx, b);
        return NULL;
    }
    a->blocks = grown;
    a->blocks[a->block_count++] = b;
    return b;
}

int vkft_arena_alloc(vkft_arena *a, VkDeviceSize size, vkft_buf *out) {
    vkft_ctx *ctx = a->ctx;
    VkDeviceSize align = vkft_arena_alignment(ctx);
    VkDeviceSize rounded = (size ? size + align - 1 : align) / align * align;
    memset(out, 0, sizeof *out);
    if (size > max_block_size(ctx))
        return vkft_set_error(ctx, "arena '%s': one buffer of %.1f MiB exceeds the device's largest allocation "
                                   "(%.1f MiB)",
                              a->name, size / MiB, max_block_size(ctx) / MiB);
    VkDeviceSize offset = 0;
    vkft_block *b = NULL;
    for (uint32_t i = 0; i < a->block_count && !b; i++)
        if (block_take(a->blocks[i], rounded, &offset)) b = a->blocks[i];
    if (!b) {
        b = arena_new_block(a, rounded > a->block_size ? rounded : a->block_size);
        if (!b) return -1;
        block_take(b, rounded, &offset);
    }
    a->used += rounded;
    if (a->used > a->peak) a->peak = a->used;
    out->block = b;
    out->offset = offset;
    out->size = size;
    return 0;
}

void vkft_arena_free(vkft_arena *a, vkft_buf buf) {
    if (!buf.block) return;
    VkDeviceSize align = vkft_arena_alignment(a->ctx);
    VkDeviceSize rounded = (buf.size ? buf.size + align - 1 : align) / align * align;
    block_give(buf.block, buf.offset, rounded);
    a->used -= rounded;
}

vkft_arena_stats vkft_arena_get_stats(const vkft_arena *a) {
    vkft_arena_stats s = {0};
    for (uint32_t i = 0; i < a->block_count; i++) {
        s.reserved += a->blocks[i]->size;
        s.allocations += a->blocks[i]->allocations;
    }
    s.blocks = a->block_count;
    s.used = a->used;
    s.peak = a->peak;
    return s;
}

vkft_arena *vkft_default_arena(vkft_ctx *ctx) { return ctx->default_arena; }

vkft_buf vkft_buf_slice(vkft_buf buf, VkDeviceSize offset, VkDeviceSize size) {
    vkft_buf s = {buf.block, buf.offset + offset, size};
    return s;
}

/* ---- staging and transfers ---------------------------------------------------------------- */

int vkft_memory_init(vkft_ctx *ctx) {
    const char *mb = getenv("VKFT_MEMORY_LIMIT_MB");
    ctx->memory_limit = ctx->opts.memory_limit;
    if (!ctx->memory_limit && mb && atof(mb) > 0) ctx->memory_limit = (VkDeviceSize)(atof(mb) * MiB);
    const char *kb = getenv("VKFT_BINDING_LIMIT_KB");
    VkDeviceSize range = vkft_device(ctx)->max_storage_buffer_range;
    ctx->binding_limit = ctx->opts.binding_limit;
    if (!ctx->binding_limit && kb && atof(kb) > 0) ctx->binding_limit = (VkDeviceSize)(atof(kb) * 1024);
    if (!ctx->binding_limit || ctx->binding_limit > range) ctx->binding_limit = range;
    ctx->default_arena = vkft_arena_create(ctx, "default", 0);
    return ctx->default_arena ? 0 : vkft_set_error(ctx, "out of host memory");
}

void vkft_memory_shutdown(vkft_ctx *ctx) {
    vkft_arena_destroy(ctx->default_arena);
    ctx->default_arena = NULL;
    vkft_vk *vk = &ctx->vk;
    if (ctx->staging_map) vk->UnmapMemory(ctx->device, ctx->staging_memory);
    if (ctx->staging) ctx->device_bytes -= buffer_memory_size(ctx, ctx->staging);
    if (ctx->staging) vk->DestroyBuffer(ctx->device, ctx->staging, NULL);
    if (ctx->staging_memory) vk->FreeMemory(ctx->device, ctx->staging_memory, NULL);
}

static int ensure_staging(vkft_ctx *ctx) {
    if (ctx->staging) return 0;
    ctx->staging_size = 64ull << 20;
    return create_buffer(ctx, ctx->staging_size, 1, "the staging buffer", &ctx->staging, &ctx->staging_memory,
                         &ctx->staging_map);
}

static int check_range(vkft_ctx *ctx, vkft_buf b, VkDeviceSize off, size_t bytes, const char *what) {
    if (!b.block) return vkft_set_error(ctx, "%s: buffer is not allocated", what);
    if (off + bytes > b.size)
        return vkft_set_error(ctx, "%s: %zu bytes at offset %llu exceed the buffer's %llu bytes", what, bytes,
                              (unsigned long long)off, (unsigned long long)b.size);
    return 0;
}

static void transfer_barrier(vkft_ctx *ctx, VkCommandBuffer cb, VkAccessFlags dst_access,
                             VkPipelineStageFlags dst_stage) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = dst_access};
    ctx->vk.CmdPipelineBarrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
}

int vkft_upload(vkft_ctx *ctx, vkft_buf dst, VkDeviceSize dst_offset, const void *src, size_t bytes) {
    if (check_range(ctx, dst, dst_offset, bytes, "upload")) return -1;
    if (dst.block->mapped) {
        memcpy((char *)dst.block->mapped + dst.offset + dst_offset, src, bytes);
        return 0;
    }
    if (ensure_staging(ctx)) return -1;
    for (size_t done = 0; done < bytes;) {
        size_t n = bytes - done < ctx->staging_size ? bytes - done : (size_t)ctx->staging_size;
        memcpy(ctx->staging_map, (const char *)src + done, n);
        VkCommandBuffer cb;
        if (vkft_oneshot_begin(ctx, &cb)) return -1;
        VkBufferCopy region = {0, dst.offset + dst_offset + done, n};
        ctx->vk.CmdCopyBuffer(cb, ctx->staging, dst.block->buffer, 1, &region);
        transfer_barrier(ctx, cb, VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);
        if (vkft_oneshot_submit(ctx, cb)) return -1;
        done += n;
    }
    return 0;
}

int vkft_download(vkft_ctx *ctx, vkft_buf src, VkDeviceSize src_offset, void *dst, size_t bytes) {
    if (check_range(ctx, src, src_offset, bytes, "download")) return -1;
    if (src.block->mapped) {
        memcpy(dst, (const char *)src.block->mapped + src.offset + src_offset, bytes);
        return 0;
    }
    if (ensure_staging(ctx)) return -1;
    for (size_t done = 0; done < bytes;) {
        size_t n = bytes - done < ctx->staging_size ? bytes - done : (size_t)ctx->staging_size;
        VkCommandBuffer cb;
        if (vkft_oneshot_begin(ctx, &cb)) return -1;
        VkBufferCopy region = {src.offset + src_offset + done, 0, n};
        ctx->vk.CmdCopyBuffer(cb, src.block->buffer, ctx->staging, 1, &region);
        transfer_barrier(ctx, cb, VK_ACCESS_HOST_READ_BIT, VK_PIPELINE_STAGE_HOST_BIT);
        if (vkft_oneshot_submit(ctx, cb)) return -1;
        memcpy((char *)dst + done, ctx->staging_map, n);
        done += n;
    }
    return 0;
}
