/* The tokenizer models: BPE (rank-based merge loop over a symbol array, word cache, byte fallback) and
 * WordPiece (greedy longest match first). Hot path: no heap allocation once the session's scratch grew. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tok_internal.h"

void tok_ids_grow(vkft_tok_ids *v, int32_t id) {
    {
        size_t c = v->cap ? v->cap * 2 : 256;
        int32_t *p = realloc(v->ids, c * sizeof *p);
        if (!p) abort();
        v->ids = p;
        v->cap = c;
    }
    v->ids[v->n++] = id;
}

int tok_model_prepare(vkft_tokenizer *t, char *err, size_t errlen) {
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_tok[b] = tok_map_get(&t->vocab, t, name, strlen(name));
    }
    free(t->char_id);
    free(t->char_id_cont);
    t->char_id = t->char_id_cont = NULL;
    t->split_metaspace = 0;
    if (t->model == MODEL_BPE && tok_map_get(&t->vocab, t, "\xE2\x96\x81", 3) >= 0) {
        int ok = 1;
        for (int32_t id = 0; id < t->n_ids && ok; id++) {
            const char *s = t->tok[id];
            if (!s) continue;
            for (uint32_t i = 1; i + 3 <= t->tok_len[id]; i++)
                if (!memcmp(s + i, "\xE2\x96\x81", 3) && !(i >= 3 && !memcmp(s + i - 3, "\xE2\x96\x81", 3))) {
                    ok = 0;
                    break;
                }
        }
        t->split_metaspace = ok;
    }
    if (t->model != MODEL_BPE || t->eow_suffix_len) return 0;
    t->char_id = malloc(0x10000 * sizeof *t->char_id);
    if (t->cont_prefix_len) t->char_id_cont = malloc(0x10000 * sizeof *t->char_id_cont);
    if (!t->char_id || (t->cont_prefix_len && !t->char_id_cont))
        return tok_fail(err, errlen, "out of memory");
    tok_buf b = {0};
    for (int32_t cp = 0; cp < 0x10000; cp++) {
        t->char_id[cp] = -1;
        if (t->char_id_cont) t->char_id_cont[cp] = -1;
        if (cp >= 0xD800 && cp <= 0xDFFF) continue;
        b.n = 0;
        tok_buf_put_cp(&b, cp);
        t->char_id[cp] = tok_map_get(&t->vocab, t, b.p, b.n);
        if (t->char_id_cont) {
            b.n = 0;
            tok_buf_put(&b, t->cont_prefix, t->cont_prefix_len);
            tok_buf_put_cp(&b, cp);
            t->char_id_cont[cp] = tok_map_get(&t->vocab, t, b.p, b.n);
        }
    }
    tok_buf_free(&b);
    return 0;
}

static void sym_reserve(vkft_tok_session *s, size_t n) {
    if (n <= s->sym_cap) return;
    size_t c = s->sym_cap ? s->sym_cap : 256;
    while (c < n) c *= 2;
    s->sym_id = realloc(s->sym_id, c * sizeof *s->sym_id);
    s->sym_rank = realloc(s->sym_rank, c * sizeof *s->sym_rank);
    if (!s->sym_id || !s->sym_rank) abort();
    s->sym_cap = c;
}

/* Splits the word into symbols (one per character, HF's BPE::merge_word); returns the count. */
static size_t bpe_symbols(vkft_tok_session *s, const char *w, size_t n) {
    const vkft_tokenizer *t = s->tok;
    const unsigned char *u = (const unsigned char *)w;
    size_t nsym = 0;
    int32_t pending_unk = -1; /* fuse_unk: an unknown run waiting to be emitted */
    sym_reserve(s, n + 1);
    for (size_t i = 0; i < n;) {
        int32_t cp;
        int l = tok_utf8_next(u + i, n - i, &cp);
        int first = i == 0, last = i + (size_t)l == n;
        int32_t id = -1;
        if (cp >= 0 && cp < 0x10000 && t->char_id)
            id = (first || !t->char_id_cont) ? t->char_id[cp] : t->char_id_cont[cp];
        else {
            tok_buf *b = &s->tmp2;
            b->n = 0;
            if (!first && t->cont_prefix_len) tok_buf_put(b, t->cont_prefix, t->cont_prefix_len);
            tok_buf_put(b, w + i, (size_t)l);
            if (last && t->eow_suffix_len) tok_buf_put(b, t->eow_suffix, t->eow_suffix_len);
            id = tok_map_get(&t->vocab, t, b->p, b->n);
        }
        if (id >= 0) {
            if (pending_unk >= 0) {
                s->sym_id[nsym++] = pending_unk;
                pending_unk = -1;
            }
            s->sym_id[nsym++] = id;
        } else {
            int done = 0;
            if (t->byte_fallback) {
                int ok = 1;
                for (int k = 0; k < l; k++)
                    if (t->byte_tok[u[i + k]] < 0) ok = 0;
                if (ok) {
                    sym_reserve(s, nsym + (size_t)l + (n - i) + 1);
                    for (int k = 0; k < l; k++) s->sym_id[nsym++] = t->byte_tok[u[i + k]];
                    done = 1;
                }
            }
            if (!done && t->unk_id >= 0) {
                if (pending_unk >= 0 && !t->fuse_unk) s->sym_id[nsym++] = pending_unk;
                pending_unk = t->unk_id;
            }
        }
        i += (size_t)l;
    }
    if (pending_unk >= 0) s->sym_id[nsym++] = pending_unk;
    return nsym;
}

static inline uint32_t pair_rank(const vkft_tokenizer *t, int32_t a, int32_t b, int32_t *id) {
    uint32_t r;
    if (tok_merges_get(t, a, b, &r, id)) return r;
    return UINT32_MAX;
}

/* Long words: the same merges (lowest rank first, leftmost among equals) with a min-heap of
 * (rank, position) over a linked list, O(n log n). A popped entry is stale when its pair changed. */
static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n) {
    uint64_t top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && h[c + 1] < h[c]) c++;
        if (h[c] >= last) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

static size_t bpe_merge_heap(vkft_tok_session *s, size_t nsym) {
    const vkft_tokenizer *t = s->tok;
    if (s->heap_cap < 3 * nsym + 8) {
        s->heap_cap = 3 * nsym + 8;
        s->heap = realloc(s->heap, s->heap_cap * sizeof *s->heap);
        s->sym_next = realloc(s->sym_next, s->heap_cap * sizeof *s->sym_next);
        s->sym_prev = realloc(s->sym_prev, s->heap_cap * sizeof *s->sym_prev);
        if (!s->heap || !s->sym_next || !s->sym_prev) abort();
    }
    int32_t *id = s->sym_id, *nx = s->sym_next, *pv = s->sym_prev, nid;
    uint64_t *h = s->heap;
    size_t hn = 0;
    for (size_t i = 0; i < nsym; i++) {
        nx[i] = i + 1 < nsym ? (int32_t)(i + 1) : -1;
        pv[i] = (int32_t)i - 1;
    }
    for (size_t i = 0; i + 1 < nsym; i++) {
        uint32_t r = pair_rank(t, id[i], id[i + 1], &nid);
        if (r != UINT32_MAX) heap_push(h, &hn, ((uint64_t)r << 32) | i);
    }
    while (hn) {
        uint64_t top = heap_pop(h, &hn);
        uint32_t rank = (uint32_t)(top >> 32);
        int32_t i = (int32_t)(uint32_t)top, j = nx[i];
        if (id[i] < 0 || j < 0) continue;
        if (pair_rank(t, id[i], id[j], &nid) != rank) continue; /* stale: ranks are unique per pair */
        id[i] = nid;
        id[j] = -1; /* removed */
        nx[i] = nx[j];
        if (nx[j] >= 0) pv[nx[j]] = i;
        uint32_t r;
        if (pv[i] >= 0 && (r = pair_rank(t, id[pv[i]], id[i], &nid)) != UINT32_MAX)
            heap_push(h, &hn, ((uint64_t)r << 32) | (uint32_t)pv[i]);
        if (nx[i] >= 0 && (r = pair_rank(t, id[i], id[nx[i]], &nid)) != UINT32_MAX)
            heap_push(h, &hn, ((uint64_t)r << 32) | (uint32_t)i);
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = nx[i]) id[k++] = id[i];
    return k;
}

static size_t bpe_merge(vkft_tok_session *s, size_t nsym) {
    if (nsym > 24) return bpe_merge_heap(s, nsym);
    const vkft_tokenizer *t = s->tok;
    int32_t *id = s->sym_id;
    uint32_t *rk = s->sym_rank;
    int32_t nid = -1;
    if (nsym < 2) return nsym;
    for (size_t i = 0; i + 1 < nsym; i++) rk[i] = pair_rank(t, id[i], id[i + 1], &nid);
    for (;;) {
        uint32_t best = UINT32_MAX;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < nsym; i++)
            if (rk[i] < best) {
                best = rk[i];
                bi = i;
            }
        if (best == UINT32_MAX) break;
        pair_rank(t, id[bi], id[bi + 1], &nid);
        id[bi] = nid;
        memmove(id + bi + 1, id + bi + 2, (nsym - bi - 2) * sizeof *id);
        memmove(rk + bi + 1, rk + bi + 2, (nsym > bi + 2 ? nsym - bi - 2 : 0) * sizeof *rk);
        nsym--;
        if (bi > 0) rk[bi - 1] = pair_rank(t, id[bi - 1], id[bi], &nid);
        if (bi + 1 < nsym) rk[bi] = pair_rank(t, id[bi], id[bi + 1], &nid);
        if (nsym < 2) break;
    }
    return nsym;
}

static int wordpiece_encode(vkft_tok_session *s, const char *w, size_t n, vkft_tok_ids *out) {
    const vkft_tokenizer *t = s->tok;
    const unsigned char *u = (const unsigned char *)w;
    size_t nchars = 0;
    for (size_t i = 0; i < n; i++) nchars += (u[i] & 0xC0) != 0x80;
    size_t start_n = out->n;
    if ((int)nchars > t->max_input_chars) goto unk;
    size_t start = 0;
    while (start < n) {
        size_t end = n;
        int32_t cur = -1;
        while (start < end) {
            tok_buf *b = &s->tmp2;
            b->n = 0;
            if (start > 0) tok_buf_put(b, t->cont_prefix, t->cont_prefix_len);
            tok_buf_put(b, w + start, end - start);
            cur = tok_map_get(&t->vocab, t, b->p, b->n);
            if (cur >= 0) break;
            do end--;
            while (end > start && (u[end] & 0xC0) == 0x80);
        }
        if (cur < 0) goto unk;
        tok_ids_push(out, cur);
        start = end;
    }
    return 0;
unk:
    out->n = start_n;
    if (t->unk_id < 0) return -1;
    tok_ids_push(out, t->unk_id);
    return 0;
}

int tok_model_encode(vkft_tok_session *s, const char *w, size_t n, vkft_tok_ids *out) {
    const vkft_tokenizer *t = s->tok;
    if (n == 0) return 0;
    if (t->model == MODEL_WORDPIECE) return wordpiece_encode(s, w, n, out);
    if (t->model == MODEL_WORDLEVEL) { /* the whole word, or unk */
        int32_t id = tok_map_get(&t->vocab, t, w, n);
        if (id < 0) id = t->unk_id;
        if (id < 0) return -1;
        tok_ids_push(out, id);
        return 0;
    }
    /* the word cache first: it holds the results of both paths below */
    tok_cache_entry *e = NULL;
    if (n <= TOK_CACHE_KEY) {
        e = &s->cache[tok_hash(w, n) & (TOK_CACHE_SLOTS - 1)];
        if (e->klen == n && !memcmp(e->key, w, n)) {
            for (int i = 0; i < e->nids; i++) tok_ids_push(out, e->ids[i]);
            return 0;
        }
    }
    size_t nsym;
    int32_t whole = t->ignore_merges ? tok_map_get(&t->vocab, t, w, n) : -1;
    if (whole >= 0) {
        sym_reserve(s, 1);
        s->sym_id[0] = whole;
        nsym = 1;
    } else {
        nsym = bpe_symbols(s, w, n);
        nsym = bpe_merge(s, nsym);
    }
    for (size_t i = 0; i < nsym; i++) tok_ids_push(out, s->sym_id[i]);
    if (e && nsym <= TOK_CACHE_IDS) {
        e->klen = (uint8_t)n;
        memcpy(e->key, w, n);
        e->nids = (uint8_t)nsym;
        memcpy(e->ids, s->sym_id, nsym * sizeof *s->sym_id);
    }
    return 0;
}
