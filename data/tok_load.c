/* Loading a Hugging Face tokenizer.json (cJSON) into the pipeline structures, tokenizer_config.json for
 * the special tokens, GPT-2's classic encoder.json + vocab.bpe, adding tokens, and saving. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "data/tok_internal.h"
#include "util/fsutil.h"

/* JSON paths in messages are built in fixed buffers; a very deep path is cut, which is fine. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* Token ids above this are refused (the id table is sized by the largest id). */
#define TOK_MAX_ID (1 << 24)

#define GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

typedef struct {
    vkft_tokenizer *t;
    char *err;
    size_t errlen;
} ctx;

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (!d) abort();
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static const cJSON *get(const cJSON *o, const char *k) {
    return o ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static int get_bool(const cJSON *o, const char *k, int def) {
    const cJSON *v = get(o, k);
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v);
    return def;
}

static const char *get_str(const cJSON *o, const char *k) {
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int get_int(const cJSON *o, const char *k, int def) {
    const cJSON *v = get(o, k);
    return cJSON_IsNumber(v) ? v->valueint : def;
}

/* ---- patterns --------------------------------------------------------------------------------------------
 */
int tok_pattern_compile(tok_pattern *p, const char *path, char *err, size_t errlen) {
    if (p->kind == PAT_STRING) return 0;
    int ec;
    PCRE2_SIZE eo;
    p->re = pcre2_compile((PCRE2_SPTR)p->str, p->str_len, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    if (!p->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return tok_fail(err, errlen, "%s: regex /%s/ does not compile at offset %zu: %s", path, p->str,
                        (size_t)eo, (char *)msg);
    }
    pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter where JIT is missing */
    return 0;
}

void tok_pattern_free(tok_pattern *p) {
    if (p->re) pcre2_code_free(p->re);
    free(p->str);
    memset(p, 0, sizeof *p);
}

static int parse_pattern(ctx *c, const cJSON *o, const char *path, tok_pattern *p) {
    const cJSON *pat = get(o, "pattern");
    const char *s;
    if ((s = get_str(pat, "String"))) {
        p->kind = PAT_STRING;
    } else if ((s = get_str(pat, "Regex"))) {
        p->kind = PAT_REGEX;
    } else
        return tok_fail(c->err, c->errlen, "%s.pattern: expected {\"String\": ...} or {\"Regex\": ...}",
                        path);
    p->str = dup_n(s, strlen(s));
    p->str_len = strlen(s);
    char where[400];
    snprintf(where, sizeof where, "%s: %s.pattern", c->t->name, path);
    return tok_pattern_compile(p, where, c->err, c->errlen);
}

static int unsupported(ctx *c, const char *path, const char *what, const cJSON *o) {
    const char *type = get_str(o, "type");
    return tok_fail(c->err, c->errlen, "%s: %s: unsupported %s type '%s'", c->t->name, path, what,
                    type ? type : "(missing)");
}

static int need_array(ctx *c, const cJSON *a, const char *path) {
    if (!cJSON_IsArray(a)) return tok_fail(c->err, c->errlen, "%s: %s: expected an array", c->t->name, path);
    return 0;
}

/* ---- normalizers ------------------------------------------------------------------------------------------
 */
static int parse_norm(ctx *c, const cJSON *o, const char *path, tok_norm *n);

static int flatten_norm(ctx *c, const cJSON *arr, const char *path, tok_norm *seq) {
    int i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) {
        char p[300];
        snprintf(p, sizeof p, "%s[%d]", path, i++);
        tok_norm one = {0};
        if (parse_norm(c, it, p, &one)) {
            tok_norm_free(&one);
            return -1;
        }
        if (one.type == NORM_SEQUENCE) { /* flatten */
            seq->kids = realloc(seq->kids, (size_t)(seq->n_kids + one.n_kids) * sizeof *seq->kids);
            memcpy(seq->kids + seq->n_kids, one.kids, (size_t)one.n_kids * sizeof *one.kids);
            seq->n_kids += one.n_kids;
            free(one.kids);
        } else {
            seq->kids = realloc(seq->kids, (size_t)(seq->n_kids + 1) * sizeof *seq->kids);
            seq->kids[seq->n_kids++] = one;
        }
    }
    return 0;
}

static int parse_norm(ctx *c, const cJSON *o, const char *path, tok_norm *n) {
    const char *type = get_str(o, "type");
    memset(n, 0, sizeof *n);
    if (!type) return unsupported(c, path, "normalizer", o);
    if (!strcmp(type, "NFC"))
        n->type = NORM_NFC;
    else if (!strcmp(type, "NFD"))
        n->type = NORM_NFD;
    else if (!strcmp(type, "NFKC"))
        n->type = NORM_NFKC;
    else if (!strcmp(type, "NFKD"))
        n->type = NORM_NFKD;
    else if (!strcmp(type, "Lowercase"))
        n->type = NORM_LOWERCASE;
    else if (!strcmp(type, "StripAccents"))
        n->type = NORM_STRIP_ACCENTS;
    else if (!strcmp(type, "BertNormalizer")) {
        n->type = NORM_BERT;
        n->clean_text = get_bool(o, "clean_text", 1);
        n->handle_chinese = get_bool(o, "handle_chinese_chars", 1);
        n->lowercase = get_bool(o, "lowercase", 1);
        n->strip_accents = get_bool(o, "strip_accents", -1);
    } else if (!strcmp(type, "Prepend")) {
        n->type = NORM_PREPEND;
        const char *s = get_str(o, "prepend");
        if (!s) return tok_fail(c->err, c->errlen, "%s: %s.prepend: expected a string", c->t->name, path);
        n->str = dup_n(s, strlen(s));
        n->str_len = strlen(s);
    } else if (!strcmp(type, "Replace")) {
        n->type = NORM_REPLACE;
        const char *s = get_str(o, "content");
        if (!s) return tok_fail(c->err, c->errlen, "%s: %s.content: expected a string", c->t->name, path);
        n->str = dup_n(s, strlen(s));
        n->str_len = strlen(s);
        if (parse_pattern(c, o, path, &n->pat)) return -1;
    } else if (!strcmp(type, "Strip")) {
        n->type = NORM_STRIP;
        n->strip_left = get_bool(o, "strip_left", 1);
        n->strip_right = get_bool(o, "strip_right", 1);
    } else if (!strcmp(type, "Sequence")) {
        n->type = NORM_SEQUENCE;
        char p[300];
        snprintf(p, sizeof p, "%s.normalizers", path);
        const cJSON *arr = get(o, "normalizers");
        if (need_array(c, arr, p)) return -1;
        return flatten_norm(c, arr, p, n);
    } else
        return unsupported(c, path, "normalizer", o);
    return 0;
}

void tok_norm_free(tok_norm *n) {
    if (!n) return;
    for (int i = 0; i < n->n_kids; i++) tok_norm_free(&n->kids[i]);
    free(n->kids);
    free(n->str);
    tok_pattern_free(&n->pat);
}

/* ---- pre-tokenizers ---------------------------------------------------------------------------------------
 */
static int parse_behavior(ctx *c, const cJSON *o, const char *path, tok_split_behavior def,
                          tok_split_behavior *b) {
    const char *s = get_str(o, "behavior");
    *b = def;
    if (!s) return 0;
    if (!strcmp(s, "Removed"))
        *b = SPLIT_REMOVED;
    else if (!strcmp(s, "Isolated"))
        *b = SPLIT_ISOLATED;
    else if (!strcmp(s, "MergedWithPrevious"))
        *b = SPLIT_MERGED_PREV;
    else if (!strcmp(s, "MergedWithNext"))
        *b = SPLIT_MERGED_NEXT;
    else if (!strcmp(s, "Contiguous"))
        *b = SPLIT_CONTIGUOUS;
    else
        return tok_fail(c->err, c->errlen, "%s: %s.behavior: unknown '%s'", c->t->name, path, s);
    return 0;
}

static int parse_prepend_scheme(ctx *c, const cJSON *o, const char *path, tok_prepend_scheme *ps) {
    const char *s = get_str(o, "prepend_scheme");
    if (!s) {
        *ps = get_bool(o, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
        return 0;
    }
    if (!strcmp(s, "always"))
        *ps = PREPEND_ALWAYS;
    else if (!strcmp(s, "first"))
        *ps = PREPEND_FIRST;
    else if (!strcmp(s, "never"))
        *ps = PREPEND_NEVER;
    else
        return tok_fail(c->err, c->errlen, "%s: %s.prepend_scheme: unknown '%s'", c->t->name, path, s);
    return 0;
}

static int parse_replacement(ctx *c, const cJSON *o, const char *path, char *rep, int *rep_len, int32_t *cp) {
    const char *s = get_str(o, "replacement");
    if (!s) s = "\xE2\x96\x81";
    int32_t v;
    int l = tok_utf8_next((const unsigned char *)s, strlen(s), &v);
    if (!*s || v < 0 || s[l])
        return tok_fail(c->err, c->errlen, "%s: %s.replacement: expected one character", c->t->name, path);
    memcpy(rep, s, (size_t)l);
    *rep_len = l;
    if (cp) *cp = v;
    return 0;
}

static int parse_pre(ctx *c, const cJSON *o, const char *path, tok_pre *p);

static int parse_pre(ctx *c, const cJSON *o, const char *path, tok_pre *p) {
    const char *type = get_str(o, "type");
    memset(p, 0, sizeof *p);
    if (!type) return unsupported(c, path, "pre-tokenizer", o);
    if (!strcmp(type, "ByteLevel")) {
        p->type = PRE_BYTELEVEL;
        p->add_prefix_space = get_bool(o, "add_prefix_space", 1);
        p->use_regex = get_bool(o, "use_regex", 1);
        p->pat.kind = PAT_REGEX;
        p->pat.str = dup_n(GPT2_REGEX, strlen(GPT2_REGEX));
        p->pat.str_len = strlen(GPT2_REGEX);
        return p->use_regex ? tok_pattern_compile(&p->pat, c->t->name, c->err, c->errlen) : 0;
    } else if (!strcmp(type, "Split")) {
        p->type = PRE_SPLIT;
        p->invert = get_bool(o, "invert", 0);
        if (parse_behavior(c, o, path, SPLIT_ISOLATED, &p->behavior)) return -1;
        return parse_pattern(c, o, path, &p->pat);
    } else if (!strcmp(type, "Metaspace")) {
        p->type = PRE_METASPACE;
        p->split = get_bool(o, "split", 1);
        if (parse_replacement(c, o, path, p->replacement, &p->replacement_len, &p->replacement_cp)) return -1;
        return parse_prepend_scheme(c, o, path, &p->prepend);
    } else if (!strcmp(type, "BertPreTokenizer")) {
        p->type = PRE_BERT;
    } else if (!strcmp(type, "Whitespace")) {
        p->type = PRE_WHITESPACE;
        p->pat.kind = PAT_REGEX;
        static const char ws[] = "\\w+|[^\\w\\s]+";
        p->pat.str = dup_n(ws, strlen(ws));
        p->pat.str_len = strlen(ws);
        return tok_pattern_compile(&p->pat, c->t->name, c->err, c->errlen);
    } else if (!strcmp(type, "WhitespaceSplit")) {
        p->type = PRE_WHITESPACE_SPLIT;
    } else if (!strcmp(type, "Punctuation")) {
        p->type = PRE_PUNCTUATION;
        return parse_behavior(c, o, path, SPLIT_ISOLATED, &p->behavior);
    } else if (!strcmp(type, "Digits")) {
        p->type = PRE_DIGITS;
        p->individual_digits = get_bool(o, "individual_digits", 0);
    } else if (!strcmp(type, "Sequence")) {
        p->type = PRE_SEQUENCE;
        char ap[300];
        snprintf(ap, sizeof ap, "%s.pretokenizers", path);
        const cJSON *arr = get(o, "pretokenizers"), *it;
        if (need_array(c, arr, ap)) return -1;
        int i = 0;
        cJSON_ArrayForEach(it, arr) {
            char q[300];
            snprintf(q, sizeof q, "%s[%d]", ap, i++);
            tok_pre one;
            if (parse_pre(c, it, q, &one)) {
                tok_pre_free(&one);
                return -1;
            }
            int add = one.type == PRE_SEQUENCE ? one.n_kids : 1;
            p->kids = realloc(p->kids, (size_t)(p->n_kids + add) * sizeof *p->kids);
            if (one.type == PRE_SEQUENCE) {
                memcpy(p->kids + p->n_kids, one.kids, (size_t)add * sizeof *one.kids);
                free(one.kids);
            } else
                p->kids[p->n_kids] = one;
            p->n_kids += add;
        }
    } else
        return unsupported(c, path, "pre-tokenizer", o);
    return 0;
}

void tok_pre_free(tok_pre *p) {
    if (!p) return;
    for (int i = 0; i < p->n_kids; i++) tok_pre_free(&p->kids[i]);
    free(p->kids);
    tok_pattern_free(&p->pat);
}

/* ---- post-processors ----------------------------------------------------------------------------------- */
static int token_pair_id(ctx *c, const cJSON *o, const char *key, const char *path, int32_t *id) {
    const cJSON *a = get(o, key);
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(a, 1)))
        return tok_fail(c->err, c->errlen, "%s: %s.%s: expected [token, id]", c->t->name, path, key);
    *id = cJSON_GetArrayItem(a, 1)->valueint;
    return 0;
}

static void tpl_push(tok_template *t, int32_t v, int type_id) {
    t->item = realloc(t->item, (size_t)(t->n + 1) * sizeof *t->item);
    t->type_id = realloc(t->type_id, (size_t)(t->n + 1));
    t->item[t->n] = v;
    t->type_id[t->n++] = (uint8_t)type_id;
}

static int parse_template(ctx *c, const cJSON *arr, const cJSON *specials, const char *path, const char *key,
                          tok_template *tp) {
    char sp[300];
    const cJSON *it;
    snprintf(sp, sizeof sp, "%s.%s", path, key);
    if (need_array(c, arr, sp)) return -1;
    int i = 0;
    cJSON_ArrayForEach(it, arr) {
        const cJSON *st = get(it, "SpecialToken"), *sq = get(it, "Sequence");
        if (sq) {
            const char *which = get_str(sq, "id");
            tpl_push(tp, which && !strcmp(which, "B") ? -2 : -1, get_int(sq, "type_id", 0));
        } else if (st) {
            const char *name = get_str(st, "id");
            const cJSON *def = name ? get(specials, name) : NULL, *ids = get(def, "ids"), *x;
            if (!cJSON_IsArray(ids))
                return tok_fail(c->err, c->errlen, "%s: %s[%d]: special token '%s' not in %s.special_tokens",
                                c->t->name, sp, i, name ? name : "?", path);
            cJSON_ArrayForEach(x, ids) tpl_push(tp, x->valueint, get_int(st, "type_id", 0));
        } else
            return tok_fail(c->err, c->errlen, "%s: %s[%d]: expected SpecialToken or Sequence", c->t->name,
                            sp, i);
        i++;
    }
    return 0;
}

static int parse_post(ctx *c, const cJSON *o, const char *path, tok_post *p) {
    const char *type = get_str(o, "type");
    memset(p, 0, sizeof *p);
    if (!type) return unsupported(c, path, "post-processor", o);
    if (!strcmp(type, "ByteLevel")) {
        p->type = POST_BYTELEVEL;
    } else if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing")) {
        int bert = type[0] == 'B';
        p->type = bert ? POST_BERT : POST_ROBERTA;
        int32_t cls, sep;
        if (token_pair_id(c, o, "cls", path, &cls) || token_pair_id(c, o, "sep", path, &sep)) return -1;
        tpl_push(&p->single, cls, 0);
        tpl_push(&p->single, -1, 0);
        tpl_push(&p->single, sep, 0);
        /* BERT: [CLS] A [SEP] B [SEP] (B's part type 1); RoBERTa: <s> A </s> </s> B </s> (all type 0) */
        tpl_push(&p->pair, cls, 0);
        tpl_push(&p->pair, -1, 0);
        tpl_push(&p->pair, sep, 0);
        if (!bert) tpl_push(&p->pair, sep, 0);
        tpl_push(&p->pair, -2, bert);
        tpl_push(&p->pair, sep, bert);
    } else if (!strcmp(type, "TemplateProcessing")) {
        p->type = POST_TEMPLATE;
        const cJSON *specials = get(o, "special_tokens");
        if (parse_template(c, get(o, "single"), specials, path, "single", &p->single)) return -1;
        const cJSON *pair = get(o, "pair");
        if (pair && !cJSON_IsNull(pair) && parse_template(c, pair, specials, path, "pair", &p->pair))
            return -1;
    } else if (!strcmp(type, "Sequence")) {
        p->type = POST_SEQUENCE;
        char ap[300];
        snprintf(ap, sizeof ap, "%s.processors", path);
        const cJSON *arr = get(o, "processors"), *it;
        if (need_array(c, arr, ap)) return -1;
        int i = 0;
        cJSON_ArrayForEach(it, arr) {
            char q[300];
            snprintf(q, sizeof q, "%s[%d]", ap, i++);
            p->kids = realloc(p->kids, (size_t)(p->n_kids + 1) * sizeof *p->kids);
            if (parse_post(c, it, q, &p->kids[p->n_kids])) {
                tok_post_free(&p->kids[p->n_kids]);
                return -1;
            }
            if (p->kids[p->n_kids].type == POST_SEQUENCE)
                return tok_fail(c->err, c->errlen,
                                "%s: %s: nested Sequence post-processors are not supported", c->t->name, q);
            p->n_kids++;
        }
    } else
        return unsupported(c, path, "post-processor", o);
    return 0;
}

void tok_post_free(tok_post *p) {
    if (!p) return;
    for (int i = 0; i < p->n_kids; i++) tok_post_free(&p->kids[i]);
    free(p->kids);
    free(p->single.item);
    free(p->single.type_id);
    free(p->pair.item);
    free(p->pair.type_id);
}

/* ---- decoders -------------------------------------------------------------------------------------------
 */
static int parse_dec(ctx *c, const cJSON *o, const char *path, tok_dec *d) {
    const char *type = get_str(o, "type");
    memset(d, 0, sizeof *d);
    if (!type) return unsupported(c, path, "decoder", o);
    if (!strcmp(type, "ByteLevel"))
        d->type = DEC_BYTELEVEL;
    else if (!strcmp(type, "ByteFallback"))
        d->type = DEC_BYTEFALLBACK;
    else if (!strcmp(type, "Fuse"))
        d->type = DEC_FUSE;
    else if (!strcmp(type, "Metaspace")) {
        d->type = DEC_METASPACE;
        if (parse_replacement(c, o, path, d->replacement, &d->replacement_len, NULL)) return -1;
        return parse_prepend_scheme(c, o, path, &d->prepend);
    } else if (!strcmp(type, "WordPiece")) {
        d->type = DEC_WORDPIECE;
        const char *pf = get_str(o, "prefix");
        if (!pf) pf = "##";
        d->str = dup_n(pf, strlen(pf));
        d->str_len = strlen(pf);
        d->cleanup = get_bool(o, "cleanup", 1);
    } else if (!strcmp(type, "BPEDecoder")) {
        d->type = DEC_BPE;
        const char *sf = get_str(o, "suffix");
        if (!sf) sf = "</w>";
        d->str = dup_n(sf, strlen(sf));
        d->str_len = strlen(sf);
    } else if (!strcmp(type, "Replace")) {
        d->type = DEC_REPLACE;
        const char *s = get_str(o, "content");
        if (!s) return tok_fail(c->err, c->errlen, "%s: %s.content: expected a string", c->t->name, path);
        d->str = dup_n(s, strlen(s));
        d->str_len = strlen(s);
        if (parse_pattern(c, o, path, &d->pat)) return -1;
        if (d->pat.kind != PAT_STRING)
            return tok_fail(c->err, c->errlen,
                            "%s: %s.pattern: only String patterns are supported in decoders", c->t->name,
                            path);
    } else if (!strcmp(type, "Strip")) {
        d->type = DEC_STRIP;
        const char *s = get_str(o, "content");
        if (!s) s = " ";
        d->str = dup_n(s, strlen(s));
        d->str_len = strlen(s);
        d->start = get_int(o, "start", 0);
        d->stop = get_int(o, "stop", 0);
    } else if (!strcmp(type, "Sequence")) {
        d->type = DEC_SEQUENCE;
        char ap[300];
        snprintf(ap, sizeof ap, "%s.decoders", path);
        const cJSON *arr = get(o, "decoders"), *it;
        if (need_array(c, arr, ap)) return -1;
        int i = 0;
        cJSON_ArrayForEach(it, arr) {
            char q[300];
            snprintf(q, sizeof q, "%s[%d]", ap, i++);
            tok_dec one;
            if (parse_dec(c, it, q, &one)) {
                tok_dec_free(&one);
                return -1;
            }
            int add = one.type == DEC_SEQUENCE ? one.n_kids : 1;
            d->kids = realloc(d->kids, (size_t)(d->n_kids + add) * sizeof *d->kids);
            if (one.type == DEC_SEQUENCE) {
                memcpy(d->kids + d->n_kids, one.kids, (size_t)add * sizeof *one.kids);
                free(one.kids);
            } else
                d->kids[d->n_kids] = one;
            d->n_kids += add;
        }
    } else
        return unsupported(c, path, "decoder", o);
    return 0;
}

void tok_dec_free(tok_dec *d) {
    if (!d) return;
    for (int i = 0; i < d->n_kids; i++) tok_dec_free(&d->kids[i]);
    free(d->kids);
    free(d->str);
    tok_pattern_free(&d->pat);
}

/* ---- the model --------------------------------------------------------------------------------------------
 */
static int parse_model(ctx *c, const cJSON *m) {
    vkft_tokenizer *t = c->t;
    const char *type = get_str(m, "type");
    if (!cJSON_IsObject(m)) return tok_fail(c->err, c->errlen, "%s: model: expected an object", t->name);
    if (!type) type = get(m, "merges") ? "BPE" : get(m, "max_input_chars_per_word") ? "WordPiece" : "?";
    if (!strcmp(type, "BPE"))
        t->model = MODEL_BPE;
    else if (!strcmp(type, "WordPiece"))
        t->model = MODEL_WORDPIECE;
    else if (!strcmp(type, "WordLevel"))
        t->model = MODEL_WORDLEVEL;
    else
        return tok_fail(c->err, c->errlen,
                        "%s: model.type: unsupported model type '%s' (BPE, WordPiece and WordLevel are)",
                        t->name, type);
    if (cJSON_IsNumber(get(m, "dropout")) && get(m, "dropout")->valuedouble > 0)
        return tok_fail(c->err, c->errlen, "%s: model.dropout: BPE dropout is not supported", t->name);
    const cJSON *vocab = get(m, "vocab"), *it;
    if (!cJSON_IsObject(vocab))
        return tok_fail(c->err, c->errlen, "%s: model.vocab: expected an object", t->name);
    int nv = cJSON_GetArraySize(vocab);
    tok_map_init(&t->vocab, (uint32_t)nv);
    cJSON_ArrayForEach(it, vocab) {
        if (!cJSON_IsNumber(it) || it->valueint < 0 || it->valueint >= TOK_MAX_ID)
            return tok_fail(c->err, c->errlen, "%s: model.vocab[\"%s\"]: expected an id in [0, %d)", t->name,
                            it->string, TOK_MAX_ID);
        tok_table_set(t, it->valueint, it->string, strlen(it->string));
        tok_map_put(&t->vocab, t, it->valueint);
    }
    const char *unk = get_str(m, "unk_token");
    t->unk_id = -1;
    if (unk) {
        t->unk_token = dup_n(unk, strlen(unk));
        t->unk_id = tok_map_get(&t->vocab, t, unk, strlen(unk));
    }
    const char *pf = get_str(m, "continuing_subword_prefix");
    if (pf && *pf) {
        t->cont_prefix = dup_n(pf, strlen(pf));
        t->cont_prefix_len = strlen(pf);
    }
    if (t->model == MODEL_WORDLEVEL) return tok_model_prepare(t, c->err, c->errlen);
    if (t->model == MODEL_WORDPIECE) {
        if (!t->cont_prefix) {
            t->cont_prefix = dup_n("##", 2);
            t->cont_prefix_len = 2;
        }
        t->max_input_chars = get_int(m, "max_input_chars_per_word", 100);
        return tok_model_prepare(t, c->err, c->errlen);
    }
    const char *sf = get_str(m, "end_of_word_suffix");
    if (sf && *sf) {
        t->eow_suffix = dup_n(sf, strlen(sf));
        t->eow_suffix_len = strlen(sf);
    }
    t->byte_fallback = get_bool(m, "byte_fallback", 0);
    t->fuse_unk = get_bool(m, "fuse_unk", 0);
    t->ignore_merges = get_bool(m, "ignore_merges", 0);
    const cJSON *merges = get(m, "merges");
    if (need_array(c, merges, "model.merges")) return -1;
    tok_merges_init(t, (uint32_t)cJSON_GetArraySize(merges));
    uint32_t rank = 0;
    tok_buf joined = {0};
    cJSON_ArrayForEach(it, merges) {
        const char *a, *b;
        size_t al, bl;
        if (cJSON_IsString(it)) {
            a = it->valuestring;
            const char *sp = strchr(a, ' ');
            if (!sp) {
                tok_buf_free(&joined);
                return tok_fail(c->err, c->errlen, "%s: model.merges[%u]: expected \"a b\"", t->name, rank);
            }
            al = (size_t)(sp - a);
            b = sp + 1;
            bl = strlen(b);
        } else if (cJSON_IsArray(it) && cJSON_GetArraySize(it) == 2 && cJSON_IsString(it->child) &&
                   cJSON_IsString(it->child->next)) {
            a = it->child->valuestring;
            al = strlen(a);
            b = it->child->next->valuestring;
            bl = strlen(b);
        } else {
            tok_buf_free(&joined);
            return tok_fail(c->err, c->errlen, "%s: model.merges[%u]: expected \"a b\" or [\"a\", \"b\"]",
                            t->name, rank);
        }
        int32_t ia = tok_map_get(&t->vocab, t, a, al), ib = tok_map_get(&t->vocab, t, b, bl);
        joined.n = 0;
        tok_buf_put(&joined, a, al);
        size_t skip =
            (t->cont_prefix_len && bl >= t->cont_prefix_len && !memcmp(b, t->cont_prefix, t->cont_prefix_len))
                ? t->cont_prefix_len
                : 0;
        tok_buf_put(&joined, b + skip, bl - skip);
        int32_t in = tok_map_get(&t->vocab, t, joined.p, joined.n);
        if (ia < 0 || ib < 0 || in < 0) {
            tok_buf_free(&joined);
            return tok_fail(c->err, c->errlen,
                            "%s: model.merges[%u]: '%.*s' + '%.*s' uses a token missing from the vocab",
                            t->name, rank, (int)al, a, (int)bl, b);
        }
        tok_merges_put(t, ia, ib, rank, in);
        rank++;
    }
    tok_buf_free(&joined);
    return tok_model_prepare(t, c->err, c->errlen);
}

/* ---- added tokens
 * ------------------------------------------------------------------------------------------ */
/* Indexes the added tokens for matching: a normalized token is matched on normalized text in its
 * normalized form (HF's AddedVocabulary normalizes its content), the others as they are. */
static void index_added(vkft_tokenizer *t) {
    memset(t->added_first, 0, sizeof t->added_first);
    t->has_norm_added = t->has_raw_added = 0;
    vkft_tok_session *s = NULL;
    char e[256];
    for (int k = 0; k < t->n_added; k++) {
        tok_added *a = &t->added[k];
        if (a->match != a->content) free(a->match);
        a->match = a->content;
        a->match_len = a->len;
        if (!a->len) continue;
        /* without a normalizer, normalized and raw matching are the same: match on the raw text */
        if (!t->norm) a->normalized = 0;
        if (a->normalized) {
            if (!s) s = vkft_tok_session_new(t);
            if (s && tok_normalize(s, t->norm, a->content, a->len, &s->norm, e, sizeof e) == 0 && s->norm.n) {
                a->match = dup_n(s->norm.p, s->norm.n);
                a->match_len = s->norm.n;
            }
            t->has_norm_added = 1;
        } else
            t->has_raw_added = 1;
        t->added_first[(unsigned char)a->match[0]] = 1;
    }
    vkft_tok_session_free(s);
}

static void add_one(vkft_tokenizer *t, int32_t id, const char *s, size_t n, int special, int normalized,
                    int lstrip, int rstrip, int single_word) {
    if (t->n_added == t->cap_added) {
        t->cap_added = t->cap_added ? t->cap_added * 2 : 16;
        t->added = realloc(t->added, (size_t)t->cap_added * sizeof *t->added);
    }
    tok_added *a = &t->added[t->n_added++];
    a->match = NULL;
    a->id = id;
    a->content = dup_n(s, n);
    a->len = n;
    a->special = (uint8_t)special;
    a->normalized = (uint8_t)normalized;
    a->lstrip = (uint8_t)lstrip;
    a->rstrip = (uint8_t)rstrip;
    a->single_word = (uint8_t)single_word;
    if (id >= t->n_ids || !t->tok[id] || t->tok_len[id] != n || memcmp(t->tok[id], s, n))
        tok_table_set(t, id, s, n);
    t->is_added[id] = special ? 2 : 1;
}

static int parse_added(ctx *c, const cJSON *arr) {
    const cJSON *it;
    int i = 0;
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (need_array(c, arr, "added_tokens")) return -1;
    cJSON_ArrayForEach(it, arr) {
        const char *content = get_str(it, "content");
        const cJSON *id = get(it, "id");
        if (!content || !cJSON_IsNumber(id) || id->valueint < 0 || id->valueint >= TOK_MAX_ID)
            return tok_fail(
                c->err, c->errlen,
                "%s: added_tokens[%d]: expected {\"id\": N, \"content\": \"...\"} with N in [0, %d)",
                c->t->name, i, TOK_MAX_ID);
        int special = get_bool(it, "special", 0);
        add_one(c->t, id->valueint, content, strlen(content), special, get_bool(it, "normalized", !special),
                get_bool(it, "lstrip", 0), get_bool(it, "rstrip", 0), get_bool(it, "single_word", 0));
        i++;
    }
    return 0;
}

/* ---- tokenizer_config.json -------------------------------------------------------------------------------
 */
static int32_t config_token(vkft_tokenizer *t, const cJSON *cfg, const char *key, int *present) {
    const cJSON *v = get(cfg, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : get_str(v, "content");
    if (v) *present = 1;
    return s ? vkft_tokenizer_token_to_id(t, s, strlen(s)) : -1;
}

static int32_t first_known(vkft_tokenizer *t, const char *const *names) {
    for (; *names; names++) {
        int32_t id = vkft_tokenizer_token_to_id(t, *names, strlen(*names));
        if (id >= 0) return id;
    }
    return -1;
}

static void load_specials(vkft_tokenizer *t, const char *config_json) {
    cJSON *cfg = config_json ? cJSON_Parse(config_json) : NULL;
    int pb = 0, pe = 0, pp = 0, pu = 0;
    t->specials.bos = config_token(t, cfg, "bos_token", &pb);
    t->specials.eos = config_token(t, cfg, "eos_token", &pe);
    t->specials.pad = config_token(t, cfg, "pad_token", &pp);
    t->specials.unk = config_token(t, cfg, "unk_token", &pu);
    const cJSON *ct = get(cfg, "chat_template");
    if (cJSON_IsString(ct))
        t->chat_template = dup_n(ct->valuestring, strlen(ct->valuestring));
    else if (cJSON_IsArray(ct)) { /* [{name, template}]: the "default" one, else the first */
        const cJSON *it, *pick = NULL;
        cJSON_ArrayForEach(it, ct) {
            const char *name = get_str(it, "name");
            if (!pick || (name && !strcmp(name, "default"))) pick = it;
        }
        const char *s = get_str(pick, "template");
        if (s) t->chat_template = dup_n(s, strlen(s));
    }
    t->specials.chat_template = t->chat_template;
    cJSON_Delete(cfg);
    /* without a config: guess from common names */
    static const char *bos[] = {"<s>", "<|begin_of_text|>", "[CLS]", "<bos>", NULL};
    static const char *eos[] = {"</s>", "<|end_of_text|>", "<|endoftext|>", "[SEP]", "<eos>", NULL};
    static const char *pad[] = {"[PAD]", "<pad>", "<|pad|>", NULL};
    static const char *unk[] = {"[UNK]", "<unk>", NULL};
    if (!pb) t->specials.bos = first_known(t, bos);
    if (!pe) t->specials.eos = first_known(t, eos);
    if (!pp) t->specials.pad = first_known(t, pad);
    if (!pu) t->specials.unk = t->unk_id >= 0 ? t->unk_id : first_known(t, unk);
}

/* ---- entry points
 * ------------------------------------------------------------------------------------------ */
void vkft_tokenizer_free(vkft_tokenizer *t) {
    if (!t) return;
    vkft_tok_session_free(t->session);
    for (size_t i = 0; i < t->n_blocks; i++) free(t->blocks[i]);
    free(t->blocks);
    free(t->tok);
    free(t->tok_len);
    free(t->is_added);
    tok_map_free(&t->vocab);
    free(t->unk_token);
    free(t->cont_prefix);
    free(t->eow_suffix);
    free(t->merges);
    free(t->char_id);
    free(t->char_id_cont);
    for (int k = 0; k < t->n_added; k++) {
        if (t->added[k].match != t->added[k].content) free(t->added[k].match);
        free(t->added[k].content);
    }
    free(t->added);
    if (t->norm) tok_norm_free(t->norm);
    if (t->pre) tok_pre_free(t->pre);
    if (t->post) tok_post_free(t->post);
    if (t->dec) tok_dec_free(t->dec);
    free(t->norm);
    free(t->pre);
    free(t->post);
    free(t->dec);
    free(t->chat_template);
    free(t->json_text);
    free(t->name);
    free(t);
}

int vkft_tokenizer_load_json(const char *json, size_t len, const char *config_json, const char *name,
                             vkft_tokenizer **out, char *err, size_t errlen) {
    *out = NULL;
    vkft_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return tok_fail(err, errlen, "out of memory");
    t->name = dup_n(name ? name : "tokenizer.json", strlen(name ? name : "tokenizer.json"));
    t->unk_id = -1;
    tok_bytelevel_init(&t->bl);
    ctx c = {t, err, errlen};
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end && end >= json ? (size_t)(end - json) : 0;
        tok_fail(err, errlen, "%s: malformed JSON near byte %zu", t->name, at);
        vkft_tokenizer_free(t);
        return -1;
    }
    int rc = -1;
    const cJSON *o;
    if (!cJSON_IsObject(root) || !get(root, "model")) {
        tok_fail(err, errlen, "%s: not a tokenizer.json (no \"model\" object)", t->name);
        goto done;
    }
    if (parse_model(&c, get(root, "model"))) goto done;
    if ((o = get(root, "normalizer")) && !cJSON_IsNull(o)) {
        t->norm = calloc(1, sizeof *t->norm);
        if (parse_norm(&c, o, "normalizer", t->norm)) goto done;
    }
    if ((o = get(root, "pre_tokenizer")) && !cJSON_IsNull(o)) {
        t->pre = calloc(1, sizeof *t->pre);
        if (parse_pre(&c, o, "pre_tokenizer", t->pre)) goto done;
    }
    if ((o = get(root, "post_processor")) && !cJSON_IsNull(o)) {
        t->post = calloc(1, sizeof *t->post);
        if (parse_post(&c, o, "post_processor", t->post)) goto done;
    }
    if ((o = get(root, "decoder")) && !cJSON_IsNull(o)) {
        t->dec = calloc(1, sizeof *t->dec);
        if (parse_dec(&c, o, "decoder", t->dec)) goto done;
    }
    if (parse_added(&c, get(root, "added_tokens"))) goto done;
    index_added(t);
    if (t->model == MODEL_BPE && t->unk_id < 0 && t->unk_token)
        t->unk_id = vkft_tokenizer_token_to_id(t, t->unk_token, strlen(t->unk_token));
    load_specials(t, config_json);
    t->json_text = dup_n(json, len);
    t->json_len = len;
    rc = 0;
done:
    cJSON_Delete(root);
    if (rc)
        vkft_tokenizer_free(t);
    else
        *out = t;
    return rc;
}

static void dir_of(const char *path, char *dir, size_t n);

/* tokenizer_config.json's text beside path, or NULL. */
static char *read_config_beside(const char *path) {
    char dir[4096], cfgp[4200], *cfg = NULL, e[64];
    size_t cn;
    dir_of(path, dir, sizeof dir);
    snprintf(cfgp, sizeof cfgp, "%stokenizer_config.json", dir);
    if (!vkft_file_exists(cfgp) || vkft_read_file(cfgp, &cfg, &cn, e, sizeof e)) return NULL;
    return cfg;
}

/* BERT's classic vocab.txt (one WordPiece token per line, id = line number), converted to the equivalent
 * tokenizer.json (as HF's BertTokenizerFast: lowercase unless tokenizer_config.json says do_lower_case
 * false). */
static int load_bert_vocab(const char *path, vkft_tokenizer **out, char *err, size_t errlen) {
    char *text = NULL, *cfg = read_config_beside(path);
    size_t n;
    if (vkft_read_file(path, &text, &n, err, errlen)) {
        free(cfg);
        return -1;
    }
    int lower = 1;
    cJSON *cj = cfg ? cJSON_Parse(cfg) : NULL;
    if (cJSON_IsBool(get(cj, "do_lower_case"))) lower = cJSON_IsTrue(get(cj, "do_lower_case"));
    cJSON_Delete(cj);
    cJSON *root = cJSON_CreateObject(), *vocab = cJSON_CreateObject();
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    static const char *specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    int ids[5] = {-1, -1, -1, -1, -1}, id = 0;
    for (char *line = text, *end = text + n; line < end; id++) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        size_t len = (size_t)(nl - line);
        if (len && line[len - 1] == '\r') len--;
        char *tok = dup_n(line, len);
        cJSON_AddItemToObject(vocab, tok, cJSON_CreateNumber(id)); /* a repeated token: the last id wins */
        for (int k = 0; k < 5; k++)
            if (!strcmp(tok, specials[k])) ids[k] = id;
        free(tok);
        line = nl + 1;
    }
    free(text);
    for (int k = 0; k < 5; k++) {
        if (ids[k] < 0) continue;
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", ids[k]);
        cJSON_AddStringToObject(a, "content", specials[k]);
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "lstrip", 0);
        cJSON_AddBoolToObject(a, "rstrip", 0);
        cJSON_AddBoolToObject(a, "normalized", 0);
        cJSON_AddBoolToObject(a, "special", 1);
        cJSON_AddItemToArray(added, a);
    }
    cJSON *nm = cJSON_AddObjectToObject(root, "normalizer");
    cJSON_AddStringToObject(nm, "type", "BertNormalizer");
    cJSON_AddBoolToObject(nm, "clean_text", 1);
    cJSON_AddBoolToObject(nm, "handle_chinese_chars", 1);
    cJSON_AddNullToObject(nm, "strip_accents");
    cJSON_AddBoolToObject(nm, "lowercase", lower);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(root, "pre_tokenizer"), "type", "BertPreTokenizer");
    if (ids[2] >= 0 && ids[3] >= 0) {
        cJSON *pp = cJSON_AddObjectToObject(root, "post_processor");
        cJSON_AddStringToObject(pp, "type", "BertProcessing");
        cJSON *sep = cJSON_AddArrayToObject(pp, "sep"), *cls = cJSON_AddArrayToObject(pp, "cls");
        cJSON_AddItemToArray(sep, cJSON_CreateString("[SEP]"));
        cJSON_AddItemToArray(sep, cJSON_CreateNumber(ids[3]));
        cJSON_AddItemToArray(cls, cJSON_CreateString("[CLS]"));
        cJSON_AddItemToArray(cls, cJSON_CreateNumber(ids[2]));
    } else
        cJSON_AddNullToObject(root, "post_processor");
    cJSON *dec = cJSON_AddObjectToObject(root, "decoder");
    cJSON_AddStringToObject(dec, "type", "WordPiece");
    cJSON_AddStringToObject(dec, "prefix", "##");
    cJSON_AddBoolToObject(dec, "cleanup", 1);
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "WordPiece");
    cJSON_AddStringToObject(model, "unk_token", "[UNK]");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "##");
    cJSON_AddNumberToObject(model, "max_input_chars_per_word", 100);
    cJSON_AddItemToObject(model, "vocab", vocab);
    char *js = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    int rc = js ? vkft_tokenizer_load_json(js, strlen(js), cfg, path, out, err, errlen)
                : tok_fail(err, errlen, "out of memory");
    free(js);
    free(cfg);
    return rc;
}

/* GPT-2's encoder.json + vocab.bpe, converted to the equivalent tokenizer.json (as HF's GPT2TokenizerFast).
 * Hugging Face's slow-tokenizer names for the same files, vocab.json + merges.txt, load the same way. */
static int load_gpt2_classic(const char *enc_path, const char *bpe_path, vkft_tokenizer **out, char *err,
                             size_t errlen) {
    char *enc = NULL, *bpe = NULL;
    size_t enc_n, bpe_n;
    if (vkft_read_file(enc_path, &enc, &enc_n, err, errlen)) return -1;
    if (vkft_read_file(bpe_path, &bpe, &bpe_n, err, errlen)) {
        free(enc);
        return -1;
    }
    int rc = -1;
    cJSON *vocab = cJSON_ParseWithLength(enc, enc_n);
    cJSON *root = cJSON_CreateObject(), *merges = cJSON_CreateArray();
    if (!cJSON_IsObject(vocab)) {
        tok_fail(err, errlen, "%s: malformed JSON (expected an object token -> id)", enc_path);
        cJSON_Delete(vocab);
        goto done;
    }
    /* vocab.bpe: a "#version" line, then one merge "a b" per line */
    char *line = bpe, *end = bpe + bpe_n;
    int lineno = 0;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl) nl = end;
        size_t n = (size_t)(nl - line);
        if (n && line[n - 1] == '\r') n--;
        lineno++;
        if (n && !(lineno == 1 && line[0] == '#')) {
            char *m = dup_n(line, n);
            if (!strchr(m, ' ')) {
                tok_fail(err, errlen, "%s:%d: expected a merge \"a b\"", bpe_path, lineno);
                free(m);
                cJSON_Delete(vocab);
                goto done;
            }
            cJSON_AddItemToArray(merges, cJSON_CreateString(m));
            free(m);
        }
        line = nl + 1;
    }
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *added = cJSON_AddArrayToObject(root, "added_tokens");
    const cJSON *eot = get(vocab, "<|endoftext|>");
    if (cJSON_IsNumber(eot)) {
        cJSON *a = cJSON_CreateObject();
        cJSON_AddNumberToObject(a, "id", eot->valueint);
        cJSON_AddStringToObject(a, "content", "<|endoftext|>");
        cJSON_AddBoolToObject(a, "single_word", 0);
        cJSON_AddBoolToObject(a, "lstrip", 0);
        cJSON_AddBoolToObject(a, "rstrip", 0);
        cJSON_AddBoolToObject(a, "normalized", 1);
        cJSON_AddBoolToObject(a, "special", 1);
        cJSON_AddItemToArray(added, a);
    }
    cJSON_AddNullToObject(root, "normalizer");
    cJSON *pre = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(pre, "type", "ByteLevel");
    cJSON_AddBoolToObject(pre, "add_prefix_space", 0);
    cJSON_AddBoolToObject(pre, "trim_offsets", 1);
    cJSON_AddBoolToObject(pre, "use_regex", 1);
    cJSON_AddItemToObject(root, "post_processor", cJSON_Duplicate(pre, 1));
    cJSON_AddItemToObject(root, "decoder", cJSON_Duplicate(pre, 1));
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", "BPE");
    cJSON_AddNullToObject(model, "dropout");
    cJSON_AddNullToObject(model, "unk_token");
    cJSON_AddStringToObject(model, "continuing_subword_prefix", "");
    cJSON_AddStringToObject(model, "end_of_word_suffix", "");
    cJSON_AddBoolToObject(model, "fuse_unk", 0);
    cJSON_AddBoolToObject(model, "byte_fallback", 0);
    cJSON_AddItemToObject(model, "vocab", vocab);
    cJSON_AddItemToObject(model, "merges", merges);
    merges = NULL;
    char *text = cJSON_PrintUnformatted(root);
    if (!text) {
        tok_fail(err, errlen, "out of memory");
        goto done;
    }
    char *cfg = read_config_beside(enc_path);
    rc = vkft_tokenizer_load_json(text, strlen(text), cfg, enc_path, out, err, errlen);
    free(cfg);
    free(text);
done:
    cJSON_Delete(merges);
    cJSON_Delete(root);
    free(enc);
    free(bpe);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static void dir_of(const char *path, char *dir, size_t n) {
    snprintf(dir, n, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[1] = 0;
    else
        dir[0] = 0;
}

int vkft_tokenizer_load(const char *path, vkft_tokenizer **out, char *err, size_t errlen) {
    char dir[4096], a[4200], b[4200];
    struct stat st;
    *out = NULL;
    if (stat(path, &st)) return tok_fail(err, errlen, "%s: no such file or folder", path);
    if (S_ISDIR(st.st_mode)) {
        snprintf(dir, sizeof dir, "%s/", path);
        snprintf(a, sizeof a, "%stokenizer.json", dir);
        if (vkft_file_exists(a)) return vkft_tokenizer_load(a, out, err, errlen);
        static const char *pairs[2][2] = {{"encoder.json", "vocab.bpe"}, {"vocab.json", "merges.txt"}};
        for (int k = 0; k < 2; k++) {
            snprintf(a, sizeof a, "%s%s", dir, pairs[k][0]);
            snprintf(b, sizeof b, "%s%s", dir, pairs[k][1]);
            if (vkft_file_exists(a) && vkft_file_exists(b)) return load_gpt2_classic(a, b, out, err, errlen);
        }
        snprintf(a, sizeof a, "%svocab.txt", dir);
        if (vkft_file_exists(a)) return load_bert_vocab(a, out, err, errlen);
        return tok_fail(
            err, errlen,
            "%s: no tokenizer.json (nor encoder.json + vocab.bpe, vocab.json + merges.txt, vocab.txt) "
            "in this folder",
            path);
    }
    dir_of(path, dir, sizeof dir);
    if (ends_with(path, "vocab.bpe") || ends_with(path, "merges.txt")) {
        snprintf(a, sizeof a, "%s%s", dir, ends_with(path, "vocab.bpe") ? "encoder.json" : "vocab.json");
        return load_gpt2_classic(a, path, out, err, errlen);
    }
    if (ends_with(path, "encoder.json") || ends_with(path, "vocab.json")) {
        snprintf(b, sizeof b, "%s%s", dir, ends_with(path, "encoder.json") ? "vocab.bpe" : "merges.txt");
        if (vkft_file_exists(b)) return load_gpt2_classic(path, b, out, err, errlen);
    }
    if (ends_with(path, ".txt")) return load_bert_vocab(path, out, err, errlen);
    char *json = NULL, *cfg = NULL;
    size_t n, cn;
    if (vkft_read_file(path, &json, &n, err, errlen)) return -1;
    snprintf(a, sizeof a, "%stokenizer_config.json", dir);
    if (vkft_file_exists(a) && vkft_read_file(a, &cfg, &cn, err, errlen)) {
        free(json);
        return -1;
    }
    int rc = vkft_tokenizer_load_json(json, n, cfg, path, out, err, errlen);
    free(json);
    free(cfg);
    return rc;
}

int vkft_tokenizer_add_tokens(vkft_tokenizer *t, const char *const *tokens, const size_t *lens, size_t n,
                              int special, char *err, size_t errlen) {
    int added = 0;
    for (size_t i = 0; i < n; i++) {
        if (!lens[i]) continue;
        if (!tok_utf8_valid(tokens[i], lens[i]))
            return tok_fail(err, errlen, "token %zu is not valid UTF-8", i);
        if (vkft_tokenizer_token_to_id(t, tokens[i], lens[i]) >= 0) continue;
        add_one(t, t->n_ids, tokens[i], lens[i], special, !special, 0, 0, 0);
        added++;
    }
    index_added(t);
    return added;
}

int vkft_tokenizer_save(const vkft_tokenizer *t, const char *path, char *err, size_t errlen) {
    if (!t->json_text) return tok_fail(err, errlen, "%s: no JSON to save", t->name);
    cJSON *root = cJSON_ParseWithLength(t->json_text, t->json_len);
    if (!root) return tok_fail(err, errlen, "%s: internal error: stored JSON does not parse", t->name);
    cJSON *arr = cJSON_CreateArray();
    for (int k = 0; k < t->n_added; k++) {
        const tok_added *a = &t->added[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", a->id);
        char *content = dup_n(a->content, a->len);
        cJSON_AddStringToObject(o, "content", content);
        free(content);
        cJSON_AddBoolToObject(o, "single_word", a->single_word);
        cJSON_AddBoolToObject(o, "lstrip", a->lstrip);
        cJSON_AddBoolToObject(o, "rstrip", a->rstrip);
        cJSON_AddBoolToObject(o, "normalized", a->normalized || (!t->norm && !a->special));
        cJSON_AddBoolToObject(o, "special", a->special);
        cJSON_AddItemToArray(arr, o);
    }
    if (get(root, "added_tokens"))
        cJSON_ReplaceItemInObjectCaseSensitive(root, "added_tokens", arr);
    else
        cJSON_AddItemToObject(root, "added_tokens", arr);
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return tok_fail(err, errlen, "out of memory");
    int rc = vkft_write_file_atomic(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}
