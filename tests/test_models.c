/* The architectures against PyTorch: tests/reference/tiny_models.py builds tiny random GPT-2, Llama-family
 * and BERT checkpoints with Hugging Face names and computes logits, loss and every parameter's gradient;
 * vkft loads the same folder and must match (logits and loss 1e-4, gradients 1e-3, relative to each
 * tensor's largest value; fp16 weights the same, since the reference upcasts the same rounded weights).
 * Usage: test_models [CASE...] (default: every case). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "model/safetensors.h"
#include "tests/test_gpu.h"
#include "util/fsutil.h"

static const char *const all_cases[] = {"gpt2", "gpt2_noprefix", "llama", "llama_tied", "llama_linear_rope",
                                        "llama3_rope", "mistral", "qwen2", "bert", "llama_padded",
                                        "llama_f16", "llama_bf16", "sharded", "bert_legacy"};

typedef struct {
    uint32_t B, T;
    int32_t *ids, *targets, *types;
    uint32_t *lengths;
} batch;

static int32_t *int_matrix(cJSON *m, uint32_t *B, uint32_t *T) {
    *B = (uint32_t)cJSON_GetArraySize(m);
    *T = (uint32_t)cJSON_GetArraySize(cJSON_GetArrayItem(m, 0));
    int32_t *x = calloc((size_t)*B * *T, 4);
    uint32_t b = 0;
    for (cJSON *row = m->child; row; row = row->next, b++) {
        uint32_t t = 0;
        for (cJSON *v = row->child; v && t < *T; v = v->next, t++) x[b * *T + t] = (int32_t)v->valuedouble;
    }
    return x;
}

static int read_batch(const char *path, int causal, batch *bt) {
    char *text, err[256];
    size_t n;
    if (vkft_read_file(path, &text, &n, err, sizeof err)) return -1;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j) return -1;
    uint32_t B, T;
    bt->ids = int_matrix(cJSON_GetObjectItem(j, "input_ids"), &B, &T);
    int32_t *mask = int_matrix(cJSON_GetObjectItem(j, "attention_mask"), &B, &T);
    int32_t *labels = int_matrix(cJSON_GetObjectItem(j, "labels"), &B, &T);
    cJSON *tt = cJSON_GetObjectItem(j, "token_type_ids");
    bt->types = tt ? int_matrix(tt, &B, &T) : NULL;
    bt->B = B;
    bt->T = T;
    bt->targets = malloc((size_t)B * T * 4);
    bt->lengths = calloc(B, 4);
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t t = 0; t < T; t++) {
            bt->lengths[b] += mask[b * T + t] != 0;
            /* Causal LMs predict the next token: the target of position t is label t+1. */
            bt->targets[b * T + t] = causal ? (t + 1 < T ? labels[b * T + t + 1] : -100) : labels[b * T + t];
        }
    free(mask);
    free(labels);
    cJSON_Delete(j);
    return 0;
}

/* max |a - b| / max(max |b|, floor): a tensor-wise relative error. The floor keeps gradients that are
 * zero in exact math (a key bias: softmax ignores a constant per row) from dividing by rounding noise. */
static double rel_err_floor(const float *a, const float *b, size_t n, double floor) {
    double md = 0, mb = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (!(d <= md)) md = d;
        if (fabs(b[i]) > mb) mb = fabs(b[i]);
    }
    return md / (mb > floor ? mb : (floor > 0 ? floor : 1));
}

static double rel_err(const float *a, const float *b, size_t n) { return rel_err_floor(a, b, n, 0); }

/* Tables larger than one binding (lavapipe binds 128 MiB; GPT-2's embedding is 147): with bindings cut to
 * 32 KiB, a Llama's embedding and output head (211 x 64 floats) are bound in parts; the loss and every
 * gradient must still be PyTorch's. */
static void split_tables(test_state *t, const char *name, const char *dir, const batch *bt,
                         const vkft_safetensors *want, double largest) {
    vkft_ctx_options o;
    vkft_ctx_options_default(&o);
    o.binding_limit = 32 << 10;
    vkft_ctx *ctx = NULL;
    vkft_model *m = NULL;
    char err[1024];
    if (!CHECK(t, vkft_ctx_create(&o, &ctx) == 0, "%s: context: %s", name, vkft_last_error(ctx)) ||
        !CHECK(t, vkft_model_load(ctx, dir, &m, err, sizeof err) == 0, "%s: load with 32 KiB bindings: %s", name,
               err)) {
        vkft_ctx_destroy(ctx);
        return;
    }
    vkft_model_set_trainable(m, 1);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    float loss = 0;
    int ok = vkft_model_plan(m, bt->B, bt->T, 1, NULL) == 0 &&
             vkft_model_set_batch(m, bt->ids, bt->targets, bt->lengths, bt->types) == 0 && vkft_rec_begin(rec) == 0 &&
             vkft_model_zero_grads(m, rec) == 0 && vkft_model_record_step(m, rec, 1, 1.0f) == 0 &&
             vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0 && vkft_model_read_loss(m, &loss, NULL) == 0;
    if (CHECK(t, ok, "%s: step with 32 KiB bindings: %s", name, vkft_last_error(ctx))) {
        float wl = *(const float *)vkft_st_find(want, "loss")->data;
        CHECK(t, fabs(loss - wl) <= 1e-4 * fabs(wl), "%s: split tables: loss %.6f vs %.6f", name, loss, wl);
        double worst = 0;
        for (int i = 0; i < want->count; i++) {
            const vkft_st_tensor *g = &want->tensors[i];
            int p = strncmp(g->name, "grad.", 5) ? -1 : vkft_model_find_param(m, g->name + 5);
            if (p < 0) continue;
            vkft_param *pp = vkft_model_param(m, p);
            float *gv = malloc(pp->numel * 4);
            vkft_download(ctx, pp->grad, 0, gv, pp->numel * 4);
            worst = fmax(worst, rel_err_floor(gv, (const float *)g->data, pp->numel, 1e-3 * largest));
            free(gv);
        }
        CHECK(t, worst <= 1e-3, "%s: split tables: gradients rel. error %.2e", name, worst);
        printf("%-18s embedding and head in 32 KiB bindings: loss %.5f, gradients within %.1e\n", name, loss, worst);
    }
    vkft_recorder_destroy(rec);
    vkft_model_free(m);
    test_close_ctx(t, ctx);
}

static void run_case(test_state *t, const char *name, const char *tmp) {
    char out[1024], args[1200], path[1200], err[1024];
    snprintf(out, sizeof out, "%s/%s", tmp, name);
    snprintf(args, sizeof args, "%s '%s' > /dev/null", name, out);
    if (!CHECK(t, test_run_reference("tiny_models.py", args) == 0, "%s: the PyTorch reference failed", name)) return;
    vkft_ctx *ctx = test_open_ctx(t);
    if (!ctx) return;
    vkft_model *m = NULL;
    snprintf(path, sizeof path, "%s/model", out);
    if (!CHECK(t, vkft_model_load(ctx, path, &m, err, sizeof err) == 0, "%s: load: %s", name, err)) {
        test_close_ctx(t, ctx);
        return;
    }
    const vkft_model_config *cfg = vkft_model_cfg(m);
    batch bt = {0};
    snprintf(path, sizeof path, "%s/batch.json", out);
    read_batch(path, cfg->arch != VKFT_ARCH_BERT, &bt);
    vkft_safetensors want;
    snprintf(path, sizeof path, "%s/expected.safetensors", out);
    if (vkft_st_open(path, &want, err, sizeof err)) {
        CHECK(t, 0, "%s: %s", name, err);
        goto done;
    }
    vkft_model_set_trainable(m, 1);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    int ok = vkft_model_plan(m, bt.B, bt.T, 1, NULL) == 0 &&
             vkft_model_set_batch(m, bt.ids, bt.targets, bt.lengths, bt.types) == 0 && vkft_rec_begin(rec) == 0 &&
             vkft_model_record_step(m, rec, 0, 1.0f) == 0 && vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0;
    if (!CHECK(t, ok, "%s: forward: %s", name, vkft_last_error(ctx))) goto rec_done;
    size_t nlog = (size_t)bt.B * bt.T * cfg->vocab_size;
    float *logits = malloc(nlog * 4), loss, tokens;
    vkft_model_read_logits(m, logits);
    vkft_model_read_loss(m, &loss, &tokens);
    /* Padded positions are not computed by vkft (they never reach the loss): compare the valid ones. */
    const vkft_st_tensor *wl = vkft_st_find(&want, "logits"), *wloss = vkft_st_find(&want, "loss");
    double worst = 0;
    for (uint32_t b = 0; b < bt.B; b++) {
        size_t off = (size_t)b * bt.T * cfg->vocab_size, len = (size_t)bt.lengths[b] * cfg->vocab_size;
        double e = rel_err(logits + off, (const float *)wl->data + off, len);
        if (e > worst) worst = e;
    }
    double loss_err = fabs(loss - *(const float *)wloss->data) / fabs(*(const float *)wloss->data);
    CHECK(t, worst <= 1e-4, "%s: logits rel. error %.2e", name, worst);
    CHECK(t, loss_err <= 1e-4, "%s: loss %.6f vs %.6f (rel. %.2e)", name, loss, *(const float *)wloss->data,
          loss_err);
    free(logits);

    /* The last hidden state, as transformers' hidden_states[num_layers]. */
    char hname[64];
    snprintf(hname, sizeof hname, "hidden_states.%u", cfg->num_layers);
    const vkft_st_tensor *wh = vkft_st_find(&want, hname);
    size_t nh = (size_t)bt.B * bt.T * cfg->hidden_size;
    float *hidden = malloc(nh * 4);
    if (CHECK(t, wh && vkft_model_read_hidden(m, hidden) == 0, "%s: read_hidden or %s missing", name, hname)) {
        double hworst = 0;
        for (uint32_t b = 0; b < bt.B; b++) {
            size_t off = (size_t)b * bt.T * cfg->hidden_size, len = (size_t)bt.lengths[b] * cfg->hidden_size;
            hworst = fmax(hworst, rel_err(hidden + off, (const float *)wh->data + off, len));
        }
        CHECK(t, hworst <= 1e-4, "%s: last hidden state rel. error %.2e", name, hworst);
    }
    free(hidden);

    /* Forward and backward: every parameter's gradient. */
    ok = vkft_rec_begin(rec) == 0 && vkft_model_zero_grads(m, rec) == 0 && vkft_model_record_step(m, rec, 1, 1.0f) == 0 &&
         vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0;
    if (!CHECK(t, ok, "%s: backward: %s", name, vkft_last_error(ctx))) goto rec_done;
    double worst_grad = 0, largest = 0;
    const char *worst_name = "";
    int compared = 0;
    for (int i = 0; i < want.count; i++)
        if (!strncmp(want.tensors[i].name, "grad.", 5))
            for (int64_t k = 0; k < want.tensors[i].numel; k++)
                largest = fmax(largest, fabs(((const float *)want.tensors[i].data)[k]));
    for (int i = 0; i < want.count; i++) {
        const vkft_st_tensor *g = &want.tensors[i];
        if (strncmp(g->name, "grad.", 5) != 0) continue;
        int p = vkft_model_find_param(m, g->name + 5);
        if (p < 0) {
            /* Tensors vkft does not use for this loss (bert's pooler, NSP head) must have zero gradient. */
            double mx = 0;
            for (int64_t k = 0; k < g->numel; k++) mx = fmax(mx, fabs(((const float *)g->data)[k]));
            CHECK(t, mx == 0, "%s: vkft lacks %s whose gradient is not zero", name, g->name + 5);
            continue;
        }
        vkft_param *pp = vkft_model_param(m, p);
        float *gv = malloc(pp->numel * 4);
        vkft_download(ctx, pp->grad, 0, gv, pp->numel * 4);
        double e = rel_err_floor(gv, (const float *)g->data, pp->numel, 1e-3 * largest);
        if (e > worst_grad) worst_grad = e, worst_name = g->name + 5;
        CHECK(t, e <= 1e-3, "%s: gradient of %s rel. error %.2e", name, g->name + 5, e);
        compared++;
        free(gv);
    }
    CHECK(t, compared > 0, "%s: no gradients compared", name);
    printf("%-18s logits %.1e  loss %.1e (%.5f)  gradients of %d tensors: worst %.1e (%s)\n", name, worst, loss_err,
           loss, compared, worst_grad, worst_name);

    /* Activation checkpointing: less activation memory, the same gradients (the recomputed forward is the
     * same arithmetic, so they agree exactly). */
    {
        int n = vkft_model_param_count(m);
        float **before = calloc(n, sizeof *before);
        for (int i = 0; i < n; i++) {
            vkft_param *pp = vkft_model_param(m, i);
            before[i] = malloc(pp->numel * 4);
            vkft_download(ctx, pp->grad, 0, before[i], pp->numel * 4);
        }
        vkft_memory_plan plain, ckpt;
        vkft_model_plan(m, bt.B, bt.T, 1, &plain);
        vkft_model_set_checkpointing(m, 1);
        ok = vkft_model_plan(m, bt.B, bt.T, 1, &ckpt) == 0 &&
             vkft_model_set_batch(m, bt.ids, bt.targets, bt.lengths, bt.types) == 0 && vkft_rec_begin(rec) == 0 &&
             vkft_model_zero_grads(m, rec) == 0 && vkft_model_record_step(m, rec, 1, 1.0f) == 0 &&
             vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0;
        CHECK(t, ok, "%s: checkpointed step: %s", name, vkft_last_error(ctx));
        int differ = 0;
        for (int i = 0; ok && i < n; i++) {
            vkft_param *pp = vkft_model_param(m, i);
            float *g = malloc(pp->numel * 4);
            vkft_download(ctx, pp->grad, 0, g, pp->numel * 4);
            differ += memcmp(g, before[i], pp->numel * 4) != 0;
            free(g);
        }
        CHECK(t, differ == 0, "%s: %d gradients differ with activation checkpointing", name, differ);
        CHECK(t, ckpt.activations < plain.activations, "%s: checkpointing keeps %llu bytes of activations, not "
                                                        "fewer than %llu",
              name, (unsigned long long)ckpt.activations, (unsigned long long)plain.activations);
        printf("%-18s checkpointing: same gradients, activations %.0f -> %.0f KiB\n", name,
               plain.activations / 1024.0, ckpt.activations / 1024.0);

        /* The LM head a few rows at a time (a ragged last chunk included): the same loss and gradients
         * (W's gradient sums the chunks' partial products, so to rounding). */
        vkft_model_set_checkpointing(m, 0);
        vkft_model_set_logits_budget(m, (uint64_t)5 * cfg->vocab_size * 4);
        vkft_memory_plan chunked;
        float chunk_loss = 0;
        ok = vkft_model_plan(m, bt.B, bt.T, 1, &chunked) == 0 &&
             vkft_model_set_batch(m, bt.ids, bt.targets, bt.lengths, bt.types) == 0 && vkft_rec_begin(rec) == 0 &&
             vkft_model_zero_grads(m, rec) == 0 && vkft_model_record_step(m, rec, 1, 1.0f) == 0 &&
             vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0 && vkft_model_read_loss(m, &chunk_loss, NULL) == 0;
        CHECK(t, ok, "%s: chunked LM head: %s", name, vkft_last_error(ctx));
        float probe;
        CHECK(t, vkft_model_read_logits(m, &probe) != 0, "%s: chunked logits were readable", name);
        CHECK(t, fabs(chunk_loss - loss) <= 1e-6 * fabs(loss), "%s: chunked loss %.7f vs %.7f", name, chunk_loss, loss);
        double chunk_worst = 0;
        for (int i = 0; ok && i < n; i++) {
            vkft_param *pp = vkft_model_param(m, i);
            float *g = malloc(pp->numel * 4);
            vkft_download(ctx, pp->grad, 0, g, pp->numel * 4);
            chunk_worst = fmax(chunk_worst, rel_err_floor(g, before[i], pp->numel, 1e-3 * largest));
            free(g);
        }
        CHECK(t, chunk_worst <= 1e-5, "%s: gradients with a chunked LM head differ by %.2e", name, chunk_worst);
        CHECK(t, chunked.activations < plain.activations, "%s: chunked logits saved no memory", name);
        printf("%-18s LM head 5 rows at a time: gradients within %.1e, activations %.0f -> %.0f KiB\n", name,
               chunk_worst, plain.activations / 1024.0, chunked.activations / 1024.0);
        vkft_model_set_logits_budget(m, 0);
        for (int i = 0; i < n; i++) free(before[i]);
        free(before);
    }

    /* LoRA with B = 0 (as PEFT initializes it) leaves the logits exactly as they were. */
    {
        size_t nl = (size_t)bt.B * bt.T * cfg->vocab_size;
        float *base = malloc(nl * 4), *adapted = malloc(nl * 4);
        vkft_model_set_checkpointing(m, 0);
        const char *all[] = {"all-linear"};
        vkft_lora_opts lo = {4, 8.0f, 0, all, 1, 7};
        ok = vkft_model_plan(m, bt.B, bt.T, 0, NULL) == 0 &&
             vkft_model_set_batch(m, bt.ids, bt.targets, bt.lengths, bt.types) == 0 && vkft_rec_begin(rec) == 0 &&
             vkft_model_record_step(m, rec, 0, 1.0f) == 0 && vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0 &&
             vkft_model_read_logits(m, base) == 0 && vkft_model_add_lora(m, &lo, err, sizeof err) > 0 &&
             vkft_model_plan(m, bt.B, bt.T, 0, NULL) == 0 &&
             vkft_model_set_batch(m, bt.ids, bt.targets, bt.lengths, bt.types) == 0 && vkft_rec_begin(rec) == 0 &&
             vkft_model_record_step(m, rec, 0, 1.0f) == 0 && vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0 &&
             vkft_model_read_logits(m, adapted) == 0;
        CHECK(t, ok, "%s: LoRA forward: %s %s", name, err, vkft_last_error(ctx));
        CHECK(t, ok && memcmp(base, adapted, nl * 4) == 0, "%s: LoRA with B = 0 changed the logits", name);
        printf("%-18s LoRA (all linear layers, B = 0): logits unchanged\n", name);
        free(base);
        free(adapted);
    }
    if (cfg->arch == VKFT_ARCH_LLAMA) {
        snprintf(path, sizeof path, "%s/model", out);
        split_tables(t, name, path, &bt, &want, largest);
    }
rec_done:
    vkft_recorder_destroy(rec);
    vkft_st_close(&want);
done:
    free(bt.ids), free(bt.targets), free(bt.types), free(bt.lengths);
    vkft_model_free(m);
    test_close_ctx(t, ctx);
}

/* Malformed checkpoints: a missing tensor is named, an unknown model_type lists the supported ones. */
static void malformed(test_state *t, const char *tmp) {
    char out[600], args[800], path[900], err[1024];
    snprintf(out, sizeof out, "%s/broken", tmp);
    snprintf(args, sizeof args, "llama '%s' > /dev/null", out);
    if (test_run_reference("tiny_models.py", args) != 0) return;
    vkft_ctx *ctx = test_open_ctx(t);
    if (!ctx) return;
    /* Drop two tensors by rewriting the checkpoint without them. */
    vkft_safetensors st;
    snprintf(path, sizeof path, "%s/model/model.safetensors", out);
    if (vkft_st_open(path, &st, err, sizeof err) == 0) {
        vkft_st_write_tensor *w = calloc(st.count, sizeof *w);
        int n = 0;
        for (int i = 0; i < st.count; i++) {
            if (!strcmp(st.tensors[i].name, "model.norm.weight") ||
                !strcmp(st.tensors[i].name, "model.layers.1.mlp.up_proj.weight"))
                continue;
            w[n].name = st.tensors[i].name;
            w[n].dtype = st.tensors[i].dtype;
            w[n].ndim = st.tensors[i].ndim;
            for (int d = 0; d < st.tensors[i].ndim; d++) w[n].shape[d] = st.tensors[i].shape[d];
            w[n++].data = st.tensors[i].data;
        }
        char copy[1000];
        snprintf(copy, sizeof copy, "%s.new", path);
        vkft_st_write(copy, w, n, NULL, NULL, 0, err, sizeof err);
        vkft_st_close(&st);
        free(w);
        rename(copy, path);
    }
    vkft_model *m = NULL;
    snprintf(path, sizeof path, "%s/model", out);
    int rc = vkft_model_load(ctx, path, &m, err, sizeof err);
    CHECK(t, rc != 0 && strstr(err, "lacks 2 tensors") && strstr(err, "model.norm.weight") &&
                 strstr(err, "model.layers.1.mlp.up_proj.weight"),
          "missing tensors are listed: %s", err);
    printf("missing tensors: %s\n", err);
    vkft_model_free(m);
    snprintf(path, sizeof path, "%s/model/config.json", out);
    const char *t5 = "{\"model_type\": \"t5\", \"vocab_size\": 10}";
    vkft_write_file_atomic(path, t5, strlen(t5), err, sizeof err);
    snprintf(path, sizeof path, "%s/model", out);
    rc = vkft_model_load(ctx, path, &m, err, sizeof err);
    CHECK(t, rc != 0 && strstr(err, "\"t5\" is not supported") && strstr(err, "gpt2, llama"),
          "unknown model_type: %s", err);
    printf("unknown model type: %s\n", err);
    vkft_model_free(m);
    test_close_ctx(t, ctx);
}

int main(int argc, char **argv) {
    test_state t;
    test_begin(&t, "models");
    char tmp[256];
    test_tmpdir(tmp, sizeof tmp);
    if (argc > 1)
        for (int i = 1; i < argc; i++) run_case(&t, argv[i], tmp);
    else
        for (size_t i = 0; i < sizeof all_cases / sizeof all_cases[0]; i++) run_case(&t, all_cases[i], tmp);
    if (argc <= 1) malformed(&t, tmp);
    return test_finish(&t);
}
