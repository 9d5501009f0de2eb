#include "data/pipeline.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const known_steps[] = {"clean", "dedup", "deid", "augment", "balance", NULL};
static const char *const io_keys[] = {"in",          "out",         "summary", "dry_run", "dry-run", "field",
                                      "label_field", "label-field", "format",  "quiet",   NULL};

static int push_arg(vkft_pipeline_step *s, const char *a) {
    char **v = realloc(s->argv, sizeof(char *) * (size_t)(s->argc + 2));
    if (!v) return -1;
    s->argv = v;
    s->argv[s->argc++] = strdup(a);
    s->argv[s->argc] = NULL;
    return 0;
}

static char *dup_str(const cJSON *v) { return cJSON_IsString(v) ? strdup(v->valuestring) : NULL; }

static int value_text(const cJSON *v, char *buf, size_t n) {
    if (cJSON_IsString(v))
        snprintf(buf, n, "%s", v->valuestring);
    else if (cJSON_IsNumber(v)) {
        if (v->valuedouble == (double)(long long)v->valuedouble)
            snprintf(buf, n, "%lld", (long long)v->valuedouble);
        else
            snprintf(buf, n, "%.15g", v->valuedouble);
    } else
        return -1;
    return 0;
}

int vkft_pipeline_parse(const char *json, size_t n, vkft_pipeline *p, char *err, size_t errlen) {
    memset(p, 0, sizeof *p);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, n, &end, 0);
    if (!root || !cJSON_IsObject(root)) {
        long line = 1;
        for (const char *c = json; end && c < end; c++) line += *c == '\n';
        snprintf(err, errlen, "recipe: not a JSON object (error near line %ld)", line);
        cJSON_Delete(root);
        return -1;
    }
    for (cJSON *k = root->child; k; k = k->next) {
        static const char *const top[] = {"in",     "out",   "report",  "field", "label_field",
                                          "format", "steps", "comment", NULL};
        int ok = 0;
        for (int i = 0; top[i]; i++) ok |= !strcmp(k->string, top[i]);
        if (!ok) {
            snprintf(err, errlen,
                     "recipe: unknown key '%s' (known: in, out, report, field, label_field, format, "
                     "steps, comment)",
                     k->string);
            goto fail;
        }
    }
    cJSON *in = cJSON_GetObjectItem(root, "in");
    if (cJSON_IsString(in)) {
        p->in = calloc(1, sizeof(char *));
        p->in[p->n_in++] = strdup(in->valuestring);
    } else if (cJSON_IsArray(in)) {
        p->in = calloc((size_t)cJSON_GetArraySize(in) + 1, sizeof(char *));
        for (cJSON *x = in->child; x; x = x->next)
            if (cJSON_IsString(x)) p->in[p->n_in++] = strdup(x->valuestring);
    }
    p->out = dup_str(cJSON_GetObjectItem(root, "out"));
    p->report = dup_str(cJSON_GetObjectItem(root, "report"));
    p->field = dup_str(cJSON_GetObjectItem(root, "field"));
    p->label_field = dup_str(cJSON_GetObjectItem(root, "label_field"));
    p->format = dup_str(cJSON_GetObjectItem(root, "format"));
    cJSON *steps = cJSON_GetObjectItem(root, "steps");
    if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) == 0) {
        snprintf(err, errlen, "recipe: \"steps\" must be a non-empty array of {\"step\": NAME, options...}");
        goto fail;
    }
    p->steps = calloc((size_t)cJSON_GetArraySize(steps), sizeof *p->steps);
    int si = 0;
    for (cJSON *s = steps->child; s; s = s->next, si++) {
        cJSON *name = cJSON_GetObjectItem(s, "step");
        if (!cJSON_IsObject(s) || !cJSON_IsString(name)) {
            snprintf(err, errlen,
                     "recipe: steps[%d] needs \"step\": one of clean, dedup, deid, augment, balance", si);
            goto fail;
        }
        int known = 0;
        for (int i = 0; known_steps[i]; i++) known |= !strcmp(name->valuestring, known_steps[i]);
        if (!known) {
            snprintf(err, errlen,
                     "recipe: steps[%d]: unknown step '%s' (clean, dedup, deid, augment, balance; the "
                     "report comes from \"report\")",
                     si, name->valuestring);
            goto fail;
        }
        vkft_pipeline_step *ps = &p->steps[p->n_steps++];
        snprintf(ps->step, sizeof ps->step, "%s", name->valuestring);
        push_arg(ps, ps->step);
        for (cJSON *k = s->child; k; k = k->next) {
            if (!strcmp(k->string, "step") || !strcmp(k->string, "comment")) continue;
            for (int i = 0; io_keys[i]; i++)
                if (!strcmp(k->string, io_keys[i])) {
                    snprintf(err, errlen, "recipe: steps[%d] (%s): '%s' is set by the pipeline, not per step",
                             si, ps->step, k->string);
                    goto fail;
                }
            char opt[160];
            snprintf(opt, sizeof opt, "--%s", k->string);
            for (char *c = opt + 2; *c; c++)
                if (*c == '_') *c = '-';
            if (cJSON_IsBool(k)) {
                if (cJSON_IsTrue(k)) push_arg(ps, opt);
                continue;
            }
            const cJSON *vals = k;
            int is_arr = cJSON_IsArray(k);
            for (const cJSON *v = is_arr ? vals->child : vals; v; v = is_arr ? v->next : NULL) {
                char buf[1024];
                if (value_text(v, buf, sizeof buf)) {
                    snprintf(err, errlen,
                             "recipe: steps[%d] (%s): '%s' must be true/false, a number, a string or "
                             "an array of them",
                             si, ps->step, k->string);
                    goto fail;
                }
                push_arg(ps, opt);
                push_arg(ps, buf);
            }
        }
    }
    cJSON_Delete(root);
    return 0;
fail:
    cJSON_Delete(root);
    vkft_pipeline_free(p);
    return -1;
}

void vkft_pipeline_free(vkft_pipeline *p) {
    for (int i = 0; i < p->n_steps; i++) {
        for (int k = 0; k < p->steps[i].argc; k++) free(p->steps[i].argv[k]);
        free(p->steps[i].argv);
    }
    free(p->steps);
    for (int i = 0; i < p->n_in; i++) free(p->in[i]);
    free(p->in);
    free(p->out);
    free(p->report);
    free(p->field);
    free(p->label_field);
    free(p->format);
    memset(p, 0, sizeof *p);
}
