/* vkft train-head: a linear classification head (softmax regression) trained on feature vectors, e.g. the
 * sentence embeddings and SMOTE rows of `vkft data balance --mode smote`. Full-batch AdamW on the device,
 * one recorded step reused every step: logits = x W^T + b, (class-weighted) cross-entropy, dW, db, AdamW. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "model/ops_basic.h"
#include "model/ops_matmul.h"
#include "model/ops_optim.h"
#include "model/ops_xent.h"
#include "model/safetensors.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/data_features.h"
#include "tools/progress.h"
#include "util/fsutil.h"

static void usage(void) {
    printf("usage: vkft train-head --features FILE.safetensors --out DIR [--eval FILE.safetensors] [--steps N]\n"
           "                       [--lr X] [--weight-decay X] [--class-weights FILE.json] [--overwrite]\n"
           "                       [--device N|NAME]\n\n"
           "Trains a linear classification head (softmax regression: logits = x W^T + b) on a feature file\n"
           "(`features` [N, H] F32, `labels` [N] I32, metadata `labels` = the names; what `vkft data balance\n"
           "--mode smote` writes, docs/data.md). Features are standardized with the training rows' mean and\n"
           "deviation, W and b start at zero, and every step is one full-batch AdamW step on the device.\n"
           "Writes DIR/head.safetensors (classifier.weight [K, H], classifier.bias [K], for raw features: the\n"
           "standardization is folded in), DIR/head.json (labels, loss and accuracy) and DIR/metrics.jsonl.\n"
           "  --eval FILE            held-out feature file: its loss and accuracy at the end\n"
           "  --steps N              full-batch steps (default 300)\n"
           "  --lr X                 AdamW learning rate (default 0.01)\n"
           "  --weight-decay X       AdamW weight decay (default 0)\n"
           "  --class-weights FILE   {\"class_weights\": {\"label\": weight, ...}} as `vkft data balance\n"
           "                         --weights-out` writes: a weighted cross-entropy\n"
           "  --overwrite            replace DIR's head files\n");
}

/* The device side: standardized features, labels, parameters, gradients, moments, outputs. */
typedef struct {
    vkft_ctx *ctx;
    vkft_arena *arena;
    uint32_t n, h, k;
    vkft_buf x, y, w, b, gw, gb, mw, vw, mb, vb, logits, row_loss, stats, loss, weight, hp;
} head_dev;

static int alloc_all(head_dev *d, uint32_t n) {
    vkft_buf *f[] = {&d->w, &d->gw, &d->mw, &d->vw};
    for (int i = 0; i < 4; i++)
        if (vkft_arena_alloc(d->arena, (VkDeviceSize)d->k * d->h * 4, f[i])) return -1;
    vkft_buf *g[] = {&d->b, &d->gb, &d->mb, &d->vb, &d->weight};
    for (int i = 0; i < 5; i++)
        if (vkft_arena_alloc(d->arena, (VkDeviceSize)d->k * 4, g[i])) return -1;
    return vkft_arena_alloc(d->arena, (VkDeviceSize)n * d->h * 4, &d->x) ||
           vkft_arena_alloc(d->arena, (VkDeviceSize)n * 4, &d->y) ||
           vkft_arena_alloc(d->arena, (VkDeviceSize)n * d->k * 4, &d->logits) ||
           vkft_arena_alloc(d->arena, (VkDeviceSize)n * 4, &d->row_loss) ||
           vkft_arena_alloc(d->arena, 16, &d->stats) || vkft_arena_alloc(d->arena, 4, &d->loss) ||
           vkft_arena_alloc(d->arena, VKFT_ADAMW_HP_FLOATS * 4, &d->hp);
}

/* Records the forward and loss over rows x (n of them); with train, also the backward and AdamW. */
static int record(head_dev *d, vkft_recorder *rec, vkft_buf x, vkft_buf y, uint32_t n, int weighted, int train) {
    vkft_matmul_opts o = vkft_matmul_opts_default();
    o.bias = d->b;
    vkft_buf none = {0}, logits = vkft_buf_slice(d->logits, 0, (VkDeviceSize)n * d->k * 4);
    if (vkft_matmul(rec, VKFT_MM_NT, x, d->w, logits, n, d->k, d->h, &o) ||
        vkft_cross_entropy_forward_backward(rec, logits, y, weighted ? d->weight : none, train ? logits : none,
                                            d->row_loss, d->stats, d->loss, n, d->k, -100, 0.0f, 1.0f))
        return -1;
    if (!train) return 0;
    return vkft_matmul(rec, VKFT_MM_TN, logits, x, d->gw, d->k, d->h, n, NULL) ||
           vkft_colsum_f32(rec, logits, n, d->k, d->k, d->gb, 0) ||
           vkft_adamw_step_hp(rec, d->w, d->gw, d->mw, d->vw, d->k * d->h, d->hp, none) ||
           vkft_adamw_step_hp(rec, d->b, d->gb, d->mb, d->vb, d->k, d->hp, none);
}

/* Mean loss and accuracy of the last forward over n rows with labels y (host copy). */
static int scores(head_dev *d, const int32_t *y, uint32_t n, float *loss, double *acc) {
    float *lg = malloc((size_t)n * d->k * 4);
    if (!lg || vkft_download(d->ctx, d->logits, 0, lg, (size_t)n * d->k * 4) ||
        vkft_download(d->ctx, d->loss, 0, loss, 4)) {
        free(lg);
        return -1;
    }
    long right = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t best = 0;
        for (uint32_t c = 1; c < d->k; c++)
            if (lg[(size_t)i * d->k + c] > lg[(size_t)i * d->k + best]) best = c;
        right += (int32_t)best == y[i];
    }
    *acc = n ? (double)right / n : 0;
    free(lg);
    return 0;
}

/* Class weights by label name from `vkft data balance --weights-out`'s snippet. */
static int read_class_weights(const char *path, const data_labeled *d, float *w, char *err, size_t errlen) {
    char *text;
    size_t len;
    if (vkft_read_file(path, &text, &len, err, errlen)) return -1;
    cJSON *j = cJSON_ParseWithLength(text, len), *cw = cJSON_GetObjectItemCaseSensitive(j, "class_weights");
    free(text);
    int rc = 0;
    if (!cJSON_IsObject(cw)) {
        snprintf(err, errlen, "%s: needs an object \"class_weights\": {\"label\": weight, ...}", path);
        rc = -1;
    }
    for (int c = 0; !rc && c < d->k; c++) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(cw, d->names[c]);
        if (!cJSON_IsNumber(v) || !(v->valuedouble > 0)) {
            snprintf(err, errlen, "%s: class_weights has no positive weight for label \"%s\"", path, d->names[c]);
            rc = -1;
        } else {
            w[c] = (float)v->valuedouble;
        }
    }
    cJSON_Delete(j);
    return rc;
}

/* Standardizes rows in place with mean and deviation per column (computed from them when fit). */
static void standardize(float *x, long n, int h, double *mean, double *sd, int fit) {
    for (int j = 0; fit && j < h; j++) {
        double s = 0, q = 0;
        for (long i = 0; i < n; i++) s += x[i * h + j];
        mean[j] = s / n;
        for (long i = 0; i < n; i++) q += (x[i * h + j] - mean[j]) * (x[i * h + j] - mean[j]);
        sd[j] = sqrt(q / n);
        if (sd[j] < 1e-6) sd[j] = 1; /* a constant column carries no information */
    }
    for (long i = 0; i < n; i++)
        for (int j = 0; j < h; j++) x[i * h + j] = (float)((x[i * h + j] - mean[j]) / sd[j]);
}

typedef struct {
    const char *features, *eval, *out, *weights, *device;
    int steps, overwrite;
    float lr, weight_decay;
} head_args;

static int write_outputs(const head_args *a, head_dev *d, const data_labeled *tr, const double *mean,
                         const double *sd, const float *res, char *err, size_t errlen) {
    uint32_t K = d->k, H = d->h;
    float *w = malloc((size_t)K * H * 4), *b = malloc(K * 4);
    int rc = !w || !b || vkft_download(d->ctx, d->w, 0, w, (size_t)K * H * 4) || vkft_download(d->ctx, d->b, 0, b, K * 4);
    if (rc) snprintf(err, errlen, "reading the head: %s", vkft_last_error(d->ctx));
    /* fold the standardization in: W' = W / sd, b' = b - W' mean, so the head takes raw features */
    for (uint32_t c = 0; !rc && c < K; c++) {
        double shift = 0;
        for (uint32_t j = 0; j < H; j++) {
            w[(size_t)c * H + j] = (float)(w[(size_t)c * H + j] / sd[j]);
            shift += w[(size_t)c * H + j] * mean[j];
        }
        b[c] = (float)(b[c] - shift);
    }
    cJSON *names = cJSON_CreateArray();
    for (int c = 0; c < tr->k; c++) cJSON_AddItemToArray(names, cJSON_CreateString(tr->names[c]));
    char *names_s = cJSON_PrintUnformatted(names), path[4200];
    if (!rc) {
        vkft_st_write_tensor t[2] = {{"classifier.bias", VKFT_F32, 1, {K}, b},
                                     {"classifier.weight", VKFT_F32, 2, {K, H}, w}};
        const char *keys[] = {"format", "labels"}, *vals[] = {"vkft-head-1", names_s};
        snprintf(path, sizeof path, "%s/head.safetensors", a->out);
        rc = vkft_st_write(path, t, 2, keys, vals, 2, err, errlen);
    }
    if (!rc) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "format", "vkft-head-1");
        cJSON_AddItemToObject(j, "labels", names);
        names = NULL;
        cJSON_AddStringToObject(j, "features", a->features);
        cJSON_AddNumberToObject(j, "hidden", H);
        cJSON_AddNumberToObject(j, "steps", a->steps);
        cJSON_AddNumberToObject(j, "lr", a->lr);
        cJSON_AddNumberToObject(j, "weight_decay", a->weight_decay);
        cJSON_AddNumberToObject(j, "train_loss", res[0]);
        cJSON_AddNumberToObject(j, "train_accuracy", res[1]);
        if (a->eval) {
            cJSON_AddStringToObject(j, "eval", a->eval);
            cJSON_AddNumberToObject(j, "eval_loss", res[2]);
            cJSON_AddNumberToObject(j, "eval_accuracy", res[3]);
        }
        char *s = cJSON_Print(j);
        snprintf(path, sizeof path, "%s/head.json", a->out);
        rc = vkft_write_file_atomic(path, s, strlen(s), err, errlen);
        free(s);
        cJSON_Delete(j);
    }
    cJSON_Delete(names);
    free(names_s), free(w), free(b);
    return rc;
}

static int run(const head_args *a, char *err, size_t errlen) {
    data_labeled tr = {0}, ev = {0};
    char path[4200];
    snprintf(path, sizeof path, "%s/head.safetensors", a->out);
    if (vkft_file_exists(path) && !a->overwrite)
        return vkft_fail(err, errlen, "%s exists; pass --overwrite to replace it, or choose another --out", path);
    if (data_features_read_labeled(a->features, &tr, err, errlen) ||
        (a->eval && data_features_read_labeled(a->eval, &ev, err, errlen))) {
        data_labeled_free(&tr);
        return -1;
    }
    int rc = -1;
    double *mean = calloc((size_t)tr.h, sizeof *mean), *sd = calloc((size_t)tr.h, sizeof *sd);
    float *cw = calloc((size_t)tr.k, sizeof *cw), res[4] = {0};
    head_dev d = {.n = (uint32_t)tr.n, .h = (uint32_t)tr.h, .k = (uint32_t)tr.k};
    vkft_recorder *step = NULL, *fwd = NULL;
    FILE *metrics = NULL;
    if (a->eval && (ev.h != tr.h || ev.k != tr.k)) {
        snprintf(err, errlen, "%s has %d features and %d labels, %s %d and %d: give feature files of one model "
                 "and label set", a->eval, ev.h, ev.k, a->features, tr.h, tr.k);
        goto done;
    }
    if (a->weights && read_class_weights(a->weights, &tr, cw, err, errlen)) goto done;
    if (vkft_mkdirs(a->out, err, errlen)) goto done;
    standardize(tr.x, tr.n, tr.h, mean, sd, 1);
    if (a->eval) standardize(ev.x, ev.n, ev.h, mean, sd, 0);
    if (!(d.ctx = cli_open_device(a->device))) {
        snprintf(err, errlen, "no Vulkan device");
        goto done;
    }
    d.arena = vkft_arena_create(d.ctx, "head", 0);
    uint32_t n_max = d.n > (uint32_t)ev.n ? d.n : (uint32_t)ev.n;
    if ((uint64_t)n_max * d.h * 4 > vkft_binding_limit(d.ctx)) { /* the features are bound whole */
        snprintf(err, errlen, "%u rows of %u features (%.1f MiB) exceed what one binding spans on %s (%.1f MiB): "
                 "train on fewer rows", n_max, d.h, n_max * (double)d.h * 4 / 1048576.0, vkft_device(d.ctx)->name,
                 vkft_binding_limit(d.ctx) / 1048576.0);
        goto done;
    }
    if (alloc_all(&d, n_max) || vkft_upload(d.ctx, d.x, 0, tr.x, (size_t)tr.n * tr.h * 4) ||
        vkft_upload(d.ctx, d.y, 0, tr.y, (size_t)tr.n * 4) || vkft_upload(d.ctx, d.weight, 0, cw, (size_t)tr.k * 4)) {
        snprintf(err, errlen, "%s", vkft_last_error(d.ctx));
        goto done;
    }
    step = vkft_recorder_create(d.ctx);
    fwd = vkft_recorder_create(d.ctx);
    vkft_buf fills[] = {d.w, d.b, d.mw, d.vw, d.mb, d.vb};
    int bad = vkft_rec_begin(step);
    for (int i = 0; i < 6 && !bad; i++) bad = vkft_rec_fill(step, fills[i], 0);
    bad = bad || vkft_rec_end(step) || vkft_rec_submit(step) || vkft_rec_begin(step) ||
          record(&d, step, d.x, d.y, d.n, a->weights != NULL, 1) || vkft_rec_end(step);
    if (bad) {
        snprintf(err, errlen, "%s", vkft_last_error(d.ctx));
        goto done;
    }
    snprintf(path, sizeof path, "%s/metrics.jsonl", a->out);
    if (!(metrics = fopen(path, "w"))) {
        snprintf(err, errlen, "cannot write %s", path);
        goto done;
    }
    fprintf(stderr, "head        %u features -> %u labels, %u training rows%s, %d full-batch steps on %s\n", d.h,
            d.k, d.n, a->weights ? " (class-weighted)" : "", a->steps, vkft_device(d.ctx)->name);
    vkft_progress bar;
    vkft_progress_init(&bar, "train-head", (uint64_t)a->steps, "steps", 1);
    vkft_adamw_hparams hp = {a->lr, 0.9f, 0.999f, 1e-8f, a->weight_decay};
    for (int s = 1; s <= a->steps; s++) {
        float packed[VKFT_ADAMW_HP_FLOATS], loss;
        vkft_adamw_hp_pack(&hp, (uint32_t)s, packed);
        if (vkft_upload(d.ctx, d.hp, 0, packed, sizeof packed) || vkft_rec_submit(step) ||
            vkft_download(d.ctx, d.loss, 0, &loss, 4)) {
            snprintf(err, errlen, "step %d: %s", s, vkft_last_error(d.ctx));
            goto done;
        }
        if (!isfinite(loss)) {
            snprintf(err, errlen, "step %d: the loss is %g; lower --lr", s, loss);
            goto done;
        }
        fprintf(metrics, "{\"step\": %d, \"loss\": %.8g, \"lr\": %g}\n", s, loss, a->lr);
        char text[64];
        snprintf(text, sizeof text, "loss %.4f", loss);
        vkft_progress_update(&bar, (uint64_t)s, text);
    }
    if (bar.drawn) vkft_progress_finish(&bar, (uint64_t)a->steps, NULL);
    /* final scores: forward passes only (the training step's logits hold gradients) */
    double acc = 0;
    bad = vkft_rec_begin(fwd) || record(&d, fwd, d.x, d.y, d.n, a->weights != NULL, 0) || vkft_rec_end(fwd) ||
          vkft_rec_submit(fwd) || scores(&d, tr.y, d.n, &res[0], &acc);
    res[1] = (float)acc;
    if (!bad && a->eval) {
        bad = vkft_upload(d.ctx, d.x, 0, ev.x, (size_t)ev.n * ev.h * 4) ||
              vkft_upload(d.ctx, d.y, 0, ev.y, (size_t)ev.n * 4) || vkft_rec_begin(fwd) ||
              record(&d, fwd, d.x, d.y, (uint32_t)ev.n, a->weights != NULL, 0) || vkft_rec_end(fwd) ||
              vkft_rec_submit(fwd) || scores(&d, ev.y, (uint32_t)ev.n, &res[2], &acc);
        res[3] = (float)acc;
    }
    if (bad) {
        snprintf(err, errlen, "scoring: %s", vkft_last_error(d.ctx));
        goto done;
    }
    if (write_outputs(a, &d, &tr, mean, sd, res, err, errlen)) goto done;
    printf("train loss %.4f accuracy %.4f", res[0], res[1]);
    if (a->eval) printf("  eval loss %.4f accuracy %.4f", res[2], res[3]);
    printf("\nwrote %s/head.safetensors, head.json, metrics.jsonl\n", a->out);
    rc = 0;
done:
    if (metrics) fclose(metrics);
    vkft_recorder_destroy(step);
    vkft_recorder_destroy(fwd);
    if (d.arena) vkft_arena_destroy(d.arena);
    if (d.ctx && cli_close_device(d.ctx)) rc = -1;
    free(mean), free(sd), free(cw);
    data_labeled_free(&tr);
    data_labeled_free(&ev);
    return rc;
}

int cmd_train_head(int argc, char **argv) {
    head_args a = {.steps = 300, .lr = 0.01f};
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (!strcmp(argv[i], "--overwrite")) {
            a.overwrite = 1;
        } else if ((v = cli_value(argc, argv, &i, "--features", &bad))) {
            a.features = v;
        } else if ((v = cli_value(argc, argv, &i, "--eval", &bad))) {
            a.eval = v;
        } else if ((v = cli_value(argc, argv, &i, "--out", &bad))) {
            a.out = v;
        } else if ((v = cli_value(argc, argv, &i, "--class-weights", &bad))) {
            a.weights = v;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            a.device = v;
        } else if ((v = cli_value(argc, argv, &i, "--steps", &bad))) {
            a.steps = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--lr", &bad))) {
            a.lr = strtof(v, NULL);
        } else if ((v = cli_value(argc, argv, &i, "--weight-decay", &bad))) {
            a.weight_decay = strtof(v, NULL);
        } else if (!bad) {
            fprintf(stderr, "vkft train-head: unknown option '%s' (see vkft train-head --help)\n", argv[i]);
            return 2;
        }
        if (bad) return 2;
    }
    if (!a.features || !a.out) {
        fprintf(stderr, "vkft train-head: --features FILE and --out DIR are required (see --help)\n");
        return 2;
    }
    if (a.steps < 1 || !(a.lr > 0) || a.weight_decay < 0) {
        fprintf(stderr, "vkft train-head: --steps must be >= 1, --lr > 0 and --weight-decay >= 0\n");
        return 2;
    }
    char err[4400];
    if (run(&a, err, sizeof err)) {
        fprintf(stderr, "vkft train-head: %s\n", err);
        return 1;
    }
    return 0;
}
