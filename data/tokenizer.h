/* Tokenizers with Hugging Face semantics: loads a `tokenizer.json` (or GPT-2's classic `encoder.json` +
 * `vocab.bpe`), encodes UTF-8 text to token ids and decodes ids back to text.
 *
 * Supported pieces (anything else fails to load, naming the component and its JSON path):
 *   models          BPE (byte_fallback, ignore_merges, unk_token, fuse_unk, continuing_subword_prefix,
 *                   end_of_word_suffix, merges as "a b" or ["a","b"]), WordPiece, WordLevel
 *   normalizers     NFC NFD NFKC NFKD Lowercase StripAccents BertNormalizer Prepend Replace Strip Sequence
 *   pre-tokenizers  ByteLevel Split Metaspace BertPreTokenizer Whitespace WhitespaceSplit Punctuation
 *                   Digits Sequence
 *   post-processors TemplateProcessing ByteLevel BertProcessing RobertaProcessing Sequence
 *   decoders        ByteLevel Metaspace WordPiece Replace ByteFallback Fuse Strip BPEDecoder Sequence
 *   added_tokens    matched before the model (lstrip, rstrip, single_word, normalized, special)
 * `tokenizer_config.json` next to the file, when present, names BOS/EOS/PAD/UNK and the chat template.
 *
 * Threads: a loaded vkft_tokenizer is immutable. Encoding needs scratch space and a word cache, held
 * in a vkft_tok_session: one per thread. The vkft_tokenizer_encode() shortcut uses a session owned by the
 * tokenizer, so it must not be called from two threads at once; vkft_tok_encode_batch() uses threads.
 * vkft_tokenizer_add_tokens() changes the tokenizer: not while other threads encode with it.
 *
 * Errors are values: functions return 0 on success, -1 with a message in err (errlen bytes). */
#ifndef VKFT_TOKENIZER_H
#define VKFT_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>

typedef struct vkft_tokenizer vkft_tokenizer;
typedef struct vkft_tok_session vkft_tok_session;

/* A growable array of token ids owned by the caller; reuse it across calls (no allocation once grown).
 * Zero-initialize before first use; free with vkft_tok_ids_free. */
typedef struct {
    int32_t *ids;
    size_t n, cap;
} vkft_tok_ids;

void vkft_tok_ids_free(vkft_tok_ids *v);

/* Loads PATH: a tokenizer.json; GPT-2's classic encoder.json + vocab.bpe (or HF's slow-tokenizer names for
 * them, vocab.json + merges.txt; either file's path) as HF's GPT-2 tokenizer (byte-level BPE, <|endoftext|>
 * special); BERT's vocab.txt as HF's BertTokenizerFast (WordPiece, lowercase unless do_lower_case is false);
 * or a folder holding one of these, searched in that order. tokenizer_config.json beside it is read too. */
int vkft_tokenizer_load(const char *path, vkft_tokenizer **out, char *err, size_t errlen);
/* Loads from an in-memory tokenizer.json; config_json (tokenizer_config.json's text) may be NULL. */
int vkft_tokenizer_load_json(const char *json, size_t len, const char *config_json, const char *name,
                             vkft_tokenizer **out, char *err, size_t errlen);
void vkft_tokenizer_free(vkft_tokenizer *tok);

/* Encodes len bytes of UTF-8 (invalid sequences become U+FFFD, as Hugging Face does). The ids are
 * appended to out (out->n is not reset). add_special applies the post-processor (BOS/CLS/SEP...). */
int vkft_tokenizer_encode(vkft_tokenizer *tok, const char *text, size_t len, int add_special,
                          vkft_tok_ids *out, char *err, size_t errlen);

/* A session: scratch buffers and a word cache for one thread (about 3 MB); NULL when out of memory. */
vkft_tok_session *vkft_tok_session_new(const vkft_tokenizer *tok);
void vkft_tok_session_free(vkft_tok_session *s);
/* As vkft_tokenizer_encode, with the caller's session. */
int vkft_tok_encode(vkft_tok_session *s, const char *text, size_t len, int add_special, vkft_tok_ids *out,
                    char *err, size_t errlen);

/* Encodes a pair of texts (sentence pairs for BERT-style models) with the post-processor's pair template
 * when add_special (e.g. [CLS] A [SEP] B [SEP]), else A then B. type_ids (may be NULL) receives each id's
 * token type (0 for the first part, 1 for the second, as the template says). Both are appended to. */
int vkft_tok_encode_pair(vkft_tok_session *s, const char *a, size_t alen, const char *b, size_t blen,
                         int add_special, vkft_tok_ids *out, vkft_tok_ids *type_ids, char *err,
                         size_t errlen);

/* Encodes n texts with up to n_threads threads (0: all cores); outs[i] receives text i's ids (reset first).
 * One call; for many batches in a row use a pool, which keeps its sessions (and their word caches). */
int vkft_tok_encode_batch(const vkft_tokenizer *tok, const char *const *texts, const size_t *lens, size_t n,
                          int add_special, int n_threads, vkft_tok_ids *outs, char *err, size_t errlen);

/* A pool of per-thread sessions for batch encoding: vkft_tok_pool_encode is vkft_tok_encode_batch with the
 * pool's threads and warm sessions. A pool is used by one caller at a time. */
typedef struct vkft_tok_pool vkft_tok_pool;
vkft_tok_pool *vkft_tok_pool_new(const vkft_tokenizer *tok, int n_threads); /* NULL when out of memory */
int vkft_tok_pool_encode(vkft_tok_pool *p, const char *const *texts, const size_t *lens, size_t n,
                         int add_special, vkft_tok_ids *outs, char *err, size_t errlen);
void vkft_tok_pool_free(vkft_tok_pool *p);

/* Decodes ids to UTF-8 text in a malloc'd, NUL-terminated string (*out; *out_len excludes the NUL).
 * skip_special drops special added tokens (BOS, EOS, ...). Unknown ids are an error. */
int vkft_tokenizer_decode(const vkft_tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
                          char **out, size_t *out_len, char *err, size_t errlen);

/* Vocabulary: size is the largest id + 1 (model vocabulary and added tokens). */
int32_t vkft_tokenizer_vocab_size(const vkft_tokenizer *tok);
/* Token string of id (not NUL-terminated: *len bytes), or NULL when id has no token. */
const char *vkft_tokenizer_id_to_token(const vkft_tokenizer *tok, int32_t id, size_t *len);
/* Id of a token string (added tokens first, then the model's vocabulary), or -1. */
int32_t vkft_tokenizer_token_to_id(const vkft_tokenizer *tok, const char *token, size_t len);
/* 1 when id is a special added token. */
int vkft_tokenizer_is_special(const vkft_tokenizer *tok, int32_t id);

/* Special tokens, from tokenizer_config.json when present, else guessed from common names (<s>, </s>,
 * <|begin_of_text|>, <|endoftext|>, [CLS], [SEP], [PAD], <pad>, [UNK], <unk>, ...); -1 when none. */
typedef struct {
    int32_t bos, eos, pad, unk;
    const char *chat_template; /* NULL when absent; owned by the tokenizer */
} vkft_tok_specials;
vkft_tok_specials vkft_tokenizer_specials(const vkft_tokenizer *tok);

/* Adds tokens at the end of the vocabulary as added tokens, matched in text before the model (so a domain
 * term becomes one token), skipping strings already in the vocabulary. special 0: as HF's add_tokens
 * (matched on normalized text); 1: as add_special_tokens (matched on raw text, dropped by skip_special).
 * Returns the number added (>= 0) or -1. The model's embeddings must grow to vkft_tokenizer_vocab_size. */
int vkft_tokenizer_add_tokens(vkft_tokenizer *tok, const char *const *tokens, const size_t *lens, size_t n,
                              int special, char *err, size_t errlen);

/* Writes the tokenizer as a Hugging Face tokenizer.json (the loaded JSON with the vocabulary and added
 * tokens of this object), atomically. */
int vkft_tokenizer_save(const vkft_tokenizer *tok, const char *path, char *err, size_t errlen);

/* Training (data/tok_train.c), HF's BpeTrainer algorithm. Corpus: the given files, one document per line.
 * The vocabulary holds vocab_size entries at most (specials included), or fewer when no pair is seen
 * min_frequency times any more; WordPiece keeps its whole alphabet (every character seen, with and
 * without "##") even beyond vocab_size. BPE is byte-level (GPT-2 style: ByteLevel
 * pre-tokenizer, decoder and post-processor, all 256 bytes in the alphabet); WordPiece is BERT-style
 * (BertNormalizer lowercase, BertPreTokenizer, [CLS]/[SEP] post-processor, "##" continuation). */
typedef enum { VKFT_TOK_TRAIN_BPE = 0, VKFT_TOK_TRAIN_WORDPIECE = 1 } vkft_tok_train_type;
typedef struct {
    vkft_tok_train_type type;
    int vocab_size;
    int min_frequency;                 /* pairs / words seen fewer times are not merged (default 2) */
    const char *const *special_tokens; /* NULL: defaults per type */
    int n_special;
} vkft_tok_train_opts;
int vkft_tokenizer_train(const vkft_tok_train_opts *opts, const char *const *files, int n_files,
                         vkft_tokenizer **out, char *err, size_t errlen);

#endif
