/* Shared by the chat-template engine's parts: jinja_lex.c (text -> tokens), jinja_parse.c (tokens -> tree),
 * jinja_eval.c (tree + variables -> text), jinja_value.c (values, arena, filters, tests, methods). */
#ifndef VKFT_JINJA_INTERNAL_H
#define VKFT_JINJA_INTERNAL_H
#include <stddef.h>

#include "data/jinja.h"

/* ---- arena: every token, node and value of a parse or a render lives in one, freed at once ---- */
typedef struct jchunk jchunk;
typedef struct {
    jchunk *head;
} jarena;
void *ja_alloc(jarena *a, size_t n); /* zeroed; aborts when out of memory */
char *ja_strdup(jarena *a, const char *s, size_t n);
void ja_free(jarena *a);

/* ---- errors with a template position ---- */
int jerr(char *err, size_t errlen, int line, int col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ---- tokens ---- */
typedef enum { JT_TEXT, JT_OPEN_STMT, JT_CLOSE_STMT, JT_OPEN_EXPR, JT_CLOSE_EXPR, JT_NAME, JT_STRING, JT_INT,
               JT_FLOAT, JT_OP, JT_EOF } jtok_kind;
typedef struct {
    jtok_kind kind;
    const char *s; /* text, name, unescaped string or operator (arena, NUL-terminated) */
    size_t n;
    long long i;
    double f;
    int line, col;
} jtoken;
int jinja_lex(const char *src, size_t len, jarena *a, jtoken **toks, size_t *ntoks, char *err, size_t errlen);

/* ---- syntax tree ---- */
typedef enum {
    /* statements */
    JN_TEXT, JN_EMIT, JN_IF, JN_FOR, JN_SET, JN_SET_BLOCK, JN_MACRO, JN_BREAK, JN_CONTINUE,
    /* expressions */
    JN_STR, JN_INT, JN_FLOAT, JN_NAME, JN_LIST, JN_TUPLE, JN_DICT, JN_ATTR, JN_INDEX, JN_SLICE, JN_CALL,
    JN_KWARG, JN_FILTER, JN_TEST, JN_UNARY, JN_BINARY, JN_AND, JN_OR, JN_NOT, JN_COND
} jnode_kind;

typedef struct jnode jnode;
typedef struct {
    jnode **v;
    size_t n;
} jlist;

/* One node; which fields mean what is listed per kind in jinja_parse.c. */
struct jnode {
    jnode_kind kind;
    int line, col;
    const char *s; /* text, name, string literal, operator, filter/test/attribute name */
    size_t n;
    long long i;
    double f;
    int negate;
    jnode *a, *b, *c;
    jlist body, alt, args;
};

int jinja_parse_tokens(const jtoken *toks, size_t ntoks, jarena *a, jlist *program, char *err, size_t errlen);

/* ---- values ---- */
typedef enum { JV_UNDEF, JV_NONE, JV_BOOL, JV_INT, JV_FLOAT, JV_STR, JV_LIST, JV_DICT, JV_NS, JV_FUNC } jv_type;
typedef enum { JF_RAISE, JF_RANGE, JF_NAMESPACE, JF_STRFTIME, JF_MACRO, JF_METHOD } jfunc_kind;

typedef struct jval jval;
struct jval {
    jv_type t;
    int tuple; /* a list written as a tuple (prints the same) */
    long long i; /* JV_BOOL, JV_INT */
    double f;
    const char *s; /* JV_STR (not NUL-terminated: n bytes); JV_FUNC: method name */
    size_t n;      /* JV_STR: bytes; JV_LIST / JV_DICT / JV_NS: entries */
    size_t cap;
    jval **items;       /* JV_LIST, and the values of JV_DICT / JV_NS */
    const char **keys;  /* JV_DICT / JV_NS, NUL-terminated, insertion order */
    jfunc_kind fn;      /* JV_FUNC */
    const jnode *macro; /* JF_MACRO */
    jval *self;         /* JF_METHOD: the object the method is called on */
};

jval *jv_new(jarena *a, jv_type t);
jval *jv_str(jarena *a, const char *s, size_t n);
jval *jv_int(jarena *a, long long i);
jval *jv_float(jarena *a, double f);
jval *jv_bool(jarena *a, int b);
void jv_list_push(jarena *a, jval *list, jval *v);
void jv_dict_set(jarena *a, jval *dict, const char *key, size_t klen, jval *v);
jval *jv_dict_get(const jval *dict, const char *key, size_t klen); /* NULL when absent */
jval *jv_from_json(jarena *a, const cJSON *j);
int jv_truthy(const jval *v);
int jv_equal(const jval *x, const jval *y);
const char *jv_type_name(const jval *v);
size_t utf8_count(const char *s, size_t n);

/* Growable output text (malloc'd). */
typedef struct {
    char *s;
    size_t n, cap;
} jbuf;
void jb_put(jbuf *b, const char *s, size_t n);
void jb_puts(jbuf *b, const char *s);
/* Appends v as printed by {{ v }} (undefined: nothing). */
void jv_print(jbuf *b, const jval *v);
/* Appends v as JSON (tojson): indent < 0 for one line; item_sep / key_sep NULL for ", " / ": ". */
void jv_json(jbuf *b, const jval *v, int indent, int depth, int sort_keys, int ascii, const char *item_sep,
             const char *key_sep);

/* Arguments of a call, a filter or a method: positional, then keyword (names NUL-terminated). */
typedef struct {
    jval **pos;
    size_t npos;
    const char **kw;
    jval **kwv;
    size_t nkw;
} jargs;
/* The argument named name or at position idx (idx < 0: keyword only); NULL when not given. */
jval *jargs_get(const jargs *g, int idx, const char *name);

/* Builtins (jinja_value.c): 0 and *out on success, -1 with an error (no position; the caller adds it). */
int jinja_filter_known(const char *name);
int jinja_test_known(const char *name);
int jinja_apply_filter(jarena *a, const char *name, jval *v, const jargs *g, jval **out, char *err, size_t errlen);
int jinja_apply_test(const char *name, const jval *v, const jargs *g, int *out, char *err, size_t errlen);
/* The attribute name of v: a dict entry, else a method (bound to v); JV_UNDEF when neither. */
jval *jinja_attr(jarena *a, jval *v, const char *name, size_t n);
int jinja_call_method(jarena *a, const jval *fn, const jargs *g, jval **out, char *err, size_t errlen);
#endif
