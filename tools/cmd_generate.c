/* vkft generate: KV-cached text generation with a Hugging Face causal LM (GPT-2, the Llama family), greedy
 * or sampled (temperature, top-k, top-p, seed); prints the generated text (or ids), then tokens/s on
 * stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "data/tokenizer.h"
#include "model/generate.h"
#include "model/model.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "util/fsutil.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: vkft generate --model DIR (--prompt TEXT | --ids \"1 2 3\") [--max-new-tokens N]\n"
            "                     [--greedy | --temperature T [--top-k K] [--top-p P] [--seed S]]\n"
            "                     [--ignore-eos] [--no-special] [--device N]\n"
            "\n"
            "Continues a prompt with a causal language model (gpt2, llama, mistral, qwen2 checkpoints in a\n"
            "Hugging Face folder: config.json, model.safetensors), decoding with a KV cache on the device.\n"
            "  --model DIR           the model folder\n"
            "  --adapter DIR         a PEFT LoRA adapter to apply (merged into the weights on load)\n"
            "  --prompt TEXT         text, encoded with DIR/tokenizer.json (BOS added as the tokenizer's\n"
            "                        post-processor says; --no-special: not); prints the generated text\n"
            "  --ids \"1 2 3\"         the prompt as token ids (spaces or commas); prints the generated ids\n"
            "  --max-new-tokens N    tokens to generate at most (default 32)\n"
            "  --greedy              always the likeliest token (the default when no sampling option is given)\n"
            "  --temperature T       sample from softmax(logits / T) (T > 0; 0 means greedy)\n"
            "  --top-k K             sample among the K likeliest tokens only (0: all)\n"
            "  --top-p P             sample from the smallest set of likeliest tokens whose probability\n"
            "                        reaches P (nucleus sampling, 0 < P <= 1)\n"
            "  --seed S              the sampler's seed (default 0): the same seed gives the same output\n"
            "  --ignore-eos          do not stop at the end-of-sequence token\n"
            "  --device N            the Vulkan device (index or name substring; default: $VKFT_DEVICE or the best)\n"
            "Generation stops at an EOS token (eos_token_id of config.json and generation_config.json, and the\n"
            "tokenizer's EOS) or after N tokens.\n"
            "The generation speed (tokens/s, prompt excluded) is printed on stderr.\n");
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum { MAX_EOS = 8 };

/* Parses "1 2 3" / "1,2,3" into ids; returns the count or -1 (message printed). */
static long parse_ids(const char *s, int32_t **out) {
    size_t cap = 16, n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    const char *p = s;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX ||
            (*end && *end != ' ' && *end != '\t' && *end != ',' && *end != '\n')) {
            int len = 0;
            while (p[len] && p[len] != ' ' && p[len] != ',' && p[len] != '\t') len++;
            fprintf(stderr, "vkft generate: --ids: '%.*s' is not a token id (non-negative integers, separated by "
                            "spaces or commas)\n", len, p);
            free(ids);
            return -1;
        }
        if (n == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
        ids[n++] = (int32_t)v;
        p = end;
    }
    if (!n) {
        fprintf(stderr, "vkft generate: --ids holds no token ids\n");
        free(ids);
        return -1;
    }
    *out = ids;
    return (long)n;
}

/* What on_token prints: ids, or the text decoded so far minus what was already printed. */
typedef struct {
    vkft_tokenizer *tok;
    int32_t *ids, *text_ids;
    uint32_t n;
    size_t printed;
    int ok;
} printer;

static void print_text(printer *pr, int final) {
    char *text = NULL, err[256];
    size_t len = 0, tlen;
    /* A model's vocabulary may be larger than its tokenizer's (padded embeddings): ids without a token
     * are left out of the text, with a warning. */
    uint32_t n = 0;
    for (uint32_t i = 0; i < pr->n; i++) {
        if (vkft_tokenizer_id_to_token(pr->tok, pr->ids[i], &tlen)) {
            pr->text_ids[n++] = pr->ids[i];
        } else if (i + 1 == pr->n && !final) {
            fprintf(stderr, "vkft generate: warning: generated id %d has no token in tokenizer.json; left out of "
                            "the text\n", pr->ids[i]);
        }
    }
    if (vkft_tokenizer_decode(pr->tok, pr->text_ids, n, 1, &text, &len, err, sizeof err)) {
        if (pr->ok) fprintf(stderr, "vkft generate: decoding the output: %s\n", err);
        pr->ok = 0;
        return;
    }
    /* Hold back a trailing U+FFFD: it may be an incomplete UTF-8 sequence that the next token completes. */
    size_t upto = len;
    if (!final && upto >= 3 && !memcmp(text + upto - 3, "\xEF\xBF\xBD", 3)) upto -= 3;
    if (upto > pr->printed) {
        fwrite(text + pr->printed, 1, upto - pr->printed, stdout);
        fflush(stdout);
        pr->printed = upto;
    }
    free(text);
}

static int on_token(void *user, int32_t id) {
    printer *pr = user;
    pr->ids[pr->n++] = id;
    if (!pr->tok) {
        printf("%s%d", pr->n > 1 ? " " : "", id);
        fflush(stdout);
    } else {
        print_text(pr, 0);
    }
    return 0;
}

int cmd_generate(int argc, char **argv) {
    if (cli_wants_help(argc, argv)) {
        usage(stdout);
        return 0;
    }
    const char *dir = NULL, *prompt = NULL, *ids_arg = NULL, *device = NULL, *adapter = NULL, *v;
    long max_new = 32, top_k = 0;
    double temperature = -1, top_p = 1.0;
    unsigned long long seed = 0;
    int greedy = 0, ignore_eos = 0, add_special = 1, bad = 0, sampling_given = 0;
    for (int i = 1; i < argc && !bad; i++) {
        char *end = NULL;
        if ((v = cli_value(argc, argv, &i, "--model", &bad))) dir = v;
        else if ((v = cli_value(argc, argv, &i, "--adapter", &bad))) adapter = v;
        else if ((v = cli_value(argc, argv, &i, "--prompt", &bad))) prompt = v;
        else if ((v = cli_value(argc, argv, &i, "--ids", &bad))) ids_arg = v;
        else if ((v = cli_value(argc, argv, &i, "--device", &bad))) device = v;
        else if ((v = cli_value(argc, argv, &i, "--max-new-tokens", &bad))) {
            max_new = strtol(v, &end, 10);
            if (*end || end == v || max_new < 1 || max_new > 1000000) {
                fprintf(stderr, "vkft generate: --max-new-tokens must be a positive integer, not '%s'\n", v);
                bad = 1;
            }
        } else if ((v = cli_value(argc, argv, &i, "--temperature", &bad))) {
            temperature = strtod(v, &end);
            sampling_given = 1;
            if (*end || end == v || !(temperature >= 0) || temperature > 1e6) {
                fprintf(stderr, "vkft generate: --temperature must be a number >= 0, not '%s'\n", v);
                bad = 1;
            }
        } else if ((v = cli_value(argc, argv, &i, "--top-k", &bad))) {
            top_k = strtol(v, &end, 10);
            sampling_given = 1;
            if (*end || end == v || top_k < 0 || top_k > INT32_MAX) {
                fprintf(stderr, "vkft generate: --top-k must be an integer >= 0, not '%s'\n", v);
                bad = 1;
            }
        } else if ((v = cli_value(argc, argv, &i, "--top-p", &bad))) {
            top_p = strtod(v, &end);
            sampling_given = 1;
            if (*end || end == v || !(top_p > 0 && top_p <= 1)) {
                fprintf(stderr, "vkft generate: --top-p must be in (0, 1], not '%s'\n", v);
                bad = 1;
            }
        } else if ((v = cli_value(argc, argv, &i, "--seed", &bad))) {
            errno = 0;
            seed = strtoull(v, &end, 10);
            sampling_given = 1;
            if (*end || end == v || errno || v[0] == '-') {
                fprintf(stderr, "vkft generate: --seed must be a non-negative integer, not '%s'\n", v);
                bad = 1;
            }
        } else if (!bad && !strcmp(argv[i], "--greedy")) greedy = 1;
        else if (!bad && !strcmp(argv[i], "--ignore-eos")) ignore_eos = 1;
        else if (!bad && !strcmp(argv[i], "--no-special")) add_special = 0;
        else if (!bad) {
            fprintf(stderr, "vkft generate: unknown argument '%s' (see vkft generate --help)\n", argv[i]);
            bad = 1;
        }
    }
    if (bad) return 2;
    if (!dir) {
        fprintf(stderr, "vkft generate: --model DIR is required (see vkft generate --help)\n");
        return 2;
    }
    if (!prompt == !ids_arg) {
        fprintf(stderr, "vkft generate: give the prompt as --prompt TEXT or as --ids \"1 2 3\" (exactly one)\n");
        return 2;
    }
    if (greedy && sampling_given && temperature > 0) {
        fprintf(stderr, "vkft generate: --greedy contradicts --temperature/--top-k/--top-p/--seed\n");
        return 2;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (!file_exists(path)) {
        fprintf(stderr, "vkft generate: %s not found: --model needs a Hugging Face model folder (config.json, "
                        "model.safetensors)\n", path);
        return 1;
    }
    vkft_sampling smp = vkft_sampling_default();
    /* Greedy unless a sampling option asks otherwise; temperature 0 is greedy, as in transformers. */
    smp.greedy = greedy || !sampling_given || temperature == 0;
    smp.temperature = temperature > 0 ? (float)temperature : 1.0f;
    smp.top_k = (uint32_t)top_k;
    smp.top_p = (float)top_p;
    smp.seed = seed;

    int rc = 1;
    char err[1024];
    int32_t *ids = NULL, *out = NULL;
    long P = 0;
    vkft_tokenizer *tok = NULL;
    vkft_ctx *ctx = NULL;
    vkft_model *m = NULL;
    vkft_decoder *d = NULL;
    if (prompt) {
        snprintf(path, sizeof path, "%s/tokenizer.json", dir);
        if (!file_exists(path)) {
            fprintf(stderr, "vkft generate: %s not found: --prompt needs the model's tokenizer; give the prompt as "
                            "token ids with --ids \"1 2 3\" instead\n", path);
            return 1;
        }
        if (vkft_tokenizer_load(path, &tok, err, sizeof err)) {
            fprintf(stderr, "vkft generate: %s\n", err);
            return 1;
        }
        vkft_tok_ids ti = {0};
        if (vkft_tokenizer_encode(tok, prompt, strlen(prompt), add_special, &ti, err, sizeof err)) {
            fprintf(stderr, "vkft generate: encoding the prompt: %s\n", err);
            vkft_tok_ids_free(&ti);
            goto done;
        }
        if (!ti.n) {
            fprintf(stderr, "vkft generate: the prompt encodes to no tokens\n");
            vkft_tok_ids_free(&ti);
            goto done;
        }
        ids = ti.ids; /* owned from here */
        P = (long)ti.n;
    } else if ((P = parse_ids(ids_arg, &ids)) < 0) {
        return 2;
    }
    if (!(ctx = cli_open_device(device))) goto done;
    /* A LoRA adapter is folded into the weights: the same outputs, and decoding stays one matrix-vector
     * product per layer. */
    if (vkft_model_load(ctx, dir, &m, err, sizeof err) ||
        (adapter && (vkft_model_load_adapter(m, adapter, err, sizeof err) ||
                     vkft_model_merge_lora(m, err, sizeof err) < 0))) {
        fprintf(stderr, "vkft generate: %s\n", err);
        goto done;
    }
    const vkft_model_config *cfg = vkft_model_cfg(m);
    for (long i = 0; i < P; i++)
        if ((uint32_t)ids[i] >= cfg->vocab_size) {
            fprintf(stderr, "vkft generate: token id %d (prompt position %ld) is outside the model's vocabulary "
                            "(0..%u)\n", ids[i], i, cfg->vocab_size - 1);
            rc = 2;
            goto done;
        }
    if (cfg->arch == VKFT_ARCH_GPT2 && P + max_new - 1 > (long)cfg->max_positions) {
        fprintf(stderr, "vkft generate: %ld prompt tokens + %ld new tokens exceed the model's %u positions; lower "
                        "--max-new-tokens to %ld or shorten the prompt\n", P, max_new, cfg->max_positions,
                (long)cfg->max_positions + 1 - P > 0 ? (long)cfg->max_positions + 1 - P : 0);
        rc = 2;
        goto done;
    }
    if (vkft_decoder_create(m, 1, (uint32_t)(P + max_new - 1), &d)) {
        fprintf(stderr, "vkft generate: %s\n", vkft_last_error(ctx));
        goto done;
    }
    int32_t eos[MAX_EOS];
    uint32_t n_eos = cli_eos_ids(dir, tok, eos, MAX_EOS);
    out = malloc((size_t)max_new * sizeof *out);
    printer pr = {.tok = tok, .ids = malloc((size_t)max_new * sizeof(int32_t)),
                  .text_ids = malloc((size_t)max_new * sizeof(int32_t)), .ok = 1};
    vkft_generate_opts o = {.max_new_tokens = (uint32_t)max_new, .eos_ids = eos, .n_eos = ignore_eos ? 0 : n_eos,
                            .sampling = smp, .on_token = on_token, .user = &pr};
    vkft_generate_stats st;
    int grc = vkft_generate(d, ids, (uint32_t)P, &o, out, &st);
    if (tok && pr.n) print_text(&pr, 1);
    printf("\n");
    fflush(stdout);
    free(pr.ids);
    free(pr.text_ids);
    if (grc) {
        fprintf(stderr, "vkft generate: %s\n", vkft_last_error(ctx));
        goto done;
    }
    /* The first new token comes from the prompt's pass; the others each cost one decoding step. */
    double tps = st.n_new > 1 && st.decode_s > 0 ? (st.n_new - 1) / st.decode_s : 0;
    fprintf(stderr, "vkft: %u new tokens%s; prompt %ld tokens in %.3f s (%.1f tokens/s); decoding %.1f tokens/s\n",
            st.n_new, st.stopped_at_eos ? " (stopped at EOS)" : "", P, st.prefill_s,
            st.prefill_s > 0 ? P / st.prefill_s : 0, tps);
    rc = pr.ok ? 0 : 1;
done:
    free(out);
    free(ids);
    vkft_decoder_free(d);
    vkft_model_free(m);
    if (ctx && cli_close_device(ctx) && rc == 0) rc = 1;
    vkft_tokenizer_free(tok);
    return rc;
}
