/* The interface between `vkft data augment`'s model-driven methods (data/augment.c) and the code that runs
 * a model for them (tools/data_model.c). A header of its own, free of data/'s other types, so that files
 * which also include the runtime (whose vkft_buf is a device buffer) can implement it. */
#ifndef VKFT_DATA_AUGMENT_BACKEND_H
#define VKFT_DATA_AUGMENT_BACKEND_H
#include <stddef.h>
#include <stdint.h>

/* Augmentation methods; the last three need a model backend. */
enum {
    VKFT_AUG_SR = 0,
    VKFT_AUG_RI,
    VKFT_AUG_RS,
    VKFT_AUG_RD,
    VKFT_AUG_REORDER,
    VKFT_AUG_MLM,
    VKFT_AUG_PARAPHRASE,
    VKFT_AUG_BACKTRANSLATE,
    VKFT_AUG_NMETHODS
};

/* One model call of a model-driven method, filled by the step and answered by the backend. */
typedef struct {
    int method;       /* VKFT_AUG_MLM, _PARAPHRASE or _BACKTRANSLATE  */
    const char *text; /* mlm: the text with n_masks words replaced by the mask token; else the text */
    int n_masks;
    uint64_t seed;    /* generation: the sampler's seed for this copy (backtranslate's return: seed + 1) */
    char *out;        /* malloc'd by the backend, freed by the step. mlm: per mask, candidate words best
                       * first, each NUL-terminated, the mask's list ended by an empty string; generation:
                       * the new text, NUL-terminated */
    size_t out_len;   /* bytes of out (terminators included) */
    int ok;           /* backend: 1 when out holds an answer (0: skipped, e.g. too long) */
} vkft_aug_job;

typedef struct {
    const char *mask_token; /* mlm: the tokenizer's mask token text, e.g. "[MASK]" */
    /* Answers n jobs (batched as the backend likes); returns 0 or -1 with err. */
    int (*run)(void *user, vkft_aug_job *jobs, long n, char *err, size_t errlen);
    void *user;
} vkft_augment_backend;
#endif
