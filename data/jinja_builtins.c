/* The chat-template engine's filters (x | f), tests (x is t) and methods (x.strip()), as Jinja2 and
 * Python's str and dict define them. Case changes touch ASCII letters only. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/jinja_internal.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- strings, code point by code point ---- */

static size_t cp_len(const char *s, size_t n) { /* bytes of the UTF-8 sequence at s */
    unsigned char c = (unsigned char)s[0];
    size_t k = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return k > n ? 1 : k;
}

static unsigned cp_at(const char *s, size_t n, size_t *k) {
    *k = cp_len(s, n);
    unsigned c = (unsigned char)s[0];
    unsigned cp = *k == 1 ? c : c & (0x3Fu >> (*k - 1));
    for (size_t i = 1; i < *k; i++) cp = cp << 6 | ((unsigned char)s[i] & 0x3F);
    return cp;
}

/* Python's str.isspace() */
static int py_space(unsigned c) {
    return (c >= 9 && c <= 13) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Is code point c in chars (NULL: whitespace)? */
static int in_set(unsigned c, const jval *chars) {
    if (!chars) return py_space(c);
    for (size_t i = 0, k; i < chars->n; i += k)
        if (cp_at(chars->s + i, chars->n - i, &k) == c) return 1;
    return 0;
}

/* The start of the last code point before end. */
static size_t cp_prev(const char *s, size_t end) {
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    return i;
}

static jval *strip(jarena *a, const jval *v, const jval *chars, int left, int right) {
    size_t b = 0, e = v->n, k;
    while (left && b < e && in_set(cp_at(v->s + b, e - b, &k), chars)) b += k;
    while (right && e > b) {
        size_t p = cp_prev(v->s, e);
        if (!in_set(cp_at(v->s + p, e - p, &k), chars)) break;
        e = p;
    }
    return jv_str(a, v->s + b, e - b);
}

static jval *change_case(jarena *a, const jval *v, char how) { /* u l t(itle) c(apitalize) */
    jval *r = jv_str(a, v->s, v->n);
    char *s = (char *)r->s;
    int prev_cased = 0;
    for (size_t i = 0; i < r->n; i++) {
        char c = s[i];
        int lower = c >= 'a' && c <= 'z', upper = c >= 'A' && c <= 'Z';
        int to_upper = how == 'u' || (how == 't' && !prev_cased) || (how == 'c' && i == 0);
        if (to_upper && lower) s[i] = (char)(c - 32);
        if (!to_upper && how != 'u' && upper) s[i] = (char)(c + 32);
        prev_cased = lower || upper || ((unsigned char)c >= 0x80); /* a non-ASCII letter continues a word */
    }
    return r;
}

static const char *find_bytes(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0) return h;
    for (size_t i = 0; i + nn <= hn; i++)
        if (h[i] == n[0] && !memcmp(h + i, n, nn)) return h + i;
    return NULL;
}

/* Python's str.replace(old, new, count) */
static jval *replace(jarena *a, const jval *v, const jval *old, const jval *rep, long long count) {
    jbuf b = {0};
    jb_put(&b, "", 0);
    size_t i = 0;
    long long done = 0;
    if (old->n == 0) { /* new goes before every code point and at the end */
        while (count < 0 || done < count) {
            jb_put(&b, rep->s, rep->n);
            done++;
            if (i >= v->n) break;
            size_t k = cp_len(v->s + i, v->n - i);
            jb_put(&b, v->s + i, k);
            i += k;
        }
    } else {
        const char *p;
        while ((count < 0 || done < count) && (p = find_bytes(v->s + i, v->n - i, old->s, old->n))) {
            jb_put(&b, v->s + i, (size_t)(p - v->s) - i);
            jb_put(&b, rep->s, rep->n);
            i = (size_t)(p - v->s) + old->n;
            done++;
        }
    }
    jb_put(&b, v->s + i, v->n - i);
    jval *r = jv_str(a, b.s, b.n);
    free(b.s);
    return r;
}

/* Python's str.split(sep=None, maxsplit=-1) */
static jval *split(jarena *a, const jval *v, const jval *sep, long long maxsplit) {
    jval *l = jv_new(a, JV_LIST);
    size_t i = 0, k;
    if (!sep) {
        for (;;) {
            while (i < v->n && py_space(cp_at(v->s + i, v->n - i, &k))) i += k;
            if (i >= v->n) break;
            size_t s = i;
            if (maxsplit >= 0 && (long long)l->n >= maxsplit) { /* the rest, trailing whitespace removed */
                jval *rest = strip(a, &(jval){.t = JV_STR, .s = v->s + s, .n = v->n - s}, NULL, 0, 1);
                jv_list_push(a, l, rest);
                break;
            }
            while (i < v->n && !py_space(cp_at(v->s + i, v->n - i, &k))) i += k;
            jv_list_push(a, l, jv_str(a, v->s + s, i - s));
        }
        return l;
    }
    const char *p;
    while ((maxsplit < 0 || (long long)l->n < maxsplit) && (p = find_bytes(v->s + i, v->n - i, sep->s, sep->n))) {
        jv_list_push(a, l, jv_str(a, v->s + i, (size_t)(p - v->s) - i));
        i = (size_t)(p - v->s) + sep->n;
    }
    jv_list_push(a, l, jv_str(a, v->s + i, v->n - i));
    return l;
}

/* The code points of a string as a list of one-character strings. */
static jval *chars_of(jarena *a, const jval *v) {
    jval *l = jv_new(a, JV_LIST);
    for (size_t i = 0, k; i < v->n; i += k) {
        k = cp_len(v->s + i, v->n - i);
        jv_list_push(a, l, jv_str(a, v->s + i, k));
    }
    return l;
}

static jval *to_string(jarena *a, const jval *v) {
    if (v->t == JV_STR) return (jval *)v;
    jbuf b = {0};
    jb_put(&b, "", 0);
    jv_print(&b, v);
    jval *r = jv_str(a, b.s, b.n);
    free(b.s);
    return r;
}

static int affix(const jval *v, const jval *x, int end, int *out, char *err, size_t errlen) {
    if (x->t == JV_LIST) {
        *out = 0;
        for (size_t i = 0; i < x->n && !*out; i++) {
            if (affix(v, x->items[i], end, out, err, errlen)) return -1;
        }
        return 0;
    }
    if (x->t != JV_STR) return fail(err, errlen, "%s() needs a string or a tuple of strings", end ? "endswith" : "startswith");
    *out = x->n <= v->n && !memcmp(v->s + (end ? v->n - x->n : 0), x->s, x->n);
    return 0;
}

/* ---- attributes and methods ---- */

static const char *const STR_METHODS[] = {"strip", "lstrip", "rstrip", "startswith", "endswith", "split", "replace",
                                          "upper", "lower", "title", "capitalize", "join", "find", "count", NULL};
static const char *const DICT_METHODS[] = {"items", "keys", "values", "get", NULL};

static int listed(const char *const *names, const char *s, size_t n) {
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], s, n)) return 1;
    return 0;
}

jval *jinja_attr(jarena *a, jval *v, const char *name, size_t n) {
    if (v->t == JV_DICT || v->t == JV_NS) {
        jval *x = jv_dict_get(v, name, n);
        if (x) return x;
    }
    if ((v->t == JV_STR && listed(STR_METHODS, name, n)) || (v->t == JV_DICT && listed(DICT_METHODS, name, n))) {
        jval *f = jv_new(a, JV_FUNC);
        f->fn = JF_METHOD;
        f->s = ja_strdup(a, name, n);
        f->self = v;
        return f;
    }
    return jv_new(a, JV_UNDEF);
}

static jval *dict_items(jarena *a, const jval *d) {
    jval *l = jv_new(a, JV_LIST);
    for (size_t i = 0; i < d->n; i++) {
        jval *pair = jv_new(a, JV_LIST);
        pair->tuple = 1;
        jv_list_push(a, pair, jv_str(a, d->keys[i], strlen(d->keys[i])));
        jv_list_push(a, pair, d->items[i]);
        jv_list_push(a, l, pair);
    }
    return l;
}

static int want_str(const jval *x, const char *what, const char *method, char *err, size_t errlen) {
    if (x && x->t == JV_STR) return 0;
    return fail(err, errlen, "%s() needs a string %s", method, what);
}

static long long int_arg(const jval *x, long long def) { return x && (x->t == JV_INT || x->t == JV_BOOL) ? x->i : def; }

int jinja_call_method(jarena *a, const jval *fn, const jargs *g, jval **out, char *err, size_t errlen) {
    const char *m = fn->s;
    jval *v = fn->self, *x = jargs_get(g, 0, NULL);
    if (v->t == JV_DICT) {
        if (!strcmp(m, "items")) *out = dict_items(a, v);
        if (!strcmp(m, "keys") || !strcmp(m, "values")) {
            *out = jv_new(a, JV_LIST);
            for (size_t i = 0; i < v->n; i++)
                jv_list_push(a, *out, m[0] == 'k' ? jv_str(a, v->keys[i], strlen(v->keys[i])) : v->items[i]);
        }
        if (!strcmp(m, "get")) {
            if (want_str(x, "key", "get", err, errlen)) return -1;
            jval *d = jargs_get(g, 1, "default"), *r = jv_dict_get(v, x->s, x->n);
            *out = r ? r : d ? d : jv_new(a, JV_NONE);
        }
        return 0;
    }
    if (!strcmp(m, "strip") || !strcmp(m, "lstrip") || !strcmp(m, "rstrip")) {
        if (x && x->t != JV_NONE && want_str(x, "of characters", m, err, errlen)) return -1;
        *out = strip(a, v, x && x->t == JV_STR ? x : NULL, m[0] != 'r', m[0] != 'l');
    } else if (!strcmp(m, "startswith") || !strcmp(m, "endswith")) {
        int r;
        if (!x) return fail(err, errlen, "%s() needs an argument", m);
        if (affix(v, x, m[0] == 'e', &r, err, errlen)) return -1;
        *out = jv_bool(a, r);
    } else if (!strcmp(m, "split")) {
        jval *sep = jargs_get(g, 0, "sep");
        if (sep && sep->t == JV_NONE) sep = NULL;
        if (sep && (want_str(sep, "separator", m, err, errlen) || (!sep->n && fail(err, errlen, "split(): empty separator"))))
            return -1;
        *out = split(a, v, sep, int_arg(jargs_get(g, 1, "maxsplit"), -1));
    } else if (!strcmp(m, "replace")) {
        jval *y = jargs_get(g, 1, NULL);
        if (want_str(x, "to replace", m, err, errlen) || want_str(y, "replacement", m, err, errlen)) return -1;
        *out = replace(a, v, x, y, int_arg(jargs_get(g, 2, "count"), -1));
    } else if (!strcmp(m, "upper") || !strcmp(m, "lower") || !strcmp(m, "title") || !strcmp(m, "capitalize")) {
        *out = change_case(a, v, m[0] == 'c' ? 'c' : m[0] == 't' ? 't' : m[0] == 'u' ? 'u' : 'l');
    } else if (!strcmp(m, "join")) {
        if (!x || x->t != JV_LIST) return fail(err, errlen, "join() needs a list");
        jbuf b = {0};
        jb_put(&b, "", 0);
        for (size_t i = 0; i < x->n; i++) {
            if (i) jb_put(&b, v->s, v->n);
            jv_print(&b, x->items[i]);
        }
        *out = jv_str(a, b.s, b.n);
        free(b.s);
    } else { /* find, count */
        if (want_str(x, "to look for", m, err, errlen)) return -1;
        const char *p = find_bytes(v->s, v->n, x->s, x->n);
        if (!strcmp(m, "find")) {
            *out = jv_int(a, p ? (long long)utf8_count(v->s, (size_t)(p - v->s)) : -1);
        } else {
            long long c = 0;
            for (size_t i = 0; x->n && (p = find_bytes(v->s + i, v->n - i, x->s, x->n)); c++)
                i = (size_t)(p - v->s) + x->n;
            *out = jv_int(a, x->n ? c : (long long)utf8_count(v->s, v->n) + 1);
        }
    }
    return 0;
}

/* ---- tests ---- */

static const char *const TESTS[] = {"defined", "undefined", "none", "string", "number", "integer", "float",
                                    "boolean", "true", "false", "mapping", "iterable", "sequence", "callable",
                                    "odd", "even", "lower", "upper", "divisibleby", "eq", "equalto", "ne", "in", NULL};

int jinja_test_known(const char *name) { return listed(TESTS, name, strlen(name)); }

int jinja_apply_test(const char *t, const jval *v, const jargs *g, int *out, char *err, size_t errlen) {
    const jval *x = jargs_get(g, 0, NULL);
    jv_type ty = v->t;
    if (!strcmp(t, "defined")) *out = ty != JV_UNDEF;
    else if (!strcmp(t, "undefined")) *out = ty == JV_UNDEF;
    else if (!strcmp(t, "none")) *out = ty == JV_NONE;
    else if (!strcmp(t, "string")) *out = ty == JV_STR;
    else if (!strcmp(t, "number")) *out = ty == JV_INT || ty == JV_FLOAT;
    else if (!strcmp(t, "integer")) *out = ty == JV_INT;
    else if (!strcmp(t, "float")) *out = ty == JV_FLOAT;
    else if (!strcmp(t, "boolean")) *out = ty == JV_BOOL;
    else if (!strcmp(t, "true")) *out = ty == JV_BOOL && v->i;
    else if (!strcmp(t, "false")) *out = ty == JV_BOOL && !v->i;
    else if (!strcmp(t, "mapping")) *out = ty == JV_DICT;
    else if (!strcmp(t, "iterable") || !strcmp(t, "sequence")) *out = ty == JV_STR || ty == JV_LIST || ty == JV_DICT;
    else if (!strcmp(t, "callable")) *out = ty == JV_FUNC;
    else if (!strcmp(t, "lower") || !strcmp(t, "upper")) {
        *out = 0;
        if (ty == JV_STR) {
            int has_cased = 0, ok = 1;
            for (size_t i = 0; i < v->n; i++) {
                char c = v->s[i];
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) has_cased = 1;
                if (t[0] == 'l' ? (c >= 'A' && c <= 'Z') : (c >= 'a' && c <= 'z')) ok = 0;
            }
            *out = has_cased && ok;
        }
    } else if (!strcmp(t, "odd") || !strcmp(t, "even") || !strcmp(t, "divisibleby")) {
        long long d = t[0] == 'd' ? int_arg(x, 0) : 2;
        if (ty != JV_INT || d == 0) return fail(err, errlen, "the test '%s' needs an integer%s", t, t[0] == 'd' ? " and a non-zero divisor" : "");
        *out = t[0] == 'o' ? v->i % 2 != 0 : v->i % d == 0;
    } else if (!strcmp(t, "in")) {
        if (!x) return fail(err, errlen, "the test '%s' needs an argument", t);
        *out = 0;
        if (x->t == JV_STR && ty == JV_STR) *out = find_bytes(x->s, x->n, v->s, v->n) != NULL;
        for (size_t i = 0; x->t == JV_LIST && i < x->n; i++) *out |= jv_equal(v, x->items[i]);
        if (x->t == JV_DICT && ty == JV_STR) *out = jv_dict_get(x, v->s, v->n) != NULL;
    } else { /* eq equalto ne */
        if (!x) return fail(err, errlen, "the test '%s' needs an argument", t);
        *out = jv_equal(v, x) == (t[0] == 'e');
    }
    return 0;
}

/* ---- filters ---- */

static const char *const FILTERS[] = {"abs", "capitalize", "count", "d", "default", "first", "float", "indent", "int",
                                      "items", "join", "last", "length", "list", "lower", "map", "rejectattr",
                                      "replace", "reverse", "safe", "selectattr", "string", "title", "tojson", "trim",
                                      "unique", "upper", NULL};

int jinja_filter_known(const char *name) { return listed(FILTERS, name, strlen(name)); }

static int wrong_type(const char *f, const jval *v, char *err, size_t errlen) {
    return fail(err, errlen, "the filter '%s' does not apply to a %s", f, jv_type_name(v));
}

/* The value of an attribute path ("a.b", or a number for list items) of item, for map and selectattr. */
static jval *attr_path(jarena *a, jval *item, const jval *path) {
    if (path->t == JV_INT) return item->t == JV_LIST && path->i >= 0 && (size_t)path->i < item->n ? item->items[path->i] : jv_new(a, JV_UNDEF);
    const char *s = path->s, *end = s + path->n;
    while (s <= end && item->t != JV_UNDEF) {
        const char *dot = memchr(s, '.', (size_t)(end - s));
        size_t n = (size_t)((dot ? dot : end) - s);
        item = item->t == JV_DICT || item->t == JV_NS ? jinja_attr(a, item, s, n) : jv_new(a, JV_UNDEF);
        if (!dot) break;
        s = dot + 1;
    }
    return item;
}

static int filter_list(jarena *a, const char *f, jval *v, const jargs *g, jval **out, char *err, size_t errlen) {
    if (!strcmp(f, "first") || !strcmp(f, "last")) {
        *out = v->n ? v->items[f[0] == 'f' ? 0 : v->n - 1] : jv_new(a, JV_UNDEF);
    } else if (!strcmp(f, "reverse") || !strcmp(f, "list") || !strcmp(f, "unique")) {
        *out = jv_new(a, JV_LIST);
        for (size_t i = 0; i < v->n; i++) {
            jval *x = v->items[f[0] == 'r' ? v->n - 1 - i : i];
            int seen = 0;
            for (size_t k = 0; f[0] == 'u' && k < (*out)->n && !seen; k++) seen = jv_equal((*out)->items[k], x);
            if (!seen) jv_list_push(a, *out, x);
        }
    } else if (!strcmp(f, "join")) {
        jval *sep = jargs_get(g, 0, "d"), *attr = jargs_get(g, 1, "attribute");
        if (sep && sep->t != JV_STR) return fail(err, errlen, "join needs a string separator");
        jbuf b = {0};
        jb_put(&b, "", 0);
        for (size_t i = 0; i < v->n; i++) {
            if (i && sep) jb_put(&b, sep->s, sep->n);
            jv_print(&b, attr ? attr_path(a, v->items[i], attr) : v->items[i]);
        }
        *out = jv_str(a, b.s, b.n);
        free(b.s);
    } else if (!strcmp(f, "map")) {
        jval *attr = jargs_get(g, -1, "attribute"), *def = jargs_get(g, -1, "default"), *name = jargs_get(g, 0, NULL);
        if (!attr && (!name || name->t != JV_STR || !jinja_filter_known(name->s)))
            return fail(err, errlen, "map needs attribute=NAME or the name of a known filter");
        *out = jv_new(a, JV_LIST);
        for (size_t i = 0; i < v->n; i++) {
            jval *x;
            if (attr) {
                x = attr_path(a, v->items[i], attr);
                if (x->t == JV_UNDEF && def) x = def;
            } else {
                jargs rest = {g->pos + 1, g->npos - 1, g->kw, g->kwv, g->nkw};
                if (jinja_apply_filter(a, name->s, v->items[i], &rest, &x, err, errlen)) return -1;
            }
            jv_list_push(a, *out, x);
        }
    } else if (!strcmp(f, "selectattr") || !strcmp(f, "rejectattr")) {
        jval *attr = jargs_get(g, 0, NULL), *test = jargs_get(g, 1, NULL);
        if (!attr || attr->t != JV_STR || (test && (test->t != JV_STR || !jinja_test_known(test->s))))
            return fail(err, errlen, "%s needs an attribute name and optionally a known test name", f);
        jargs targs = {g->npos > 2 ? g->pos + 2 : NULL, g->npos > 2 ? g->npos - 2 : 0, NULL, NULL, 0};
        *out = jv_new(a, JV_LIST);
        for (size_t i = 0; i < v->n; i++) {
            jval *x = attr_path(a, v->items[i], attr);
            int ok = jv_truthy(x);
            if (test && jinja_apply_test(test->s, x, &targs, &ok, err, errlen)) return -1;
            if (ok == (f[0] == 's')) jv_list_push(a, *out, v->items[i]);
        }
    } else {
        return wrong_type(f, v, err, errlen);
    }
    return 0;
}

static int filter_string(jarena *a, const char *f, jval *v, const jargs *g, jval **out, char *err, size_t errlen) {
    jval *x = jargs_get(g, 0, NULL);
    if (!strcmp(f, "trim")) {
        if (x && want_str(x, "of characters", "trim", err, errlen)) return -1;
        *out = strip(a, v, x, 1, 1);
    } else if (!strcmp(f, "upper") || !strcmp(f, "lower") || !strcmp(f, "title") || !strcmp(f, "capitalize")) {
        *out = change_case(a, v, f[0] == 'c' ? 'c' : f[0] == 't' ? 't' : f[0] == 'u' ? 'u' : 'l');
    } else if (!strcmp(f, "replace")) {
        jval *y = jargs_get(g, 1, NULL);
        if (want_str(x, "to replace", "replace", err, errlen) || want_str(y, "replacement", "replace", err, errlen)) return -1;
        *out = replace(a, v, x, y, int_arg(jargs_get(g, 2, "count"), -1));
    } else if (!strcmp(f, "indent")) {
        jval *w = jargs_get(g, 0, "width"), *first = jargs_get(g, 1, "first"), *blank = jargs_get(g, 2, "blank");
        jbuf pad = {0}, b = {0};
        jb_put(&pad, "", 0);
        jb_put(&b, "", 0);
        if (w && w->t == JV_STR) jb_put(&pad, w->s, w->n);
        for (long long i = 0; !(w && w->t == JV_STR) && i < int_arg(w, 4); i++) jb_put(&pad, " ", 1);
        size_t s = 0;
        for (int line = 0;; line++) {
            const char *nl = memchr(v->s + s, '\n', v->n - s);
            size_t e = nl ? (size_t)(nl - v->s) : v->n;
            if ((line > 0 || (first && jv_truthy(first))) && (e > s || (blank && jv_truthy(blank)))) jb_put(&b, pad.s, pad.n);
            jb_put(&b, v->s + s, e - s);
            if (!nl) break;
            jb_put(&b, "\n", 1);
            s = e + 1;
        }
        *out = jv_str(a, b.s, b.n);
        free(b.s);
        free(pad.s);
    } else if (!strcmp(f, "first") || !strcmp(f, "last") || !strcmp(f, "reverse") || !strcmp(f, "list") ||
               !strcmp(f, "join") || !strcmp(f, "unique")) {
        return filter_list(a, f, chars_of(a, v), g, out, err, errlen);
    } else {
        return wrong_type(f, v, err, errlen);
    }
    return 0;
}

int jinja_apply_filter(jarena *a, const char *f, jval *v, const jargs *g, jval **out, char *err, size_t errlen) {
    if (!strcmp(f, "default") || !strcmp(f, "d")) {
        jval *def = jargs_get(g, 0, "default_value"), *boolean = jargs_get(g, 1, "boolean");
        int use = v->t == JV_UNDEF || (boolean && jv_truthy(boolean) && !jv_truthy(v));
        *out = use ? (def ? def : jv_str(a, "", 0)) : v;
        return 0;
    }
    if (!strcmp(f, "safe")) return *out = v, 0;
    if (!strcmp(f, "string")) return *out = to_string(a, v), 0;
    if (!strcmp(f, "tojson")) {
        jval *ind = jargs_get(g, 0, "indent"), *sep = jargs_get(g, -1, "separators");
        if (ind && ind->t != JV_INT && ind->t != JV_NONE) return fail(err, errlen, "tojson: indent must be a number");
        if (sep && (sep->t != JV_LIST || sep->n != 2 || sep->items[0]->t != JV_STR || sep->items[1]->t != JV_STR))
            return fail(err, errlen, "tojson: separators must be a pair of strings");
        jbuf b = {0};
        jb_put(&b, "", 0);
        jv_json(&b, v, ind && ind->t == JV_INT ? (int)ind->i : -1, 0, jv_truthy(jargs_get(g, -1, "sort_keys") ? jargs_get(g, -1, "sort_keys") : &(jval){0}),
                jv_truthy(jargs_get(g, -1, "ensure_ascii") ? jargs_get(g, -1, "ensure_ascii") : &(jval){0}),
                sep ? sep->items[0]->s : NULL, sep ? sep->items[1]->s : NULL);
        *out = jv_str(a, b.s, b.n);
        free(b.s);
        return 0;
    }
    if (!strcmp(f, "length") || !strcmp(f, "count")) {
        if (v->t == JV_STR) return *out = jv_int(a, (long long)utf8_count(v->s, v->n)), 0;
        if (v->t == JV_LIST || v->t == JV_DICT) return *out = jv_int(a, (long long)v->n), 0;
        return wrong_type(f, v, err, errlen);
    }
    if (!strcmp(f, "int") || !strcmp(f, "float")) {
        jval *def = jargs_get(g, 0, "default");
        double d = 0;
        int ok = 1;
        if (v->t == JV_INT || v->t == JV_BOOL) d = (double)v->i;
        else if (v->t == JV_FLOAT) d = v->f;
        else if (v->t == JV_STR) {
            char *s = ja_strdup(a, v->s, v->n), *end;
            d = strtod(s, &end);
            while (*end && py_space((unsigned char)*end)) end++;
            ok = end != s && !*end;
        } else ok = 0;
        if (!ok) return *out = def ? def : f[0] == 'i' ? jv_int(a, 0) : jv_float(a, 0), 0;
        *out = f[0] == 'i' ? jv_int(a, (long long)trunc(d)) : jv_float(a, d);
        return 0;
    }
    if (!strcmp(f, "abs")) {
        if (v->t == JV_INT || v->t == JV_BOOL) return *out = jv_int(a, v->i < 0 ? -v->i : v->i), 0;
        if (v->t == JV_FLOAT) return *out = jv_float(a, fabs(v->f)), 0;
        return wrong_type(f, v, err, errlen);
    }
    if (!strcmp(f, "items")) {
        if (v->t == JV_DICT) return *out = dict_items(a, v), 0;
        if (v->t == JV_UNDEF) return *out = jv_new(a, JV_LIST), 0;
        return wrong_type(f, v, err, errlen);
    }
    if (v->t == JV_STR) return filter_string(a, f, v, g, out, err, errlen);
    if (v->t == JV_LIST) return filter_list(a, f, v, g, out, err, errlen);
    if (v->t == JV_DICT && !strcmp(f, "list")) {
        *out = jv_new(a, JV_LIST);
        for (size_t i = 0; i < v->n; i++) jv_list_push(a, *out, jv_str(a, v->keys[i], strlen(v->keys[i])));
        return 0;
    }
    return wrong_type(f, v, err, errlen);
}
