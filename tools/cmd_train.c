/* vkft train CONFIG.json: fine-tuning (full or LoRA) with AdamW, schedules, gradient accumulation and
 * clipping, metrics.jsonl, a progress bar, loss.png, checkpoints that resume exactly, and the result
 * exported as a PEFT adapter (LoRA) or a Hugging Face model folder (full). */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <fnmatch.h>

#include "data/lm_dataset.h"
#include "data/sft_dataset.h"
#include "model/export.h"
#include "model/model.h"
#include "model/optimizer.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/plot.h"
#include "tools/progress.h"
#include "tools/train_config.h"
#include "util/fsutil.h"

/* The only process-wide state: a signal handler can do nothing but set a flag. */
static volatile sig_atomic_t interrupted;
static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
}

static void usage(void) {
    printf("usage: vkft train CONFIG.json [--set key=value ...] [--resume] [--overwrite] [--device N|NAME]\n\n"
           "Fine-tunes the model named in CONFIG.json (every key: docs/config.md). Writes into output_dir:\n"
           "  metrics.jsonl   one line per step: step, loss, lr, grad_norm, tokens, tokens_per_s, elapsed_s\n"
           "                  (eval steps add eval_loss, eval_ppl)\n"
           "  loss.png        train (and eval) loss curves\n"
           "  checkpoint/     trainable weights, optimizer state and position, every save_every steps, at\n"
           "                  the end and on Ctrl-C; --resume continues from it exactly\n"
           "  adapter/        (method lora) the PEFT adapter: adapter_config.json, adapter_model.safetensors\n"
           "  model/          (method full) the fine-tuned model as a Hugging Face folder\n"
           "  run_config.json the configuration as resolved (the config file itself is never modified)\n"
           "  --set key=value  override a key, e.g. --set lora.r=16 --set optim.lr=1e-4\n"
           "  --resume         continue the run in output_dir from its checkpoint\n"
           "  --overwrite      replace an existing output_dir's run\n");
}

/* ---- data: windows of token ids ----------------------------------------------------------- */

typedef struct {
    int32_t *tokens; /* every window's tokens, back to back */
    uint8_t *mask;   /* instruction data: 1 where a token is a target (a response); NULL: every token */
    uint64_t *start;
    uint32_t *len;
    size_t n;
} windows;

/* Packing: documents joined with EOS between them, cut into seq_len windows. Without packing, one
 * window per document (cut at seq_len). Windows shorter than 2 tokens predict nothing and are dropped. */
static void make_windows(const vkft_lm_data *d, uint32_t seq_len, int packing, int32_t eos, windows *w) {
    uint64_t cap = d->tokens + d->n + 1;
    w->tokens = malloc(cap * 4);
    w->start = malloc((cap / 2 + d->n + 1) * sizeof *w->start);
    w->len = malloc((cap / 2 + d->n + 1) * sizeof *w->len);
    w->n = 0;
    uint64_t used = 0;
    if (packing) {
        for (size_t s = 0; s < d->n; s++) {
            memcpy(w->tokens + used, d->seqs[s], d->lens[s] * 4);
            used += d->lens[s];
            if (eos >= 0 && s + 1 < d->n) w->tokens[used++] = eos;
        }
        for (uint64_t off = 0; off + 2 <= used; off += seq_len) {
            w->start[w->n] = off;
            w->len[w->n++] = (uint32_t)(used - off < seq_len ? used - off : seq_len);
        }
    } else {
        for (size_t s = 0; s < d->n; s++) {
            uint32_t len = d->lens[s] < seq_len ? d->lens[s] : seq_len;
            if (len < 2) continue;
            memcpy(w->tokens + used, d->seqs[s], len * 4);
            w->start[w->n] = used;
            w->len[w->n++] = len;
            used += len;
        }
    }
}

/* Instruction data: one window per example, with the loss mask of its responses. */
static void make_sft_windows(const vkft_sft_data *d, windows *w) {
    w->tokens = malloc((d->tokens + 1) * 4);
    w->mask = malloc(d->tokens + 1);
    w->start = malloc((d->n + 1) * sizeof *w->start);
    w->len = malloc((d->n + 1) * sizeof *w->len);
    w->n = 0;
    uint64_t used = 0;
    for (size_t s = 0; s < d->n; s++) {
        if (d->lens[s] < 2) continue;
        memcpy(w->tokens + used, d->seqs[s], d->lens[s] * 4);
        memcpy(w->mask + used, d->loss_mask[s], d->lens[s]);
        w->start[w->n] = used;
        w->len[w->n++] = d->lens[s];
        used += d->lens[s];
    }
}

static void free_windows(windows *w) {
    free(w->tokens), free(w->mask), free(w->start), free(w->len);
    memset(w, 0, sizeof *w);
}

static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The window order of an epoch: a Fisher-Yates shuffle seeded by (seed, epoch), or file order. */
static void epoch_order(size_t *perm, size_t n, int shuffle, uint64_t seed, uint64_t epoch) {
    for (size_t i = 0; i < n; i++) perm[i] = i;
    if (!shuffle) return;
    uint64_t s = mix(seed * 0x9E3779B97F4A7C15ull + epoch + 1);
    for (size_t i = n; i > 1; i--) {
        s = mix(s + 0x9E3779B97F4A7C15ull);
        size_t j = (size_t)(s % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
}

/* Fills a micro-batch of B windows (rows beyond n_rows are empty), targets shifted by one. */
static void fill_batch(const windows *w, const size_t *idx, uint32_t n_rows, uint32_t B, uint32_t T, int32_t *ids,
                       int32_t *targets, uint32_t *lengths, uint64_t *tokens) {
    memset(ids, 0, (size_t)B * T * 4);
    *tokens = 0;
    for (uint32_t b = 0; b < B; b++) {
        uint32_t len = b < n_rows ? w->len[idx[b]] : 0;
        const int32_t *src = b < n_rows ? w->tokens + w->start[idx[b]] : NULL;
        const uint8_t *mask = b < n_rows && w->mask ? w->mask + w->start[idx[b]] : NULL;
        if (len) memcpy(ids + (size_t)b * T, src, len * 4);
        for (uint32_t t = 0; t < T; t++)
            targets[b * T + t] = t + 1 < len && (!mask || mask[t + 1]) ? src[t + 1] : -100;
        lengths[b] = len ? len : 1; /* an empty row attends to one (ignored) position */
        *tokens += len;
    }
}

/* ---- learning rate -------------------------------------------------------------------------- */

static double lr_at(const vkft_train_config *c, uint32_t step, uint32_t total) {
    if (c->warmup_steps > 0 && step <= (uint32_t)c->warmup_steps) return c->lr * step / c->warmup_steps;
    double span = total > (uint32_t)c->warmup_steps ? total - c->warmup_steps : 1;
    double p = (step - (double)c->warmup_steps) / span;
    if (p > 1) p = 1;
    if (!strcmp(c->schedule, "linear")) return c->lr * (1 - p);
    if (!strcmp(c->schedule, "cosine")) return c->lr * 0.5 * (1 + cos(M_PI * p));
    return c->lr;
}

/* ---- evaluation ------------------------------------------------------------------------------ */

static int evaluate(vkft_model *m, vkft_recorder *rec, const windows *w, uint32_t B, uint32_t T, double *loss) {
    int32_t *ids = malloc((size_t)B * T * 4), *targets = malloc((size_t)B * T * 4);
    uint32_t *lengths = malloc(B * 4);
    size_t *idx = malloc(B * sizeof *idx);
    double sum = 0, count = 0;
    int rc = vkft_rec_begin(rec) || vkft_model_record_step(m, rec, 0, 1.0f) || vkft_rec_end(rec);
    for (size_t i = 0; i < w->n && !rc; i += B) {
        uint32_t rows = (uint32_t)(w->n - i < B ? w->n - i : B);
        for (uint32_t b = 0; b < rows; b++) idx[b] = i + b;
        uint64_t tokens;
        fill_batch(w, idx, rows, B, T, ids, targets, lengths, &tokens);
        float l, c;
        rc = vkft_model_set_batch(m, ids, targets, lengths, NULL) || vkft_rec_submit(rec) ||
             vkft_model_read_loss(m, &l, &c);
        sum += (double)l * c;
        count += c;
    }
    free(ids), free(targets), free(lengths), free(idx);
    *loss = count > 0 ? sum / count : NAN;
    return rc ? -1 : 0;
}

/* ---- metrics and plot --------------------------------------------------------------------- */

/* Keeps the metrics lines of steps <= keep_step (a resumed run rewrites what came after). */
static int trim_metrics(const char *path, uint32_t keep_step, char *err, size_t errlen) {
    if (!vkft_file_exists(path)) return 0;
    char *data;
    size_t n;
    if (vkft_read_file(path, &data, &n, err, errlen)) return -1;
    vkft_atomic_file af;
    if (vkft_atomic_open(&af, path, err, errlen)) {
        free(data);
        return -1;
    }
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        cJSON *s = j ? cJSON_GetObjectItem(j, "step") : NULL;
        if (cJSON_IsNumber(s) && s->valuedouble <= keep_step) fprintf(af.f, "%s\n", line);
        cJSON_Delete(j);
    }
    free(data);
    return vkft_atomic_commit(&af, err, errlen);
}

/* loss.png: the train loss per step, and the eval loss at the steps that have one. */
static void write_plot(const char *metrics, const char *png) {
    char *data, err[256];
    size_t n;
    if (vkft_read_file(metrics, &data, &n, err, sizeof err)) return;
    size_t cap = 1024, k = 0;
    double *x = malloc(cap * 8), *y = malloc(cap * 8), *e = malloc(cap * 8);
    int any_eval = 0;
    for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *j = cJSON_Parse(line);
        cJSON *st = j ? cJSON_GetObjectItem(j, "step") : NULL, *l = j ? cJSON_GetObjectItem(j, "loss") : NULL,
              *ev = j ? cJSON_GetObjectItem(j, "eval_loss") : NULL;
        if (k == cap) {
            cap *= 2;
            x = realloc(x, cap * 8), y = realloc(y, cap * 8), e = realloc(e, cap * 8);
        }
        if (cJSON_IsNumber(st) && cJSON_IsNumber(l)) {
            x[k] = st->valuedouble;
            y[k] = l->valuedouble;
            e[k++] = cJSON_IsNumber(ev) ? ev->valuedouble : NAN; /* the plot skips NaN points */
            any_eval |= cJSON_IsNumber(ev);
        }
        cJSON_Delete(j);
    }
    free(data);
    vkft_plot_opts o = {.title = any_eval ? "loss: train (blue), eval (red)" : "train loss",
                        .xlabel = "step", .ylabel = "loss"};
    const double *ys[2] = {y, e};
    if (k > 0) vkft_plot_lines(png, &o, x, ys, any_eval ? 2 : 1, (int)k, err, sizeof err);
    free(x), free(y), free(e);
}

static int dir_has_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) any = 1;
    closedir(d);
    return any;
}

/* Trainable parameters for method full: everything but names matching a freeze pattern (fnmatch, or a
 * plain substring). */
static void apply_freeze(vkft_model *m, const vkft_train_config *c) {
    vkft_model_set_trainable(m, 1);
    for (int i = 0; i < vkft_model_param_count(m); i++) {
        vkft_param *p = vkft_model_param(m, i);
        for (int f = 0; f < c->n_freeze; f++)
            if (!fnmatch(c->freeze[f], p->name, 0) || strstr(p->name, c->freeze[f])) p->trainable = 0;
    }
}

typedef struct {
    vkft_train_config cfg;
    char out[1100], ckpt[1200], metrics[1200];
    vkft_ctx *ctx;
    vkft_model *m;
    vkft_optimizer *opt;
    vkft_recorder *rec, *frec, *erec; /* micro-batch; last micro-batch + optimizer; evaluation */
    windows train, eval;
    uint32_t total_steps;
} run;

static int save_checkpoint(run *r, uint32_t step, char *err, size_t errlen) {
    char *cfg = vkft_train_config_json(&r->cfg);
    size_t len = strlen(cfg) + 256;
    char *state = malloc(len);
    snprintf(state, len, "{\n\"step\": %u,\n\"total_steps\": %u,\n\"config\": %s\n}\n", step, r->total_steps, cfg);
    free(cfg);
    int rc = vkft_checkpoint_save(r->opt, r->ckpt, state, err, errlen);
    free(state);
    return rc;
}

static int export_result(run *r, char *err, size_t errlen) {
    char dir[1300];
    if (!strcmp(r->cfg.method, "lora")) {
        snprintf(dir, sizeof dir, "%s/adapter", r->out);
        vkft_peft_info info = {r->cfg.model, (unsigned)r->cfg.lora_r, r->cfg.lora_alpha, r->cfg.lora_dropout,
                               r->cfg.lora_rslora};
        return vkft_peft_save(r->m, dir, &info, err, errlen);
    }
    snprintf(dir, sizeof dir, "%s/model", r->out);
    return vkft_model_save_hf(r->m, r->cfg.model, dir, err, errlen);
}

/* data.chat_template as a template for instruction data; *ct stays NULL for vkft's default templates. */
static int chat_template(const vkft_train_config *c, const vkft_tokenizer *tok, vkft_chat_template **ct, char *err,
                         size_t errlen) {
    const char *own = vkft_tokenizer_specials(tok).chat_template, *choice = c->chat_template;
    char *text = NULL, name[1200];
    *ct = NULL;
    if (!strcmp(choice, "default") || (!strcmp(choice, "auto") && !own)) {
        fprintf(stderr, "template    vkft's default (%s; docs/config.md)\n",
                !strcmp(c->format, "alpaca") ? "Alpaca" : "ChatML");
        return 0;
    }
    if (!strcmp(choice, "tokenizer") && !own) {
        snprintf(err, errlen,
                 "data.chat_template \"tokenizer\": %s/tokenizer_config.json has no \"chat_template\" (use \"auto\" "
                 "or \"default\" for vkft's default template, or the path of a .jinja file)",
                 c->model);
        return -1;
    }
    if (own && (!strcmp(choice, "auto") || !strcmp(choice, "tokenizer"))) {
        snprintf(name, sizeof name, "%s/tokenizer_config.json's chat_template", c->model);
        text = strdup(own);
    } else {
        size_t n;
        snprintf(name, sizeof name, "%s", choice);
        if (vkft_read_file(choice, &text, &n, err, errlen)) return -1;
    }
    fprintf(stderr, "template    %s\n", name);
    int rc = vkft_chat_template_new(text, name, tok, ct, err, errlen);
    free(text);
    return rc;
}

static int load_data(run *r, vkft_tokenizer *tok, const vkft_chat_template *ct, const char *path, windows *w,
                     char *err, size_t errlen) {
    int sft = !strcmp(r->cfg.format, "alpaca") || !strcmp(r->cfg.format, "messages");
    if (sft) {
        int32_t eos = vkft_tokenizer_specials(tok).eos;
        if (eos < 0) eos = vkft_model_cfg(r->m)->eos_token_id;
        vkft_sft_data d;
        long truncated;
        if (vkft_sft_data_load(path, !strcmp(r->cfg.format, "alpaca") ? VKFT_SFT_ALPACA : VKFT_SFT_MESSAGES, tok, eos,
                               (uint32_t)r->cfg.seq_len, vkft_model_cfg(r->m)->vocab_size, ct, &d, &truncated, err,
                               errlen))
            return -1;
        if (truncated)
            fprintf(stderr, "note: %ld of %zu examples in %s were longer than data.seq_len %d and were cut\n",
                    truncated, d.n, path, r->cfg.seq_len);
        fprintf(stderr, "data        %s: %zu examples, %llu tokens, %llu of them responses (the loss)\n", path, d.n,
                (unsigned long long)d.tokens, (unsigned long long)d.target_tokens);
        make_sft_windows(&d, w);
        vkft_sft_data_free(&d);
        if (w->n == 0) {
            snprintf(err, errlen, "%s holds no example of two or more tokens", path);
            return -1;
        }
        return 0;
    }
    vkft_lm_data d;
    int text = strcmp(r->cfg.format, "ids") != 0;
    if (vkft_lm_data_load(path, text ? tok : NULL, r->cfg.text_field, 1, vkft_model_cfg(r->m)->vocab_size, &d, err,
                          errlen))
        return -1;
    int32_t eos = tok ? vkft_tokenizer_specials(tok).eos : -1;
    if (eos < 0) eos = vkft_model_cfg(r->m)->eos_token_id;
    make_windows(&d, (uint32_t)r->cfg.seq_len, r->cfg.packing, eos, w);
    vkft_lm_data_free(&d);
    if (w->n == 0) {
        snprintf(err, errlen, "%s holds no sequence of two or more tokens", path);
        return -1;
    }
    return 0;
}

static int train(run *r, int resume, char *err, size_t errlen) {
    vkft_train_config *c = &r->cfg;
    const uint32_t B = (uint32_t)c->micro_batch_size, T = (uint32_t)c->seq_len, A = (uint32_t)c->grad_accum;
    vkft_tokenizer *tok = NULL;
    char tok_path[1100];
    snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", c->model);
    if (strcmp(c->format, "ids") != 0) {
        if (!vkft_file_exists(tok_path)) {
            snprintf(err, errlen, "data.format %s needs %s (or give pre-tokenized data with data.format ids)", c->format,
                     tok_path);
            return -1;
        }
        if (vkft_tokenizer_load(tok_path, &tok, err, errlen)) return -1;
    }
    vkft_chat_template *ct = NULL;
    int rc = (!strcmp(c->format, "alpaca") || !strcmp(c->format, "messages")) ? chat_template(c, tok, &ct, err, errlen) : 0;
    if (!rc) rc = load_data(r, tok, ct, c->train, &r->train, err, errlen);
    if (!rc && c->eval[0]) rc = load_data(r, tok, ct, c->eval, &r->eval, err, errlen);
    vkft_chat_template_free(ct);
    vkft_tokenizer_free(tok);
    if (rc) return -1;

    uint64_t per_step = (uint64_t)B * A;
    uint32_t steps_per_epoch = (uint32_t)((r->train.n + per_step - 1) / per_step);
    r->total_steps = c->max_steps ? (uint32_t)c->max_steps : (uint32_t)c->epochs * steps_per_epoch;

    /* Parameters to train, the plan, the optimizer. */
    if (!strcmp(c->method, "lora") && c->lora_init_adapter[0]) {
        /* Start from an existing adapter: its rank, alpha and targets, and its A and B (trainable). */
        if (vkft_model_load_adapter(r->m, c->lora_init_adapter, err, errlen)) return -1;
    } else if (!strcmp(c->method, "lora")) {
        const char *targets[VKFT_MAX_TARGETS];
        for (int i = 0; i < c->lora_n_targets; i++) targets[i] = c->lora_targets[i];
        vkft_lora_opts lo = {(uint32_t)c->lora_r, (float)c->lora_alpha, c->lora_rslora, targets, c->lora_n_targets,
                             (uint64_t)c->seed};
        if (vkft_model_add_lora(r->m, &lo, err, errlen) < 0) return -1;
    } else {
        apply_freeze(r->m, c);
    }
    if (strcmp(c->weights, "f32") != 0) {
        vkft_dtype dt = !strcmp(c->weights, "f16") ? VKFT_F16 : VKFT_BF16;
        int64_t saved = vkft_model_store_frozen_weights(r->m, dt, err, errlen);
        if (saved < 0) return -1;
        fprintf(stderr, "precision   frozen linear weights stored as %s (%.1f MiB saved)\n", c->weights,
                saved / 1048576.0);
    }
    vkft_model_set_checkpointing(r->m, c->activation_checkpointing);
    if (!strcmp(c->method, "lora") && vkft_model_set_lora_dropout(r->m, (float)c->lora_dropout, (uint64_t)c->seed)) {
        snprintf(err, errlen, "%s", vkft_last_error(r->ctx));
        return -1;
    }
    vkft_memory_plan plan;
    if (vkft_model_plan(r->m, B, T, 1, &plan)) {
        const char *e = vkft_last_error(r->ctx);
        /* the plan is made before step 1, so running out of memory is known before any training */
        snprintf(err, errlen, "%s%s", e,
                 strstr(e, "out of memory")
                     ? "; or, in the config, set activation_checkpointing: true (keeps one input per layer), "
                       "precision.weights: \"bf16\" (halves frozen weights), or a smaller "
                       "batch.micro_batch_size with a larger batch.grad_accum (the same tokens per step)"
                     : "");
        return -1;
    }
    r->opt = vkft_optimizer_create(r->m, err, errlen);
    if (!r->opt) return -1;
    uint64_t total = 0, trainable = 0;
    for (int i = 0; i < vkft_model_param_count(r->m); i++) {
        vkft_param *p = vkft_model_param(r->m, i);
        total += p->lora ? 0 : p->numel;
        trainable += p->trainable ? p->numel : 0;
    }
    const vkft_model_config *mc = vkft_model_cfg(r->m);
    char method_note[64] = "";
    if (!strcmp(c->method, "lora") && c->lora_dropout > 0)
        snprintf(method_note, sizeof method_note, ", lora.dropout %g", c->lora_dropout);
    fprintf(stderr,
            "device      %s\nmodel       %s (%s, %u layers, hidden %u, vocab %u)\n"
            "trainable   %llu of %llu parameters (%.3f%%), method %s%s\n"
            "memory      weights %.1f MiB, gradients %.1f MiB, optimizer %.1f MiB, activations %.1f MiB, "
            "scratch %.1f MiB\n"
            "data        %zu windows of up to %u tokens (%s), %u tokens per step (%u x %u x %u)\n"
            "steps       %u (%u per epoch)\n",
            vkft_device(r->ctx)->name, c->model, mc->model_type, mc->num_layers, mc->hidden_size, mc->vocab_size,
            (unsigned long long)trainable, (unsigned long long)total, 100.0 * trainable / (double)total, c->method,
            method_note, plan.weights / 1048576.0, plan.gradients / 1048576.0,
            vkft_optimizer_bytes(r->opt) / 1048576.0, plan.activations / 1048576.0, plan.scratch / 1048576.0,
            r->train.n, T, c->packing ? "packed" : "one per sequence", B * A * T, B, A, T, r->total_steps,
            steps_per_epoch);

    uint32_t step0 = 0;
    if (resume) {
        char *state = NULL;
        if (vkft_checkpoint_load(r->opt, r->ckpt, &state, err, errlen)) return -1;
        cJSON *j = cJSON_Parse(state);
        cJSON *st = j ? cJSON_GetObjectItem(j, "step") : NULL;
        step0 = cJSON_IsNumber(st) ? (uint32_t)st->valuedouble : 0;
        cJSON_Delete(j);
        free(state);
        if (trim_metrics(r->metrics, step0, err, errlen)) return -1;
        fprintf(stderr, "resuming   from step %u\n", step0);
    } else {
        FILE *f = fopen(r->metrics, "w");
        if (f) fclose(f);
    }

    /* One training step, one submission: the last micro-batch's forward, loss and backward, the gradient
     * norm, AdamW and the zeroing of the gradients are recorded once and submitted every step (the learning
     * rate and step number are read from a buffer). Earlier micro-batches of an accumulation use a
     * recording of their own. */
    r->rec = vkft_recorder_create(r->ctx);
    r->frec = vkft_recorder_create(r->ctx);
    if (!r->rec || !r->frec || vkft_rec_begin(r->rec) || vkft_model_record_step(r->m, r->rec, 1, 1.0f / A) ||
        vkft_rec_end(r->rec) || vkft_rec_begin(r->frec) || vkft_optimizer_record_zero_grads(r->opt, r->frec) ||
        vkft_rec_end(r->frec) || vkft_rec_submit(r->frec) || vkft_rec_begin(r->frec) ||
        vkft_model_record_step(r->m, r->frec, 1, 1.0f / A) ||
        vkft_optimizer_record_step(r->opt, r->frec, (float)c->grad_clip) || vkft_rec_end(r->frec)) {
        snprintf(err, errlen, "%s", vkft_last_error(r->ctx));
        return -1;
    }
    size_t *perm = malloc(r->train.n * sizeof *perm), *idx = malloc(B * sizeof *idx);
    int32_t *ids = malloc((size_t)B * T * 4), *targets = malloc((size_t)B * T * 4);
    uint32_t *lengths = malloc(B * 4);
    uint64_t perm_epoch = UINT64_MAX;
    vkft_progress bar;
    vkft_progress_init(&bar, "train", r->total_steps, "steps", 1);
    double t_start = cli_now_s(), last_loss = NAN;
    uint32_t last_saved = step0;
    rc = 0;
    for (uint32_t step = step0 + 1; step <= r->total_steps && !rc; step++) {
        double t0 = cli_now_s(), loss_sum = 0, count_sum = 0, lr = 0;
        uint64_t step_tokens = 0;
        for (uint32_t a = 0; a < A && !rc; a++) {
            /* Sample k of the run is window perm_epoch[k % n]: the order is a function of the step alone,
             * so a resumed run sees the same batches. */
            uint64_t first = ((uint64_t)(step - 1) * A + a) * B;
            for (uint32_t b = 0; b < B; b++) {
                uint64_t k = first + b, epoch = k / r->train.n;
                if (epoch != perm_epoch) {
                    epoch_order(perm, r->train.n, c->shuffle, (uint64_t)c->seed, epoch);
                    perm_epoch = epoch;
                }
                idx[b] = perm[k % r->train.n];
            }
            uint64_t tokens;
            fill_batch(&r->train, idx, B, B, T, ids, targets, lengths, &tokens);
            float loss, count;
            int last = a + 1 == A;
            if (last) {
                lr = lr_at(c, step, r->total_steps);
                vkft_adamw_hparams hp = {(float)lr, (float)c->beta1, (float)c->beta2, (float)c->eps,
                                         (float)c->weight_decay};
                rc = vkft_optimizer_set_step(r->opt, &hp, step);
            }
            /* LoRA dropout's masks: a function of the global step (so a resumed run draws the same ones)
             * and of the micro-batch (each of an accumulation draws its own) */
            rc = rc || vkft_model_set_dropout_step(r->m, step, a) ||
                 vkft_model_set_batch(r->m, ids, targets, lengths, NULL) ||
                 vkft_rec_submit(last ? r->frec : r->rec) || vkft_model_read_loss(r->m, &loss, &count);
            loss_sum += (double)loss * count;
            count_sum += count;
            step_tokens += tokens;
        }
        if (rc) break;
        double loss = count_sum > 0 ? loss_sum / count_sum : 0;
        if (!isfinite(loss)) {
            snprintf(err, errlen, "step %u: the loss is %s; stopping. The last good checkpoint (step %u) is in %s. "
                                  "Lower optim.lr or check the data",
                     step, isnan(loss) ? "NaN" : "infinite", last_saved, r->ckpt);
            rc = -2;
            break;
        }
        float gnorm = 0;
        if (vkft_optimizer_grad_norm(r->opt, &gnorm)) {
            snprintf(err, errlen, "%s", vkft_last_error(r->ctx));
            rc = -1;
            break;
        }
        double now = cli_now_s(), secs = now - t0;
        char extra[128] = "";
        if (c->eval_every > 0 && r->eval.n > 0 && (step % (uint32_t)c->eval_every == 0 || step == r->total_steps)) {
            if (!r->erec) r->erec = vkft_recorder_create(r->ctx);
            double el;
            if (evaluate(r->m, r->erec, &r->eval, B, T, &el)) {
                snprintf(err, errlen, "%s", vkft_last_error(r->ctx));
                rc = -1;
                break;
            }
            snprintf(extra, sizeof extra, ", \"eval_loss\": %.6f, \"eval_ppl\": %.4f", el, exp(el));
        }
        FILE *f = fopen(r->metrics, "a");
        if (f) {
            fprintf(f,
                    "{\"step\": %u, \"loss\": %.6f, \"lr\": %.6g, \"grad_norm\": %.6f, \"tokens\": %llu, "
                    "\"tokens_per_s\": %.1f, \"elapsed_s\": %.3f%s}\n",
                    step, loss, lr, gnorm, (unsigned long long)step_tokens, step_tokens / secs, now - t_start, extra);
            fclose(f);
        }
        last_loss = loss;
        char text[96];
        snprintf(text, sizeof text, "loss %.4f  lr %.2e  %.0f tok/s", loss, lr, step_tokens / secs);
        vkft_progress_update(&bar, step - step0, text);
        int save = (c->save_every > 0 && step % (uint32_t)c->save_every == 0) || step == r->total_steps || interrupted;
        if (save) {
            if (save_checkpoint(r, step, err, errlen)) {
                rc = -1;
                break;
            }
            last_saved = step;
        }
        if (interrupted) {
            snprintf(err, errlen, "interrupted at step %u; the checkpoint is saved: continue with --resume", step);
            rc = -3;
        }
    }
    vkft_progress_finish(&bar, r->total_steps - step0, NULL);
    free(perm), free(idx), free(ids), free(targets), free(lengths);
    if (rc == -1 && !err[0]) snprintf(err, errlen, "%s", vkft_last_error(r->ctx));
    if (rc) return rc;
    char png[1300];
    snprintf(png, sizeof png, "%s/loss.png", r->out);
    write_plot(r->metrics, png);
    if (export_result(r, err, errlen)) return -1;
    fprintf(stderr, "done: %u steps in %.1f s, final loss %.4f; %s/%s, metrics.jsonl, loss.png\n", r->total_steps,
            cli_now_s() - t_start, last_loss, r->out, !strcmp(c->method, "lora") ? "adapter" : "model");
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *config = NULL, *device = NULL, *sets[64];
    int n_sets = 0, resume = 0, overwrite = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (!strcmp(argv[i], "--resume")) {
            resume = 1;
        } else if (!strcmp(argv[i], "--overwrite")) {
            overwrite = 1;
        } else if ((v = cli_value(argc, argv, &i, "--set", &bad))) {
            if (n_sets == 64) {
                fprintf(stderr, "vkft train: at most 64 --set options\n");
                return 2;
            }
            sets[n_sets++] = v;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else if (argv[i][0] != '-' && !config) {
            config = argv[i];
        } else {
            if (!bad) fprintf(stderr, "vkft train: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (bad) return 2;
    if (!config) {
        fprintf(stderr, "vkft train: give a CONFIG.json (see --help and docs/config.md)\n");
        return 2;
    }
    run r;
    memset(&r, 0, sizeof r);
    char err[2048] = "";
    if (vkft_train_config_load(config, sets, n_sets, &r.cfg, err, sizeof err)) {
        fprintf(stderr, "vkft train: %s\n", err);
        return 2;
    }
    snprintf(r.out, sizeof r.out, "%s", r.cfg.output_dir);
    snprintf(r.ckpt, sizeof r.ckpt, "%s/checkpoint", r.out);
    snprintf(r.metrics, sizeof r.metrics, "%s/metrics.jsonl", r.out);
    char state[1300];
    snprintf(state, sizeof state, "%s/state.json", r.ckpt);
    if (resume && !vkft_file_exists(state)) {
        fprintf(stderr, "vkft train: --resume: %s has no checkpoint (%s)\n", r.out, state);
        return 2;
    }
    if (!resume && dir_has_files(r.out) && !overwrite) {
        fprintf(stderr, "vkft train: %s already holds a run; --resume continues it, --overwrite replaces it\n", r.out);
        return 2;
    }
    if (vkft_mkdirs(r.out, err, sizeof err)) {
        fprintf(stderr, "vkft train: %s\n", err);
        return 1;
    }
    char *json = vkft_train_config_json(&r.cfg), path[1300];
    snprintf(path, sizeof path, "%s/run_config.json", r.out);
    int rc = vkft_write_file_atomic(path, json, strlen(json), err, sizeof err);
    free(json);
    if (rc) {
        fprintf(stderr, "vkft train: %s\n", err);
        return 1;
    }
    r.ctx = cli_open_device(device);
    if (!r.ctx) return 1;
    if (vkft_model_load(r.ctx, r.cfg.model, &r.m, err, sizeof err)) {
        fprintf(stderr, "vkft train: %s\n", err);
        cli_close_device(r.ctx);
        return 1;
    }
    if (vkft_model_cfg(r.m)->arch == VKFT_ARCH_BERT) {
        fprintf(stderr, "vkft train: %s is a masked-LM (bert); this version trains causal language models\n",
                r.cfg.model);
        vkft_model_free(r.m);
        cli_close_device(r.ctx);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rc = train(&r, resume, err, sizeof err);
    if (rc) fprintf(stderr, "vkft train: %s\n", err);
    vkft_recorder_destroy(r.rec);
    vkft_recorder_destroy(r.frec);
    vkft_recorder_destroy(r.erec);
    vkft_optimizer_free(r.opt);
    free_windows(&r.train);
    free_windows(&r.eval);
    vkft_model_free(r.m);
    int validation = cli_close_device(r.ctx);
    return rc == -3 ? 130 : rc || validation ? 1 : 0;
}
