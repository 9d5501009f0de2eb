/* Records: streaming readers and writers for the dataset formats `vkft data` speaks.
 *
 * Every record, whatever its format, is seen as a JSON object (cJSON):
 *   - JSONL: one JSON object per line, as parsed;
 *   - CSV / TSV (RFC 4180 quoting; quoted fields may span lines): the header row names the keys,
 *     every value is a string;
 *   - text: {"text": LINE} (one document per line) or {"text": WHOLE_FILE} (one document per file).
 * Fields are addressed by dotted paths ("meta.source", "turns.0.content").
 *
 * A reader holds one line buffer and one parsed record at a time, so memory stays bounded by the
 * longest record. Malformed input (bad JSON, invalid UTF-8, a CSV row with the wrong number of
 * fields, a non-object JSON line) is reported as VKFT_REC_BAD with "FILE:LINE: why" in err; the
 * caller counts it (vkft_malformed) and either skips it or stops. */
#ifndef VKFT_DATA_RECORDS_H
#define VKFT_DATA_RECORDS_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

typedef enum { VKFT_FMT_AUTO = 0, VKFT_FMT_JSONL, VKFT_FMT_CSV, VKFT_FMT_TSV, VKFT_FMT_TEXT } vkft_format;

/* Parses "jsonl", "json", "csv", "tsv", "text", "txt"; returns -1 for anything else. */
int vkft_format_parse(const char *s, vkft_format *fmt);
const char *vkft_format_name(vkft_format fmt);
/* Guesses from the file name (.jsonl/.ndjson/.json, .csv, .tsv/.tab, .txt/.text); AUTO if unknown. */
vkft_format vkft_format_guess(const char *path);

typedef struct {
    cJSON *obj;      /* the record; owned by the reader until the next call (or detach it) */
    const char *raw; /* the input bytes of the record, without the final newline */
    size_t raw_len;
    long line;        /* 1-based line number where the record starts */
    long index;       /* 0-based record number within its file (malformed lines not counted) */
    const char *path; /* the input file */
} vkft_record;

enum { VKFT_REC_EOF = 0, VKFT_REC_OK = 1, VKFT_REC_BAD = 2, VKFT_REC_ERR = -1 };

typedef struct vkft_reader vkft_reader;

/* text_per_file: for VKFT_FMT_TEXT, the whole file is one record. fmt AUTO guesses from the name
 * and fails (with a hint to pass --format) when it cannot. */
int vkft_reader_open(vkft_reader **r, const char *path, vkft_format fmt, int text_per_file, char *err,
                     size_t errlen);
/* Returns VKFT_REC_OK, VKFT_REC_EOF, VKFT_REC_BAD (err = "FILE:LINE: why"; reading may go on) or
 * VKFT_REC_ERR (I/O error; stop). */
int vkft_reader_next(vkft_reader *r, vkft_record *rec, char *err, size_t errlen);
vkft_format vkft_reader_format(const vkft_reader *r);
/* Bytes consumed so far and the file's size (0 when unknown): for progress bars. */
uint64_t vkft_reader_offset(const vkft_reader *r);
uint64_t vkft_reader_size(const vkft_reader *r);
/* CSV/TSV header (NULL otherwise). */
const char *const *vkft_reader_columns(const vkft_reader *r, int *n);
void vkft_reader_close(vkft_reader *r);

/* Writers: the output goes to a temporary file renamed over PATH on commit. For CSV/TSV the columns
 * are those of the first record written (or set with vkft_writer_set_columns); nested values are
 * written as compact JSON. For text, the value at text_field is written, one record per line
 * (newlines inside it become spaces). "-" writes to stdout (not atomic). */
typedef struct vkft_writer vkft_writer;
int vkft_writer_open(vkft_writer **w, const char *path, vkft_format fmt, const char *text_field, char *err,
                     size_t errlen);
int vkft_writer_set_columns(vkft_writer *w, const char *const *cols, int n);
/* Writes rec->obj; when raw is given and the formats match (same_format), the raw bytes are copied
 * unchanged (faster, and byte-exact for unmodified records). */
int vkft_writer_put(vkft_writer *w, const cJSON *obj, const char *raw, size_t raw_len, int same_format,
                    char *err, size_t errlen);
long vkft_writer_count(const vkft_writer *w);
/* CSV/TSV output: records that had a field the header has no column for (that field was not written). */
long vkft_writer_unwritten(const vkft_writer *w);
int vkft_writer_commit(vkft_writer *w, char *err, size_t errlen);
void vkft_writer_abort(vkft_writer *w);

/* Dotted paths: "a.b.0.c" (numbers index arrays). Returns NULL when absent. */
cJSON *vkft_path_get(const cJSON *obj, const char *path);
/* The value at path as text: strings as they are, numbers and booleans printed; NULL when missing,
 * null, or an object/array. buf receives printed numbers. */
const char *vkft_path_text(const cJSON *obj, const char *path, char *buf, size_t buflen);
/* Sets a string at path, creating intermediate objects. Returns 0 or -1 (path through a non-object). */
int vkft_path_set_string(cJSON *obj, const char *path, const char *value);

/* UTF-8 validation (strict: no overlongs, no surrogates, <= U+10FFFF). Returns the byte offset of
 * the first invalid byte, or -1 when valid. */
long vkft_utf8_invalid_at(const char *s, size_t n);

/* Malformed-input bookkeeping: counts and the first few locations, for summaries. */
#define VKFT_MALFORMED_KEEP 20
typedef struct {
    long count;
    int kept;
    char where[VKFT_MALFORMED_KEEP][160];
} vkft_malformed;
void vkft_malformed_add(vkft_malformed *m, const char *msg);
/* Adds {"malformed": N, "malformed_examples": [...]} to a summary object. */
void vkft_malformed_to_json(const vkft_malformed *m, cJSON *summary);

/* A growable byte buffer (used across data/). */
typedef struct {
    char *p;
    size_t n, cap;
} vkft_buf;
int vkft_buf_reserve(vkft_buf *b, size_t extra);
int vkft_buf_add(vkft_buf *b, const void *s, size_t n);
int vkft_buf_addc(vkft_buf *b, char c);
int vkft_buf_adds(vkft_buf *b, const char *s);
/* NUL-terminates (not counted in n). */
int vkft_buf_nul(vkft_buf *b);
void vkft_buf_free(vkft_buf *b);

/* 64-bit hash of bytes (fast, non-cryptographic, seeded). */
uint64_t vkft_hash64(const void *data, size_t n, uint64_t seed);

#endif
