#include "model/config.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

const char *vkft_arch_name(vkft_arch arch) {
    switch (arch) {
    case VKFT_ARCH_GPT2: return "gpt2";
    case VKFT_ARCH_LLAMA: return "llama";
    case VKFT_ARCH_BERT: return "bert";
    }
    return "?";
}

/* Reads a positive integer key (one of several spellings); `need` makes it required. */
static int get_uint(const cJSON *root, const char *const *names, uint32_t fallback, int need, uint32_t *out,
                    const char *path, char *err, size_t errlen) {
    for (int i = 0; names[i]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, names[i]);
        if (!v || cJSON_IsNull(v)) continue;
        if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != (double)(uint32_t)v->valuedouble)
            return vkft_fail(err, errlen, "%s: \"%s\" must be a non-negative integer", path, names[i]);
        *out = (uint32_t)v->valuedouble;
        return 0;
    }
    if (need) return vkft_fail(err, errlen, "%s: missing \"%s\"", path, names[0]);
    *out = fallback;
    return 0;
}

static float get_float(const cJSON *root, const char *name, float fallback) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsNumber(v) ? (float)v->valuedouble : fallback;
}

static int get_bool(const cJSON *root, const char *name, int fallback) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : fallback;
}

/* A token id, or the first of a list of ids (eos_token_id may be a list). */
static int32_t get_token(const cJSON *root, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    if (cJSON_IsArray(v)) v = cJSON_GetArrayItem(v, 0);
    return cJSON_IsNumber(v) ? (int32_t)v->valuedouble : -1;
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

int vkft_config_parse(const char *text, const char *path, vkft_model_config *c, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        const char *at = cJSON_GetErrorPtr();
        cJSON_Delete(root);
        return vkft_fail(err, errlen, "%s: not valid JSON%s%.40s", path, at ? " near: " : "", at ? at : "");
    }
    int rc = -1;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!cJSON_IsString(mt)) {
        vkft_fail(err, errlen, "%s: missing \"model_type\" (vkft supports gpt2, llama, mistral, qwen2, bert)", path);
        goto done;
    }
    snprintf(c->model_type, sizeof c->model_type, "%s", mt->valuestring);
    if (!strcmp(c->model_type, "gpt2")) {
        c->arch = VKFT_ARCH_GPT2;
    } else if (!strcmp(c->model_type, "llama") || !strcmp(c->model_type, "mistral") ||
               !strcmp(c->model_type, "qwen2")) {
        c->arch = VKFT_ARCH_LLAMA;
    } else if (!strcmp(c->model_type, "bert")) {
        c->arch = VKFT_ARCH_BERT;
    } else {
        vkft_fail(err, errlen, "%s: model_type \"%s\" is not supported (vkft supports gpt2, llama, mistral, qwen2, bert)",
             path, c->model_type);
        goto done;
    }
    c->bos_token_id = get_token(root, "bos_token_id");
    c->eos_token_id = get_token(root, "eos_token_id");
    c->pad_token_id = get_token(root, "pad_token_id");
    if (c->arch == VKFT_ARCH_GPT2) {
        if (get_uint(root, NAMES("vocab_size"), 0, 1, &c->vocab_size, path, err, errlen) ||
            get_uint(root, NAMES("n_embd", "hidden_size"), 0, 1, &c->hidden_size, path, err, errlen) ||
            get_uint(root, NAMES("n_layer", "num_hidden_layers"), 0, 1, &c->num_layers, path, err, errlen) ||
            get_uint(root, NAMES("n_head", "num_attention_heads"), 0, 1, &c->num_heads, path, err, errlen) ||
            get_uint(root, NAMES("n_positions", "max_position_embeddings"), 1024, 0, &c->max_positions, path, err,
                     errlen) ||
            get_uint(root, NAMES("n_inner"), 4 * c->hidden_size, 0, &c->intermediate_size, path, err, errlen))
            goto done;
        c->num_kv_heads = c->num_heads;
        c->norm_eps = get_float(root, "layer_norm_epsilon", 1e-5f);
        c->tie_word_embeddings = get_bool(root, "tie_word_embeddings", 1);
        c->attention_bias = c->mlp_bias = 1;
    } else if (c->arch == VKFT_ARCH_LLAMA) {
        if (get_uint(root, NAMES("vocab_size"), 0, 1, &c->vocab_size, path, err, errlen) ||
            get_uint(root, NAMES("hidden_size"), 0, 1, &c->hidden_size, path, err, errlen) ||
            get_uint(root, NAMES("num_hidden_layers"), 0, 1, &c->num_layers, path, err, errlen) ||
            get_uint(root, NAMES("num_attention_heads"), 0, 1, &c->num_heads, path, err, errlen) ||
            get_uint(root, NAMES("num_key_value_heads"), c->num_heads, 0, &c->num_kv_heads, path, err, errlen) ||
            get_uint(root, NAMES("intermediate_size"), 0, 1, &c->intermediate_size, path, err, errlen) ||
            get_uint(root, NAMES("max_position_embeddings"), 2048, 0, &c->max_positions, path, err, errlen))
            goto done;
        if (c->num_heads && get_uint(root, NAMES("head_dim"), c->hidden_size / c->num_heads, 0, &c->head_dim, path,
                                     err, errlen))
            goto done;
        c->norm_eps = get_float(root, "rms_norm_eps", 1e-6f);
        c->rope_theta = get_float(root, "rope_theta", 10000.0f);
        c->tie_word_embeddings = get_bool(root, "tie_word_embeddings", 0);
        /* qwen2 always has q/k/v biases; llama's attention_bias adds them to q/k/v/o. */
        c->attention_bias = !strcmp(c->model_type, "qwen2") ? 1 : get_bool(root, "attention_bias", 0);
        c->mlp_bias = get_bool(root, "mlp_bias", 0);
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(root, "rope_scaling");
        if (cJSON_IsObject(rs)) {
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
            if (!cJSON_IsString(type)) type = cJSON_GetObjectItemCaseSensitive(rs, "type");
            const char *t = cJSON_IsString(type) ? type->valuestring : "";
            c->rope_factor = get_float(rs, "factor", 1.0f);
            if (!strcmp(t, "linear")) {
                c->rope_scaling = VKFT_ROPE_LINEAR;
            } else if (!strcmp(t, "llama3")) {
                c->rope_scaling = VKFT_ROPE_LLAMA3;
                c->rope_low_freq_factor = get_float(rs, "low_freq_factor", 1.0f);
                c->rope_high_freq_factor = get_float(rs, "high_freq_factor", 4.0f);
                c->rope_original_max_positions =
                    (uint32_t)get_float(rs, "original_max_position_embeddings", 8192.0f);
            } else if (strcmp(t, "default") != 0) {
                vkft_fail(err, errlen, "%s: rope_scaling type \"%s\" is not supported (vkft supports linear and llama3)",
                     path, t);
                goto done;
            }
        }
    } else {
        if (get_uint(root, NAMES("vocab_size"), 0, 1, &c->vocab_size, path, err, errlen) ||
            get_uint(root, NAMES("hidden_size"), 0, 1, &c->hidden_size, path, err, errlen) ||
            get_uint(root, NAMES("num_hidden_layers"), 0, 1, &c->num_layers, path, err, errlen) ||
            get_uint(root, NAMES("num_attention_heads"), 0, 1, &c->num_heads, path, err, errlen) ||
            get_uint(root, NAMES("intermediate_size"), 0, 1, &c->intermediate_size, path, err, errlen) ||
            get_uint(root, NAMES("max_position_embeddings"), 512, 0, &c->max_positions, path, err, errlen) ||
            get_uint(root, NAMES("type_vocab_size"), 2, 0, &c->type_vocab_size, path, err, errlen))
            goto done;
        c->num_kv_heads = c->num_heads;
        c->norm_eps = get_float(root, "layer_norm_eps", 1e-12f);
        c->tie_word_embeddings = get_bool(root, "tie_word_embeddings", 1);
        c->attention_bias = c->mlp_bias = 1;
        const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
        if (cJSON_IsString(act) && strcmp(act->valuestring, "gelu") != 0) {
            vkft_fail(err, errlen, "%s: hidden_act \"%s\" is not supported for bert (vkft supports gelu)", path,
                 act->valuestring);
            goto done;
        }
    }
    if (c->arch != VKFT_ARCH_LLAMA && c->num_heads) c->head_dim = c->hidden_size / c->num_heads;
    if (c->num_heads == 0 || c->num_kv_heads == 0 || c->num_heads % c->num_kv_heads != 0) {
        vkft_fail(err, errlen, "%s: num_attention_heads (%u) must be a positive multiple of num_key_value_heads (%u)", path,
             c->num_heads, c->num_kv_heads);
        goto done;
    }
    if (c->arch != VKFT_ARCH_LLAMA && c->hidden_size % c->num_heads != 0) {
        vkft_fail(err, errlen, "%s: hidden size %u is not divisible by %u heads", path, c->hidden_size, c->num_heads);
        goto done;
    }
    if (c->vocab_size == 0 || c->hidden_size == 0 || c->num_layers == 0 || c->head_dim == 0) {
        vkft_fail(err, errlen, "%s: vocab_size, hidden size, layers and heads must be positive", path);
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

int vkft_config_load(const char *dir, vkft_model_config *cfg, char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    char *text;
    size_t n;
    if (vkft_read_file(path, &text, &n, err, errlen)) return -1;
    int rc = vkft_config_parse(text, path, cfg, err, errlen);
    free(text);
    return rc;
}
