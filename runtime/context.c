/* The context: Vulkan instance, device choice, capabilities and the logical device. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

void vkft_ctx_options_default(vkft_ctx_options *o) {
    memset(o, 0, sizeof *o);
    o->validation = -1;
    o->profile = -1;
}

const char *vkft_last_error(const vkft_ctx *ctx) { return ctx ? ctx->error : "no context"; }

int vkft_set_error(vkft_ctx *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    return -1;
}

void vkft_warn(vkft_ctx *ctx, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ctx->opts.warn)
        ctx->opts.warn(ctx->opts.warn_user, msg);
    else
        fprintf(stderr, "vkft: warning: %s\n", msg);
}

int vkft_vk_fail(vkft_ctx *ctx, VkResult r, const char *call, const char *file, int line) {
    const char *hint = "";
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY || r == VK_ERROR_OUT_OF_HOST_MEMORY)
        hint = " (out of memory: use a smaller batch or sequence length)";
    else if (r == VK_ERROR_DEVICE_LOST)
        hint = " (the GPU driver reset the device; see the system log)";
    return vkft_set_error(ctx, "%s failed with %s at %s:%d%s", call, vkft_vk_result_name(r), file, line, hint);
}

static int env_flag(const char *name) {
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

/* ---- instance ----------------------------------------------------------------------------- */

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                     VkDebugUtilsMessageTypeFlagsEXT type,
                                                     const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                     void *user) {
    vkft_ctx *ctx = user;
    if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
    /* Print the first messages in full; after that only count them. */
    if (++ctx->validation_messages > 20) {
        if (ctx->validation_messages == 21) fprintf(stderr, "vkft: more validation messages: counting only\n");
        return VK_FALSE;
    }
    fprintf(stderr, "vkft: validation %s: %s\n",
            severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
            data && data->pMessage ? data->pMessage : "(no message)");
    (void)type;
    return VK_FALSE;
}

static int has_extension(const VkExtensionProperties *ext, uint32_t n, const char *name) {
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(ext[i].extensionName, name)) return 1;
    return 0;
}

static int create_instance(vkft_ctx *ctx) {
    vkft_vk *vk = &ctx->vk;
    ctx->instance_version = VK_API_VERSION_1_0;
    if (vk->EnumerateInstanceVersion) vk->EnumerateInstanceVersion(&ctx->instance_version);
    if (ctx->instance_version < VK_API_VERSION_1_3)
        return vkft_set_error(ctx, "the Vulkan loader supports only Vulkan %u.%u; vkft needs 1.3 or newer "
                                   "(update libvulkan1)",
                              VK_API_VERSION_MAJOR(ctx->instance_version),
                              VK_API_VERSION_MINOR(ctx->instance_version));

    const char *layers[1];
    uint32_t layer_count = 0;
    const char *exts[4];
    uint32_t ext_count = 0;
    int have_validation_features = 0;
    if (ctx->validation) {
        uint32_t n = 0;
        vk->EnumerateInstanceLayerProperties(&n, NULL);
        VkLayerProperties *props = calloc(n ? n : 1, sizeof *props);
        vk->EnumerateInstanceLayerProperties(&n, props);
        int found = 0;
        for (uint32_t i = 0; i < n; i++)
            if (!strcmp(props[i].layerName, "VK_LAYER_KHRONOS_validation")) found = 1;
        free(props);
        if (!found)
            return vkft_set_error(ctx, "the validation layer was requested (VKFT_VALIDATION=1) but "
                                       "VK_LAYER_KHRONOS_validation is not installed: apt-get install "
                                       "vulkan-validationlayers, or unset VKFT_VALIDATION");
        layers[layer_count++] = "VK_LAYER_KHRONOS_validation";
        vk->EnumerateInstanceExtensionProperties("VK_LAYER_KHRONOS_validation", &n, NULL);
        VkExtensionProperties *lext = calloc(n ? n : 1, sizeof *lext);
        vk->EnumerateInstanceExtensionProperties("VK_LAYER_KHRONOS_validation", &n, lext);
        have_validation_features = has_extension(lext, n, VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME);
        free(lext);
        exts[ext_count++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        if (have_validation_features) exts[ext_count++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
    }
    uint32_t n = 0;
    vk->EnumerateInstanceExtensionProperties(NULL, &n, NULL);
    VkExtensionProperties *iext = calloc(n ? n : 1, sizeof *iext);
    vk->EnumerateInstanceExtensionProperties(NULL, &n, iext);
    int portability = has_extension(iext, n, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME);
    free(iext);
    if (portability) exts[ext_count++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;

    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "vkft",
        .applicationVersion = VK_MAKE_API_VERSION(0, 0, 1, 0),
        .pEngineName = "vkft",
        .apiVersion = ctx->instance_version >= VK_API_VERSION_1_3 ? VK_API_VERSION_1_3 : VK_API_VERSION_1_2,
    };
    /* Synchronization validation checks that the recorder's barriers cover every hazard. */
    VkValidationFeatureEnableEXT enables[] = {VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
    VkValidationFeaturesEXT features = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = enables,
    };
    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation,
        .pUserData = ctx,
    };
    if (have_validation_features) messenger.pNext = &features;
    VkInstanceCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .pNext = ctx->validation ? &messenger : NULL,
        .flags = portability ? VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR : 0,
        .pApplicationInfo = &app,
        .enabledLayerCount = layer_count,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = ext_count,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vk->CreateInstance(&info, NULL, &ctx->instance);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return vkft_set_error(ctx, "no Vulkan driver is installed (vkCreateInstance: "
                                   "VK_ERROR_INCOMPATIBLE_DRIVER). Install your GPU's Vulkan driver, or "
                                   "`apt-get install mesa-vulkan-drivers` for the lavapipe CPU driver");
    VK_CHECK(ctx, r);
    if (vkft_vk_load_instance(vk, ctx->instance, ctx->error, sizeof ctx->error)) return -1;
    if (ctx->validation && vk->CreateDebugUtilsMessengerEXT) {
        messenger.pNext = NULL; /* the validation features belong to instance creation only */
        VK_CHECK(ctx, vk->CreateDebugUtilsMessengerEXT(ctx->instance, &messenger, NULL, &ctx->messenger));
    }
    return 0;
}

/* ---- capabilities ------------------------------------------------------------------------- */

static const char *component_name(VkComponentTypeKHR t) {
    switch (t) {
    case VK_COMPONENT_TYPE_FLOAT16_KHR: return "f16";
    case VK_COMPONENT_TYPE_FLOAT32_KHR: return "f32";
    case VK_COMPONENT_TYPE_FLOAT64_KHR: return "f64";
    case VK_COMPONENT_TYPE_SINT8_KHR: return "s8";
    case VK_COMPONENT_TYPE_SINT16_KHR: return "s16";
    case VK_COMPONENT_TYPE_SINT32_KHR: return "s32";
    case VK_COMPONENT_TYPE_SINT64_KHR: return "s64";
    case VK_COMPONENT_TYPE_UINT8_KHR: return "u8";
    case VK_COMPONENT_TYPE_UINT16_KHR: return "u16";
    case VK_COMPONENT_TYPE_UINT32_KHR: return "u32";
    case VK_COMPONENT_TYPE_UINT64_KHR: return "u64";
    case VK_COMPONENT_TYPE_BFLOAT16_KHR: return "bf16";
    default: return "other";
    }
}

static const char *type_name(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

static void read_caps(vkft_ctx *ctx, VkPhysicalDevice pd, uint32_t index, vkft_device_caps *c) {
    vkft_vk *vk = &ctx->vk;
    memset(c, 0, sizeof *c);
    c->index = index;
    VkPhysicalDeviceProperties base;
    vk->GetPhysicalDeviceProperties(pd, &base);
    c->api_version = base.apiVersion;
    int v12 = base.apiVersion >= VK_API_VERSION_1_2 && ctx->instance_version >= VK_API_VERSION_1_2;
    int v13 = base.apiVersion >= VK_API_VERSION_1_3 && ctx->instance_version >= VK_API_VERSION_1_3;

    uint32_t n_ext = 0;
    vk->EnumerateDeviceExtensionProperties(pd, NULL, &n_ext, NULL);
    VkExtensionProperties *ext = calloc(n_ext ? n_ext : 1, sizeof *ext);
    vk->EnumerateDeviceExtensionProperties(pd, NULL, &n_ext, ext);
    int has_coop = has_extension(ext, n_ext, VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME);
    int has_bf16 = has_extension(ext, n_ext, VK_KHR_SHADER_BFLOAT16_EXTENSION_NAME);
    c->memory_budget = has_extension(ext, n_ext, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    free(ext);

    VkPhysicalDeviceSubgroupSizeControlProperties sgc = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sg = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
                                             .pNext = v13 ? &sgc : NULL};
    VkPhysicalDeviceMaintenance3Properties m3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES, .pNext = &sg};
    VkPhysicalDeviceIDProperties id = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES, .pNext = &m3};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
                                            .pNext = &id};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                      .pNext = v12 ? (void *)&drv : (void *)&id};
    vk->GetPhysicalDeviceProperties2(pd, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;
    snprintf(c->name, sizeof c->name, "%s", p->deviceName);
    c->vk_type = p->deviceType;
    c->type = type_name(p->deviceType);
    c->driver_version = p->driverVersion;
    c->vendor_id = p->vendorID;
    c->device_id = p->deviceID;
    if (v12) {
        snprintf(c->driver_name, sizeof c->driver_name, "%s", drv.driverName);
        snprintf(c->driver_info, sizeof c->driver_info, "%s", drv.driverInfo);
    }
    memcpy(c->device_uuid, id.deviceUUID, VK_UUID_SIZE);
    memcpy(c->driver_uuid, id.driverUUID, VK_UUID_SIZE);
    memcpy(c->pipeline_cache_uuid, p->pipelineCacheUUID, VK_UUID_SIZE);
    c->subgroup_size = sg.subgroupSize;
    c->subgroup_ops = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ? sg.supportedOperations : 0;
    c->subgroup_size_min = v13 ? sgc.minSubgroupSize : sg.subgroupSize;
    c->subgroup_size_max = v13 ? sgc.maxSubgroupSize : sg.subgroupSize;
    c->shared_memory = p->limits.maxComputeSharedMemorySize;
    c->max_workgroup_invocations = p->limits.maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        c->max_workgroup_size[i] = p->limits.maxComputeWorkGroupSize[i];
        c->max_workgroup_count[i] = p->limits.maxComputeWorkGroupCount[i];
    }
    c->max_push_constants = p->limits.maxPushConstantsSize;
    c->max_bound_descriptor_sets = p->limits.maxBoundDescriptorSets;
    c->max_texel_buffer_elements = p->limits.maxTexelBufferElements;
    c->max_storage_buffer_range = p->limits.maxStorageBufferRange;
    c->min_storage_buffer_offset_alignment = p->limits.minStorageBufferOffsetAlignment;
    c->max_allocation_size = m3.maxMemoryAllocationSize;
    c->timestamp_period = p->limits.timestampPeriod;

    VkPhysicalDeviceShaderBfloat16FeaturesKHR bf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR};
    VkPhysicalDeviceCooperativeMatrixFeaturesKHR cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
        .pNext = has_bf16 ? &bf : NULL};
    VkPhysicalDeviceVulkan13Features f13 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
                                            .pNext = has_coop ? (void *)&cm : has_bf16 ? (void *)&bf : NULL};
    VkPhysicalDeviceVulkan12Features f12 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                            .pNext = v13 ? (void *)&f13 : f13.pNext};
    VkPhysicalDeviceVulkan11Features f11 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
                                            .pNext = &f12};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                    .pNext = v12 ? &f11 : NULL};
    vk->GetPhysicalDeviceFeatures2(pd, &f2);
    if (v12) {
        c->storage16 = f11.storageBuffer16BitAccess;
        c->fp16 = f12.shaderFloat16 && f11.storageBuffer16BitAccess;
        c->storage8 = f12.storageBuffer8BitAccess;
        c->int8 = f12.shaderInt8 && f12.storageBuffer8BitAccess;
        c->vulkan_memory_model = f12.vulkanMemoryModel;
        c->vulkan_memory_model_device_scope = f12.vulkanMemoryModelDeviceScope;
    }
    c->int64 = f2.features.shaderInt64;
    c->fp64 = f2.features.shaderFloat64;
    if (v13) {
        c->subgroup_size_control = f13.subgroupSizeControl;
        c->compute_full_subgroups = f13.computeFullSubgroups;
        c->maintenance4 = f13.maintenance4;
    }
    c->bf16 = has_bf16 && bf.shaderBFloat16Type;
    c->coopmat = v12 && has_coop && cm.cooperativeMatrix && vk->GetPhysicalDeviceCooperativeMatrixPropertiesKHR;
    if (c->coopmat) {
        uint32_t n = 0;
        vk->GetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, NULL);
        VkCooperativeMatrixPropertiesKHR *cp = calloc(n ? n : 1, sizeof *cp);
        for (uint32_t i = 0; i < n; i++) cp[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_KHR;
        vk->GetPhysicalDeviceCooperativeMatrixPropertiesKHR(pd, &n, cp);
        for (uint32_t i = 0; i < n && c->coopmat_shape_count < 32; i++) {
            vkft_coopmat_shape *s = &c->coopmat_shapes[c->coopmat_shape_count++];
            s->M = cp[i].MSize;
            s->N = cp[i].NSize;
            s->K = cp[i].KSize;
            s->a_type = component_name(cp[i].AType);
            s->b_type = component_name(cp[i].BType);
            s->c_type = component_name(cp[i].CType);
            s->result_type = component_name(cp[i].ResultType);
            s->subgroup_scope = cp[i].scope == VK_SCOPE_SUBGROUP_KHR;
        }
        free(cp);
    }

    VkPhysicalDeviceMemoryProperties mem;
    vk->GetPhysicalDeviceMemoryProperties(pd, &mem);
    c->heap_count = mem.memoryHeapCount;
    for (uint32_t i = 0; i < mem.memoryHeapCount; i++) {
        c->heaps[i].size = mem.memoryHeaps[i].size;
        c->heaps[i].device_local = (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }
    uint32_t nq = 0;
    vk->GetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties *q = calloc(nq ? nq : 1, sizeof *q);
    vk->GetPhysicalDeviceQueueFamilyProperties(pd, &nq, q);
    for (uint32_t i = 0; i < nq; i++)
        if ((q[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && q[i].timestampValidBits > c->timestamp_valid_bits)
            c->timestamp_valid_bits = q[i].timestampValidBits;
    free(q);
}

/* ---- device choice ------------------------------------------------------------------------ */

static int type_rank(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static int contains_nocase(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
        if (i == n) return 1;
    }
    return 0;
}

static int choose_device(vkft_ctx *ctx) {
    const char *want = ctx->opts.device;
    const char *source = "--device";
    if (!want || !*want) {
        want = getenv("VKFT_DEVICE");
        source = "VKFT_DEVICE";
    }
    ctx->chosen = -1;
    if (want && *want) {
        char *end;
        long idx = strtol(want, &end, 10);
        if (*end == 0) {
            if (idx >= 0 && idx < ctx->device_count) ctx->chosen = (int)idx;
        } else {
            for (int i = 0; i < ctx->device_count && ctx->chosen < 0; i++)
                if (contains_nocase(ctx->caps[i].name, want)) ctx->chosen = i;
        }
        if (ctx->chosen < 0) {
            char list[1024] = "";
            for (int i = 0; i < ctx->device_count; i++) {
                size_t len = strlen(list);
                snprintf(list + len, sizeof list - len, "%s%d: %s", i ? ", " : "", i, ctx->caps[i].name);
            }
            return vkft_set_error(ctx, "no Vulkan device matches %s=%s; the devices are: %s "
                                       "(give an index or part of a name)",
                                  source, want, list);
        }
    } else {
        for (int i = 0; i < ctx->device_count; i++)
            if (ctx->chosen < 0 || type_rank(ctx->caps[i].vk_type) > type_rank(ctx->caps[ctx->chosen].vk_type))
                ctx->chosen = i;
    }
    const vkft_device_caps *c = &ctx->caps[ctx->chosen];
    if (c->api_version < VK_API_VERSION_1_3 || !c->maintenance4)
        return vkft_set_error(ctx, "device %d (%s) supports only Vulkan %u.%u; vkft needs 1.3 or newer "
                                   "(update the driver)",
                              ctx->chosen, c->name, VK_API_VERSION_MAJOR(c->api_version),
                              VK_API_VERSION_MINOR(c->api_version));
    return 0;
}

static int create_device(vkft_ctx *ctx) {
    vkft_vk *vk = &ctx->vk;
    VkPhysicalDevice pd = ctx->physical[ctx->chosen];
    const vkft_device_caps *c = &ctx->caps[ctx->chosen];
    int v13 = c->api_version >= VK_API_VERSION_1_3 && ctx->instance_version >= VK_API_VERSION_1_3;

    uint32_t nq = 0;
    vk->GetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties *q = calloc(nq ? nq : 1, sizeof *q);
    vk->GetPhysicalDeviceQueueFamilyProperties(pd, &nq, q);
    int family = -1;
    for (uint32_t i = 0; i < nq; i++) {
        if (!(q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
        if (family < 0 || (q[family].timestampValidBits == 0 && q[i].timestampValidBits > 0)) family = (int)i;
    }
    free(q);
    if (family < 0) return vkft_set_error(ctx, "device %s has no compute queue", c->name);
    ctx->queue_family = (uint32_t)family;

    uint32_t n_ext = 0;
    vk->EnumerateDeviceExtensionProperties(pd, NULL, &n_ext, NULL);
    VkExtensionProperties *ext = calloc(n_ext ? n_ext : 1, sizeof *ext);
    vk->EnumerateDeviceExtensionProperties(pd, NULL, &n_ext, ext);
    const char *enable[8];
    uint32_t n_enable = 0;
    if (c->coopmat) enable[n_enable++] = VK_KHR_COOPERATIVE_MATRIX_EXTENSION_NAME;
    if (c->bf16) enable[n_enable++] = VK_KHR_SHADER_BFLOAT16_EXTENSION_NAME;
    if (c->memory_budget) enable[n_enable++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
    if (has_extension(ext, n_ext, "VK_KHR_portability_subset")) enable[n_enable++] = "VK_KHR_portability_subset";
    free(ext);

    VkPhysicalDeviceShaderBfloat16FeaturesKHR bf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR,
        .shaderBFloat16Type = VK_TRUE,
        .shaderBFloat16CooperativeMatrix = c->coopmat ? VK_TRUE : VK_FALSE};
    VkPhysicalDeviceCooperativeMatrixFeaturesKHR cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_KHR,
        .pNext = c->bf16 ? &bf : NULL,
        .cooperativeMatrix = VK_TRUE};
    /* bf16 cooperative matrices need both features; ask only for what the device reported. */
    if (c->bf16) {
        VkPhysicalDeviceShaderBfloat16FeaturesKHR q_bf = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_BFLOAT16_FEATURES_KHR};
        VkPhysicalDeviceFeatures2 f2q = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &q_bf};
        vk->GetPhysicalDeviceFeatures2(pd, &f2q);
        bf.shaderBFloat16CooperativeMatrix = q_bf.shaderBFloat16CooperativeMatrix && c->coopmat;
    }
    void *ext_chain = c->coopmat ? (void *)&cm : c->bf16 ? (void *)&bf : NULL;
    VkPhysicalDeviceVulkan13Features f13 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES,
        .pNext = ext_chain,
        .subgroupSizeControl = c->subgroup_size_control ? VK_TRUE : VK_FALSE,
        .computeFullSubgroups = c->compute_full_subgroups ? VK_TRUE : VK_FALSE,
        .maintenance4 = c->maintenance4 ? VK_TRUE : VK_FALSE, /* shaders take LocalSizeId */
    };
    VkPhysicalDeviceVulkan12Features f12 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
        .pNext = v13 ? (void *)&f13 : ext_chain,
        .shaderFloat16 = c->fp16 ? VK_TRUE : VK_FALSE,
        .shaderInt8 = c->int8 ? VK_TRUE : VK_FALSE,
        .storageBuffer8BitAccess = c->storage8 ? VK_TRUE : VK_FALSE,
        .vulkanMemoryModel = c->vulkan_memory_model ? VK_TRUE : VK_FALSE,
        .vulkanMemoryModelDeviceScope = c->vulkan_memory_model_device_scope ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDeviceVulkan11Features f11 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
        .pNext = &f12,
        .storageBuffer16BitAccess = c->storage16 ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &f11};
    f2.features.shaderInt64 = c->int64 ? VK_TRUE : VK_FALSE;

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                  .queueFamilyIndex = ctx->queue_family,
                                  .queueCount = 1,
                                  .pQueuePriorities = &priority};
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                             .pNext = &f2,
                             .queueCreateInfoCount = 1,
                             .pQueueCreateInfos = &qi,
                             .enabledExtensionCount = n_enable,
                             .ppEnabledExtensionNames = enable};
    VK_CHECK(ctx, vk->CreateDevice(pd, &di, NULL, &ctx->device));
    if (vkft_vk_load_device(vk, ctx->device, ctx->error, sizeof ctx->error)) return -1;
    vk->GetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    vk->GetPhysicalDeviceMemoryProperties(pd, &ctx->memory);

    VkCommandPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                  .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                  .queueFamilyIndex = ctx->queue_family};
    VK_CHECK(ctx, vk->CreateCommandPool(ctx->device, &pi, NULL, &ctx->command_pool));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VK_CHECK(ctx, vk->CreateFence(ctx->device, &fi, NULL, &ctx->fence));
    return 0;
}

int vkft_ctx_create(const vkft_ctx_options *opts, vkft_ctx **out) {
    vkft_ctx *ctx = calloc(1, sizeof *ctx);
    *out = ctx;
    if (!ctx) return -1;
    if (opts)
        ctx->opts = *opts;
    else
        vkft_ctx_options_default(&ctx->opts);
    ctx->chosen = -1;
    ctx->validation = ctx->opts.validation >= 0 ? ctx->opts.validation : env_flag("VKFT_VALIDATION");
    ctx->profile = ctx->opts.profile >= 0 ? ctx->opts.profile : env_flag("VKFT_PROFILE");
    const char *timeout = getenv("VKFT_TIMEOUT_S");
    ctx->timeout_s = timeout && atoi(timeout) > 0 ? (uint32_t)atoi(timeout) : 600;

    if (vkft_vk_load(&ctx->vk, ctx->error, sizeof ctx->error)) return -1;
    if (create_instance(ctx)) return -1;
    uint32_t n = 0;
    VK_CHECK(ctx, ctx->vk.EnumeratePhysicalDevices(ctx->instance, &n, NULL));
    if (n == 0)
        return vkft_set_error(ctx, "Vulkan found no device. Install your GPU's Vulkan driver, or "
                                   "`apt-get install mesa-vulkan-drivers` for the lavapipe CPU driver");
    ctx->physical = calloc(n, sizeof *ctx->physical);
    ctx->caps = calloc(n, sizeof *ctx->caps);
    VK_CHECK(ctx, ctx->vk.EnumeratePhysicalDevices(ctx->instance, &n, ctx->physical));
    ctx->device_count = (int)n;
    for (uint32_t i = 0; i < n; i++) read_caps(ctx, ctx->physical[i], i, &ctx->caps[i]);
    if (choose_device(ctx)) return -1;
    if (create_device(ctx)) return -1;
    vkft_vk_pin_loaded_libraries();
    if (vkft_memory_init(ctx)) return -1;
    if (vkft_pipelines_init(ctx)) return -1;
    return 0;
}

void vkft_ctx_destroy(vkft_ctx *ctx) {
    if (!ctx) return;
    vkft_vk *vk = &ctx->vk;
    if (ctx->device) {
        vk->DeviceWaitIdle(ctx->device);
        vkft_pipelines_shutdown(ctx);
        vkft_memory_shutdown(ctx);
        if (ctx->fence) vk->DestroyFence(ctx->device, ctx->fence, NULL);
        if (ctx->command_pool) vk->DestroyCommandPool(ctx->device, ctx->command_pool, NULL);
        vk->DestroyDevice(ctx->device, NULL);
    }
    if (ctx->messenger && vk->DestroyDebugUtilsMessengerEXT)
        vk->DestroyDebugUtilsMessengerEXT(ctx->instance, ctx->messenger, NULL);
    if (ctx->instance) vk->DestroyInstance(ctx->instance, NULL);
    vkft_vk_unload(vk);
    vkft_profile_free(ctx);
    free(ctx->physical);
    free(ctx->caps);
    free(ctx);
}

int vkft_device_count(const vkft_ctx *ctx) { return ctx->device_count; }
const vkft_device_caps *vkft_device_caps_at(const vkft_ctx *ctx, int i) {
    return i >= 0 && i < ctx->device_count ? &ctx->caps[i] : NULL;
}
const vkft_device_caps *vkft_device(const vkft_ctx *ctx) {
    return ctx->device && ctx->chosen >= 0 ? &ctx->caps[ctx->chosen] : NULL;
}
uint32_t vkft_instance_version(const vkft_ctx *ctx) { return ctx->instance_version; }
int vkft_validation_messages(const vkft_ctx *ctx) { return ctx->validation_messages; }
int vkft_validation_enabled(const vkft_ctx *ctx) { return ctx->validation; }

/* ---- one-shot submissions ----------------------------------------------------------------- */

int vkft_wait_fence(vkft_ctx *ctx, const char *what) {
    VkResult r = ctx->vk.WaitForFences(ctx->device, 1, &ctx->fence, VK_TRUE, (uint64_t)ctx->timeout_s * 1000000000ull);
    if (r == VK_TIMEOUT)
        return vkft_set_error(ctx, "%s did not finish within %u s (VKFT_TIMEOUT_S raises the limit); the GPU "
                                   "may be hung",
                              what, ctx->timeout_s);
    if (r == VK_ERROR_DEVICE_LOST)
        return vkft_set_error(ctx, "the device was lost while running %s (driver reset or crash; see the "
                                   "system log). Nothing after the last checkpoint was kept",
                              what);
    VK_CHECK(ctx, r);
    VK_CHECK(ctx, ctx->vk.ResetFences(ctx->device, 1, &ctx->fence));
    return 0;
}

int vkft_oneshot_begin(vkft_ctx *ctx, VkCommandBuffer *cb) {
    VkCommandBufferAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                      .commandPool = ctx->command_pool,
                                      .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                      .commandBufferCount = 1};
    VK_CHECK(ctx, ctx->vk.AllocateCommandBuffers(ctx->device, &ai, cb));
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                   .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    VK_CHECK(ctx, ctx->vk.BeginCommandBuffer(*cb, &bi));
    return 0;
}

int vkft_oneshot_submit(vkft_ctx *ctx, VkCommandBuffer cb) {
    int rc = -1;
    VkResult r = ctx->vk.EndCommandBuffer(cb);
    if (r != VK_SUCCESS) {
        vkft_vk_fail(ctx, r, "vkEndCommandBuffer", __FILE__, __LINE__);
    } else {
        VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &cb};
        r = ctx->vk.QueueSubmit(ctx->queue, 1, &si, ctx->fence);
        if (r != VK_SUCCESS)
            vkft_vk_fail(ctx, r, "vkQueueSubmit", __FILE__, __LINE__);
        else
            rc = vkft_wait_fence(ctx, "a transfer");
    }
    ctx->vk.FreeCommandBuffers(ctx->device, ctx->command_pool, 1, &cb);
    return rc;
}
