#include "tests/test_gpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

vkft_ctx *test_open_ctx(test_state *t) {
    vkft_ctx_options o;
    vkft_ctx_options_default(&o);
    vkft_ctx *ctx = NULL;
    if (vkft_ctx_create(&o, &ctx) != 0) {
        CHECK(t, 0, "cannot open a Vulkan device: %s", vkft_last_error(ctx));
        vkft_ctx_destroy(ctx);
        return NULL;
    }
    printf("device: %s (validation %s)\n", vkft_device(ctx)->name, vkft_validation_enabled(ctx) ? "on" : "off");
    return ctx;
}

void test_close_ctx(test_state *t, vkft_ctx *ctx) {
    if (!ctx) return;
    CHECK(t, vkft_validation_messages(ctx) == 0, "%d Vulkan validation message(s)", vkft_validation_messages(ctx));
    vkft_ctx_destroy(ctx);
}

vkft_buf test_buf_f32(test_state *t, vkft_ctx *ctx, const float *data, size_t n) {
    vkft_buf b = {0};
    if (!CHECK(t, vkft_arena_alloc(vkft_default_arena(ctx), n * 4, &b) == 0, "alloc: %s", vkft_last_error(ctx)))
        return b;
    if (data) CHECK(t, vkft_upload(ctx, b, 0, data, n * 4) == 0, "upload: %s", vkft_last_error(ctx));
    return b;
}

float *test_download_f32(test_state *t, vkft_ctx *ctx, vkft_buf b, size_t n) {
    float *x = calloc(n ? n : 1, 4);
    CHECK(t, vkft_download(ctx, b, 0, x, n * 4) == 0, "download: %s", vkft_last_error(ctx));
    return x;
}

int test_run_reference(const char *script, const char *args) {
    const char *src = getenv("VKFT_SOURCE_DIR");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/reference/%s' %s", src ? src : ".", script, args);
    int rc = system(cmd);
    return rc;
}

int test_write_f32(const char *path, const float *x, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(x, 4, n, f);
    return fclose(f) == 0 && w == n ? 0 : -1;
}

float *test_read_f32(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *x = malloc(bytes > 0 ? (size_t)bytes : 4);
    *n = fread(x, 4, (size_t)bytes / 4, f);
    fclose(f);
    return x;
}

const char *test_tmpdir(char *buf, size_t len) {
    const char *base = getenv("TMPDIR");
    snprintf(buf, len, "%s/vkft-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(buf);
}
