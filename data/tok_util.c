/* Shared helpers of the tokenizer module: buffers, UTF-8, Unicode classes, the token table and hash maps. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "data/tok_internal.h"

int tok_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

uint64_t tok_hash(const void *p, size_t n) {
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    h ^= h >> 32;
    h *= 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "vkft: out of memory (%zu bytes)\n", n);
        abort();
    }
    return q;
}

void tok_buf_reserve(tok_buf *b, size_t extra) {
    if (b->n + extra <= b->cap) return;
    size_t c = b->cap ? b->cap * 2 : 256;
    while (c < b->n + extra) c *= 2;
    b->p = xrealloc(b->p, c);
    b->cap = c;
}

void tok_buf_put(tok_buf *b, const void *p, size_t n) {
    if (!n) return;
    tok_buf_reserve(b, n);
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

void tok_buf_put_cp(tok_buf *b, int32_t cp) {
    tok_buf_reserve(b, 4);
    unsigned char *o = (unsigned char *)b->p + b->n;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        b->n += 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        b->n += 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        b->n += 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18));
        o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        b->n += 4;
    }
}

void tok_buf_free(tok_buf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

void tok_pieces_clear(tok_pieces *p) {
    p->text.n = 0;
    p->n = 0;
}

size_t tok_pieces_push(tok_pieces *p, const char *s, size_t n, int first) {
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->off = xrealloc(p->off, p->cap * sizeof *p->off);
        p->len = xrealloc(p->len, p->cap * sizeof *p->len);
        p->first = xrealloc(p->first, p->cap);
    }
    p->off[p->n] = (uint32_t)p->text.n;
    p->len[p->n] = (uint32_t)n;
    p->first[p->n] = (uint8_t)first;
    tok_buf_put(&p->text, s, n);
    return p->n++;
}

void tok_pieces_free(tok_pieces *p) {
    tok_buf_free(&p->text);
    free(p->off);
    free(p->len);
    free(p->first);
    memset(p, 0, sizeof *p);
}

/* ---- UTF-8 ------------------------------------------------------------------------------------------ */
int tok_utf8_next(const unsigned char *s, size_t n, int32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = (int32_t)c;
        return 1;
    }
    int need;
    int32_t v;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        v = c & 0x07;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        *cp = -1;
        return 1;
    }
    size_t i = 1;
    for (int k = 0; k < need; k++, i++) {
        if (i >= n) {
            *cp = -1;
            return (int)i;
        }
        unsigned d = s[i];
        if (d < lo || d > hi) {
            *cp = -1;
            return (int)i;
        }
        lo = 0x80;
        hi = 0xBF;
        v = (v << 6) | (int32_t)(d & 0x3F);
    }
    *cp = v;
    return (int)i;
}

int tok_utf8_valid(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        /* fast ASCII run, 8 bytes at a time */
        while (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, u + i, 8);
            if (w & 0x8080808080808080ull) break;
            i += 8;
        }
        if (i >= n) break;
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        int l = tok_utf8_next(u + i, n - i, &cp);
        if (cp < 0) return 0;
        i += (size_t)l;
    }
    return 1;
}

void tok_utf8_sanitize(const char *s, size_t n, tok_buf *out) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    tok_buf_reserve(out, n);
    while (i < n) {
        int32_t cp;
        int l = tok_utf8_next(u + i, n - i, &cp);
        if (cp < 0)
            tok_buf_put(out, "\xEF\xBF\xBD", 3);
        else
            tok_buf_put(out, s + i, (size_t)l);
        i += (size_t)l;
    }
}

/* ---- byte-level alphabet ------------------------------------------------------------------------------ */
void tok_bytelevel_init(tok_bytelevel *bl) {
    int n = 0;
    for (int i = 0; i < 512; i++) bl->cp_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        bl->byte_cp[b] = keep ? b : 256 + n++;
    }
    for (int b = 0; b < 256; b++) {
        tok_buf t = {0};
        tok_buf_put_cp(&t, bl->byte_cp[b]);
        memcpy(bl->byte_utf8[b], t.p, t.n);
        bl->byte_utf8_len[b] = (uint8_t)t.n;
        tok_buf_free(&t);
        bl->cp_byte[bl->byte_cp[b]] = (int16_t)b;
    }
}

/* ---- Unicode classes ----------------------------------------------------------------------------------- */
int tok_is_whitespace(int32_t cp) {
    if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D)) return 1;
    if (cp < 0x80) return 0;
    switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000: return 1;
    default: return cp >= 0x2000 && cp <= 0x200A;
    }
}

int tok_is_punct(int32_t cp) {
    if (cp < 0x80)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

int tok_is_numeric(int32_t cp) {
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

int tok_is_alnum(int32_t cp) {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z');
    utf8proc_category_t c = utf8proc_category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) || tok_is_numeric(cp);
}

int tok_is_control(int32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') return 0;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CN ||
           c == UTF8PROC_CATEGORY_CO;
}

int tok_is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

int tok_is_mark_nonspacing(int32_t cp) { return utf8proc_category(cp) == UTF8PROC_CATEGORY_MN; }

int tok_is_mark(int32_t cp) {
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

/* ---- token table ------------------------------------------------------------------------------------------
 */
static char *pool_copy(vkft_tokenizer *t, const char *s, size_t n) {
    if (!t->n_blocks || t->block_used + n + 1 > t->block_cap) {
        size_t cap = n + 1 > (1u << 20) ? n + 1 : (1u << 20);
        t->blocks = xrealloc(t->blocks, (t->n_blocks + 1) * sizeof *t->blocks);
        t->blocks[t->n_blocks++] = xrealloc(NULL, cap);
        t->block_used = 0;
        t->block_cap = cap;
    }
    char *d = t->blocks[t->n_blocks - 1] + t->block_used;
    memcpy(d, s, n);
    d[n] = 0;
    t->block_used += n + 1;
    return d;
}

int32_t tok_table_set(vkft_tokenizer *t, int32_t id, const char *s, size_t n) {
    if (id >= t->tok_cap) {
        int32_t cap = t->tok_cap < 1024 ? 1024 : t->tok_cap;
        while (cap <= id) cap *= 2;
        t->tok = xrealloc(t->tok, (size_t)cap * sizeof *t->tok);
        t->tok_len = xrealloc(t->tok_len, (size_t)cap * sizeof *t->tok_len);
        t->is_added = xrealloc(t->is_added, (size_t)cap);
        for (int32_t i = t->tok_cap; i < cap; i++) {
            t->tok[i] = NULL;
            t->tok_len[i] = 0;
            t->is_added[i] = 0;
        }
        t->tok_cap = cap;
    }
    if (id >= t->n_ids) t->n_ids = id + 1;
    t->tok[id] = pool_copy(t, s, n);
    t->tok_len[id] = (uint32_t)n;
    return id;
}

int tok_map_init(tok_map *m, uint32_t expected) {
    uint32_t c = 64;
    while (c < expected * 2u + 16) c *= 2;
    m->slot = malloc(c * sizeof *m->slot);
    if (!m->slot) return -1;
    memset(m->slot, 0xFF, c * sizeof *m->slot);
    m->mask = c - 1;
    m->count = 0;
    return 0;
}

void tok_map_free(tok_map *m) {
    free(m->slot);
    memset(m, 0, sizeof *m);
}

int32_t tok_map_get(const tok_map *m, const vkft_tokenizer *t, const char *s, size_t n) {
    if (!m->slot) return -1;
    uint32_t i = (uint32_t)tok_hash(s, n) & m->mask;
    for (;;) {
        int32_t id = m->slot[i];
        if (id < 0) return -1;
        if (t->tok_len[id] == n && !memcmp(t->tok[id], s, n)) return id;
        i = (i + 1) & m->mask;
    }
}

static void map_grow(tok_map *m, const vkft_tokenizer *t) {
    tok_map old = *m;
    tok_map_init(m, (old.mask + 1));
    for (uint32_t i = 0; i <= old.mask; i++)
        if (old.slot[i] >= 0) {
            int32_t id = old.slot[i];
            uint32_t j = (uint32_t)tok_hash(t->tok[id], t->tok_len[id]) & m->mask;
            while (m->slot[j] >= 0) j = (j + 1) & m->mask;
            m->slot[j] = id;
            m->count++;
        }
    free(old.slot);
}

void tok_map_put(tok_map *m, const vkft_tokenizer *t, int32_t id) {
    if ((m->count + 1) * 2 > m->mask) map_grow(m, t);
    uint32_t i = (uint32_t)tok_hash(t->tok[id], t->tok_len[id]) & m->mask;
    for (;;) {
        int32_t o = m->slot[i];
        if (o < 0) break;
        if (t->tok_len[o] == t->tok_len[id] && !memcmp(t->tok[o], t->tok[id], t->tok_len[id])) {
            m->slot[i] = id; /* same string: the later id wins */
            return;
        }
        i = (i + 1) & m->mask;
    }
    m->slot[i] = id;
    m->count++;
}

int tok_merges_init(vkft_tokenizer *t, uint32_t n) {
    uint32_t c = 64;
    while (c < n * 2u + 16) c *= 2;
    t->merges = calloc(c, sizeof *t->merges);
    if (!t->merges) return -1;
    t->merge_mask = c - 1;
    t->n_merges = 0;
    return 0;
}

void tok_merges_put(vkft_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t id) {
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 32) & t->merge_mask;
    while (t->merges[i].key && t->merges[i].key != key) i = (i + 1) & t->merge_mask;
    if (t->merges[i].key == key) return; /* the first (lowest-rank) occurrence wins */
    t->merges[i].key = key;
    t->merges[i].val = ((uint64_t)rank << 32) | (uint32_t)id;
    t->n_merges++;
}
