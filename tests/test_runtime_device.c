/* The loader and device choice: default choice, --device by index and by name, a bad index or name,
 * a missing loader, and the capabilities read from the device. */
#include <stdlib.h>
#include <string.h>

#include "tests/test_gpu.h"

static int rank(VkPhysicalDeviceType t) {
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

static vkft_ctx *open_with(const char *device, int *rc) {
    vkft_ctx_options o;
    vkft_ctx_options_default(&o);
    o.device = device;
    vkft_ctx *ctx = NULL;
    *rc = vkft_ctx_create(&o, &ctx);
    return ctx;
}

int main(void) {
    test_state t;
    test_begin(&t, "runtime_device");

    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    const vkft_device_caps *c = vkft_device(ctx);
    CHECK(&t, c != NULL, "a device is chosen");
    CHECK(&t, vkft_device_count(ctx) >= 1, "at least one device");
    CHECK(&t, c->api_version >= VK_API_VERSION_1_3, "Vulkan 1.3+ device");
    CHECK(&t, c->subgroup_size >= 1 && c->subgroup_size_min <= c->subgroup_size &&
                  c->subgroup_size <= c->subgroup_size_max,
          "subgroup size %u within [%u, %u]", c->subgroup_size, c->subgroup_size_min, c->subgroup_size_max);
    CHECK(&t, c->max_workgroup_invocations >= 128, "max workgroup invocations %u", c->max_workgroup_invocations);
    CHECK(&t, c->shared_memory >= 16384, "shared memory %u", c->shared_memory);
    CHECK(&t, c->heap_count >= 1 && c->heaps[0].size > 0, "memory heaps");
    CHECK(&t, c->max_push_constants >= 128, "push constants %u", c->max_push_constants);
    CHECK(&t, strlen(c->driver_name) > 0, "driver name");
    /* The best device wins: no other device has a better type. */
    for (int i = 0; i < vkft_device_count(ctx); i++) {
        const vkft_device_caps *o = vkft_device_caps_at(ctx, i);
        CHECK(&t, rank(o->vk_type) <= rank(c->vk_type), "device %d (%s) outranks the chosen %s", i, o->name, c->name);
    }
    char first_name[256];
    snprintf(first_name, sizeof first_name, "%s", vkft_device_caps_at(ctx, 0)->name);
    int count = vkft_device_count(ctx);
    test_close_ctx(&t, ctx);

    /* By index and by part of the name (case-insensitive). */
    int rc;
    ctx = open_with("0", &rc);
    CHECK(&t, rc == 0 && vkft_device(ctx)->index == 0, "--device 0: %s", vkft_last_error(ctx));
    vkft_ctx_destroy(ctx);
    char part[8] = {0};
    for (int i = 0; i < 4 && first_name[i]; i++) /* upper-cased: the match ignores case */
        part[i] = (char)(first_name[i] >= 'a' && first_name[i] <= 'z' ? first_name[i] - 32 : first_name[i]);
    ctx = open_with(part, &rc);
    CHECK(&t, rc == 0 && vkft_device(ctx)->index == 0, "--device '%s' (name part, other case): %s", part,
          vkft_last_error(ctx));
    vkft_ctx_destroy(ctx);

    /* A bad index or name: a clear error that lists the devices. */
    ctx = open_with("99", &rc);
    CHECK(&t, rc != 0 && vkft_device(ctx) == NULL, "--device 99 must fail");
    CHECK(&t, strstr(vkft_last_error(ctx), "no Vulkan device matches --device=99") != NULL &&
                  strstr(vkft_last_error(ctx), first_name) != NULL,
          "error names the request and lists devices: %s", vkft_last_error(ctx));
    CHECK(&t, vkft_device_count(ctx) == count, "devices are still listed after a failed choice");
    vkft_ctx_destroy(ctx);
    setenv("VKFT_DEVICE", "no-such-gpu", 1);
    ctx = open_with(NULL, &rc);
    CHECK(&t, rc != 0 && strstr(vkft_last_error(ctx), "VKFT_DEVICE=no-such-gpu") != NULL,
          "VKFT_DEVICE=no-such-gpu: %s", vkft_last_error(ctx));
    vkft_ctx_destroy(ctx);
    unsetenv("VKFT_DEVICE");

    /* No loader: says what to install. */
    setenv("VKFT_VULKAN_LIBRARY", "/nonexistent/libvulkan.so.1", 1);
    ctx = open_with(NULL, &rc);
    CHECK(&t, rc != 0 && strstr(vkft_last_error(ctx), "cannot load the Vulkan loader") != NULL &&
                  strstr(vkft_last_error(ctx), "apt-get install") != NULL,
          "missing loader: %s", vkft_last_error(ctx));
    vkft_ctx_destroy(ctx);
    unsetenv("VKFT_VULKAN_LIBRARY");
    printf("errors seen as a user would: ok\n");
    return test_finish(&t);
}
