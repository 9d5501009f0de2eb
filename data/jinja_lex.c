/* Template text -> tokens. Whitespace rules as transformers sets Jinja2 up: one trailing newline of the
 * template is dropped; trim_blocks (the newline right after %} or #} goes); lstrip_blocks (spaces and tabs
 * from the start of a line up to {% or {# go); '-' inside a tag's edge strips all whitespace on that side. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/jinja_internal.h"

int jerr(char *err, size_t errlen, int line, int col, const char *fmt, ...) {
    int o = snprintf(err, errlen, "line %d, column %d: ", line, col);
    if (o < 0 || (size_t)o >= errlen) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + o, errlen - (size_t)o, fmt, ap);
    va_end(ap);
    return -1;
}

typedef struct {
    const char *src;
    size_t len, pos;
    size_t at; /* line and col below are those of offset at (advanced forward only) */
    int line, col;
    jarena *a;
    jtoken *toks;
    size_t n, cap;
    char *err;
    size_t errlen;
} lexer;

/* Line and column (1-based, in characters) of offset off; cheap when offsets only grow. */
static void where(lexer *L, size_t off, int *line, int *col) {
    if (off < L->at) { /* an error about an earlier place: count from the start */
        L->at = 0;
        L->line = L->col = 1;
    }
    for (; L->at < off; L->at++) {
        unsigned char c = (unsigned char)L->src[L->at];
        if (c == '\n') {
            L->line++;
            L->col = 1;
        } else if ((c & 0xC0) != 0x80) {
            L->col++;
        }
    }
    *line = L->line;
    *col = L->col;
}

static jtoken *push(lexer *L, jtok_kind kind, size_t off, const char *s, size_t n) {
    if (L->n == L->cap) {
        L->cap = L->cap ? L->cap * 2 : 64;
        L->toks = realloc(L->toks, L->cap * sizeof *L->toks);
        if (!L->toks) abort();
    }
    jtoken *t = &L->toks[L->n++];
    memset(t, 0, sizeof *t);
    t->kind = kind;
    where(L, off, &t->line, &t->col);
    t->s = s ? ja_strdup(L->a, s, n) : "";
    t->n = s ? n : 0;
    return t;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

static int at(const lexer *L, size_t off, const char *s) {
    size_t n = strlen(s);
    return off + n <= L->len && !memcmp(L->src + off, s, n);
}

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xC0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xE0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 63)), o[2] = (char)(0x80 | (cp & 63)), 3;
    o[0] = (char)(0xF0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 63)), o[2] = (char)(0x80 | (cp >> 6 & 63));
    o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* A quoted string at L->pos, with Python's escapes (unknown ones are kept, backslash included). */
static int lex_string(lexer *L) {
    size_t start = L->pos;
    char q = L->src[L->pos++];
    char *buf = malloc(L->len - start + 1);
    size_t o = 0;
    while (L->pos < L->len && L->src[L->pos] != q) {
        char c = L->src[L->pos++];
        if (c != '\\' || L->pos >= L->len) {
            buf[o++] = c;
            continue;
        }
        char e = L->src[L->pos++];
        static const char from[] = "ntrbfv'\"\\", to[] = "\n\t\r\b\f\v'\"\\";
        const char *m = e ? strchr(from, e) : NULL;
        if (m) {
            buf[o++] = to[m - from];
        } else if (e == 'x' || e == 'u') {
            size_t digits = e == 'x' ? 2 : 4;
            unsigned cp = 0;
            for (size_t k = 0; k < digits; k++) {
                char h = L->pos + k < L->len ? L->src[L->pos + k] : 0;
                int d = is_digit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
                if (d < 0) {
                    int line, col;
                    where(L, start, &line, &col);
                    free(buf);
                    return jerr(L->err, L->errlen, line, col, "bad \\%c escape in a string (want %zu hex digits)", e,
                                digits);
                }
                cp = cp * 16 + (unsigned)d;
            }
            L->pos += digits;
            o += put_utf8(buf + o, cp);
        } else {
            buf[o++] = '\\';
            buf[o++] = e;
        }
    }
    if (L->pos >= L->len) {
        int line, col;
        where(L, start, &line, &col);
        free(buf);
        return jerr(L->err, L->errlen, line, col, "unterminated string (no closing %c)", q);
    }
    L->pos++;
    push(L, JT_STRING, start, buf, o);
    free(buf);
    return 0;
}

/* The inside of a {{ }} or {% %} tag opened at open; returns 1 when its closing edge had '-'. */
static int lex_tag(lexer *L, size_t open, int expr) {
    int depth = 0; /* braces of dict literals: their "}}" does not close the tag */
    static const char *const ops[] = {"**", "//", "==", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":",
                                      "|",  "<",  ">",  "+",  "-",  "~",  "*", "/", "%", "=", NULL};
    for (;;) {
        while (L->pos < L->len && is_space(L->src[L->pos])) L->pos++;
        if (L->pos >= L->len) {
            int line, col;
            where(L, open, &line, &col);
            return jerr(L->err, L->errlen, line, col, "unterminated %s (no %s before the end of the template)",
                        expr ? "{{" : "{%", expr ? "}}" : "%}");
        }
        const char *close = expr ? "}}" : "%}";
        int dash = at(L, L->pos, "-") && at(L, L->pos + 1, close);
        if (dash || (depth == 0 && at(L, L->pos, close))) {
            push(L, expr ? JT_CLOSE_EXPR : JT_CLOSE_STMT, L->pos, NULL, 0);
            L->pos += 2 + (size_t)dash;
            return dash;
        }
        char c = L->src[L->pos];
        size_t s = L->pos;
        if (c == '\'' || c == '"') {
            if (lex_string(L)) return -1;
        } else if (is_digit(c)) {
            while (L->pos < L->len && is_digit(L->src[L->pos])) L->pos++;
            int fl = L->pos + 1 < L->len && L->src[L->pos] == '.' && is_digit(L->src[L->pos + 1]);
            if (fl) {
                L->pos++;
                while (L->pos < L->len && is_digit(L->src[L->pos])) L->pos++;
            }
            jtoken *t = push(L, fl ? JT_FLOAT : JT_INT, s, L->src + s, L->pos - s);
            t->f = strtod(t->s, NULL);
            t->i = strtoll(t->s, NULL, 10);
        } else if (is_name_start(c)) {
            while (L->pos < L->len && (is_name_start(L->src[L->pos]) || is_digit(L->src[L->pos]))) L->pos++;
            push(L, JT_NAME, s, L->src + s, L->pos - s);
        } else {
            int k = 0;
            while (ops[k] && !at(L, L->pos, ops[k])) k++;
            if (!ops[k]) {
                int line, col;
                where(L, s, &line, &col);
                return jerr(L->err, L->errlen, line, col, "unexpected character '%c' in a %s tag", c,
                            expr ? "{{ }}" : "{% %}");
            }
            if (c == '{') depth++;
            if (c == '}' && depth > 0) depth--;
            L->pos += strlen(ops[k]);
            push(L, JT_OP, s, ops[k], strlen(ops[k]));
        }
    }
}

int jinja_lex(const char *src, size_t len, jarena *a, jtoken **toks, size_t *ntoks, char *err, size_t errlen) {
    if (len && src[len - 1] == '\n') len--; /* Jinja2's keep_trailing_newline=False */
    lexer L = {.src = src, .len = len, .line = 1, .col = 1, .a = a, .err = err, .errlen = errlen};
    int strip_next = 0, after_block = 0; /* the last tag had '-' on its right / was a {% %} or {# #} */
    while (L.pos < L.len) {
        size_t t0 = L.pos;
        if (strip_next)
            while (t0 < L.len && is_space(src[t0])) t0++;
        else if (after_block && t0 < L.len && src[t0] == '\n')
            t0++; /* trim_blocks */
        size_t t1 = t0;
        while (t1 < L.len && !(src[t1] == '{' && t1 + 1 < L.len && strchr("%{#", src[t1 + 1]))) t1++;
        size_t end = t1;
        if (t1 < L.len) {
            int block = src[t1 + 1] != '{', dash = t1 + 2 < L.len && src[t1 + 2] == '-';
            if (dash) {
                while (end > t0 && is_space(src[end - 1])) end--;
            } else if (block) { /* lstrip_blocks: only when the tag starts its line */
                size_t b = end;
                while (b > t0 && (src[b - 1] == ' ' || src[b - 1] == '\t')) b--;
                if (b == 0 || src[b - 1] == '\n') end = b;
            }
        }
        if (end > t0) push(&L, JT_TEXT, t0, src + t0, end - t0);
        L.pos = t1;
        if (t1 >= L.len) break;
        size_t open = t1;
        char kind = src[t1 + 1];
        L.pos = t1 + 2 + (t1 + 2 < L.len && src[t1 + 2] == '-');
        if (kind == '#') {
            const char *e = NULL;
            for (size_t k = L.pos; k + 1 < L.len; k++)
                if (src[k] == '#' && src[k + 1] == '}') {
                    e = src + k;
                    break;
                }
            if (!e) {
                int line, col;
                where(&L, open, &line, &col);
                free(L.toks);
                return jerr(err, errlen, line, col, "unterminated comment (no #} before the end of the template)");
            }
            strip_next = e > src + L.pos && e[-1] == '-';
            after_block = 1;
            L.pos = (size_t)(e - src) + 2;
            continue;
        }
        push(&L, kind == '%' ? JT_OPEN_STMT : JT_OPEN_EXPR, open, NULL, 0);
        int r = lex_tag(&L, open, kind == '{');
        if (r < 0) {
            free(L.toks);
            return -1;
        }
        strip_next = r;
        after_block = kind == '%';
    }
    push(&L, JT_EOF, L.len, NULL, 0);
    *toks = L.toks;
    *ntoks = L.n;
    return 0;
}
