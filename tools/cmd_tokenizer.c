/* vkft tokenizer: train a byte-level BPE or WordPiece tokenizer on a corpus, extend a tokenizer with whole
 * domain terms (and measure tokens per word before and after), or print what a tokenizer holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "data/tokenizer.h"
#include "tools/cli.h"
#include "tools/commands.h"
#include "util/fsutil.h"

static void usage(FILE *f) {
    fputs("usage: vkft tokenizer train --type bpe|wordpiece --vocab-size N --out DIR [--min-frequency N]\n"
          "                            [--special TOKEN]... CORPUS...\n"
          "       vkft tokenizer extend --tokenizer FILE --terms TERMS.txt --out DIR [--text DOMAIN.txt]\n"
          "       vkft tokenizer info --tokenizer FILE\n"
          "       vkft tokenizer save --tokenizer FILE --out DIR\n"
          "\n"
          "train   learns a vocabulary from CORPUS files (one document per line) and writes\n"
          "        DIR/tokenizer.json and DIR/tokenizer_config.json, loadable by vkft and Hugging Face.\n"
          "        bpe: byte-level (GPT-2 style, any text round-trips), default special <|endoftext|>;\n"
          "        wordpiece: BERT style (lowercase, [PAD] [UNK] [CLS] [SEP] [MASK]). Pairs seen fewer\n"
          "        than --min-frequency times (default 2) are not merged.\n"
          "extend  adds each line of TERMS.txt as a whole token (the model's embeddings must be resized to\n"
          "        the new vocabulary size) and reports tokens per word before and after, on DOMAIN.txt\n"
          "        when given (else on the terms themselves). Writes DIR/tokenizer.json (and copies\n"
          "        tokenizer_config.json).\n"
          "info    vocabulary size and special tokens.\n"
          "save    writes FILE as DIR/tokenizer.json (e.g. GPT-2's encoder.json + vocab.bpe, or BERT's\n"
          "        vocab.txt, in Hugging Face's format), with tokenizer_config.json copied when there is "
          "one.\n",
          f);
}

typedef struct {
    long words, tokens;
} tpw;

/* Tokens per whitespace-separated word over the lines of text. */
static int measure(vkft_tokenizer *tok, const char *text, size_t n, tpw *r, char *err, size_t errlen) {
    vkft_tok_ids ids = {0};
    r->words = r->tokens = 0;
    for (const char *line = text, *end = text + n; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        ids.n = 0;
        if (vkft_tokenizer_encode(tok, line, (size_t)(nl - line), 0, &ids, err, errlen)) {
            vkft_tok_ids_free(&ids);
            return -1;
        }
        r->tokens += (long)ids.n;
        int in = 0;
        for (const char *p = line; p < nl; p++) {
            int sp = *p == ' ' || *p == '\t' || *p == '\r';
            if (!sp && !in) r->words++;
            in = !sp;
        }
        line = nl + 1;
    }
    vkft_tok_ids_free(&ids);
    return 0;
}

static int write_config(const char *dir, const vkft_tokenizer *tok, int wordpiece, char *err, size_t errlen) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "tokenizer_class", wordpiece ? "BertTokenizer" : "PreTrainedTokenizerFast");
    vkft_tok_specials sp = vkft_tokenizer_specials(tok);
    const char *keys[4] = {"bos_token", "eos_token", "pad_token", "unk_token"};
    int32_t ids[4] = {sp.bos, sp.eos, sp.pad, sp.unk};
    if (wordpiece) {
        ids[0] = vkft_tokenizer_token_to_id(tok, "[CLS]", 5);
        ids[1] = vkft_tokenizer_token_to_id(tok, "[SEP]", 5);
        int32_t mask = vkft_tokenizer_token_to_id(tok, "[MASK]", 6);
        if (ids[0] >= 0) cJSON_AddStringToObject(c, "cls_token", "[CLS]");
        if (ids[1] >= 0) cJSON_AddStringToObject(c, "sep_token", "[SEP]");
        if (mask >= 0) cJSON_AddStringToObject(c, "mask_token", "[MASK]");
        cJSON_AddBoolToObject(c, "do_lower_case", 1);
    }
    for (int i = 0; i < 4; i++) {
        if (wordpiece && i < 2) continue;
        size_t n;
        const char *s = ids[i] >= 0 ? vkft_tokenizer_id_to_token(tok, ids[i], &n) : NULL;
        if (s) {
            char *z = malloc(n + 1);
            memcpy(z, s, n);
            z[n] = 0;
            cJSON_AddStringToObject(c, keys[i], z);
            free(z);
        }
    }
    cJSON_AddBoolToObject(c, "clean_up_tokenization_spaces", 0);
    char *text = cJSON_Print(c);
    cJSON_Delete(c);
    char path[4200];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    int rc = vkft_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

/* Copies the tokenizer_config.json beside src (if any) into dir. */
static int copy_config(const char *src, const char *dir, char *err, size_t errlen) {
    char cfg[4200], *cj;
    size_t cn;
    snprintf(cfg, sizeof cfg, "%s", src);
    char *slash = strrchr(cfg, '/');
    snprintf(slash ? slash + 1 : cfg, sizeof cfg - (size_t)(slash ? slash + 1 - cfg : 0),
             "tokenizer_config.json");
    if (!vkft_file_exists(cfg)) return 0;
    if (vkft_read_file(cfg, &cj, &cn, err, errlen)) return -1;
    snprintf(cfg, sizeof cfg, "%s/tokenizer_config.json", dir);
    int rc = vkft_write_file_atomic(cfg, cj, cn, err, errlen);
    free(cj);
    return rc;
}

static int tokenizer_train_main(int argc, char **argv) {
    const char *type = NULL, *outdir = NULL, *v;
    int vocab = 0, minf = 2, bad = 0;
    const char **files = calloc((size_t)argc, sizeof *files),
               **specials = calloc((size_t)argc, sizeof *specials);
    int n_files = 0, n_special = 0, rc = 1;
    for (int i = 1; i < argc; i++) {
        if ((v = cli_value(argc, argv, &i, "--type", &bad)))
            type = v;
        else if ((v = cli_value(argc, argv, &i, "--vocab-size", &bad)))
            vocab = atoi(v);
        else if ((v = cli_value(argc, argv, &i, "--out", &bad)))
            outdir = v;
        else if ((v = cli_value(argc, argv, &i, "--min-frequency", &bad)))
            minf = atoi(v);
        else if ((v = cli_value(argc, argv, &i, "--special", &bad)))
            specials[n_special++] = v;
        else if (bad)
            goto done;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "vkft tokenizer train: unknown option '%s'\n", argv[i]);
            goto done;
        } else
            files[n_files++] = argv[i];
    }
    if (!type || (strcmp(type, "bpe") && strcmp(type, "wordpiece"))) {
        fprintf(stderr, "vkft tokenizer train: --type bpe|wordpiece is required\n");
        goto done;
    }
    if (vocab <= 0 || !outdir || !n_files) {
        fprintf(
            stderr,
            "vkft tokenizer train: --vocab-size N, --out DIR and at least one corpus file are required\n");
        goto done;
    }
    int wp = !strcmp(type, "wordpiece");
    if (!wp && vocab < 256 + n_special + 1)
        fprintf(stderr, "vkft tokenizer train: note: a byte-level BPE vocabulary starts at 256 + specials\n");
    vkft_tok_train_opts o = {.type = wp ? VKFT_TOK_TRAIN_WORDPIECE : VKFT_TOK_TRAIN_BPE,
                             .vocab_size = vocab,
                             .min_frequency = minf,
                             .special_tokens = n_special ? specials : NULL,
                             .n_special = n_special};
    char err[1024], path[4200];
    vkft_tokenizer *tok = NULL;
    double t0 = cli_now_s();
    if (vkft_tokenizer_train(&o, files, n_files, &tok, err, sizeof err)) {
        fprintf(stderr, "vkft tokenizer train: %s\n", err);
        goto done;
    }
    double dt = cli_now_s() - t0;
    snprintf(path, sizeof path, "%s/tokenizer.json", outdir);
    if (vkft_mkdirs(outdir, err, sizeof err) || vkft_tokenizer_save(tok, path, err, sizeof err) ||
        write_config(outdir, tok, wp, err, sizeof err)) {
        fprintf(stderr, "vkft tokenizer train: %s\n", err);
        vkft_tokenizer_free(tok);
        goto done;
    }
    printf("trained a %s tokenizer: vocabulary %d (asked %d) in %.2f s -> %s\n",
           wp ? "WordPiece" : "byte-level BPE", (int)vkft_tokenizer_vocab_size(tok), vocab, dt, path);
    vkft_tokenizer_free(tok);
    rc = 0;
done:
    free(files);
    free(specials);
    return rc;
}

static int cmd_extend(int argc, char **argv) {
    const char *path = NULL, *terms = NULL, *outdir = NULL, *textp = NULL, *v;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        if ((v = cli_value(argc, argv, &i, "--tokenizer", &bad)))
            path = v;
        else if ((v = cli_value(argc, argv, &i, "--terms", &bad)))
            terms = v;
        else if ((v = cli_value(argc, argv, &i, "--out", &bad)))
            outdir = v;
        else if ((v = cli_value(argc, argv, &i, "--text", &bad)))
            textp = v;
        else if (bad)
            return 1;
        else {
            fprintf(stderr, "vkft tokenizer extend: unknown argument '%s'\n", argv[i]);
            return 1;
        }
    }
    if (!path || !terms || !outdir) {
        fprintf(stderr,
                "vkft tokenizer extend: --tokenizer FILE, --terms TERMS.txt and --out DIR are required\n");
        return 1;
    }
    char err[1024], out[4200];
    vkft_tokenizer *tok;
    if (vkft_tokenizer_load(path, &tok, err, sizeof err)) {
        fprintf(stderr, "vkft tokenizer extend: %s\n", err);
        return 1;
    }
    char *tt = NULL, *text = NULL;
    size_t tn, xn;
    int rc = 1;
    const char **list = NULL;
    size_t *lens = NULL, n = 0;
    if (vkft_read_file(terms, &tt, &tn, err, sizeof err) ||
        (textp && vkft_read_file(textp, &text, &xn, err, sizeof err))) {
        fprintf(stderr, "vkft tokenizer extend: %s\n", err);
        goto done;
    }
    /* terms: one per line, surrounding blanks trimmed, empty lines skipped */
    list = calloc(tn + 1, sizeof *list);
    lens = calloc(tn + 1, sizeof *lens);
    for (char *line = tt, *end = tt + tn; line < end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        char *a = line, *b = nl;
        while (a < b && (*a == ' ' || *a == '\t' || *a == '\r')) a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t' || b[-1] == '\r')) b--;
        if (b > a) {
            list[n] = a;
            lens[n++] = (size_t)(b - a);
        }
        line = nl + 1;
    }
    if (!text) {
        text = tt; /* measure on the terms themselves */
        xn = tn;
    }
    tpw before, after;
    int32_t v0 = vkft_tokenizer_vocab_size(tok);
    if (measure(tok, text, xn, &before, err, sizeof err)) goto fail;
    int added = vkft_tokenizer_add_tokens(tok, list, lens, n, 0, err, sizeof err);
    if (added < 0) goto fail;
    if (measure(tok, text, xn, &after, err, sizeof err)) goto fail;
    snprintf(out, sizeof out, "%s/tokenizer.json", outdir);
    if (vkft_mkdirs(outdir, err, sizeof err) || vkft_tokenizer_save(tok, out, err, sizeof err)) goto fail;
    /* the config beside the source, when there is one */
    if (copy_config(path, outdir, err, sizeof err)) goto fail;
    printf("terms: %zu given, %d added as new tokens (vocabulary %d -> %d); the model's embeddings need %d "
           "rows\n",
           n, added, (int)v0, (int)vkft_tokenizer_vocab_size(tok), (int)vkft_tokenizer_vocab_size(tok));
    printf("tokens per word on %s: before %.3f (%ld tokens / %ld words), after %.3f (%ld tokens)\n",
           textp ? textp : terms, before.words ? (double)before.tokens / (double)before.words : 0.0,
           before.tokens, before.words, after.words ? (double)after.tokens / (double)after.words : 0.0,
           after.tokens);
    printf("wrote %s\n", out);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "vkft tokenizer extend: %s\n", err);
done:
    if (text != tt) free(text);
    free(tt);
    free(list);
    free(lens);
    vkft_tokenizer_free(tok);
    return rc;
}

static int cmd_save(int argc, char **argv) {
    const char *path = NULL, *outdir = NULL, *v;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        if ((v = cli_value(argc, argv, &i, "--tokenizer", &bad)))
            path = v;
        else if ((v = cli_value(argc, argv, &i, "--out", &bad)))
            outdir = v;
        else {
            if (!bad) fprintf(stderr, "vkft tokenizer save: unknown argument '%s'\n", argv[i]);
            return 1;
        }
    }
    if (!path || !outdir) {
        fprintf(stderr, "vkft tokenizer save: --tokenizer FILE and --out DIR are required\n");
        return 1;
    }
    char err[1024], out[4200];
    vkft_tokenizer *tok;
    if (vkft_tokenizer_load(path, &tok, err, sizeof err)) {
        fprintf(stderr, "vkft tokenizer save: %s\n", err);
        return 1;
    }
    snprintf(out, sizeof out, "%s/tokenizer.json", outdir);
    int rc = vkft_mkdirs(outdir, err, sizeof err) || vkft_tokenizer_save(tok, out, err, sizeof err) ||
             copy_config(path, outdir, err, sizeof err);
    if (rc)
        fprintf(stderr, "vkft tokenizer save: %s\n", err);
    else
        printf("wrote %s (vocabulary %d)\n", out, (int)vkft_tokenizer_vocab_size(tok));
    vkft_tokenizer_free(tok);
    return rc ? 1 : 0;
}

static int cmd_info(int argc, char **argv) {
    const char *path = NULL, *v;
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        if ((v = cli_value(argc, argv, &i, "--tokenizer", &bad)))
            path = v;
        else {
            fprintf(stderr, "vkft tokenizer info: unknown argument '%s'\n", argv[i]);
            return 1;
        }
    }
    if (!path) {
        fprintf(stderr, "vkft tokenizer info: --tokenizer FILE is required\n");
        return 1;
    }
    char err[1024];
    vkft_tokenizer *tok;
    if (vkft_tokenizer_load(path, &tok, err, sizeof err)) {
        fprintf(stderr, "vkft tokenizer info: %s\n", err);
        return 1;
    }
    vkft_tok_specials sp = vkft_tokenizer_specials(tok);
    printf("vocabulary: %d\n", (int)vkft_tokenizer_vocab_size(tok));
    const char *names[4] = {"bos", "eos", "pad", "unk"};
    int32_t ids[4] = {sp.bos, sp.eos, sp.pad, sp.unk};
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        const char *s = ids[i] >= 0 ? vkft_tokenizer_id_to_token(tok, ids[i], &n) : NULL;
        printf("%s: %d %.*s\n", names[i], (int)ids[i], (int)n, s ? s : "");
    }
    printf("chat template: %s\n", sp.chat_template ? "yes" : "no");
    vkft_tokenizer_free(tok);
    return 0;
}

int cmd_tokenizer(int argc, char **argv) {
    if (argc < 2 || cli_wants_help(argc, argv)) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "train")) return tokenizer_train_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "extend")) return cmd_extend(argc - 1, argv + 1);
    if (!strcmp(argv[1], "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(argv[1], "save")) return cmd_save(argc - 1, argv + 1);
    fprintf(stderr, "vkft tokenizer: unknown subcommand '%s' (train, extend, info, save)\n\n", argv[1]);
    usage(stderr);
    return 2;
}
