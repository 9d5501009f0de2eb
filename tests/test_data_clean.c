/* clean: one check per rule, with multi-byte text, and the dates/numbers rules' edge cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/clean.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

/* The step end to end: missing-field rules and length filters in words and tokens. */
static void test_step(test_state *t) {
    char dir[] = "/tmp/vkft_test_clean_XXXXXX";
    if (!mkdtemp(dir)) return;
    char in[300], out[300], err[512];
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    const char *data =
        "{\"text\":\"one two three four five six\",\"label\":\"a\"}\n"
        "{\"text\":\"   \",\"label\":\"a\"}\n"
        "{\"text\":\"short one\"}\n"
        "{\"text\":\"a much longer text with very many words in it to be cut\",\"label\":\"b\"}\n";
    vkft_write_file_atomic(in, data, strlen(data), err, sizeof err);
    const char *src = getenv("VKFT_SOURCE_DIR");
    char tok[600];
    snprintf(tok, sizeof tok, "%s/tests/fixtures/tok_wordpiece/tokenizer.json", src ? src : ".");
    int have_tok = vkft_file_exists(tok);
    vkft_clean_opts o;
    vkft_clean_opts_defaults(&o);
    vkft_clean_add_rule(&o, "label=fill:none", err, sizeof err);
    o.min_words = 2;
    if (have_tok) {
        o.tokenizer_path = tok;
        o.max_tokens = 30; /* the long text has 34 tokens in this WordPiece fixture, the others 22 and 8 */
    } else {
        printf("SKIP token filter: %s not found (set VKFT_SOURCE_DIR)\n", tok);
        o.max_words = 8;
    }
    vkft_clean_step *s;
    vkft_step step;
    CHECK(t, vkft_clean_step_new(&s, &o, "text", &step, err, sizeof err) == 0, "step: %s", err);
    vkft_data_io io;
    vkft_data_io_defaults(&io);
    const char *ins[1] = {in};
    io.inputs = ins;
    io.n_inputs = 1;
    io.out = out;
    cJSON *sum = cJSON_CreateObject();
    CHECK(t, vkft_data_run(&io, "clean", &step, sum, err, sizeof err) == 0, "run: %s", err);
    cJSON *c = cJSON_GetObjectItem(sum, "clean");
    CHECK(t, cJSON_GetObjectItem(sum, "records_out")->valuedouble == 2, "2 records out");
    CHECK(t, cJSON_GetObjectItem(c, "dropped_too_long")->valuedouble == 1, "1 too long");
    CHECK(t,
          cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "missing"), "text"), "dropped")
                  ->valuedouble == 1,
          "blank text dropped");
    CHECK(t,
          cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "missing"), "label"), "filled")
                  ->valuedouble == 1,
          "missing label filled");
    char *res;
    size_t n;
    vkft_read_file(out, &res, &n, err, sizeof err);
    CHECK(t, strstr(res, "{\"text\":\"short one\",\"label\":\"none\"}") != NULL, "filled record written: %s",
          res);
    free(res);
    cJSON_Delete(sum);
    vkft_clean_step_free(s);
    o.tokenizer_path = NULL;
    o.max_tokens = 5;
    CHECK(t, vkft_clean_step_new(&s, &o, "text", &step, err, sizeof err) == -1 && strstr(err, "--tokenizer"),
          "token filters without a tokenizer are refused");
    unlink(in);
    unlink(out);
    rmdir(dir);
}

static void expect(test_state *t, const vkft_clean_opts *o, const char *in, const char *want) {
    vkft_cleaner *c;
    char err[256];
    if (vkft_cleaner_new(&c, o, err, sizeof err)) {
        CHECK(t, 0, "cleaner: %s", err);
        return;
    }
    vkft_buf out = {0};
    vkft_clean_counts k = {0};
    int rc = vkft_clean_text(c, in, strlen(in), &out, &k);
    CHECK(t, rc == 0 && !strcmp(out.p, want), "clean(\"%s\") = \"%s\", want \"%s\"", in,
          rc ? "(error)" : out.p, want);
    vkft_buf_free(&out);
    vkft_cleaner_free(c);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_data_clean");
    vkft_clean_opts o;
    vkft_clean_opts_defaults(&o);
    /* NFC: e + combining acute -> é */
    expect(&t, &o, "cafe\xCC\x81", "caf\xC3\xA9");
    /* zero-width and control characters, BOM in the middle, soft hyphen */
    expect(&t, &o, "zero\xE2\x80\x8Bwidth\x01 bo\xEF\xBB\xBFm soft\xC2\xADhyphen",
           "zerowidth bom softhyphen");
    /* whitespace: tabs, NBSP, runs, trimmed lines, >2 newlines */
    expect(&t, &o, "  a\t\tb\xC2\xA0 c  \n  d \n\n\n\n e  ", "a b c\nd\n\ne");
    expect(&t, &o, "line1\r\nline2", "line1\nline2");
    /* NFKC folds compatibility forms (ﬁ ligature, full-width digits) */
    vkft_clean_opts k = o;
    k.normalize = VKFT_NORM_NFKC;
    expect(&t, &k, "\xEF\xAC\x81le \xEF\xBC\x91\xEF\xBC\x92", "file 12");
    expect(&t, &o, "\xEF\xAC\x81le", "\xEF\xAC\x81le");
    /* lowercase, multi-byte */
    k = o;
    k.lowercase = 1;
    expect(&t, &k,
           "\xC3\x89T\xC3\x89 Stra\xC3\x9F"
           "e \xCE\xA3\xCE\x9F",
           "\xC3\xA9t\xC3\xA9 stra\xC3\x9f"
           "e \xCF\x83\xCE\xBF");
    /* punctuation */
    k = o;
    k.punct = 1;
    expect(&t, &k,
           "\xE2\x80\x9CHi\xE2\x80\x9D \xE2\x80\x98x\xE2\x80\x99 a\xE2\x80\x94"
           "b wait\xE2\x80\xA6",
           "\"Hi\" 'x' a-b wait...");
    /* special characters: emoji and symbols removed, letters of any script kept */
    k = o;
    k.strip_special = 1;
    expect(&t, &k, "ok \xF0\x9F\x98\x80 \xE2\x84\xA2 \xE6\x97\xA5\xE6\x9C\xAC!",
           "ok \xE6\x97\xA5\xE6\x9C\xAC!");
    /* numbers */
    k = o;
    k.numbers = 1;
    expect(&t, &k, "paid 1,234.50 and 12,345,678 then 1,23 and 3.14",
           "paid 1234.50 and 12345678 then 1,23 and 3.14");
    expect(&t, &k, "list 1,2,3 and 1,234,5", "list 1,2,3 and 1,234,5");
    /* dates */
    k = o;
    k.dates = VKFT_DATES_DAY_FIRST;
    expect(&t, &k, "on March 19, 2025 and 19 March 2025 and 19/03/2025",
           "on 2025-03-19 and 2025-03-19 and 2025-03-19");
    expect(&t, &k, "Sept. 3rd 2024, 3rd of sep 2024, 29/02/2023 (no such day), 31.12.1999",
           "2024-09-03, 2024-09-03, 29/02/2023 (no such day), 1999-12-31");
    k.dates = VKFT_DATES_MONTH_FIRST;
    expect(&t, &k, "03/19/2025 and 19/03/2025", "2025-03-19 and 19/03/2025");
    expect(&t, &k, "version 1/2/3456789", "version 1/2/3456789");
    /* invalid UTF-8 is an error, not a crash */
    {
        vkft_cleaner *c;
        char err[128];
        vkft_cleaner_new(&c, &o, err, sizeof err);
        vkft_buf out = {0};
        vkft_clean_counts cnt = {0};
        CHECK(&t, vkft_clean_text(c, "a\xFF", 2, &out, &cnt) == -1, "invalid UTF-8 reported");
        vkft_buf_free(&out);
        vkft_cleaner_free(c);
    }
    /* rule parsing */
    char err[256];
    CHECK(&t,
          vkft_clean_add_rule(&o, "label=fill:unknown", err, sizeof err) == 0 && o.rules[0].fill &&
              !strcmp(o.rules[0].value, "unknown"),
          "fill rule");
    CHECK(&t, vkft_clean_add_rule(&o, "meta.src=drop", err, sizeof err) == 0 && !o.rules[1].fill,
          "drop rule");
    CHECK(&t, vkft_clean_add_rule(&o, "label=zap", err, sizeof err) == -1 && strstr(err, "fill:VALUE"),
          "bad rule");
    long ch, w;
    vkft_text_length("h\xC3\xA9llo  big world", strlen("h\xC3\xA9llo  big world"), &ch, &w);
    CHECK(&t, ch == 16 && w == 3, "length: 16 code points, 3 words (got %ld, %ld)", ch, w);
    test_step(&t);
    return test_finish(&t);
}
