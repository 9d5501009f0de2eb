/* Instruction datasets for supervised fine-tuning: each example becomes one token sequence with a mask
 * of the tokens the loss is computed on (the responses), from two JSONL formats:
 *
 *   alpaca    {"instruction": ..., "input": ... (optional), "output": ...}
 *             prompt: the Stanford Alpaca template (below); response: output + EOS
 *   messages  {"messages": [{"role": "system"|"user"|"assistant", "content": ...}, ...]}
 *             ChatML: "<|im_start|>ROLE\nCONTENT<|im_end|>\n" per message; the loss covers each assistant
 *             message's content and its "<|im_end|>"
 *
 * These are vkft's documented default templates (docs/config.md); a tokenizer's own Jinja chat template
 * is not rendered by this version. */
#ifndef VKFT_SFT_DATASET_H
#define VKFT_SFT_DATASET_H
#include <stddef.h>
#include <stdint.h>

#include "data/tokenizer.h"

typedef struct {
    int32_t **seqs;
    uint8_t **loss_mask; /* 1 where the token is a target (part of a response) */
    uint32_t *lens;
    size_t n;
    uint64_t tokens, target_tokens;
} vkft_sft_data;

typedef enum { VKFT_SFT_ALPACA, VKFT_SFT_MESSAGES } vkft_sft_format;

/* The Alpaca prompt for an instruction and an optional input (input NULL or empty: the shorter form). */
size_t vkft_alpaca_prompt(const char *instruction, const char *input, char *out, size_t n);

/* Loads path; sequences longer than max_len are cut (a warning count is kept in *truncated). Malformed
 * lines are errors naming the file, line and field. eos < 0: no EOS after alpaca responses. */
int vkft_sft_data_load(const char *path, vkft_sft_format fmt, vkft_tokenizer *tok, int32_t eos, uint32_t max_len,
                       uint32_t vocab_size, vkft_sft_data *out, long *truncated, char *err, size_t errlen);
void vkft_sft_data_free(vkft_sft_data *d);
#endif
