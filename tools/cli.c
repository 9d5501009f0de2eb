#include "tools/cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return 1;
    return 0;
}

const char *cli_value(int argc, char **argv, int *i, const char *name, int *bad) {
    size_t len = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, len) != 0) return NULL;
    if (a[len] == '=') return a + len + 1;
    if (a[len] != 0) return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "vkft: %s needs a value\n", name);
        *bad = 1;
        return NULL;
    }
    return argv[++*i];
}

vkft_ctx *cli_open_device(const char *device) {
    vkft_ctx_options o;
    vkft_ctx_options_default(&o);
    o.device = device;
    vkft_ctx *ctx = NULL;
    if (vkft_ctx_create(&o, &ctx) != 0) {
        fprintf(stderr, "vkft: %s\n", vkft_last_error(ctx));
        vkft_ctx_destroy(ctx);
        return NULL;
    }
    return ctx;
}

int cli_close_device(vkft_ctx *ctx) {
    if (!ctx) return 0;
    if (vkft_profile_enabled(ctx)) vkft_profile_print(ctx, stderr);
    int messages = vkft_validation_messages(ctx);
    vkft_ctx_destroy(ctx);
    if (messages) fprintf(stderr, "vkft: %d validation message(s) were printed above\n", messages);
    return messages ? 1 : 0;
}

double cli_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}
