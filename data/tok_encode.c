/* Encoding and decoding: added-token matching, normalizer -> pre-tokenizer -> model -> post-processor,
 * per-thread sessions, batch encoding on threads, and the vocabulary accessors. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/tok_internal.h"

void vkft_tok_ids_free(vkft_tok_ids *v) {
    free(v->ids);
    memset(v, 0, sizeof *v);
}

vkft_tok_session *vkft_tok_session_new(const vkft_tokenizer *tok) {
    vkft_tok_session *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->tok = tok;
    s->md = pcre2_match_data_create(64, NULL);
    s->cache = calloc(TOK_CACHE_SLOTS, sizeof *s->cache);
    if (!s->md || !s->cache) {
        vkft_tok_session_free(s);
        return NULL;
    }
    return s;
}

void vkft_tok_session_free(vkft_tok_session *s) {
    if (!s) return;
    if (s->md) pcre2_match_data_free(s->md);
    free(s->cache);
    tok_buf_free(&s->clean);
    tok_buf_free(&s->norm);
    tok_buf_free(&s->tmp);
    tok_buf_free(&s->tmp2);
    tok_buf_free(&s->iv);
    tok_pieces_free(&s->a);
    tok_pieces_free(&s->b);
    free(s->sym_id);
    free(s->sym_rank);
    free(s->sym_next);
    free(s->sym_prev);
    free(s->heap);
    vkft_tok_ids_free(&s->seq);
    vkft_tok_ids_free(&s->seq2);
    vkft_tok_ids_free(&s->pair);
    free(s);
}

/* ---- added tokens
 * ------------------------------------------------------------------------------------------ */
static int is_word_char(const char *s, size_t n, size_t at, int before) {
    const unsigned char *u = (const unsigned char *)s;
    int32_t cp;
    if (before) {
        if (at == 0) return 0;
        size_t p = at - 1;
        while (p > 0 && (u[p] & 0xC0) == 0x80) p--;
        tok_utf8_next(u + p, at - p, &cp);
    } else {
        if (at >= n) return 0;
        tok_utf8_next(u + at, n - at, &cp);
    }
    return cp == '_' || tok_is_alnum(cp);
}

/* Finds the leftmost-longest added token of this pass (normalized or not) in s[from..n). On a match
 * returns its index and the span to remove, [*ms, *me), widened by lstrip/rstrip whitespace. */
static int find_added(const vkft_tokenizer *t, const char *s, size_t n, size_t from, int normalized,
                      size_t *ms, size_t *me) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = from; i < n; i++) {
        if (!t->added_first[u[i]]) continue;
        int best = -1;
        size_t best_len = 0;
        for (int k = 0; k < t->n_added; k++) {
            const tok_added *a = &t->added[k];
            size_t ml = a->match_len;
            if ((int)a->normalized != normalized || ml <= best_len || ml > n - i) continue;
            if ((unsigned char)a->match[0] != u[i] || memcmp(a->match, s + i, ml)) continue;
            if (a->single_word && (is_word_char(s, n, i, 1) || is_word_char(s, n, i + ml, 0))) continue;
            best = k;
            best_len = ml;
        }
        if (best < 0) continue;
        size_t a0 = i, a1 = i + best_len;
        if (t->added[best].lstrip)
            while (a0 > from &&
                   (s[a0 - 1] == ' ' || s[a0 - 1] == '\t' || s[a0 - 1] == '\n' || s[a0 - 1] == '\r'))
                a0--;
        if (t->added[best].rstrip)
            while (a1 < n && (s[a1] == ' ' || s[a1] == '\t' || s[a1] == '\n' || s[a1] == '\r')) a1++;
        *ms = a0;
        *me = a1;
        return best;
    }
    return -1;
}

static int pretok_and_model(vkft_tok_session *s, const char *str, size_t n, int first, vkft_tok_ids *out,
                            char *err, size_t errlen) {
    const vkft_tokenizer *t = s->tok;
    if (!n) return 0;
    if (!t->pre && t->split_metaspace) {
        /* cut before each U+2581 that follows another character (see split_metaspace) */
        size_t start = 0;
        for (size_t i = 1; i + 3 <= n; i++) {
            if (memcmp(str + i, "\xE2\x96\x81", 3) || (i >= 3 && !memcmp(str + i - 3, "\xE2\x96\x81", 3)))
                continue;
            if (tok_model_encode(s, str + start, i - start, out)) goto unk;
            start = i;
            i += 2;
        }
        if (tok_model_encode(s, str + start, n - start, out)) goto unk;
        return 0;
    }
    tok_pieces_clear(&s->a);
    tok_pieces_push(&s->a, str, n, first);
    if (tok_pretokenize(s, t->pre, &s->a, err, errlen)) return -1;
    for (size_t i = 0; i < s->a.n; i++)
        if (tok_model_encode(s, s->a.text.p + s->a.off[i], s->a.len[i], out)) goto unk;
    return 0;
unk:
    return tok_fail(err, errlen, "%s: the model cannot encode a word and has no unk_token", t->name);
}

static int encode_segment(vkft_tok_session *s, const char *seg, size_t n, int first, vkft_tok_ids *out,
                          char *err, size_t errlen) {
    const vkft_tokenizer *t = s->tok;
    if (!t->norm && !t->has_norm_added) return pretok_and_model(s, seg, n, first, out, err, errlen);
    if (tok_normalize(s, t->norm, seg, n, &s->norm, err, errlen)) return -1;
    /* s->norm stays as it is below: pre-tokenization and the model use other buffers */
    const char *ns = s->norm.p ? s->norm.p : "";
    size_t nn = s->norm.n;
    if (!t->has_norm_added) return pretok_and_model(s, ns, nn, first, out, err, errlen);
    /* normalized added tokens are matched on the normalized text */
    size_t pos = 0, ms, me;
    while (pos < nn) {
        int k = find_added(t, ns, nn, pos, 1, &ms, &me);
        if (k < 0) ms = me = nn;
        if (ms > pos && pretok_and_model(s, ns + pos, ms - pos, first && pos == 0, out, err, errlen))
            return -1;
        if (k < 0) break;
        tok_ids_push(out, t->added[k].id);
        pos = me;
    }
    return 0;
}

/* Applies a template: -1 items take the first sequence, -2 the second. */
static void apply_template(const tok_template *tp, const vkft_tok_ids *a, const vkft_tok_ids *b,
                           vkft_tok_ids *out, vkft_tok_ids *types) {
    for (int i = 0; i < tp->n; i++) {
        const vkft_tok_ids *src = tp->item[i] == -1 ? a : tp->item[i] == -2 ? b : NULL;
        if (src) {
            for (size_t k = 0; k < src->n; k++) {
                tok_ids_push(out, src->ids[k]);
                if (types) tok_ids_push(types, tp->type_id[i]);
            }
        } else {
            tok_ids_push(out, tp->item[i]);
            if (types) tok_ids_push(types, tp->type_id[i]);
        }
    }
}

/* Added tokens, normalizer, pre-tokenizer and model over one text; ids appended to dst. */
static int encode_text(vkft_tok_session *s, const char *text, size_t len, vkft_tok_ids *dst, char *err,
                       size_t errlen) {
    const vkft_tokenizer *t = s->tok;
    if (!text) text = "";
    if (!tok_utf8_valid(text, len)) {
        s->clean.n = 0;
        tok_utf8_sanitize(text, len, &s->clean);
        text = s->clean.p;
        len = s->clean.n;
    }
    size_t pos = 0, ms, me;
    while (pos < len) {
        int k = t->has_raw_added ? find_added(t, text, len, pos, 0, &ms, &me) : -1;
        if (k < 0) ms = me = len;
        if (ms > pos && encode_segment(s, text + pos, ms - pos, pos == 0, dst, err, errlen)) return -1;
        if (k < 0) break;
        tok_ids_push(dst, t->added[k].id);
        pos = me;
    }
    return 0;
}

int vkft_tok_encode(vkft_tok_session *s, const char *text, size_t len, int add_special, vkft_tok_ids *out,
                    char *err, size_t errlen) {
    const tok_post *p = s->tok->post;
    if (!add_special || !p) return encode_text(s, text, len, out, err, errlen);
    s->seq.n = 0;
    if (encode_text(s, text, len, &s->seq, err, errlen)) return -1;
    int n = p->type == POST_SEQUENCE ? p->n_kids : 1;
    for (int i = 0; i < n; i++) {
        const tok_post *one = p->type == POST_SEQUENCE ? &p->kids[i] : p;
        if (one->type == POST_BYTELEVEL) continue;
        s->seq2.n = 0;
        apply_template(&one->single, &s->seq, NULL, &s->seq2, NULL);
        vkft_tok_ids sw = s->seq;
        s->seq = s->seq2;
        s->seq2 = sw;
    }
    for (size_t i = 0; i < s->seq.n; i++) tok_ids_push(out, s->seq.ids[i]);
    return 0;
}

int vkft_tok_encode_pair(vkft_tok_session *s, const char *a, size_t alen, const char *b, size_t blen,
                         int add_special, vkft_tok_ids *out, vkft_tok_ids *type_ids, char *err,
                         size_t errlen) {
    const vkft_tokenizer *t = s->tok;
    s->seq.n = 0;
    s->pair.n = 0;
    if (encode_text(s, a, alen, &s->seq, err, errlen) || encode_text(s, b, blen, &s->pair, err, errlen))
        return -1;
    const tok_post *tp = NULL;
    if (add_special && t->post) {
        int n = t->post->type == POST_SEQUENCE ? t->post->n_kids : 1;
        for (int i = 0; i < n && !tp; i++) {
            const tok_post *one = t->post->type == POST_SEQUENCE ? &t->post->kids[i] : t->post;
            if (one->type != POST_BYTELEVEL) tp = one;
        }
    }
    if (tp && !tp->pair.n)
        return tok_fail(err, errlen, "%s: the post-processor has no pair template", t->name);
    if (tp) {
        apply_template(&tp->pair, &s->seq, &s->pair, out, type_ids);
        return 0;
    }
    for (size_t k = 0; k < s->seq.n; k++) {
        tok_ids_push(out, s->seq.ids[k]);
        if (type_ids) tok_ids_push(type_ids, 0);
    }
    for (size_t k = 0; k < s->pair.n; k++) {
        tok_ids_push(out, s->pair.ids[k]);
        if (type_ids) tok_ids_push(type_ids, 1);
    }
    return 0;
}

int vkft_tokenizer_encode(vkft_tokenizer *tok, const char *text, size_t len, int add_special,
                          vkft_tok_ids *out, char *err, size_t errlen) {
    if (!tok->session) {
        tok->session = vkft_tok_session_new(tok);
        if (!tok->session) return tok_fail(err, errlen, "out of memory");
    }
    return vkft_tok_encode(tok->session, text, len, add_special, out, err, errlen);
}

/* ---- batch encoding on threads ----------------------------------------------------------------------------
 */
struct vkft_tok_pool {
    const vkft_tokenizer *tok;
    int n_threads;
    vkft_tok_session **sessions; /* one per thread, created on first use and kept (warm word caches) */
};

typedef struct {
    vkft_tok_pool *pool;
    const char *const *texts;
    const size_t *lens;
    size_t n;
    int add_special;
    vkft_tok_ids *outs;
    atomic_size_t next;
    atomic_int failed;
    char err[640];
    pthread_mutex_t lock;
} batch_job;

typedef struct {
    batch_job *job;
    int index;
} batch_arg;

static void *batch_worker(void *arg) {
    batch_arg *a = arg;
    batch_job *j = a->job;
    vkft_tok_session **sp = &j->pool->sessions[a->index];
    if (!*sp) *sp = vkft_tok_session_new(j->pool->tok);
    vkft_tok_session *s = *sp;
    if (!s) {
        atomic_store(&j->failed, 1);
        return NULL;
    }
    char err[480];
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 64);
        if (i >= j->n || atomic_load(&j->failed)) break;
        size_t end = i + 64 < j->n ? i + 64 : j->n;
        for (; i < end; i++) {
            j->outs[i].n = 0;
            if (vkft_tok_encode(s, j->texts[i], j->lens[i], j->add_special, &j->outs[i], err, sizeof err)) {
                pthread_mutex_lock(&j->lock);
                if (!atomic_load(&j->failed)) snprintf(j->err, sizeof j->err, "text %zu: %s", i, err);
                atomic_store(&j->failed, 1);
                pthread_mutex_unlock(&j->lock);
                break;
            }
        }
    }
    return NULL;
}

vkft_tok_pool *vkft_tok_pool_new(const vkft_tokenizer *tok, int n_threads) {
    if (n_threads <= 0) n_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 256) n_threads = 256;
    vkft_tok_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->tok = tok;
    p->n_threads = n_threads;
    p->sessions = calloc((size_t)n_threads, sizeof *p->sessions);
    if (!p->sessions) {
        free(p);
        return NULL;
    }
    return p;
}

void vkft_tok_pool_free(vkft_tok_pool *p) {
    if (!p) return;
    for (int i = 0; i < p->n_threads; i++) vkft_tok_session_free(p->sessions[i]);
    free(p->sessions);
    free(p);
}

int vkft_tok_pool_encode(vkft_tok_pool *p, const char *const *texts, const size_t *lens, size_t n,
                         int add_special, vkft_tok_ids *outs, char *err, size_t errlen) {
    int n_threads = p->n_threads;
    if ((size_t)n_threads > n / 64 + 1) n_threads = (int)(n / 64 + 1);
    batch_job j = {.pool = p, .texts = texts, .lens = lens, .n = n, .add_special = add_special, .outs = outs};
    atomic_init(&j.next, 0);
    atomic_init(&j.failed, 0);
    pthread_mutex_init(&j.lock, NULL);
    pthread_t th[256];
    batch_arg args[256];
    int started[256] = {0};
    for (int i = 0; i < n_threads; i++) args[i] = (batch_arg){&j, i};
    for (int i = 1; i < n_threads; i++) started[i] = !pthread_create(&th[i], NULL, batch_worker, &args[i]);
    batch_worker(&args[0]);
    for (int i = 1; i < n_threads; i++)
        if (started[i]) pthread_join(th[i], NULL);
    pthread_mutex_destroy(&j.lock);
    if (atomic_load(&j.failed)) return tok_fail(err, errlen, "%s", j.err[0] ? j.err : "out of memory");
    return 0;
}

int vkft_tok_encode_batch(const vkft_tokenizer *tok, const char *const *texts, const size_t *lens, size_t n,
                          int add_special, int n_threads, vkft_tok_ids *outs, char *err, size_t errlen) {
    vkft_tok_pool *p = vkft_tok_pool_new(tok, n_threads);
    if (!p) return tok_fail(err, errlen, "out of memory");
    int rc = vkft_tok_pool_encode(p, texts, lens, n, add_special, outs, err, errlen);
    vkft_tok_pool_free(p);
    return rc;
}

/* ---- decoding --------------------------------------------------------------------------------------------
 */
int vkft_tokenizer_decode(const vkft_tokenizer *t, const int32_t *ids, size_t n, int skip_special, char **out,
                          size_t *out_len, char *err, size_t errlen) {
    tok_pieces p = {0}, scratch = {0};
    *out = NULL;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_ids || !t->tok[id]) {
            tok_pieces_free(&p);
            return tok_fail(err, errlen, "%s: id %d is not in the vocabulary (size %d)", t->name, (int)id,
                            (int)t->n_ids);
        }
        if (skip_special && t->is_added[id] == 2) continue;
        tok_pieces_push(&p, t->tok[id], t->tok_len[id], t->is_added[id] != 0); /* flag: an added token */
    }
    tok_buf res = {0};
    if (t->dec) {
        tok_decode_pieces(t, t->dec, &p, &scratch);
        for (size_t i = 0; i < p.n; i++) tok_buf_put(&res, p.text.p + p.off[i], p.len[i]);
    } else
        for (size_t i = 0; i < p.n; i++) {
            if (i) tok_buf_putc(&res, ' ');
            tok_buf_put(&res, p.text.p + p.off[i], p.len[i]);
        }
    tok_buf_putc(&res, 0);
    tok_pieces_free(&p);
    tok_pieces_free(&scratch);
    *out = res.p;
    if (out_len) *out_len = res.n - 1;
    return 0;
}

/* ---- vocabulary ------------------------------------------------------------------------------------------
 */
int32_t vkft_tokenizer_vocab_size(const vkft_tokenizer *t) { return t->n_ids; }

const char *vkft_tokenizer_id_to_token(const vkft_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_ids || !t->tok[id]) return NULL;
    if (len) *len = t->tok_len[id];
    return t->tok[id];
}

int32_t vkft_tokenizer_token_to_id(const vkft_tokenizer *t, const char *token, size_t len) {
    for (int k = 0; k < t->n_added; k++)
        if (t->added[k].len == len && !memcmp(t->added[k].content, token, len)) return t->added[k].id;
    return tok_map_get(&t->vocab, t, token, len);
}

int vkft_tokenizer_is_special(const vkft_tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_ids && t->is_added[id] == 2;
}

vkft_tok_specials vkft_tokenizer_specials(const vkft_tokenizer *t) { return t->specials; }
