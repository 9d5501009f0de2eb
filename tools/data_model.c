#include "tools/data_model.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "data/tokenizer.h"
#include "model/generate.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "tools/cli.h"
#include "tools/progress.h"
#include "util/fsutil.h"

const char data_model_paraphrase_template[] =
    "Paraphrase the following text, keeping its meaning.\nText: {text}\nParaphrase:";
const char data_model_translate_template[] = "Translate the following text into {lang}.\nText: {text}\n{lang}:";

enum { MAX_EOS = 8 };

/* A growable string (data/'s vkft_buf cannot be used here: runtime.h has a vkft_buf of its own). */
typedef struct {
    char *p;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->n + n + 1) c *= 2;
        char *p = realloc(b->p, c);
        if (!p) return; /* out of memory: the text stays short; checked by the caller through p */
        b->p = p;
        b->cap = c;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void sb_adds(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

struct data_model {
    data_model_opts o;
    int use;
    vkft_ctx *ctx;
    vkft_model *m;
    vkft_tokenizer *tok;
    vkft_recorder *rec;
    const vkft_model_config *cfg;
    uint32_t max_len;     /* tokens per input */
    uint32_t planned_B, planned_T;
    int32_t mask_id;
    char mask_token[64];
    uint8_t *whole_word;  /* mlm: vocabulary entries that are whole words */
    vkft_decoder *dec;
    int32_t eos[MAX_EOS];
    uint32_t n_eos;
    data_model_stats st;
};

void data_model_opts_defaults(data_model_opts *o) {
    memset(o, 0, sizeof *o);
    o->batch = 8;
    o->max_new_tokens = 48;
    o->temperature = 0.8f;
    o->top_p = 0.95f;
    o->pivot = "French";
    o->source_lang = "English";
}

uint32_t data_model_hidden(const data_model *dm) { return dm->cfg->hidden_size; }
const char *data_model_name(const data_model *dm) { return dm->o.dir; }
data_model_stats data_model_get_stats(const data_model *dm) { return dm->st; }

/* 1 when a BERT checkpoint in dir holds the masked-LM head (vkft's BERT needs it, and mlm uses it). */
static int has_mlm_head(const char *dir) {
    vkft_safetensors st;
    char err[512];
    if (vkft_st_open_dir(dir, &st, err, sizeof err)) return 1; /* let the loader report it */
    int found = vkft_st_find(&st, "cls.predictions.bias") != NULL;
    vkft_st_close(&st);
    return found;
}

/* A WordPiece entry that is a whole word: not special, not a "##" continuation, at least two bytes, only
 * letters (ASCII letters or any non-ASCII byte). */
static int is_whole_word(const vkft_tokenizer *tok, int32_t id) {
    size_t n;
    const char *t = vkft_tokenizer_id_to_token(tok, id, &n);
    if (!t || n < 2 || vkft_tokenizer_is_special(tok, id) || (t[0] == '#' && t[1] == '#')) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)t[i]) && !((unsigned char)t[i] & 0x80)) return 0;
    return 1;
}

int data_model_open(data_model **out, const data_model_opts *o, int use) {
    char path[4200], err[2048];
    snprintf(path, sizeof path, "%s/config.json", o->dir);
    if (!vkft_file_exists(path)) {
        fprintf(stderr, "vkft data: --model %s: %s not found; give a Hugging Face model folder (config.json, "
                        "model.safetensors, tokenizer.json)\n", o->dir, path);
        return 1;
    }
    vkft_model_config cfg;
    if (vkft_config_load(o->dir, &cfg, err, sizeof err)) {
        fprintf(stderr, "vkft data: --model %s: %s\n", o->dir, err);
        return 1;
    }
    if (use == DM_FOR_MLM && cfg.arch != VKFT_ARCH_BERT) {
        fprintf(stderr, "vkft data augment: mlm needs a masked language model (a BERT checkpoint with its "
                        "masked-LM head); %s is %s. Use paraphrase for causal models\n", o->dir,
                vkft_arch_name(cfg.arch));
        return 1;
    }
    if (use == DM_FOR_GENERATE && cfg.arch == VKFT_ARCH_BERT) {
        fprintf(stderr, "vkft data augment: paraphrase and backtranslate need a causal language model (gpt2, "
                        "llama, mistral, qwen2); %s is bert. Use mlm for masked language models\n", o->dir);
        return 1;
    }
    if (cfg.arch == VKFT_ARCH_BERT && !has_mlm_head(o->dir)) {
        fprintf(stderr, "vkft data: %s has no masked-LM head (cls.predictions.*): vkft reads BERT checkpoints "
                        "saved as BertForMaskedLM (e.g. bert-base-uncased), not a bare BertModel\n", o->dir);
        return 1;
    }
    data_model *dm = calloc(1, sizeof *dm);
    if (!dm) return 1;
    dm->o = *o;
    dm->use = use;
    if (vkft_tokenizer_load(o->dir, &dm->tok, err, sizeof err)) {
        fprintf(stderr, "vkft data: --model %s needs its tokenizer (tokenizer.json or vocab.txt in the folder): "
                        "%s\n", o->dir, err);
        free(dm);
        return 1;
    }
    if (use == DM_FOR_MLM) {
        static const char *const names[] = {"[MASK]", "<mask>"};
        dm->mask_id = -1;
        for (int i = 0; i < 2 && dm->mask_id < 0; i++) {
            dm->mask_id = vkft_tokenizer_token_to_id(dm->tok, names[i], strlen(names[i]));
            snprintf(dm->mask_token, sizeof dm->mask_token, "%s", names[i]);
        }
        if (dm->mask_id < 0) {
            fprintf(stderr, "vkft data augment: the tokenizer of %s has no mask token ([MASK] or <mask>)\n",
                    o->dir);
            data_model_close(dm);
            return 1;
        }
    }
    if (!(dm->ctx = cli_open_device(o->device))) {
        data_model_close(dm);
        return 1;
    }
    if (vkft_model_load(dm->ctx, o->dir, &dm->m, err, sizeof err)) {
        fprintf(stderr, "vkft data: %s\n", err);
        data_model_close(dm);
        return 1;
    }
    dm->cfg = vkft_model_cfg(dm->m);
    dm->max_len = dm->cfg->max_positions ? dm->cfg->max_positions : 512;
    if (o->max_tokens && o->max_tokens < dm->max_len) dm->max_len = o->max_tokens;
    if (!dm->o.batch) dm->o.batch = 8;
    dm->rec = vkft_recorder_create(dm->ctx);
    if (use == DM_FOR_MLM) {
        uint32_t V = dm->cfg->vocab_size;
        dm->whole_word = calloc(V, 1);
        for (uint32_t v = 0; v < V; v++) dm->whole_word[v] = (uint8_t)is_whole_word(dm->tok, (int32_t)v);
    }
    if (use == DM_FOR_GENERATE) dm->n_eos = cli_eos_ids(o->dir, dm->tok, dm->eos, MAX_EOS);
    *out = dm;
    return 0;
}

int data_model_close(data_model *dm) {
    if (!dm) return 0;
    vkft_decoder_free(dm->dec);
    vkft_recorder_destroy(dm->rec);
    vkft_model_free(dm->m);
    int bad = dm->ctx ? cli_close_device(dm->ctx) : 0;
    vkft_tokenizer_free(dm->tok);
    free(dm->whole_word);
    free(dm);
    return bad;
}

/* ---- batched forward passes ------------------------------------------------------------------------ */

typedef struct {
    int32_t *ids;
    uint32_t n;
    long index; /* the text's position in the caller's list */
} seq;

static int by_len_desc(const void *a, const void *b) {
    uint32_t x = ((const seq *)a)->n, y = ((const seq *)b)->n;
    return x < y ? 1 : x > y ? -1 : (((const seq *)a)->index > ((const seq *)b)->index) - (((const seq *)a)->index < ((const seq *)b)->index);
}

/* Tokenizes text (special tokens added) and cuts it to max_len, keeping a final special token ([SEP]). */
static int encode(data_model *dm, const char *text, seq *s, char *err, size_t errlen) {
    vkft_tok_ids ids = {0};
    if (vkft_tokenizer_encode(dm->tok, text, strlen(text), 1, &ids, err, errlen)) {
        vkft_tok_ids_free(&ids);
        return -1;
    }
    if (ids.n == 0) { /* an empty text still needs one position */
        int32_t pad = vkft_tokenizer_specials(dm->tok).pad;
        ids.ids = malloc(sizeof(int32_t));
        ids.ids[0] = pad >= 0 ? pad : 0;
        ids.n = 1;
    }
    if (ids.n > dm->max_len) {
        int32_t last = ids.ids[ids.n - 1];
        if (vkft_tokenizer_is_special(dm->tok, last)) ids.ids[dm->max_len - 1] = last;
        ids.n = dm->max_len;
    }
    s->ids = ids.ids;
    s->n = (uint32_t)ids.n;
    return 0;
}

/* Runs the forward pass of batch seqs[0..B) (sorted longest first); leaves the outputs on the device. */
static int forward(data_model *dm, const seq *seqs, uint32_t B, int32_t *ids, int32_t *tgt, uint32_t *lens,
                   char *err, size_t errlen) {
    uint32_t T = (seqs[0].n + 31) / 32 * 32; /* rounded up so that plans and recordings are reused */
    if (T > dm->max_len) T = dm->max_len;
    if (B != dm->planned_B || T != dm->planned_T) {
        vkft_memory_plan plan;
        if (vkft_model_plan(dm->m, B, T, 0, &plan) || vkft_rec_begin(dm->rec) ||
            vkft_model_record_step(dm->m, dm->rec, 0, 1.0f) || vkft_rec_end(dm->rec)) {
            snprintf(err, errlen, "forward pass (%u x %u): %s", B, T, vkft_last_error(dm->ctx));
            dm->planned_B = 0;
            return -1;
        }
        dm->planned_B = B;
        dm->planned_T = T;
    }
    memset(ids, 0, sizeof(int32_t) * B * T);
    for (uint32_t i = 0; i < B * T; i++) tgt[i] = -100;
    for (uint32_t b = 0; b < B; b++) {
        memcpy(ids + (size_t)b * T, seqs[b].ids, sizeof(int32_t) * seqs[b].n);
        lens[b] = seqs[b].n;
        dm->st.tokens += seqs[b].n;
    }
    if (vkft_model_set_batch(dm->m, ids, tgt, lens, NULL) || vkft_rec_submit(dm->rec)) {
        snprintf(err, errlen, "forward pass: %s", vkft_last_error(dm->ctx));
        return -1;
    }
    return 0;
}

typedef int (*batch_fn)(data_model *dm, const seq *seqs, uint32_t B, uint32_t T, void *user, char *err,
                        size_t errlen);

/* Encodes texts, sorts them by length and runs forward passes of up to batch texts, calling fn after each. */
static int run_batches(data_model *dm, const char *const *texts, long n, const char *label, batch_fn fn,
                       void *user, char *err, size_t errlen) {
    double t0 = cli_now_s();
    seq *seqs = calloc((size_t)(n ? n : 1), sizeof *seqs);
    uint32_t Bmax = dm->o.batch, Tmax = dm->max_len;
    int32_t *ids = malloc(sizeof(int32_t) * Bmax * Tmax), *tgt = malloc(sizeof(int32_t) * Bmax * Tmax);
    uint32_t *lens = malloc(sizeof(uint32_t) * Bmax);
    int rc = -1;
    if (!seqs || !ids || !tgt || !lens) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (long i = 0; i < n; i++) {
        seqs[i].index = i;
        if (encode(dm, texts[i], &seqs[i], err, errlen)) goto done;
    }
    qsort(seqs, (size_t)n, sizeof *seqs, by_len_desc);
    vkft_progress bar;
    vkft_progress_init(&bar, label, (uint64_t)n, "texts", 1);
    if (dm->o.quiet) bar.enabled = 0;
    for (long s0 = 0; s0 < n; s0 += Bmax) {
        uint32_t B = (uint32_t)(n - s0 < Bmax ? n - s0 : Bmax);
        if (forward(dm, seqs + s0, B, ids, tgt, lens, err, errlen) ||
            fn(dm, seqs + s0, B, dm->planned_T, user, err, errlen))
            goto done;
        dm->st.texts += B;
        vkft_progress_update(&bar, (uint64_t)(s0 + B), NULL);
    }
    if (bar.drawn) vkft_progress_finish(&bar, (uint64_t)n, NULL);
    rc = 0;
done:
    for (long i = 0; i < n && seqs; i++) free(seqs[i].ids);
    free(seqs), free(ids), free(tgt), free(lens);
    dm->st.seconds += cli_now_s() - t0;
    return rc;
}

/* ---- embeddings ------------------------------------------------------------------------------------ */

typedef struct {
    int pooling;
    float *out, *hidden;
} embed_ctx;

static int embed_batch(data_model *dm, const seq *seqs, uint32_t B, uint32_t T, void *user, char *err,
                       size_t errlen) {
    embed_ctx *e = user;
    uint32_t H = dm->cfg->hidden_size;
    if (vkft_model_read_hidden(dm->m, e->hidden)) {
        snprintf(err, errlen, "reading the hidden states: %s", vkft_last_error(dm->ctx));
        return -1;
    }
    for (uint32_t b = 0; b < B; b++) {
        float *o = e->out + (size_t)seqs[b].index * H;
        const float *h = e->hidden + (size_t)b * T * H;
        uint32_t n = e->pooling == DM_POOL_CLS ? 1 : seqs[b].n;
        for (uint32_t j = 0; j < H; j++) {
            double s = 0;
            for (uint32_t t = 0; t < n; t++) s += h[(size_t)t * H + j];
            o[j] = (float)(s / n);
        }
    }
    return 0;
}

int data_model_embed(data_model *dm, const char *const *texts, long n, int pooling, float *out, char *err,
                     size_t errlen) {
    embed_ctx e = {pooling, out, malloc(sizeof(float) * dm->o.batch * dm->max_len * dm->cfg->hidden_size)};
    if (!e.hidden) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = run_batches(dm, texts, n, "embed", embed_batch, &e, err, errlen);
    free(e.hidden);
    return rc;
}

/* ---- masked-LM candidates ------------------------------------------------------------------------- */

typedef struct {
    vkft_aug_job *jobs;
    float *logits; /* [B, T, V] of the largest batch so far (the first: batches go longest first) */
    size_t logits_cap;
    int32_t *top;
    float *top_v;
} mlm_ctx;

static int mlm_batch(data_model *dm, const seq *seqs, uint32_t B, uint32_t T, void *user, char *err,
                     size_t errlen) {
    mlm_ctx *c = user;
    uint32_t V = dm->cfg->vocab_size;
    size_t need = (size_t)B * T * V;
    if (need > c->logits_cap) {
        float *p = realloc(c->logits, need * sizeof(float));
        if (!p) {
            snprintf(err, errlen, "out of memory (logits of %u x %u x %u)", B, T, V);
            return -1;
        }
        c->logits = p;
        c->logits_cap = need;
    }
    if (vkft_model_read_logits(dm->m, c->logits)) {
        snprintf(err, errlen, "reading the logits: %s", vkft_last_error(dm->ctx));
        return -1;
    }
    int want = 32; /* candidates per mask: top_k plus room for the ones the step refuses */
    for (uint32_t b = 0; b < B; b++) {
        vkft_aug_job *j = &c->jobs[seqs[b].index];
        int masks = 0;
        for (uint32_t t = 0; t < seqs[b].n; t++) masks += seqs[b].ids[t] == dm->mask_id;
        /* A text that held the mask token itself, or lost masks to truncation, is left out. */
        if (masks != j->n_masks) continue;
        sbuf o = {0};
        for (uint32_t t = 0; t < seqs[b].n; t++) {
            if (seqs[b].ids[t] != dm->mask_id) continue;
            const float *l = c->logits + ((size_t)b * T + t) * V;
            int have = 0;
            for (uint32_t v = 0; v < V; v++) { /* the best `want` whole words, best first */
                if (!dm->whole_word[v] || (have == want && l[v] <= c->top_v[want - 1])) continue;
                int p = have < want ? have++ : want - 1;
                while (p > 0 && c->top_v[p - 1] < l[v]) {
                    c->top_v[p] = c->top_v[p - 1];
                    c->top[p] = c->top[p - 1];
                    p--;
                }
                c->top_v[p] = l[v];
                c->top[p] = (int32_t)v;
            }
            for (int k = 0; k < have; k++) {
                size_t len;
                const char *w = vkft_tokenizer_id_to_token(dm->tok, c->top[k], &len);
                sb_add(&o, w, len);
                sb_add(&o, "", 1);
            }
            sb_add(&o, "", 1);
        }
        if (!o.p) continue;
        free(j->out);
        j->out = o.p;
        j->out_len = o.n;
        j->ok = 1;
    }
    return 0;
}

static int run_mlm(data_model *dm, vkft_aug_job *jobs, long n, char *err, size_t errlen) {
    const char **texts = malloc(sizeof(char *) * (size_t)(n ? n : 1));
    mlm_ctx c = {jobs, NULL, 0, malloc(sizeof(int32_t) * 32), malloc(sizeof(float) * 32)};
    int rc = -1;
    if (!texts || !c.top || !c.top_v)
        snprintf(err, errlen, "out of memory");
    else {
        for (long i = 0; i < n; i++) texts[i] = jobs[i].text;
        /* Every position's logits are read back, so the LM head must keep them all (one chunk): fewer
         * texts per batch where batch x positions x vocabulary floats exceed one binding of the device. */
        uint64_t row = (uint64_t)dm->cfg->vocab_size * 4, range = vkft_binding_limit(dm->ctx);
        uint64_t fit = range / row / dm->max_len;
        if (fit == 0) {
            dm->max_len = (uint32_t)(range / row) / 32 * 32;
            fit = 1;
        }
        if (dm->o.batch > fit) dm->o.batch = (uint32_t)fit;
        vkft_model_set_logits_budget(dm->m, (uint64_t)dm->o.batch * dm->max_len * row);
        rc = run_batches(dm, texts, n, "augment mlm", mlm_batch, &c, err, errlen);
    }
    free(texts), free(c.logits), free(c.top), free(c.top_v);
    return rc;
}

/* ---- generation through templates -------------------------------------------------------------------- */

/* template with {text} and {lang} replaced. */
static void render(const char *tmpl, const char *text, const char *lang, sbuf *out) {
    out->n = 0;
    sb_add(out, "", 0);
    for (const char *p = tmpl; *p;) {
        if (!strncmp(p, "{text}", 6)) {
            sb_adds(out, text);
            p += 6;
        } else if (!strncmp(p, "{lang}", 6)) {
            sb_adds(out, lang);
            p += 6;
        } else
            sb_add(out, p++, 1);
    }
}

/* Generates after prompt as `vkft generate --prompt` does (special tokens added, stop at EOS, the same
 * sampler); out receives the decoded new text. Returns 1 when done, 0 when the prompt is too long, -1. */
static int gen_one(data_model *dm, const char *prompt, uint64_t seed, sbuf *out, char *err, size_t errlen) {
    uint32_t max_new = dm->o.max_new_tokens;
    vkft_tok_ids ti = {0};
    if (vkft_tokenizer_encode(dm->tok, prompt, strlen(prompt), 1, &ti, err, errlen)) {
        vkft_tok_ids_free(&ti);
        return -1;
    }
    if (!dm->dec) {
        uint32_t cap = dm->cfg->max_positions ? dm->cfg->max_positions : 2048;
        if (cap > 2048) cap = 2048;
        if (vkft_decoder_create(dm->m, 1, cap, &dm->dec)) {
            snprintf(err, errlen, "%s", vkft_last_error(dm->ctx));
            vkft_tok_ids_free(&ti);
            return -1;
        }
    }
    if (!ti.n || ti.n + max_new - 1 > vkft_decoder_capacity(dm->dec)) {
        vkft_tok_ids_free(&ti);
        dm->st.skipped_too_long++;
        return 0;
    }
    int32_t *ids = malloc(sizeof(int32_t) * max_new), *keep = malloc(sizeof(int32_t) * max_new);
    vkft_generate_opts go = {.max_new_tokens = max_new, .eos_ids = dm->eos, .n_eos = dm->n_eos,
                             .sampling = vkft_sampling_default()};
    /* The same settings as vkft generate --temperature T --top-p P --top-k K --seed S (0: greedy). */
    go.sampling.greedy = dm->o.temperature <= 0;
    go.sampling.temperature = dm->o.temperature > 0 ? dm->o.temperature : 1.0f;
    go.sampling.top_p = dm->o.top_p;
    go.sampling.top_k = dm->o.top_k;
    go.sampling.seed = seed;
    vkft_generate_stats gs;
    int rc = -1;
    if (vkft_generate(dm->dec, ti.ids, (uint32_t)ti.n, &go, ids, &gs)) {
        snprintf(err, errlen, "generation: %s", vkft_last_error(dm->ctx));
    } else {
        uint32_t n = 0; /* ids without a token (padded vocabularies) are left out, as vkft generate does */
        size_t tl;
        for (uint32_t i = 0; i < gs.n_new; i++)
            if (vkft_tokenizer_id_to_token(dm->tok, ids[i], &tl)) keep[n++] = ids[i];
        char *text = NULL;
        size_t len = 0;
        if (!vkft_tokenizer_decode(dm->tok, keep, n, 1, &text, &len, err, errlen)) {
            out->n = 0;
            sb_add(out, text, len);
            free(text);
            dm->st.tokens += (long)ti.n;
            dm->st.generated += gs.n_new;
            rc = 1;
        }
    }
    free(ids), free(keep);
    vkft_tok_ids_free(&ti);
    return rc;
}

/* The first line of generated text, trimmed (the same cut the augment step applies). */
static void first_line(sbuf *b) {
    if (!b->p) return;
    const char *t = b->p;
    while (*t && isspace((unsigned char)*t)) t++;
    size_t n = strcspn(t, "\r\n");
    while (n && isspace((unsigned char)t[n - 1])) n--;
    memmove(b->p, t, n);
    b->n = n;
    b->p[n] = 0;
}

static int run_generate(data_model *dm, vkft_aug_job *jobs, long n, char *err, size_t errlen) {
    double t0 = cli_now_s();
    const char *para = dm->o.template_text ? dm->o.template_text : data_model_paraphrase_template;
    const char *fwd = dm->o.template_text ? dm->o.template_text : data_model_translate_template;
    const char *back = dm->o.template_back ? dm->o.template_back : data_model_translate_template;
    sbuf prompt = {0}, mid = {0}, out = {0};
    vkft_progress bar;
    vkft_progress_init(&bar, "augment generate", (uint64_t)n, "texts", 1);
    if (dm->o.quiet) bar.enabled = 0;
    int rc = 0;
    for (long i = 0; i < n && !rc; i++) {
        vkft_aug_job *j = &jobs[i];
        int g;
        if (j->method == VKFT_AUG_PARAPHRASE) {
            render(para, j->text, dm->o.source_lang, &prompt);
            g = gen_one(dm, prompt.p, j->seed, &out, err, errlen);
        } else { /* to the pivot language and back; the return leg samples with seed + 1 */
            render(fwd, j->text, dm->o.pivot, &prompt);
            g = gen_one(dm, prompt.p, j->seed, &mid, err, errlen);
            if (g == 1) {
                first_line(&mid);
                render(back, mid.p, dm->o.source_lang, &prompt);
                g = mid.n ? gen_one(dm, prompt.p, j->seed + 1, &out, err, errlen) : 0;
            }
        }
        if (g < 0) rc = -1;
        if (g == 1 && out.p) {
            free(j->out);
            j->out = strdup(out.p);
            j->out_len = out.n + 1;
            j->ok = j->out != NULL;
        }
        dm->st.texts++;
        vkft_progress_update(&bar, (uint64_t)(i + 1), NULL);
    }
    if (bar.drawn) vkft_progress_finish(&bar, (uint64_t)n, NULL);
    free(prompt.p), free(mid.p), free(out.p);
    dm->st.seconds += cli_now_s() - t0;
    return rc;
}

static int backend_run(void *user, vkft_aug_job *jobs, long n, char *err, size_t errlen) {
    data_model *dm = user;
    return dm->use == DM_FOR_MLM ? run_mlm(dm, jobs, n, err, errlen) : run_generate(dm, jobs, n, err, errlen);
}

void data_model_backend(data_model *dm, vkft_augment_backend *b) {
    memset(b, 0, sizeof *b);
    b->mask_token = dm->mask_token;
    b->run = backend_run;
    b->user = dm;
}
