#include "runtime/pipeline_cache.h"

#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

static const char MAGIC[8] = {'V', 'K', 'F', 'T', 'P', 'C', '0', '1'};
enum { FILE_HEADER = 32 }; /* magic, u32 version, u32 reserved, u64 payload size, u64 payload hash */

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void cache_path(vkft_ctx *ctx, char *dir, size_t dirlen, char *path, size_t pathlen) {
    const vkft_device_caps *c = vkft_device(ctx);
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (ctx->opts.cache_dir)
        snprintf(dir, dirlen, "%s", ctx->opts.cache_dir);
    else if (xdg && *xdg)
        snprintf(dir, dirlen, "%s/vkft", xdg);
    else
        snprintf(dir, dirlen, "%s/.cache/vkft", home && *home ? home : "/tmp");
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(uuid + 2 * i, 3, "%02x", c->driver_uuid[i]);
    snprintf(path, pathlen, "%s/pipelines-%04x-%04x-%s.bin", dir, c->vendor_id, c->device_id, uuid);
}

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

/* Returns the Vulkan payload inside a cache file, or NULL with the reason. */
static const uint8_t *check_file(vkft_ctx *ctx, const uint8_t *d, size_t n, size_t *payload, const char **why) {
    const vkft_device_caps *c = vkft_device(ctx);
    if (n < FILE_HEADER || memcmp(d, MAGIC, 8) != 0) {
        *why = "not a vkft pipeline cache (bad header)";
        return NULL;
    }
    uint64_t size = rd64(d + 16), hash = rd64(d + 24);
    if (size != n - FILE_HEADER) {
        *why = "truncated or padded (size does not match its header)";
        return NULL;
    }
    if (fnv1a(d + FILE_HEADER, size) != hash) {
        *why = "corrupt (checksum mismatch)";
        return NULL;
    }
    const uint8_t *v = d + FILE_HEADER;
    /* The Vulkan pipeline-cache header: length, version, vendor, device, pipelineCacheUUID. */
    if (size < 16 + VK_UUID_SIZE || rd32(v) < 16 + VK_UUID_SIZE || rd32(v + 4) != VK_PIPELINE_CACHE_HEADER_VERSION_ONE) {
        *why = "corrupt (bad Vulkan cache header)";
        return NULL;
    }
    if (rd32(v + 8) != c->vendor_id || rd32(v + 12) != c->device_id ||
        memcmp(v + 16, c->pipeline_cache_uuid, VK_UUID_SIZE) != 0) {
        *why = "made by another device or driver version";
        return NULL;
    }
    *payload = size;
    return v;
}

int vkft_pipeline_cache_open(vkft_ctx *ctx) {
    char dir[4096];
    cache_path(ctx, dir, sizeof dir, ctx->pipeline_stats.cache_path, sizeof ctx->pipeline_stats.cache_path);
    const uint8_t *payload = NULL;
    size_t payload_size = 0;
    char *data = NULL;
    size_t n = 0;
    char err[VKFT_ERR_LEN];
    if (!ctx->opts.no_pipeline_cache && vkft_file_exists(ctx->pipeline_stats.cache_path)) {
        if (vkft_read_file(ctx->pipeline_stats.cache_path, &data, &n, err, sizeof err) != 0) {
            vkft_warn(ctx, "ignoring the pipeline cache: %s", err);
        } else {
            const char *why = NULL;
            payload = check_file(ctx, (const uint8_t *)data, n, &payload_size, &why);
            if (!payload)
                vkft_warn(ctx, "ignoring the pipeline cache %s: %s; it will be rebuilt",
                          ctx->pipeline_stats.cache_path, why);
        }
    }
    VkPipelineCacheCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                    .initialDataSize = payload ? payload_size : 0,
                                    .pInitialData = payload};
    VkResult r = ctx->vk.CreatePipelineCache(ctx->device, &ci, NULL, &ctx->pipeline_cache);
    if (r != VK_SUCCESS && payload) {
        vkft_warn(ctx, "the driver rejected the pipeline cache %s (%s); starting an empty one",
                  ctx->pipeline_stats.cache_path, vkft_vk_result_name(r));
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        payload = NULL;
        r = ctx->vk.CreatePipelineCache(ctx->device, &ci, NULL, &ctx->pipeline_cache);
    }
    ctx->pipeline_stats.cache_loaded_bytes = payload ? payload_size : 0;
    free(data);
    VK_CHECK(ctx, r);
    return 0;
}

int vkft_pipeline_cache_save(vkft_ctx *ctx) {
    if (ctx->opts.no_pipeline_cache || !ctx->pipeline_cache) return 0;
    size_t size = 0;
    VK_CHECK(ctx, ctx->vk.GetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, NULL));
    uint8_t *buf = malloc(FILE_HEADER + size);
    if (!buf) return vkft_set_error(ctx, "out of host memory saving the pipeline cache");
    VkResult r = ctx->vk.GetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, buf + FILE_HEADER);
    if (r != VK_SUCCESS) {
        free(buf);
        return vkft_vk_fail(ctx, r, "vkGetPipelineCacheData", __FILE__, __LINE__);
    }
    memcpy(buf, MAGIC, 8);
    wr32(buf + 8, 1);
    wr32(buf + 12, 0);
    wr64(buf + 16, size);
    wr64(buf + 24, fnv1a(buf + FILE_HEADER, size));
    char dir[4096], path[4096], err[VKFT_ERR_LEN];
    cache_path(ctx, dir, sizeof dir, path, sizeof path);
    int rc = vkft_mkdirs(dir, err, sizeof err);
    if (rc == 0) rc = vkft_write_file_atomic(path, buf, FILE_HEADER + size, err, sizeof err);
    free(buf);
    if (rc) {
        vkft_warn(ctx, "could not save the pipeline cache: %s", err);
        return vkft_set_error(ctx, "could not save the pipeline cache: %s", err);
    }
    return 0;
}
