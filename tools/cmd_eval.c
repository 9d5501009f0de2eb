/* vkft eval: mean next-token cross-entropy (natural log) and perplexity of a causal model over a dataset. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/lm_dataset.h"
#include "model/model.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "tools/progress.h"
#include "util/fsutil.h"

static void usage(void) {
    printf("usage: vkft eval --model DIR [--adapter DIR] --data FILE [--json] [--batch N] [--seq-len N]\n"
           "                 [--text-field F] [--device N|NAME]\n\n"
           "Mean next-token cross-entropy (natural log) and perplexity of a causal model (gpt2, llama,\n"
           "mistral, qwen2) over FILE: text (one sequence per line), JSONL with a text field (tokenized with\n"
           "DIR/tokenizer.json, special tokens added as the tokenizer does), or pre-tokenized JSONL\n"
           "{\"input_ids\": [...]}. The loss averages over every predicted token of every line; lines longer\n"
           "than --seq-len (default: the model's positions, at most 1024) are cut into windows.\n"
           "  --adapter DIR   apply a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors)\n"
           "  --json          print one JSON object: loss, ppl, tokens, sequences, tokens_per_s\n"
           "  --batch N       sequences per forward pass (default 4)\n");
}

typedef struct {
    const int32_t *ids;
    uint32_t len;
} window;

static int by_len_desc(const void *a, const void *b) {
    uint32_t x = ((const window *)a)->len, y = ((const window *)b)->len;
    return x < y ? 1 : x > y ? -1 : 0;
}

int cmd_eval(int argc, char **argv) {
    const char *model_dir = NULL, *data = NULL, *device = NULL, *text_field = "text", *adapter = NULL;
    int json = 0, bad = 0;
    uint32_t batch = 4, seq_len = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if ((v = cli_value(argc, argv, &i, "--model", &bad))) {
            model_dir = v;
        } else if ((v = cli_value(argc, argv, &i, "--adapter", &bad))) {
            adapter = v;
        } else if ((v = cli_value(argc, argv, &i, "--data", &bad))) {
            data = v;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else if ((v = cli_value(argc, argv, &i, "--text-field", &bad))) {
            text_field = v;
        } else if ((v = cli_value(argc, argv, &i, "--batch", &bad))) {
            batch = (uint32_t)atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--seq-len", &bad))) {
            seq_len = (uint32_t)atoi(v);
        } else {
            if (!bad) fprintf(stderr, "vkft eval: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (bad) return 2;
    if (!model_dir || !data) {
        fprintf(stderr, "vkft eval: --model DIR and --data FILE are required (see --help)\n");
        return 2;
    }
    if (batch < 1 || batch > 4096) {
        fprintf(stderr, "vkft eval: --batch must be between 1 and 4096\n");
        return 2;
    }
    char err[2048];
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    vkft_model *m = NULL;
    vkft_tokenizer *tok = NULL;
    vkft_lm_data ds = {0};
    vkft_recorder *rec = NULL;
    window *win = NULL;
    int rc = 1;
    if (vkft_model_load(ctx, model_dir, &m, err, sizeof err) ||
        (adapter && vkft_model_load_adapter(m, adapter, err, sizeof err))) {
        fprintf(stderr, "vkft eval: %s\n", err);
        goto done;
    }
    const vkft_model_config *cfg = vkft_model_cfg(m);
    if (cfg->arch == VKFT_ARCH_BERT) {
        fprintf(stderr, "vkft eval: %s is a masked-LM (bert); eval measures next-token loss of causal models\n",
                model_dir);
        goto done;
    }
    char tok_path[4200];
    snprintf(tok_path, sizeof tok_path, "%s/tokenizer.json", model_dir);
    if (vkft_file_exists(tok_path) && vkft_tokenizer_load(tok_path, &tok, err, sizeof err)) {
        fprintf(stderr, "vkft eval: %s\n", err);
        goto done;
    }
    if (vkft_lm_data_load(data, tok, text_field, 1, cfg->vocab_size, &ds, err, sizeof err)) {
        fprintf(stderr, "vkft eval: %s\n", err);
        goto done;
    }
    if (!seq_len) seq_len = cfg->max_positions < 1024 ? cfg->max_positions : 1024;
    if (cfg->arch == VKFT_ARCH_GPT2 && seq_len > cfg->max_positions) seq_len = cfg->max_positions;
    /* Windows of at most seq_len tokens; each predicts len - 1 tokens. */
    size_t nwin = 0;
    for (size_t s = 0; s < ds.n; s++) nwin += (ds.lens[s] + seq_len - 1) / seq_len;
    win = calloc(nwin ? nwin : 1, sizeof *win);
    nwin = 0;
    for (size_t s = 0; s < ds.n; s++)
        for (uint32_t off = 0; off < ds.lens[s]; off += seq_len) {
            uint32_t len = ds.lens[s] - off < seq_len ? ds.lens[s] - off : seq_len;
            if (len >= 2) win[nwin++] = (window){ds.seqs[s] + off, len};
        }
    if (nwin == 0) {
        fprintf(stderr, "vkft eval: %s has no sequence of two or more tokens to predict\n", data);
        goto done;
    }
    qsort(win, nwin, sizeof *win, by_len_desc);
    rec = vkft_recorder_create(ctx);
    int32_t *ids = malloc((size_t)batch * seq_len * 4), *targets = malloc((size_t)batch * seq_len * 4);
    uint32_t *lengths = malloc(batch * 4);
    double loss_sum = 0, tokens = 0, t0 = cli_now_s();
    uint32_t planned_T = 0;
    vkft_progress bar;
    vkft_progress_init(&bar, "eval", nwin, "seq", 1);
    int ok = 1;
    for (size_t w0 = 0; w0 < nwin && ok; w0 += batch) {
        uint32_t B = (uint32_t)(nwin - w0 < batch ? nwin - w0 : batch);
        /* Sequences are sorted longest first: the first sets T, rounded up to 32 to reuse plans. */
        uint32_t T = (win[w0].len + 31) / 32 * 32;
        if (T > seq_len) T = seq_len;
        if (T != planned_T || B != batch) {
            vkft_memory_plan plan;
            if (vkft_model_plan(m, B, T, 0, &plan)) {
                ok = 0;
                break;
            }
            if (planned_T == 0 && !json)
                fprintf(stderr, "memory plan: weights %.1f MiB, activations %.1f MiB, scratch %.1f MiB\n",
                        plan.weights / 1048576.0, plan.activations / 1048576.0, plan.scratch / 1048576.0);
            planned_T = B == batch ? T : 0;
            /* One recording serves every batch of this shape: only the batch's data changes. */
            if (vkft_rec_begin(rec) || vkft_model_record_step(m, rec, 0, 1.0f) || vkft_rec_end(rec)) {
                ok = 0;
                break;
            }
        }
        memset(ids, 0, (size_t)B * T * 4);
        for (uint32_t b = 0; b < B; b++) {
            const window *wd = &win[w0 + b];
            memcpy(ids + (size_t)b * T, wd->ids, wd->len * 4);
            for (uint32_t t = 0; t < T; t++) targets[b * T + t] = t + 1 < wd->len ? wd->ids[t + 1] : -100;
            lengths[b] = wd->len;
        }
        float loss, count;
        if (vkft_model_set_batch(m, ids, targets, lengths, NULL) || vkft_rec_submit(rec) ||
            vkft_model_read_loss(m, &loss, &count)) {
            ok = 0;
            break;
        }
        loss_sum += (double)loss * count;
        tokens += count;
        char text[64];
        snprintf(text, sizeof text, "loss %.4f", tokens > 0 ? loss_sum / tokens : 0.0);
        vkft_progress_update(&bar, w0 + B, text);
    }
    double secs = cli_now_s() - t0;
    free(ids), free(targets), free(lengths);
    if (!ok) {
        fprintf(stderr, "vkft eval: %s\n", vkft_last_error(ctx));
        goto done;
    }
    vkft_progress_finish(&bar, nwin, NULL);
    double mean = loss_sum / tokens;
    if (!isfinite(mean)) {
        fprintf(stderr, "vkft eval: the loss is not finite (%g): the weights may be corrupt\n", mean);
        goto done;
    }
    if (json)
        printf("{\"loss\": %.6f, \"ppl\": %.6f, \"tokens\": %.0f, \"sequences\": %zu, \"tokens_per_s\": %.1f}\n", mean,
               exp(mean), tokens, ds.n, tokens / secs);
    else
        printf("loss %.4f  ppl %.3f  over %.0f predicted tokens in %zu sequences (%.0f tokens/s)\n", mean, exp(mean),
               tokens, ds.n, tokens / secs);
    rc = 0;
done:
    free(win);
    vkft_recorder_destroy(rec);
    vkft_lm_data_free(&ds);
    vkft_tokenizer_free(tok);
    vkft_model_free(m);
    return cli_close_device(ctx) || rc ? 1 : 0;
}
