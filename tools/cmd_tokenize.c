/* vkft tokenize: UTF-8 lines on stdin -> one line of token ids (or token strings) per input line; with
 * --decode, lines of ids -> text. Encodes in batches on all cores; output order is the input order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/tokenizer.h"
#include "tools/cli.h"
#include "tools/commands.h"

#define BATCH_LINES 8192

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: vkft tokenize --tokenizer FILE [--special] [--tokens] [--decode [--skip-special]] [--threads "
        "N]\n"
        "\n"
        "Reads UTF-8 lines from stdin and prints one line per input line:\n"
        "  (default)       space-separated token ids, without special tokens\n"
        "  --special       apply the post-processor (BOS/EOS, [CLS]/[SEP], ...)\n"
        "  --tokens        the token strings instead of ids, space-separated\n"
        "  --decode        input lines are space-separated ids; prints the decoded text\n"
        "  --skip-special  with --decode: drop special tokens (BOS, EOS, ...)\n"
        "  --threads N     encoding threads (default: all cores)\n"
        "  --bench R       read all of stdin, encode it R times without printing ids, and print the best\n"
        "                  speed in MB/s (threads as --threads; 1 gives a single-thread figure, timed in\n"
        "                  CPU time so that other work on the machine does not count)\n"
        "\n"
        "FILE is a Hugging Face tokenizer.json (tokenizer_config.json beside it names BOS/EOS/PAD), GPT-2's\n"
        "encoder.json + vocab.bpe (or vocab.json + merges.txt), BERT's vocab.txt, or a model folder holding\n"
        "one of them. Invalid UTF-8 becomes U+FFFD, as Hugging Face does.\n");
}

typedef struct {
    char *buf;
    size_t n, cap;
} line_buf;

/* Reads up to max lines of stdin into one buffer; offsets in starts/lens. Returns the count. */
static size_t read_lines(line_buf *lb, char **starts, size_t *offs, size_t *lens, size_t max) {
    size_t cnt = 0;
    lb->n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t r;
    while (cnt < max && (r = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)r;
        if (len && line[len - 1] == '\n') len--;
        if (lb->n + len + 1 > lb->cap) {
            lb->cap = (lb->n + len + 1) * 2;
            lb->buf = realloc(lb->buf, lb->cap);
        }
        memcpy(lb->buf + lb->n, line, len);
        offs[cnt] = lb->n;
        lens[cnt] = len;
        lb->n += len + 1;
        cnt++;
    }
    free(line);
    for (size_t i = 0; i < cnt; i++) starts[i] = lb->buf + offs[i];
    return cnt;
}

static int decode_lines(vkft_tokenizer *tok, int skip_special) {
    char *line = NULL, err[512];
    size_t cap = 0;
    ssize_t r;
    long lineno = 0;
    vkft_tok_ids ids = {0};
    int rc = 0;
    while ((r = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        ids.n = 0;
        char *p = line;
        for (;;) {
            while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ',') p++;
            if (!*p) break;
            errno = 0;
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < 0 || v > 0x7FFFFFFF) {
                fprintf(stderr, "vkft tokenize: stdin line %ld: '%.20s' is not a token id\n", lineno, p);
                rc = 1;
                goto done;
            }
            if (ids.n == ids.cap) {
                ids.cap = ids.cap ? ids.cap * 2 : 256;
                ids.ids = realloc(ids.ids, ids.cap * sizeof *ids.ids);
            }
            ids.ids[ids.n++] = (int32_t)v;
            p = end;
        }
        char *text;
        size_t tn;
        if (vkft_tokenizer_decode(tok, ids.ids, ids.n, skip_special, &text, &tn, err, sizeof err)) {
            fprintf(stderr, "vkft tokenize: stdin line %ld: %s\n", lineno, err);
            rc = 1;
            goto done;
        }
        fwrite(text, 1, tn, stdout);
        fputc('\n', stdout);
        free(text);
    }
done:
    free(line);
    vkft_tok_ids_free(&ids);
    return rc;
}

static double thread_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --bench: the encoding speed over all of stdin (no output formatting), best of repeat runs. One thread is
 * timed in CPU time of the thread (robust on a shared machine), several in wall-clock time. */
static int bench(vkft_tokenizer *tok, int special, int threads, int repeat) {
    line_buf lb = {0};
    size_t cap = 1 << 16, n = 0, got;
    char **starts = malloc(cap * sizeof *starts);
    size_t *lens = malloc(cap * sizeof *lens), *offs = malloc(cap * sizeof *offs), bytes = 0;
    /* read everything in one buffer: batches of lines appended */
    line_buf all = {0};
    size_t *aoff = NULL;
    while ((got = read_lines(&lb, starts, offs, lens, cap)) > 0) {
        aoff = realloc(aoff, (n + got) * sizeof *aoff);
        for (size_t i = 0; i < got; i++) {
            if (all.n + lens[i] + 1 > all.cap) {
                all.cap = (all.n + lens[i] + 1) * 2;
                all.buf = realloc(all.buf, all.cap);
            }
            memcpy(all.buf + all.n, starts[i], lens[i]);
            all.buf[all.n + lens[i]] = '\n';
            aoff[n + i] = all.n;
            all.n += lens[i] + 1;
            bytes += lens[i] + 1;
        }
        n += got;
    }
    free(starts);
    free(lens);
    free(offs);
    free(lb.buf);
    const char **texts = malloc((n ? n : 1) * sizeof *texts);
    size_t *tl = malloc((n ? n : 1) * sizeof *tl);
    for (size_t i = 0; i < n; i++) {
        texts[i] = all.buf + aoff[i];
        tl[i] = (i + 1 < n ? aoff[i + 1] : all.n) - aoff[i] - 1;
    }
    vkft_tok_ids *outs = calloc(n ? n : 1, sizeof *outs);
    char err[1024];
    double best = 1e30;
    size_t ntok = 0;
    int rc = 0;
    /* the session (one thread) or pool (several) lives across the runs: run 0 warms the word caches, as in
     * a long run (the Node reference keeps its caches across runs too) */
    vkft_tok_session *s = threads == 1 ? vkft_tok_session_new(tok) : NULL;
    vkft_tok_pool *pool = threads == 1 ? NULL : vkft_tok_pool_new(tok, threads);
    if (!s && !pool) {
        snprintf(err, sizeof err, "out of memory");
        rc = 1;
    }
    for (int r = 0; r <= repeat && !rc; r++) {
        double t0 = threads == 1 ? thread_cpu_s() : cli_now_s();
        if (s) {
            for (size_t i = 0; i < n && !rc; i++) {
                outs[i].n = 0;
                if (vkft_tok_encode(s, texts[i], tl[i], special, &outs[i], err, sizeof err)) rc = 1;
            }
        } else if (vkft_tok_pool_encode(pool, texts, tl, n, special, outs, err, sizeof err))
            rc = 1;
        double dt = (threads == 1 ? thread_cpu_s() : cli_now_s()) - t0;
        if (r > 0 && dt < best) best = dt;
    }
    vkft_tok_session_free(s);
    vkft_tok_pool_free(pool);
    if (rc)
        fprintf(stderr, "vkft tokenize: %s\n", err);
    else {
        for (size_t i = 0; i < n; i++) ntok += outs[i].n;
        printf("MB/s %.3f tokens %zu bytes %zu seconds %.4f lines %zu (%s)\n", (double)bytes / 1e6 / best,
               ntok, bytes, best, n, threads == 1 ? "thread CPU time" : "wall-clock time");
    }
    for (size_t i = 0; i < n; i++) vkft_tok_ids_free(&outs[i]);
    free(outs);
    free(texts);
    free(tl);
    free(aoff);
    free(all.buf);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    const char *path = NULL, *v;
    int special = 0, tokens = 0, decode = 0, skip_special = 0, threads = 0, bad = 0, repeat = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if ((v = cli_value(argc, argv, &i, "--tokenizer", &bad)))
            path = v;
        else if ((v = cli_value(argc, argv, &i, "--threads", &bad)))
            threads = atoi(v);
        else if ((v = cli_value(argc, argv, &i, "--bench", &bad)))
            repeat = atoi(v) > 0 ? atoi(v) : 1;
        else if (bad)
            return 2;
        else if (!strcmp(argv[i], "--special"))
            special = 1;
        else if (!strcmp(argv[i], "--tokens"))
            tokens = 1;
        else if (!strcmp(argv[i], "--decode"))
            decode = 1;
        else if (!strcmp(argv[i], "--skip-special"))
            skip_special = 1;
        else {
            fprintf(stderr, "vkft tokenize: unknown option '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "vkft tokenize: --tokenizer FILE is required\n\n");
        usage(stderr);
        return 2;
    }
    char err[1024];
    vkft_tokenizer *tok;
    if (vkft_tokenizer_load(path, &tok, err, sizeof err)) {
        fprintf(stderr, "vkft tokenize: %s\n", err);
        return 1;
    }
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    int rc = 0;
    if (repeat) {
        rc = bench(tok, special, threads, repeat);
    } else if (decode) {
        rc = decode_lines(tok, skip_special);
    } else {
        line_buf lb = {0};
        char **starts = malloc(BATCH_LINES * sizeof *starts);
        size_t *lens = malloc(BATCH_LINES * sizeof *lens), *offs = malloc(BATCH_LINES * sizeof *offs);
        vkft_tok_ids *outs = calloc(BATCH_LINES, sizeof *outs);
        vkft_tok_pool *pool = vkft_tok_pool_new(tok, threads); /* warm sessions across batches */
        size_t n;
        if (!pool) {
            fprintf(stderr, "vkft tokenize: out of memory\n");
            rc = 1;
        }
        while (pool && (n = read_lines(&lb, starts, offs, lens, BATCH_LINES)) > 0) {
            if (vkft_tok_pool_encode(pool, (const char *const *)starts, lens, n, special, outs, err,
                                     sizeof err)) {
                fprintf(stderr, "vkft tokenize: %s\n", err);
                rc = 1;
                break;
            }
            for (size_t i = 0; i < n; i++) {
                for (size_t k = 0; k < outs[i].n; k++) {
                    if (k) fputc(' ', stdout);
                    if (tokens) {
                        size_t tl;
                        const char *s = vkft_tokenizer_id_to_token(tok, outs[i].ids[k], &tl);
                        fwrite(s, 1, tl, stdout);
                    } else
                        fprintf(stdout, "%d", (int)outs[i].ids[k]);
                }
                fputc('\n', stdout);
            }
        }
        vkft_tok_pool_free(pool);
        for (size_t i = 0; i < BATCH_LINES; i++) vkft_tok_ids_free(&outs[i]);
        free(outs);
        free(starts);
        free(lens);
        free(offs);
        free(lb.buf);
    }
    if (fflush(stdout)) {
        fprintf(stderr, "vkft tokenize: cannot write the output: %s\n", strerror(errno));
        rc = 1;
    }
    vkft_tokenizer_free(tok);
    return rc;
}
