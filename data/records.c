#include "data/records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/fsutil.h"

/* ---- small buffers and hashing ---------------------------------------------------------------- */

int vkft_buf_reserve(vkft_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}
int vkft_buf_add(vkft_buf *b, const void *s, size_t n) {
    if (vkft_buf_reserve(b, n)) return -1;
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    return 0;
}
int vkft_buf_addc(vkft_buf *b, char c) {
    if (b->n + 2 > b->cap && vkft_buf_reserve(b, 1)) return -1;
    b->p[b->n++] = c;
    return 0;
}
int vkft_buf_adds(vkft_buf *b, const char *s) { return vkft_buf_add(b, s, strlen(s)); }
int vkft_buf_nul(vkft_buf *b) {
    if (vkft_buf_reserve(b, 0)) return -1;
    b->p[b->n] = 0;
    return 0;
}
void vkft_buf_free(vkft_buf *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static inline uint64_t rd64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static inline uint64_t mix64(uint64_t x) {
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

uint64_t vkft_hash64(const void *data, size_t n, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t a = seed ^ 0x9e3779b97f4a7c15ULL, b = (uint64_t)n * 0xff51afd7ed558ccdULL;
    while (n >= 16) {
        uint64_t x = rd64(p) ^ a, y = rd64(p + 8) ^ b;
        __uint128_t m = (__uint128_t)x * y;
        a = (uint64_t)m ^ 0xa0761d6478bd642fULL;
        b = (uint64_t)(m >> 64) + a;
        a = (a << 23 | a >> 41) ^ b;
        p += 16;
        n -= 16;
    }
    uint64_t t0 = 0, t1 = 0;
    if (n >= 8) {
        t0 = rd64(p);
        memcpy(&t1, p + 8, n - 8);
    } else {
        memcpy(&t0, p, n);
    }
    __uint128_t m = (__uint128_t)(t0 ^ a ^ 0xe7037ed1a0b428dbULL) * (t1 ^ b ^ 0x8ebc6af09c88c6e3ULL);
    return mix64((uint64_t)m ^ (uint64_t)(m >> 64) ^ n);
}

/* ---- formats ------------------------------------------------------------------------------------ */

int vkft_format_parse(const char *s, vkft_format *fmt) {
    if (!strcmp(s, "jsonl") || !strcmp(s, "json") || !strcmp(s, "ndjson"))
        *fmt = VKFT_FMT_JSONL;
    else if (!strcmp(s, "csv"))
        *fmt = VKFT_FMT_CSV;
    else if (!strcmp(s, "tsv"))
        *fmt = VKFT_FMT_TSV;
    else if (!strcmp(s, "text") || !strcmp(s, "txt"))
        *fmt = VKFT_FMT_TEXT;
    else
        return -1;
    return 0;
}

const char *vkft_format_name(vkft_format fmt) {
    switch (fmt) {
    case VKFT_FMT_JSONL: return "jsonl";
    case VKFT_FMT_CSV: return "csv";
    case VKFT_FMT_TSV: return "tsv";
    case VKFT_FMT_TEXT: return "text";
    default: return "auto";
    }
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcasecmp(s + a - b, suf);
}

vkft_format vkft_format_guess(const char *path) {
    if (ends_with(path, ".jsonl") || ends_with(path, ".ndjson") || ends_with(path, ".json"))
        return VKFT_FMT_JSONL;
    if (ends_with(path, ".csv")) return VKFT_FMT_CSV;
    if (ends_with(path, ".tsv") || ends_with(path, ".tab")) return VKFT_FMT_TSV;
    if (ends_with(path, ".txt") || ends_with(path, ".text")) return VKFT_FMT_TEXT;
    return VKFT_FMT_AUTO;
}

/* ---- UTF-8 ---------------------------------------------------------------------------------------- */

long vkft_utf8_invalid_at(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        /* ASCII fast path, 8 bytes at a time */
        while (i + 8 <= n && !(rd64(s + i) & 0x8080808080808080ULL)) i += 8;
        if (i >= n) break;
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else
            return (long)i;
        if (i + len > n) return (long)i;
        if (s[i + 1] < lo || s[i + 1] > hi) return (long)i;
        for (size_t k = 2; k < len; k++)
            if ((s[i + k] & 0xC0) != 0x80) return (long)i;
        i += len;
    }
    return -1;
}

/* ---- malformed bookkeeping -------------------------------------------------------------------- */

void vkft_malformed_add(vkft_malformed *m, const char *msg) {
    m->count++;
    if (m->kept < VKFT_MALFORMED_KEEP) snprintf(m->where[m->kept++], sizeof m->where[0], "%s", msg);
}

void vkft_malformed_to_json(const vkft_malformed *m, cJSON *summary) {
    cJSON_AddNumberToObject(summary, "malformed", (double)m->count);
    cJSON *a = cJSON_AddArrayToObject(summary, "malformed_examples");
    for (int i = 0; i < m->kept; i++) cJSON_AddItemToArray(a, cJSON_CreateString(m->where[i]));
}

/* ---- dotted paths ----------------------------------------------------------------------------- */

static cJSON *child(const cJSON *node, const char *key, size_t n) {
    char tmp[256];
    if (n >= sizeof tmp) return NULL;
    memcpy(tmp, key, n);
    tmp[n] = 0;
    if (cJSON_IsArray(node)) {
        char *end;
        long i = strtol(tmp, &end, 10);
        if (*end || end == tmp || i < 0) return NULL;
        return cJSON_GetArrayItem(node, (int)i);
    }
    if (cJSON_IsObject(node)) return cJSON_GetObjectItemCaseSensitive(node, tmp);
    return NULL;
}

cJSON *vkft_path_get(const cJSON *obj, const char *path) {
    const cJSON *node = obj;
    const char *p = path;
    while (node) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        /* a key that itself contains dots wins when it exists */
        if (cJSON_IsObject(node) && dot) {
            cJSON *whole = cJSON_GetObjectItemCaseSensitive(node, p);
            if (whole) return whole;
        }
        node = child(node, p, n);
        if (!dot) return (cJSON *)node;
        p = dot + 1;
    }
    return NULL;
}

const char *vkft_path_text(const cJSON *obj, const char *path, char *buf, size_t buflen) {
    const cJSON *v = vkft_path_get(obj, path);
    if (!v) return NULL;
    if (cJSON_IsString(v)) return v->valuestring;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -1e15 && d < 1e15)
            snprintf(buf, buflen, "%lld", (long long)d);
        else
            snprintf(buf, buflen, "%.15g", d);
        return buf;
    }
    if (cJSON_IsBool(v)) {
        snprintf(buf, buflen, "%s", cJSON_IsTrue(v) ? "true" : "false");
        return buf;
    }
    return NULL;
}

int vkft_path_set_string(cJSON *obj, const char *path, const char *value) {
    cJSON *node = obj;
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[256];
        if (n >= sizeof key) return -1;
        memcpy(key, p, n);
        key[n] = 0;
        if (!dot) {
            cJSON *s = cJSON_CreateString(value);
            if (!s) return -1;
            if (cJSON_IsArray(node)) {
                char *end;
                long i = strtol(key, &end, 10);
                if (*end || i < 0 || i >= cJSON_GetArraySize(node)) {
                    cJSON_Delete(s);
                    return -1;
                }
                cJSON_ReplaceItemInArray(node, (int)i, s);
                return 0;
            }
            if (!cJSON_IsObject(node)) {
                cJSON_Delete(s);
                return -1;
            }
            if (cJSON_GetObjectItemCaseSensitive(node, key))
                cJSON_ReplaceItemInObjectCaseSensitive(node, key, s);
            else
                cJSON_AddItemToObject(node, key, s);
            return 0;
        }
        cJSON *next = child(node, key, n);
        if (!next) {
            if (!cJSON_IsObject(node)) return -1;
            next = cJSON_AddObjectToObject(node, key);
            if (!next) return -1;
        }
        node = next;
        p = dot + 1;
    }
}

/* ---- reader ------------------------------------------------------------------------------------ */

struct vkft_reader {
    FILE *f;
    char *path;
    vkft_format fmt;
    int per_file, done;
    char *line;
    size_t line_cap;
    vkft_buf rec; /* the current record's bytes (CSV rows may span lines) */
    vkft_buf field;
    long lineno, index;
    uint64_t offset, size;
    cJSON *obj;
    char **cols;
    int ncols;
};

int vkft_reader_open(vkft_reader **out, const char *path, vkft_format fmt, int text_per_file, char *err,
                     size_t errlen) {
    *out = NULL;
    if (fmt == VKFT_FMT_AUTO) fmt = vkft_format_guess(path);
    if (fmt == VKFT_FMT_AUTO) {
        snprintf(err, errlen,
                 "%s: cannot tell the format from the file name; pass --format jsonl|csv|tsv|text", path);
        return -1;
    }
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    vkft_reader *r = calloc(1, sizeof *r);
    if (!r) {
        if (f != stdin) fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    r->f = f;
    r->path = strdup(path);
    r->fmt = fmt;
    r->per_file = text_per_file;
    struct stat st;
    if (f != stdin && !fstat(fileno(f), &st) && S_ISREG(st.st_mode)) r->size = (uint64_t)st.st_size;
    *out = r;
    return 0;
}

vkft_format vkft_reader_format(const vkft_reader *r) { return r->fmt; }
uint64_t vkft_reader_offset(const vkft_reader *r) { return r->offset; }
uint64_t vkft_reader_size(const vkft_reader *r) { return r->size; }
const char *const *vkft_reader_columns(const vkft_reader *r, int *n) {
    *n = r->ncols;
    return (const char *const *)r->cols;
}

void vkft_reader_close(vkft_reader *r) {
    if (!r) return;
    if (r->f && r->f != stdin) fclose(r->f);
    free(r->path);
    free(r->line);
    vkft_buf_free(&r->rec);
    vkft_buf_free(&r->field);
    cJSON_Delete(r->obj);
    for (int i = 0; i < r->ncols; i++) free(r->cols[i]);
    free(r->cols);
    free(r);
}

/* Reads one physical line into r->line (without \n or \r\n). Returns its length, or -1 at EOF. */
static long read_line(vkft_reader *r) {
    ssize_t n = getline(&r->line, &r->line_cap, r->f);
    if (n < 0) return -1;
    r->offset += (uint64_t)n;
    r->lineno++;
    if (n > 0 && r->line[n - 1] == '\n') r->line[--n] = 0;
    if (n > 0 && r->line[n - 1] == '\r') r->line[--n] = 0;
    if (r->lineno == 1 && n >= 3 && !memcmp(r->line, "\xEF\xBB\xBF", 3)) { /* BOM */
        memmove(r->line, r->line + 3, (size_t)n - 2);
        n -= 3;
    }
    return (long)n;
}

/* Splits r->rec (one logical CSV/TSV row) into fields; calls back per field. Returns the field
 * count, or -1 on a stray quote. */
typedef int (*field_cb)(void *ctx, int i, const char *s, size_t n);
static int split_row(vkft_reader *r, char delim, field_cb cb, void *ctx) {
    const char *s = r->rec.p, *end = r->rec.p + r->rec.n;
    int i = 0;
    for (;;) {
        r->field.n = 0;
        if (s < end && *s == '"') {
            s++;
            for (;;) {
                if (s >= end) return -1; /* unterminated */
                if (*s == '"') {
                    if (s + 1 < end && s[1] == '"') {
                        vkft_buf_addc(&r->field, '"');
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                vkft_buf_addc(&r->field, *s++);
            }
            if (s < end && *s != delim) return -1; /* text after the closing quote */
        } else {
            const char *e = memchr(s, delim, (size_t)(end - s));
            if (!e) e = end;
            if (memchr(s, '"', (size_t)(e - s)) && delim == ',') return -1;
            vkft_buf_add(&r->field, s, (size_t)(e - s));
            s = e;
        }
        vkft_buf_nul(&r->field);
        if (cb(ctx, i, r->field.p, r->field.n)) return -2;
        i++;
        if (s >= end) break;
        s++; /* delimiter */
    }
    return i;
}

/* Whether the row so far ends inside a quoted field. */
static int open_quote(const char *s, size_t n, char delim) {
    int inq = 0, at_start = 1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (inq) {
            if (c == '"') {
                if (i + 1 < n && s[i + 1] == '"')
                    i++;
                else
                    inq = 0;
            }
        } else if (c == '"' && at_start) {
            inq = 1;
        }
        at_start = (c == delim);
        if (inq) at_start = 0;
    }
    return inq;
}

static int header_cb(void *ctx, int i, const char *s, size_t n) {
    vkft_reader *r = ctx;
    char **c = realloc(r->cols, sizeof(char *) * (size_t)(i + 1));
    if (!c) return -1;
    r->cols = c;
    r->cols[i] = strndup(s, n);
    r->ncols = i + 1;
    return 0;
}

static int row_cb(void *ctx, int i, const char *s, size_t n) {
    vkft_reader *r = ctx;
    if (i >= r->ncols) return -1;
    cJSON *v = cJSON_CreateString(s);
    if (!v) return -1;
    cJSON_AddItemToObject(r->obj, r->cols[i], v);
    return 0;
}

/* Reads one logical row (quoted fields may continue on the next lines) into r->rec. */
static int read_row(vkft_reader *r, char delim, long *start_line) {
    long n;
    do {
        n = read_line(r);
        if (n < 0) return 0;
    } while (n == 0); /* blank lines between rows */
    *start_line = r->lineno;
    r->rec.n = 0;
    vkft_buf_add(&r->rec, r->line, (size_t)n);
    while (open_quote(r->rec.p, r->rec.n, delim)) {
        n = read_line(r);
        if (n < 0) break; /* unterminated quote: reported by split_row */
        vkft_buf_addc(&r->rec, '\n');
        vkft_buf_add(&r->rec, r->line, (size_t)n);
    }
    vkft_buf_nul(&r->rec);
    return 1;
}

int vkft_reader_next(vkft_reader *r, vkft_record *rec, char *err, size_t errlen) {
    cJSON_Delete(r->obj);
    r->obj = NULL;
    memset(rec, 0, sizeof *rec);
    rec->path = r->path;
    if (r->done) return VKFT_REC_EOF;
    for (;;) {
        long start = 0;
        if (r->fmt == VKFT_FMT_TEXT && r->per_file) {
            r->done = 1;
            r->rec.n = 0;
            char tmp[1 << 16];
            size_t k;
            while ((k = fread(tmp, 1, sizeof tmp, r->f)) > 0) {
                if (vkft_buf_add(&r->rec, tmp, k)) {
                    snprintf(err, errlen, "%s: out of memory", r->path);
                    return VKFT_REC_ERR;
                }
                r->offset += k;
            }
            if (ferror(r->f)) {
                snprintf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
                return VKFT_REC_ERR;
            }
            while (r->rec.n && (r->rec.p[r->rec.n - 1] == '\n' || r->rec.p[r->rec.n - 1] == '\r')) r->rec.n--;
            vkft_buf_nul(&r->rec);
            start = 1;
        } else if (r->fmt == VKFT_FMT_CSV || r->fmt == VKFT_FMT_TSV) {
            char delim = r->fmt == VKFT_FMT_CSV ? ',' : '\t';
            if (!r->cols) {
                if (!read_row(r, delim, &start)) return VKFT_REC_EOF;
                long bad = vkft_utf8_invalid_at(r->rec.p, r->rec.n);
                if (bad >= 0 || split_row(r, delim, header_cb, r) < 0) {
                    snprintf(err, errlen, "%s:%ld: the header row is malformed%s", r->path, start,
                             bad >= 0 ? " (invalid UTF-8)" : " (stray quote)");
                    return VKFT_REC_ERR;
                }
            }
            if (!read_row(r, delim, &start)) {
                if (ferror(r->f)) {
                    snprintf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
                    return VKFT_REC_ERR;
                }
                return VKFT_REC_EOF;
            }
        } else {
            long n = read_line(r);
            if (n < 0) {
                if (ferror(r->f)) {
                    snprintf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
                    return VKFT_REC_ERR;
                }
                return VKFT_REC_EOF;
            }
            start = r->lineno;
            /* blank (or all-space) lines hold no record */
            long k = 0;
            while (k < n && (r->line[k] == ' ' || r->line[k] == '\t')) k++;
            if (k == n) continue;
            r->rec.n = 0;
            vkft_buf_add(&r->rec, r->line, (size_t)n);
            vkft_buf_nul(&r->rec);
        }
        rec->line = start;
        rec->raw = r->rec.p;
        rec->raw_len = r->rec.n;
        long bad = vkft_utf8_invalid_at(r->rec.p, r->rec.n);
        if (bad >= 0) {
            snprintf(err, errlen, "%s:%ld: invalid UTF-8 at byte %ld of the record", r->path, start, bad + 1);
            return VKFT_REC_BAD;
        }
        if (r->fmt == VKFT_FMT_JSONL) {
            const char *endp = NULL;
            r->obj = cJSON_ParseWithLengthOpts(r->rec.p, r->rec.n, &endp, 0);
            if (!r->obj && start == 1 && r->rec.n && r->rec.p[0] == '[') {
                snprintf(err, errlen,
                         "%s:1: a JSON array, not JSON Lines (one object per line); convert it first, e.g. "
                         "jq -c '.[]' FILE > FILE.jsonl",
                         r->path);
                return VKFT_REC_BAD;
            }
            if (!r->obj) {
                long at = endp ? (long)(endp - r->rec.p) + 1 : 0;
                snprintf(err, errlen, "%s:%ld: bad JSON near byte %ld", r->path, start, at);
                return VKFT_REC_BAD;
            }
            const char *e = endp;
            while (e && e < r->rec.p + r->rec.n && (*e == ' ' || *e == '\t')) e++;
            if (e && e < r->rec.p + r->rec.n) {
                snprintf(err, errlen, "%s:%ld: text after the JSON value (one object per line)", r->path,
                         start);
                return VKFT_REC_BAD;
            }
            if (start == 1 && r->rec.n && r->rec.p[0] == '[') {
                snprintf(err, errlen,
                         "%s:1: a JSON array, not JSON Lines (one object per line); convert it first, e.g. "
                         "jq -c '.[]' FILE > FILE.jsonl",
                         r->path);
                return VKFT_REC_BAD;
            }
            if (!cJSON_IsObject(r->obj)) {
                snprintf(err, errlen, "%s:%ld: the line is JSON but not an object", r->path, start);
                return VKFT_REC_BAD;
            }
        } else if (r->fmt == VKFT_FMT_TEXT) {
            r->obj = cJSON_CreateObject();
            if (!r->obj || !cJSON_AddStringToObject(r->obj, "text", r->rec.p)) {
                snprintf(err, errlen, "%s: out of memory", r->path);
                return VKFT_REC_ERR;
            }
        } else {
            char delim = r->fmt == VKFT_FMT_CSV ? ',' : '\t';
            r->obj = cJSON_CreateObject();
            int nf = split_row(r, delim, row_cb, r);
            if (nf == -1) {
                snprintf(err, errlen,
                         "%s:%ld: malformed quoting (RFC 4180: quote the whole field, double "
                         "inner quotes)",
                         r->path, start);
                return VKFT_REC_BAD;
            }
            if (nf != r->ncols) {
                snprintf(err, errlen, "%s:%ld: %s fields, the header has %d", r->path, start,
                         nf < 0 ? "too many" : (nf < r->ncols ? "too few" : "too many"), r->ncols);
                return VKFT_REC_BAD;
            }
        }
        rec->obj = r->obj;
        rec->index = r->index++;
        return VKFT_REC_OK;
    }
}

/* ---- writer ------------------------------------------------------------------------------------ */

struct vkft_writer {
    vkft_atomic_file af;
    FILE *f;
    int is_stdout;
    vkft_format fmt;
    char *text_field;
    char **cols;
    int ncols;
    long count, unwritten;
    vkft_buf tmp;
};

int vkft_writer_open(vkft_writer **out, const char *path, vkft_format fmt, const char *text_field, char *err,
                     size_t errlen) {
    *out = NULL;
    if (fmt == VKFT_FMT_AUTO) fmt = vkft_format_guess(path);
    if (fmt == VKFT_FMT_AUTO) fmt = VKFT_FMT_JSONL;
    vkft_writer *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    w->fmt = fmt;
    w->text_field = strdup(text_field ? text_field : "text");
    if (!strcmp(path, "-")) {
        w->f = stdout;
        w->is_stdout = 1;
    } else {
        if (vkft_atomic_open(&w->af, path, err, errlen)) {
            free(w->text_field);
            free(w);
            return -1;
        }
        w->f = w->af.f;
        setvbuf(w->f, NULL, _IOFBF, 1 << 20);
    }
    *out = w;
    return 0;
}

int vkft_writer_set_columns(vkft_writer *w, const char *const *cols, int n) {
    for (int i = 0; i < w->ncols; i++) free(w->cols[i]);
    free(w->cols);
    w->cols = calloc((size_t)(n ? n : 1), sizeof(char *));
    if (!w->cols) return -1;
    for (int i = 0; i < n; i++) w->cols[i] = strdup(cols[i]);
    w->ncols = n;
    return 0;
}

static void put_csv_field(FILE *f, const char *s, char delim) {
    if (!strchr(s, delim) && !strchr(s, '"') && !strchr(s, '\n') && !strchr(s, '\r')) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int vkft_writer_put(vkft_writer *w, const cJSON *obj, const char *raw, size_t raw_len, int same_format,
                    char *err, size_t errlen) {
    int csv = w->fmt == VKFT_FMT_CSV || w->fmt == VKFT_FMT_TSV;
    char delim = w->fmt == VKFT_FMT_TSV ? '\t' : ',';
    if (csv && !w->cols) { /* header from the first record's keys */
        int n = 0;
        for (const cJSON *c = obj->child; c; c = c->next) n++;
        w->cols = calloc((size_t)(n ? n : 1), sizeof(char *));
        for (const cJSON *c = obj->child; c; c = c->next) w->cols[w->ncols++] = strdup(c->string);
    }
    if (csv && w->count == 0) {
        for (int i = 0; i < w->ncols; i++) {
            if (i) fputc(delim, w->f);
            put_csv_field(w->f, w->cols[i], delim);
        }
        fputc('\n', w->f);
    }
    if (raw && same_format) {
        fwrite(raw, 1, raw_len, w->f);
        fputc('\n', w->f);
    } else if (w->fmt == VKFT_FMT_JSONL) {
        char *s = cJSON_PrintUnformatted(obj);
        if (!s) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        fputs(s, w->f);
        fputc('\n', w->f);
        free(s);
    } else if (w->fmt == VKFT_FMT_TEXT) {
        char buf[64];
        const char *t = vkft_path_text(obj, w->text_field, buf, sizeof buf);
        if (!t) t = "";
        for (const char *p = t; *p; p++) fputc(*p == '\n' || *p == '\r' ? ' ' : *p, w->f);
        fputc('\n', w->f);
    } else {
        /* fields that the header (taken from the first record) has no column for */
        for (const cJSON *c = obj->child; c; c = c->next) {
            int found = 0;
            for (int i = 0; i < w->ncols && !found; i++) found = !strcmp(c->string, w->cols[i]);
            if (!found) {
                w->unwritten++;
                break;
            }
        }
        for (int i = 0; i < w->ncols; i++) {
            if (i) fputc(delim, w->f);
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, w->cols[i]);
            if (!v || cJSON_IsNull(v)) continue;
            if (cJSON_IsString(v))
                put_csv_field(w->f, v->valuestring, delim);
            else {
                char *s = cJSON_PrintUnformatted(v);
                if (s) put_csv_field(w->f, s, delim);
                free(s);
            }
        }
        fputc('\n', w->f);
    }
    if (ferror(w->f)) {
        snprintf(err, errlen, "write error: %s", strerror(errno));
        return -1;
    }
    w->count++;
    return 0;
}

long vkft_writer_count(const vkft_writer *w) { return w->count; }
long vkft_writer_unwritten(const vkft_writer *w) { return w->unwritten; }

static void writer_free(vkft_writer *w) {
    for (int i = 0; i < w->ncols; i++) free(w->cols[i]);
    free(w->cols);
    free(w->text_field);
    vkft_buf_free(&w->tmp);
    free(w);
}

int vkft_writer_commit(vkft_writer *w, char *err, size_t errlen) {
    int rc = 0;
    if (w->is_stdout)
        fflush(stdout);
    else
        rc = vkft_atomic_commit(&w->af, err, errlen);
    writer_free(w);
    return rc;
}

void vkft_writer_abort(vkft_writer *w) {
    if (!w) return;
    if (w->is_stdout)
        fflush(stdout);
    else
        vkft_atomic_abort(&w->af);
    writer_free(w);
}
