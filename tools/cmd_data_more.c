/* vkft data report | balance | augment | pipeline. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/augment.h"
#include "data/balance.h"
#include "data/pipeline.h"
#include "data/report.h"
#include "tools/cmd_data.h"
#include "tools/plot.h"
#include "util/fsutil.h"

/* ---- report ------------------------------------------------------------------------------------ */

static const char report_help[] =
    "usage: vkft data report --in FILE [--in FILE ...] --out FOLDER [options]\n\n"
    "Writes FOLDER/report.json, FOLDER/report.md and PNG histograms (length in characters and words,\n"
    "labels): record count, completeness per field, duplicate and near-duplicate rates, length\n"
    "distribution, lexical diversity (type-token ratio, distinct-1/2, MTLD), label distribution and\n"
    "imbalance, annotation anomalies (same or near-same text, different label), personal-data counts,\n"
    "bias indicators (PMI terms per label, demographic terms per label).\n\n"
    "  --tokenizer PATH     tokenizer.json (or model folder): tokens per word, unknown-token rate\n"
    "  --terms FILE         demographic terms to count per label, one per line (default: a built-in list)\n"
    "  --no-pii             skip the personal-data scan\n"
    "  --no-near            skip near-duplicate detection\n"
    "  --pmi-top N          terms per label (default 10)\n"
    "  --pmi-min-count N    minimum documents of the label containing the term (default 5)\n"
    "  --bins N             histogram bars (default 30)\n"
    "  --no-png             no PNG histograms\n"
    "labels a quick model disagrees with (with --model or --embeddings): sentence embeddings of every\n"
    "labelled record, a multinomial logistic regression with k-fold cross-validation; records whose\n"
    "out-of-fold prediction differs from their label with probability >= the threshold are listed\n"
    "  --folds N            cross-validation folds (default 5)\n"
    "  --disagree-threshold P  list a record when p(predicted label) >= P (default 0.7)\n"
    "%s%s\n";
static const char *const report_opts[] = {"--tokenizer", "--terms",   "--no-pii",     "--no-near",
                                          "--pmi-top",   "--pmi-min-count", "--bins", "--no-png",
                                          "--folds",     "--disagree-threshold", "--pooling", "--embeddings",
                                          "--model",     "--batch", "--max-tokens", "--device", NULL};

/* Writes report.json, report.md and PNGs into dir; returns 0 or 1. */
static int write_report(const char *dir, cJSON *j, vkft_report *r, int png) {
    char err[VKFT_ERR_LEN], path[4096];
    if (vkft_mkdirs(dir, err, sizeof err)) {
        fprintf(stderr, "vkft data report: %s\n", err);
        return 1;
    }
    const char *images[8] = {0};
    char names[8][96];
    int ni = 0;
    if (png && r) {
        vkft_histogram h[4];
        int nh = vkft_report_histograms(r, h, 4);
        for (int i = 0; i < nh; i++) {
            snprintf(names[ni], sizeof names[ni], "%.31s.png", h[i].name);
            snprintf(path, sizeof path, "%s/%s", dir, names[ni]);
            vkft_plot_opts po = {.title = h[i].title, .xlabel = h[i].xlabel, .ylabel = "records"};
            if (vkft_plot_bars(path, &po, h[i].values, h[i].n, h[i].labels, h[i].lo, h[i].width, err,
                               sizeof err)) {
                fprintf(stderr, "vkft data report: %s\n", err);
                return 1;
            }
            images[ni] = names[ni];
            ni++;
        }
    }
    snprintf(path, sizeof path, "%s/report.json", dir);
    if (data_write_json(path, j)) return 1;
    vkft_buf md = {0};
    vkft_report_markdown(j, images, &md);
    snprintf(path, sizeof path, "%s/report.md", dir);
    int rc = vkft_write_file_atomic(path, md.p, md.n, err, sizeof err);
    vkft_buf_free(&md);
    if (rc) {
        fprintf(stderr, "vkft data report: %s\n", err);
        return 1;
    }
    return 0;
}

/* Runs the report over inputs; returns the merged JSON (summary + report) or NULL. */
static cJSON *run_report(data_common *c, const vkft_report_opts *o, vkft_report **keep) {
    char err[1024];
    vkft_report *r;
    vkft_step step;
    if (vkft_report_step_new(&r, o, c->io.field, c->io.label_field, &step, err, sizeof err)) {
        fprintf(stderr, "vkft data report: %s\n", err);
        return NULL;
    }
    const char *out = c->io.out;
    c->io.out = NULL; /* the report reads only */
    int dry = c->io.dry_run;
    cJSON *sum = NULL;
    int rc = data_run_step_keep(c, "report", &step, cJSON_CreateObject(), &sum);
    c->io.out = out;
    c->io.dry_run = dry;
    if (rc) {
        vkft_report_free(r);
        return NULL;
    }
    cJSON *j = vkft_report_json(r);
    static const char *const keys[] = {"inputs",   "malformed", "malformed_examples",
                                       "bytes_in", "seconds",   NULL};
    for (int i = 0; keys[i]; i++) {
        cJSON *v = cJSON_DetachItemFromObject(sum, keys[i]);
        if (v) cJSON_AddItemToObject(j, keys[i], v);
    }
    cJSON_Delete(sum);
    *keep = r;
    return j;
}

int cmd_data_report(int argc, char **argv) {
    const char *cmd = "report";
    data_common c;
    data_common_init(&c);
    vkft_report_opts o;
    vkft_report_opts_defaults(&o);
    int png = 1, pooling = DM_POOL_MEAN;
    data_model_opts mo;
    data_model_opts_defaults(&mo);
    vkft_labelcheck_opts lo;
    vkft_labelcheck_opts_defaults(&lo);
    const char *emb = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf(report_help, data_embed_help, data_model_help);
            printf("%s", data_common_help);
            return 0;
        }
        int r = data_common_opt(&c, cmd, argc, argv, &i);
        if (!r) r = data_model_opt(&mo, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        long x;
        if (!strcmp(a, "--folds")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            if (x < 2 || x > 100) {
                fprintf(stderr, "vkft data report: --folds must be in 2..100\n");
                return 2;
            }
            lo.folds = (int)x;
        } else if (!strcmp(a, "--disagree-threshold")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_double(cmd, a, v, &lo.threshold)) return 2;
            if (!(lo.threshold > 0 && lo.threshold <= 1)) {
                fprintf(stderr, "vkft data report: --disagree-threshold must be in (0, 1]\n");
                return 2;
            }
        } else if (!strcmp(a, "--pooling")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_pooling_parse(cmd, v, &pooling)) return 2;
        } else if (!strcmp(a, "--embeddings")) {
            if (!(emb = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tokenizer")) {
            if (!(o.tokenizer_path = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--terms")) {
            if (!(o.terms_file = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--no-pii"))
            o.pii = 0;
        else if (!strcmp(a, "--no-near"))
            o.near_dup = 0;
        else if (!strcmp(a, "--no-png"))
            png = 0;
        else if (!strcmp(a, "--pmi-top") || !strcmp(a, "--pmi-min-count") || !strcmp(a, "--bins")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            if (x < 1 || x > 1000) {
                fprintf(stderr, "vkft data report: %s must be in 1..1000\n", a);
                return 2;
            }
            if (!strcmp(a, "--pmi-top"))
                o.pmi_top = (int)x;
            else if (!strcmp(a, "--bins"))
                o.bins = (int)x;
            else
                o.pmi_min_count = (int)x;
        } else
            return data_unknown(cmd, a, report_opts);
    }
    if (mo.dir && emb) {
        fprintf(stderr, "vkft data report: give --model or --embeddings, not both\n");
        return 2;
    }
    if (data_check_io(&c, cmd, 1)) return 2;
    vkft_report *r = NULL;
    cJSON *j = run_report(&c, &o, &r);
    if (!j) return 1;
    int rc = 0;
    if ((mo.dir || emb) && data_label_check(&c, &lo, pooling, emb, &mo, j)) {
        cJSON_Delete(j);
        vkft_report_free(r);
        return 1;
    }
    if (c.summary && data_write_json(c.summary, j)) rc = 1;
    if (c.io.dry_run) {
        char *s = cJSON_Print(j);
        if (s) printf("%s\n", s);
        free(s);
    } else {
        rc |= write_report(c.io.out, j, r, png);
        if (!rc && !c.quiet)
            fprintf(stderr, "report: %.0f records -> %s/report.md, report.json%s\n",
                    cJSON_GetObjectItem(j, "records")->valuedouble, c.io.out, png ? ", *.png" : "");
    }
    cJSON_Delete(j);
    vkft_report_free(r);
    return rc;
}

/* ---- balance ----------------------------------------------------------------------------------- */

static const char balance_help[] =
    "usage: vkft data balance --in FILE --out FILE [options]\n\n"
    "Resamples classes (by --label-field) to a target ratio with exact counts, and computes class "
    "weights.\n\n"
    "  --mode over|under|both|none  over: duplicate minority records; under: subsample majority classes;\n"
    "                       both: classes meet at the mean size; none: only the class weights (default "
    "over)\n"
    "  --ratio R            target smallest/largest class ratio after resampling, in (0, 1] (default 1)\n"
    "  --seed N             which records are duplicated/kept (default 1)\n"
    "  --weights inverse|effective  class weights: inverse frequency, or effective number of samples\n"
    "                       (Cui et al. 2019) (default inverse)\n"
    "  --beta B             effective-number beta (default 0.999)\n"
    "  --weights-out FILE   write the class weights as a JSON config snippet for vkft train\n"
    "SMOTE in embedding space (--mode smote, with --model or --embeddings): the records' sentence\n"
    "embeddings plus synthetic vectors for the classes below ratio x the largest (each between a record\n"
    "and one of its k nearest neighbours of the same class), written to --out as safetensors\n"
    "(features [N, H] F32, labels [N] I32, source [N, 2] I32, lambda [N] F32) and OUT.json (label\n"
    "names, counts, the records of the real rows); the text data is not changed. docs/data.md\n"
    "  --k N                neighbours for SMOTE (default 5)\n"
    "%s%s\n";
static const char *const balance_opts[] = {"--mode", "--ratio", "--seed",    "--weights",  "--beta",
                                           "--weights-out", "--k", "--pooling", "--embeddings", "--model",
                                           "--batch", "--max-tokens", "--device", NULL};

int cmd_data_balance(int argc, char **argv) {
    const char *cmd = "balance";
    data_common c;
    data_common_init(&c);
    vkft_balance_opts o;
    vkft_balance_opts_defaults(&o);
    const char *weights_out = NULL, *emb = NULL;
    char err[512];
    int smote = 0, k = 5, pooling = DM_POOL_MEAN;
    data_model_opts mo;
    data_model_opts_defaults(&mo);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf(balance_help, data_embed_help, data_model_help);
            printf("%s", data_common_help);
            return 0;
        }
        int r = data_common_opt(&c, cmd, argc, argv, &i);
        if (!r) r = data_model_opt(&mo, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        long x;
        if (!strcmp(a, "--k")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            if (x < 1 || x > 1000) {
                fprintf(stderr, "vkft data balance: --k must be in 1..1000\n");
                return 2;
            }
            k = (int)x;
        } else if (!strcmp(a, "--pooling")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_pooling_parse(cmd, v, &pooling)) return 2;
        } else if (!strcmp(a, "--embeddings")) {
            if (!(emb = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--mode")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (!strcmp(v, "over"))
                o.mode = VKFT_BALANCE_OVER;
            else if (!strcmp(v, "under"))
                o.mode = VKFT_BALANCE_UNDER;
            else if (!strcmp(v, "both"))
                o.mode = VKFT_BALANCE_BOTH;
            else if (!strcmp(v, "none"))
                o.mode = VKFT_BALANCE_NONE;
            else if (!strcmp(v, "smote"))
                smote = 1;
            else {
                fprintf(stderr, "vkft data balance: --mode '%s': use over, under, both, none or smote\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--ratio")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_double(cmd, a, v, &o.ratio)) return 2;
        } else if (!strcmp(a, "--beta")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_double(cmd, a, v, &o.beta)) return 2;
            if (o.beta <= 0 || o.beta >= 1) {
                fprintf(stderr, "vkft data balance: --beta must be in (0, 1), e.g. 0.999\n");
                return 2;
            }
        } else if (!strcmp(a, "--seed")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            o.seed = (uint64_t)x;
        } else if (!strcmp(a, "--weights")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (!strcmp(v, "inverse"))
                o.weights = VKFT_WEIGHTS_INVERSE;
            else if (!strcmp(v, "effective"))
                o.weights = VKFT_WEIGHTS_EFFECTIVE;
            else {
                fprintf(stderr, "vkft data balance: --weights '%s': use inverse or effective\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--weights-out")) {
            if (!(weights_out = data_value(cmd, argc, argv, &i))) return 2;
        } else
            return data_unknown(cmd, a, balance_opts);
    }
    if (smote) {
        if (!mo.dir == !emb) {
            fprintf(stderr, "vkft data balance: --mode smote needs the embeddings: --model DIR (computed) or "
                            "--embeddings FILE (precomputed), one of them\n");
            return 2;
        }
        if (o.ratio <= 0 || o.ratio > 1) {
            fprintf(stderr, "vkft data balance: --ratio must be in (0, 1]\n");
            return 2;
        }
        if (data_check_io(&c, cmd, 1)) return 2;
        return data_smote(&c, o.ratio, o.seed, k, pooling, emb, &mo);
    }
    if (mo.dir || emb) {
        fprintf(stderr, "vkft data balance: --model and --embeddings are for --mode smote\n");
        return 2;
    }
    if (data_check_io(&c, cmd, o.mode != VKFT_BALANCE_NONE)) return 2;
    vkft_balance_step *s;
    vkft_step step;
    if (vkft_balance_step_new(&s, &o, c.io.label_field, &step, err, sizeof err)) {
        fprintf(stderr, "vkft data balance: %s\n", err);
        return 1;
    }
    int rc = data_run_step(&c, cmd, &step, cJSON_CreateObject());
    if (rc == 0 && weights_out && !c.io.dry_run) {
        cJSON *w = vkft_balance_weights_json(s);
        rc = data_write_json(weights_out, w);
        cJSON_Delete(w);
    }
    vkft_balance_step_free(s);
    return rc;
}

/* ---- augment ----------------------------------------------------------------------------------- */

static const char augment_help[] =
    "usage: vkft data augment --in FILE --out FILE [options]\n\n"
    "Writes the input records and augmented copies; each copy carries {\"source\": \"FILE:LINE\",\n"
    "\"source_index\": N, \"method\": M} under --provenance-field.\n\n"
    "  --methods LIST       of sr (WordNet synonym replacement), ri (random insertion of synonyms),\n"
    "                       rs (random swap), rd (random deletion), reorder (sentence order);\n"
    "                       copies cycle through them (default sr,ri,rs,rd)\n"
    "  --rate R             fraction of words changed per copy / deletion probability (default 0.1)\n"
    "  --copies N           augmented copies per record (default 1)\n"
    "  --per-class LABEL=N  copies for records of LABEL (repeatable; other classes get none)\n"
    "  --minority           copies per class so that each class approaches the largest (two passes)\n"
    "  --max-copies N       cap for --minority (default 8)\n"
    "  --protect FILE       terms or phrases never replaced, deleted or split (one per line)\n"
    "  --protect-term TERM  one more such term or phrase (repeatable)\n"
    "  --wordnet DIR        WordNet database folder (default /usr/share/wordnet, Debian's wordnet-base)\n"
    "  --senses N           WordNet senses per part of speech used for synonyms (default 2)\n"
    "  --provenance-field NAME  (default augmentation)\n"
    "  --seed N             (default 1)\n"
    "model-driven methods (--model DIR; the input is read twice, the model work done in between):\n"
    "  mlm                  contextual substitution with a masked LM (BERT with its MLM head): rate x words\n"
    "                       are masked at once and each replaced by one of the model's --top-k whole-word\n"
    "                       candidates that is not the original word nor a protected term\n"
    "  paraphrase           a causal LM continues --template with {text} replaced; the first line of\n"
    "                       the output is the copy\n"
    "  backtranslate        to --pivot and back with two templates ({lang}: the target language)\n"
    "  --method M           the same as --methods M\n"
    "  --top-k K            mlm: candidates to pick from (default 5; 1: the model's best)\n"
    "  --template TEXT      paraphrase template, or backtranslate's first leg (default: see docs/data.md)\n"
    "  --template-file F    the template read from a file\n"
    "  --template-back TEXT backtranslate's return leg; --template-back-file F\n"
    "  --pivot LANG         back-translation pivot language (default French)\n"
    "  --source-lang LANG   the data's language, {lang} of the return leg (default English)\n"
    "  --max-new-tokens N   generated tokens at most per call (default 48)\n"
    "  --temperature T      sampling temperature (default 0.8; 0: greedy)\n"
    "  --top-p P            nucleus sampling (default 0.95); --gen-top-k K: the K likeliest only (0: off)\n"
    "Each copy's sampler seed is in its provenance (\"seed\"): vkft generate --prompt RENDERED\n"
    "--temperature T --top-p P --seed S reproduces it (the return leg uses seed + 1).\n"
    "%s\n";
static const char *const augment_opts[] = {
    "--methods",  "--rate",         "--copies",        "--per-class",     "--minority",      "--max-copies",
    "--protect",  "--protect-term", "--wordnet",       "--senses",        "--provenance-field", "--seed",
    "--method",   "--top-k",        "--template",      "--template-file", "--template-back", "--template-back-file",
    "--pivot",    "--source-lang",  "--max-new-tokens", "--temperature",  "--top-p",         "--gen-top-k",
    "--model",    "--batch",        "--max-tokens",    "--device",        NULL};

/* Reads a template file (the whole file; one final newline dropped). */
static char *read_template(const char *path) {
    char *t, err[512];
    size_t n;
    if (vkft_read_file(path, &t, &n, err, sizeof err)) {
        fprintf(stderr, "vkft data augment: %s\n", err);
        return NULL;
    }
    if (n && t[n - 1] == '\n') t[--n] = 0;
    return t;
}

/* Runs the augment step, with a model backend when a model method is asked for. */
static int augment_run(data_common *c, vkft_augment_opts *o, const data_model_opts *mo) {
    const char *cmd = "augment";
    char err[512];
    if (o->minority && o->n_per_class) {
        fprintf(stderr, "vkft data augment: --minority and --per-class exclude each other\n");
        return 2;
    }
    int mlm = 0, gen = 0;
    for (int i = 0; i < o->n_methods; i++) {
        mlm |= o->methods[i] == VKFT_AUG_MLM;
        gen |= o->methods[i] == VKFT_AUG_PARAPHRASE || o->methods[i] == VKFT_AUG_BACKTRANSLATE;
    }
    if (mlm && gen) {
        fprintf(stderr, "vkft data augment: mlm needs a masked LM and paraphrase/backtranslate a causal LM: run "
                        "them as two augment steps, each with its --model\n");
        return 2;
    }
    if ((mlm || gen) && !mo->dir) {
        fprintf(stderr, "vkft data augment: method %s needs a model: --model DIR\n", mlm ? "mlm" : "paraphrase/backtranslate");
        return 2;
    }
    if (!mlm && !gen && mo->dir) {
        fprintf(stderr, "vkft data augment: --model is for the methods mlm, paraphrase and backtranslate\n");
        return 2;
    }
    if (data_check_io(c, cmd, 1)) return 2;
    data_model *dm = NULL;
    vkft_augment_backend be;
    if (mlm || gen) {
        data_model_opts m = *mo;
        m.quiet = c->quiet;
        if (data_model_open(&dm, &m, mlm ? DM_FOR_MLM : DM_FOR_GENERATE)) return 1;
        data_model_backend(dm, &be);
        o->backend = &be;
    }
    vkft_augment_step *s;
    vkft_step step;
    int rc = 1;
    if (vkft_augment_step_new(&s, o, c->io.field, c->io.label_field, &step, err, sizeof err)) {
        fprintf(stderr, "vkft data augment: %s\n", err);
    } else {
        cJSON *sum = cJSON_CreateObject();
        if (dm) { /* the model's throughput goes into the summary, which data_run_step prints and frees */
            cJSON *keep = NULL;
            rc = data_run_step_keep(c, cmd, &step, sum, &keep);
            if (!rc) {
                data_model_stats st = data_model_get_stats(dm);
                cJSON *mj = cJSON_AddObjectToObject(cJSON_GetObjectItem(keep, "augment"), "model");
                cJSON_AddStringToObject(mj, "dir", mo->dir);
                cJSON_AddNumberToObject(mj, "texts", (double)st.texts);
                cJSON_AddNumberToObject(mj, "input_tokens", (double)st.tokens);
                cJSON_AddNumberToObject(mj, "generated_tokens", (double)st.generated);
                cJSON_AddNumberToObject(mj, "skipped_too_long", (double)st.skipped_too_long);
                cJSON_AddNumberToObject(mj, "seconds", st.seconds);
                cJSON_AddNumberToObject(mj, "texts_per_s", st.seconds > 0 ? st.texts / st.seconds : 0);
                rc = data_finish_step(c, cmd, keep);
            }
        } else {
            rc = data_run_step(c, cmd, &step, sum);
        }
        vkft_augment_step_free(s);
    }
    if (data_model_close(dm) && !rc) rc = 1;
    return rc;
}

int cmd_data_augment(int argc, char **argv) {
    const char *cmd = "augment";
    data_common c;
    data_common_init(&c);
    vkft_augment_opts o;
    vkft_augment_opts_defaults(&o);
    const char *terms[64];
    int n_terms = 0;
    char err[512];
    data_model_opts mo;
    data_model_opts_defaults(&mo);
    char *tmpl_file = NULL, *back_file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf(augment_help, data_model_help);
            printf("%s", data_common_help);
            return 0;
        }
        int r = data_common_opt(&c, cmd, argc, argv, &i);
        if (!r) r = data_model_opt(&mo, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        long x;
        double d;
        if (!strcmp(a, "--template") || !strcmp(a, "--template-back") || !strcmp(a, "--pivot") ||
            !strcmp(a, "--source-lang")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (!strcmp(a, "--template"))
                mo.template_text = v;
            else if (!strcmp(a, "--template-back"))
                mo.template_back = v;
            else if (!strcmp(a, "--pivot"))
                mo.pivot = v;
            else
                mo.source_lang = v;
        } else if (!strcmp(a, "--template-file") || !strcmp(a, "--template-back-file")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            char **dst = !strcmp(a, "--template-file") ? &tmpl_file : &back_file;
            free(*dst);
            if (!(*dst = read_template(v))) return 2;
            if (dst == &tmpl_file)
                mo.template_text = *dst;
            else
                mo.template_back = *dst;
        } else if (!strcmp(a, "--top-k") || !strcmp(a, "--max-new-tokens") || !strcmp(a, "--gen-top-k")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            if (x < (strcmp(a, "--gen-top-k") ? 1 : 0) || x > 100000) {
                fprintf(stderr, "vkft data augment: %s must be in %d..100000\n", a, strcmp(a, "--gen-top-k") ? 1 : 0);
                return 2;
            }
            if (!strcmp(a, "--top-k"))
                o.top_k = (int)(x > 32 ? 32 : x);
            else if (!strcmp(a, "--max-new-tokens"))
                mo.max_new_tokens = (uint32_t)x;
            else
                mo.top_k = (uint32_t)x;
        } else if (!strcmp(a, "--temperature") || !strcmp(a, "--top-p")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_double(cmd, a, v, &d)) return 2;
            if (!strcmp(a, "--temperature")) {
                if (d < 0 || d > 1e6) {
                    fprintf(stderr, "vkft data augment: --temperature must be >= 0 (0: greedy)\n");
                    return 2;
                }
                mo.temperature = (float)d;
            } else {
                if (!(d > 0 && d <= 1)) {
                    fprintf(stderr, "vkft data augment: --top-p must be in (0, 1]\n");
                    return 2;
                }
                mo.top_p = (float)d;
            }
        } else if (!strcmp(a, "--methods") || !strcmp(a, "--method")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (vkft_augment_parse_methods(&o, v, err, sizeof err)) {
                fprintf(stderr, "vkft data augment: %s\n", err);
                return 2;
            }
        } else if (!strcmp(a, "--rate")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_double(cmd, a, v, &o.rate)) return 2;
        } else if (!strcmp(a, "--copies") || !strcmp(a, "--max-copies") || !strcmp(a, "--senses") ||
                   !strcmp(a, "--seed")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            if (x < 0 || (x > 1000 && strcmp(a, "--seed"))) {
                fprintf(stderr, "vkft data augment: %s must be in 0..1000\n", a);
                return 2;
            }
            if (!strcmp(a, "--copies"))
                o.copies = (int)x;
            else if (!strcmp(a, "--max-copies"))
                o.max_copies = (int)x;
            else if (!strcmp(a, "--senses"))
                o.max_senses = (int)x;
            else
                o.seed = (uint64_t)x;
        } else if (!strcmp(a, "--per-class")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            const char *eq = strrchr(v, '=');
            if (!eq || eq == v || o.n_per_class >= VKFT_AUG_MAX_CLASS_RULES ||
                (size_t)(eq - v) >= sizeof o.per_class[0].label || data_parse_long(cmd, a, eq + 1, &x)) {
                fprintf(stderr, "vkft data augment: --per-class '%s': expected LABEL=N\n", v);
                return 2;
            }
            memcpy(o.per_class[o.n_per_class].label, v, (size_t)(eq - v));
            o.per_class[o.n_per_class].label[eq - v] = 0;
            o.per_class[o.n_per_class].copies = (int)x;
            o.n_per_class++;
        } else if (!strcmp(a, "--minority"))
            o.minority = 1;
        else if (!strcmp(a, "--protect")) {
            if (!(o.protected_file = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--protect-term")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (n_terms >= 64) {
                fprintf(stderr, "vkft data augment: at most 64 --protect-term; put them in a --protect file\n");
                return 2;
            }
            terms[n_terms++] = v;
            o.protected_terms = terms;
            o.n_protected_terms = n_terms;
        } else if (!strcmp(a, "--wordnet")) {
            if (!(o.wordnet_dir = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--provenance-field")) {
            if (!(o.provenance_field = data_value(cmd, argc, argv, &i))) return 2;
        } else
            return data_unknown(cmd, a, augment_opts);
    }
    int rc = augment_run(&c, &o, &mo);
    free(tmpl_file);
    free(back_file);
    return rc;
}

/* ---- pipeline ---------------------------------------------------------------------------------- */

static const char pipeline_help[] =
    "usage: vkft data pipeline RECIPE.json [--in FILE ...] [--out FILE] [--report FOLDER] [--summary FILE]\n"
    "                          [--dry-run] [--quiet]\n\n"
    "Runs the recipe's steps in order (each reads the previous one's output; intermediate files live in\n"
    "a temporary folder beside the output and are removed), writes the final dataset and one combined\n"
    "summary, and, with \"report\" in the recipe or --report, a data-quality report of the final data.\n"
    "--in/--out on the command line override the recipe's. Recipe format: docs/data.md.\n\n";

/* Removes the pipeline's temporary folder (flat: only the files the steps wrote). */
static int rm_tmpdir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    char path[4600];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return rmdir(dir);
}

int cmd_data_pipeline(int argc, char **argv) {
    const char *recipe = NULL, *summary = NULL, *report = NULL, *out = NULL;
    const char *ins[DATA_MAX_IN];
    int n_in = 0, dry = 0, quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s", pipeline_help);
            return 0;
        }
        if (!strcmp(a, "--in") || !strcmp(a, "--out") || !strcmp(a, "--summary") || !strcmp(a, "--report") ||
            !strcmp(a, "--recipe")) {
            const char *v = data_value("pipeline", argc, argv, &i);
            if (!v) return 2;
            if (!strcmp(a, "--in")) {
                if (n_in >= DATA_MAX_IN) return 2;
                ins[n_in++] = v;
            } else if (!strcmp(a, "--out"))
                out = v;
            else if (!strcmp(a, "--summary"))
                summary = v;
            else if (!strcmp(a, "--report"))
                report = v;
            else
                recipe = v;
        } else if (!strcmp(a, "--dry-run"))
            dry = 1;
        else if (!strcmp(a, "--quiet"))
            quiet = 1;
        else if (a[0] != '-' && !recipe)
            recipe = a;
        else {
            static const char *const known[] = {"--in",     "--out",     "--summary", "--report",
                                                "--recipe", "--dry-run", "--quiet",   NULL};
            return data_unknown("pipeline", a, known);
        }
    }
    if (!recipe) {
        fprintf(stderr,
                "vkft data pipeline: no recipe; usage: vkft data pipeline RECIPE.json (see --help)\n");
        return 2;
    }
    char *text, err[1024];
    size_t len;
    if (vkft_read_file(recipe, &text, &len, err, sizeof err)) {
        fprintf(stderr, "vkft data pipeline: %s\n", err);
        return 2;
    }
    vkft_pipeline p;
    int prc = vkft_pipeline_parse(text, len, &p, err, sizeof err);
    free(text);
    if (prc) {
        fprintf(stderr, "vkft data pipeline: %s: %s\n", recipe, err);
        return 2;
    }
    if (!n_in)
        for (int i = 0; i < p.n_in && i < DATA_MAX_IN; i++) ins[n_in++] = p.in[i];
    if (!out) out = p.out;
    if (!report) report = p.report;
    if (!n_in || (!out && !dry)) {
        fprintf(stderr,
                "vkft data pipeline: the recipe or the command line must give the input (\"in\" / --in) "
                "and the output (\"out\" / --out)\n");
        vkft_pipeline_free(&p);
        return 2;
    }
    char tmpdir[4200];
    snprintf(tmpdir, sizeof tmpdir, "%s.steps.%d", out ? out : "pipeline", (int)getpid());
    if (vkft_mkdirs(tmpdir, err, sizeof err)) {
        fprintf(stderr, "vkft data pipeline: %s\n", err);
        vkft_pipeline_free(&p);
        return 1;
    }
    cJSON *combined = cJSON_CreateObject();
    cJSON_AddStringToObject(combined, "recipe", recipe);
    cJSON *inputs = cJSON_AddArrayToObject(combined, "inputs");
    for (int i = 0; i < n_in; i++) cJSON_AddItemToArray(inputs, cJSON_CreateString(ins[i]));
    if (out) cJSON_AddStringToObject(combined, "output", out);
    cJSON_AddBoolToObject(combined, "dry_run", dry);
    cJSON *steps = cJSON_AddArrayToObject(combined, "steps");
    int rc = 0;
    char prev[4300] = "", cur[4300], sum_path[4300];
    for (int s = 0; s < p.n_steps && !rc; s++) {
        int last = s == p.n_steps - 1;
        if (last && !dry)
            snprintf(cur, sizeof cur, "%s", out);
        else
            snprintf(cur, sizeof cur, "%s/step%d_%s.jsonl", tmpdir, s + 1, p.steps[s].step);
        snprintf(sum_path, sizeof sum_path, "%s/step%d_%s.summary.json", tmpdir, s + 1, p.steps[s].step);
        int cap = p.steps[s].argc + 2 * DATA_MAX_IN + 16, k = 0;
        char **av = calloc((size_t)cap, sizeof(char *));
        for (int i = 0; i < p.steps[s].argc; i++) av[k++] = p.steps[s].argv[i];
        if (s == 0) {
            for (int i = 0; i < n_in; i++) {
                av[k++] = "--in";
                av[k++] = (char *)ins[i];
            }
            if (p.format) {
                av[k++] = "--format";
                av[k++] = p.format;
            }
        } else {
            av[k++] = "--in";
            av[k++] = prev;
        }
        av[k++] = "--out";
        av[k++] = cur;
        av[k++] = "--summary";
        av[k++] = sum_path;
        if (p.field) {
            av[k++] = "--field";
            av[k++] = p.field;
        }
        if (p.label_field) {
            av[k++] = "--label-field";
            av[k++] = p.label_field;
        }
        if (quiet) av[k++] = "--quiet";
        if (!quiet) fprintf(stderr, "pipeline step %d/%d: %s\n", s + 1, p.n_steps, p.steps[s].step);
        rc = data_dispatch(k, av);
        free(av);
        if (rc) {
            fprintf(stderr, "vkft data pipeline: step %d (%s) failed; nothing was written to the output\n",
                    s + 1, p.steps[s].step);
            break;
        }
        char *js;
        size_t jl;
        if (!vkft_read_file(sum_path, &js, &jl, err, sizeof err)) {
            cJSON *j = cJSON_Parse(js);
            if (j) cJSON_AddItemToArray(steps, j);
            free(js);
        }
        snprintf(prev, sizeof prev, "%s", cur);
    }
    if (!rc && report) {
        data_common c;
        data_common_init(&c);
        c.in[0] = prev;
        c.n_in = 1;
        c.io.inputs = c.in;
        c.io.n_inputs = 1;
        c.quiet = quiet;
        if (p.field) c.io.field = p.field;
        if (p.label_field) c.io.label_field = p.label_field;
        vkft_report_opts ro;
        vkft_report_opts_defaults(&ro);
        vkft_report *r = NULL;
        cJSON *j = run_report(&c, &ro, &r);
        if (!j)
            rc = 1;
        else {
            cJSON_AddItemToObject(j, "steps", cJSON_Duplicate(steps, 1));
            cJSON_AddItemToObject(combined, "report", cJSON_Duplicate(j, 1));
            if (!dry) rc = write_report(report, j, r, 1);
            cJSON_Delete(j);
            vkft_report_free(r);
        }
    }
    if (!rc) {
        if (summary) rc = data_write_json(summary, combined);
        if (dry) {
            char *s = cJSON_Print(combined);
            if (s) printf("%s\n", s);
            free(s);
        } else if (!quiet) {
            fprintf(stderr, "pipeline: %d steps -> %s%s%s\n", p.n_steps, out, report ? ", report in " : "",
                    report ? report : "");
        }
    }
    if (rm_tmpdir(tmpdir)) fprintf(stderr, "vkft data pipeline: could not remove %s\n", tmpdir);
    cJSON_Delete(combined);
    vkft_pipeline_free(&p);
    return rc;
}
