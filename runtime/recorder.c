/* Command recording: many dispatches in one command buffer. Each dispatch declares what it reads and
 * writes; a barrier is inserted only where that creates a hazard with work recorded since the last
 * barrier (read-after-write, write-after-write, write-after-read). */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct {
    uint32_t block;
    VkDeviceSize lo, hi;
} range;

typedef struct {
    range *items;
    uint32_t count, cap;
} range_list;

enum { SETS_PER_POOL = 512, QUERY_CAPACITY = 32768 };

struct vkft_recorder {
    vkft_ctx *ctx;
    VkCommandBuffer cb;
    int recording, ended;
    VkDescriptorPool *pools;
    uint32_t pool_count, pool_used;
    VkBufferView *views; /* texel-buffer views of this recording, destroyed when the next one begins */
    uint32_t view_count, view_cap;
    range_list reads, writes;
    VkQueryPool queries;
    uint32_t query_pairs;
    const char **query_names;
    vkft_recorder_stats stats;
};

static void range_add(range_list *l, vkft_buf b) {
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = realloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = (range){b.block->id, b.offset, b.offset + (b.size ? b.size : 1)};
}

static int range_overlaps(const range_list *l, vkft_buf b) {
    VkDeviceSize lo = b.offset, hi = b.offset + (b.size ? b.size : 1);
    for (uint32_t i = 0; i < l->count; i++)
        if (l->items[i].block == b.block->id && l->items[i].lo < hi && lo < l->items[i].hi) return 1;
    return 0;
}

vkft_recorder *vkft_recorder_create(vkft_ctx *ctx) {
    vkft_recorder *rec = calloc(1, sizeof *rec);
    if (!rec) {
        vkft_set_error(ctx, "out of host memory");
        return NULL;
    }
    rec->ctx = ctx;
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = ctx->command_pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    VkResult r = ctx->vk.AllocateCommandBuffers(ctx->device, &ai, &rec->cb);
    if (r != VK_SUCCESS) {
        vkft_vk_fail(ctx, r, "vkAllocateCommandBuffers", __FILE__, __LINE__);
        free(rec);
        return NULL;
    }
    if (ctx->profile && vkft_device(ctx)->timestamp_valid_bits > 0) {
        VkQueryPoolCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
                                    .queryType = VK_QUERY_TYPE_TIMESTAMP,
                                    .queryCount = QUERY_CAPACITY};
        if (ctx->vk.CreateQueryPool(ctx->device, &qi, NULL, &rec->queries) == VK_SUCCESS)
            rec->query_names = calloc(QUERY_CAPACITY / 2, sizeof *rec->query_names);
    }
    return rec;
}

void vkft_recorder_destroy(vkft_recorder *rec) {
    if (!rec) return;
    vkft_ctx *ctx = rec->ctx;
    ctx->vk.QueueWaitIdle(ctx->queue);
    for (uint32_t i = 0; i < rec->pool_count; i++) ctx->vk.DestroyDescriptorPool(ctx->device, rec->pools[i], NULL);
    for (uint32_t i = 0; i < rec->view_count; i++) ctx->vk.DestroyBufferView(ctx->device, rec->views[i], NULL);
    free(rec->views);
    if (rec->queries) ctx->vk.DestroyQueryPool(ctx->device, rec->queries, NULL);
    ctx->vk.FreeCommandBuffers(ctx->device, ctx->command_pool, 1, &rec->cb);
    free(rec->pools);
    free(rec->reads.items);
    free(rec->writes.items);
    free(rec->query_names);
    free(rec);
}

int vkft_rec_begin(vkft_recorder *rec) {
    vkft_ctx *ctx = rec->ctx;
    VK_CHECK(ctx, ctx->vk.ResetCommandBuffer(rec->cb, 0));
    for (uint32_t i = 0; i < rec->pool_count; i++) VK_CHECK(ctx, ctx->vk.ResetDescriptorPool(ctx->device, rec->pools[i], 0));
    rec->pool_used = 0;
    for (uint32_t i = 0; i < rec->view_count; i++) ctx->vk.DestroyBufferView(ctx->device, rec->views[i], NULL);
    rec->view_count = 0;
    rec->reads.count = rec->writes.count = 0;
    rec->query_pairs = 0;
    memset(&rec->stats, 0, sizeof rec->stats);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VK_CHECK(ctx, ctx->vk.BeginCommandBuffer(rec->cb, &bi));
    if (rec->queries) ctx->vk.CmdResetQueryPool(rec->cb, rec->queries, 0, QUERY_CAPACITY);
    rec->recording = 1;
    rec->ended = 0;
    return 0;
}

static void barrier(vkft_recorder *rec, VkAccessFlags dst_access, VkPipelineStageFlags dst_stage) {
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = dst_access};
    rec->ctx->vk.CmdPipelineBarrier(rec->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                                    dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
    rec->reads.count = rec->writes.count = 0;
    rec->stats.barriers++;
}

/* Inserts a barrier if reading `r` / writing `w` would race with pending work, then records them. */
static void track(vkft_recorder *rec, const vkft_buf *r, uint32_t nr, const vkft_buf *w, uint32_t nw) {
    int hazard = 0;
    for (uint32_t i = 0; i < nr && !hazard; i++) hazard = range_overlaps(&rec->writes, r[i]);
    for (uint32_t i = 0; i < nw && !hazard; i++)
        hazard = range_overlaps(&rec->writes, w[i]) || range_overlaps(&rec->reads, w[i]);
    if (hazard && rec->ctx->opts.unsafe_skip_barriers) {
        rec->reads.count = rec->writes.count = 0;
    } else if (hazard) {
        barrier(rec,
                VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                    VK_ACCESS_TRANSFER_WRITE_BIT,
                VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT);
    }
    for (uint32_t i = 0; i < nr; i++) range_add(&rec->reads, r[i]);
    for (uint32_t i = 0; i < nw; i++) range_add(&rec->writes, w[i]);
}

static int check_recording(vkft_recorder *rec, const char *what) {
    if (!rec->recording) return vkft_set_error(rec->ctx, "%s: the recorder is not recording (call vkft_rec_begin)", what);
    return 0;
}

/* A texel-buffer view of b as 16-byte texels (vec4 / uvec4 in the shader, element i / 4 of the binding),
 * kept until the recorder's next recording. The range is b rounded up to whole texels where the block has
 * room (a kernel reads only what it was given), else down. */
static VkBufferView texel_view(vkft_recorder *rec, vkft_buf b, int uint_texels) {
    vkft_ctx *ctx = rec->ctx;
    if (b.offset % 16) {
        vkft_set_error(ctx, "a texel-buffer binding must start 16-byte aligned (offset %llu)",
                       (unsigned long long)b.offset);
        return VK_NULL_HANDLE;
    }
    VkDeviceSize range = (b.size + 15) / 16 * 16;
    if (b.offset + range > b.block->size) range = b.size / 16 * 16;
    if (range == 0 || range / 16 > vkft_device(ctx)->max_texel_buffer_elements) {
        vkft_set_error(ctx, "a texel-buffer binding of %llu bytes is not 1 to %u texels of 16 bytes",
                       (unsigned long long)b.size, vkft_device(ctx)->max_texel_buffer_elements);
        return VK_NULL_HANDLE;
    }
    if (rec->view_count == rec->view_cap) {
        uint32_t cap = rec->view_cap ? 2 * rec->view_cap : 64;
        VkBufferView *v = realloc(rec->views, cap * sizeof *v);
        if (!v) {
            vkft_set_error(ctx, "out of host memory");
            return VK_NULL_HANDLE;
        }
        rec->views = v, rec->view_cap = cap;
    }
    VkBufferViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
                                 .buffer = b.block->buffer,
                                 .format = uint_texels ? VK_FORMAT_R32G32B32A32_UINT : VK_FORMAT_R32G32B32A32_SFLOAT,
                                 .offset = b.offset,
                                 .range = range};
    VkBufferView view;
    VkResult r = ctx->vk.CreateBufferView(ctx->device, &vi, NULL, &view);
    if (r != VK_SUCCESS) {
        vkft_vk_fail(ctx, r, "vkCreateBufferView", __FILE__, __LINE__);
        return VK_NULL_HANDLE;
    }
    rec->views[rec->view_count++] = view;
    return view;
}

static VkDescriptorSet alloc_set(vkft_recorder *rec, VkDescriptorSetLayout layout) {
    vkft_ctx *ctx = rec->ctx;
    for (;;) {
        if (rec->pool_used == rec->pool_count) {
            VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * VKFT_MAX_BINDINGS},
                                             {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, SETS_PER_POOL * 4}};
            VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
                                             .maxSets = SETS_PER_POOL,
                                             .poolSizeCount = 2,
                                             .pPoolSizes = sizes};
            VkDescriptorPool pool;
            VkResult r = ctx->vk.CreateDescriptorPool(ctx->device, &pi, NULL, &pool);
            if (r != VK_SUCCESS) {
                vkft_vk_fail(ctx, r, "vkCreateDescriptorPool", __FILE__, __LINE__);
                return VK_NULL_HANDLE;
            }
            rec->pools = realloc(rec->pools, (rec->pool_count + 1) * sizeof *rec->pools);
            rec->pools[rec->pool_count++] = pool;
        }
        VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
                                          .descriptorPool = rec->pools[rec->pool_used],
                                          .descriptorSetCount = 1,
                                          .pSetLayouts = &layout};
        VkDescriptorSet set;
        VkResult r = ctx->vk.AllocateDescriptorSets(ctx->device, &ai, &set);
        if (r == VK_SUCCESS) return set;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL) {
            vkft_vk_fail(ctx, r, "vkAllocateDescriptorSets", __FILE__, __LINE__);
            return VK_NULL_HANDLE;
        }
        rec->pool_used++; /* this pool is full: move on to the next (created above if needed) */
    }
}

int vkft_rec_dispatch(vkft_recorder *rec, const vkft_kernel_def *def, const void *push, uint32_t gx, uint32_t gy,
                      uint32_t gz, const vkft_binding *bindings, uint32_t binding_count) {
    vkft_ctx *ctx = rec->ctx;
    if (check_recording(rec, def->name)) return -1;
    vkft_pipeline *p = vkft_pipeline_get(ctx, def);
    if (!p) return -1;
    /* The shader's bindings come from its SPIR-V: one the compiler optimized away (unused in this variant)
     * may be passed anyway; it is tracked for hazards but not bound. */
    if (binding_count < p->binding_count || binding_count > VKFT_MAX_BINDINGS)
        return vkft_set_error(ctx, "kernel %s takes %u buffers, %u given", def->name, p->binding_count, binding_count);
    const vkft_device_caps *caps = vkft_device(ctx);
    if (gx == 0 || gy == 0 || gz == 0) return 0; /* nothing to do */
    if (gx > caps->max_workgroup_count[0] || gy > caps->max_workgroup_count[1] || gz > caps->max_workgroup_count[2])
        return vkft_set_error(ctx, "kernel %s: %u x %u x %u workgroups exceed the device's limit %u x %u x %u",
                              def->name, gx, gy, gz, caps->max_workgroup_count[0], caps->max_workgroup_count[1],
                              caps->max_workgroup_count[2]);
    vkft_buf r[VKFT_MAX_BINDINGS], w[VKFT_MAX_BINDINGS];
    uint32_t nr = 0, nw = 0;
    VkDescriptorBufferInfo infos[VKFT_MAX_BINDINGS];
    VkBufferView views[VKFT_MAX_BINDINGS];
    VkWriteDescriptorSet writes[VKFT_MAX_BINDINGS];
    VkDescriptorSet set = alloc_set(rec, p->set_layout);
    if (!set) return -1;
    for (uint32_t i = 0; i < binding_count; i++) {
        const vkft_binding *b = &bindings[i];
        if (!b->buf.block) return vkft_set_error(ctx, "kernel %s: buffer %u is not allocated", def->name, i);
        if (b->buf.size > ctx->binding_limit)
            return vkft_set_error(ctx,
                                  "kernel %s: buffer %u spans %.1f MiB, more than one binding may on this device "
                                  "(%.1f MiB); the caller must split it",
                                  def->name, i, b->buf.size / 1048576.0, ctx->binding_limit / 1048576.0);
        if (b->access & VKFT_READ) r[nr++] = b->buf;
        if (b->access & VKFT_WRITE) w[nw++] = b->buf;
        int texel = i < p->binding_count && ((p->texel_mask >> i) & 1);
        infos[i] = (VkDescriptorBufferInfo){b->buf.block->buffer, b->buf.offset, b->buf.size ? b->buf.size : 4};
        if (texel && !(views[i] = texel_view(rec, b->buf, (p->texel_uint_mask >> i) & 1))) return -1;
        writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
                                           .dstSet = set,
                                           .dstBinding = i,
                                           .descriptorCount = 1,
                                           .descriptorType = texel ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                                   : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                           .pBufferInfo = texel ? NULL : &infos[i],
                                           .pTexelBufferView = texel ? &views[i] : NULL};
    }
    ctx->vk.UpdateDescriptorSets(ctx->device, p->binding_count, writes, 0, NULL);
    track(rec, r, nr, w, nw);
    ctx->vk.CmdBindPipeline(rec->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    ctx->vk.CmdBindDescriptorSets(rec->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (def->push_size) ctx->vk.CmdPushConstants(rec->cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, def->push_size, push);
    int timed = rec->queries && rec->query_pairs < QUERY_CAPACITY / 2;
    if (timed) ctx->vk.CmdWriteTimestamp(rec->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, rec->queries, 2 * rec->query_pairs);
    ctx->vk.CmdDispatch(rec->cb, gx, gy, gz);
    if (timed) {
        ctx->vk.CmdWriteTimestamp(rec->cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, rec->queries, 2 * rec->query_pairs + 1);
        rec->query_names[rec->query_pairs++] = def->name;
    }
    rec->stats.dispatches++;
    return 0;
}

int vkft_rec_copy(vkft_recorder *rec, vkft_buf src, vkft_buf dst, VkDeviceSize bytes) {
    if (check_recording(rec, "copy")) return -1;
    if (!src.block || !dst.block || bytes > src.size || bytes > dst.size)
        return vkft_set_error(rec->ctx, "copy of %llu bytes does not fit its buffers", (unsigned long long)bytes);
    vkft_buf s = vkft_buf_slice(src, 0, bytes), d = vkft_buf_slice(dst, 0, bytes);
    track(rec, &s, 1, &d, 1);
    VkBufferCopy region = {src.offset, dst.offset, bytes};
    rec->ctx->vk.CmdCopyBuffer(rec->cb, src.block->buffer, dst.block->buffer, 1, &region);
    rec->stats.copies++;
    return 0;
}

int vkft_rec_fill(vkft_recorder *rec, vkft_buf dst, uint32_t pattern) {
    if (check_recording(rec, "fill")) return -1;
    if (!dst.block || dst.offset % 4 || dst.size % 4)
        return vkft_set_error(rec->ctx, "fill: offset and size must be multiples of 4");
    track(rec, NULL, 0, &dst, 1);
    rec->ctx->vk.CmdFillBuffer(rec->cb, dst.block->buffer, dst.offset, dst.size, pattern);
    rec->stats.copies++;
    return 0;
}

int vkft_rec_end(vkft_recorder *rec) {
    vkft_ctx *ctx = rec->ctx;
    if (check_recording(rec, "end")) return -1;
    /* Make every write visible to whatever comes next: later submissions and the host. */
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                          .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          .dstAccessMask = VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT |
                                           VK_ACCESS_HOST_READ_BIT};
    ctx->vk.CmdPipelineBarrier(rec->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                               VK_PIPELINE_STAGE_ALL_COMMANDS_BIT | VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL,
                               0, NULL);
    VK_CHECK(ctx, ctx->vk.EndCommandBuffer(rec->cb));
    rec->recording = 0;
    rec->ended = 1;
    return 0;
}

int vkft_rec_submit(vkft_recorder *rec) {
    vkft_ctx *ctx = rec->ctx;
    if (!rec->ended) return vkft_set_error(ctx, "submit: the recording was not ended (call vkft_rec_end)");
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &rec->cb};
    VK_CHECK(ctx, ctx->vk.QueueSubmit(ctx->queue, 1, &si, ctx->fence));
    if (vkft_wait_fence(ctx, "the recorded GPU work")) return -1;
    if (rec->queries && rec->query_pairs) {
        uint64_t *ts = malloc(2 * rec->query_pairs * sizeof *ts);
        if (!ts) return vkft_set_error(ctx, "out of host memory");
        VkResult r = ctx->vk.GetQueryPoolResults(ctx->device, rec->queries, 0, 2 * rec->query_pairs,
                                                 2 * rec->query_pairs * sizeof *ts, ts, sizeof *ts,
                                                 VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r == VK_SUCCESS) {
            uint32_t bits = vkft_device(ctx)->timestamp_valid_bits;
            uint64_t mask = bits >= 64 ? ~0ull : (1ull << bits) - 1;
            double period = vkft_device(ctx)->timestamp_period;
            for (uint32_t i = 0; i < rec->query_pairs; i++)
                vkft_profile_add(ctx, rec->query_names[i], (double)((ts[2 * i + 1] - ts[2 * i]) & mask) * period);
        }
        free(ts);
        VK_CHECK(ctx, r);
    }
    return 0;
}

vkft_recorder_stats vkft_rec_get_stats(const vkft_recorder *rec) { return rec->stats; }

vkft_ctx *vkft_rec_ctx(vkft_recorder *rec) { return rec->ctx; }
