/* vkft: the command-line entry point. Dispatches to one subcommand per tools/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "tools/commands.h"

#ifndef VKFT_VERSION
#define VKFT_VERSION "0.1.0"
#endif

static const vkft_command commands[] = {
    {"devices", cmd_devices, "list Vulkan devices and their capabilities"},
    {"selfcheck", cmd_selfcheck, "run kernels on the device and compare them with the CPU"},
    {"bench", cmd_bench, "benchmarks (dispatch overhead, kernels)"},
    {"train", cmd_train, "fine-tune a model (full or LoRA) from a JSON config"},
    {"train-head", cmd_train_head, "train a classification head on feature vectors (e.g. SMOTE's output)"},
    {"eval", cmd_eval, "loss and perplexity of a model over a dataset"},
    {"export", cmd_export, "merge a LoRA adapter into its base model (Hugging Face folder)"},
    {"init", cmd_init, "a new randomly initialized model for a tokenizer (to pretrain from scratch)"},
    {"generate", cmd_generate, "continue a prompt with a causal LM (KV cache; greedy or sampled), tokens/s"},
    {"data", cmd_data, "data preparation: clean, dedup, deid, augment, balance, report, pipeline"},
    {"tokenize", cmd_tokenize, "encode stdin lines to token ids (or decode ids) with a tokenizer.json"},
    {"tokenizer", cmd_tokenizer, "train a BPE/WordPiece tokenizer, or extend one with domain terms"},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *f) {
    fprintf(f, "vkft %s: fine-tuning for language models on any Vulkan GPU\n\n", VKFT_VERSION);
    fprintf(f, "usage: vkft COMMAND [options]   (vkft COMMAND --help for each)\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++) fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nenvironment: VKFT_DEVICE=N|NAME picks a device, VKFT_VALIDATION=1 enables the Vulkan "
               "validation layer, VKFT_PROFILE=1 prints a per-kernel profile.\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("vkft %s\n", VKFT_VERSION);
        return 0;
    }
    for (int i = 0; i < n_commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vkft: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
