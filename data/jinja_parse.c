/* Tokens -> syntax tree, by recursive descent. Operator precedence, loosest first (as @huggingface/jinja
 * and, except for details no chat template relies on, Jinja2):
 *   x if c else y  <  or  <  and  <  not  <  in, not in, == != < > <= >=  <  + - ~  <  * / // %  <  **
 *   <  is TEST  <  | FILTER  <  unary - +  <  .attr [index] [a:b:c] (call)
 *
 * What each node kind keeps (fields of jnode):
 *   TEXT s,n    EMIT a    IF a=cond body alt    FOR a=target b=iterable c=filter|NULL body alt
 *   SET a=target b=value    SET_BLOCK a=target body    MACRO s=name args=params (NAME, or KWARG with
 *   the default) body    STR s,n    INT i    FLOAT f    NAME s,n    LIST/TUPLE args    DICT args=keys
 *   alt=values    ATTR a s    INDEX a b    SLICE a args=[start stop step] (each may be NULL)    CALL a
 *   args (KWARG s a for keywords)    FILTER a s args    TEST a s negate    UNARY s a    BINARY s a b
 *   AND/OR a b    NOT a    COND a=cond b=then c=else|NULL */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/jinja_internal.h"

typedef struct {
    const jtoken *t;
    size_t n, pos;
    jarena *a;
    char *err;
    size_t errlen;
} parser;

static void jl_push(jarena *a, jlist *l, jnode *x) {
    if ((l->n & (l->n - 1)) == 0) { /* n is 0 or a power of two: double the array */
        jnode **v = ja_alloc(a, (l->n ? l->n * 2 : 1) * sizeof *v);
        if (l->n) memcpy(v, l->v, l->n * sizeof *v);
        l->v = v;
    }
    l->v[l->n++] = x;
}

static const jtoken *peek(const parser *P) { return &P->t[P->pos]; }

static jnode *node(parser *P, jnode_kind kind, const jtoken *at) {
    jnode *x = ja_alloc(P->a, sizeof *x);
    x->kind = kind;
    x->line = at->line;
    x->col = at->col;
    return x;
}

static int is_op(const parser *P, const char *op) {
    const jtoken *t = peek(P);
    return t->kind == JT_OP && !strcmp(t->s, op);
}
static int is_name(const parser *P, const char *name) {
    const jtoken *t = peek(P);
    return t->kind == JT_NAME && !strcmp(t->s, name);
}
static int is_name_at(const parser *P, size_t k, const char *name) {
    return P->pos + k < P->n && P->t[P->pos + k].kind == JT_NAME && !strcmp(P->t[P->pos + k].s, name);
}

static const char *describe(const jtoken *t) {
    switch (t->kind) {
    case JT_TEXT: return "template text";
    case JT_OPEN_STMT: return "{%";
    case JT_CLOSE_STMT: return "%}";
    case JT_OPEN_EXPR: return "{{";
    case JT_CLOSE_EXPR: return "}}";
    case JT_EOF: return "the end of the template";
    default: return t->s;
    }
}

static jnode *fail(parser *P, const jtoken *at, const char *what) {
    jerr(P->err, P->errlen, at->line, at->col, "%s, found '%s'", what, describe(at));
    return NULL;
}

static int expect_op(parser *P, const char *op) {
    if (is_op(P, op)) {
        P->pos++;
        return 0;
    }
    char what[64];
    snprintf(what, sizeof what, "expected '%s'", op);
    fail(P, peek(P), what);
    return -1;
}

static int expect_kind(parser *P, jtok_kind kind, const char *what) {
    if (peek(P)->kind == kind) {
        P->pos++;
        return 0;
    }
    fail(P, peek(P), what);
    return -1;
}

static jnode *expression(parser *P);
static jnode *or_expr(parser *P);

/* (a, b=1, ...): positional and keyword arguments into l; the '(' is the current token. */
static int call_args(parser *P, jlist *l) {
    P->pos++;
    while (!is_op(P, ")")) {
        jnode *x;
        if (peek(P)->kind == JT_NAME && P->t[P->pos + 1].kind == JT_OP && !strcmp(P->t[P->pos + 1].s, "=")) {
            x = node(P, JN_KWARG, peek(P));
            x->s = peek(P)->s;
            x->n = peek(P)->n;
            P->pos += 2;
            if (!(x->a = expression(P))) return -1;
        } else if (!(x = expression(P))) {
            return -1;
        }
        jl_push(P->a, l, x);
        if (!is_op(P, ",")) break;
        P->pos++;
    }
    return expect_op(P, ")");
}

static jnode *primary(parser *P) {
    const jtoken *t = peek(P);
    jnode *x;
    switch (t->kind) {
    case JT_STRING: /* adjacent literals concatenate, as in Python */
        x = node(P, JN_STR, t);
        x->s = t->s;
        x->n = t->n;
        P->pos++;
        while (peek(P)->kind == JT_STRING) {
            char *s = ja_alloc(P->a, x->n + peek(P)->n + 1);
            memcpy(s, x->s, x->n);
            memcpy(s + x->n, peek(P)->s, peek(P)->n);
            x->s = s;
            x->n += peek(P)->n;
            P->pos++;
        }
        return x;
    case JT_INT:
        x = node(P, JN_INT, t);
        x->i = t->i;
        P->pos++;
        return x;
    case JT_FLOAT:
        x = node(P, JN_FLOAT, t);
        x->f = t->f;
        P->pos++;
        return x;
    case JT_NAME:
        x = node(P, JN_NAME, t);
        x->s = t->s;
        x->n = t->n;
        P->pos++;
        return x;
    case JT_OP:
        if (!strcmp(t->s, "(")) {
            P->pos++;
            if (is_op(P, ")")) { /* () is the empty tuple */
                P->pos++;
                return node(P, JN_TUPLE, t);
            }
            jnode *first = expression(P);
            if (!first) return NULL;
            if (is_op(P, ",")) { /* a tuple */
                x = node(P, JN_TUPLE, t);
                jl_push(P->a, &x->args, first);
                while (is_op(P, ",")) {
                    P->pos++;
                    if (is_op(P, ")")) break;
                    jnode *y = expression(P);
                    if (!y) return NULL;
                    jl_push(P->a, &x->args, y);
                }
                first = x;
            }
            return expect_op(P, ")") ? NULL : first;
        }
        if (!strcmp(t->s, "[")) {
            x = node(P, JN_LIST, t);
            P->pos++;
            while (!is_op(P, "]")) {
                jnode *y = expression(P);
                if (!y) return NULL;
                jl_push(P->a, &x->args, y);
                if (!is_op(P, ",")) break;
                P->pos++;
            }
            return expect_op(P, "]") ? NULL : x;
        }
        if (!strcmp(t->s, "{")) {
            x = node(P, JN_DICT, t);
            P->pos++;
            while (!is_op(P, "}")) {
                jnode *k = expression(P), *v;
                if (!k || expect_op(P, ":") || !(v = expression(P))) return NULL;
                jl_push(P->a, &x->args, k);
                jl_push(P->a, &x->alt, v);
                if (!is_op(P, ",")) break;
                P->pos++;
            }
            return expect_op(P, "}") ? NULL : x;
        }
        break;
    default:
        break;
    }
    return fail(P, t, "expected a value (a name, a literal, '(', '[' or '{')");
}

/* primary followed by .name, [index], [a:b:c] and (args). */
static jnode *postfix(parser *P) {
    jnode *x = primary(P);
    while (x) {
        const jtoken *t = peek(P);
        if (is_op(P, ".")) {
            P->pos++;
            const jtoken *nt = peek(P);
            if (nt->kind != JT_NAME && nt->kind != JT_INT) return fail(P, nt, "expected an attribute name after '.'");
            jnode *y = node(P, nt->kind == JT_INT ? JN_INDEX : JN_ATTR, t);
            y->a = x;
            if (nt->kind == JT_INT) {
                y->b = node(P, JN_INT, nt);
                y->b->i = nt->i;
            } else {
                y->s = nt->s;
                y->n = nt->n;
            }
            P->pos++;
            x = y;
        } else if (is_op(P, "[")) {
            P->pos++;
            jnode *parts[3] = {NULL, NULL, NULL};
            int k = 0, slice = 0;
            for (;;) {
                if (!is_op(P, ":") && !is_op(P, "]") && !(parts[k] = expression(P))) return NULL;
                if (!is_op(P, ":")) break;
                if (++k > 2) return fail(P, peek(P), "a slice has at most three parts");
                slice = 1;
                P->pos++;
            }
            if (!slice && !parts[0]) return fail(P, peek(P), "expected an index inside [ ]");
            if (expect_op(P, "]")) return NULL;
            jnode *y = node(P, slice ? JN_SLICE : JN_INDEX, t);
            y->a = x;
            if (slice)
                for (int i = 0; i < 3; i++) jl_push(P->a, &y->args, parts[i]);
            else
                y->b = parts[0];
            x = y;
        } else if (is_op(P, "(")) {
            jnode *y = node(P, JN_CALL, t);
            y->a = x;
            y->line = x->line; /* errors of a call point at what is called */
            y->col = x->col;
            if (call_args(P, &y->args)) return NULL;
            x = y;
        } else {
            break;
        }
    }
    return x;
}

static jnode *unary(parser *P) {
    if (is_op(P, "-") || is_op(P, "+")) {
        jnode *x = node(P, JN_UNARY, peek(P));
        x->s = peek(P)->s;
        P->pos++;
        return (x->a = unary(P)) ? x : NULL;
    }
    return postfix(P);
}

static jnode *filter_expr(parser *P) {
    jnode *x = unary(P);
    while (x && is_op(P, "|")) {
        P->pos++;
        const jtoken *t = peek(P);
        if (t->kind != JT_NAME) return fail(P, t, "expected a filter name after '|'");
        if (!jinja_filter_known(t->s)) {
            jerr(P->err, P->errlen, t->line, t->col, "unknown filter '%s'", t->s);
            return NULL;
        }
        jnode *y = node(P, JN_FILTER, t);
        y->a = x;
        y->s = t->s;
        P->pos++;
        if (is_op(P, "(") && call_args(P, &y->args)) return NULL;
        x = y;
    }
    return x;
}

static jnode *test_expr(parser *P) {
    jnode *x = filter_expr(P);
    while (x && is_name(P, "is")) {
        P->pos++;
        jnode *y = node(P, JN_TEST, peek(P));
        if (is_name(P, "not")) {
            y->negate = 1;
            P->pos++;
        }
        const jtoken *t = peek(P);
        /* none, true and false are names of tests too */
        if (t->kind != JT_NAME) return fail(P, t, "expected a test name after 'is'");
        if (!jinja_test_known(t->s)) {
            jerr(P->err, P->errlen, t->line, t->col, "unknown test '%s'", t->s);
            return NULL;
        }
        y->a = x;
        y->s = t->s;
        y->line = t->line;
        y->col = t->col;
        P->pos++;
        if (is_op(P, "(") && call_args(P, &y->args)) return NULL;
        x = y;
    }
    return x;
}

static jnode *binary(parser *P, jnode *l, const jtoken *op, jnode *r) {
    if (!l || !r) return NULL;
    jnode *x = node(P, JN_BINARY, op);
    x->s = op->s;
    x->a = l;
    x->b = r;
    return x;
}

static jnode *pow_expr(parser *P) {
    jnode *x = test_expr(P);
    while (x && is_op(P, "**")) {
        const jtoken *op = &P->t[P->pos++];
        x = binary(P, x, op, test_expr(P));
    }
    return x;
}

static jnode *mul_expr(parser *P) {
    jnode *x = pow_expr(P);
    while (x && (is_op(P, "*") || is_op(P, "/") || is_op(P, "//") || is_op(P, "%"))) {
        const jtoken *op = &P->t[P->pos++];
        x = binary(P, x, op, pow_expr(P));
    }
    return x;
}

static jnode *add_expr(parser *P) {
    jnode *x = mul_expr(P);
    while (x && (is_op(P, "+") || is_op(P, "-") || is_op(P, "~"))) {
        const jtoken *op = &P->t[P->pos++];
        x = binary(P, x, op, mul_expr(P));
    }
    return x;
}

static jnode *compare(parser *P) {
    static const jtoken in_tok = {JT_OP, "in", 2, 0, 0, 0, 0}, not_in_tok = {JT_OP, "not in", 6, 0, 0, 0, 0};
    jnode *x = add_expr(P);
    while (x) {
        const jtoken *at = peek(P), *op;
        if (is_name(P, "in")) {
            op = &in_tok;
            P->pos++;
        } else if (is_name(P, "not") && is_name_at(P, 1, "in")) {
            op = &not_in_tok;
            P->pos += 2;
        } else if (is_op(P, "==") || is_op(P, "!=") || is_op(P, "<") || is_op(P, ">") || is_op(P, "<=") ||
                   is_op(P, ">=")) {
            op = &P->t[P->pos++];
        } else {
            break;
        }
        jnode *r = add_expr(P);
        if (!(x = binary(P, x, op, r))) return NULL;
        x->line = at->line;
        x->col = at->col;
    }
    return x;
}

static jnode *not_expr(parser *P) {
    if (is_name(P, "not")) {
        jnode *x = node(P, JN_NOT, peek(P));
        P->pos++;
        return (x->a = not_expr(P)) ? x : NULL;
    }
    return compare(P);
}

/* operand (word operand)*, left-associative: `and` over not-expressions, `or` over and-expressions */
static jnode *word_chain(parser *P, const char *word, jnode_kind kind, jnode *(*operand)(parser *)) {
    jnode *x = operand(P);
    while (x && is_name(P, word)) {
        jnode *y = node(P, kind, peek(P));
        P->pos++;
        y->a = x;
        if (!(y->b = operand(P))) return NULL;
        x = y;
    }
    return x;
}

static jnode *and_expr(parser *P) { return word_chain(P, "and", JN_AND, not_expr); }
static jnode *or_expr(parser *P) { return word_chain(P, "or", JN_OR, and_expr); }

static jnode *expression(parser *P) {
    jnode *x = or_expr(P);
    if (x && is_name(P, "if")) {
        jnode *y = node(P, JN_COND, peek(P));
        P->pos++;
        y->b = x;
        if (!(y->a = or_expr(P))) return NULL;
        if (is_name(P, "else")) {
            P->pos++;
            if (!(y->c = expression(P))) return NULL;
        }
        x = y;
    }
    return x;
}

/* expr or expr, expr, ... (a tuple without parentheses, as in `set a, b = 1, 2`) */
static jnode *expression_tuple(parser *P, jnode *(*one)(parser *)) {
    const jtoken *t = peek(P);
    jnode *x = one(P);
    if (!x || !is_op(P, ",")) return x;
    jnode *tup = node(P, JN_TUPLE, t);
    jl_push(P->a, &tup->args, x);
    while (is_op(P, ",")) {
        P->pos++;
        if (!(x = one(P))) return NULL;
        jl_push(P->a, &tup->args, x);
    }
    return tup;
}

static jnode *name_only(parser *P) {
    const jtoken *t = peek(P);
    if (t->kind != JT_NAME) return fail(P, t, "expected a variable name");
    jnode *x = node(P, JN_NAME, t);
    x->s = t->s;
    x->n = t->n;
    P->pos++;
    return x;
}

/* ---- statements ---- */

static int body(parser *P, jlist *out, const char *const *enders, const jtoken *opened, const char *what);

static int close_stmt(parser *P) { return expect_kind(P, JT_CLOSE_STMT, "expected '%}'"); }

/* After {% NAME: parses the statement; *x is NULL for statements that leave no node. */
static int statement(parser *P, const jtoken *open, jnode **x) {
    const jtoken *t = peek(P);
    *x = NULL;
    if (t->kind != JT_NAME) return fail(P, t, "expected a statement name after '{%'"), -1;
    const char *kw = t->s;
    P->pos++;
    if (!strcmp(kw, "if") || !strcmp(kw, "elif")) {
        jnode *n = node(P, JN_IF, open);
        if (!(n->a = expression(P)) || close_stmt(P)) return -1;
        static const char *const ends[] = {"elif", "else", "endif", NULL};
        int e = body(P, &n->body, ends, open, "{% if %}");
        if (e < 0) return -1;
        if (e == 0) { /* elif: a nested if in the alternative, which consumes the endif */
            P->pos--;
            const jtoken *o = &P->t[P->pos - 1];
            jnode *inner;
            if (statement(P, o, &inner)) return -1;
            jl_push(P->a, &n->alt, inner);
            *x = n;
            return 0;
        }
        if (e == 1) {
            static const char *const endif[] = {"endif", NULL};
            if (close_stmt(P) || body(P, &n->alt, endif, open, "{% if %}") < 0) return -1;
        }
        *x = n;
        return close_stmt(P);
    }
    if (!strcmp(kw, "for")) {
        jnode *n = node(P, JN_FOR, open);
        if (!(n->a = expression_tuple(P, name_only))) return -1;
        if (!is_name(P, "in")) return fail(P, peek(P), "expected 'in' after the loop variable"), -1;
        P->pos++;
        if (!(n->b = or_expr(P))) return -1;
        if (is_name(P, "if")) {
            P->pos++;
            if (!(n->c = or_expr(P))) return -1;
        }
        if (close_stmt(P)) return -1;
        static const char *const ends[] = {"else", "endfor", NULL}, *const endfor[] = {"endfor", NULL};
        int e = body(P, &n->body, ends, open, "{% for %}");
        if (e < 0) return -1;
        if (e == 0 && (close_stmt(P) || body(P, &n->alt, endfor, open, "{% for %}") < 0)) return -1;
        *x = n;
        return close_stmt(P);
    }
    if (!strcmp(kw, "set")) {
        const jtoken *tt = peek(P);
        jnode *target = postfix(P);
        if (!target) return -1;
        if (target->kind == JN_NAME && is_op(P, ",")) { /* set a, b = ... */
            jnode *tup = node(P, JN_TUPLE, tt);
            jl_push(P->a, &tup->args, target);
            while (is_op(P, ",")) {
                P->pos++;
                jnode *y = name_only(P);
                if (!y) return -1;
                jl_push(P->a, &tup->args, y);
            }
            target = tup;
        }
        if (target->kind != JN_NAME && target->kind != JN_TUPLE && target->kind != JN_ATTR)
            return jerr(P->err, P->errlen, tt->line, tt->col, "set needs a name, names or a namespace attribute");
        if (is_op(P, "=")) {
            P->pos++;
            jnode *n = node(P, JN_SET, open);
            n->a = target;
            if (!(n->b = expression_tuple(P, expression))) return -1;
            *x = n;
            return close_stmt(P);
        }
        jnode *n = node(P, JN_SET_BLOCK, open);
        n->a = target;
        static const char *const ends[] = {"endset", NULL};
        if (close_stmt(P) || body(P, &n->body, ends, open, "{% set %}") < 0) return -1;
        *x = n;
        return close_stmt(P);
    }
    if (!strcmp(kw, "macro")) {
        jnode *n = node(P, JN_MACRO, open);
        const jtoken *nt = peek(P);
        if (nt->kind != JT_NAME) return fail(P, nt, "expected the macro's name"), -1;
        n->s = nt->s;
        n->n = nt->n;
        P->pos++;
        if (!is_op(P, "(")) return fail(P, peek(P), "expected '(' after the macro's name"), -1;
        if (call_args(P, &n->args)) return -1;
        for (size_t i = 0; i < n->args.n; i++)
            if (n->args.v[i]->kind != JN_NAME && n->args.v[i]->kind != JN_KWARG)
                return jerr(P->err, P->errlen, n->args.v[i]->line, n->args.v[i]->col,
                            "a macro parameter is a name, with an optional default (name=value)");
        static const char *const ends[] = {"endmacro", NULL};
        if (close_stmt(P) || body(P, &n->body, ends, open, "{% macro %}") < 0) return -1;
        *x = n;
        return close_stmt(P);
    }
    if (!strcmp(kw, "break") || !strcmp(kw, "continue")) {
        *x = node(P, kw[0] == 'b' ? JN_BREAK : JN_CONTINUE, open);
        return close_stmt(P);
    }
    if (!strcmp(kw, "generation") || !strcmp(kw, "endgeneration")) return close_stmt(P); /* transformers' markers */
    return jerr(P->err, P->errlen, t->line, t->col, "unknown statement '%s'%s", kw,
                !strncmp(kw, "end", 3) || !strcmp(kw, "else") || !strcmp(kw, "elif") ? " here (nothing open to end)" : "");
}

/* Parses nodes into out until {% ENDER (one of enders; NULL: until the end). Returns the ender's index
 * with the position after its name, or -1; len(enders) at the end of the template when enders is NULL. */
static int body(parser *P, jlist *out, const char *const *enders, const jtoken *opened, const char *what) {
    for (;;) {
        const jtoken *t = peek(P);
        if (t->kind == JT_EOF) {
            if (!enders) return 0;
            int last = 0;
            while (enders[last + 1]) last++; /* the last ender is the block's end */
            return jerr(P->err, P->errlen, opened->line, opened->col, "%s is never closed (no {%% %s %%})", what,
                        enders[last]);
        }
        if (t->kind == JT_TEXT) {
            jnode *x = node(P, JN_TEXT, t);
            x->s = t->s;
            x->n = t->n;
            jl_push(P->a, out, x);
            P->pos++;
        } else if (t->kind == JT_OPEN_EXPR) {
            jnode *x = node(P, JN_EMIT, t);
            P->pos++;
            if (!(x->a = expression(P)) || expect_kind(P, JT_CLOSE_EXPR, "expected '}}'")) return -1;
            jl_push(P->a, out, x);
        } else if (t->kind == JT_OPEN_STMT) {
            const jtoken *nt = &P->t[P->pos + 1];
            for (int e = 0; enders && enders[e]; e++)
                if (nt->kind == JT_NAME && !strcmp(nt->s, enders[e])) {
                    P->pos += 2;
                    return e;
                }
            P->pos++;
            jnode *x;
            if (statement(P, t, &x)) return -1;
            if (x) jl_push(P->a, out, x);
        } else {
            fail(P, t, "unexpected token");
            return -1;
        }
    }
}

int jinja_parse_tokens(const jtoken *toks, size_t ntoks, jarena *a, jlist *program, char *err, size_t errlen) {
    parser P = {.t = toks, .n = ntoks, .a = a, .err = err, .errlen = errlen};
    memset(program, 0, sizeof *program);
    return body(&P, program, NULL, toks, "") < 0 ? -1 : 0;
}
