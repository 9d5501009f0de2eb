/* LoRA adapters on a loaded model: parameters named as PEFT names them, initialized as PEFT does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_internal.h"
#include "model/safetensors.h"
#include "util/fsutil.h"

#include <cjson/cJSON.h>

/* The module's path as Hugging Face's model classes name it (what PEFT's adapter names contain):
 * the weight's name without ".weight", with GPT-2's "transformer." and BERT's "bert." prefixes. */
static void module_path(const vkft_model *m, const char *weight_name, char *out, size_t n) {
    const char *prefix = "";
    if (m->cfg.arch == VKFT_ARCH_GPT2 && strncmp(weight_name, "transformer.", 12) != 0) prefix = "transformer.";
    if (m->cfg.arch == VKFT_ARCH_BERT && strncmp(weight_name, "bert.", 5) != 0) prefix = "bert.";
    size_t len = strlen(weight_name);
    if (len > 7 && !strcmp(weight_name + len - 7, ".weight")) len -= 7;
    snprintf(out, n, "%s%.*s", prefix, (int)len, weight_name);
}

static int matches(const char *module, const vkft_lora_opts *o) {
    const char *last = strrchr(module, '.');
    last = last ? last + 1 : module;
    for (int i = 0; i < o->n_targets; i++) {
        if (!strcmp(o->targets[i], "all-linear")) return 1;
        /* PEFT matches the module's full name or its last parts ("self_attn.q_proj" or "q_proj") */
        size_t tl = strlen(o->targets[i]), ml = strlen(module);
        if (!strcmp(last, o->targets[i]) ||
            (ml > tl && module[ml - tl - 1] == '.' && !strcmp(module + ml - tl, o->targets[i])) ||
            !strcmp(module, o->targets[i]))
            return 1;
    }
    return 0;
}

static double uniform(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

int vkft_model_add_lora(vkft_model *m, const vkft_lora_opts *o, char *err, size_t errlen) {
    if (o->r == 0) {
        snprintf(err, errlen, "lora.r must be at least 1");
        return -1;
    }
    vkft_model_set_trainable(m, 0);
    float scale = o->rslora ? o->alpha / sqrtf((float)o->r) : o->alpha / (float)o->r;
    uint64_t seed = o->seed;
    int adapted = 0;
    m->lora_targets[0] = 0;
    for (uint32_t l = 0; l < m->cfg.num_layers; l++) {
        vkft_linear *lin[10];
        int n = vkft_block_linears(m, l, lin);
        for (int i = 0; i < n; i++) {
            vkft_linear *li = lin[i];
            char module[192], name[256];
            module_path(m, m->params[li->w].name, module, sizeof module);
            if (!matches(module, o)) continue;
            /* Slices of one fused Conv1D (GPT-2's c_attn) share that layer's A and B. */
            int shared = -1;
            for (int j = 0; j < i; j++)
                if (lin[j]->w == li->w && lin[j]->lora_r) shared = j;
            if (shared >= 0) {
                li->lora_a = lin[shared]->lora_a;
                li->lora_b = lin[shared]->lora_b;
            } else {
                /* B covers the whole layer: a fused Conv1D's full width (ld), else the output size */
                uint32_t in = li->in, out_full = li->conv1d ? li->ld : li->out;
                snprintf(name, sizeof name, "base_model.model.%s.lora_A.weight", module);
                li->lora_a = vkft_model_add_param(m, name, o->r, in, 0);
                snprintf(name, sizeof name, "base_model.model.%s.lora_B.weight", module);
                li->lora_b = vkft_model_add_param(m, name, out_full, o->r, 0);
                vkft_param *A = &m->params[li->lora_a], *B = &m->params[li->lora_b];
                A->lora = B->lora = A->trainable = B->trainable = 1;
                if (vkft_arena_alloc(m->weights, A->numel * 4, &A->w) ||
                    vkft_arena_alloc(m->weights, B->numel * 4, &B->w)) {
                    snprintf(err, errlen, "%s", vkft_last_error(m->ctx));
                    return -1;
                }
                /* PEFT: kaiming_uniform_(A, a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)); B = 0 */
                float *host = malloc(A->numel * 4);
                float bound = 1.0f / sqrtf((float)in);
                for (uint64_t k = 0; k < A->numel; k++) host[k] = (float)((2 * uniform(&seed) - 1) * bound);
                int rc = vkft_upload(m->ctx, A->w, 0, host, A->numel * 4);
                free(host);
                float *zero = calloc(B->numel, 4);
                rc = rc || vkft_upload(m->ctx, B->w, 0, zero, B->numel * 4);
                free(zero);
                if (rc) {
                    snprintf(err, errlen, "%s", vkft_last_error(m->ctx));
                    return -1;
                }
                m->plan.weights += (A->numel + B->numel) * 4;
                adapted++;
                const char *last = strrchr(module, '.') + 1;
                if (!strstr(m->lora_targets, last)) {
                    size_t len = strlen(m->lora_targets);
                    snprintf(m->lora_targets + len, sizeof m->lora_targets - len, "%s%s", len ? "," : "", last);
                }
            }
            li->lora_r = o->r;
            li->lora_scale = scale;
            /* Its own dropout mask per module; a fused Conv1D's slices share the module's input and mask. */
            li->lora_site = shared >= 0 ? lin[shared]->lora_site : l * 16 + (uint32_t)i;
        }
    }
    if (adapted == 0) {
        snprintf(err, errlen, "lora.target_modules matched no linear layer of this %s model (its layers are named "
                              "like %s)",
                 m->cfg.model_type,
                 m->cfg.arch == VKFT_ARCH_GPT2    ? "c_attn, c_proj, c_fc"
                 : m->cfg.arch == VKFT_ARCH_LLAMA ? "q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj"
                                                  : "query, key, value, dense");
        return -1;
    }
    if (o->r > m->lora_r_max) m->lora_r_max = o->r;
    m->planned = 0; /* the plan must now hold LoRA's activations and gradients */
    return adapted;
}

const char *vkft_model_lora_targets(const vkft_model *m) { return m->lora_targets; }

int vkft_model_set_lora_dropout(vkft_model *m, float p, uint64_t seed) {
    if (!(p >= 0.0f && p < 1.0f)) return vkft_set_error(m->ctx, "LoRA dropout %g is outside [0, 1)", p);
    if ((p > 0) != (m->lora_dropout > 0)) m->planned = 0; /* the plan holds its scratch */
    m->lora_dropout = p;
    m->dropout_seed = seed;
    return 0;
}

int vkft_model_set_dropout_step(vkft_model *m, uint32_t step, uint32_t micro) {
    if (!m->planned || !m->planned_train || !(m->lora_dropout > 0) || !m->lora_r_max) return 0;
    uint32_t ctr[2] = {step, micro};
    return vkft_upload(m->ctx, m->dropout_ctr, 0, ctr, sizeof ctr);
}

/* ---- PEFT adapters in, merged weights out ------------------------------------------------- */

int vkft_model_load_adapter(vkft_model *m, const char *dir, char *err, size_t errlen) {
    char path[4200], *text;
    size_t n;
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    if (vkft_read_file(path, &text, &n, err, errlen)) return -1;
    cJSON *j = cJSON_Parse(text);
    free(text);
    const cJSON *type = j ? cJSON_GetObjectItem(j, "peft_type") : NULL, *r = j ? cJSON_GetObjectItem(j, "r") : NULL,
                *alpha = j ? cJSON_GetObjectItem(j, "lora_alpha") : NULL,
                *targets = j ? cJSON_GetObjectItem(j, "target_modules") : NULL,
                *rs = j ? cJSON_GetObjectItem(j, "use_rslora") : NULL, *dora = j ? cJSON_GetObjectItem(j, "use_dora") : NULL;
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "LORA") != 0 || !cJSON_IsNumber(r) || r->valuedouble < 1 ||
        !cJSON_IsNumber(alpha) || !(cJSON_IsArray(targets) || cJSON_IsString(targets))) {
        cJSON_Delete(j);
        snprintf(err, errlen, "%s: not a PEFT LoRA adapter config (needs peft_type LORA, r, lora_alpha, target_modules)",
                 path);
        return -1;
    }
    if (cJSON_IsTrue(dora)) {
        cJSON_Delete(j);
        snprintf(err, errlen, "%s: DoRA adapters (use_dora) are not supported by this version", path);
        return -1;
    }
    const char *names[64];
    int count = 0;
    if (cJSON_IsString(targets)) {
        names[count++] = targets->valuestring;
    } else {
        for (const cJSON *t = targets->child; t && count < 64; t = t->next)
            if (cJSON_IsString(t)) names[count++] = t->valuestring;
    }
    vkft_lora_opts o = {(uint32_t)r->valuedouble, (float)alpha->valuedouble, cJSON_IsTrue(rs), names, count, 0};
    int adapted = vkft_model_add_lora(m, &o, err, errlen);
    cJSON_Delete(j);
    if (adapted < 0) return -1;
    vkft_safetensors st;
    snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
    if (vkft_st_open(path, &st, err, errlen)) return -1;
    int rc = 0;
    for (int i = 0; i < m->n_params && !rc; i++) {
        vkft_param *p = &m->params[i];
        if (!p->lora) continue;
        const vkft_st_tensor *t = vkft_st_find(&st, p->name);
        if (!t || (uint64_t)t->numel != p->numel) {
            snprintf(err, errlen, "%s: %s is %s", path, p->name, t ? "of another shape" : "missing");
            rc = -1;
            break;
        }
        float *host = malloc(p->numel * 4);
        vkft_to_f32(t->data, t->dtype, host, p->numel);
        rc = vkft_upload(m->ctx, p->w, 0, host, p->numel * 4);
        free(host);
        if (rc) snprintf(err, errlen, "%s: %s", path, vkft_last_error(m->ctx));
    }
    vkft_st_close(&st);
    return rc;
}

int vkft_model_merge_lora(vkft_model *m, char *err, size_t errlen) {
    int merged = 0;
    for (uint32_t l = 0; l < m->cfg.num_layers; l++) {
        vkft_linear *lin[10];
        int n = vkft_block_linears(m, l, lin);
        for (int i = 0; i < n; i++) {
            vkft_linear *li = lin[i];
            if (!li->lora_r) continue;
            vkft_param *W = &m->params[li->w], *A = &m->params[li->lora_a], *B = &m->params[li->lora_b];
            float *w = malloc(W->numel * 4), *a = malloc(A->numel * 4), *b = malloc(B->numel * 4);
            int rc = vkft_download(m->ctx, W->w, 0, w, W->numel * 4) || vkft_download(m->ctx, A->w, 0, a, A->numel * 4) ||
                     vkft_download(m->ctx, B->w, 0, b, B->numel * 4);
            uint32_t r = li->lora_r, in = li->in;
            /* delta[o][i] = scale * sum_k B[col + o][k] A[k][i], for this layer's rows of B */
            for (uint32_t o = 0; !rc && o < li->out; o++)
                for (uint32_t x = 0; x < in; x++) {
                    double d = 0;
                    for (uint32_t k = 0; k < r; k++) d += (double)b[(size_t)(li->col + o) * r + k] * a[(size_t)k * in + x];
                    size_t at = li->conv1d ? (size_t)x * li->ld + li->col + o : (size_t)o * in + x;
                    w[at] += (float)(li->lora_scale * d);
                }
            rc = rc || vkft_upload(m->ctx, W->w, 0, w, W->numel * 4);
            free(w), free(a), free(b);
            if (rc) {
                snprintf(err, errlen, "merging into %s: %s", W->name, vkft_last_error(m->ctx));
                return -1;
            }
            li->lora_r = 0; /* the layer is plain again (its slices' A and B are kept but unused) */
            merged++;
        }
    }
    m->planned = 0;
    return merged;
}
