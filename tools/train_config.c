#include "tools/train_config.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

typedef enum { T_STR, T_INT, T_NUM, T_BOOL, T_STRLIST, T_BETAS, T_INT64 } kind;

typedef struct {
    const char *key;
    kind k;
    size_t off, size;
    const char *def; /* JSON text; NULL: required */
} key_def;

#define F(field) offsetof(vkft_train_config, field), sizeof(((vkft_train_config *)0)->field)
static const key_def KEYS[] = {
    {"model", T_STR, F(model), NULL},
    {"output_dir", T_STR, F(output_dir), NULL},
    {"method", T_STR, F(method), "\"lora\""},
    {"data.train", T_STR, F(train), NULL},
    {"data.eval", T_STR, F(eval), "\"\""},
    {"data.format", T_STR, F(format), "\"text\""},
    {"data.text_field", T_STR, F(text_field), "\"text\""},
    {"data.chat_template", T_STR, F(chat_template), "\"auto\""},
    {"data.seq_len", T_INT, F(seq_len), "512"},
    {"data.packing", T_BOOL, F(packing), "true"},
    {"data.shuffle", T_BOOL, F(shuffle), "true"},
    {"lora.r", T_INT, F(lora_r), "8"},
    {"lora.alpha", T_NUM, F(lora_alpha), "16"},
    {"lora.dropout", T_NUM, F(lora_dropout), "0.0"},
    {"lora.rslora", T_BOOL, F(lora_rslora), "false"},
    {"lora.target_modules", T_STRLIST, F(lora_targets), "[\"q_proj\", \"v_proj\"]"},
    {"lora.init_adapter", T_STR, F(lora_init_adapter), "\"\""},
    {"optim.lr", T_NUM, F(lr), "2e-4"},
    {"optim.betas", T_BETAS, F(beta1), "[0.9, 0.999]"},
    {"optim.eps", T_NUM, F(eps), "1e-8"},
    {"optim.weight_decay", T_NUM, F(weight_decay), "0.0"},
    {"optim.grad_clip", T_NUM, F(grad_clip), "1.0"},
    {"schedule.type", T_STR, F(schedule), "\"constant\""},
    {"schedule.warmup_steps", T_INT, F(warmup_steps), "0"},
    {"batch.micro_batch_size", T_INT, F(micro_batch_size), "4"},
    {"batch.grad_accum", T_INT, F(grad_accum), "1"},
    {"epochs", T_INT, F(epochs), "1"},
    {"max_steps", T_INT, F(max_steps), "0"},
    {"eval_every", T_INT, F(eval_every), "0"},
    {"save_every", T_INT, F(save_every), "0"},
    {"log_every", T_INT, F(log_every), "1"},
    {"seed", T_INT64, F(seed), "42"},
    {"precision.weights", T_STR, F(weights), "\"f32\""},
    {"activation_checkpointing", T_BOOL, F(activation_checkpointing), "false"},
    {"freeze", T_STRLIST, F(freeze), "[]"},
};
static const int N_KEYS = (int)(sizeof KEYS / sizeof KEYS[0]);

int vkft_train_config_keys(const char **names, int max) {
    for (int i = 0; i < N_KEYS && i < max; i++) names[i] = KEYS[i].key;
    return N_KEYS;
}

static int edit_distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b), prev[128], cur[128];
    if (la > 120 || lb > 120) return 1000;
    for (int j = 0; j <= lb; j++) prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (lb + 1));
    }
    return prev[lb];
}

static const char *nearest_key(const char *key) {
    const char *best = KEYS[0].key;
    int bd = 1 << 30;
    for (int i = 0; i < N_KEYS; i++) {
        int d = edit_distance(key, KEYS[i].key);
        /* a key under the wrong section ("r" for "lora.r") is near too */
        const char *dot = strrchr(KEYS[i].key, '.');
        if (dot && edit_distance(key, dot + 1) < d) d = edit_distance(key, dot + 1);
        if (d < bd) bd = d, best = KEYS[i].key;
    }
    return best;
}

static const key_def *find_key(const char *key) {
    for (int i = 0; i < N_KEYS; i++)
        if (!strcmp(KEYS[i].key, key)) return &KEYS[i];
    return NULL;
}

static int is_section(const char *path) {
    size_t n = strlen(path);
    for (int i = 0; i < N_KEYS; i++)
        if (!strncmp(KEYS[i].key, path, n) && KEYS[i].key[n] == '.') return 1;
    return 0;
}

/* Every key in the file must be a documented one. */
static int check_unknown(const cJSON *obj, const char *prefix, const char *file, char *err, size_t errlen) {
    for (const cJSON *e = obj->child; e; e = e->next) {
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", e->string);
        if (find_key(path)) continue;
        if (cJSON_IsObject(e) && is_section(path)) {
            if (check_unknown(e, path, file, err, errlen)) return -1;
            continue;
        }
        return vkft_fail(err, errlen, "%s: unknown key \"%s\"; did you mean \"%s\"? (docs/config.md lists every key)", file,
                    path, nearest_key(path));
    }
    return 0;
}

static cJSON *get_path(cJSON *root, const char *key) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", key);
    cJSON *cur = root;
    for (char *part = strtok(buf, "."); part && cur; part = strtok(NULL, "."))
        cur = cJSON_GetObjectItemCaseSensitive(cur, part);
    return cur;
}

static int set_path(cJSON *root, const char *key, cJSON *value) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", key);
    cJSON *cur = root;
    char *part = strtok(buf, "."), *next;
    while ((next = strtok(NULL, "."))) {
        cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, part);
        if (!child) child = cJSON_AddObjectToObject(cur, part);
        if (!cJSON_IsObject(child)) return -1;
        cur = child;
        part = next;
    }
    if (cJSON_GetObjectItemCaseSensitive(cur, part))
        cJSON_ReplaceItemInObjectCaseSensitive(cur, part, value);
    else
        cJSON_AddItemToObject(cur, part, value);
    return 0;
}

static int store(const key_def *k, const cJSON *v, vkft_train_config *cfg, const char *file, char *err,
                 size_t errlen) {
    char *dst = (char *)cfg + k->off;
    switch (k->k) {
    case T_STR:
        if (!cJSON_IsString(v)) return vkft_fail(err, errlen, "%s: \"%s\" must be a string", file, k->key);
        if (strlen(v->valuestring) >= k->size) return vkft_fail(err, errlen, "%s: \"%s\" is too long", file, k->key);
        snprintf(dst, k->size, "%s", v->valuestring);
        return 0;
    case T_INT:
    case T_INT64:
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long long)v->valuedouble || v->valuedouble < 0)
            return vkft_fail(err, errlen, "%s: \"%s\" must be a non-negative integer", file, k->key);
        if (k->k == T_INT) {
            if (v->valuedouble > 2147483647.0) return vkft_fail(err, errlen, "%s: \"%s\" is too large", file, k->key);
            *(int *)dst = (int)v->valuedouble;
        } else {
            *(long long *)dst = (long long)v->valuedouble;
        }
        return 0;
    case T_NUM:
        if (!cJSON_IsNumber(v)) return vkft_fail(err, errlen, "%s: \"%s\" must be a number", file, k->key);
        *(double *)dst = v->valuedouble;
        return 0;
    case T_BOOL:
        if (!cJSON_IsBool(v)) return vkft_fail(err, errlen, "%s: \"%s\" must be true or false", file, k->key);
        *(int *)dst = cJSON_IsTrue(v);
        return 0;
    case T_BETAS:
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(v, 0)) ||
            !cJSON_IsNumber(cJSON_GetArrayItem(v, 1)))
            return vkft_fail(err, errlen, "%s: \"%s\" must be two numbers, e.g. [0.9, 0.999]", file, k->key);
        cfg->beta1 = cJSON_GetArrayItem(v, 0)->valuedouble;
        cfg->beta2 = cJSON_GetArrayItem(v, 1)->valuedouble;
        return 0;
    case T_STRLIST: {
        int is_targets = !strcmp(k->key, "lora.target_modules");
        char(*list)[is_targets ? 64 : 128] = (void *)dst;
        int *count = is_targets ? &cfg->lora_n_targets : &cfg->n_freeze;
        size_t width = is_targets ? 64 : 128;
        *count = 0;
        if (cJSON_IsString(v)) { /* "all-linear" */
            snprintf(list[0], width, "%s", v->valuestring);
            *count = 1;
            return 0;
        }
        if (!cJSON_IsArray(v)) return vkft_fail(err, errlen, "%s: \"%s\" must be a list of strings", file, k->key);
        for (const cJSON *e = v->child; e; e = e->next) {
            if (!cJSON_IsString(e) || strlen(e->valuestring) >= width)
                return vkft_fail(err, errlen, "%s: \"%s\" must be a list of (short) strings", file, k->key);
            if (*count == VKFT_MAX_TARGETS)
                return vkft_fail(err, errlen, "%s: \"%s\" has more than %d entries", file, k->key, VKFT_MAX_TARGETS);
            snprintf(list[(*count)++], width, "%s", e->valuestring);
        }
        return 0;
    }
    }
    return -1;
}

static int one_of(const char *v, const char *const *choices) {
    for (int i = 0; choices[i]; i++)
        if (!strcmp(v, choices[i])) return 1;
    return 0;
}

int vkft_train_config_load(const char *path, const char *const *sets, int n_sets, vkft_train_config *cfg,
                           char *err, size_t errlen) {
    memset(cfg, 0, sizeof *cfg);
    char *text;
    size_t n;
    if (vkft_read_file(path, &text, &n, err, errlen)) return -1;
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        /* name the line of the error */
        const char *at = cJSON_GetErrorPtr();
        int line = 1;
        for (const char *p = text; at && p < at && *p; p++) line += *p == '\n';
        cJSON_Delete(root);
        free(text);
        return vkft_fail(err, errlen, "%s:%d: not valid JSON (a JSON object of settings is expected)", path, line);
    }
    free(text);
    int rc = -1;
    for (int i = 0; i < n_sets; i++) {
        const char *eq = strchr(sets[i], '=');
        if (!eq || eq == sets[i]) {
            vkft_fail(err, errlen, "--set %s: expected key=value, e.g. --set lora.r=16", sets[i]);
            goto done;
        }
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[i]), sets[i]);
        if (!find_key(key)) {
            vkft_fail(err, errlen, "--set %s: unknown key \"%s\"; did you mean \"%s\"?", sets[i], key, nearest_key(key));
            goto done;
        }
        cJSON *v = cJSON_Parse(eq + 1);
        if (!v) v = cJSON_CreateString(eq + 1);
        if (set_path(root, key, v)) {
            cJSON_Delete(v);
            vkft_fail(err, errlen, "--set %s: cannot set it", sets[i]);
            goto done;
        }
    }
    if (check_unknown(root, "", path, err, errlen)) goto done;
    for (int i = 0; i < N_KEYS; i++) {
        const key_def *k = &KEYS[i];
        cJSON *v = get_path(root, k->key), *def = NULL;
        if (!v) {
            if (!k->def) {
                vkft_fail(err, errlen, "%s: \"%s\" is required (see docs/config.md)", path, k->key);
                goto done;
            }
            v = def = cJSON_Parse(k->def);
        }
        int bad = store(k, v, cfg, path, err, errlen);
        cJSON_Delete(def);
        if (bad) goto done;
    }
    static const char *const methods[] = {"full", "lora", NULL}, *const formats[] = {"text", "jsonl_text", "ids", "alpaca", "messages", NULL},
                             *const schedules[] = {"constant", "linear", "cosine", NULL};
    if (!one_of(cfg->method, methods)) {
        vkft_fail(err, errlen, "%s: method \"%s\": use full or lora", path, cfg->method);
        goto done;
    }
    if (!one_of(cfg->format, formats)) {
        vkft_fail(err, errlen, "%s: data.format \"%s\": use text, jsonl_text, ids, alpaca or messages", path, cfg->format);
        goto done;
    }
    static const char *const templates[] = {"auto", "default", "tokenizer", NULL};
    if (!one_of(cfg->chat_template, templates)) {
        size_t n = strlen(cfg->chat_template);
        if (n < 6 || strcmp(cfg->chat_template + n - 6, ".jinja")) {
            vkft_fail(err, errlen, "%s: data.chat_template \"%s\": use auto, default, tokenizer or the path of a .jinja file",
                      path, cfg->chat_template);
            goto done;
        }
        if (!vkft_file_exists(cfg->chat_template)) {
            vkft_fail(err, errlen, "%s: data.chat_template: %s does not exist", path, cfg->chat_template);
            goto done;
        }
    }
    if (strcmp(cfg->chat_template, "auto") && strcmp(cfg->format, "alpaca") && strcmp(cfg->format, "messages")) {
        vkft_fail(err, errlen, "%s: data.chat_template applies to data.format alpaca and messages, not %s", path,
                  cfg->format);
        goto done;
    }
    if (!one_of(cfg->schedule, schedules)) {
        vkft_fail(err, errlen, "%s: schedule.type \"%s\": use constant, linear or cosine", path, cfg->schedule);
        goto done;
    }
    static const char *const precisions[] = {"f32", "f16", "bf16", NULL};
    if (!one_of(cfg->weights, precisions)) {
        vkft_fail(err, errlen, "%s: precision.weights \"%s\": use f32, f16 or bf16", path, cfg->weights);
        goto done;
    }
    if (!(cfg->lora_dropout >= 0.0 && cfg->lora_dropout < 1.0)) {
        vkft_fail(err, errlen, "%s: lora.dropout %g: use a probability in [0, 1)", path, cfg->lora_dropout);
        goto done;
    }
    if (cfg->seq_len < 2 || cfg->micro_batch_size < 1 || cfg->grad_accum < 1 || cfg->lora_r < 1 || cfg->lr <= 0 ||
        cfg->log_every < 1) {
        vkft_fail(err, errlen, "%s: data.seq_len >= 2, batch sizes >= 1, lora.r >= 1, optim.lr > 0 and log_every >= 1 "
                          "are needed",
             path);
        goto done;
    }
    if (cfg->max_steps == 0 && cfg->epochs == 0) {
        vkft_fail(err, errlen, "%s: set epochs or max_steps", path);
        goto done;
    }
    rc = 0;
done:
    cJSON_Delete(root);
    return rc;
}

char *vkft_train_config_json(const vkft_train_config *c) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "model", c->model);
    cJSON_AddStringToObject(r, "output_dir", c->output_dir);
    cJSON_AddStringToObject(r, "method", c->method);
    cJSON *d = cJSON_AddObjectToObject(r, "data");
    cJSON_AddStringToObject(d, "train", c->train);
    cJSON_AddStringToObject(d, "eval", c->eval);
    cJSON_AddStringToObject(d, "format", c->format);
    cJSON_AddStringToObject(d, "text_field", c->text_field);
    cJSON_AddStringToObject(d, "chat_template", c->chat_template);
    cJSON_AddNumberToObject(d, "seq_len", c->seq_len);
    cJSON_AddBoolToObject(d, "packing", c->packing);
    cJSON_AddBoolToObject(d, "shuffle", c->shuffle);
    cJSON *l = cJSON_AddObjectToObject(r, "lora");
    cJSON_AddNumberToObject(l, "r", c->lora_r);
    cJSON_AddNumberToObject(l, "alpha", c->lora_alpha);
    cJSON_AddNumberToObject(l, "dropout", c->lora_dropout);
    cJSON_AddBoolToObject(l, "rslora", c->lora_rslora);
    cJSON_AddStringToObject(l, "init_adapter", c->lora_init_adapter);
    cJSON *t = cJSON_AddArrayToObject(l, "target_modules");
    for (int i = 0; i < c->lora_n_targets; i++) cJSON_AddItemToArray(t, cJSON_CreateString(c->lora_targets[i]));
    cJSON *o = cJSON_AddObjectToObject(r, "optim");
    cJSON_AddNumberToObject(o, "lr", c->lr);
    double betas[2] = {c->beta1, c->beta2};
    cJSON_AddItemToObject(o, "betas", cJSON_CreateDoubleArray(betas, 2));
    cJSON_AddNumberToObject(o, "eps", c->eps);
    cJSON_AddNumberToObject(o, "weight_decay", c->weight_decay);
    cJSON_AddNumberToObject(o, "grad_clip", c->grad_clip);
    cJSON *s = cJSON_AddObjectToObject(r, "schedule");
    cJSON_AddStringToObject(s, "type", c->schedule);
    cJSON_AddNumberToObject(s, "warmup_steps", c->warmup_steps);
    cJSON *b = cJSON_AddObjectToObject(r, "batch");
    cJSON_AddNumberToObject(b, "micro_batch_size", c->micro_batch_size);
    cJSON_AddNumberToObject(b, "grad_accum", c->grad_accum);
    cJSON_AddNumberToObject(r, "epochs", c->epochs);
    cJSON_AddNumberToObject(r, "max_steps", c->max_steps);
    cJSON_AddNumberToObject(r, "eval_every", c->eval_every);
    cJSON_AddNumberToObject(r, "save_every", c->save_every);
    cJSON_AddNumberToObject(r, "log_every", c->log_every);
    cJSON_AddNumberToObject(r, "seed", (double)c->seed);
    cJSON *p = cJSON_AddObjectToObject(r, "precision");
    cJSON_AddStringToObject(p, "weights", c->weights);
    cJSON_AddBoolToObject(r, "activation_checkpointing", c->activation_checkpointing);
    cJSON *f = cJSON_AddArrayToObject(r, "freeze");
    for (int i = 0; i < c->n_freeze; i++) cJSON_AddItemToArray(f, cJSON_CreateString(c->freeze[i]));
    char *out = cJSON_Print(r);
    cJSON_Delete(r);
    return out;
}
