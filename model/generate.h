/* Text generation with a KV cache, for the causal architectures (GPT-2 and the Llama family).
 *
 * A vkft_decoder holds per-layer key and value caches [B, max_len, Hkv, D] on the device and the
 * activations of up to B * max_len rows. vkft_decoder_prefill() runs a prompt of P tokens per sequence
 * through the model at once (causal flash attention over the prompt, its keys and values written to the
 * cache; from an empty cache) and vkft_decoder_step() one token per sequence (attention of that token
 * against every cached position). Both leave the logits of the last position of each sequence.
 * Every call is one recording and one submission.
 *
 * Sampling runs on the CPU from the logits: greedy (argmax, lowest id on ties), or temperature, top-k
 * and top-p (nucleus) with a seeded generator (splitmix64 / xoshiro256**), so a seed repeats its
 * output. vkft_generate() ties them together for one sequence, stopping at EOS or max_new_tokens. */
#ifndef VKFT_GENERATE_H
#define VKFT_GENERATE_H
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

typedef struct vkft_decoder vkft_decoder;

/* A decoder for B sequences of up to max_len positions (prompt + generated). Fails (error on the
 * model's context) for BERT, or when max_len exceeds GPT-2's learned positions. */
int vkft_decoder_create(vkft_model *m, uint32_t B, uint32_t max_len, vkft_decoder **out);
void vkft_decoder_free(vkft_decoder *d);
/* Empties the caches (the next call starts at position 0). */
void vkft_decoder_reset(vkft_decoder *d);
/* Positions already in the cache. */
uint32_t vkft_decoder_length(const vkft_decoder *d);
uint32_t vkft_decoder_capacity(const vkft_decoder *d);

/* Feeds P tokens per sequence (ids [B, P], row-major) and writes the logits of the last one
 * (logits [B, V], may be NULL). From an empty cache the prompt is processed at once; otherwise (or
 * when the head dim has no flash-attention kernel) token by token. */
int vkft_decoder_prefill(vkft_decoder *d, const int32_t *ids, uint32_t P, float *logits);
/* Feeds one token per sequence (ids [B]) at the next position and writes the logits [B, V] (may be
 * NULL) that predict the token after it. */
int vkft_decoder_step(vkft_decoder *d, const int32_t *ids, float *logits);

/* ---- sampling ---------------------------------------------------------------------------------- */

typedef struct {
    int greedy;        /* 1: argmax (the other fields are ignored) */
    float temperature; /* > 0; 1: the model's distribution */
    uint32_t top_k;    /* 0: off */
    float top_p;       /* (0, 1]; 1: off */
    uint64_t seed;
} vkft_sampling;

/* greedy 0, temperature 1, top_k 0, top_p 1, seed 0. */
vkft_sampling vkft_sampling_default(void);

typedef struct vkft_sampler vkft_sampler;
/* A sampler for a vocabulary of V entries (holds its scratch and the generator's state). */
vkft_sampler *vkft_sampler_create(uint32_t V, const vkft_sampling *s);
void vkft_sampler_free(vkft_sampler *s);
/* Picks a token id from logits [V] (not modified). */
int32_t vkft_sample(vkft_sampler *s, const float *logits);
/* Checks the settings; returns NULL when valid, else a message. */
const char *vkft_sampling_check(const vkft_sampling *s);

/* ---- one sequence, end to end --------------------------------------------------------------------- */

typedef struct {
    uint32_t max_new_tokens;
    const int32_t *eos_ids; /* generation stops after producing one of these (the EOS id is kept) */
    uint32_t n_eos;
    vkft_sampling sampling;
    /* Called with each generated id as soon as it is known; a nonzero return stops generation. */
    int (*on_token)(void *user, int32_t id);
    void *user;
} vkft_generate_opts;

typedef struct {
    uint32_t n_new;        /* generated tokens written to out */
    int stopped_at_eos;
    double prefill_s, decode_s; /* wall-clock seconds of the prompt and of the generated tokens */
} vkft_generate_stats;

/* Generates up to opts->max_new_tokens tokens after prompt[P] with a decoder of B = 1 (reset first);
 * out receives them (room for max_new_tokens). */
int vkft_generate(vkft_decoder *d, const int32_t *prompt, uint32_t P, const vkft_generate_opts *opts, int32_t *out,
                  vkft_generate_stats *stats);
#endif
