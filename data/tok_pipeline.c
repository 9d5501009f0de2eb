/* The pipeline's text steps, with Hugging Face tokenizers' semantics: normalizers, pre-tokenizers (the
 * splitting behaviors of NormalizedString::split), and decoders. */
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "data/tok_internal.h"

/* ---- patterns -------------------------------------------------------------------------------------------
 */
int tok_pattern_find(vkft_tok_session *s, const tok_pattern *pat, const char *str, size_t n, size_t from,
                     size_t *ms, size_t *me) {
    if (pat->kind == PAT_STRING) {
        if (!pat->str_len || from >= n) return 0;
        const char *p = memmem(str + from, n - from, pat->str, pat->str_len);
        if (!p) return 0;
        *ms = (size_t)(p - str);
        *me = *ms + pat->str_len;
        return 1;
    }
    for (;;) {
        if (from > n) return 0;
        int rc = pcre2_match(pat->re, (PCRE2_SPTR)str, n, from, PCRE2_NO_UTF_CHECK, s->md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) return 0;
        if (rc < 0 && rc != 0) return -1;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        if (ov[1] > ov[0]) {
            *ms = ov[0];
            *me = ov[1];
            return 1;
        }
        /* an empty match: skip one character */
        from = ov[0] + 1;
        while (from < n && ((unsigned char)str[from] & 0xC0) == 0x80) from++;
    }
}

/* ---- normalizers ------------------------------------------------------------------------------------------
 */
static int is_ascii(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80) return 0;
    return 1;
}

static int unicode_form(const char *in, size_t len, int opts, tok_buf *out, char *err, size_t errlen) {
    if (is_ascii(in, len)) {
        tok_buf_put(out, in, len);
        return 0;
    }
    utf8proc_uint8_t *dst = NULL;
    utf8proc_ssize_t r = utf8proc_map((const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len, &dst, opts);
    if (r < 0) return tok_fail(err, errlen, "unicode normalization: %s", utf8proc_errmsg(r));
    tok_buf_put(out, dst, (size_t)r);
    free(dst);
    return 0;
}

static void lowercase(const char *in, size_t len, tok_buf *out) {
    const unsigned char *u = (const unsigned char *)in;
    tok_buf_reserve(out, len);
    for (size_t i = 0; i < len;) {
        if (u[i] < 0x80) {
            char c = (char)u[i];
            tok_buf_putc(out, (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c);
            i++;
            continue;
        }
        int32_t cp;
        int l = tok_utf8_next(u + i, len - i, &cp);
        if (cp == 0x130) { /* İ lowercases to i + combining dot above (Rust's full mapping) */
            tok_buf_put(out, "i\xCC\x87", 3);
        } else
            tok_buf_put_cp(out, cp < 0 ? 0xFFFD : utf8proc_tolower(cp));
        i += (size_t)l;
    }
}

/* HF's StripAccents drops every combining mark (General_Category M: Mn, Mc, Me); BertNormalizer's
 * strip_accents drops only nonspacing marks (Mn). */
static void strip_accents(const char *in, size_t len, int all_marks, tok_buf *out) {
    const unsigned char *u = (const unsigned char *)in;
    for (size_t i = 0; i < len;) {
        int32_t cp;
        int l = tok_utf8_next(u + i, len - i, &cp);
        if (cp < 0x80 || !(all_marks ? tok_is_mark(cp) : tok_is_mark_nonspacing(cp)))
            tok_buf_put(out, in + i, (size_t)l);
        i += (size_t)l;
    }
}

static int normalize_one(vkft_tok_session *s, const tok_norm *n, const char *in, size_t len, tok_buf *out,
                         char *err, size_t errlen) {
    switch (n->type) {
    case NORM_NFC: return unicode_form(in, len, UTF8PROC_STABLE | UTF8PROC_COMPOSE, out, err, errlen);
    case NORM_NFD: return unicode_form(in, len, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, out, err, errlen);
    case NORM_NFKC:
        return unicode_form(in, len, UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT, out, err, errlen);
    case NORM_NFKD:
        return unicode_form(in, len, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, out, err,
                            errlen);
    case NORM_LOWERCASE: lowercase(in, len, out); return 0;
    case NORM_STRIP_ACCENTS: strip_accents(in, len, 1, out); return 0;
    case NORM_PREPEND:
        if (len) tok_buf_put(out, n->str, n->str_len);
        tok_buf_put(out, in, len);
        return 0;
    case NORM_REPLACE: {
        size_t pos = 0, ms, me;
        int r;
        while ((r = tok_pattern_find(s, &n->pat, in, len, pos, &ms, &me)) == 1) {
            tok_buf_put(out, in + pos, ms - pos);
            tok_buf_put(out, n->str, n->str_len);
            pos = me;
        }
        if (r < 0) return tok_fail(err, errlen, "Replace normalizer: regex match failed");
        tok_buf_put(out, in + pos, len - pos);
        return 0;
    }
    case NORM_STRIP: {
        const unsigned char *u = (const unsigned char *)in;
        size_t a = 0, b = len;
        if (n->strip_left)
            while (a < b) {
                int32_t cp;
                int l = tok_utf8_next(u + a, b - a, &cp);
                if (!tok_is_whitespace(cp)) break;
                a += (size_t)l;
            }
        if (n->strip_right)
            while (b > a) {
                size_t p = b - 1;
                while (p > a && (u[p] & 0xC0) == 0x80) p--;
                int32_t cp;
                tok_utf8_next(u + p, b - p, &cp);
                if (!tok_is_whitespace(cp)) break;
                b = p;
            }
        tok_buf_put(out, in + a, b - a);
        return 0;
    }
    case NORM_BERT: {
        tok_buf *t1 = &s->tmp2;
        t1->n = 0;
        const unsigned char *u = (const unsigned char *)in;
        for (size_t i = 0; i < len;) {
            int32_t cp;
            int l = tok_utf8_next(u + i, len - i, &cp);
            i += (size_t)l;
            if (n->clean_text) {
                if (cp == 0 || cp == 0xFFFD || cp < 0 || tok_is_control(cp)) continue;
                if (tok_is_whitespace(cp)) cp = ' ';
            }
            if (n->handle_chinese && tok_is_cjk(cp)) {
                tok_buf_putc(t1, ' ');
                tok_buf_put_cp(t1, cp);
                tok_buf_putc(t1, ' ');
            } else
                tok_buf_put_cp(t1, cp);
        }
        int sa = n->strip_accents < 0 ? n->lowercase : n->strip_accents;
        tok_buf *t2 = &s->iv; /* free at this point of the pipeline */
        if (sa) {
            t2->n = 0;
            if (unicode_form(t1->p, t1->n, UTF8PROC_STABLE | UTF8PROC_DECOMPOSE, t2, err, errlen)) return -1;
            t1->n = 0;
            strip_accents(t2->p, t2->n, 0, t1);
        }
        if (n->lowercase)
            lowercase(t1->p, t1->n, out);
        else
            tok_buf_put(out, t1->p, t1->n);
        return 0;
    }
    case NORM_SEQUENCE: break;
    }
    return tok_fail(err, errlen, "normalizer: internal error");
}

int tok_normalize(vkft_tok_session *s, const tok_norm *n, const char *in, size_t len, tok_buf *out, char *err,
                  size_t errlen) {
    out->n = 0;
    if (!n) {
        tok_buf_put(out, in, len);
        return 0;
    }
    if (n->type != NORM_SEQUENCE) return normalize_one(s, n, in, len, out, err, errlen);
    /* sequences are flat (the loader flattens nested ones): ping-pong between out and s->tmp */
    tok_buf_put(out, in, len);
    for (int i = 0; i < n->n_kids; i++) {
        s->tmp.n = 0;
        if (normalize_one(s, &n->kids[i], out->p ? out->p : "", out->n, &s->tmp, err, errlen)) return -1;
        tok_buf sw = *out;
        *out = s->tmp;
        s->tmp = sw;
    }
    return 0;
}

/* ---- splitting (NormalizedString::split) --------------------------------------------------------------- */
typedef struct {
    uint32_t s, e;
    uint32_t m;
} tok_iv;

static void iv_push(vkft_tok_session *s, size_t a, size_t b, int m) {
    tok_iv v = {(uint32_t)a, (uint32_t)b, (uint32_t)m};
    tok_buf_put(&s->iv, &v, sizeof v);
}

typedef enum { PRED_WHITESPACE, PRED_PUNCT, PRED_NUMERIC, PRED_CHAR } tok_pred;

/* Matches of a char predicate: each matching char is its own match, runs of others one piece. */
static void find_pred(vkft_tok_session *s, tok_pred pred, int32_t pc, const char *str, size_t n) {
    const unsigned char *u = (const unsigned char *)str;
    size_t prev = 0;
    for (size_t i = 0; i < n;) {
        int32_t cp;
        int l = tok_utf8_next(u + i, n - i, &cp);
        int m = pred == PRED_WHITESPACE ? tok_is_whitespace(cp)
                : pred == PRED_PUNCT    ? tok_is_punct(cp)
                : pred == PRED_NUMERIC  ? tok_is_numeric(cp)
                                        : cp == pc;
        if (m) {
            if (prev != i) iv_push(s, prev, i, 0);
            iv_push(s, i, i + (size_t)l, 1);
            prev = i + (size_t)l;
        }
        i += (size_t)l;
    }
    if (prev != n) iv_push(s, prev, n, 0);
}

static int find_pattern(vkft_tok_session *s, const tok_pattern *pat, const char *str, size_t n) {
    size_t prev = 0, pos = 0, ms, me;
    int r;
    while ((r = tok_pattern_find(s, pat, str, n, pos, &ms, &me)) == 1) {
        if (prev != ms) iv_push(s, prev, ms, 0);
        iv_push(s, ms, me, 1);
        prev = pos = me;
    }
    if (r < 0) return -1;
    if (prev != n) iv_push(s, prev, n, 0);
    return 0;
}

/* Applies behavior (and invert) to the intervals in s->iv, pushing the pieces of str to out. */
static void split_emit(vkft_tok_session *s, const char *str, int first, tok_split_behavior beh, int invert,
                       tok_pieces *out) {
    tok_iv *v = (tok_iv *)s->iv.p;
    size_t n = s->iv.n / sizeof(tok_iv), k = 0;
    if (invert)
        for (size_t i = 0; i < n; i++) v[i].m = !v[i].m;
    switch (beh) {
    case SPLIT_ISOLATED: k = n; break;
    case SPLIT_REMOVED:
        for (size_t i = 0; i < n; i++)
            if (!v[i].m) v[k++] = v[i];
        break;
    case SPLIT_MERGED_PREV: {
        int prev_match = 0;
        for (size_t i = 0; i < n; i++) {
            int m = (int)v[i].m;
            if (m && !prev_match && k > 0)
                v[k - 1].e = v[i].e;
            else
                v[k++] = v[i];
            prev_match = m;
        }
        break;
    }
    case SPLIT_MERGED_NEXT: {
        /* walk backwards: a match merges into the piece after it */
        int prev_match = 0;
        size_t w = n;
        for (size_t i = n; i-- > 0;) {
            int m = (int)v[i].m;
            if (m && !prev_match && w < n)
                v[w].s = v[i].s;
            else
                v[--w] = v[i];
            prev_match = m;
        }
        memmove(v, v + w, (n - w) * sizeof *v);
        k = n - w;
        break;
    }
    case SPLIT_CONTIGUOUS: {
        int prev_match = 0;
        for (size_t i = 0; i < n; i++) {
            int m = (int)v[i].m;
            if (m && prev_match && k > 0)
                v[k - 1].e = v[i].e;
            else
                v[k++] = v[i];
            prev_match = m;
        }
        break;
    }
    }
    for (size_t i = 0; i < k; i++)
        if (v[i].e > v[i].s) tok_pieces_push(out, str + v[i].s, v[i].e - v[i].s, first && v[i].s == 0);
}

static void bytelevel_map(const vkft_tokenizer *t, const char *str, size_t n, int first, tok_pieces *out) {
    size_t idx = tok_pieces_push(out, "", 0, first);
    tok_buf *b = &out->text;
    tok_buf_reserve(b, 2 * n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)str[i];
        uint8_t l = t->bl.byte_utf8_len[c];
        memcpy(b->p + b->n, t->bl.byte_utf8[c], l);
        b->n += l;
    }
    out->len[idx] = (uint32_t)(b->n - out->off[idx]);
}

static int pretok_one(vkft_tok_session *s, const tok_pre *pre, tok_pieces *in, tok_pieces *out, char *err,
                      size_t errlen) {
    const vkft_tokenizer *t = s->tok;
    tok_pieces_clear(out);
    for (size_t pi = 0; pi < in->n; pi++) {
        const char *str = in->text.p + in->off[pi];
        size_t n = in->len[pi];
        int first = in->first[pi];
        s->iv.n = 0;
        switch (pre->type) {
        case PRE_BYTELEVEL: {
            if (pre->add_prefix_space && (n == 0 || str[0] != ' ')) {
                s->tmp.n = 0;
                tok_buf_putc(&s->tmp, ' ');
                tok_buf_put(&s->tmp, str, n);
                str = s->tmp.p;
                n = s->tmp.n;
            }
            if (!n) break;
            if (pre->use_regex) {
                if (find_pattern(s, &pre->pat, str, n))
                    return tok_fail(err, errlen, "ByteLevel: regex failed");
                tok_iv *v = (tok_iv *)s->iv.p;
                size_t nv = s->iv.n / sizeof(tok_iv);
                for (size_t i = 0; i < nv; i++)
                    if (v[i].e > v[i].s)
                        bytelevel_map(t, str + v[i].s, v[i].e - v[i].s, first && v[i].s == 0, out);
            } else
                bytelevel_map(t, str, n, first, out);
            break;
        }
        case PRE_SPLIT:
            if (find_pattern(s, &pre->pat, str, n)) return tok_fail(err, errlen, "Split: regex match failed");
            split_emit(s, str, first, pre->behavior, pre->invert, out);
            break;
        case PRE_METASPACE: {
            tok_buf *b = &s->tmp;
            b->n = 0;
            int starts =
                n >= (size_t)pre->replacement_len && !memcmp(str, pre->replacement, pre->replacement_len);
            int prepend = pre->prepend == PREPEND_ALWAYS || (pre->prepend == PREPEND_FIRST && first);
            /* HF checks starts_with(replacement) after replacing spaces */
            if (prepend && !starts && !(n && str[0] == ' '))
                tok_buf_put(b, pre->replacement, pre->replacement_len);
            for (size_t i = 0; i < n; i++)
                if (str[i] == ' ')
                    tok_buf_put(b, pre->replacement, pre->replacement_len);
                else
                    tok_buf_putc(b, str[i]);
            if (pre->split) {
                find_pred(s, PRED_CHAR, pre->replacement_cp, b->p, b->n);
                split_emit(s, b->p, first, SPLIT_MERGED_NEXT, 0, out);
            } else if (b->n)
                tok_pieces_push(out, b->p, b->n, first);
            break;
        }
        case PRE_BERT: {
            find_pred(s, PRED_WHITESPACE, 0, str, n);
            /* then punctuation, isolated, inside each kept piece */
            tok_iv *v = (tok_iv *)s->iv.p;
            size_t nv = s->iv.n / sizeof(tok_iv);
            tok_buf keep = s->iv;
            s->iv = s->tmp2; /* borrow a second interval buffer */
            for (size_t i = 0; i < nv; i++) {
                if (v[i].m || v[i].e == v[i].s) continue;
                s->iv.n = 0;
                find_pred(s, PRED_PUNCT, 0, str + v[i].s, v[i].e - v[i].s);
                split_emit(s, str + v[i].s, first && v[i].s == 0, SPLIT_ISOLATED, 0, out);
            }
            s->tmp2 = s->iv;
            s->iv = keep;
            break;
        }
        case PRE_WHITESPACE:
            if (find_pattern(s, &pre->pat, str, n)) return tok_fail(err, errlen, "Whitespace: regex failed");
            split_emit(s, str, first, SPLIT_REMOVED, 1, out);
            break;
        case PRE_WHITESPACE_SPLIT:
            find_pred(s, PRED_WHITESPACE, 0, str, n);
            split_emit(s, str, first, SPLIT_REMOVED, 0, out);
            break;
        case PRE_PUNCTUATION:
            find_pred(s, PRED_PUNCT, 0, str, n);
            split_emit(s, str, first, pre->behavior, 0, out);
            break;
        case PRE_DIGITS:
            find_pred(s, PRED_NUMERIC, 0, str, n);
            split_emit(s, str, first, pre->individual_digits ? SPLIT_ISOLATED : SPLIT_CONTIGUOUS, 0, out);
            break;
        case PRE_SEQUENCE: return tok_fail(err, errlen, "pre-tokenizer: nested Sequence");
        }
    }
    return 0;
}

int tok_pretokenize(vkft_tok_session *s, const tok_pre *pre, tok_pieces *p, char *err, size_t errlen) {
    if (!pre) return 0;
    int n = pre->type == PRE_SEQUENCE ? pre->n_kids : 1;
    for (int i = 0; i < n; i++) {
        const tok_pre *one = pre->type == PRE_SEQUENCE ? &pre->kids[i] : pre;
        if (pretok_one(s, one, p, &s->b, err, errlen)) return -1;
        tok_pieces sw = *p;
        *p = s->b;
        s->b = sw;
    }
    return 0;
}

/* ---- decoders -------------------------------------------------------------------------------------------
 */
static void put_replaced(tok_buf *b, const char *s, size_t n, const char *from, size_t fl, const char *to,
                         size_t tl) {
    size_t pos = 0;
    while (fl && pos < n) {
        const char *p = memmem(s + pos, n - pos, from, fl);
        if (!p) break;
        tok_buf_put(b, s + pos, (size_t)(p - s) - pos);
        tok_buf_put(b, to, tl);
        pos = (size_t)(p - s) + fl;
    }
    tok_buf_put(b, s + pos, n - pos);
}

static int byte_token(const char *s, size_t n) {
    if (n != 6 || s[0] != '<' || s[1] != '0' || s[2] != 'x' || s[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = (c >= '0' && c <= '9')   ? c - '0'
                : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                                         : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static void wordpiece_cleanup(tok_buf *b) {
    static const char *from[] = {" .",  " ?",      " !",  " ,",   " ' ", " n't",
                                 " 'm", " do not", " 's", " 've", " 're"};
    static const char *to[] = {".", "?", "!", ",", "'", "n't", "'m", " don't", "'s", "'ve", "'re"};
    tok_buf t = {0};
    for (int k = 0; k < 11; k++) {
        t.n = 0;
        put_replaced(&t, b->p ? b->p : "", b->n, from[k], strlen(from[k]), to[k], strlen(to[k]));
        b->n = 0;
        tok_buf_put(b, t.p, t.n);
    }
    tok_buf_free(&t);
}

static void dec_one(const vkft_tokenizer *t, const tok_dec *d, tok_pieces *in, tok_pieces *out) {
    tok_pieces_clear(out);
    tok_buf *b = &out->text;
    switch (d->type) {
    case DEC_BYTELEVEL: {
        /* model tokens map back to bytes (lossy UTF-8 per run); added tokens (flagged in `first` by the
         * caller) pass through as they are, as transformers.js and recent Hugging Face versions do */
        tok_buf raw = {0}, clean = {0};
        for (size_t i = 0; i <= in->n; i++) {
            if (i == in->n || in->first[i]) {
                if (raw.n) {
                    clean.n = 0;
                    tok_utf8_sanitize(raw.p, raw.n, &clean);
                    tok_pieces_push(out, clean.p, clean.n, 0);
                    raw.n = 0;
                }
                if (i < in->n) tok_pieces_push(out, in->text.p + in->off[i], in->len[i], 1);
                continue;
            }
            const unsigned char *u = (const unsigned char *)in->text.p + in->off[i];
            size_t n = in->len[i], start = raw.n;
            int ok = 1;
            for (size_t j = 0; j < n;) {
                int32_t cp;
                int l = tok_utf8_next(u + j, n - j, &cp);
                if (cp < 0 || cp >= 512 || t->bl.cp_byte[cp] < 0) {
                    ok = 0;
                    break;
                }
                tok_buf_putc(&raw, (char)t->bl.cp_byte[cp]);
                j += (size_t)l;
            }
            if (!ok) { /* a token outside the byte alphabet: its bytes as they are */
                raw.n = start;
                tok_buf_put(&raw, u, n);
            }
        }
        tok_buf_free(&raw);
        tok_buf_free(&clean);
        return;
    }
    case DEC_REPLACE:
        for (size_t i = 0; i < in->n; i++) {
            size_t idx = tok_pieces_push(out, "", 0, 0);
            put_replaced(b, in->text.p + in->off[i], in->len[i], d->pat.str, d->pat.str_len, d->str,
                         d->str_len);
            out->len[idx] = (uint32_t)(b->n - out->off[idx]);
        }
        return;
    case DEC_BYTEFALLBACK: {
        tok_buf bytes = {0};
        for (size_t i = 0; i <= in->n; i++) {
            int v = i < in->n ? byte_token(in->text.p + in->off[i], in->len[i]) : -1;
            if (v >= 0) {
                tok_buf_putc(&bytes, (char)v);
                continue;
            }
            if (bytes.n) {
                if (tok_utf8_valid(bytes.p, bytes.n))
                    tok_pieces_push(out, bytes.p, bytes.n, 0);
                else
                    for (size_t k = 0; k < bytes.n; k++) tok_pieces_push(out, "\xEF\xBF\xBD", 3, 0);
                bytes.n = 0;
            }
            if (i < in->n) tok_pieces_push(out, in->text.p + in->off[i], in->len[i], 0);
        }
        tok_buf_free(&bytes);
        return;
    }
    case DEC_FUSE: {
        size_t idx = tok_pieces_push(out, "", 0, 0);
        for (size_t i = 0; i < in->n; i++) tok_buf_put(b, in->text.p + in->off[i], in->len[i]);
        out->len[idx] = (uint32_t)b->n;
        return;
    }
    case DEC_STRIP:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = in->text.p + in->off[i];
            size_t n = in->len[i], a = 0, e = n;
            for (int k = 0; k < d->start && a + d->str_len <= e && !memcmp(s + a, d->str, d->str_len); k++)
                a += d->str_len;
            for (int k = 0;
                 k < d->stop && e >= a + d->str_len && !memcmp(s + e - d->str_len, d->str, d->str_len); k++)
                e -= d->str_len;
            tok_pieces_push(out, s + a, e - a, 0);
        }
        return;
    case DEC_METASPACE:
        for (size_t i = 0; i < in->n; i++) {
            size_t idx = tok_pieces_push(out, "", 0, 0);
            put_replaced(b, in->text.p + in->off[i], in->len[i], d->replacement, (size_t)d->replacement_len,
                         " ", 1);
            if (i == 0 && d->prepend != PREPEND_NEVER && b->n > out->off[idx] && b->p[out->off[idx]] == ' ') {
                memmove(b->p + out->off[idx], b->p + out->off[idx] + 1, b->n - out->off[idx] - 1);
                b->n--;
            }
            out->len[idx] = (uint32_t)(b->n - out->off[idx]);
        }
        return;
    case DEC_WORDPIECE:
        for (size_t i = 0; i < in->n; i++) {
            const char *s = in->text.p + in->off[i];
            size_t n = in->len[i];
            size_t idx = tok_pieces_push(out, "", 0, 0);
            if (i != 0) {
                if (n >= d->str_len && !memcmp(s, d->str, d->str_len)) {
                    s += d->str_len;
                    n -= d->str_len;
                } else
                    tok_buf_putc(b, ' ');
            }
            tok_buf_put(b, s, n);
            if (d->cleanup) {
                tok_buf one = {0};
                tok_buf_put(&one, b->p + out->off[idx], b->n - out->off[idx]);
                wordpiece_cleanup(&one);
                b->n = out->off[idx];
                tok_buf_put(b, one.p, one.n);
                tok_buf_free(&one);
            }
            out->len[idx] = (uint32_t)(b->n - out->off[idx]);
        }
        return;
    case DEC_BPE:
        for (size_t i = 0; i < in->n; i++) {
            size_t idx = tok_pieces_push(out, "", 0, 0);
            put_replaced(b, in->text.p + in->off[i], in->len[i], d->str, d->str_len,
                         i + 1 == in->n ? "" : " ", i + 1 == in->n ? 0 : 1);
            out->len[idx] = (uint32_t)(b->n - out->off[idx]);
        }
        return;
    case DEC_SEQUENCE: return;
    }
}

int tok_decode_pieces(const vkft_tokenizer *t, const tok_dec *d, tok_pieces *p, tok_pieces *scratch) {
    if (!d) return 0;
    int n = d->type == DEC_SEQUENCE ? d->n_kids : 1;
    for (int i = 0; i < n; i++) {
        dec_one(t, d->type == DEC_SEQUENCE ? &d->kids[i] : d, p, scratch);
        tok_pieces sw = *p;
        *p = *scratch;
        *scratch = sw;
    }
    return 0;
}
