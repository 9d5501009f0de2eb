/* The configuration of a training run: one JSON file, every key documented in docs/config.md with its
 * default, unknown keys rejected with the nearest valid key suggested, any key overridable on the
 * command line with --set key=value (dotted keys: lora.r=16). */
#ifndef VKFT_TRAIN_CONFIG_H
#define VKFT_TRAIN_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#define VKFT_MAX_TARGETS 16

typedef struct {
    char model[1024], output_dir[1024], method[16];
    char train[1024], eval[1024], format[16], text_field[64];
    char chat_template[1024]; /* auto, default, tokenizer or a .jinja file */
    int seq_len, packing, shuffle;
    int lora_r;
    double lora_alpha, lora_dropout;
    int lora_rslora;
    char lora_targets[VKFT_MAX_TARGETS][64];
    char lora_init_adapter[1024];
    int lora_n_targets;
    double lr, beta1, beta2, eps, weight_decay, grad_clip;
    char schedule[16];
    int warmup_steps;
    int micro_batch_size, grad_accum;
    int epochs, max_steps, eval_every, save_every, log_every;
    long long seed;
    char weights[8];
    int activation_checkpointing;
    char freeze[VKFT_MAX_TARGETS][128];
    int n_freeze;
} vkft_train_config;

/* Reads path, applies the --set overrides ("key=value"; value parsed as JSON, else taken as a string),
 * validates, and fills cfg. Errors name the file and the key and suggest the nearest valid key. */
int vkft_train_config_load(const char *path, const char *const *sets, int n_sets, vkft_train_config *cfg,
                           char *err, size_t errlen);
/* The resolved configuration as JSON (saved with each run and checkpoint). Caller frees. */
char *vkft_train_config_json(const vkft_train_config *cfg);
/* Every documented key ("lora.r", ...), for docs and tests: returns the count, fills names[i]. */
int vkft_train_config_keys(const char **names, int max);
#endif
