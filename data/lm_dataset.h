/* Language-modelling datasets as token id sequences: plain text (one sequence per line), JSONL with a
 * text field (tokenized with the model's tokenizer), or pre-tokenized JSONL {"input_ids": [...]}. */
#ifndef VKFT_LM_DATASET_H
#define VKFT_LM_DATASET_H
#include <stddef.h>
#include <stdint.h>

#include "data/tokenizer.h"

typedef struct {
    int32_t **seqs;
    uint32_t *lens;
    size_t n;
    uint64_t tokens;
    long empty_lines; /* lines with no tokens, skipped */
} vkft_lm_data;

/* Loads every sequence of path. tok may be NULL when the file is pre-tokenized; text is encoded with
 * the tokenizer's special tokens (add_special) as Hugging Face's tokenizer(text) does. Ids must be in
 * [0, vocab_size) (vocab_size 0: not checked). Malformed lines are errors naming the file and line. */
int vkft_lm_data_load(const char *path, vkft_tokenizer *tok, const char *text_field, int add_special,
                      uint32_t vocab_size, vkft_lm_data *out, char *err, size_t errlen);
void vkft_lm_data_free(vkft_lm_data *d);
#endif
