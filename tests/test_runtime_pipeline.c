/* The pipeline library: creation with specialization from the device's limits, the push-constant size
 * check, variant choice, and the on-disk cache: written on the first run, hit on the second, and a
 * corrupt, truncated or foreign file ignored with a warning. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/ops_basic.h"
#include "tests/test_gpu.h"
#include "util/fsutil.h"

typedef struct {
    int count;
    char last[1024];
} warnings;

static void on_warning(void *user, const char *msg) {
    warnings *w = user;
    w->count++;
    snprintf(w->last, sizeof w->last, "%s", msg);
    printf("  (warning captured: %s)\n", msg);
}

static vkft_ctx *open_cached(test_state *t, const char *dir, warnings *w) {
    vkft_ctx_options o;
    vkft_ctx_options_default(&o);
    o.cache_dir = dir;
    o.warn = on_warning;
    o.warn_user = w;
    vkft_ctx *ctx = NULL;
    if (!CHECK(t, vkft_ctx_create(&o, &ctx) == 0, "context: %s", vkft_last_error(ctx))) {
        vkft_ctx_destroy(ctx);
        return NULL;
    }
    return ctx;
}

/* Runs `fill` through the cache in dir; returns the stats. */
static vkft_pipeline_stats run_once(test_state *t, const char *dir, warnings *w) {
    vkft_pipeline_stats s = {0};
    vkft_ctx *ctx = open_cached(t, dir, w);
    if (!ctx) return s;
    vkft_pipeline *p = vkft_pipeline_get(ctx, vkft_basic_kernel("fill_f32"));
    CHECK(t, p != NULL, "fill pipeline: %s", vkft_last_error(ctx));
    s = vkft_pipeline_get_stats(ctx);
    test_close_ctx(t, ctx);
    return s;
}

static void rewrite_cache(const char *path, long keep, int flip_at) {
    char *data;
    size_t n;
    char err[256];
    if (vkft_read_file(path, &data, &n, err, sizeof err)) return;
    if (keep >= 0 && (size_t)keep < n) n = (size_t)keep;
    if (flip_at >= 0 && (size_t)flip_at < n) data[flip_at] ^= 0x5a;
    vkft_write_file_atomic(path, data, n, err, sizeof err);
    free(data);
}

int main(void) {
    test_state t;
    test_begin(&t, "runtime_pipeline");
    char dir[256];
    if (!CHECK(&t, test_tmpdir(dir, sizeof dir) != NULL, "temp dir")) return test_finish(&t);
    warnings w = {0};

    /* Specialization, variant and the push-constant check. */
    vkft_ctx *ctx = open_cached(&t, dir, &w);
    if (!ctx) return test_finish(&t);
    const vkft_device_caps *caps = vkft_device(ctx);
    vkft_pipeline *p = vkft_pipeline_get(ctx, vkft_basic_kernel("sum_f32"));
    CHECK(&t, p != NULL, "sum pipeline: %s", vkft_last_error(ctx));
    if (p) {
        uint32_t wg = vkft_pipeline_spec(p)[0];
        CHECK(&t, wg >= 1 && wg <= caps->max_workgroup_invocations && (wg & (wg - 1)) == 0,
              "reduction workgroup %u is a power of two within the device's limit", wg);
        CHECK(&t, !strcmp(vkft_pipeline_variant(p), "base"), "variant %s", vkft_pipeline_variant(p));
    }
    CHECK(&t, vkft_pipeline_get(ctx, vkft_basic_kernel("sum_f32")) == p, "second get returns the same pipeline");
    vkft_kernel_def wrong = *vkft_basic_kernel("fill_f32");
    wrong.push_size += 4;
    CHECK(&t, vkft_pipeline_get(ctx, &wrong) == NULL && strstr(vkft_last_error(ctx), "push-constant block"),
          "push-constant size mismatch is caught: %s", vkft_last_error(ctx));
    vkft_kernel_def missing = *vkft_basic_kernel("fill_f32");
    missing.variants[0] = "coopmat_nonexistent";
    CHECK(&t, vkft_pipeline_get(ctx, &missing) == NULL && strstr(vkft_last_error(ctx), "no SPIR-V variant"),
          "missing variant: %s", vkft_last_error(ctx));
    vkft_kernel_def noshader = *vkft_basic_kernel("fill_f32");
    noshader.shader = "no_such_shader";
    CHECK(&t, vkft_pipeline_get(ctx, &noshader) == NULL, "missing shader is an error");
    test_close_ctx(&t, ctx);

    /* First run writes the cache, second run hits it. */
    char sub[300];
    snprintf(sub, sizeof sub, "%s/cache", dir);
    vkft_pipeline_stats s1 = run_once(&t, sub, &w);
    CHECK(&t, s1.created == 1 && s1.cache_loaded_bytes == 0, "first run: created %u, loaded %zu", s1.created,
          s1.cache_loaded_bytes);
    CHECK(&t, vkft_file_exists(s1.cache_path), "cache file written: %s", s1.cache_path);
    CHECK(&t, strstr(s1.cache_path, sub) == s1.cache_path, "cache under the chosen folder");
    vkft_pipeline_stats s2 = run_once(&t, sub, &w);
    CHECK(&t, s2.cache_loaded_bytes > 0, "second run loaded %zu bytes", s2.cache_loaded_bytes);
    /* A hit needs a driver that stores pipelines in VkPipelineCache: lavapipe's cache data is only the
     * 32-byte Vulkan header (it caches compiled shaders in Mesa's own disk cache instead). */
    int driver_caches = s2.cache_loaded_bytes > 32;
    if (driver_caches)
        CHECK(&t, s2.cache_hits == 1, "second run: pipeline-cache hit (hits %u of %u)", s2.cache_hits, s2.created);
    else
        printf("this driver stores no pipelines in VkPipelineCache (%zu bytes: the header only): the hit check "
               "needs a driver that does\n",
               s2.cache_loaded_bytes);
    CHECK(&t, w.count == 0, "no warnings on a valid cache");
    printf("cache: %s, %zu bytes, hit on second run: %s\n", s2.cache_path, s2.cache_loaded_bytes,
           s2.cache_hits ? "yes" : "no");

    /* Corrupt (one flipped byte in the payload), truncated, and foreign (another device id) files. */
    struct {
        const char *what;
        long keep;
        int flip;
        const char *expect;
    } cases[] = {
        {"flipped payload byte", -1, 40, "checksum"},
        {"truncated", 40, -1, "size does not match"},
        {"bad magic", -1, 0, "bad header"},
        {"empty", 0, -1, "bad header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rewrite_cache(s1.cache_path, cases[i].keep, cases[i].flip);
        w.count = 0;
        vkft_pipeline_stats s = run_once(&t, sub, &w);
        CHECK(&t, w.count == 1 && strstr(w.last, cases[i].expect) && strstr(w.last, "ignoring"),
              "%s: one warning mentioning '%s' (got %d: %s)", cases[i].what, cases[i].expect, w.count, w.last);
        CHECK(&t, s.created == 1 && s.cache_loaded_bytes == 0, "%s: pipeline still created", cases[i].what);
        /* The rebuilt file is valid again. */
        w.count = 0;
        s = run_once(&t, sub, &w);
        CHECK(&t, w.count == 0 && s.cache_loaded_bytes > 0, "%s: cache rebuilt", cases[i].what);
    }
    /* Foreign: a valid file whose Vulkan header names another device (checksum recomputed). */
    {
        char *data;
        size_t n;
        char err[256];
        if (vkft_read_file(s1.cache_path, &data, &n, err, sizeof err) == 0 && n > 48) {
            data[32 + 12] ^= 0x01; /* deviceID in the Vulkan header, after our 32-byte header */
            uint64_t h = 0xcbf29ce484222325ull;
            for (size_t i = 32; i < n; i++) h = (h ^ (uint8_t)data[i]) * 0x100000001b3ull;
            for (int i = 0; i < 8; i++) data[24 + i] = (char)(h >> (8 * i));
            vkft_write_file_atomic(s1.cache_path, data, n, err, sizeof err);
            free(data);
            w.count = 0;
            vkft_pipeline_stats s = run_once(&t, sub, &w);
            CHECK(&t, w.count == 1 && strstr(w.last, "another device"), "foreign cache: %s", w.last);
            CHECK(&t, s.created == 1, "foreign cache: pipeline still created");
        }
    }
    return test_finish(&t);
}
