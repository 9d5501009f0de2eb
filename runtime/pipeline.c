/* The pipeline library: kernels from a table, the SPIR-V variant the device supports, specialization
 * from the device's limits, and a VkPipelineCache kept on disk (runtime/pipeline_cache.c). */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/pipeline_cache.h"
#include "runtime/spirv_index.h"

static uint32_t device_features(const vkft_device_caps *c) {
    uint32_t f = 0;
    if (c->fp16) f |= VKFT_NEED_FP16;
    if (c->int8) f |= VKFT_NEED_INT8;
    if (c->coopmat) f |= VKFT_NEED_COOPMAT;
    if (c->bf16) f |= VKFT_NEED_BF16;
    return f;
}

static const vkft_spirv_blob *find_blob(const char *shader, const char *variant) {
    for (size_t i = 0; i < vkft_spirv_blob_count; i++)
        if (!strcmp(vkft_spirv_blobs[i].shader, shader) && !strcmp(vkft_spirv_blobs[i].variant, variant))
            return &vkft_spirv_blobs[i];
    return NULL;
}

/* The first variant in the kernel's preference list that was built and that the device supports. */
static const vkft_spirv_blob *choose_variant(vkft_ctx *ctx, const vkft_kernel_def *def) {
    uint32_t have = device_features(vkft_device(ctx));
    static const char *const base_only[] = {"base", NULL};
    const char *const *names = def->variants[0] ? def->variants : base_only;
    char tried[256] = "";
    for (int i = 0; i < 4 && names[i]; i++) {
        const vkft_spirv_blob *b = find_blob(def->shader, names[i]);
        size_t len = strlen(tried);
        snprintf(tried + len, sizeof tried - len, "%s%s%s", i ? ", " : "", names[i],
                 !b ? " (not built)" : (b->needs & ~have) ? " (device lacks a feature)" : "");
        if (b && !(b->needs & ~have)) return b;
    }
    vkft_set_error(ctx, "kernel %s: no SPIR-V variant of shaders/%s.comp fits this device (tried %s)", def->name,
                   def->shader, tried);
    return NULL;
}

static void destroy_pipeline(vkft_ctx *ctx, vkft_pipeline *p) {
    if (!p) return;
    vkft_vk *vk = &ctx->vk;
    if (p->pipeline) vk->DestroyPipeline(ctx->device, p->pipeline, NULL);
    if (p->layout) vk->DestroyPipelineLayout(ctx->device, p->layout, NULL);
    if (p->set_layout) vk->DestroyDescriptorSetLayout(ctx->device, p->set_layout, NULL);
    if (p->module) vk->DestroyShaderModule(ctx->device, p->module, NULL);
    free(p);
}

static int build_pipeline(vkft_ctx *ctx, const vkft_kernel_def *def, vkft_pipeline *p) {
    vkft_vk *vk = &ctx->vk;
    const vkft_device_caps *caps = vkft_device(ctx);
    const vkft_spirv_blob *blob = choose_variant(ctx, def);
    if (!blob) return -1;
    p->variant = blob->variant;

    vkft_spirv_info info;
    char err[256];
    if (vkft_spirv_reflect(blob->code, *blob->size_bytes, &info, err, sizeof err))
        return vkft_set_error(ctx, "kernel %s (%s/%s): %s", def->name, def->shader, blob->variant, err);
    if (info.push_size != def->push_size)
        return vkft_set_error(ctx, "kernel %s: the push-constant block of shaders/%s.comp [%s] is %u bytes but "
                                   "the C struct is %u bytes; keep them in step",
                              def->name, def->shader, blob->variant, info.push_size, def->push_size);
    if (info.push_size > caps->max_push_constants)
        return vkft_set_error(ctx, "kernel %s: %u bytes of push constants exceed the device's %u", def->name,
                              info.push_size, caps->max_push_constants);
    if (info.binding_count > VKFT_MAX_BINDINGS)
        return vkft_set_error(ctx, "kernel %s: %u bindings exceed %d", def->name, info.binding_count,
                              VKFT_MAX_BINDINGS);
    p->binding_count = info.binding_count;
    p->texel_mask = info.texel_mask;
    p->texel_uint_mask = info.texel_uint_mask;

    /* Specialization: the table's constants, then the kernel's own choice from the device's limits. */
    memcpy(p->spec, def->spec, sizeof p->spec);
    if (p->spec[0] == 0) p->spec[0] = 256;
    if (def->specialize) def->specialize(caps, p->spec);
    if (p->spec[0] > caps->max_workgroup_invocations) p->spec[0] = caps->max_workgroup_invocations;
    if (p->spec[0] > caps->max_workgroup_size[0]) p->spec[0] = caps->max_workgroup_size[0];
    uint32_t spec_count = def->spec_count ? def->spec_count : 1;

    VkShaderModuleCreateInfo mi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
                                   .codeSize = *blob->size_bytes,
                                   .pCode = blob->code};
    VK_CHECK(ctx, vk->CreateShaderModule(ctx->device, &mi, NULL, &p->module));

    VkDescriptorSetLayoutBinding bindings[VKFT_MAX_BINDINGS];
    for (uint32_t i = 0; i < p->binding_count; i++)
        bindings[i] = (VkDescriptorSetLayoutBinding){.binding = i,
                                                     .descriptorType = (p->texel_mask >> i) & 1
                                                                           ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                                           : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
                                                     .descriptorCount = 1,
                                                     .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT};
    VkDescriptorSetLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
                                          .bindingCount = p->binding_count,
                                          .pBindings = bindings};
    VK_CHECK(ctx, vk->CreateDescriptorSetLayout(ctx->device, &li, NULL, &p->set_layout));
    VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, def->push_size};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
                                      .setLayoutCount = 1,
                                      .pSetLayouts = &p->set_layout,
                                      .pushConstantRangeCount = def->push_size ? 1 : 0,
                                      .pPushConstantRanges = &range};
    VK_CHECK(ctx, vk->CreatePipelineLayout(ctx->device, &pli, NULL, &p->layout));

    VkSpecializationMapEntry entries[VKFT_MAX_SPEC];
    for (uint32_t i = 0; i < spec_count; i++) entries[i] = (VkSpecializationMapEntry){i, i * 4, 4};
    VkSpecializationInfo si = {spec_count, entries, spec_count * 4, p->spec};
    VkPipelineShaderStageRequiredSubgroupSizeCreateInfo rss = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO,
        .requiredSubgroupSize = def->required_subgroup_size};
    int want_size = def->required_subgroup_size && caps->subgroup_size_control &&
                    def->required_subgroup_size >= caps->subgroup_size_min &&
                    def->required_subgroup_size <= caps->subgroup_size_max;
    VkPipelineCreationFeedback feedback = {0}, stage_feedback = {0};
    VkPipelineCreationFeedbackCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CREATION_FEEDBACK_CREATE_INFO,
                                                .pPipelineCreationFeedback = &feedback,
                                                .pipelineStageCreationFeedbackCount = 1,
                                                .pPipelineStageCreationFeedbacks = &stage_feedback};
    int has_feedback = caps->api_version >= VK_API_VERSION_1_3 && ctx->instance_version >= VK_API_VERSION_1_3;
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .pNext = has_feedback ? &fci : NULL,
        .stage = {.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
                  .pNext = want_size ? &rss : NULL,
                  .flags = want_size && caps->compute_full_subgroups
                               ? VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT
                               : 0,
                  .stage = VK_SHADER_STAGE_COMPUTE_BIT,
                  .module = p->module,
                  .pName = "main",
                  .pSpecializationInfo = &si},
        .layout = p->layout,
    };
    VkResult r = vk->CreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &ci, NULL, &p->pipeline);
    if (r != VK_SUCCESS) {
        vkft_vk_fail(ctx, r, "vkCreateComputePipelines", __FILE__, __LINE__);
        size_t len = strlen(ctx->error);
        snprintf(ctx->error + len, sizeof ctx->error - len, " (kernel %s, variant %s)", def->name, blob->variant);
        return -1;
    }
    ctx->pipeline_stats.created++;
    if (has_feedback && (feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_VALID_BIT) &&
        (feedback.flags & VK_PIPELINE_CREATION_FEEDBACK_APPLICATION_PIPELINE_CACHE_HIT_BIT))
        ctx->pipeline_stats.cache_hits++;
    return 0;
}

vkft_pipeline *vkft_pipeline_get(vkft_ctx *ctx, const vkft_kernel_def *def) {
    for (uint32_t i = 0; i < ctx->pipeline_count; i++)
        if (ctx->pipelines[i]->def == def) return ctx->pipelines[i];
    vkft_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        vkft_set_error(ctx, "out of host memory");
        return NULL;
    }
    p->def = def;
    if (build_pipeline(ctx, def, p)) {
        destroy_pipeline(ctx, p);
        return NULL;
    }
    if (ctx->pipeline_count == ctx->pipeline_cap) {
        ctx->pipeline_cap = ctx->pipeline_cap ? ctx->pipeline_cap * 2 : 32;
        ctx->pipelines = realloc(ctx->pipelines, ctx->pipeline_cap * sizeof *ctx->pipelines);
    }
    ctx->pipelines[ctx->pipeline_count++] = p;
    return p;
}

const uint32_t *vkft_pipeline_spec(const vkft_pipeline *p) { return p->spec; }

uint32_t vkft_row_workgroup_size(const vkft_device_caps *caps, uint32_t gpu_size) {
    uint32_t wg = gpu_size;
    if (caps->vk_type == VK_PHYSICAL_DEVICE_TYPE_CPU && caps->subgroup_size) wg = caps->subgroup_size;
    while (wg > caps->max_workgroup_invocations) wg /= 2;
    return wg;
}
const char *vkft_pipeline_variant(const vkft_pipeline *p) { return p->variant; }
vkft_pipeline_stats vkft_pipeline_get_stats(const vkft_ctx *ctx) { return ctx->pipeline_stats; }

int vkft_pipelines_init(vkft_ctx *ctx) { return vkft_pipeline_cache_open(ctx); }

void vkft_pipelines_shutdown(vkft_ctx *ctx) {
    if (ctx->pipeline_stats.created > ctx->pipeline_stats.cache_hits) vkft_pipeline_cache_save(ctx);
    for (uint32_t i = 0; i < ctx->pipeline_count; i++) destroy_pipeline(ctx, ctx->pipelines[i]);
    free(ctx->pipelines);
    ctx->pipelines = NULL;
    ctx->pipeline_count = ctx->pipeline_cap = 0;
    if (ctx->pipeline_cache) ctx->vk.DestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
    ctx->pipeline_cache = VK_NULL_HANDLE;
}
