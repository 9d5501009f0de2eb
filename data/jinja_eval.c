/* Renders a parsed template: statements write to a text buffer, expressions evaluate to values. Every
 * value of a render lives in one arena, freed when the render ends. Scopes follow Jinja2: a for loop's
 * body has its own (a set inside it does not leak out; namespace() is the way out), if does not, a macro
 * sees the template's top-level variables and its arguments. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/jinja_internal.h"

struct vkft_jinja {
    jarena arena;
    jlist program;
};

typedef struct frame {
    struct frame *parent;
    jval *vars; /* a JV_DICT */
} frame;

typedef struct {
    jarena *a;
    frame *root;
    int depth;
    char *err;
    size_t errlen;
} ctx;

enum { OK = 0, FAILED = -1, BREAK = 1, CONTINUE = 2 };
#define MAX_DEPTH 100

static jval *eval(ctx *c, const jnode *n, frame *f);
static int exec(ctx *c, const jlist *body, frame *f, jbuf *out);

static jval *err_at(ctx *c, const jnode *n, const char *what) {
    jerr(c->err, c->errlen, n->line, n->col, "%s", what);
    return NULL;
}

static jval *lookup(frame *f, const char *name, size_t n) {
    for (; f; f = f->parent) {
        jval *v = jv_dict_get(f->vars, name, n);
        if (v) return v;
    }
    return NULL;
}

static frame *new_frame(ctx *c, frame *parent) {
    frame *f = ja_alloc(c->a, sizeof *f);
    f->parent = parent;
    f->vars = jv_new(c->a, JV_DICT);
    return f;
}

/* ---- calls ---- */

static int eval_args(ctx *c, const jlist *l, frame *f, jargs *g) {
    memset(g, 0, sizeof *g);
    g->pos = ja_alloc(c->a, (l->n + 1) * sizeof *g->pos);
    g->kw = ja_alloc(c->a, (l->n + 1) * sizeof *g->kw);
    g->kwv = ja_alloc(c->a, (l->n + 1) * sizeof *g->kwv);
    for (size_t i = 0; i < l->n; i++) {
        const jnode *x = l->v[i];
        jval *v = eval(c, x->kind == JN_KWARG ? x->a : x, f);
        if (!v) return -1;
        if (x->kind == JN_KWARG) {
            g->kw[g->nkw] = x->s;
            g->kwv[g->nkw++] = v;
        } else {
            g->pos[g->npos++] = v;
        }
    }
    return 0;
}

static jval *call_macro(ctx *c, const jnode *call, const jnode *m, const jargs *g) {
    if (c->depth >= MAX_DEPTH) return err_at(c, call, "macros call each other more than 100 deep");
    if (g->npos > m->args.n) {
        char what[300];
        snprintf(what, sizeof what, "macro '%s' takes %zu arguments, got %zu", m->s, m->args.n, g->npos);
        return err_at(c, call, what);
    }
    frame *f = new_frame(c, c->root);
    for (size_t i = 0; i < g->nkw; i++) {
        size_t k = 0;
        while (k < m->args.n && strcmp(m->args.v[k]->s, g->kw[i])) k++;
        if (k == m->args.n) {
            char what[300];
            snprintf(what, sizeof what, "macro '%s' has no parameter '%s'", m->s, g->kw[i]);
            return err_at(c, call, what);
        }
    }
    for (size_t i = 0; i < m->args.n; i++) {
        const jnode *p = m->args.v[i];
        jval *v = i < g->npos ? g->pos[i] : jargs_get(g, -1, p->s);
        if (!v && p->kind == JN_KWARG && !(v = eval(c, p->a, f))) return NULL;
        jv_dict_set(c->a, f->vars, p->s, strlen(p->s), v ? v : jv_new(c->a, JV_UNDEF));
    }
    jbuf out = {0};
    jb_put(&out, "", 0);
    c->depth++;
    int rc = exec(c, &m->body, f, &out);
    c->depth--;
    jval *r = rc == FAILED ? NULL : jv_str(c->a, out.s, out.n);
    free(out.s);
    return r;
}

static jval *call(ctx *c, const jnode *n, frame *f) {
    jval *fn = eval(c, n->a, f);
    if (!fn) return NULL;
    jargs g;
    if (eval_args(c, &n->args, f, &g)) return NULL;
    if (fn->t != JV_FUNC) {
        char what[200];
        snprintf(what, sizeof what, "%s%s%s is not a function (it is %s)", n->a->kind == JN_NAME ? "'" : "",
                 n->a->kind == JN_NAME ? n->a->s : "this value", n->a->kind == JN_NAME ? "'" : "",
                 fn->t == JV_UNDEF ? "undefined" : jv_type_name(fn));
        return err_at(c, n, what);
    }
    jval *out = NULL, *x = jargs_get(&g, 0, NULL);
    char msg[512];
    switch (fn->fn) {
    case JF_RAISE: {
        jbuf b = {0};
        jb_put(&b, "", 0);
        if (x) jv_print(&b, x);
        snprintf(msg, sizeof msg, "the template raised an error: %s", b.s);
        free(b.s);
        return err_at(c, n, msg);
    }
    case JF_RANGE: {
        long long v[3] = {0, 0, 1};
        if (g.npos < 1 || g.npos > 3) return err_at(c, n, "range() takes 1 to 3 integers");
        for (size_t i = 0; i < g.npos; i++) {
            if (g.pos[i]->t != JV_INT && g.pos[i]->t != JV_BOOL) return err_at(c, n, "range() takes integers");
            v[g.npos == 1 ? 1 : i] = g.pos[i]->i;
        }
        if (v[2] == 0) return err_at(c, n, "range() step must not be zero");
        if ((v[1] - v[0]) / v[2] > 1000000) return err_at(c, n, "range() of more than a million numbers");
        out = jv_new(c->a, JV_LIST);
        for (long long i = v[0]; v[2] > 0 ? i < v[1] : i > v[1]; i += v[2]) jv_list_push(c->a, out, jv_int(c->a, i));
        return out;
    }
    case JF_NAMESPACE:
        out = jv_new(c->a, JV_NS);
        if (x && x->t == JV_DICT)
            for (size_t i = 0; i < x->n; i++) jv_dict_set(c->a, out, x->keys[i], strlen(x->keys[i]), x->items[i]);
        for (size_t i = 0; i < g.nkw; i++) jv_dict_set(c->a, out, g.kw[i], strlen(g.kw[i]), g.kwv[i]);
        return out;
    case JF_STRFTIME: {
        char t[256];
        time_t now = time(NULL);
        struct tm tm;
        if (!x || x->t != JV_STR) return err_at(c, n, "strftime_now() takes a format string");
        localtime_r(&now, &tm);
        size_t len = strftime(t, sizeof t, ja_strdup(c->a, x->s, x->n), &tm);
        return jv_str(c->a, t, len);
    }
    case JF_MACRO: return call_macro(c, n, fn->macro, &g);
    case JF_METHOD:
        if (jinja_call_method(c->a, fn, &g, &out, msg, sizeof msg)) return err_at(c, n, msg);
        return out;
    }
    return NULL;
}

/* ---- operators ---- */

static int num(const jval *v, double *d, int *is_int) {
    if (v->t == JV_INT || v->t == JV_BOOL) return *d = (double)v->i, 1;
    if (v->t == JV_FLOAT) return *d = v->f, *is_int = 0, 1;
    return 0;
}

static jval *binop_error(ctx *c, const jnode *n, const jval *x, const jval *y) {
    char what[200];
    snprintf(what, sizeof what, "cannot apply '%s' to %s and %s", n->s, jv_type_name(x), jv_type_name(y));
    return err_at(c, n, what);
}

static jval *concat_print(ctx *c, const jval *x, const jval *y) {
    jbuf b = {0};
    jb_put(&b, "", 0);
    jv_print(&b, x);
    jv_print(&b, y);
    jval *r = jv_str(c->a, b.s, b.n);
    free(b.s);
    return r;
}

static jval *arith(ctx *c, const jnode *n, const jval *x, const jval *y) {
    const char *op = n->s;
    double a, b;
    int ints = 1;
    if (!num(x, &a, &ints) || !num(y, &b, &ints)) {
        if (op[0] == '+' && x->t == JV_LIST && y->t == JV_LIST) {
            jval *l = jv_new(c->a, JV_LIST);
            for (size_t i = 0; i < x->n; i++) jv_list_push(c->a, l, x->items[i]);
            for (size_t i = 0; i < y->n; i++) jv_list_push(c->a, l, y->items[i]);
            return l;
        }
        if (op[0] == '+' && (x->t == JV_STR || y->t == JV_STR) && x->t != JV_UNDEF && y->t != JV_UNDEF)
            return concat_print(c, x, y);
        if (op[0] == '*' && !op[1] && ((x->t == JV_STR && y->t == JV_INT) || (x->t == JV_INT && y->t == JV_STR))) {
            const jval *s = x->t == JV_STR ? x : y;
            long long k = x->t == JV_INT ? x->i : y->i;
            jbuf buf = {0};
            jb_put(&buf, "", 0);
            for (long long i = 0; i < k && buf.n < (1u << 24); i++) jb_put(&buf, s->s, s->n);
            jval *r = jv_str(c->a, buf.s, buf.n);
            free(buf.s);
            return r;
        }
        return binop_error(c, n, x, y);
    }
    if ((op[0] == '/' || op[0] == '%') && b == 0) return err_at(c, n, "division by zero");
    double r;
    switch (op[0]) {
    case '+': r = a + b; break;
    case '-': r = a - b; break;
    case '*': r = op[1] ? pow(a, b) : a * b; break;
    case '%': r = a - b * floor(a / b); break; /* Python's modulo takes the divisor's sign */
    default: /* / and // */
        if (!op[1]) return jv_float(c->a, a / b);
        r = floor(a / b);
        break;
    }
    if (op[0] == '*' && op[1] && b < 0) ints = 0;
    return ints ? jv_int(c->a, (long long)r) : jv_float(c->a, r);
}

static jval *compare(ctx *c, const jnode *n, const jval *x, const jval *y) {
    const char *op = n->s;
    if (!strcmp(op, "==")) return jv_bool(c->a, jv_equal(x, y));
    if (!strcmp(op, "!=")) return jv_bool(c->a, !jv_equal(x, y));
    int cmp, ints = 1;
    double a, b;
    if (num(x, &a, &ints) && num(y, &b, &ints)) {
        cmp = a < b ? -1 : a > b;
    } else if (x->t == JV_STR && y->t == JV_STR) {
        int m = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
        cmp = m ? m : x->n < y->n ? -1 : x->n > y->n;
    } else {
        return binop_error(c, n, x, y);
    }
    int r = op[0] == '<' ? (op[1] ? cmp <= 0 : cmp < 0) : (op[1] ? cmp >= 0 : cmp > 0);
    return jv_bool(c->a, r);
}

static jval *member_of(ctx *c, const jnode *n, const jval *x, const jval *y) {
    int r = 0;
    if (y->t == JV_UNDEF) r = 0;
    else if (y->t == JV_STR && x->t == JV_STR) {
        r = x->n == 0;
        for (size_t i = 0; !r && i + x->n <= y->n; i++) r = !memcmp(y->s + i, x->s, x->n);
    } else if (y->t == JV_LIST) {
        for (size_t i = 0; !r && i < y->n; i++) r = jv_equal(x, y->items[i]);
    } else if ((y->t == JV_DICT || y->t == JV_NS) && x->t == JV_STR) {
        r = jv_dict_get(y, x->s, x->n) != NULL;
    } else if (y->t != JV_DICT) {
        return binop_error(c, n, x, y);
    }
    return jv_bool(c->a, n->s[0] == 'n' ? !r : r);
}

static jval *binary(ctx *c, const jnode *n, frame *f) {
    jval *x = eval(c, n->a, f), *y = x ? eval(c, n->b, f) : NULL;
    if (!y) return NULL;
    const char *op = n->s;
    if (op[0] == '~') return concat_print(c, x, y);
    if (!strcmp(op, "in") || !strcmp(op, "not in")) return member_of(c, n, x, y);
    if (strchr("=!<>", op[0])) return compare(c, n, x, y);
    return arith(c, n, x, y);
}

/* ---- indexing ---- */

/* Python's slice bounds for a sequence of len items. */
static void slice_bounds(long long len, const jval *lo, const jval *hi, long long step, long long *b, long long *e) {
    const jval *in[2] = {lo, hi};
    long long *out[2] = {b, e};
    for (int k = 0; k < 2; k++) {
        if (!in[k] || in[k]->t == JV_UNDEF || in[k]->t == JV_NONE) {
            *out[k] = step > 0 ? (k ? len : 0) : (k ? -1 : len - 1);
            continue;
        }
        long long v = in[k]->i;
        if (v < 0) v += len;
        if (step > 0) v = v < 0 ? 0 : v > len ? len : v;
        else v = v < 0 ? -1 : v >= len ? len - 1 : v;
        *out[k] = v;
    }
}

static jval *slice(ctx *c, const jnode *n, frame *f) {
    jval *obj = eval(c, n->a, f), *p[3] = {NULL, NULL, NULL};
    if (!obj) return NULL;
    for (int i = 0; i < 3; i++) {
        if (n->args.v[i] && !(p[i] = eval(c, n->args.v[i], f))) return NULL;
        if (p[i] && p[i]->t != JV_INT && p[i]->t != JV_NONE) return err_at(c, n, "slice bounds must be integers");
    }
    long long step = p[2] && p[2]->t == JV_INT ? p[2]->i : 1, b, e;
    if (step == 0) return err_at(c, n, "slice step cannot be zero");
    if (obj->t == JV_UNDEF) return obj;
    int is_str = obj->t == JV_STR;
    if (!is_str && obj->t != JV_LIST) return err_at(c, n, "only lists and strings can be sliced");
    jval *seq = obj;
    if (is_str) { /* by code points */
        jargs none = {0};
        if (jinja_apply_filter(c->a, "list", obj, &none, &seq, c->err, c->errlen)) return NULL;
    }
    slice_bounds((long long)seq->n, p[0], p[1], step, &b, &e);
    jval *r = jv_new(c->a, JV_LIST);
    for (long long i = b; step > 0 ? i < e : i > e; i += step) jv_list_push(c->a, r, seq->items[i]);
    if (!is_str) return r;
    jbuf s = {0};
    jb_put(&s, "", 0);
    for (size_t i = 0; i < r->n; i++) jb_put(&s, r->items[i]->s, r->items[i]->n);
    jval *str = jv_str(c->a, s.s, s.n);
    free(s.s);
    return str;
}

static jval *item(ctx *c, const jnode *n, jval *obj, const jval *key) {
    if ((obj->t == JV_DICT || obj->t == JV_NS) && key->t == JV_STR) return jinja_attr(c->a, obj, key->s, key->n);
    if ((obj->t == JV_LIST || obj->t == JV_STR) && (key->t == JV_INT || key->t == JV_BOOL)) {
        jval *seq = obj;
        jargs none = {0};
        if (obj->t == JV_STR && jinja_apply_filter(c->a, "list", obj, &none, &seq, c->err, c->errlen)) return NULL;
        long long i = key->i < 0 ? key->i + (long long)seq->n : key->i;
        return i >= 0 && i < (long long)seq->n ? seq->items[i] : jv_new(c->a, JV_UNDEF);
    }
    if (obj->t == JV_STR && key->t == JV_STR) return jinja_attr(c->a, obj, key->s, key->n); /* s['strip'] */
    if (obj->t == JV_UNDEF || obj->t == JV_DICT || obj->t == JV_LIST) return jv_new(c->a, JV_UNDEF);
    char what[200];
    snprintf(what, sizeof what, "cannot index a %s with a %s", jv_type_name(obj), jv_type_name(key));
    return err_at(c, n, what);
}

/* ---- expressions ---- */

static jval *eval(ctx *c, const jnode *n, frame *f) {
    jval *x, *y;
    switch (n->kind) {
    case JN_STR: return jv_str(c->a, n->s, n->n);
    case JN_INT: return jv_int(c->a, n->i);
    case JN_FLOAT: return jv_float(c->a, n->f);
    case JN_NAME: return (x = lookup(f, n->s, n->n)) ? x : jv_new(c->a, JV_UNDEF);
    case JN_LIST:
    case JN_TUPLE:
        y = jv_new(c->a, JV_LIST);
        y->tuple = n->kind == JN_TUPLE;
        for (size_t i = 0; i < n->args.n; i++) {
            if (!(x = eval(c, n->args.v[i], f))) return NULL;
            jv_list_push(c->a, y, x);
        }
        return y;
    case JN_DICT:
        y = jv_new(c->a, JV_DICT);
        for (size_t i = 0; i < n->args.n; i++) {
            jval *k = eval(c, n->args.v[i], f);
            if (!k || !(x = eval(c, n->alt.v[i], f))) return NULL;
            if (k->t != JV_STR) return err_at(c, n->args.v[i], "dict keys must be strings");
            jv_dict_set(c->a, y, k->s, k->n, x);
        }
        return y;
    case JN_ATTR:
        if (!(x = eval(c, n->a, f))) return NULL;
        return jinja_attr(c->a, x, n->s, n->n);
    case JN_INDEX:
        if (!(x = eval(c, n->a, f)) || !(y = eval(c, n->b, f))) return NULL;
        return item(c, n, x, y);
    case JN_SLICE: return slice(c, n, f);
    case JN_CALL: return call(c, n, f);
    case JN_FILTER: {
        jargs g;
        char msg[512];
        if (!(x = eval(c, n->a, f)) || eval_args(c, &n->args, f, &g)) return NULL;
        if (jinja_apply_filter(c->a, n->s, x, &g, &y, msg, sizeof msg)) return err_at(c, n, msg);
        return y;
    }
    case JN_TEST: {
        jargs g;
        char msg[512];
        int r;
        if (!(x = eval(c, n->a, f)) || eval_args(c, &n->args, f, &g)) return NULL;
        if (jinja_apply_test(n->s, x, &g, &r, msg, sizeof msg)) return err_at(c, n, msg);
        return jv_bool(c->a, n->negate ? !r : r);
    }
    case JN_UNARY:
        if (!(x = eval(c, n->a, f))) return NULL;
        if (x->t == JV_FLOAT) return jv_float(c->a, n->s[0] == '-' ? -x->f : x->f);
        if (x->t == JV_INT || x->t == JV_BOOL) return jv_int(c->a, n->s[0] == '-' ? -x->i : x->i);
        return binop_error(c, n, &(jval){.t = JV_NONE}, x);
    case JN_NOT: return (x = eval(c, n->a, f)) ? jv_bool(c->a, !jv_truthy(x)) : NULL;
    case JN_AND: /* Python's and/or give an operand, not a boolean */
        if (!(x = eval(c, n->a, f))) return NULL;
        return jv_truthy(x) ? eval(c, n->b, f) : x;
    case JN_OR:
        if (!(x = eval(c, n->a, f))) return NULL;
        return jv_truthy(x) ? x : eval(c, n->b, f);
    case JN_COND:
        if (!(x = eval(c, n->a, f))) return NULL;
        if (jv_truthy(x)) return eval(c, n->b, f);
        return n->c ? eval(c, n->c, f) : jv_new(c->a, JV_UNDEF);
    case JN_BINARY: return binary(c, n, f);
    default: return err_at(c, n, "internal error: a statement where a value was expected");
    }
}

/* ---- statements ---- */

/* Binds target (a name or a tuple of names) to v in f. */
static int assign(ctx *c, const jnode *target, jval *v, frame *f) {
    if (target->kind == JN_NAME) {
        jv_dict_set(c->a, f->vars, target->s, target->n, v);
        return 0;
    }
    if (target->kind == JN_ATTR) {
        jval *ns = eval(c, target->a, f);
        if (!ns) return -1;
        if (ns->t != JV_NS) {
            char what[200];
            snprintf(what, sizeof what, "only a namespace() takes attributes (this is %s)", jv_type_name(ns));
            return err_at(c, target, what), -1;
        }
        jv_dict_set(c->a, ns, target->s, target->n, v);
        return 0;
    }
    if (v->t != JV_LIST || v->n != target->args.n) {
        char what[200];
        snprintf(what, sizeof what, "cannot unpack %s into %zu names", v->t == JV_LIST ? "a list of another length" : jv_type_name(v),
                 target->args.n);
        return err_at(c, target, what), -1;
    }
    for (size_t i = 0; i < target->args.n; i++)
        if (assign(c, target->args.v[i], v->items[i], f)) return -1;
    return 0;
}

static jval *loop_info(ctx *c, size_t i, const jval *items) {
    jval *l = jv_new(c->a, JV_DICT);
    size_t n = items->n;
    struct {
        const char *k;
        jval *v;
    } kv[] = {{"index", jv_int(c->a, (long long)i + 1)},
              {"index0", jv_int(c->a, (long long)i)},
              {"revindex", jv_int(c->a, (long long)(n - i))},
              {"revindex0", jv_int(c->a, (long long)(n - i - 1))},
              {"first", jv_bool(c->a, i == 0)},
              {"last", jv_bool(c->a, i + 1 == n)},
              {"length", jv_int(c->a, (long long)n)},
              {"previtem", i > 0 ? items->items[i - 1] : jv_new(c->a, JV_UNDEF)},
              {"nextitem", i + 1 < n ? items->items[i + 1] : jv_new(c->a, JV_UNDEF)}};
    for (size_t k = 0; k < sizeof kv / sizeof kv[0]; k++) jv_dict_set(c->a, l, kv[k].k, strlen(kv[k].k), kv[k].v);
    return l;
}

static int exec_for(ctx *c, const jnode *n, frame *f, jbuf *out) {
    jval *it = eval(c, n->b, f), *all;
    if (!it) return FAILED;
    jargs none = {0};
    if (it->t == JV_UNDEF) {
        all = jv_new(c->a, JV_LIST);
    } else if (it->t == JV_LIST || it->t == JV_STR || it->t == JV_DICT) { /* a dict loops over its keys */
        if (jinja_apply_filter(c->a, "list", it, &none, &all, c->err, c->errlen)) return FAILED;
    } else {
        char what[200];
        snprintf(what, sizeof what, "cannot loop over %s", jv_type_name(it));
        return err_at(c, n->b, what), FAILED;
    }
    frame *lf = new_frame(c, f);
    jval *items = all;
    if (n->c) { /* for x in xs if cond: the loop sees only the items that pass */
        items = jv_new(c->a, JV_LIST);
        for (size_t i = 0; i < all->n; i++) {
            frame *tf = new_frame(c, lf);
            jval *ok;
            if (assign(c, n->a, all->items[i], tf) || !(ok = eval(c, n->c, tf))) return FAILED;
            if (jv_truthy(ok)) jv_list_push(c->a, items, all->items[i]);
        }
    }
    for (size_t i = 0; i < items->n; i++) {
        jv_dict_set(c->a, lf->vars, "loop", 4, loop_info(c, i, items));
        if (assign(c, n->a, items->items[i], lf)) return FAILED;
        int rc = exec(c, &n->body, lf, out);
        if (rc == FAILED) return FAILED;
        if (rc == BREAK) break;
    }
    if (items->n == 0) return exec(c, &n->alt, lf, out);
    return OK;
}

static int exec(ctx *c, const jlist *body, frame *f, jbuf *out) {
    for (size_t i = 0; i < body->n; i++) {
        const jnode *n = body->v[i];
        jval *v;
        int rc;
        switch (n->kind) {
        case JN_TEXT: jb_put(out, n->s, n->n); break;
        case JN_EMIT:
            if (!(v = eval(c, n->a, f))) return FAILED;
            jv_print(out, v);
            break;
        case JN_IF:
            if (!(v = eval(c, n->a, f))) return FAILED;
            if ((rc = exec(c, jv_truthy(v) ? &n->body : &n->alt, f, out)) != OK) return rc;
            break;
        case JN_FOR:
            if ((rc = exec_for(c, n, f, out)) != OK) return rc;
            break;
        case JN_SET:
            if (!(v = eval(c, n->b, f)) || assign(c, n->a, v, f)) return FAILED;
            break;
        case JN_SET_BLOCK: {
            jbuf b = {0};
            jb_put(&b, "", 0);
            rc = exec(c, &n->body, f, &b);
            v = jv_str(c->a, b.s, b.n);
            free(b.s);
            if (rc == FAILED || assign(c, n->a, v, f)) return FAILED;
            break;
        }
        case JN_MACRO:
            v = jv_new(c->a, JV_FUNC);
            v->fn = JF_MACRO;
            v->macro = n;
            jv_dict_set(c->a, f->vars, n->s, n->n, v);
            break;
        case JN_BREAK: return BREAK;
        case JN_CONTINUE: return CONTINUE;
        default: err_at(c, n, "internal error: a value where a statement was expected"); return FAILED;
        }
    }
    return OK;
}

/* ---- public API ---- */

int vkft_jinja_parse(const char *src, size_t len, vkft_jinja **out, char *err, size_t errlen) {
    vkft_jinja *t = calloc(1, sizeof *t);
    jtoken *toks = NULL;
    size_t n = 0;
    if (!t) abort();
    if (jinja_lex(src, len, &t->arena, &toks, &n, err, errlen) ||
        jinja_parse_tokens(toks, n, &t->arena, &t->program, err, errlen)) {
        free(toks);
        vkft_jinja_free(t);
        return -1;
    }
    free(toks);
    *out = t;
    return 0;
}

void vkft_jinja_free(vkft_jinja *t) {
    if (!t) return;
    ja_free(&t->arena);
    free(t);
}

int vkft_jinja_render(const vkft_jinja *t, const cJSON *vars, char **out, size_t *out_len, char *err, size_t errlen) {
    jarena a = {0};
    ctx c = {.a = &a, .err = err, .errlen = errlen};
    c.root = new_frame(&c, NULL);
    jval *g = c.root->vars;
    static const char *const consts[] = {"true", "false", "none", "True", "False", "None"};
    for (int i = 0; i < 6; i++) jv_dict_set(&a, g, consts[i], strlen(consts[i]), i % 3 == 2 ? jv_new(&a, JV_NONE) : jv_bool(&a, i % 3 == 0));
    static const struct {
        const char *name;
        jfunc_kind fn;
    } fns[] = {{"raise_exception", JF_RAISE}, {"range", JF_RANGE}, {"namespace", JF_NAMESPACE}, {"strftime_now", JF_STRFTIME}};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        jval *f = jv_new(&a, JV_FUNC);
        f->fn = fns[i].fn;
        jv_dict_set(&a, g, fns[i].name, strlen(fns[i].name), f);
    }
    for (const cJSON *e = vars ? vars->child : NULL; e; e = e->next)
        jv_dict_set(&a, g, e->string, strlen(e->string), jv_from_json(&a, e));
    jbuf b = {0};
    jb_put(&b, "", 0);
    int rc = exec(&c, &t->program, c.root, &b);
    ja_free(&a);
    if (rc == FAILED) {
        free(b.s);
        return -1;
    }
    *out = b.s;
    *out_len = b.n;
    return 0;
}
