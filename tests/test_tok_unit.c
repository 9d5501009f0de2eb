/* Unit tests of the tokenizer pipeline against hand-derived Hugging Face semantics (no network):
 * the WordPiece fixture (tests/fixtures/tok_wordpiece, a vocabulary written for this test, expected pieces
 * checked by hand), each pre-tokenizer split behavior, normalizers, added-token flags, byte fallback,
 * error messages naming the JSON path, batch encoding, training round trips, extend and save/reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tokenizer.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

static char err[1024];

/* The token strings of text's encoding, joined with '|'. */
static const char *pieces(vkft_tokenizer *tok, const char *text, int special) {
    static char out[8192];
    vkft_tok_ids ids = {0};
    out[0] = 0;
    if (vkft_tokenizer_encode(tok, text, strlen(text), special, &ids, err, sizeof err)) {
        snprintf(out, sizeof out, "ERROR: %s", err);
        return out;
    }
    size_t o = 0;
    for (size_t i = 0; i < ids.n; i++) {
        size_t n;
        const char *s = vkft_tokenizer_id_to_token(tok, ids.ids[i], &n);
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%.*s", i ? "|" : "", (int)n, s ? s : "?");
    }
    vkft_tok_ids_free(&ids);
    return out;
}

static void expect(test_state *t, vkft_tokenizer *tok, const char *label, const char *text, int special,
                   const char *want) {
    const char *got = pieces(tok, text, special);
    CHECK(t, !strcmp(got, want), "%s: '%s'\n  want %s\n  got  %s", label, text, want, got);
}

static vkft_tokenizer *load_str(test_state *t, const char *json) {
    vkft_tokenizer *tok = NULL;
    CHECK(t, vkft_tokenizer_load_json(json, strlen(json), NULL, "inline.json", &tok, err, sizeof err) == 0,
          "load inline: %s", err);
    return tok;
}

/* A BPE whose vocabulary holds every expected piece, with ignore_merges: each pre-tokenized piece that is
 * in the vocabulary comes out as one token, so the pre-tokenizer's split is visible. */
static vkft_tokenizer *split_tok(test_state *t, const char *normalizer, const char *pre,
                                 const char *extra_vocab) {
    static char json[8192];
    char vocab[4096];
    int n = 0;
    size_t o = 0;
    const char *base[] = {"a", "b", "c", "d", "h", "i", "t", "e", "r",
                          "1", "2", "3", "4", "5", "!", "?", " ", "x"};
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        o += (size_t)snprintf(vocab + o, sizeof vocab - o, "%s\"%s\": %d", n ? ", " : "", base[i], n), n++;
    /* extra_vocab: '|' separated */
    char tmp[2048];
    snprintf(tmp, sizeof tmp, "%s", extra_vocab);
    for (char *s = strtok(tmp, "|"); s; s = strtok(NULL, "|"))
        o += (size_t)snprintf(vocab + o, sizeof vocab - o, ", \"%s\": %d", s, n++);
    snprintf(
        json, sizeof json,
        "{\"normalizer\": %s, \"pre_tokenizer\": %s, \"model\": {\"type\": \"BPE\", \"ignore_merges\": true, "
        "\"unk_token\": null, \"vocab\": {%s}, \"merges\": []}}",
        normalizer, pre, vocab);
    return load_str(t, json);
}

static void test_wordpiece_fixture(test_state *t, const char *src) {
    char path[4200];
    snprintf(path, sizeof path, "%s/tests/fixtures/tok_wordpiece/tokenizer.json", src);
    vkft_tokenizer *tok;
    if (!CHECK(t, vkft_tokenizer_load(path, &tok, err, sizeof err) == 0, "load %s: %s", path, err)) return;
    /* pieces verified by hand against the vocabulary and BERT's rules */
    expect(t, tok, "wp", "Hello, World! Unbelievable tokenization.", 0,
           "hello|,|world|!|un|##believ|##able|token|##ization|.");
    expect(t, tok, "wp special", "Hello, World!", 1, "[CLS]|hello|,|world|!|[SEP]");
    expect(t, tok, "wp domain", "thrombocytopenia", 0, "thrombo|##cyto|##penia");
    expect(t, tok, "wp accents stripped", "Café", 0, "c|##a|##f|##e");
    expect(t, tok, "wp chinese", "中文", 0, "中|文");
    expect(t, tok, "wp unknown punct", "xyz§", 0, "x|##y|##z|[UNK]");
    expect(t, tok, "wp contraction", "I don't", 0, "i|don|'|t");
    expect(t, tok, "wp digits", "1234", 0, "123|##4");
    expect(t, tok, "wp unknown char in word", "ab€cd", 0, "[UNK]");
    expect(t, tok, "wp control chars", "a\x01\tb", 0, "a|b");
    expect(t, tok, "wp added token in text", "hello [SEP] world", 0, "hello|[SEP]|world");
    char longw[300];
    memset(longw, 'a', 150);
    longw[150] = 0;
    expect(t, tok, "wp max_input_chars_per_word", longw, 0, "[UNK]");
    /* ids as in the vocabulary file */
    vkft_tok_ids ids = {0};
    vkft_tokenizer_encode(tok, "hello world", 11, 1, &ids, err, sizeof err);
    int32_t want[] = {2, 35, 36, 3};
    CHECK(t, ids.n == 4 && !memcmp(ids.ids, want, sizeof want), "wp ids of 'hello world' with specials");
    char *text;
    size_t tn;
    ids.n = 0;
    vkft_tokenizer_encode(tok, "Hello, World! Unbelievable tokenization.", 40, 1, &ids, err, sizeof err);
    CHECK(t, vkft_tokenizer_decode(tok, ids.ids, ids.n, 1, &text, &tn, err, sizeof err) == 0, "decode: %s",
          err);
    CHECK(t, !strcmp(text, "hello, world! unbelievable tokenization."), "wp decode with cleanup: '%s'", text);
    free(text);
    /* an added (non-special) token is normalized like the text: "COVID" matches "Covid" after lowercasing */
    const char *terms[] = {"COVID"};
    size_t tl[] = {5};
    CHECK(t, vkft_tokenizer_add_tokens(tok, terms, tl, 1, 0, err, sizeof err) == 1, "add COVID: %s", err);
    expect(t, tok, "normalized added token", "Covid-19 and covid", 0, "COVID|-|1|##9|and|COVID");
    vkft_tok_specials sp = vkft_tokenizer_specials(tok);
    CHECK(t, sp.pad == 0 && sp.unk == 1, "wp specials from tokenizer_config.json: pad %d unk %d", (int)sp.pad,
          (int)sp.unk);
    CHECK(t, vkft_tokenizer_is_special(tok, 2) && !vkft_tokenizer_is_special(tok, 35), "is_special");
    CHECK(t, vkft_tokenizer_token_to_id(tok, "##ization", 9) == 39, "token_to_id");
    vkft_tok_ids_free(&ids);
    vkft_tokenizer_free(tok);
}

/* BERT's classic vocab.txt (written here from the fixture's vocabulary) loads as the same tokenizer. */
static void test_vocab_txt(test_state *t, const char *src) {
    char path[4200], dir[4200], vpath[4300];
    snprintf(path, sizeof path, "%s/tests/fixtures/tok_wordpiece/tokenizer.json", src);
    vkft_tokenizer *ref = NULL, *tok = NULL;
    if (vkft_tokenizer_load(path, &ref, err, sizeof err)) return;
    const char *cache = getenv("XDG_CACHE_HOME");
    snprintf(dir, sizeof dir, "%s/tok-unit/bert-vocab", cache ? cache : "/tmp");
    vkft_mkdirs(dir, err, sizeof err);
    snprintf(vpath, sizeof vpath, "%s/vocab.txt", dir);
    FILE *f = fopen(vpath, "w");
    for (int32_t id = 0; id < vkft_tokenizer_vocab_size(ref); id++) {
        size_t n;
        const char *s = vkft_tokenizer_id_to_token(ref, id, &n);
        fprintf(f, "%.*s\n", (int)n, s);
    }
    fclose(f);
    snprintf(vpath, sizeof vpath, "%s/tokenizer_config.json", dir);
    vkft_write_file_atomic(vpath, "{}", 2, err, sizeof err);
    if (CHECK(t, vkft_tokenizer_load(dir, &tok, err, sizeof err) == 0, "load vocab.txt folder: %s", err)) {
        const char *texts[] = {"Hello, World! Unbelievable tokenization.", "Café 中文 xyz§ I don't",
                               "hello [SEP] world"};
        for (int i = 0; i < 3; i++) {
            char want[4096];
            snprintf(want, sizeof want, "%s", pieces(ref, texts[i], 1));
            expect(t, tok, "vocab.txt as the fixture", texts[i], 1, want);
        }
        vkft_tokenizer_free(tok);
    }
    /* do_lower_case false keeps case: "Hello" is not in the (lowercase) vocabulary */
    vkft_write_file_atomic(vpath, "{\"do_lower_case\": false}", 24, err, sizeof err);
    snprintf(vpath, sizeof vpath, "%s/vocab.txt", dir);
    if (CHECK(t, vkft_tokenizer_load(vpath, &tok, err, sizeof err) == 0, "load vocab.txt: %s", err)) {
        expect(t, tok, "vocab.txt cased", "Hello world", 0, "[UNK]|world");
        vkft_tokenizer_free(tok);
    }
    vkft_tokenizer_free(ref);
}

static void test_splits(test_state *t) {
    static const struct {
        const char *behavior, *want;
    } cases[] = {
        {"Removed", "ab|cd"},
        {"Isolated", "ab|12|cd|345"},
        {"MergedWithPrevious", "ab12|cd345"},
        {"MergedWithNext", "ab|12cd|345"},
        {"Contiguous", "ab|12|cd|345"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char pre[256];
        snprintf(pre, sizeof pre,
                 "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\d+\"}, \"behavior\": \"%s\", "
                 "\"invert\": false}",
                 cases[i].behavior);
        vkft_tokenizer *tok = split_tok(t, "null", pre, "ab|cd|12|345|ab12|cd345|12cd");
        if (tok) expect(t, tok, cases[i].behavior, "ab12cd345", 0, cases[i].want);
        vkft_tokenizer_free(tok);
    }
    /* Contiguous joins consecutive matches of a one-character pattern; invert swaps matches and the rest */
    vkft_tokenizer *tok = split_tok(t, "null",
                                    "{\"type\": \"Split\", \"pattern\": {\"String\": \"1\"}, \"behavior\": "
                                    "\"Contiguous\", \"invert\": false}",
                                    "11|ab|cd");
    if (tok) expect(t, tok, "Contiguous literal", "ab11cd", 0, "ab|11|cd");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null",
                    "{\"type\": \"Split\", \"pattern\": {\"Regex\": \"\\\\d+\"}, \"behavior\": \"Removed\", "
                    "\"invert\": true}",
                    "12|345");
    if (tok) expect(t, tok, "invert Removed", "ab12cd345", 0, "12|345");
    vkft_tokenizer_free(tok);

    tok = split_tok(t, "null", "{\"type\": \"Digits\", \"individual_digits\": true}", "");
    if (tok) expect(t, tok, "Digits individual", "a123", 0, "a|1|2|3");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null", "{\"type\": \"Digits\", \"individual_digits\": false}", "123");
    if (tok) expect(t, tok, "Digits contiguous", "a123", 0, "a|123");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null", "{\"type\": \"Punctuation\"}", "hi");
    if (tok) expect(t, tok, "Punctuation", "hi!?", 0, "hi|!|?");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null", "{\"type\": \"Whitespace\"}", "hi|there|!!");
    if (tok) expect(t, tok, "Whitespace", "hi there!!", 0, "hi|there|!!");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null", "{\"type\": \"WhitespaceSplit\"}", "hi|there!!");
    if (tok) expect(t, tok, "WhitespaceSplit", " hi \t there!! ", 0, "hi|there!!");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null",
                    "{\"type\": \"Metaspace\", \"replacement\": \"\\u2581\", \"prepend_scheme\": \"always\", "
                    "\"split\": true}",
                    "\xE2\x96\x81hi|\xE2\x96\x81there");
    if (tok) expect(t, tok, "Metaspace always split", "hi there", 0, "\xE2\x96\x81hi|\xE2\x96\x81there");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null",
                    "{\"type\": \"Metaspace\", \"replacement\": \"\\u2581\", \"prepend_scheme\": \"never\", "
                    "\"split\": false}",
                    "hi\xE2\x96\x81there");
    if (tok) expect(t, tok, "Metaspace never no split", "hi there", 0, "hi\xE2\x96\x81there");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null",
                    "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"WhitespaceSplit\"}, "
                    "{\"type\": \"Digits\", \"individual_digits\": false}]}",
                    "ab|12|cd");
    if (tok) expect(t, tok, "Sequence", "ab12 cd", 0, "ab|12|cd");
    vkft_tokenizer_free(tok);
    /* Hugging Face semantics where transformers.js (the Node reference) differs: each punctuation character
     * is its own piece; Unicode digits and letters count (Rust's char classes and Unicode \\w) */
    tok = split_tok(t, "null", "{\"type\": \"Punctuation\", \"behavior\": \"Isolated\"}", "f|(|)|:|):");
    if (tok) expect(t, tok, "Punctuation: one piece per character", "f(x):", 0, "f|(|x|)|:");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null", "{\"type\": \"Digits\", \"individual_digits\": false}",
                    "\xEF\xBD\x81|\xEF\xBC\x91\xEF\xBC\x92");
    if (tok)
        expect(t, tok, "Digits: fullwidth digits are digits", "\xEF\xBD\x81\xEF\xBC\x91\xEF\xBC\x92", 0,
               "\xEF\xBD\x81|\xEF\xBC\x91\xEF\xBC\x92");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null", "{\"type\": \"Whitespace\"}",
                    "gr\xC3\xB6\xC3\x9F"
                    "e");
    if (tok)
        expect(t, tok, "Whitespace: Unicode letters are word characters",
               "gr\xC3\xB6\xC3\x9F"
               "e!",
               0,
               "gr\xC3\xB6\xC3\x9F"
               "e|!");
    vkft_tokenizer_free(tok);
    tok = split_tok(
        t, "null",
        "{\"type\": \"Split\", \"pattern\": {\"String\": \" \"}, \"behavior\": \"MergedWithNext\"}", " b| c");
    if (tok) expect(t, tok, "Split MergedWithNext", "a b c", 0, "a| b| c");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "{\"type\": \"StripAccents\"}", "null", "\xE0\xA4\xB9");
    if (tok)
        expect(t, tok, "StripAccents drops spacing marks too (Mc)", "\xE0\xA4\xB9\xE0\xA4\xBF", 0,
               "\xE0\xA4\xB9");
    vkft_tokenizer_free(tok);
    tok = split_tok(t, "null", "{\"type\": \"BertPreTokenizer\"}", "hi|there|,");
    if (tok) expect(t, tok, "BertPreTokenizer", " hi,there! ", 0, "hi|,|there|!");
    vkft_tokenizer_free(tok);
}

static void test_normalizers(test_state *t) {
    static const struct {
        const char *norm, *text, *want, *vocab;
    } cases[] = {
        {"{\"type\": \"NFKC\"}", "\xEF\xAC\x81", "fi", "fi"},
        {"{\"type\": \"Lowercase\"}", "HiTheRE", "hithere", "hithere"},
        {"{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFD\"}, {\"type\": \"StripAccents\"}]}",
         "\xC3\xA9t\xC3\xA9", "ete", "ete"},
        {"{\"type\": \"Strip\", \"strip_left\": true, \"strip_right\": true}", "  hi \t", "hi", "hi"},
        {"{\"type\": \"Prepend\", \"prepend\": \"x\"}", "hi", "xhi", "xhi"},
        {"{\"type\": \"Replace\", \"pattern\": {\"Regex\": \"[0-9]+\"}, \"content\": \"x\"}", "a12b3", "axbx",
         "axbx"},
        {"{\"type\": \"Replace\", \"pattern\": {\"String\": \"ab\"}, \"content\": \"c\"}", "abab", "cc",
         "cc"},
        {"{\"type\": \"BertNormalizer\", \"clean_text\": true, \"handle_chinese_chars\": true, "
         "\"strip_accents\": null, "
         "\"lowercase\": true}",
         "\xC3\x89T\xC3\x89\x01", "ete", "ete"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vkft_tokenizer *tok = split_tok(t, cases[i].norm, "null", cases[i].vocab);
        if (tok) expect(t, tok, cases[i].norm, cases[i].text, 0, cases[i].want);
        vkft_tokenizer_free(tok);
    }
}

static void test_added_and_fallback(test_state *t) {
    /* lstrip/rstrip swallow the whitespace beside the token; single_word needs word boundaries */
    const char *json = "{\"added_tokens\": ["
                       "{\"id\": 10, \"content\": \"<L>\", \"lstrip\": true, \"rstrip\": false, "
                       "\"single_word\": false, \"normalized\": false, \"special\": true},"
                       "{\"id\": 11, \"content\": \"<R>\", \"lstrip\": false, \"rstrip\": true, "
                       "\"single_word\": false, \"normalized\": false, \"special\": true},"
                       "{\"id\": 12, \"content\": \"ab\", \"lstrip\": false, \"rstrip\": false, "
                       "\"single_word\": true, \"normalized\": true, \"special\": false}],"
                       "\"normalizer\": {\"type\": \"Lowercase\"},"
                       "\"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"fuse_unk\": true, "
                       "\"byte_fallback\": true, "
                       "\"vocab\": {\"<unk>\": 0, \"a\": 1, \"b\": 2, \" \": 3, \"<0xC3>\": 4, \"<0xA9>\": "
                       "5, \"c\": 6, \"ab\": 7, \"abc\": 8, \"x\": 9},"
                       "\"merges\": [\"a b\", \"ab c\"]}}";
    vkft_tokenizer *tok = load_str(t, json);
    if (!tok) return;
    expect(t, tok, "lstrip", "a  <L>b", 0, "a|<L>|b");
    expect(t, tok, "rstrip", "a<R>  b", 0, "a|<R>|b");
    expect(t, tok, "single_word matches a word", "x AB x", 0, "x| |ab| |x");
    expect(t, tok, "single_word inside a word", "xab", 0, "x|ab");
    expect(t, tok, "merges", "abc", 0, "abc");
    expect(t, tok, "byte fallback", "\xC3\xA9", 0, "<0xC3>|<0xA9>");
    expect(t, tok, "fused unk",
           "a\xE2\x82\xAC\xE2\x82\xAC"
           "b",
           0, "a|<unk>|b");
    expect(t, tok, "invalid UTF-8 becomes U+FFFD (unk)",
           "a\xFF"
           "b",
           0, "a|<unk>|b");
    vkft_tokenizer_free(tok);
}

/* BPE with end_of_word_suffix (CLIP style) and with continuing_subword_prefix, and their decoders. */
static void test_bpe_affixes(test_state *t) {
    const char *suffix_json =
        "{\"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}, \"decoder\": {\"type\": \"BPEDecoder\", "
        "\"suffix\": \"</w>\"}, \"model\": {\"type\": \"BPE\", \"end_of_word_suffix\": \"</w>\", \"vocab\": "
        "{\"l\": 0, \"o\": 1, \"w\": 2, \"w</w>\": 3, \"o</w>\": 4, \"lo\": 5, \"low</w>\": 6, \"l</w>\": "
        "7}, "
        "\"merges\": [\"l o\", \"lo w</w>\"]}}";
    vkft_tokenizer *tok = load_str(t, suffix_json);
    if (tok) {
        /* the last character carries the suffix; "low" merges fully, "lol" stops at lo + l</w> */
        expect(t, tok, "end_of_word_suffix", "low lol wo", 0, "low</w>|lo|l</w>|w|o</w>");
        vkft_tok_ids ids = {0};
        char *text;
        size_t n;
        vkft_tokenizer_encode(tok, "low lol wo", 10, 0, &ids, err, sizeof err);
        CHECK(t,
              vkft_tokenizer_decode(tok, ids.ids, ids.n, 0, &text, &n, err, sizeof err) == 0 &&
                  !strcmp(text, "low lol wo"),
              "BPEDecoder: '%s'", text);
        free(text);
        vkft_tok_ids_free(&ids);
        vkft_tokenizer_free(tok);
    }
    const char *prefix_json =
        "{\"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}, \"decoder\": {\"type\": \"WordPiece\", "
        "\"prefix\": \"##\", \"cleanup\": false}, \"model\": {\"type\": \"BPE\", "
        "\"continuing_subword_prefix\": \"##\", \"vocab\": {\"u\": 0, \"n\": 1, \"##n\": 2, \"##i\": 3, "
        "\"##t\": 4, \"un\": 5, \"##it\": 6, \"i\": 7}, \"merges\": [\"u ##n\", \"##i ##t\"]}}";
    tok = load_str(t, prefix_json);
    if (tok) {
        expect(t, tok, "continuing_subword_prefix", "unit it", 0, "un|##it|i|##t");
        vkft_tokenizer_free(tok);
    }
}

/* WordLevel: whole pre-tokenized words, else unk. */
static void test_wordlevel(test_state *t) {
    const char *json =
        "{\"pre_tokenizer\": {\"type\": \"Whitespace\"}, \"model\": {\"type\": \"WordLevel\", "
        "\"unk_token\": \"<unk>\", \"vocab\": {\"<unk>\": 0, \"hello\": 1, \"world\": 2, \"!\": 3}}}";
    vkft_tokenizer *tok = load_str(t, json);
    if (tok) expect(t, tok, "WordLevel", "hello brave world!", 0, "hello|<unk>|world|!");
    vkft_tokenizer_free(tok);
}

static void test_errors(test_state *t) {
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"{\"model\": ", "malformed JSON"},
        {"[1, 2]", "no \"model\""},
        {"{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}",
         "model.type: unsupported model type 'Unigram'"},
        {"{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, {\"type\": "
         "\"Precompiled\"}]},"
         " \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}",
         "normalizer.normalizers[1]: unsupported normalizer type 'Precompiled'"},
        {"{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}}, \"model\": {\"type\": "
         "\"BPE\", "
         "\"vocab\": {}, \"merges\": []}}",
         "pre_tokenizer.pattern: regex /(/ does not compile"},
        {"{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}", "model.merges[0]"},
        {"{\"decoder\": {\"type\": \"CTC\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}",
         "decoder: unsupported decoder type 'CTC'"},
        {"{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": "
         "\"<s>\"}}], "
         "\"special_tokens\": {}}, \"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}",
         "post_processor.single[0]: special token '<s>' not in post_processor.special_tokens"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vkft_tokenizer *tok = NULL;
        err[0] = 0;
        int rc = vkft_tokenizer_load_json(cases[i].json, strlen(cases[i].json), NULL, "bad.json", &tok, err,
                                          sizeof err);
        CHECK(t, rc != 0 && !tok && strstr(err, cases[i].want) && strstr(err, "bad.json"),
              "error case %zu: want '%s', got '%s'", i, cases[i].want, err);
    }
    vkft_tokenizer *tok = NULL;
    CHECK(t,
          vkft_tokenizer_load("/nonexistent/tokenizer.json", &tok, err, sizeof err) != 0 &&
              strstr(err, "/nonexistent"),
          "missing file: %s", err);
}

static void test_train(test_state *t, const char *src) {
    char corpus[4200];
    snprintf(corpus, sizeof corpus, "%s/tests/fixtures/tok_corpus.txt", src);
    const char *files[] = {corpus};
    char *text;
    size_t n;
    if (!CHECK(t, vkft_read_file(corpus, &text, &n, err, sizeof err) == 0, "%s", err)) return;
    vkft_tok_train_opts o = {.type = VKFT_TOK_TRAIN_BPE, .vocab_size = 700, .min_frequency = 2};
    vkft_tokenizer *bpe = NULL;
    if (!CHECK(t, vkft_tokenizer_train(&o, files, 1, &bpe, err, sizeof err) == 0, "train bpe: %s", err)) {
        free(text);
        return;
    }
    /* the small corpus runs out of pairs seen twice before 700 */
    CHECK(t, vkft_tokenizer_vocab_size(bpe) > 600 && vkft_tokenizer_vocab_size(bpe) <= 700,
          "bpe vocabulary %d", (int)vkft_tokenizer_vocab_size(bpe));
    /* round trip of the whole corpus and of each line; the trained BPE compresses the corpus */
    vkft_tok_ids ids = {0};
    CHECK(t, vkft_tokenizer_encode(bpe, text, n, 0, &ids, err, sizeof err) == 0, "encode: %s", err);
    char *back;
    size_t bn;
    CHECK(t, vkft_tokenizer_decode(bpe, ids.ids, ids.n, 0, &back, &bn, err, sizeof err) == 0, "decode: %s",
          err);
    CHECK(t, bn == n && !memcmp(back, text, n), "trained bpe: decode(encode(corpus)) == corpus");
    CHECK(t, ids.n < n * 6 / 10, "trained bpe compresses: %zu tokens for %zu bytes", ids.n, n);
    printf("trained byte-level BPE (700): %zu bytes -> %zu tokens, round trip %s\n", n, ids.n,
           bn == n && !memcmp(back, text, n) ? "exact" : "DIFFERS");
    free(back);

    /* save, reload: same ids */
    char dir[4200], path[4300];
    const char *cache = getenv("XDG_CACHE_HOME");
    snprintf(dir, sizeof dir, "%s/tok-unit", cache ? cache : "/tmp");
    vkft_mkdirs(dir, err, sizeof err);
    snprintf(path, sizeof path, "%s/bpe.json", dir);
    CHECK(t, vkft_tokenizer_save(bpe, path, err, sizeof err) == 0, "save: %s", err);
    vkft_tokenizer *re = NULL;
    CHECK(t, vkft_tokenizer_load(path, &re, err, sizeof err) == 0, "reload: %s", err);
    if (re) {
        vkft_tok_ids ids2 = {0};
        vkft_tokenizer_encode(re, text, n, 0, &ids2, err, sizeof err);
        CHECK(t, ids2.n == ids.n && !memcmp(ids2.ids, ids.ids, ids.n * sizeof *ids.ids),
              "reloaded bpe: same ids");
        vkft_tok_ids_free(&ids2);
        vkft_tokenizer_free(re);
    }

    /* extend with domain terms: each becomes one token */
    const char *terms[] = {"thrombocytopenia", "immunohistochemistry", "Hello", "caf\xC3\xA9-au-lait"};
    size_t lens[] = {16, 20, 5, 13};
    int32_t v0 = vkft_tokenizer_vocab_size(bpe);
    int added = vkft_tokenizer_add_tokens(bpe, terms, lens, 3, 0, err, sizeof err);
    CHECK(t, added >= 3, "extend added %d", added);
    CHECK(t, vkft_tokenizer_vocab_size(bpe) == v0 + added, "vocab grows by %d", added);
    expect(t, bpe, "extended term", "thrombocytopenia", 0, "thrombocytopenia");
    expect(t, bpe, "extended term in text", "a thrombocytopenia.", 0, "a|\xC4\xA0|thrombocytopenia|.");
    ids.n = 0;
    const char *s = "acute thrombocytopenia and immunohistochemistry with caf\xC3\xA9-au-lait spots";
    vkft_tokenizer_encode(bpe, s, strlen(s), 0, &ids, err, sizeof err);
    CHECK(t,
          vkft_tokenizer_decode(bpe, ids.ids, ids.n, 0, &back, &bn, err, sizeof err) == 0 && !strcmp(back, s),
          "extended round trip: '%s'", back);
    free(back);
    snprintf(path, sizeof path, "%s/bpe_ext.json", dir);
    CHECK(t, vkft_tokenizer_save(bpe, path, err, sizeof err) == 0, "save extended: %s", err);
    if (vkft_tokenizer_load(path, &re, err, sizeof err) == 0) {
        vkft_tok_ids ids2 = {0};
        vkft_tokenizer_encode(re, s, strlen(s), 0, &ids2, err, sizeof err);
        CHECK(t, ids2.n == ids.n && !memcmp(ids2.ids, ids.ids, ids.n * sizeof *ids.ids),
              "reloaded extended: same ids");
        vkft_tok_ids_free(&ids2);
        vkft_tokenizer_free(re);
    } else
        CHECK(t, 0, "reload extended: %s", err);
    vkft_tokenizer_free(bpe);

    /* WordPiece training */
    o.type = VKFT_TOK_TRAIN_WORDPIECE;
    o.vocab_size = 3000;
    o.min_frequency = 1;
    vkft_tokenizer *wp = NULL;
    if (CHECK(t, vkft_tokenizer_train(&o, files, 1, &wp, err, sizeof err) == 0, "train wordpiece: %s", err)) {
        expect(t, wp, "trained wordpiece specials", "hello", 1, "[CLS]|hello|[SEP]");
        ids.n = 0;
        const char *w = "the patient presented with acute myocardial infarction";
        vkft_tokenizer_encode(wp, w, strlen(w), 0, &ids, err, sizeof err);
        CHECK(t,
              vkft_tokenizer_decode(wp, ids.ids, ids.n, 0, &back, &bn, err, sizeof err) == 0 &&
                  !strcmp(back, w),
              "trained wordpiece round trip (lowercase text): '%s'", back);
        free(back);
        vkft_tokenizer_free(wp);
    }
    vkft_tok_ids_free(&ids);
    free(text);
}

static void test_batch(test_state *t, const char *src) {
    char corpus[4200];
    snprintf(corpus, sizeof corpus, "%s/tests/fixtures/tok_wordpiece/tokenizer.json", src);
    vkft_tokenizer *tok;
    if (vkft_tokenizer_load(corpus, &tok, err, sizeof err)) return;
    const char *texts[300];
    size_t lens[300];
    static char store[300][64];
    for (int i = 0; i < 300; i++) {
        snprintf(store[i], sizeof store[i], "Hello %d world, token%dization!", i * 7, i);
        texts[i] = store[i];
        lens[i] = strlen(store[i]);
    }
    vkft_tok_ids outs[300];
    memset(outs, 0, sizeof outs);
    CHECK(t, vkft_tok_encode_batch(tok, texts, lens, 300, 1, 4, outs, err, sizeof err) == 0, "batch: %s",
          err);
    int same = 1;
    vkft_tok_ids one = {0};
    for (int i = 0; i < 300; i++) {
        one.n = 0;
        vkft_tokenizer_encode(tok, texts[i], lens[i], 1, &one, err, sizeof err);
        if (one.n != outs[i].n || memcmp(one.ids, outs[i].ids, one.n * sizeof *one.ids)) same = 0;
        vkft_tok_ids_free(&outs[i]);
    }
    CHECK(t, same, "batch encoding on 4 threads equals one-by-one encoding");
    /* a pool keeps its sessions across calls: two batches, same results */
    vkft_tok_pool *pool = vkft_tok_pool_new(tok, 3);
    for (int round = 0; round < 2 && pool; round++) {
        memset(outs, 0, sizeof outs);
        CHECK(t, vkft_tok_pool_encode(pool, texts, lens, 300, 0, outs, err, sizeof err) == 0, "pool: %s",
              err);
        int ok = 1;
        for (int i = 0; i < 300; i++) {
            one.n = 0;
            vkft_tokenizer_encode(tok, texts[i], lens[i], 0, &one, err, sizeof err);
            if (one.n != outs[i].n || memcmp(one.ids, outs[i].ids, one.n * sizeof *one.ids)) ok = 0;
            vkft_tok_ids_free(&outs[i]);
        }
        CHECK(t, ok, "pool round %d equals one-by-one encoding", round);
    }
    vkft_tok_pool_free(pool);
    vkft_tok_ids_free(&one);
    vkft_tokenizer_free(tok);
}

/* Mutated tokenizer.json files either load or fail with a message; what loads encodes and decodes random
 * bytes without crashing (run under the sanitizers with -DVKFT_SANITIZE=ON). */
static void test_fuzz(test_state *t, const char *src) {
    char path[4200], *json;
    size_t n;
    snprintf(path, sizeof path, "%s/tests/fixtures/tok_wordpiece/tokenizer.json", src);
    if (vkft_read_file(path, &json, &n, err, sizeof err)) return;
    static const char *snippets[] = {"{",
                                     "}",
                                     "[",
                                     "]",
                                     "\"",
                                     ",",
                                     ":",
                                     "null",
                                     "true",
                                     "-1",
                                     "1e9",
                                     "\\u0000",
                                     "\"type\": \"Split\"",
                                     "\xff",
                                     "\"Regex\": \"(\"",
                                     "\"##\"",
                                     "0"};
    uint64_t st = 7;
    int loaded = 0, failed = 0, silent = 0;
    char *buf = malloc(n + 64);
    vkft_tok_ids ids = {0};
    for (int it = 0; it < 400; it++) {
        memcpy(buf, json, n);
        size_t m = n;
        int edits = 1 + (int)(test_rand_u64(&st) % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = test_rand_u64(&st) % m;
            const char *sn = snippets[test_rand_u64(&st) % (sizeof snippets / sizeof snippets[0])];
            size_t sl = strlen(sn), del = test_rand_u64(&st) % 4;
            if (at + del > m) del = m - at;
            if (m - del + sl > n + 63) continue;
            memmove(buf + at + sl, buf + at + del, m - at - del);
            memcpy(buf + at, sn, sl);
            m = m - del + sl;
        }
        vkft_tokenizer *tok = NULL;
        err[0] = 0;
        if (vkft_tokenizer_load_json(buf, m, NULL, "fuzz.json", &tok, err, sizeof err)) {
            failed++;
            if (!err[0]) silent++;
            continue;
        }
        loaded++;
        char text[64];
        for (int k = 0; k < 64; k++) text[k] = (char)(test_rand_u64(&st) & 0xFF);
        ids.n = 0;
        if (vkft_tokenizer_encode(tok, text, sizeof text, 1, &ids, err, sizeof err) == 0) {
            char *back;
            size_t bn;
            if (vkft_tokenizer_decode(tok, ids.ids, ids.n, 0, &back, &bn, err, sizeof err) == 0) free(back);
        }
        vkft_tokenizer_free(tok);
    }
    CHECK(t, silent == 0, "fuzz: %d failures without a message", silent);
    printf("fuzz: 400 mutated tokenizer.json files: %d loaded (encoded random bytes), %d rejected with a "
           "message\n",
           loaded, failed);
    vkft_tok_ids_free(&ids);
    free(buf);
    free(json);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_tok_unit");
    const char *src = getenv("VKFT_SOURCE_DIR");
    if (!src) src = ".";
    test_wordpiece_fixture(&t, src);
    test_vocab_txt(&t, src);
    test_splits(&t);
    test_normalizers(&t);
    test_added_and_fallback(&t);
    test_bpe_affixes(&t);
    test_wordlevel(&t);
    test_errors(&t);
    test_train(&t, src);
    test_batch(&t, src);
    test_fuzz(&t, src);
    return test_finish(&t);
}
