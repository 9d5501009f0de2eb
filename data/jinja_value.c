/* Values of the chat-template engine: the arena they live in, conversions (print, JSON, truth, equality)
 * and the string and dict helpers the filters and methods (jinja_builtins.c) share. */
#include <math.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/jinja_internal.h"

struct jchunk {
    jchunk *next;
    size_t used, cap;
    alignas(max_align_t) unsigned char data[];
};

void *ja_alloc(jarena *a, size_t n) {
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        jchunk *c = malloc(sizeof *c + cap);
        if (!c) abort();
        c->next = a->head;
        c->used = 0;
        c->cap = cap;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    memset(p, 0, n);
    return p;
}

char *ja_strdup(jarena *a, const char *s, size_t n) {
    char *d = ja_alloc(a, n + 1);
    memcpy(d, s, n);
    return d;
}

void ja_free(jarena *a) {
    for (jchunk *c = a->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    a->head = NULL;
}

jval *jv_new(jarena *a, jv_type t) {
    jval *v = ja_alloc(a, sizeof *v);
    v->t = t;
    return v;
}
jval *jv_str(jarena *a, const char *s, size_t n) {
    jval *v = jv_new(a, JV_STR);
    v->s = ja_strdup(a, s, n);
    v->n = n;
    return v;
}
jval *jv_int(jarena *a, long long i) {
    jval *v = jv_new(a, JV_INT);
    v->i = i;
    return v;
}
jval *jv_float(jarena *a, double f) {
    jval *v = jv_new(a, JV_FLOAT);
    v->f = f;
    return v;
}
jval *jv_bool(jarena *a, int b) {
    jval *v = jv_new(a, JV_BOOL);
    v->i = b != 0;
    return v;
}

static void grow(jarena *a, jval *c) {
    if (c->n < c->cap) return;
    size_t cap = c->cap ? c->cap * 2 : 4;
    jval **items = ja_alloc(a, cap * sizeof *items);
    const char **keys = ja_alloc(a, cap * sizeof *keys);
    if (c->n) {
        memcpy(items, c->items, c->n * sizeof *items);
        if (c->keys) memcpy(keys, c->keys, c->n * sizeof *keys);
    }
    c->items = items;
    c->keys = keys;
    c->cap = cap;
}

void jv_list_push(jarena *a, jval *list, jval *v) {
    grow(a, list);
    list->items[list->n++] = v;
}

jval *jv_dict_get(const jval *d, const char *key, size_t klen) {
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->keys[i]) == klen && !memcmp(d->keys[i], key, klen)) return d->items[i];
    return NULL;
}

void jv_dict_set(jarena *a, jval *d, const char *key, size_t klen, jval *v) {
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->keys[i]) == klen && !memcmp(d->keys[i], key, klen)) {
            d->items[i] = v;
            return;
        }
    grow(a, d);
    d->keys[d->n] = ja_strdup(a, key, klen);
    d->items[d->n++] = v;
}

/* JSON numbers without a fraction or exponent are integers (JSON has one number type; this is what
 * transformers' Python json.loads and @huggingface/jinja both do for "1", and "1.0" becomes 1 here). */
jval *jv_from_json(jarena *a, const cJSON *j) {
    if (!j || cJSON_IsNull(j)) return jv_new(a, JV_NONE);
    if (cJSON_IsBool(j)) return jv_bool(a, cJSON_IsTrue(j));
    if (cJSON_IsNumber(j)) {
        double f = j->valuedouble;
        if (f == floor(f) && fabs(f) < 9.007199254740992e15) return jv_int(a, (long long)f);
        return jv_float(a, f);
    }
    if (cJSON_IsString(j)) return jv_str(a, j->valuestring, strlen(j->valuestring));
    if (cJSON_IsArray(j)) {
        jval *l = jv_new(a, JV_LIST);
        for (const cJSON *e = j->child; e; e = e->next) jv_list_push(a, l, jv_from_json(a, e));
        return l;
    }
    if (cJSON_IsObject(j)) {
        jval *d = jv_new(a, JV_DICT);
        for (const cJSON *e = j->child; e; e = e->next) jv_dict_set(a, d, e->string, strlen(e->string), jv_from_json(a, e));
        return d;
    }
    return jv_new(a, JV_UNDEF);
}

int jv_truthy(const jval *v) {
    switch (v->t) {
    case JV_UNDEF:
    case JV_NONE: return 0;
    case JV_BOOL:
    case JV_INT: return v->i != 0;
    case JV_FLOAT: return v->f != 0;
    case JV_STR:
    case JV_LIST:
    case JV_DICT: return v->n > 0;
    default: return 1;
    }
}

static int numeric(const jval *v, double *d) {
    if (v->t == JV_INT || v->t == JV_BOOL) return *d = (double)v->i, 1;
    if (v->t == JV_FLOAT) return *d = v->f, 1;
    return 0;
}

/* Python's ==: numbers by value (True == 1), strings by content, containers element by element. */
int jv_equal(const jval *x, const jval *y) {
    double a, b;
    if (numeric(x, &a) && numeric(y, &b)) return a == b;
    if (x->t != y->t) return 0;
    switch (x->t) {
    case JV_UNDEF:
    case JV_NONE: return 1;
    case JV_STR: return x->n == y->n && !memcmp(x->s, y->s, x->n);
    case JV_LIST:
        if (x->n != y->n) return 0;
        for (size_t i = 0; i < x->n; i++)
            if (!jv_equal(x->items[i], y->items[i])) return 0;
        return 1;
    case JV_DICT:
        if (x->n != y->n) return 0;
        for (size_t i = 0; i < x->n; i++) {
            const jval *o = jv_dict_get(y, x->keys[i], strlen(x->keys[i]));
            if (!o || !jv_equal(x->items[i], o)) return 0;
        }
        return 1;
    default: return x == y;
    }
}

const char *jv_type_name(const jval *v) {
    static const char *const names[] = {"undefined", "none", "boolean", "integer", "float",
                                        "string",    "list", "dict",    "namespace", "function"};
    return v->tuple ? "tuple" : names[v->t];
}

size_t utf8_count(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

void jb_put(jbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (!b->s) abort();
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}
void jb_puts(jbuf *b, const char *s) { jb_put(b, s, strlen(s)); }

/* Python's repr of a float: the shortest text that reads back the same, with ".0" when integral. */
static void put_float(jbuf *b, double f, int json) {
    char t[40];
    if (isnan(f)) {
        jb_puts(b, json ? "NaN" : "nan");
        return;
    }
    if (isinf(f)) {
        jb_puts(b, f > 0 ? (json ? "Infinity" : "inf") : (json ? "-Infinity" : "-inf"));
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(t, sizeof t, "%.*g", p, f);
        if (strtod(t, NULL) == f) break;
    }
    jb_puts(b, t);
    if (!strpbrk(t, ".e")) jb_puts(b, ".0");
}

void jv_print(jbuf *b, const jval *v) {
    char t[32];
    switch (v->t) {
    case JV_UNDEF: return;
    case JV_NONE: jb_puts(b, "None"); return;
    case JV_BOOL: jb_puts(b, v->i ? "True" : "False"); return;
    case JV_INT:
        snprintf(t, sizeof t, "%lld", v->i);
        jb_puts(b, t);
        return;
    case JV_FLOAT: put_float(b, v->f, 0); return;
    case JV_STR: jb_put(b, v->s, v->n); return;
    case JV_FUNC: jb_puts(b, "<function>"); return;
    default: jv_json(b, v, -1, 0, 0, 0, NULL, NULL); return;
    }
}

/* Decodes one UTF-8 sequence at s (n > 0 bytes); invalid bytes decode as themselves. */
static unsigned utf8_next(const unsigned char *s, size_t n, size_t *len) {
    unsigned c = s[0];
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (k > n) k = 1;
    unsigned cp = k == 1 ? c : c & (0x3F >> (k - 1));
    for (size_t i = 1; i < k; i++) cp = cp << 6 | (s[i] & 0x3F);
    *len = k;
    return cp;
}

/* A JSON string as Python's json.dumps writes it (ensure_ascii: non-ASCII as \uXXXX escapes). */
static void put_json_string(jbuf *b, const char *s, size_t n, int ascii) {
    char t[16];
    jb_put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        if (esc) {
            jb_puts(b, esc);
            i++;
        } else if (c < 0x20) {
            snprintf(t, sizeof t, "\\u%04x", c);
            jb_puts(b, t);
            i++;
        } else if (c >= 0x80 && ascii) {
            size_t k;
            unsigned cp = utf8_next((const unsigned char *)s + i, n - i, &k);
            if (cp >= 0x10000) {
                cp -= 0x10000;
                snprintf(t, sizeof t, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
            } else {
                snprintf(t, sizeof t, "\\u%04x", cp);
            }
            jb_puts(b, t);
            i += k;
        } else {
            jb_put(b, s + i, 1);
            i++;
        }
    }
    jb_put(b, "\"", 1);
}

static void newline_indent(jbuf *b, int indent, int depth) {
    jb_put(b, "\n", 1);
    for (int i = 0; i < indent * depth; i++) jb_put(b, " ", 1);
}

static int key_cmp(const void *x, const void *y) { return strcmp(**(const char *const *const *)x, **(const char *const *const *)y); }

void jv_json(jbuf *b, const jval *v, int indent, int depth, int sort_keys, int ascii, const char *item_sep,
             const char *key_sep) {
    char t[32];
    if (!item_sep) item_sep = indent >= 0 ? "," : ", ";
    if (!key_sep) key_sep = ": ";
    switch (v->t) {
    case JV_UNDEF:
    case JV_NONE:
    case JV_FUNC: jb_puts(b, "null"); return;
    case JV_BOOL: jb_puts(b, v->i ? "true" : "false"); return;
    case JV_INT:
        snprintf(t, sizeof t, "%lld", v->i);
        jb_puts(b, t);
        return;
    case JV_FLOAT: put_float(b, v->f, 1); return;
    case JV_STR: put_json_string(b, v->s, v->n, ascii); return;
    case JV_LIST:
        jb_put(b, "[", 1);
        for (size_t i = 0; i < v->n; i++) {
            if (i) jb_puts(b, item_sep);
            if (indent >= 0) newline_indent(b, indent, depth + 1);
            jv_json(b, v->items[i], indent, depth + 1, sort_keys, ascii, item_sep, key_sep);
        }
        if (indent >= 0 && v->n) newline_indent(b, indent, depth);
        jb_put(b, "]", 1);
        return;
    default: { /* dicts and namespaces */
        const char ***order = malloc((v->n ? v->n : 1) * sizeof *order);
        for (size_t i = 0; i < v->n; i++) order[i] = &v->keys[i];
        if (sort_keys) qsort(order, v->n, sizeof *order, key_cmp);
        jb_put(b, "{", 1);
        for (size_t i = 0; i < v->n; i++) {
            size_t k = (size_t)(order[i] - v->keys);
            if (i) jb_puts(b, item_sep);
            if (indent >= 0) newline_indent(b, indent, depth + 1);
            put_json_string(b, v->keys[k], strlen(v->keys[k]), ascii);
            jb_puts(b, key_sep);
            jv_json(b, v->items[k], indent, depth + 1, sort_keys, ascii, item_sep, key_sep);
        }
        if (indent >= 0 && v->n) newline_indent(b, indent, depth);
        jb_put(b, "}", 1);
        free(order);
        return;
    }
    }
}

jval *jargs_get(const jargs *g, int idx, const char *name) {
    if (idx >= 0 && (size_t)idx < g->npos) return g->pos[idx];
    for (size_t i = 0; name && i < g->nkw; i++)
        if (!strcmp(g->kw[i], name)) return g->kwv[i];
    return NULL;
}
