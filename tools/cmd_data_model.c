/* vkft data: the model-driven parts shared by augment, balance and report: the model options, reading the
 * records' texts and labels, sentence embeddings (from a model or a features file), SMOTE in embedding
 * space (balance --mode smote) and the labels a quick classifier disagrees with (report --model). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/balance.h"
#include "data/labelcheck.h"
#include "data/smote.h"
#include "tools/cmd_data.h"
#include "tools/data_features.h"

const char data_model_help[] =
    "model options (for the model-driven parts):\n"
    "  --model DIR          a Hugging Face model folder (config.json, model.safetensors, tokenizer.json)\n"
    "  --batch N            texts per forward pass (default 8)\n"
    "  --max-tokens N       cut inputs to N tokens (default and cap: the model's positions)\n"
    "  --device N|NAME      the Vulkan device (default: $VKFT_DEVICE or the best)\n";
const char data_embed_help[] =
    "  --pooling mean|cls   sentence embedding: the last hidden state averaged over the text's tokens, or\n"
    "                       its first token ([CLS], for BERT) (default mean)\n"
    "  --embeddings FILE    precomputed embeddings instead of --model: a safetensors file with \"features\"\n"
    "                       [records, H] F32, one row per record that has a text and a label, in input\n"
    "                       order (a balance --mode smote output works: its real rows are used)\n";
const char *const data_model_opt_names[] = {"--model", "--batch", "--max-tokens", "--device", NULL};

int data_model_opt(data_model_opts *o, const char *cmd, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v;
    long x;
    if (!strcmp(a, "--model")) {
        if (!(o->dir = data_value(cmd, argc, argv, i))) return -1;
    } else if (!strcmp(a, "--device")) {
        if (!(o->device = data_value(cmd, argc, argv, i))) return -1;
    } else if (!strcmp(a, "--batch") || !strcmp(a, "--max-tokens")) {
        if (!(v = data_value(cmd, argc, argv, i)) || data_parse_long(cmd, a, v, &x)) return -1;
        if (x < 1 || x > 65536) {
            fprintf(stderr, "vkft data %s: %s must be in 1..65536\n", cmd, a);
            return -1;
        }
        if (!strcmp(a, "--batch"))
            o->batch = (uint32_t)x;
        else
            o->max_tokens = (uint32_t)x;
    } else {
        return 0;
    }
    return 1;
}

int data_pooling_parse(const char *cmd, const char *v, int *pooling) {
    if (!strcmp(v, "mean"))
        *pooling = DM_POOL_MEAN;
    else if (!strcmp(v, "cls"))
        *pooling = DM_POOL_CLS;
    else {
        fprintf(stderr, "vkft data %s: --pooling '%s': use mean or cls\n", cmd, v);
        return -1;
    }
    return 0;
}

/* ---- the records' texts and labels ----------------------------------------------------------------- */

typedef struct {
    const char *field, *label_field;
    char **text, **where, **id;
    int *label;
    long n, cap, no_text, no_label;
    char **names; /* label strings, in order of first appearance */
    int k;
} collected;

static int label_index(collected *c, const char *l) {
    for (int i = 0; i < c->k; i++)
        if (!strcmp(c->names[i], l)) return i;
    char **p = realloc(c->names, sizeof(char *) * (size_t)(c->k + 1));
    if (!p) return -1;
    c->names = p;
    c->names[c->k] = strdup(l);
    return c->k++;
}

static int collect_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    collected *c = ctx;
    cJSON *t = vkft_path_get(rec->obj, c->field);
    char buf[64], where[600];
    const char *l = vkft_path_text(rec->obj, c->label_field, buf, sizeof buf);
    if (!cJSON_IsString(t)) {
        c->no_text++;
        return VKFT_STEP_KEEP;
    }
    if (!l) {
        c->no_label++;
        return VKFT_STEP_KEEP;
    }
    if (c->n == c->cap) {
        long cap = c->cap ? c->cap * 2 : 1024;
        char **a = realloc(c->text, sizeof(char *) * (size_t)cap), **b = a ? realloc(c->where, sizeof(char *) * (size_t)cap) : NULL;
        char **d = b ? realloc(c->id, sizeof(char *) * (size_t)cap) : NULL;
        int *e = d ? realloc(c->label, sizeof(int) * (size_t)cap) : NULL;
        if (a) c->text = a;
        if (b) c->where = b;
        if (d) c->id = d;
        if (!e) {
            snprintf(err, errlen, "out of memory keeping the texts");
            return VKFT_STEP_FAIL;
        }
        c->label = e;
        c->cap = cap;
    }
    snprintf(where, sizeof where, "%s:%ld", rec->path, rec->line);
    const char *id = vkft_path_text(rec->obj, "id", buf, sizeof buf);
    c->id[c->n] = id ? strdup(id) : NULL;
    c->text[c->n] = strdup(t->valuestring);
    c->where[c->n] = strdup(where);
    if ((c->label[c->n] = label_index(c, l)) < 0) {
        snprintf(err, errlen, "out of memory");
        return VKFT_STEP_FAIL;
    }
    c->n++;
    return VKFT_STEP_KEEP;
}

static void collected_free(collected *c) {
    for (long i = 0; i < c->n; i++) free(c->text[i]), free(c->where[i]), free(c->id[i]);
    for (int i = 0; i < c->k; i++) free(c->names[i]);
    free(c->text), free(c->where), free(c->id), free(c->label), free(c->names);
}

/* Reads every record with a text and a label (no output). Returns 0 or 1 (printed). */
static int collect(data_common *c, const char *cmd, collected *col) {
    memset(col, 0, sizeof *col);
    col->field = c->io.field;
    col->label_field = c->io.label_field;
    vkft_step step = {.apply = collect_apply, .ctx = col};
    const char *out = c->io.out;
    c->io.out = NULL;
    cJSON *sum = NULL;
    int rc = data_run_step_keep(c, cmd, &step, cJSON_CreateObject(), &sum);
    c->io.out = out;
    cJSON_Delete(sum);
    return rc;
}

/* Embeddings of the collected texts: from the model, or the rows of a features file. */
static float *features(data_common *c, const char *cmd, const collected *col, int pooling, const char *emb,
                       const data_model_opts *mo, int *h, cJSON *info) {
    char err[2048];
    float *x = NULL;
    if (emb) {
        long n, real;
        if (data_features_read(emb, &x, &n, h, &real, err, sizeof err)) {
            fprintf(stderr, "vkft data %s: --embeddings: %s\n", cmd, err);
            return NULL;
        }
        if (real != col->n) {
            fprintf(stderr, "vkft data %s: --embeddings %s has %ld rows but the input has %ld records with a text "
                            "and a label; the rows must be those records, in input order\n", cmd, emb, real, col->n);
            free(x);
            return NULL;
        }
        cJSON_AddStringToObject(info, "embeddings", emb);
        return x;
    }
    data_model_opts o = *mo;
    o.quiet = c->quiet;
    data_model *dm;
    if (data_model_open(&dm, &o, DM_FOR_EMBED)) return NULL;
    *h = (int)data_model_hidden(dm);
    x = malloc(sizeof(float) * (size_t)(col->n ? col->n : 1) * (size_t)*h);
    int rc = !x || data_model_embed(dm, (const char *const *)col->text, col->n, pooling, x, err, sizeof err);
    if (rc) fprintf(stderr, "vkft data %s: embeddings: %s\n", cmd, x ? err : "out of memory");
    data_model_stats st = data_model_get_stats(dm);
    if (data_model_close(dm)) rc = 1; /* validation messages */
    if (rc) {
        free(x);
        return NULL;
    }
    cJSON_AddStringToObject(info, "model", mo->dir);
    cJSON_AddStringToObject(info, "pooling", pooling == DM_POOL_CLS ? "cls" : "mean");
    cJSON_AddNumberToObject(info, "hidden", *h);
    cJSON_AddNumberToObject(info, "embed_seconds", st.seconds);
    cJSON_AddNumberToObject(info, "embed_texts_per_s", st.seconds > 0 ? st.texts / st.seconds : 0);
    cJSON_AddNumberToObject(info, "embed_tokens_per_s", st.seconds > 0 ? st.tokens / st.seconds : 0);
    if (!c->quiet)
        fprintf(stderr, "embeddings: %ld texts, %ld tokens in %.2f s (%.1f texts/s)\n", st.texts, st.tokens,
                st.seconds, st.seconds > 0 ? st.texts / st.seconds : 0);
    return x;
}

/* ---- balance --mode smote -------------------------------------------------------------------------- */

int data_smote(data_common *c, double ratio, uint64_t seed, int k, int pooling, const char *emb,
               const data_model_opts *mo) {
    const char *cmd = "balance";
    double t0 = vkft_data_now();
    collected col;
    cJSON *sum = cJSON_CreateObject(), *info = cJSON_CreateObject();
    float *x = NULL, *all = NULL;
    vkft_smote_row *rows = NULL;
    int rc = 1, h = 0;
    char err[1024];
    if (collect(c, cmd, &col)) goto done;
    if (col.k < 1) {
        fprintf(stderr, "vkft data balance: no record has both a text ('%s') and a label ('%s')\n", c->io.field,
                c->io.label_field);
        goto done;
    }
    if (!(x = features(c, cmd, &col, pooling, emb, mo, &h, info))) goto done;
    long *cnt = calloc((size_t)col.k, sizeof(long)), *tgt = calloc((size_t)col.k, sizeof(long));
    for (long i = 0; i < col.n; i++) cnt[col.label[i]]++;
    vkft_balance_opts bo;
    vkft_balance_opts_defaults(&bo);
    bo.mode = VKFT_BALANCE_OVER;
    bo.ratio = ratio;
    vkft_balance_targets(&bo, cnt, col.k, tgt);
    for (int i = 0; i < col.k; i++)
        if (tgt[i] > cnt[i] && cnt[i] < 2) {
            fprintf(stderr, "vkft data balance: label '%s' has %ld record; SMOTE interpolates between two records "
                            "of a class, so it needs at least 2\n", col.names[i], cnt[i]);
            free(cnt), free(tgt);
            goto done;
        }
    long ns = vkft_smote_count(col.label, col.n, col.k, tgt), N = col.n + ns;
    all = malloc(sizeof(float) * (size_t)N * (size_t)h);
    rows = malloc(sizeof *rows * (size_t)(ns ? ns : 1));
    if (!all || !rows) {
        fprintf(stderr, "vkft data balance: out of memory (%ld x %d features)\n", N, h);
        free(cnt), free(tgt);
        goto done;
    }
    memcpy(all, x, sizeof(float) * (size_t)col.n * (size_t)h);
    long made = vkft_smote(x, col.label, col.n, h, col.k, tgt, k, seed, all + (size_t)col.n * h, rows, err, sizeof err);
    if (made < 0) {
        fprintf(stderr, "vkft data balance: %s\n", err);
        free(cnt), free(tgt);
        goto done;
    }
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)N), *source = malloc(sizeof(int32_t) * 2 * (size_t)N);
    float *lam = calloc((size_t)N, sizeof(float));
    for (long i = 0; i < col.n; i++) {
        labels[i] = col.label[i];
        source[2 * i] = (int32_t)i;
        source[2 * i + 1] = -1;
    }
    for (long s = 0; s < made; s++) {
        long r = col.n + s;
        labels[r] = rows[s].label;
        source[2 * r] = (int32_t)rows[s].a;
        source[2 * r + 1] = (int32_t)rows[s].b;
        lam[r] = rows[s].lambda;
    }
    cJSON *names = cJSON_CreateArray();
    for (int i = 0; i < col.k; i++) cJSON_AddItemToArray(names, cJSON_CreateString(col.names[i]));
    char *names_s = cJSON_PrintUnformatted(names), real_s[32], k_s[16];
    snprintf(real_s, sizeof real_s, "%ld", col.n);
    snprintf(k_s, sizeof k_s, "%d", k);
    const char *mk[] = {"format", "labels", "real_rows", "k_neighbours", "model", "pooling"};
    const char *mv[] = {"vkft-features-1", names_s, real_s, k_s, emb ? emb : mo->dir,
                        pooling == DM_POOL_CLS ? "cls" : "mean"};
    data_tensor t[] = {{"features", 0, 2, {N, h}, all},
                       {"labels", 1, 1, {N, 0}, labels},
                       {"lambda", 0, 1, {N, 0}, lam},
                       {"source", 1, 2, {N, 2}, source}};
    int wrc = 0;
    if (c->io.out && !c->io.dry_run) {
        wrc = data_features_write(c->io.out, t, 4, mk, mv, 6, err, sizeof err);
        if (wrc) fprintf(stderr, "vkft data balance: %s\n", err);
    }
    /* The summary, also written beside the features as OUT.json: label names, counts, row origins. */
    cJSON_AddStringToObject(sum, "step", "balance");
    cJSON_AddStringToObject(sum, "mode", "smote");
    cJSON_AddStringToObject(sum, "format", "vkft-features-1");
    if (c->io.out) cJSON_AddStringToObject(sum, "output", c->io.out);
    cJSON_AddItemToObject(sum, "labels", names);
    cJSON_AddNumberToObject(sum, "records_with_text_and_label", (double)col.n);
    cJSON_AddNumberToObject(sum, "records_without_text", (double)col.no_text);
    cJSON_AddNumberToObject(sum, "records_without_label", (double)col.no_label);
    cJSON_AddNumberToObject(sum, "rows", (double)N);
    cJSON_AddNumberToObject(sum, "real_rows", (double)col.n);
    cJSON_AddNumberToObject(sum, "synthetic_rows", (double)made);
    cJSON_AddNumberToObject(sum, "hidden", h);
    cJSON_AddNumberToObject(sum, "k_neighbours", k);
    cJSON_AddNumberToObject(sum, "ratio", ratio);
    cJSON *before = cJSON_AddObjectToObject(sum, "counts_before"), *after = cJSON_AddObjectToObject(sum, "counts_after");
    for (int i = 0; i < col.k; i++) {
        cJSON_AddNumberToObject(before, col.names[i], (double)cnt[i]);
        cJSON_AddNumberToObject(after, col.names[i], (double)(cnt[i] > tgt[i] ? cnt[i] : tgt[i]));
    }
    cJSON *src = cJSON_AddArrayToObject(sum, "real_row_sources");
    for (long i = 0; i < col.n; i++) cJSON_AddItemToArray(src, cJSON_CreateString(col.where[i]));
    for (cJSON *e = info->child; e;) {
        cJSON *next = e->next;
        cJSON_AddItemToObject(sum, e->string, cJSON_DetachItemViaPointer(info, e));
        e = next;
    }
    cJSON_AddNumberToObject(sum, "seconds", vkft_data_now() - t0);
    free(names_s), free(labels), free(source), free(lam), free(cnt), free(tgt);
    if (wrc) goto done;
    rc = 0;
    if (c->io.out && !c->io.dry_run) {
        char side[4200];
        snprintf(side, sizeof side, "%s.json", c->io.out);
        rc |= data_write_json(side, sum);
    }
    if (c->summary) rc |= data_write_json(c->summary, sum);
    if (c->io.dry_run) {
        cJSON_DeleteItemFromObject(sum, "real_row_sources");
        char *s = cJSON_Print(sum);
        if (s) printf("%s\n", s);
        free(s);
    } else if (!c->quiet)
        fprintf(stderr, "balance (smote): %ld real rows + %ld synthetic, %d features -> %s (+ .json)\n", col.n,
                made, h, c->io.out);
done:
    if (col.k || col.n) collected_free(&col);
    free(x), free(all), free(rows);
    cJSON_Delete(sum);
    cJSON_Delete(info);
    return rc;
}

/* ---- report --model: labels a quick classifier disagrees with ------------------------------------- */

typedef struct {
    long row;
    int pred;
    float conf;
} flag;

static int by_conf(const void *a, const void *b) {
    float x = ((const flag *)a)->conf, y = ((const flag *)b)->conf;
    return x < y ? 1 : x > y ? -1 : (((const flag *)a)->row > ((const flag *)b)->row) - (((const flag *)a)->row < ((const flag *)b)->row);
}

int data_label_check(data_common *c, const vkft_labelcheck_opts *lo, int pooling, const char *emb,
                     const data_model_opts *mo, cJSON *report) {
    const char *cmd = "report";
    collected col;
    cJSON *info = cJSON_CreateObject();
    float *x = NULL, *proba = NULL;
    flag *flags = NULL;
    int rc = 1, h = 0;
    char err[1024];
    double t0 = vkft_data_now();
    int quiet = c->quiet;
    c->quiet = 1; /* the report already showed a bar for reading */
    int crc = collect(c, cmd, &col);
    c->quiet = quiet;
    if (crc) goto done;
    if (col.k < 2) {
        fprintf(stderr, "vkft data report: the label check needs at least 2 labels; found %d\n", col.k);
        goto done;
    }
    if (!(x = features(c, cmd, &col, pooling, emb, mo, &h, info))) goto done;
    proba = malloc(sizeof(float) * (size_t)col.n * (size_t)col.k);
    flags = malloc(sizeof *flags * (size_t)col.n);
    if (!proba || !flags) goto done;
    int folds = vkft_labelcheck_oof(x, col.label, col.n, h, col.k, lo, proba, err, sizeof err);
    if (folds < 0) {
        fprintf(stderr, "vkft data report: %s\n", err);
        goto done;
    }
    long nf = 0, correct = 0;
    for (long i = 0; i < col.n; i++) {
        const float *p = proba + (size_t)i * col.k;
        int best = 0;
        for (int k = 1; k < col.k; k++)
            if (p[k] > p[best]) best = k;
        correct += best == col.label[i];
        if (best != col.label[i] && p[best] >= lo->threshold) flags[nf++] = (flag){i, best, p[best]};
    }
    qsort(flags, (size_t)nf, sizeof *flags, by_conf);
    cJSON *j = cJSON_AddObjectToObject(report, "label_disagreements");
    cJSON_AddStringToObject(j, "classifier", "multinomial logistic regression on sentence embeddings, "
                                             "out-of-fold predictions");
    for (cJSON *e = info->child; e;) {
        cJSON *next = e->next;
        cJSON_AddItemToObject(j, e->string, cJSON_DetachItemViaPointer(info, e));
        e = next;
    }
    cJSON_AddNumberToObject(j, "folds", folds);
    cJSON_AddNumberToObject(j, "threshold", lo->threshold);
    cJSON_AddNumberToObject(j, "records_checked", (double)col.n);
    cJSON_AddNumberToObject(j, "records_without_label", (double)col.no_label);
    cJSON_AddNumberToObject(j, "cv_accuracy", col.n ? (double)correct / col.n : 0);
    cJSON_AddNumberToObject(j, "flagged", (double)nf);
    cJSON *ex = cJSON_AddArrayToObject(j, "records");
    for (long f = 0; f < nf; f++) {
        long i = flags[f].row;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "source", col.where[i]);
        if (col.id[i]) cJSON_AddStringToObject(e, "id", col.id[i]);
        cJSON_AddStringToObject(e, "given", col.names[col.label[i]]);
        cJSON_AddStringToObject(e, "predicted", col.names[flags[f].pred]);
        cJSON_AddNumberToObject(e, "confidence", round(flags[f].conf * 1e4) / 1e4);
        cJSON_AddItemToArray(ex, e);
    }
    cJSON_AddNumberToObject(j, "seconds", vkft_data_now() - t0);
    if (!c->quiet)
        fprintf(stderr, "label check: %ld records, out-of-fold accuracy %.3f, %ld flagged (p >= %.2f)\n", col.n,
                col.n ? (double)correct / col.n : 0, nf, lo->threshold);
    rc = 0;
done:
    if (col.k || col.n) collected_free(&col);
    free(x), free(proba), free(flags);
    cJSON_Delete(info);
    return rc;
}
