/* A small dlopen-based Vulkan function loader (what volk does): libvulkan.so.1 is opened at run time,
 * so the vkft binary has no link-time dependency on the loader, and every function is resolved through
 * vkGetInstanceProcAddr / vkGetDeviceProcAddr into a table owned by the context (no global state). */
#ifndef VKFT_VK_LOADER_H
#define VKFT_VK_LOADER_H
#include <vulkan/vulkan.h>

#define VKFT_VK_GLOBAL_FUNCS(X)                                                                          \
    X(CreateInstance)                                                                                    \
    X(EnumerateInstanceExtensionProperties)                                                              \
    X(EnumerateInstanceLayerProperties)                                                                  \
    X(EnumerateInstanceVersion)

#define VKFT_VK_INSTANCE_FUNCS(X)                                                                        \
    X(DestroyInstance)                                                                                   \
    X(EnumeratePhysicalDevices)                                                                          \
    X(GetPhysicalDeviceProperties)                                                                       \
    X(GetPhysicalDeviceProperties2)                                                                      \
    X(GetPhysicalDeviceFeatures2)                                                                        \
    X(GetPhysicalDeviceMemoryProperties)                                                                 \
    X(GetPhysicalDeviceMemoryProperties2)                                                                \
    X(GetPhysicalDeviceQueueFamilyProperties)                                                            \
    X(EnumerateDeviceExtensionProperties)                                                                \
    X(CreateDevice)                                                                                      \
    X(GetDeviceProcAddr)

/* Instance-level functions of extensions: NULL where the extension is absent. */
#define VKFT_VK_INSTANCE_OPTIONAL_FUNCS(X)                                                               \
    X(CreateDebugUtilsMessengerEXT)                                                                      \
    X(DestroyDebugUtilsMessengerEXT)                                                                     \
    X(GetPhysicalDeviceCooperativeMatrixPropertiesKHR)

#define VKFT_VK_DEVICE_FUNCS(X)                                                                          \
    X(DestroyDevice)                                                                                     \
    X(GetDeviceQueue)                                                                                    \
    X(DeviceWaitIdle)                                                                                    \
    X(QueueSubmit)                                                                                       \
    X(QueueWaitIdle)                                                                                     \
    X(AllocateMemory)                                                                                    \
    X(FreeMemory)                                                                                        \
    X(MapMemory)                                                                                         \
    X(UnmapMemory)                                                                                       \
    X(CreateBuffer)                                                                                      \
    X(DestroyBuffer)                                                                                     \
    X(CreateBufferView)                                                                                  \
    X(DestroyBufferView)                                                                                 \
    X(GetBufferMemoryRequirements)                                                                       \
    X(BindBufferMemory)                                                                                  \
    X(CreateShaderModule)                                                                                \
    X(DestroyShaderModule)                                                                               \
    X(CreateDescriptorSetLayout)                                                                         \
    X(DestroyDescriptorSetLayout)                                                                        \
    X(CreatePipelineLayout)                                                                              \
    X(DestroyPipelineLayout)                                                                             \
    X(CreateComputePipelines)                                                                            \
    X(DestroyPipeline)                                                                                   \
    X(CreatePipelineCache)                                                                               \
    X(DestroyPipelineCache)                                                                              \
    X(GetPipelineCacheData)                                                                              \
    X(CreateDescriptorPool)                                                                              \
    X(DestroyDescriptorPool)                                                                             \
    X(ResetDescriptorPool)                                                                               \
    X(AllocateDescriptorSets)                                                                            \
    X(UpdateDescriptorSets)                                                                              \
    X(CreateCommandPool)                                                                                 \
    X(DestroyCommandPool)                                                                                \
    X(AllocateCommandBuffers)                                                                            \
    X(FreeCommandBuffers)                                                                                \
    X(BeginCommandBuffer)                                                                                \
    X(EndCommandBuffer)                                                                                  \
    X(ResetCommandBuffer)                                                                                \
    X(CmdBindPipeline)                                                                                   \
    X(CmdBindDescriptorSets)                                                                             \
    X(CmdPushConstants)                                                                                  \
    X(CmdDispatch)                                                                                       \
    X(CmdPipelineBarrier)                                                                                \
    X(CmdCopyBuffer)                                                                                     \
    X(CmdFillBuffer)                                                                                     \
    X(CmdWriteTimestamp)                                                                                 \
    X(CmdResetQueryPool)                                                                                 \
    X(CreateQueryPool)                                                                                   \
    X(DestroyQueryPool)                                                                                  \
    X(GetQueryPoolResults)                                                                               \
    X(CreateFence)                                                                                       \
    X(DestroyFence)                                                                                      \
    X(WaitForFences)                                                                                     \
    X(ResetFences)

#define VKFT_VK_MEMBER(name) PFN_vk##name name;
typedef struct {
    void *lib; /* dlopen handle */
    PFN_vkGetInstanceProcAddr GetInstanceProcAddr;
    VKFT_VK_GLOBAL_FUNCS(VKFT_VK_MEMBER)
    VKFT_VK_INSTANCE_FUNCS(VKFT_VK_MEMBER)
    VKFT_VK_INSTANCE_OPTIONAL_FUNCS(VKFT_VK_MEMBER)
    VKFT_VK_DEVICE_FUNCS(VKFT_VK_MEMBER)
} vkft_vk;
#undef VKFT_VK_MEMBER

/* Opens the Vulkan loader (VKFT_VULKAN_LIBRARY overrides the file name) and resolves the global
 * functions. Returns 0, or -1 with a message in err saying what to install. */
int vkft_vk_load(vkft_vk *vk, char *err, size_t errlen);
/* Resolves instance-level functions (required ones must exist). */
int vkft_vk_load_instance(vkft_vk *vk, VkInstance instance, char *err, size_t errlen);
/* Resolves device-level functions through vkGetDeviceProcAddr. */
int vkft_vk_load_device(vkft_vk *vk, VkDevice device, char *err, size_t errlen);
void vkft_vk_unload(vkft_vk *vk);
/* Keeps every library loaded so far (the loader's drivers and layers) mapped for the life of the process:
 * the loader would otherwise unload and reload them with every context, which is slow and leaves leak
 * reports unable to name them. */
void vkft_vk_pin_loaded_libraries(void);

/* "VK_ERROR_OUT_OF_DEVICE_MEMORY" etc. */
const char *vkft_vk_result_name(VkResult r);
#endif
