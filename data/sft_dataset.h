/* Instruction datasets for supervised fine-tuning: each example becomes one token sequence with a mask
 * of the tokens the loss is computed on (the responses), from two JSONL formats:
 *
 *   alpaca    {"instruction": ..., "input": ... (optional), "output": ...}
 *             prompt: the Stanford Alpaca template (below); response: output + EOS
 *   messages  {"messages": [{"role": "system"|"user"|"assistant", "content": ...}, ...]}
 *             ChatML: "<|im_start|>ROLE\nCONTENT<|im_end|>\n" per message; the loss covers each assistant
 *             message's content and its "<|im_end|>"
 *
 * These are vkft's documented default templates (docs/config.md). With a chat template (a tokenizer's
 * Jinja "chat_template", or a .jinja file) the record's messages are rendered with it instead (alpaca: a
 * user message "instruction" or "instruction\n\ninput", then an assistant message "output"), and the
 * loss covers each assistant message's response as the template writes it (vkft_chat_template_render). */
#ifndef VKFT_SFT_DATASET_H
#define VKFT_SFT_DATASET_H
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

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

/* A chat template ready for instruction data: parsed, with the tokenizer's special tokens (bos_token,
 * eos_token, pad_token, unk_token) as variables. name says where it came from, for messages. */
typedef struct vkft_chat_template vkft_chat_template;
int vkft_chat_template_new(const char *text, const char *name, const vkft_tokenizer *tok, vkft_chat_template **out,
                           char *err, size_t errlen);
void vkft_chat_template_free(vkft_chat_template *ct);

/* Renders a conversation (messages: a JSON array of {"role", "content", ...}) as one text (*text, malloc'd,
 * *len bytes) and finds each assistant message's response in it: spans[2k] and spans[2k+1] are the byte
 * offsets [start, end) of the k-th (*nspans spans, malloc'd). How: the text is the conversation rendered with
 * add_generation_prompt false. The response of messages[i] starts where messages[0..i) rendered with
 * add_generation_prompt true ends (the prompt the model answers), and ends where messages[0..i] rendered
 * ends, less what the template writes after any conversation (what it renders for no messages, when that
 * closes the text too, e.g. a generation prompt it always adds), less trailing whitespace (the newline after
 * an end-of-turn token is never generated). Both renders must be prefixes of the whole conversation's: a
 * template that breaks this is an error naming messages[i]. */
int vkft_chat_template_render(const vkft_chat_template *ct, const cJSON *messages, char **text, size_t *len,
                              size_t **spans, size_t *nspans, char *err, size_t errlen);

/* Loads path; sequences longer than max_len are cut (a warning count is kept in *truncated). Malformed
 * lines are errors naming the file, line and field. eos < 0: no EOS after alpaca responses. ct NULL: the
 * default templates; else the records are rendered with ct and tokenized as the template writes them (no
 * BOS or EOS added: templates write their own, as transformers' apply_chat_template has them do). */
int vkft_sft_data_load(const char *path, vkft_sft_format fmt, vkft_tokenizer *tok, int32_t eos, uint32_t max_len,
                       uint32_t vocab_size, const vkft_chat_template *ct, vkft_sft_data *out, long *truncated,
                       char *err, size_t errlen);
void vkft_sft_data_free(vkft_sft_data *d);
#endif
