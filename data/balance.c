#include "data/balance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/u64map.h"

void vkft_balance_opts_defaults(vkft_balance_opts *o) {
    memset(o, 0, sizeof *o);
    o->mode = VKFT_BALANCE_OVER;
    o->ratio = 1.0;
    o->seed = 1;
    o->weights = VKFT_WEIGHTS_INVERSE;
    o->beta = 0.999;
}

void vkft_balance_targets(const vkft_balance_opts *o, const long *n, int k, long *t) {
    long mx = 0, mn = -1;
    double sum = 0;
    for (int i = 0; i < k; i++) {
        if (n[i] > mx) mx = n[i];
        if (mn < 0 || n[i] < mn) mn = n[i];
        sum += (double)n[i];
    }
    double mean = k ? sum / k : 0;
    for (int i = 0; i < k; i++) {
        long x = n[i];
        switch (o->mode) {
        case VKFT_BALANCE_OVER: {
            long want = lround(o->ratio * (double)mx);
            t[i] = x > want ? x : want;
            break;
        }
        case VKFT_BALANCE_UNDER: {
            long want = lround((double)mn / o->ratio);
            t[i] = x < want ? x : want;
            break;
        }
        case VKFT_BALANCE_BOTH: {
            long m = lround(mean), up = lround(o->ratio * mean);
            t[i] = x > m ? m : (x > up ? x : up);
            break;
        }
        default: t[i] = x;
        }
    }
}

void vkft_class_weights(const vkft_balance_opts *o, const long *n, int k, double *w) {
    double total = 0, sum = 0;
    for (int i = 0; i < k; i++) total += (double)n[i];
    for (int i = 0; i < k; i++) {
        if (n[i] <= 0)
            w[i] = 0;
        else if (o->weights == VKFT_WEIGHTS_EFFECTIVE)
            w[i] = (1 - o->beta) / (1 - pow(o->beta, (double)n[i]));
        else
            w[i] = total / ((double)k * (double)n[i]);
        sum += w[i];
    }
    if (sum > 0)
        for (int i = 0; i < k; i++) w[i] = w[i] * k / sum;
}

#define MAX_CLASSES 4096

struct vkft_balance_step {
    vkft_balance_opts o;
    const char *field;
    vkft_u64map ids;
    char **names;
    long *n, *t, *seen, *extra_left;
    int k, cap;
    long unlabeled, written;
    uint64_t rng;
};

static int class_of(vkft_balance_step *s, const char *label, int add) {
    uint64_t h = vkft_hash64(label, strlen(label), 0xba1);
    uint32_t *v = vkft_u64map_get(&s->ids, h);
    if (v) return (int)*v;
    if (!add) return -1;
    if (s->k >= MAX_CLASSES) return -2;
    if (s->k == s->cap) {
        int c = s->cap ? s->cap * 2 : 16;
        char **nm = realloc(s->names, sizeof(char *) * (size_t)c);
        if (!nm) return -2;
        s->names = nm;
        long **arrs[] = {&s->n, &s->t, &s->seen, &s->extra_left};
        for (int i = 0; i < 4; i++) {
            long *p = realloc(*arrs[i], sizeof(long) * (size_t)c);
            if (!p) return -2;
            *arrs[i] = p;
        }
        s->cap = c;
    }
    int ins;
    if (!vkft_u64map_put(&s->ids, h, (uint32_t)s->k, &ins)) return -2;
    s->names[s->k] = strdup(label);
    s->n[s->k] = s->t[s->k] = s->seen[s->k] = s->extra_left[s->k] = 0;
    return s->k++;
}

static int bal_count(void *ctx, const vkft_record *rec, char *err, size_t errlen) {
    vkft_balance_step *s = ctx;
    char buf[64];
    const char *l = vkft_path_text(rec->obj, s->field, buf, sizeof buf);
    if (!l) return 0;
    int c = class_of(s, l, 1);
    if (c < 0) {
        snprintf(err, errlen, "%s:%ld: more than %d distinct labels in '%s'; is --label-field right?",
                 rec->path, rec->line, MAX_CLASSES, s->field);
        return -1;
    }
    s->n[c]++;
    return 0;
}

static int bal_prepare(void *ctx, char *err, size_t errlen) {
    vkft_balance_step *s = ctx;
    if (s->k == 0) {
        snprintf(err, errlen, "no record has a label in field '%s' (set --label-field)", s->field);
        return -1;
    }
    vkft_balance_targets(&s->o, s->n, s->k, s->t);
    for (int i = 0; i < s->k; i++) s->extra_left[i] = s->t[i] % s->n[i];
    return 0;
}

static double uniform(uint64_t *st) {
    uint64_t z = (*st += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

static int bal_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    vkft_balance_step *s = ctx;
    char buf[64];
    const char *l = vkft_path_text(rec->obj, s->field, buf, sizeof buf);
    if (!l) {
        s->unlabeled++;
        return VKFT_STEP_KEEP;
    }
    int c = class_of(s, l, 0);
    if (c < 0) return VKFT_STEP_KEEP; /* cannot happen: every label was counted */
    long remaining = s->n[c] - s->seen[c]++;
    long copies = s->t[c] / s->n[c];
    /* selection sampling: pick this record for one extra copy with probability needed / remaining */
    if (s->extra_left[c] > 0 && uniform(&s->rng) * (double)remaining < (double)s->extra_left[c]) {
        copies++;
        s->extra_left[c]--;
    }
    for (long i = 1; i < copies; i++)
        if (vkft_emit(em, rec->obj, err, errlen)) return VKFT_STEP_FAIL;
    s->written += copies;
    return copies > 0 ? VKFT_STEP_KEEP : VKFT_STEP_DROP;
}

cJSON *vkft_balance_weights_json(const vkft_balance_step *s) {
    cJSON *r = cJSON_CreateObject();
    double *w = calloc((size_t)(s->k ? s->k : 1), sizeof *w);
    vkft_class_weights(&s->o, s->n, s->k, w);
    cJSON *cw = cJSON_AddObjectToObject(r, "class_weights");
    for (int i = 0; i < s->k; i++) cJSON_AddNumberToObject(cw, s->names[i], round(w[i] * 1e6) / 1e6);
    free(w);
    cJSON_AddStringToObject(r, "class_weights_method",
                            s->o.weights == VKFT_WEIGHTS_EFFECTIVE ? "effective_number"
                                                                   : "inverse_frequency");
    if (s->o.weights == VKFT_WEIGHTS_EFFECTIVE) cJSON_AddNumberToObject(r, "class_weights_beta", s->o.beta);
    cJSON_AddStringToObject(r, "label_field", s->field);
    return r;
}

static void bal_summarize(void *ctx, cJSON *sum) {
    vkft_balance_step *s = ctx;
    cJSON *r = cJSON_AddObjectToObject(sum, "balance");
    static const char *modes[] = {"none", "over", "under", "both"};
    cJSON_AddStringToObject(r, "mode", modes[s->o.mode]);
    cJSON_AddNumberToObject(r, "ratio", s->o.ratio);
    cJSON *before = cJSON_AddObjectToObject(r, "before"), *after = cJSON_AddObjectToObject(r, "after");
    long mx = 0, mn = -1, amx = 0, amn = -1;
    for (int i = 0; i < s->k; i++) {
        cJSON_AddNumberToObject(before, s->names[i], (double)s->n[i]);
        cJSON_AddNumberToObject(after, s->names[i], (double)s->t[i]);
        if (s->n[i] > mx) mx = s->n[i];
        if (mn < 0 || s->n[i] < mn) mn = s->n[i];
        if (s->t[i] > amx) amx = s->t[i];
        if (amn < 0 || s->t[i] < amn) amn = s->t[i];
    }
    cJSON_AddNumberToObject(r, "imbalance_before", mn > 0 ? (double)mx / (double)mn : 0);
    cJSON_AddNumberToObject(r, "imbalance_after", amn > 0 ? (double)amx / (double)amn : 0);
    cJSON_AddNumberToObject(r, "unlabeled_passed_through", (double)s->unlabeled);
    cJSON *w = vkft_balance_weights_json(s);
    cJSON_AddItemToObject(r, "weights", w);
}

int vkft_balance_step_new(vkft_balance_step **out, const vkft_balance_opts *o, const char *label_field,
                          vkft_step *step, char *err, size_t errlen) {
    if (o->ratio <= 0 || o->ratio > 1) {
        snprintf(err, errlen, "--ratio %g: use a minority/majority ratio in (0, 1]", o->ratio);
        return -1;
    }
    vkft_balance_step *s = calloc(1, sizeof *s);
    if (!s || vkft_u64map_init(&s->ids, 64)) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->o = *o;
    s->field = label_field;
    s->rng = o->seed * 0x2545F4914F6CDD1DULL + 1;
    memset(step, 0, sizeof *step);
    step->count = bal_count;
    step->prepare = bal_prepare;
    step->apply = bal_apply;
    step->summarize = bal_summarize;
    step->ctx = s;
    *out = s;
    return 0;
}

void vkft_balance_step_free(vkft_balance_step *s) {
    if (!s) return;
    for (int i = 0; i < s->k; i++) free(s->names[i]);
    free(s->names);
    free(s->n);
    free(s->t);
    free(s->seen);
    free(s->extra_left);
    vkft_u64map_free(&s->ids);
    free(s);
}
