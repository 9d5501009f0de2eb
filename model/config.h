/* config.json of a Hugging Face model folder → the architecture vkft builds. */
#ifndef VKFT_CONFIG_H
#define VKFT_CONFIG_H
#include <stddef.h>
#include <stdint.h>

typedef enum { VKFT_ARCH_GPT2, VKFT_ARCH_LLAMA, VKFT_ARCH_BERT } vkft_arch;

typedef enum { VKFT_ROPE_NONE, VKFT_ROPE_LINEAR, VKFT_ROPE_LLAMA3 } vkft_rope_scaling;

typedef struct {
    vkft_arch arch;
    char model_type[32]; /* as written: gpt2, llama, mistral, qwen2, bert */
    uint32_t vocab_size, hidden_size, num_layers, num_heads, num_kv_heads, head_dim, intermediate_size;
    uint32_t max_positions;
    float norm_eps;
    /* llama family */
    float rope_theta;
    vkft_rope_scaling rope_scaling;
    float rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    uint32_t rope_original_max_positions;
    int attention_bias; /* q/k/v (and o for llama's attention_bias) carry biases: qwen2, or attention_bias */
    int mlp_bias;
    int tie_word_embeddings;
    /* bert */
    uint32_t type_vocab_size;
    /* special tokens from config.json (-1 when absent) */
    int32_t bos_token_id, eos_token_id, pad_token_id;
} vkft_model_config;

/* Reads DIR/config.json. Errors name the file and the key, and list the supported model types. */
int vkft_config_load(const char *dir, vkft_model_config *cfg, char *err, size_t errlen);
/* Parses config.json text (path is used in messages). */
int vkft_config_parse(const char *text, const char *path, vkft_model_config *cfg, char *err, size_t errlen);
const char *vkft_arch_name(vkft_arch arch);
#endif
