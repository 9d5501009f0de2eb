/* Small helpers shared by the subcommands: option matching, opening the device, timing. */
#ifndef VKFT_CLI_H
#define VKFT_CLI_H
#include "data/tokenizer.h"
#include "runtime/runtime.h"

/* 1 if argv has --help or -h. */
int cli_wants_help(int argc, char **argv);
/* For "--name VALUE" or "--name=VALUE" at argv[*i]: returns VALUE and advances *i, else NULL.
 * Prints an error and sets *bad when the value is missing. */
const char *cli_value(int argc, char **argv, int *i, const char *name, int *bad);
/* Opens a context on the device named by --device (NULL: $VKFT_DEVICE or the best); prints the error
 * with what to do and returns NULL on failure. */
vkft_ctx *cli_open_device(const char *device);
/* Destroys the context after printing the profile table when VKFT_PROFILE=1 and reporting validation
 * messages; returns 1 if there were validation messages, else 0. */
int cli_close_device(vkft_ctx *ctx);
double cli_now_s(void);
/* The end-of-sequence ids of model folder dir (config.json's and generation_config.json's eos_token_id,
 * an int or a list, and the tokenizer's EOS when tok is given), at most max, no duplicates. */
uint32_t cli_eos_ids(const char *dir, const vkft_tokenizer *tok, int32_t *eos, uint32_t max);
#endif
