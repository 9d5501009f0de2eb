/* The model-driven parts of `vkft data`: a Hugging Face model folder opened on the device, batched
 * forward passes for sentence embeddings (balance --mode smote, report --model) and masked-LM
 * candidates (augment mlm), and KV-cached generation through prompt templates (augment paraphrase,
 * backtranslate). It lives in tools/ because data/ must not need a GPU: data/ defines the backend
 * interface (data/augment.h) and the host-side math (data/smote.h, data/labelcheck.h), this file runs
 * the model behind them. Errors are printed here (tools/ prints), and returned as values. This header
 * includes no model/ or runtime/ header, so that files using data/'s types (whose vkft_buf differs from
 * the runtime's) can include it. */
#ifndef VKFT_TOOLS_DATA_MODEL_H
#define VKFT_TOOLS_DATA_MODEL_H
#include <stdint.h>

#include "data/augment_backend.h"

enum { DM_POOL_MEAN = 0, DM_POOL_CLS };
enum { DM_FOR_EMBED = 0, DM_FOR_MLM, DM_FOR_GENERATE };

typedef struct {
    const char *dir;
    const char *device;   /* NULL: $VKFT_DEVICE or the best */
    uint32_t batch;       /* texts per forward pass (default 8) */
    uint32_t max_tokens;  /* inputs are cut to this many tokens (default and cap: the model's positions) */
    int quiet;            /* no progress bar */
    /* generation */
    uint32_t max_new_tokens;                      /* default 48 */
    float temperature;                            /* 0: greedy (default 0.8) */
    float top_p;                                  /* default 0.95 */
    uint32_t top_k;                               /* 0: off (default) */
    const char *template_text, *template_back;    /* NULL: the defaults below */
    const char *pivot, *source_lang;              /* back-translation languages (French, English) */
} data_model_opts;

void data_model_opts_defaults(data_model_opts *o);

/* Default prompt templates: {text} is the text, {lang} the target language. */
extern const char data_model_paraphrase_template[];
extern const char data_model_translate_template[];

typedef struct data_model data_model;
/* Opens the device, the model and its tokenizer, and checks the model fits the use (DM_FOR_*): mlm needs
 * a BERT checkpoint with its masked-LM head, generation a causal LM. Prints the error; returns 0 or 1. */
int data_model_open(data_model **out, const data_model_opts *o, int use);
/* Frees everything; returns 1 when the device reported validation messages. */
int data_model_close(data_model *dm);
uint32_t data_model_hidden(const data_model *dm);
const char *data_model_name(const data_model *dm);

/* Sentence embeddings of n texts into out [n, hidden]: the last hidden state (transformers'
 * last_hidden_state) averaged over the text's tokens (special tokens included, padding not), or its first
 * token ([CLS]) with DM_POOL_CLS. Texts are tokenized with the model's tokenizer (special tokens added)
 * and cut to max_tokens; batches of similar length share a forward pass. Returns 0 or -1 with err. */
int data_model_embed(data_model *dm, const char *const *texts, long n, int pooling, float *out, char *err,
                     size_t errlen);

/* The augmentation backend answering vkft_aug_job (data/augment_backend.h) with this model. */
void data_model_backend(data_model *dm, vkft_augment_backend *b);

/* Statistics of the work done, for summaries: texts, tokens, seconds. */
typedef struct {
    long texts, tokens, generated, skipped_too_long;
    double seconds;
} data_model_stats;
data_model_stats data_model_get_stats(const data_model *dm);
#endif
