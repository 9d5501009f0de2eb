/* Training a tokenizer on a corpus (HF BpeTrainer's algorithm): words are counted after the pipeline's
 * normalizer and pre-tokenizer, then the most frequent adjacent pair is merged until the vocabulary is full
 * (a max-heap with lazy updates, and for each pair the words that contain it). Byte-level BPE starts from
 * the 256-byte alphabet; WordPiece runs the same loop with the "##" continuation prefix and keeps the
 * vocabulary. The result is a tokenizer.json text loaded back through vkft_tokenizer_load_json. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "data/tok_internal.h"
#include "util/fsutil.h"

/* ---- string -> int map ----------------------------------------------------------------------------------
 */
typedef struct {
    tok_buf pool;
    uint32_t *off, *len;
    int64_t *val;
    uint32_t n, cap;
    int32_t *slot; /* entry index, -1 empty */
    uint32_t mask;
} smap;

static void smap_init(smap *m) {
    memset(m, 0, sizeof *m);
    m->mask = 1023;
    m->slot = malloc((m->mask + 1) * sizeof *m->slot);
    memset(m->slot, 0xFF, (m->mask + 1) * sizeof *m->slot);
}

static void smap_free(smap *m) {
    tok_buf_free(&m->pool);
    free(m->off);
    free(m->len);
    free(m->val);
    free(m->slot);
}

static const char *smap_key(const smap *m, uint32_t i) { return m->pool.p + m->off[i]; }

/* Returns the entry index of key, adding it (value 0) when missing. */
static uint32_t smap_get_or_add(smap *m, const char *s, size_t n, int *added) {
    uint32_t h = (uint32_t)tok_hash(s, n);
    for (uint32_t i = h & m->mask;; i = (i + 1) & m->mask) {
        int32_t e = m->slot[i];
        if (e < 0) {
            if (!added) return UINT32_MAX;
            if (m->n == m->cap) {
                m->cap = m->cap ? m->cap * 2 : 1024;
                m->off = realloc(m->off, m->cap * sizeof *m->off);
                m->len = realloc(m->len, m->cap * sizeof *m->len);
                m->val = realloc(m->val, m->cap * sizeof *m->val);
            }
            m->off[m->n] = (uint32_t)m->pool.n;
            m->len[m->n] = (uint32_t)n;
            m->val[m->n] = 0;
            tok_buf_put(&m->pool, s, n);
            tok_buf_putc(&m->pool, 0);
            m->slot[i] = (int32_t)m->n;
            *added = 1;
            uint32_t idx = m->n++;
            if (m->n * 2 > m->mask) { /* grow */
                free(m->slot);
                m->mask = m->mask * 2 + 1;
                m->slot = malloc((m->mask + 1) * sizeof *m->slot);
                memset(m->slot, 0xFF, (m->mask + 1) * sizeof *m->slot);
                for (uint32_t k = 0; k < m->n; k++) {
                    uint32_t j = (uint32_t)tok_hash(smap_key(m, k), m->len[k]) & m->mask;
                    while (m->slot[j] >= 0) j = (j + 1) & m->mask;
                    m->slot[j] = (int32_t)k;
                }
            }
            return idx;
        }
        if (m->len[e] == n && !memcmp(smap_key(m, (uint32_t)e), s, n)) {
            if (added) *added = 0;
            return (uint32_t)e;
        }
    }
}

/* ---- pair statistics
 * --------------------------------------------------------------------------------------- */
typedef struct {
    int64_t count;
    int32_t *words;
    uint32_t n_words, cap_words;
} pair_info;

typedef struct {
    uint64_t *key; /* (a << 32 | b) + 1; 0 empty */
    uint32_t *idx;
    uint32_t mask;
    pair_info *info;
    uint32_t n, cap;
} pair_map;

static void pm_init(pair_map *p) {
    memset(p, 0, sizeof *p);
    p->mask = (1u << 16) - 1;
    p->key = calloc(p->mask + 1, sizeof *p->key);
    p->idx = calloc(p->mask + 1, sizeof *p->idx);
}

static uint64_t pkey(int32_t a, int32_t b) { return (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1; }

static uint32_t pm_slot(const pair_map *p, uint64_t key) {
    uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 40) & p->mask;
    while (p->key[i] && p->key[i] != key) i = (i + 1) & p->mask;
    return i;
}

static pair_info *pm_get(pair_map *p, int32_t a, int32_t b, int create) {
    uint64_t key = pkey(a, b);
    uint32_t i = pm_slot(p, key);
    if (p->key[i]) return &p->info[p->idx[i]];
    if (!create) return NULL;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 4096;
        p->info = realloc(p->info, p->cap * sizeof *p->info);
    }
    memset(&p->info[p->n], 0, sizeof *p->info);
    p->key[i] = key;
    p->idx[i] = p->n++;
    if (p->n * 2 > p->mask) {
        uint64_t *ok = p->key;
        uint32_t *oi = p->idx, om = p->mask;
        p->mask = p->mask * 2 + 1;
        p->key = calloc(p->mask + 1, sizeof *p->key);
        p->idx = calloc(p->mask + 1, sizeof *p->idx);
        for (uint32_t k = 0; k <= om; k++)
            if (ok[k]) {
                uint32_t j = pm_slot(p, ok[k]);
                p->key[j] = ok[k];
                p->idx[j] = oi[k];
            }
        free(ok);
        free(oi);
        return &p->info[p->idx[pm_slot(p, key)]];
    }
    return &p->info[p->idx[i]];
}

static void pm_free(pair_map *p) {
    for (uint32_t i = 0; i < p->n; i++) free(p->info[i].words);
    free(p->info);
    free(p->key);
    free(p->idx);
}

static void pi_add_word(pair_info *pi, int32_t w) {
    if (pi->n_words && pi->words[pi->n_words - 1] == w) return;
    if (pi->n_words == pi->cap_words) {
        pi->cap_words = pi->cap_words ? pi->cap_words * 2 : 4;
        pi->words = realloc(pi->words, pi->cap_words * sizeof *pi->words);
    }
    pi->words[pi->n_words++] = w;
}

/* ---- max-heap of (count, pair): larger count first, then the smaller pair
 * ---------------------------------- */
typedef struct {
    int64_t count;
    uint64_t pair;
} heap_item;
typedef struct {
    heap_item *a;
    size_t n, cap;
} heap;

static int heap_before(heap_item x, heap_item y) {
    return x.count != y.count ? x.count > y.count : x.pair < y.pair;
}

static void heap_push(heap *h, int64_t count, uint64_t pair) {
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 4096;
        h->a = realloc(h->a, h->cap * sizeof *h->a);
    }
    size_t i = h->n++;
    heap_item it = {count, pair};
    while (i > 0 && heap_before(it, h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = it;
}

static heap_item heap_pop(heap *h) {
    heap_item top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && heap_before(h->a[c + 1], h->a[c])) c++;
        if (!heap_before(h->a[c], last)) break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n) h->a[i] = last;
    return top;
}

/* ---- the trainer ------------------------------------------------------------------------------------------
 */
typedef struct {
    int32_t *sym;
    uint32_t n;
    int64_t count;
} word;

static const char *BPE_SPECIALS[] = {"<|endoftext|>"};
static const char *WP_SPECIALS[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

static int cp_cmp(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static cJSON *added_token_json(int id, const char *content) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "id", id);
    cJSON_AddStringToObject(a, "content", content);
    cJSON_AddBoolToObject(a, "single_word", 0);
    cJSON_AddBoolToObject(a, "lstrip", 0);
    cJSON_AddBoolToObject(a, "rstrip", 0);
    cJSON_AddBoolToObject(a, "normalized", 0);
    cJSON_AddBoolToObject(a, "special", 1);
    return a;
}

static cJSON *bytelevel_json(int add_prefix_space) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", "ByteLevel");
    cJSON_AddBoolToObject(o, "add_prefix_space", add_prefix_space);
    cJSON_AddBoolToObject(o, "trim_offsets", 1);
    cJSON_AddBoolToObject(o, "use_regex", 1);
    return o;
}

static cJSON *special_ref(const char *name, int type_id) {
    cJSON *o = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(o, "SpecialToken");
    cJSON_AddStringToObject(s, "id", name);
    cJSON_AddNumberToObject(s, "type_id", type_id);
    return o;
}

static cJSON *sequence_ref(const char *name, int type_id) {
    cJSON *o = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(o, "Sequence");
    cJSON_AddStringToObject(s, "id", name);
    cJSON_AddNumberToObject(s, "type_id", type_id);
    return o;
}

/* The pipeline (normalizer + pre-tokenizer) the trained tokenizer will use, as JSON objects. */
static void pipeline_json(cJSON *root, int wordpiece) {
    if (wordpiece) {
        cJSON *n = cJSON_AddObjectToObject(root, "normalizer");
        cJSON_AddStringToObject(n, "type", "BertNormalizer");
        cJSON_AddBoolToObject(n, "clean_text", 1);
        cJSON_AddBoolToObject(n, "handle_chinese_chars", 1);
        cJSON_AddNullToObject(n, "strip_accents");
        cJSON_AddBoolToObject(n, "lowercase", 1);
        cJSON *p = cJSON_AddObjectToObject(root, "pre_tokenizer");
        cJSON_AddStringToObject(p, "type", "BertPreTokenizer");
    } else {
        cJSON_AddNullToObject(root, "normalizer");
        cJSON_AddItemToObject(root, "pre_tokenizer", bytelevel_json(0));
    }
}

int vkft_tokenizer_train(const vkft_tok_train_opts *opts, const char *const *files, int n_files,
                         vkft_tokenizer **out, char *err, size_t errlen) {
    *out = NULL;
    int wp = opts->type == VKFT_TOK_TRAIN_WORDPIECE;
    const char *const *specials = opts->special_tokens;
    int n_special = opts->n_special;
    if (!specials) {
        specials = wp ? WP_SPECIALS : BPE_SPECIALS;
        n_special = wp ? 5 : 1;
    }
    int min_freq = opts->min_frequency > 0 ? opts->min_frequency : 2;
    const char *prefix = wp ? "##" : "";
    size_t plen = strlen(prefix);

    /* a pipeline-only tokenizer to split the corpus into words */
    cJSON *pj = cJSON_CreateObject();
    pipeline_json(pj, wp);
    cJSON *m = cJSON_AddObjectToObject(pj, "model");
    cJSON_AddStringToObject(m, "type", "WordPiece");
    cJSON_AddStringToObject(m, "unk_token", "[UNK]");
    cJSON *v = cJSON_AddObjectToObject(m, "vocab");
    cJSON_AddNumberToObject(v, "[UNK]", 0);
    char *pjs = cJSON_PrintUnformatted(pj);
    cJSON_Delete(pj);
    vkft_tokenizer *splitter = NULL;
    int rc = vkft_tokenizer_load_json(pjs, strlen(pjs), NULL, "trainer pipeline", &splitter, err, errlen);
    free(pjs);
    if (rc) return -1;
    vkft_tok_session *s = vkft_tok_session_new(splitter);

    /* 1. count words */
    smap words;
    smap_init(&words);
    for (int f = 0; f < n_files && !rc; f++) {
        char *text;
        size_t n;
        if (vkft_read_file(files[f], &text, &n, err, errlen)) {
            rc = -1;
            break;
        }
        tok_buf clean = {0};
        if (!tok_utf8_valid(text, n)) {
            tok_utf8_sanitize(text, n, &clean);
            free(text);
            text = clean.p;
            n = clean.n;
            memset(&clean, 0, sizeof clean);
        }
        for (char *line = text, *end = text + n; line < end && !rc;) {
            char *nl = memchr(line, '\n', (size_t)(end - line));
            if (!nl) nl = end;
            size_t len = (size_t)(nl - line);
            if (tok_normalize(s, splitter->norm, line, len, &s->norm, err, errlen)) rc = -1;
            tok_pieces_clear(&s->a);
            if (!rc && s->norm.n) tok_pieces_push(&s->a, s->norm.p, s->norm.n, 1);
            if (!rc && tok_pretokenize(s, splitter->pre, &s->a, err, errlen)) rc = -1;
            for (size_t i = 0; !rc && i < s->a.n; i++) {
                int added;
                uint32_t e = smap_get_or_add(&words, s->a.text.p + s->a.off[i], s->a.len[i], &added);
                words.val[e]++;
            }
            line = nl + 1;
        }
        free(text);
    }
    vkft_tok_session_free(s);
    vkft_tokenizer_free(splitter);
    if (rc) {
        smap_free(&words);
        return -1;
    }

    /* 2. the initial vocabulary: specials, then the alphabet sorted by code point */
    smap vocab;
    smap_init(&vocab);
    int added;
    for (int i = 0; i < n_special; i++) {
        uint32_t e = smap_get_or_add(&vocab, specials[i], strlen(specials[i]), &added);
        vocab.val[e] = e;
    }
    int32_t *alpha = NULL;
    size_t n_alpha = 0, cap_alpha = 0;
    tok_bytelevel bl;
    tok_bytelevel_init(&bl);
    if (!wp) {
        alpha = malloc(256 * sizeof *alpha);
        for (int b = 0; b < 256; b++) alpha[n_alpha++] = bl.byte_cp[b];
    } else {
        smap seen;
        smap_init(&seen);
        for (uint32_t w = 0; w < words.n; w++) {
            const unsigned char *u = (const unsigned char *)smap_key(&words, w);
            for (size_t i = 0; i < words.len[w];) {
                int32_t cp;
                int l = tok_utf8_next(u + i, words.len[w] - i, &cp);
                smap_get_or_add(&seen, (const char *)u + i, (size_t)l, &added);
                if (added) {
                    if (n_alpha == cap_alpha)
                        alpha = realloc(alpha, (cap_alpha = cap_alpha ? cap_alpha * 2 : 256) * sizeof *alpha);
                    alpha[n_alpha++] = cp;
                }
                i += (size_t)l;
            }
        }
        smap_free(&seen);
    }
    qsort(alpha, n_alpha, sizeof *alpha, cp_cmp);
    tok_buf tb = {0};
    for (size_t i = 0; i < n_alpha; i++) {
        tb.n = 0;
        tok_buf_put_cp(&tb, alpha[i]);
        uint32_t e = smap_get_or_add(&vocab, tb.p, tb.n, &added);
        vocab.val[e] = e;
    }
    free(alpha);

    /* 3. words as symbol ids (non-first characters carry the prefix) */
    word *ws = calloc(words.n ? words.n : 1, sizeof *ws);
    for (uint32_t w = 0; w < words.n; w++) {
        const char *k = smap_key(&words, w);
        size_t kn = words.len[w];
        ws[w].sym = malloc((kn + 1) * sizeof *ws[w].sym);
        ws[w].count = words.val[w];
        for (size_t i = 0; i < kn;) {
            int32_t cp;
            int l = tok_utf8_next((const unsigned char *)k + i, kn - i, &cp);
            tb.n = 0;
            if (i > 0) tok_buf_put(&tb, prefix, plen);
            tok_buf_put(&tb, k + i, (size_t)l);
            uint32_t e = smap_get_or_add(&vocab, tb.p, tb.n, &added);
            if (added) vocab.val[e] = e;
            ws[w].sym[ws[w].n++] = (int32_t)e;
            i += (size_t)l;
        }
    }

    /* 4. pair counts, then the merge loop */
    pair_map pm;
    pm_init(&pm);
    for (uint32_t w = 0; w < words.n; w++)
        for (uint32_t i = 0; i + 1 < ws[w].n; i++) {
            pair_info *pi = pm_get(&pm, ws[w].sym[i], ws[w].sym[i + 1], 1);
            pi->count += ws[w].count;
            pi_add_word(pi, (int32_t)w);
        }
    heap h = {0};
    for (uint32_t i = 0; i <= pm.mask; i++)
        if (pm.key[i] && pm.info[pm.idx[i]].count > 0) heap_push(&h, pm.info[pm.idx[i]].count, pm.key[i]);
    uint64_t *merges = NULL;
    size_t n_merges = 0, cap_merges = 0;
    uint64_t *changed = NULL;
    size_t n_changed = 0, cap_changed = 0;
    while ((int)vocab.n < opts->vocab_size && h.n) {
        heap_item top = heap_pop(&h);
        int32_t a = (int32_t)((top.pair - 1) >> 32), b = (int32_t)(uint32_t)(top.pair - 1);
        pair_info *pi = pm_get(&pm, a, b, 0);
        if (pi->count != top.count) {
            if (pi->count > 0) heap_push(&h, pi->count, top.pair);
            continue;
        }
        if (pi->count < min_freq) break;
        /* the new token: a + b without b's prefix */
        tb.n = 0;
        tok_buf_put(&tb, smap_key(&vocab, (uint32_t)a), vocab.len[a]);
        const char *bs = smap_key(&vocab, (uint32_t)b);
        size_t bn = vocab.len[b];
        if (plen && bn >= plen && !memcmp(bs, prefix, plen)) {
            bs += plen;
            bn -= plen;
        }
        tok_buf_put(&tb, bs, bn);
        uint32_t nid = smap_get_or_add(&vocab, tb.p, tb.n, &added);
        if (added) vocab.val[nid] = nid;
        if (n_merges == cap_merges)
            merges = realloc(merges, (cap_merges = cap_merges ? cap_merges * 2 : 1024) * sizeof *merges);
        merges[n_merges++] = top.pair;
        /* apply it in every word that holds the pair */
        uint32_t nw = pi->n_words;
        int32_t *wl = malloc((nw ? nw : 1) * sizeof *wl);
        memcpy(wl, pi->words, nw * sizeof *wl);
        n_changed = 0;
        for (uint32_t k = 0; k < nw; k++) {
            word *w = &ws[wl[k]];
            for (uint32_t i = 0; i + 1 < w->n;) {
                if (w->sym[i] != a || w->sym[i + 1] != b) {
                    i++;
                    continue;
                }
                if (i > 0) {
                    pm_get(&pm, w->sym[i - 1], a, 1)->count -= w->count;
                    pair_info *q = pm_get(&pm, w->sym[i - 1], (int32_t)nid, 1);
                    q->count += w->count;
                    pi_add_word(q, wl[k]);
                    if (n_changed == cap_changed)
                        changed = realloc(changed, (cap_changed = cap_changed ? cap_changed * 2 : 256) *
                                                       sizeof *changed);
                    changed[n_changed++] = pkey(w->sym[i - 1], (int32_t)nid);
                }
                if (i + 2 < w->n) {
                    pm_get(&pm, b, w->sym[i + 2], 1)->count -= w->count;
                    pair_info *q = pm_get(&pm, (int32_t)nid, w->sym[i + 2], 1);
                    q->count += w->count;
                    pi_add_word(q, wl[k]);
                    if (n_changed == cap_changed)
                        changed = realloc(changed, (cap_changed = cap_changed ? cap_changed * 2 : 256) *
                                                       sizeof *changed);
                    changed[n_changed++] = pkey((int32_t)nid, w->sym[i + 2]);
                }
                w->sym[i] = (int32_t)nid;
                memmove(w->sym + i + 1, w->sym + i + 2, (w->n - i - 2) * sizeof *w->sym);
                w->n--;
                i++;
            }
        }
        free(wl);
        pm_get(&pm, a, b, 0)->count = 0;
        for (size_t k = 0; k < n_changed; k++) {
            int32_t x = (int32_t)((changed[k] - 1) >> 32), y = (int32_t)(uint32_t)(changed[k] - 1);
            pair_info *q = pm_get(&pm, x, y, 0);
            if (q && q->count > 0) heap_push(&h, q->count, changed[k]);
        }
    }
    free(changed);
    free(h.a);
    pm_free(&pm);
    for (uint32_t w = 0; w < words.n; w++) free(ws[w].sym);
    free(ws);
    smap_free(&words);

    /* 5. the tokenizer.json */
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", "1.0");
    cJSON_AddNullToObject(root, "truncation");
    cJSON_AddNullToObject(root, "padding");
    cJSON *at = cJSON_AddArrayToObject(root, "added_tokens");
    for (int i = 0; i < n_special; i++) cJSON_AddItemToArray(at, added_token_json(i, specials[i]));
    pipeline_json(root, wp);
    char *key = NULL;
    size_t key_cap = 0;
    if (wp) {
        int has_cls = 0, has_sep = 0, cls = -1, sep = -1;
        for (int i = 0; i < n_special; i++) {
            if (!strcmp(specials[i], "[CLS]")) has_cls = 1, cls = i;
            if (!strcmp(specials[i], "[SEP]")) has_sep = 1, sep = i;
        }
        if (has_cls && has_sep) {
            cJSON *pp = cJSON_AddObjectToObject(root, "post_processor");
            cJSON_AddStringToObject(pp, "type", "TemplateProcessing");
            cJSON *single = cJSON_AddArrayToObject(pp, "single"), *pair = cJSON_AddArrayToObject(pp, "pair");
            cJSON_AddItemToArray(single, special_ref("[CLS]", 0));
            cJSON_AddItemToArray(single, sequence_ref("A", 0));
            cJSON_AddItemToArray(single, special_ref("[SEP]", 0));
            cJSON_AddItemToArray(pair, special_ref("[CLS]", 0));
            cJSON_AddItemToArray(pair, sequence_ref("A", 0));
            cJSON_AddItemToArray(pair, special_ref("[SEP]", 0));
            cJSON_AddItemToArray(pair, sequence_ref("B", 1));
            cJSON_AddItemToArray(pair, special_ref("[SEP]", 1));
            cJSON *st = cJSON_AddObjectToObject(pp, "special_tokens");
            const char *names[2] = {"[CLS]", "[SEP]"};
            int ids[2] = {cls, sep};
            for (int i = 0; i < 2; i++) {
                cJSON *o = cJSON_AddObjectToObject(st, names[i]);
                cJSON_AddStringToObject(o, "id", names[i]);
                cJSON *idarr = cJSON_AddArrayToObject(o, "ids");
                cJSON_AddItemToArray(idarr, cJSON_CreateNumber(ids[i]));
                cJSON *tk = cJSON_AddArrayToObject(o, "tokens");
                cJSON_AddItemToArray(tk, cJSON_CreateString(names[i]));
            }
        } else
            cJSON_AddNullToObject(root, "post_processor");
        cJSON *d = cJSON_AddObjectToObject(root, "decoder");
        cJSON_AddStringToObject(d, "type", "WordPiece");
        cJSON_AddStringToObject(d, "prefix", "##");
        cJSON_AddBoolToObject(d, "cleanup", 1);
    } else {
        cJSON_AddItemToObject(root, "post_processor", bytelevel_json(1));
        cJSON_AddItemToObject(root, "decoder", bytelevel_json(1));
    }
    cJSON *model = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(model, "type", wp ? "WordPiece" : "BPE");
    if (wp) {
        cJSON_AddStringToObject(model, "unk_token", "[UNK]");
        cJSON_AddStringToObject(model, "continuing_subword_prefix", "##");
        cJSON_AddNumberToObject(model, "max_input_chars_per_word", 100);
    } else {
        cJSON_AddNullToObject(model, "dropout");
        cJSON_AddNullToObject(model, "unk_token");
        cJSON_AddNullToObject(model, "continuing_subword_prefix");
        cJSON_AddNullToObject(model, "end_of_word_suffix");
        cJSON_AddBoolToObject(model, "fuse_unk", 0);
        cJSON_AddBoolToObject(model, "byte_fallback", 0);
        cJSON_AddBoolToObject(model, "ignore_merges", 0);
    }
    cJSON *vo = cJSON_AddObjectToObject(model, "vocab");
    for (uint32_t i = 0; i < vocab.n; i++) {
        if (vocab.len[i] + 1 > key_cap) key = realloc(key, key_cap = vocab.len[i] + 64);
        memcpy(key, smap_key(&vocab, i), vocab.len[i] + 1);
        cJSON_AddItemToObject(vo, key, cJSON_CreateNumber(i));
    }
    if (!wp) {
        cJSON *ma = cJSON_AddArrayToObject(model, "merges");
        for (size_t i = 0; i < n_merges; i++) {
            int32_t a = (int32_t)((merges[i] - 1) >> 32), b = (int32_t)(uint32_t)(merges[i] - 1);
            tb.n = 0;
            tok_buf_put(&tb, smap_key(&vocab, (uint32_t)a), vocab.len[a]);
            tok_buf_putc(&tb, ' ');
            tok_buf_put(&tb, smap_key(&vocab, (uint32_t)b), vocab.len[b]);
            tok_buf_putc(&tb, 0);
            cJSON_AddItemToArray(ma, cJSON_CreateString(tb.p));
        }
    }
    free(key);
    free(merges);
    tok_buf_free(&tb);
    smap_free(&vocab);
    char *json = cJSON_Print(root);
    cJSON_Delete(root);
    if (!json) return tok_fail(err, errlen, "out of memory");
    rc = vkft_tokenizer_load_json(json, strlen(json), NULL, "trained tokenizer.json", out, err, errlen);
    free(json);
    return rc;
}
