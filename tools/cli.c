#include "tools/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/fsutil.h"

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

/* Adds the ids of an eos_token_id value (an int or a list of ints) to eos[] (no duplicates). */
static void add_eos_json(const cJSON *v, int32_t *eos, uint32_t *n, uint32_t max) {
    if (!v) return;
    if (cJSON_IsArray(v)) {
        for (const cJSON *e = v->child; e; e = e->next) add_eos_json(e, eos, n, max);
        return;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble < 0) return;
    int32_t id = (int32_t)v->valuedouble;
    for (uint32_t i = 0; i < *n; i++)
        if (eos[i] == id) return;
    if (*n < max) eos[(*n)++] = id;
}

/* The end-of-sequence ids: config.json's and generation_config.json's eos_token_id (either may be a list,
 * as for Llama 3) and the tokenizer's EOS. */
uint32_t cli_eos_ids(const char *dir, const vkft_tokenizer *tok, int32_t *eos, uint32_t max) {
    uint32_t n = 0;
    static const char *const files[] = {"config.json", "generation_config.json"};
    for (int f = 0; f < 2; f++) {
        char path[4200], *text = NULL, err[256];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, files[f]);
        if (!vkft_file_exists(path) || vkft_read_file(path, &text, &len, err, sizeof err)) continue;
        cJSON *j = cJSON_ParseWithLength(text, len);
        free(text);
        add_eos_json(cJSON_GetObjectItem(j, "eos_token_id"), eos, &n, max);
        cJSON_Delete(j);
    }
    if (tok) {
        cJSON num = {.type = cJSON_Number, .valuedouble = vkft_tokenizer_specials(tok).eos};
        add_eos_json(&num, eos, &n, max);
    }
    return n;
}

