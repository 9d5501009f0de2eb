#include "model/export.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"
#include "util/fsutil.h"

/* Writes the parameters selected by `want` (lora or base) to path. */
static int save_params(vkft_model *m, const char *path, int lora, const char *const *meta_k,
                       const char *const *meta_v, int nmeta, char *err, size_t errlen) {
    int n = vkft_model_param_count(m), count = 0, rc = 0;
    vkft_st_write_tensor *t = calloc(n, sizeof *t);
    float **host = calloc(n, sizeof *host);
    for (int i = 0; i < n && !rc; i++) {
        vkft_param *p = vkft_model_param(m, i);
        if (p->lora != lora || (!lora && !p->loaded)) continue;
        host[count] = malloc(p->numel * 4);
        if (vkft_download(vkft_model_ctx(m), p->w, 0, host[count], p->numel * 4)) {
            snprintf(err, errlen, "%s: %s", p->name, vkft_last_error(vkft_model_ctx(m)));
            rc = -1;
            break;
        }
        t[count] = (vkft_st_write_tensor){.name = p->name, .dtype = VKFT_F32, .ndim = p->ndim,
                                          .shape = {p->shape[0], p->shape[1]}, .data = host[count]};
        count++;
    }
    if (!rc) rc = vkft_st_write(path, t, count, meta_k, meta_v, nmeta, err, errlen);
    for (int i = 0; i < count; i++) free(host[i]);
    free(host);
    free(t);
    return rc;
}

int vkft_peft_save(vkft_model *m, const char *dir, const vkft_peft_info *info, char *err, size_t errlen) {
    if (vkft_mkdirs(dir, err, errlen)) return -1;
    const vkft_model_config *c = vkft_model_cfg(m);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "peft_type", "LORA");
    cJSON_AddStringToObject(j, "task_type", c->arch == VKFT_ARCH_BERT ? "FEATURE_EXTRACTION" : "CAUSAL_LM");
    cJSON_AddNumberToObject(j, "r", info->r);
    cJSON_AddNumberToObject(j, "lora_alpha", info->alpha);
    cJSON_AddNumberToObject(j, "lora_dropout", info->dropout);
    cJSON *targets = cJSON_AddArrayToObject(j, "target_modules");
    char list[512];
    snprintf(list, sizeof list, "%s", vkft_model_lora_targets(m));
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) cJSON_AddItemToArray(targets, cJSON_CreateString(tok));
    cJSON_AddStringToObject(j, "bias", "none");
    cJSON_AddStringToObject(j, "base_model_name_or_path", info->base_model);
    cJSON_AddBoolToObject(j, "fan_in_fan_out", c->arch == VKFT_ARCH_GPT2); /* Conv1D weights are [in, out] */
    cJSON_AddBoolToObject(j, "use_rslora", info->rslora);
    cJSON_AddBoolToObject(j, "use_dora", 0);
    cJSON_AddBoolToObject(j, "inference_mode", 1);
    cJSON_AddBoolToObject(j, "init_lora_weights", 1);
    cJSON_AddNullToObject(j, "modules_to_save");
    cJSON_AddNullToObject(j, "layers_to_transform");
    cJSON_AddStringToObject(j, "library", "vkft");
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    char path[4200];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    int rc = vkft_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    if (rc) return -1;
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    const char *k[] = {"format"}, *v[] = {"pt"};
    return save_params(m, path, 1, k, v, 1, err, errlen);
}

static int copy_file(const char *from, const char *to, char *err, size_t errlen) {
    char *data;
    size_t n;
    if (vkft_read_file(from, &data, &n, err, errlen)) return -1;
    int rc = vkft_write_file_atomic(to, data, n, err, errlen);
    free(data);
    return rc;
}

int vkft_model_save_hf(vkft_model *m, const char *src_dir, const char *dir, char *err, size_t errlen) {
    if (vkft_mkdirs(dir, err, errlen)) return -1;
    static const char *const files[] = {"config.json", "tokenizer.json", "tokenizer_config.json",
                                        "special_tokens_map.json", "generation_config.json", NULL};
    char from[4200], to[4200];
    for (int i = 0; files[i]; i++) {
        snprintf(from, sizeof from, "%s/%s", src_dir, files[i]);
        snprintf(to, sizeof to, "%s/%s", dir, files[i]);
        if (vkft_file_exists(from) && copy_file(from, to, err, errlen)) return -1;
    }
    snprintf(to, sizeof to, "%s/model.safetensors", dir);
    const char *k[] = {"format"}, *v[] = {"pt"};
    return save_params(m, to, 0, k, v, 1, err, errlen);
}
