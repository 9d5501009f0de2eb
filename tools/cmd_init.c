/* vkft init: a new, randomly initialized Llama-style model folder for a tokenizer (pretraining from
 * scratch is then a `vkft train` run with method full). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "data/tokenizer.h"
#include "model/safetensors.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "util/fsutil.h"

static void usage(void) {
    printf("usage: vkft init --tokenizer FILE --out DIR [--hidden 128] [--layers 4] [--heads 4] [--kv-heads 2]\n"
           "                 [--intermediate 344] [--max-positions 512] [--rope-theta 10000] [--seed 1]\n"
           "                 [--overwrite]\n\n"
           "Writes DIR/config.json (a llama model, tied embeddings, the tokenizer's vocabulary size and special\n"
           "tokens), DIR/model.safetensors (weights drawn from N(0, 0.02), norms 1) and copies the tokenizer\n"
           "files. Train it from scratch with `vkft train` and method full.\n");
}

/* Normal numbers from a seeded splitmix64 stream (Box-Muller). */
static double next_uniform(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static float *normal(uint64_t n, float std, uint64_t *seed) {
    float *x = malloc(n * 4);
    for (uint64_t i = 0; i < n; i += 2) {
        double u1 = next_uniform(seed), u2 = next_uniform(seed), r = sqrt(-2.0 * log(u1));
        x[i] = (float)(std * r * cos(2 * M_PI * u2));
        if (i + 1 < n) x[i + 1] = (float)(std * r * sin(2 * M_PI * u2));
    }
    return x;
}

static float *ones(uint64_t n) {
    float *x = malloc(n * 4);
    for (uint64_t i = 0; i < n; i++) x[i] = 1.0f;
    return x;
}

int cmd_init(int argc, char **argv) {
    const char *tok_path = NULL, *out = NULL;
    int hidden = 128, layers = 4, heads = 4, kv_heads = 2, inter = 344, positions = 512, overwrite = 0, bad = 0;
    double theta = 10000;
    long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (!strcmp(argv[i], "--overwrite")) {
            overwrite = 1;
        } else if ((v = cli_value(argc, argv, &i, "--tokenizer", &bad))) {
            tok_path = v;
        } else if ((v = cli_value(argc, argv, &i, "--out", &bad))) {
            out = v;
        } else if ((v = cli_value(argc, argv, &i, "--hidden", &bad))) {
            hidden = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--layers", &bad))) {
            layers = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--heads", &bad))) {
            heads = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--kv-heads", &bad))) {
            kv_heads = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--intermediate", &bad))) {
            inter = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--max-positions", &bad))) {
            positions = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--rope-theta", &bad))) {
            theta = atof(v);
        } else if ((v = cli_value(argc, argv, &i, "--seed", &bad))) {
            seed = atoll(v);
        } else {
            if (!bad) fprintf(stderr, "vkft init: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (bad) return 2;
    if (!tok_path || !out) {
        fprintf(stderr, "vkft init: --tokenizer FILE and --out DIR are required (see --help)\n");
        return 2;
    }
    if (hidden < 8 || layers < 1 || heads < 1 || kv_heads < 1 || heads % kv_heads || hidden % heads ||
        (hidden / heads) % 2 || inter < 1 || positions < 2) {
        fprintf(stderr, "vkft init: the shape is inconsistent: hidden must divide into heads of an even size, heads "
                        "into kv-heads\n");
        return 2;
    }
    char err[1024], path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    if (vkft_file_exists(path) && !overwrite) {
        fprintf(stderr, "vkft init: %s already holds a model; --overwrite replaces it\n", out);
        return 2;
    }
    vkft_tokenizer *tok;
    if (vkft_tokenizer_load(tok_path, &tok, err, sizeof err)) {
        fprintf(stderr, "vkft init: %s\n", err);
        return 1;
    }
    uint32_t V = (uint32_t)vkft_tokenizer_vocab_size(tok), C = (uint32_t)hidden, I = (uint32_t)inter;
    uint32_t D = C / (uint32_t)heads, KD = D * (uint32_t)kv_heads;
    vkft_tok_specials sp = vkft_tokenizer_specials(tok);
    int rc = vkft_mkdirs(out, err, sizeof err);
    /* config.json as transformers writes a LlamaConfig */
    cJSON *c = cJSON_CreateObject();
    cJSON *arch = cJSON_AddArrayToObject(c, "architectures");
    cJSON_AddItemToArray(arch, cJSON_CreateString("LlamaForCausalLM"));
    cJSON_AddStringToObject(c, "model_type", "llama");
    cJSON_AddNumberToObject(c, "vocab_size", V);
    cJSON_AddNumberToObject(c, "hidden_size", C);
    cJSON_AddNumberToObject(c, "intermediate_size", I);
    cJSON_AddNumberToObject(c, "num_hidden_layers", layers);
    cJSON_AddNumberToObject(c, "num_attention_heads", heads);
    cJSON_AddNumberToObject(c, "num_key_value_heads", kv_heads);
    cJSON_AddNumberToObject(c, "head_dim", D);
    cJSON_AddNumberToObject(c, "max_position_embeddings", positions);
    cJSON_AddNumberToObject(c, "rms_norm_eps", 1e-5);
    cJSON_AddNumberToObject(c, "rope_theta", theta);
    cJSON_AddBoolToObject(c, "tie_word_embeddings", 1);
    cJSON_AddStringToObject(c, "hidden_act", "silu");
    cJSON_AddBoolToObject(c, "attention_bias", 0);
    cJSON_AddBoolToObject(c, "mlp_bias", 0);
    cJSON_AddStringToObject(c, "torch_dtype", "float32");
    if (sp.bos >= 0) cJSON_AddNumberToObject(c, "bos_token_id", sp.bos);
    if (sp.eos >= 0) cJSON_AddNumberToObject(c, "eos_token_id", sp.eos);
    char *json = cJSON_Print(c);
    cJSON_Delete(c);
    snprintf(path, sizeof path, "%s/config.json", out);
    rc = rc || vkft_write_file_atomic(path, json, strlen(json), err, sizeof err);
    free(json);
    /* weights */
    uint64_t s = (uint64_t)seed;
    enum { MAXT = 4 + 9 * 64 };
    vkft_st_write_tensor t[MAXT];
    char names[MAXT][128];
    int n = 0;
#define ADD(nm, d0, d1, data)                                                                            \
    do {                                                                                                 \
        snprintf(names[n], sizeof names[n], "%s", nm);                                                   \
        t[n] = (vkft_st_write_tensor){names[n], VKFT_F32, (d1) ? 2 : 1, {(d0), (d1)}, (data)};           \
        n++;                                                                                             \
    } while (0)
    if (layers > 64) layers = 64;
    ADD("model.embed_tokens.weight", V, C, normal((uint64_t)V * C, 0.02f, &s));
    for (int l = 0; l < layers; l++) {
        char nm[128];
        const struct {
            const char *part;
            uint32_t d0, d1;
        } mats[] = {{"self_attn.q_proj", C, C},   {"self_attn.k_proj", KD, C}, {"self_attn.v_proj", KD, C},
                    {"self_attn.o_proj", C, C},   {"mlp.gate_proj", I, C},     {"mlp.up_proj", I, C},
                    {"mlp.down_proj", C, I}};
        for (size_t k = 0; k < sizeof mats / sizeof mats[0]; k++) {
            snprintf(nm, sizeof nm, "model.layers.%d.%s.weight", l, mats[k].part);
            ADD(nm, mats[k].d0, mats[k].d1, normal((uint64_t)mats[k].d0 * mats[k].d1, 0.02f, &s));
        }
        snprintf(nm, sizeof nm, "model.layers.%d.input_layernorm.weight", l);
        ADD(nm, C, 0, ones(C));
        snprintf(nm, sizeof nm, "model.layers.%d.post_attention_layernorm.weight", l);
        ADD(nm, C, 0, ones(C));
    }
    ADD("model.norm.weight", C, 0, ones(C));
#undef ADD
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    const char *mk[] = {"format"}, *mv[] = {"pt"};
    rc = rc || vkft_st_write(path, t, n, mk, mv, 1, err, sizeof err);
    uint64_t params = 0;
    for (int i = 0; i < n; i++) {
        params += (uint64_t)t[i].shape[0] * (t[i].ndim == 2 ? (uint64_t)t[i].shape[1] : 1);
        free((void *)t[i].data);
    }
    /* the tokenizer files beside the model */
    snprintf(path, sizeof path, "%s/tokenizer.json", out);
    rc = rc || vkft_tokenizer_save(tok, path, err, sizeof err);
    vkft_tokenizer_free(tok);
    char from[4200];
    snprintf(from, sizeof from, "%s", tok_path);
    char *slash = strrchr(from, '/');
    snprintf(slash ? slash + 1 : from, sizeof from - (size_t)(slash ? slash + 1 - from : 0), "tokenizer_config.json");
    char *text;
    size_t len;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", out);
    if (!rc && vkft_file_exists(from) && vkft_read_file(from, &text, &len, err, sizeof err) == 0) {
        rc = vkft_write_file_atomic(path, text, len, err, sizeof err);
        free(text);
    }
    if (rc) {
        fprintf(stderr, "vkft init: %s\n", err);
        return 1;
    }
    printf("wrote %s: llama, %u parameters (%.1f MB), vocabulary %u, hidden %u, %d layers\n", out,
           (unsigned)params, params * 4 / 1e6, V, C, layers);
    return 0;
}
