/* vkft export: a base model with a LoRA adapter merged into its weights, as a Hugging Face folder. */
#include <stdio.h>
#include <string.h>

#include "model/export.h"
#include "model/model.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "util/fsutil.h"

static void usage(void) {
    printf("usage: vkft export --model DIR --adapter DIR --merge --out DIR [--overwrite] [--device N|NAME]\n\n"
           "Folds the PEFT LoRA adapter into the base model's weights (W += alpha/r B A) and writes the\n"
           "merged model as a Hugging Face folder (config.json, model.safetensors, the tokenizer files).\n"
           "The result loads anywhere the base model does, without PEFT.\n");
}

int cmd_export(int argc, char **argv) {
    const char *model = NULL, *adapter = NULL, *out = NULL, *device = NULL;
    int merge = 0, overwrite = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (!strcmp(argv[i], "--merge")) {
            merge = 1;
        } else if (!strcmp(argv[i], "--overwrite")) {
            overwrite = 1;
        } else if ((v = cli_value(argc, argv, &i, "--model", &bad))) {
            model = v;
        } else if ((v = cli_value(argc, argv, &i, "--adapter", &bad))) {
            adapter = v;
        } else if ((v = cli_value(argc, argv, &i, "--out", &bad))) {
            out = v;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else {
            if (!bad) fprintf(stderr, "vkft export: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (bad) return 2;
    if (!model || !adapter || !out || !merge) {
        fprintf(stderr, "vkft export: --model, --adapter, --merge and --out are required (see --help)\n");
        return 2;
    }
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/model.safetensors", out);
    if (vkft_file_exists(probe) && !overwrite) {
        fprintf(stderr, "vkft export: %s already holds a model; --overwrite replaces it\n", out);
        return 2;
    }
    char err[2048];
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    vkft_model *m = NULL;
    int rc = 1, merged = 0;
    if (vkft_model_load(ctx, model, &m, err, sizeof err) || vkft_model_load_adapter(m, adapter, err, sizeof err) ||
        (merged = vkft_model_merge_lora(m, err, sizeof err)) < 0 || vkft_model_save_hf(m, model, out, err, sizeof err))
        fprintf(stderr, "vkft export: %s\n", err);
    else {
        printf("merged %d LoRA layers of %s into %s\n", merged, adapter, out);
        rc = 0;
    }
    vkft_model_free(m);
    return cli_close_device(ctx) || rc ? 1 : 0;
}
