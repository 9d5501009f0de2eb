/* Arenas: alignment, reuse and coalescing of freed ranges, blocks of their own for large buffers, the
 * limits (largest binding, memory limit) as clear errors, and upload/download round trips through
 * mapped memory and through the staging buffer (in chunks larger than it). */
#include <stdlib.h>
#include <string.h>

#include "model/ops_basic.h"
#include "tests/test_gpu.h"

static void round_trip(test_state *t, vkft_ctx *ctx, size_t bytes, const char *path) {
    vkft_buf b;
    if (!CHECK(t, vkft_arena_alloc(vkft_default_arena(ctx), bytes, &b) == 0, "alloc %zu: %s", bytes,
               vkft_last_error(ctx)))
        return;
    unsigned char *src = malloc(bytes), *dst = malloc(bytes);
    uint64_t seed = bytes;
    for (size_t i = 0; i < bytes; i++) src[i] = (unsigned char)test_rand_u64(&seed);
    memset(dst, 0, bytes);
    CHECK(t, vkft_upload(ctx, b, 0, src, bytes) == 0, "upload: %s", vkft_last_error(ctx));
    CHECK(t, vkft_download(ctx, b, 0, dst, bytes) == 0, "download: %s", vkft_last_error(ctx));
    CHECK(t, memcmp(src, dst, bytes) == 0, "%s round trip of %zu bytes differs", path, bytes);
    /* A partial download at an offset. */
    if (bytes > 100) {
        memset(dst, 0, 50);
        CHECK(t, vkft_download(ctx, b, 37, dst, 50) == 0 && memcmp(dst, src + 37, 50) == 0,
              "%s partial download at offset 37", path);
    }
    CHECK(t, vkft_download(ctx, b, bytes - 1, dst, 2) != 0, "download past the end must fail");
    printf("%s round trip: %zu bytes ok\n", path, bytes);
    vkft_arena_free(vkft_default_arena(ctx), b);
    free(src);
    free(dst);
}

int main(void) {
    test_state t;
    test_begin(&t, "runtime_memory");
    vkft_ctx *ctx = test_open_ctx(&t);
    if (!ctx) return test_finish(&t);
    const VkDeviceSize align = vkft_arena_alignment(ctx);
    CHECK(&t, align >= 256 && align % vkft_device(ctx)->min_storage_buffer_offset_alignment == 0, "alignment %llu",
          (unsigned long long)align);

    /* Alignment and no overlap. */
    vkft_arena *a = vkft_arena_create(ctx, "test", 1 << 20);
    static const VkDeviceSize sizes[] = {1, 7, 33, 129, 4096, 1000, 3, 65537};
    enum { N = sizeof sizes / sizeof sizes[0] };
    vkft_buf b[N];
    for (int i = 0; i < N; i++) {
        CHECK(&t, vkft_arena_alloc(a, sizes[i], &b[i]) == 0, "alloc %llu: %s", (unsigned long long)sizes[i],
              vkft_last_error(ctx));
        CHECK(&t, b[i].offset % align == 0, "offset %llu is aligned to %llu", (unsigned long long)b[i].offset,
              (unsigned long long)align);
        CHECK(&t, b[i].size == sizes[i], "size kept");
        for (int j = 0; j < i; j++)
            CHECK(&t, b[j].block != b[i].block || b[j].offset + b[j].size <= b[i].offset ||
                          b[i].offset + b[i].size <= b[j].offset,
                  "buffers %d and %d overlap", i, j);
    }
    vkft_arena_stats s = vkft_arena_get_stats(a);
    CHECK(&t, s.blocks == 1 && s.allocations == N, "one block, %d allocations (got %u, %u)", N, s.blocks,
          s.allocations);

    /* A freed range is reused; freeing everything coalesces the block back into one range. */
    VkDeviceSize off = b[3].offset;
    vkft_arena_free(a, b[3]);
    CHECK(&t, vkft_arena_alloc(a, 100, &b[3]) == 0 && b[3].offset == off, "freed range reused (offset %llu)",
          (unsigned long long)b[3].offset);
    for (int i = 0; i < N; i++) vkft_arena_free(a, b[i]);
    s = vkft_arena_get_stats(a);
    CHECK(&t, s.used == 0 && s.allocations == 0, "all freed");
    vkft_buf whole;
    CHECK(&t, vkft_arena_alloc(a, 1 << 20, &whole) == 0 && whole.offset == 0, "whole block after coalescing");
    s = vkft_arena_get_stats(a);
    CHECK(&t, s.blocks == 1, "still one block");
    /* Larger than a block: a block of its own. */
    vkft_buf big;
    CHECK(&t, vkft_arena_alloc(a, 3 << 20, &big) == 0, "3 MiB in a 1 MiB-block arena: %s", vkft_last_error(ctx));
    s = vkft_arena_get_stats(a);
    CHECK(&t, s.blocks == 2 && s.reserved >= (4u << 20) && s.peak >= (4u << 20), "second block (blocks %u)",
          s.blocks);
    vkft_arena_destroy(a);

    /* Larger than the device's largest allocation: a clear error. */
    VkDeviceSize too_big = vkft_device(ctx)->max_allocation_size + 1;
    vkft_buf bad;
    CHECK(&t, vkft_arena_alloc(vkft_default_arena(ctx), too_big, &bad) != 0 &&
                  strstr(vkft_last_error(ctx), "largest allocation") != NULL,
          "too large: %s", vkft_last_error(ctx));
    CHECK(&t, vkft_binding_limit(ctx) == vkft_device(ctx)->max_storage_buffer_range || getenv("VKFT_BINDING_LIMIT_KB"),
          "binding limit %llu, not the device's range", (unsigned long long)vkft_binding_limit(ctx));

    round_trip(&t, ctx, 1, "mapped");
    round_trip(&t, ctx, 1000, "mapped");
    round_trip(&t, ctx, 3 << 20, "mapped");
    test_close_ctx(&t, ctx);

    /* A buffer may be larger than one binding spans; a kernel binding all of it is refused clearly, its
     * parts are not. */
    {
        vkft_ctx_options lo;
        vkft_ctx_options_default(&lo);
        lo.binding_limit = 64 << 10;
        vkft_ctx *lc = NULL;
        if (CHECK(&t, vkft_ctx_create(&lo, &lc) == 0, "binding-limited context: %s", vkft_last_error(lc))) {
            vkft_buf wide;
            vkft_recorder *rec = vkft_recorder_create(lc);
            int ok = vkft_arena_alloc(vkft_default_arena(lc), 128 << 10, &wide) == 0 && vkft_rec_begin(rec) == 0;
            CHECK(&t, ok && vkft_binding_limit(lc) == (64 << 10), "128 KiB with 64 KiB bindings: %s",
                  vkft_last_error(lc));
            CHECK(&t, ok && vkft_fill_f32(rec, wide, 32 << 10, 1.0f) != 0 &&
                          strstr(vkft_last_error(lc), "more than one binding may") != NULL,
                  "binding 128 KiB of 64: %s", vkft_last_error(lc));
            CHECK(&t, ok && vkft_fill_f32(rec, vkft_buf_slice(wide, 64 << 10, 64 << 10), 16 << 10, 1.0f) == 0 &&
                          vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0,
                  "binding half: %s", vkft_last_error(lc));
            vkft_recorder_destroy(rec);
        }
        test_close_ctx(&t, lc);
    }

    /* The staging path, including transfers larger than the 64 MiB staging buffer. */
    vkft_ctx_options o;
    vkft_ctx_options_default(&o);
    o.force_staging = 1;
    ctx = NULL;
    if (CHECK(&t, vkft_ctx_create(&o, &ctx) == 0, "staging context: %s", vkft_last_error(ctx))) {
        round_trip(&t, ctx, 1, "staging");
        round_trip(&t, ctx, 1001, "staging");
        round_trip(&t, ctx, (size_t)100 << 20, "staging");
    }
    test_close_ctx(&t, ctx);

    /* A memory limit: an allocation beyond it fails before touching the driver, with the sizes. */
    vkft_ctx_options_default(&o);
    o.memory_limit = 8u << 20;
    ctx = NULL;
    if (CHECK(&t, vkft_ctx_create(&o, &ctx) == 0, "limited context: %s", vkft_last_error(ctx))) {
        vkft_arena *small = vkft_arena_create(ctx, "activations", 4u << 20);
        vkft_buf x, y, z;
        CHECK(&t, vkft_arena_alloc(small, 3u << 20, &x) == 0, "3 MiB fits: %s", vkft_last_error(ctx));
        CHECK(&t, vkft_arena_alloc(small, 3u << 20, &y) == 0, "second 4 MiB block fits: %s", vkft_last_error(ctx));
        int failed = vkft_arena_alloc(small, 3u << 20, &z) != 0;
        const char *e = vkft_last_error(ctx);
        CHECK(&t, failed && strstr(e, "out of memory") && strstr(e, "activations") && strstr(e, "MiB"),
              "beyond the limit: %s", e);
        printf("out-of-memory message: %s\n", e);
        vkft_arena_destroy(small);
        CHECK(&t, vkft_arena_alloc(vkft_default_arena(ctx), 1u << 20, &x) != 0 ||
                      vkft_arena_get_stats(vkft_default_arena(ctx)).reserved <= (8u << 20),
              "limit holds for the default arena");
    }
    test_close_ctx(&t, ctx);
    return test_finish(&t);
}
