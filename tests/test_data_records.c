/* Record I/O: JSONL / CSV / TSV / text readers, dotted paths, malformed lines with line numbers,
 * writers (atomic, CSV quoting round trip), UTF-8 validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/records.h"
#include "data/step.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

static char dir[256];

static const char *write_tmp(const char *name, const char *content) {
    static char path[8][512];
    static int k;
    char *p = path[k++ & 7];
    snprintf(p, 512, "%s/%s", dir, name);
    char err[256];
    vkft_write_file_atomic(p, content, strlen(content), err, sizeof err);
    return p;
}

static void test_utf8(test_state *t) {
    CHECK(t, vkft_utf8_invalid_at("hello", 5) == -1, "ascii valid");
    CHECK(t, vkft_utf8_invalid_at("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15) == -1,
          "multi-byte valid");
    CHECK(t, vkft_utf8_invalid_at("ab\xC3", 3) == 2, "truncated sequence at 2");
    CHECK(t, vkft_utf8_invalid_at("\xC0\xAF", 2) == 0, "overlong rejected");
    CHECK(t, vkft_utf8_invalid_at("x\xED\xA0\x80", 4) == 1, "surrogate rejected");
    CHECK(t, vkft_utf8_invalid_at("\xF4\x90\x80\x80", 4) == 0, "> U+10FFFF rejected");
    CHECK(t, vkft_utf8_invalid_at("abcdefghijklmnop\xFF", 17) == 16, "invalid after the ASCII fast path");
}

static void test_paths(test_state *t) {
    cJSON *o =
        cJSON_Parse("{\"a\":{\"b\":[{\"c\":\"x\"},{\"c\":7}]},\"d.e\":\"dotted\",\"n\":1.5,\"t\":true}");
    char buf[64];
    CHECK(t, !strcmp(vkft_path_text(o, "a.b.0.c", buf, sizeof buf), "x"), "a.b.0.c");
    CHECK(t, !strcmp(vkft_path_text(o, "a.b.1.c", buf, sizeof buf), "7"), "number printed as integer");
    CHECK(t, !strcmp(vkft_path_text(o, "n", buf, sizeof buf), "1.5"), "1.5");
    CHECK(t, !strcmp(vkft_path_text(o, "t", buf, sizeof buf), "true"), "bool");
    CHECK(t, !strcmp(vkft_path_text(o, "d.e", buf, sizeof buf), "dotted"), "a key with a dot wins");
    CHECK(t, vkft_path_text(o, "a.b.2.c", buf, sizeof buf) == NULL, "out of range -> NULL");
    CHECK(t, vkft_path_text(o, "a", buf, sizeof buf) == NULL, "object -> NULL text");
    CHECK(t, vkft_path_set_string(o, "meta.source.name", "web") == 0, "set creates parents");
    CHECK(t, !strcmp(vkft_path_text(o, "meta.source.name", buf, sizeof buf), "web"), "set then get");
    CHECK(t, vkft_path_set_string(o, "n.x", "no") == -1, "set through a number fails");
    cJSON_Delete(o);
}

static void test_jsonl(test_state *t) {
    const char *p = write_tmp("a.jsonl", "{\"text\":\"one\",\"label\":\"x\"}\n"
                                         "\n"
                                         "{\"text\":\"two\"\n"
                                         "[1,2]\n"
                                         "{\"text\":\"bad \xFF utf8\"}\n"
                                         "{\"text\":\"three\"} trailing\n"
                                         "{\"text\":\"four\",\"meta\":{\"k\":\"v\"}}\r\n");
    vkft_reader *r;
    char err[512];
    CHECK(t, vkft_reader_open(&r, p, VKFT_FMT_AUTO, 0, err, sizeof err) == 0, "open jsonl: %s", err);
    vkft_record rec;
    int rc, good = 0, bad = 0;
    long bad_lines[8];
    char last[64] = "";
    while ((rc = vkft_reader_next(r, &rec, err, sizeof err)) != VKFT_REC_EOF) {
        if (rc == VKFT_REC_BAD) {
            bad_lines[bad++] = rec.line;
            continue;
        }
        if (rc != VKFT_REC_OK) break;
        good++;
        char b[64];
        snprintf(last, sizeof last, "%s", vkft_path_text(rec.obj, "text", b, sizeof b));
        if (good == 2) {
            CHECK(t, rec.line == 7, "line of the 2nd good record is 7 (got %ld)", rec.line);
            CHECK(t, !strcmp(vkft_path_text(rec.obj, "meta.k", b, sizeof b), "v"), "nested field");
            CHECK(t, rec.raw_len == strlen("{\"text\":\"four\",\"meta\":{\"k\":\"v\"}}"), "CRLF stripped");
        }
    }
    CHECK(t, good == 2 && bad == 4, "2 good, 4 malformed (got %d, %d)", good, bad);
    CHECK(t, bad == 4 && bad_lines[0] == 3 && bad_lines[1] == 4 && bad_lines[2] == 5 && bad_lines[3] == 6,
          "malformed line numbers 3 4 5 6");
    CHECK(t, !strcmp(last, "four"), "last record");
    vkft_reader_close(r);
}

static void test_json_array_hint(test_state *t) {
    const char *p = write_tmp("arr.json", "[\n  {\"text\": \"a\"}\n]\n");
    vkft_reader *r;
    char err[512];
    vkft_record rec;
    CHECK(t, vkft_reader_open(&r, p, VKFT_FMT_AUTO, 0, err, sizeof err) == 0, "open");
    CHECK(t, vkft_reader_next(r, &rec, err, sizeof err) == VKFT_REC_BAD && strstr(err, "JSON Lines"),
          "a JSON array file says how to convert it: %s", err);
    vkft_reader_close(r);
}

static void test_csv(test_state *t) {
    const char *p = write_tmp("b.csv", "\xEF\xBB\xBFtext,label,note\r\n"
                                       "plain,pos,\r\n"
                                       "\"quoted, with comma\",neg,\"say \"\"hi\"\"\"\n"
                                       "\"multi\nline\",pos,x\n"
                                       "too,few\n"
                                       "bad\"quote,pos,x\n"
                                       "caf\xC3\xA9,pos,\xE2\x82\xAC\n");
    vkft_reader *r;
    char err[512], b[64];
    CHECK(t, vkft_reader_open(&r, p, VKFT_FMT_AUTO, 0, err, sizeof err) == 0, "open csv");
    vkft_record rec;
    int rc, good = 0;
    long bad[4];
    int nbad = 0;
    while ((rc = vkft_reader_next(r, &rec, err, sizeof err)) != VKFT_REC_EOF) {
        if (rc == VKFT_REC_BAD) {
            bad[nbad++] = rec.line;
            continue;
        }
        good++;
        const char *tx = vkft_path_text(rec.obj, "text", b, sizeof b);
        if (good == 2) {
            CHECK(t, !strcmp(tx, "quoted, with comma"), "quoted comma: %s", tx);
            CHECK(t, !strcmp(vkft_path_text(rec.obj, "note", b, sizeof b), "say \"hi\""), "doubled quotes");
        }
        if (good == 3) {
            CHECK(t, !strcmp(tx, "multi\nline"), "multi-line field");
            CHECK(t, rec.line == 4, "multi-line record starts on line 4 (got %ld)", rec.line);
        }
        if (good == 4) CHECK(t, !strcmp(tx, "caf\xC3\xA9"), "utf-8 field");
    }
    CHECK(t, good == 4, "4 good CSV rows (got %d)", good);
    CHECK(t, nbad == 2 && bad[0] == 6 && bad[1] == 7, "bad rows at lines 6, 7");
    int nc;
    const char *const *cols = vkft_reader_columns(r, &nc);
    CHECK(t, nc == 3 && !strcmp(cols[0], "text"), "BOM stripped from the header");
    vkft_reader_close(r);

    const char *q = write_tmp("c.tsv", "text\tlabel\nhello world\tpos\n\"a\ttab\"\tneg\n");
    CHECK(t, vkft_reader_open(&r, q, VKFT_FMT_AUTO, 0, err, sizeof err) == 0, "open tsv");
    CHECK(t, vkft_reader_next(r, &rec, err, sizeof err) == VKFT_REC_OK, "tsv row 1");
    CHECK(t, !strcmp(vkft_path_text(rec.obj, "label", b, sizeof b), "pos"), "tsv label");
    CHECK(t, vkft_reader_next(r, &rec, err, sizeof err) == VKFT_REC_OK, "tsv row 2");
    CHECK(t, !strcmp(vkft_path_text(rec.obj, "text", b, sizeof b), "a\ttab"), "quoted tab");
    vkft_reader_close(r);
}

static void test_text_and_writer(test_state *t) {
    const char *p = write_tmp("d.txt", "first doc\n\n  \nsecond doc\n");
    vkft_reader *r;
    char err[512], b[64];
    vkft_record rec;
    CHECK(t, vkft_reader_open(&r, p, VKFT_FMT_AUTO, 0, err, sizeof err) == 0, "open text");
    int n = 0;
    while (vkft_reader_next(r, &rec, err, sizeof err) == VKFT_REC_OK) n++;
    CHECK(t, n == 2, "blank lines hold no document (got %d)", n);
    vkft_reader_close(r);
    CHECK(t, vkft_reader_open(&r, p, VKFT_FMT_TEXT, 1, err, sizeof err) == 0, "open text per file");
    CHECK(t, vkft_reader_next(r, &rec, err, sizeof err) == VKFT_REC_OK, "one record");
    CHECK(t, !strcmp(vkft_path_text(rec.obj, "text", b, sizeof b), "first doc\n\n  \nsecond doc"),
          "whole file");
    CHECK(t, vkft_reader_next(r, &rec, err, sizeof err) == VKFT_REC_EOF, "then EOF");
    vkft_reader_close(r);
    CHECK(t,
          vkft_reader_open(&r, "x.unknown", VKFT_FMT_AUTO, 0, err, sizeof err) == -1 &&
              strstr(err, "--format"),
          "unknown extension asks for --format");

    /* CSV writer round trip with awkward values */
    char out[512];
    snprintf(out, sizeof out, "%s/out.csv", dir);
    vkft_writer *w;
    CHECK(t, vkft_writer_open(&w, out, VKFT_FMT_AUTO, "text", err, sizeof err) == 0, "writer open");
    cJSON *o = cJSON_Parse("{\"text\":\"a, \\\"b\\\"\\nc\",\"label\":\"pos\",\"meta\":{\"x\":1}}");
    CHECK(t, vkft_writer_put(w, o, NULL, 0, 0, err, sizeof err) == 0, "put");
    cJSON_Delete(o);
    char tmpname[600];
    snprintf(tmpname, sizeof tmpname, "%s/out.csv", dir);
    CHECK(t, !vkft_file_exists(tmpname), "nothing at the final path before commit");
    CHECK(t, vkft_writer_commit(w, err, sizeof err) == 0, "commit");
    CHECK(t, vkft_reader_open(&r, out, VKFT_FMT_AUTO, 0, err, sizeof err) == 0, "reopen");
    CHECK(t, vkft_reader_next(r, &rec, err, sizeof err) == VKFT_REC_OK, "read back");
    CHECK(t, !strcmp(vkft_path_text(rec.obj, "text", b, sizeof b), "a, \"b\"\nc"), "CSV round trip");
    CHECK(t, !strcmp(vkft_path_text(rec.obj, "meta", b, sizeof b), "{\"x\":1}"), "nested value as JSON");
    vkft_reader_close(r);
}

static void test_hash(test_state *t) {
    CHECK(t, vkft_hash64("abc", 3, 1) == vkft_hash64("abc", 3, 1), "hash deterministic");
    CHECK(t, vkft_hash64("abc", 3, 1) != vkft_hash64("abd", 3, 1), "hash differs");
    CHECK(t, vkft_hash64("abc", 3, 1) != vkft_hash64("abc", 3, 2), "seed matters");
    char a[40] = {0}, b2[40] = {0};
    CHECK(t, vkft_hash64(a, 33, 0) != vkft_hash64(b2, 32, 0), "length matters");
}

int main(void) {
    test_state t;
    test_begin(&t, "test_data_records");
    snprintf(dir, sizeof dir, "/tmp/vkft_test_records_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_utf8(&t);
    test_paths(&t);
    test_jsonl(&t);
    test_json_array_hint(&t);
    test_csv(&t);
    test_text_and_writer(&t);
    test_hash(&t);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
    return test_finish(&t);
}
