#include "runtime/vk_loader.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int vkft_vk_load(vkft_vk *vk, char *err, size_t errlen) {
    memset(vk, 0, sizeof *vk);
    const char *name = getenv("VKFT_VULKAN_LIBRARY");
    if (!name || !*name) name = "libvulkan.so.1";
    /* NODELETE: drivers and layers stay mapped (unloading them at every context is slow, and leak
     * reports could not name them). */
    vk->lib = dlopen(name, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!vk->lib) {
        snprintf(err, errlen,
                 "cannot load the Vulkan loader %s (%s). Install it: on Debian/Ubuntu "
                 "`apt-get install libvulkan1 mesa-vulkan-drivers` (mesa-vulkan-drivers gives the lavapipe "
                 "CPU driver when there is no GPU driver), or point VKFT_VULKAN_LIBRARY at a libvulkan.so.1",
                 name, dlerror());
        return -1;
    }
    /* dlsym returns void*; the cast through a union keeps -Wpedantic quiet about object->function. */
    union {
        void *p;
        PFN_vkGetInstanceProcAddr f;
    } sym = {dlsym(vk->lib, "vkGetInstanceProcAddr")};
    vk->GetInstanceProcAddr = sym.f;
    if (!vk->GetInstanceProcAddr) {
        snprintf(err, errlen, "%s has no vkGetInstanceProcAddr: not a Vulkan loader", name);
        dlclose(vk->lib);
        vk->lib = NULL;
        return -1;
    }
#define LOAD(fn) vk->fn = (PFN_vk##fn)vk->GetInstanceProcAddr(NULL, "vk" #fn);
    VKFT_VK_GLOBAL_FUNCS(LOAD)
#undef LOAD
    if (!vk->CreateInstance || !vk->EnumerateInstanceExtensionProperties) {
        snprintf(err, errlen, "the Vulkan loader %s lacks vkCreateInstance", name);
        return -1;
    }
    return 0;
}

int vkft_vk_load_instance(vkft_vk *vk, VkInstance instance, char *err, size_t errlen) {
#define LOAD(fn)                                                                                         \
    vk->fn = (PFN_vk##fn)vk->GetInstanceProcAddr(instance, "vk" #fn);                                    \
    if (!vk->fn) {                                                                                       \
        snprintf(err, errlen, "Vulkan instance function vk" #fn " is missing (loader too old?)");        \
        return -1;                                                                                       \
    }
    VKFT_VK_INSTANCE_FUNCS(LOAD)
#undef LOAD
#define LOAD_OPT(fn) vk->fn = (PFN_vk##fn)vk->GetInstanceProcAddr(instance, "vk" #fn);
    VKFT_VK_INSTANCE_OPTIONAL_FUNCS(LOAD_OPT)
#undef LOAD_OPT
    return 0;
}

int vkft_vk_load_device(vkft_vk *vk, VkDevice device, char *err, size_t errlen) {
#define LOAD(fn)                                                                                         \
    vk->fn = (PFN_vk##fn)vk->GetDeviceProcAddr(device, "vk" #fn);                                        \
    if (!vk->fn) {                                                                                       \
        snprintf(err, errlen, "Vulkan device function vk" #fn " is missing (driver too old?)");          \
        return -1;                                                                                       \
    }
    VKFT_VK_DEVICE_FUNCS(LOAD)
#undef LOAD
    return 0;
}

void vkft_vk_unload(vkft_vk *vk) {
    if (vk->lib) dlclose(vk->lib);
    memset(vk, 0, sizeof *vk);
}

const char *vkft_vk_result_name(VkResult r) {
    switch (r) {
#define N(x)                                                                                             \
    case x: return #x;
        N(VK_SUCCESS)
        N(VK_NOT_READY)
        N(VK_TIMEOUT)
        N(VK_EVENT_SET)
        N(VK_EVENT_RESET)
        N(VK_INCOMPLETE)
        N(VK_ERROR_OUT_OF_HOST_MEMORY)
        N(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        N(VK_ERROR_INITIALIZATION_FAILED)
        N(VK_ERROR_DEVICE_LOST)
        N(VK_ERROR_MEMORY_MAP_FAILED)
        N(VK_ERROR_LAYER_NOT_PRESENT)
        N(VK_ERROR_EXTENSION_NOT_PRESENT)
        N(VK_ERROR_FEATURE_NOT_PRESENT)
        N(VK_ERROR_INCOMPATIBLE_DRIVER)
        N(VK_ERROR_TOO_MANY_OBJECTS)
        N(VK_ERROR_FORMAT_NOT_SUPPORTED)
        N(VK_ERROR_FRAGMENTED_POOL)
        N(VK_ERROR_UNKNOWN)
        N(VK_ERROR_OUT_OF_POOL_MEMORY)
        N(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        N(VK_ERROR_FRAGMENTATION)
        N(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
        N(VK_PIPELINE_COMPILE_REQUIRED)
        N(VK_ERROR_INVALID_SHADER_NV)
#undef N
    default: return "VK_ERROR_(unknown)";
    }
}

/* Marks one loaded object NODELETE (RTLD_NOLOAD: nothing new is loaded). */
static int pin_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    (void)data;
    if (info->dlpi_name && info->dlpi_name[0]) {
        void *h = dlopen(info->dlpi_name, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
        if (h) dlclose(h); /* drops the reference just taken; NODELETE stays */
    }
    return 0;
}

void vkft_vk_pin_loaded_libraries(void) { dl_iterate_phdr(pin_object, NULL); }
