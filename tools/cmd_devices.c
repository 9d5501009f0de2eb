/* vkft devices: every Vulkan device with the capabilities vkft uses; --json for scripts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/commands.h"

static const char *const subgroup_op_names[] = {"basic", "vote", "arithmetic", "ballot",
                                                "shuffle", "shuffle_relative", "clustered", "quad"};

static void subgroup_ops(VkSubgroupFeatureFlags f, char *out, size_t n) {
    out[0] = 0;
    for (int i = 0; i < 8; i++)
        if (f & (1u << i)) {
            size_t len = strlen(out);
            snprintf(out + len, n - len, "%s%s", len ? " " : "", subgroup_op_names[i]);
        }
}

static void version(uint32_t v, char *out, size_t n) {
    snprintf(out, n, "%u.%u.%u", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

static void uuid_hex(const uint8_t *u, char *out) {
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) sprintf(out + 2 * i, "%02x", u[i]);
}

static const char *yn(int b) { return b ? "yes" : "no"; }

static void print_text(const vkft_device_caps *c, int chosen) {
    char api[32], ops[128];
    version(c->api_version, api, sizeof api);
    subgroup_ops(c->subgroup_ops, ops, sizeof ops);
    printf("%s %u: %s [%s]%s\n", chosen ? "*" : " ", c->index, c->name, c->type, chosen ? "  <- chosen" : "");
    printf("    Vulkan %s, driver %s (%s), vendor 0x%04x, device 0x%04x\n", api, c->driver_name, c->driver_info,
           c->vendor_id, c->device_id);
    printf("    subgroups: size %u (min %u, max %u, size control %s), operations: %s\n", c->subgroup_size,
           c->subgroup_size_min, c->subgroup_size_max, yn(c->subgroup_size_control), ops);
    printf("    arithmetic: fp16 %s, bf16 %s, int8 %s, fp64 %s, int64 %s; 16-bit storage %s, 8-bit storage %s\n",
           yn(c->fp16), yn(c->bf16), yn(c->int8), yn(c->fp64), yn(c->int64), yn(c->storage16), yn(c->storage8));
    printf("    compute: shared memory %u KiB, workgroup up to %u invocations (%u x %u x %u), "
           "groups up to %u x %u x %u\n",
           c->shared_memory / 1024, c->max_workgroup_invocations, c->max_workgroup_size[0],
           c->max_workgroup_size[1], c->max_workgroup_size[2], c->max_workgroup_count[0], c->max_workgroup_count[1],
           c->max_workgroup_count[2]);
    printf("    buffers: storage range %.0f MiB, offset alignment %llu, allocation up to %.0f MiB, push constants "
           "%u bytes\n",
           c->max_storage_buffer_range / 1048576.0, (unsigned long long)c->min_storage_buffer_offset_alignment,
           c->max_allocation_size / 1048576.0, c->max_push_constants);
    printf("    timestamps: %s (%.3g ns per tick, %u valid bits)\n", yn(c->timestamp_valid_bits > 0),
           c->timestamp_period, c->timestamp_valid_bits);
    for (uint32_t h = 0; h < c->heap_count; h++)
        printf("    memory heap %u: %.1f GiB%s\n", h, c->heaps[h].size / 1073741824.0,
               c->heaps[h].device_local ? " device-local" : "");
    if (!c->coopmat) {
        printf("    cooperative matrix: no\n");
    } else {
        printf("    cooperative matrix: yes, %u shapes:\n", c->coopmat_shape_count);
        for (uint32_t s = 0; s < c->coopmat_shape_count; s++) {
            const vkft_coopmat_shape *m = &c->coopmat_shapes[s];
            printf("      %ux%ux%u  A %s, B %s, C %s -> %s%s\n", m->M, m->N, m->K, m->a_type, m->b_type, m->c_type,
                   m->result_type, m->subgroup_scope ? "" : " (not subgroup scope)");
        }
    }
}

static cJSON *to_json(const vkft_device_caps *c, int chosen) {
    char buf[128];
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "index", c->index);
    cJSON_AddStringToObject(d, "name", c->name);
    cJSON_AddStringToObject(d, "type", c->type);
    cJSON_AddBoolToObject(d, "chosen", chosen);
    version(c->api_version, buf, sizeof buf);
    cJSON_AddStringToObject(d, "vulkan_version", buf);
    cJSON_AddStringToObject(d, "driver_name", c->driver_name);
    cJSON_AddStringToObject(d, "driver_info", c->driver_info);
    cJSON_AddNumberToObject(d, "vendor_id", c->vendor_id);
    cJSON_AddNumberToObject(d, "device_id", c->device_id);
    uuid_hex(c->driver_uuid, buf);
    cJSON_AddStringToObject(d, "driver_uuid", buf);
    cJSON *sg = cJSON_AddObjectToObject(d, "subgroup");
    cJSON_AddNumberToObject(sg, "size", c->subgroup_size);
    cJSON_AddNumberToObject(sg, "min_size", c->subgroup_size_min);
    cJSON_AddNumberToObject(sg, "max_size", c->subgroup_size_max);
    cJSON_AddBoolToObject(sg, "size_control", c->subgroup_size_control);
    cJSON *ops = cJSON_AddArrayToObject(sg, "operations");
    for (int i = 0; i < 8; i++)
        if (c->subgroup_ops & (1u << i)) cJSON_AddItemToArray(ops, cJSON_CreateString(subgroup_op_names[i]));
    cJSON *ar = cJSON_AddObjectToObject(d, "arithmetic");
    cJSON_AddBoolToObject(ar, "fp16", c->fp16);
    cJSON_AddBoolToObject(ar, "bf16", c->bf16);
    cJSON_AddBoolToObject(ar, "int8", c->int8);
    cJSON_AddBoolToObject(ar, "fp64", c->fp64);
    cJSON_AddBoolToObject(ar, "int64", c->int64);
    cJSON_AddBoolToObject(ar, "storage16", c->storage16);
    cJSON_AddBoolToObject(ar, "storage8", c->storage8);
    cJSON *lim = cJSON_AddObjectToObject(d, "limits");
    cJSON_AddNumberToObject(lim, "shared_memory", c->shared_memory);
    cJSON_AddNumberToObject(lim, "max_workgroup_invocations", c->max_workgroup_invocations);
    cJSON_AddItemToObject(lim, "max_workgroup_size", cJSON_CreateIntArray((const int *)c->max_workgroup_size, 3));
    cJSON_AddItemToObject(lim, "max_workgroup_count", cJSON_CreateIntArray((const int *)c->max_workgroup_count, 3));
    cJSON_AddNumberToObject(lim, "max_storage_buffer_range", (double)c->max_storage_buffer_range);
    cJSON_AddNumberToObject(lim, "min_storage_buffer_offset_alignment", (double)c->min_storage_buffer_offset_alignment);
    cJSON_AddNumberToObject(lim, "max_allocation_size", (double)c->max_allocation_size);
    cJSON_AddNumberToObject(lim, "max_push_constants", c->max_push_constants);
    cJSON_AddNumberToObject(d, "timestamp_period_ns", c->timestamp_period);
    cJSON_AddNumberToObject(d, "timestamp_valid_bits", c->timestamp_valid_bits);
    cJSON *heaps = cJSON_AddArrayToObject(d, "memory_heaps");
    for (uint32_t h = 0; h < c->heap_count; h++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "size", (double)c->heaps[h].size);
        cJSON_AddBoolToObject(o, "device_local", c->heaps[h].device_local);
        cJSON_AddItemToArray(heaps, o);
    }
    cJSON *cm = cJSON_AddArrayToObject(d, "cooperative_matrix");
    for (uint32_t s = 0; c->coopmat && s < c->coopmat_shape_count; s++) {
        const vkft_coopmat_shape *m = &c->coopmat_shapes[s];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "M", m->M);
        cJSON_AddNumberToObject(o, "N", m->N);
        cJSON_AddNumberToObject(o, "K", m->K);
        cJSON_AddStringToObject(o, "A", m->a_type);
        cJSON_AddStringToObject(o, "B", m->b_type);
        cJSON_AddStringToObject(o, "C", m->c_type);
        cJSON_AddStringToObject(o, "result", m->result_type);
        cJSON_AddItemToArray(cm, o);
    }
    return d;
}

int cmd_devices(int argc, char **argv) {
    const char *device = NULL;
    int json = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: vkft devices [--json] [--device N|NAME]\n\n"
                   "Lists the Vulkan devices with the capabilities vkft uses and marks the one it would choose\n"
                   "(discrete > integrated > virtual > CPU, unless --device or VKFT_DEVICE names one).\n"
                   "  --json           one JSON object: {\"loader_version\", \"devices\": [...]}\n"
                   "  --device N|NAME  choose by index or by part of the name\n");
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else {
            if (!bad) fprintf(stderr, "vkft devices: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    const vkft_device_caps *chosen = vkft_device(ctx);
    char loader[32];
    version(vkft_instance_version(ctx), loader, sizeof loader);
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "loader_version", loader);
        cJSON *list = cJSON_AddArrayToObject(root, "devices");
        for (int i = 0; i < vkft_device_count(ctx); i++) {
            const vkft_device_caps *c = vkft_device_caps_at(ctx, i);
            cJSON_AddItemToArray(list, to_json(c, c == chosen));
        }
        char *s = cJSON_Print(root);
        printf("%s\n", s);
        free(s);
        cJSON_Delete(root);
    } else {
        printf("Vulkan loader %s, %d device%s:\n", loader, vkft_device_count(ctx), vkft_device_count(ctx) == 1 ? "" : "s");
        for (int i = 0; i < vkft_device_count(ctx); i++) {
            const vkft_device_caps *c = vkft_device_caps_at(ctx, i);
            print_text(c, c == chosen);
        }
    }
    return cli_close_device(ctx);
}
