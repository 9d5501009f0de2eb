/* Internal to the tokenizer module (data/tok_*.c, data/tokenizer*.c): the loaded pipeline's structures
 * and the helpers the files share. Not a public API: use data/tokenizer.h. */
#ifndef VKFT_TOK_INTERNAL_H
#define VKFT_TOK_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include <pcre2.h>

#include "data/tokenizer.h"

/* ---- small utilities (tok_util.c) ---------------------------------------------------------------- */
int tok_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
uint64_t tok_hash(const void *p, size_t n);

/* Growable byte buffer. */
typedef struct {
    char *p;
    size_t n, cap;
} tok_buf;
void tok_buf_reserve(tok_buf *b, size_t extra);
void tok_buf_put(tok_buf *b, const void *p, size_t n);
static inline void tok_buf_putc(tok_buf *b, char c) {
    if (b->n + 1 > b->cap) tok_buf_reserve(b, 1);
    b->p[b->n++] = c;
}
void tok_buf_put_cp(tok_buf *b, int32_t cp); /* UTF-8 encode */
void tok_buf_free(tok_buf *b);

/* A list of strings stored back to back in one buffer (the pieces of a pre-tokenized text). */
typedef struct {
    tok_buf text;
    uint32_t *off, *len;
    size_t n, cap;
    /* pre-tokenization: 1 when the piece starts at the beginning of the input (Metaspace "first");
     * decoding: 1 when the piece is an added token (ByteLevel passes those through) */
    uint8_t *first;
} tok_pieces;
void tok_pieces_clear(tok_pieces *p);
/* Appends a piece; returns its index. */
size_t tok_pieces_push(tok_pieces *p, const char *s, size_t n, int first);
void tok_pieces_free(tok_pieces *p);

/* UTF-8: decodes one code point at s[0..n) (n >= 1); returns its length, and *cp = -1 when invalid
 * (the length is then that of the maximal invalid subpart, as WHATWG/Python replacement does). */
int tok_utf8_next(const unsigned char *s, size_t n, int32_t *cp);
/* 1 when the n bytes are valid UTF-8. */
int tok_utf8_valid(const char *s, size_t n);
/* Copies s to out, each invalid subpart replaced by U+FFFD. */
void tok_utf8_sanitize(const char *s, size_t n, tok_buf *out);

/* String -> id map (open addressing over ids; keys live in the token table). */
typedef struct {
    int32_t *slot; /* -1 empty */
    uint32_t mask;
    uint32_t count;
} tok_map;

/* The byte-level alphabet of GPT-2: byte -> code point and back. */
typedef struct {
    int32_t byte_cp[256];
    char byte_utf8[256][3];
    uint8_t byte_utf8_len[256];
    int16_t cp_byte[512]; /* code point (< 512) -> byte, or -1 */
} tok_bytelevel;
void tok_bytelevel_init(tok_bytelevel *bl);

/* Unicode categories through utf8proc. */
int tok_is_whitespace(int32_t cp); /* Rust char::is_whitespace */
int tok_is_punct(int32_t cp);      /* ASCII punctuation or Unicode P* */
int tok_is_numeric(int32_t cp);    /* Nd Nl No */
int tok_is_alnum(int32_t cp);
int tok_is_control(int32_t cp);
int tok_is_cjk(int32_t cp);
int tok_is_mark_nonspacing(int32_t cp); /* Mn */
int tok_is_mark(int32_t cp);            /* Mn Mc Me */

/* ---- the pipeline's components -------------------------------------------------------------------- */
typedef enum { PAT_STRING, PAT_REGEX } tok_pattern_kind;
typedef struct {
    tok_pattern_kind kind;
    char *str; /* literal, or the regex source */
    size_t str_len;
    pcre2_code *re;
} tok_pattern;

typedef enum {
    NORM_NFC,
    NORM_NFD,
    NORM_NFKC,
    NORM_NFKD,
    NORM_LOWERCASE,
    NORM_STRIP_ACCENTS,
    NORM_BERT,
    NORM_PREPEND,
    NORM_REPLACE,
    NORM_STRIP,
    NORM_SEQUENCE
} tok_norm_type;
typedef struct tok_norm {
    tok_norm_type type;
    int clean_text, handle_chinese, strip_accents, lowercase; /* Bert; strip_accents -1: follow lowercase */
    int strip_left, strip_right;
    char *str; /* Prepend's text, Replace's content */
    size_t str_len;
    tok_pattern pat;
    struct tok_norm *kids;
    int n_kids;
} tok_norm;

typedef enum {
    SPLIT_REMOVED,
    SPLIT_ISOLATED,
    SPLIT_MERGED_PREV,
    SPLIT_MERGED_NEXT,
    SPLIT_CONTIGUOUS
} tok_split_behavior;
typedef enum {
    PRE_BYTELEVEL,
    PRE_SPLIT,
    PRE_METASPACE,
    PRE_BERT,
    PRE_WHITESPACE,
    PRE_WHITESPACE_SPLIT,
    PRE_PUNCTUATION,
    PRE_DIGITS,
    PRE_SEQUENCE
} tok_pre_type;
typedef enum { PREPEND_ALWAYS, PREPEND_FIRST, PREPEND_NEVER } tok_prepend_scheme;
typedef struct tok_pre {
    tok_pre_type type;
    int add_prefix_space, use_regex, invert, individual_digits, split;
    tok_split_behavior behavior;
    tok_prepend_scheme prepend;
    int32_t replacement_cp; /* Metaspace */
    char replacement[8];
    int replacement_len;
    tok_pattern pat;
    struct tok_pre *kids;
    int n_kids;
} tok_pre;

typedef enum { POST_TEMPLATE, POST_BYTELEVEL, POST_BERT, POST_ROBERTA, POST_SEQUENCE } tok_post_type;
/* A template: items are special ids (>= 0), -1 for the first sequence, -2 for the second; each with a type
 * id. */
typedef struct {
    int32_t *item;
    uint8_t *type_id;
    int n;
} tok_template;

typedef struct tok_post {
    tok_post_type type;
    tok_template single, pair;
    struct tok_post *kids;
    int n_kids;
} tok_post;

typedef enum {
    DEC_BYTELEVEL,
    DEC_METASPACE,
    DEC_WORDPIECE,
    DEC_REPLACE,
    DEC_BYTEFALLBACK,
    DEC_FUSE,
    DEC_STRIP,
    DEC_BPE,
    DEC_SEQUENCE
} tok_dec_type;
typedef struct tok_dec {
    tok_dec_type type;
    tok_pattern pat;
    char *str; /* Replace content, WordPiece prefix, BPE suffix, Strip content (one char) */
    size_t str_len;
    int start, stop, cleanup;
    tok_prepend_scheme prepend;
    char replacement[8];
    int replacement_len;
    struct tok_dec *kids;
    int n_kids;
} tok_dec;

typedef struct {
    int32_t id;
    char *content;
    size_t len;
    char *match; /* what is matched in text: content, or for a normalized token its normalized content */
    size_t match_len;
    uint8_t lstrip, rstrip, single_word, normalized, special;
} tok_added;

typedef enum { MODEL_BPE, MODEL_WORDPIECE, MODEL_WORDLEVEL } tok_model_type;

typedef struct {
    uint64_t key, val;
} tok_merge_slot;

struct vkft_tokenizer {
    /* token table: id -> string (model vocabulary and added tokens) */
    int32_t n_ids;
    char **tok;
    uint32_t *tok_len;
    uint8_t *is_added; /* 1 added, 2 added and special */
    int32_t tok_cap;
    char **blocks;
    size_t n_blocks, block_used, block_cap;

    tok_map vocab; /* the model's vocabulary only */

    tok_model_type model;
    /* BPE */
    int byte_fallback, ignore_merges, fuse_unk;
    int32_t unk_id;
    char *unk_token;
    char *cont_prefix, *eow_suffix;
    size_t cont_prefix_len, eow_suffix_len;
    /* merges, open addressing: key = (a << 32 | b) + 1 (0 empty), val = rank << 32 | new id; key and value
     * side by side so that a probe touches one cache line */
    tok_merge_slot *merges;
    uint32_t merge_mask, n_merges;
    int32_t byte_tok[256]; /* byte_fallback: id of <0xXX>, or -1 */
    int32_t *char_id;      /* code point < 0x10000 -> id of the one-char token (no prefix/suffix), or -1 */
    int32_t *char_id_cont; /* same for non-first chars when cont_prefix is set */
    /* BPE without a pre-tokenizer (sentencepiece style: one word per text): when no token holds a
     * character followed by the metaspace U+2581, no merge can cross the point before a U+2581 that follows
     * another character, so the text is cut there into words that the cache can serve (same ids). */
    int split_metaspace;
    /* WordPiece */
    int max_input_chars;

    tok_added *added;
    int n_added, cap_added;
    int has_norm_added, has_raw_added;
    uint8_t added_first[256]; /* 1 when some added token starts with this byte */

    tok_norm *norm;
    tok_pre *pre;
    tok_post *post;
    tok_dec *dec;
    tok_bytelevel bl;

    vkft_tok_specials specials;
    char *chat_template;

    char *json_text; /* the loaded tokenizer.json (for save), or NULL */
    size_t json_len;
    char *name; /* file name, for messages */

    vkft_tok_session *session; /* the default session of vkft_tokenizer_encode */
};

/* token table (tok_util.c) */
int32_t tok_table_set(vkft_tokenizer *t, int32_t id, const char *s, size_t n); /* copies s */
int tok_map_init(tok_map *m, uint32_t expected);
void tok_map_free(tok_map *m);
int32_t tok_map_get(const tok_map *m, const vkft_tokenizer *t, const char *s, size_t n);
void tok_map_put(tok_map *m, const vkft_tokenizer *t, int32_t id);
int tok_merges_init(vkft_tokenizer *t, uint32_t n);
void tok_merges_put(vkft_tokenizer *t, int32_t a, int32_t b, uint32_t rank, int32_t id);
static inline int tok_merges_get(const vkft_tokenizer *t, int32_t a, int32_t b, uint32_t *rank, int32_t *id) {
    uint64_t key = (((uint64_t)(uint32_t)a << 32) | (uint32_t)b) + 1;
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 32) & t->merge_mask;
    for (;;) {
        uint64_t k = t->merges[i].key;
        if (k == key) {
            *rank = (uint32_t)(t->merges[i].val >> 32);
            *id = (int32_t)(uint32_t)t->merges[i].val;
            return 1;
        }
        if (k == 0) return 0;
        i = (i + 1) & t->merge_mask;
    }
}

/* ---- sessions and the encoding pipeline (tok_encode.c) ---------------------------------------------- */
#define TOK_CACHE_SLOTS 32768
#define TOK_CACHE_KEY 30
#define TOK_CACHE_IDS 14
typedef struct {
    uint8_t klen, nids; /* klen 0: empty */
    char key[TOK_CACHE_KEY];
    int32_t ids[TOK_CACHE_IDS];
} tok_cache_entry;

struct vkft_tok_session {
    const vkft_tokenizer *tok;
    pcre2_match_data *md;
    tok_buf clean, norm, tmp, tmp2, iv; /* iv: split intervals */
    tok_pieces a, b;
    tok_cache_entry *cache;
    /* BPE scratch */
    int32_t *sym_id;
    uint32_t *sym_rank;
    size_t sym_cap;
    /* long words: a linked list of symbols and a heap of (rank << 32 | position) */
    int32_t *sym_next, *sym_prev;
    uint64_t *heap;
    size_t heap_cap;
    vkft_tok_ids seq, seq2, pair; /* the sequences before post-processing */
};

/* pipeline steps (tok_pipeline.c) */
int tok_normalize(vkft_tok_session *s, const tok_norm *n, const char *in, size_t len, tok_buf *out, char *err,
                  size_t errlen);
/* Pre-tokenizes p in place (s->b is scratch). */
int tok_pretokenize(vkft_tok_session *s, const tok_pre *pre, tok_pieces *p, char *err, size_t errlen);
/* The model on one pre-tokenized piece; appends ids. (tok_model.c) */
int tok_model_encode(vkft_tok_session *s, const char *w, size_t n, vkft_tok_ids *out);
void tok_ids_grow(vkft_tok_ids *v, int32_t id); /* the slow path of tok_ids_push */
static inline void tok_ids_push(vkft_tok_ids *v, int32_t id) {
    if (v->n < v->cap)
        v->ids[v->n++] = id;
    else
        tok_ids_grow(v, id);
}
/* Decoders over a list of token strings; the result is the concatenation of the pieces. */
int tok_decode_pieces(const vkft_tokenizer *t, const tok_dec *d, tok_pieces *p, tok_pieces *scratch);

/* Frees a component tree (tok_load.c). */
void tok_norm_free(tok_norm *n);
void tok_pre_free(tok_pre *p);
void tok_post_free(tok_post *p);
void tok_dec_free(tok_dec *d);
int tok_pattern_compile(tok_pattern *p, const char *path, char *err, size_t errlen);
void tok_pattern_free(tok_pattern *p);
/* Finds the next match of pat in s[from..n): returns 1 and [*ms,*me), or 0; -1 on a regex error. */
int tok_pattern_find(vkft_tok_session *s, const tok_pattern *pat, const char *str, size_t n, size_t from,
                     size_t *ms, size_t *me);

/* Builds char_id tables and byte-fallback ids after the vocabulary is known (tok_model.c). */
int tok_model_prepare(vkft_tokenizer *t, char *err, size_t errlen);
#endif
