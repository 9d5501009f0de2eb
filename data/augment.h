/* augment: text augmentation for `vkft data augment`.
 *
 * Methods (each augmented record uses one; copies cycle through the chosen methods):
 *   sr  synonym replacement: n = max(1, rate * words) words that have WordNet synonyms are replaced
 *   ri  random insertion: a synonym of a random word is inserted at a random position, n times
 *   rs  random swap: two random words swap places, n times
 *   rd  random deletion: each word is deleted with probability rate (if all would go, no copy is made)
 *   reorder  the sentences of the text are shuffled (texts with one sentence are skipped)
 * (EDA: Wei and Zou 2019.) Protected terms (a user list of words or phrases, case-insensitive) are
 * never replaced, deleted or used for insertion. Words keep their surrounding punctuation and the case
 * of their first letter. Every augmented record is a copy of its source with the text replaced and a
 * provenance object {"source": "FILE:LINE", "source_index": N, "method": "sr"} under --provenance-field;
 * originals are written too. Copies per record: a number, per class (LABEL=N), or "minority" (each
 * class is raised towards the largest class, capped by max_copies). Deterministic for a seed.
 * Model-driven methods run through a backend the caller supplies (tools/data_model.c, on vkft's model
 * API; data/ itself needs no GPU):
 *   mlm  contextual substitution: n = max(1, rate * words) eligible words are replaced by the backend's
 *        mask token (all at once), the masked LM returns whole-word candidates per mask, best first;
 *        one of the first top_k that is not the original word nor a protected term is picked with the
 *        copy's generator (top_k 1: the model's best)
 *   paraphrase, backtranslate  the backend rewrites the text with a causal LM and prompt templates
 * With a model method the step reads the input twice: the first pass keeps the texts, the model work
 * is done for all records in batches between the passes, the second pass writes. */
#ifndef VKFT_DATA_AUGMENT_H
#define VKFT_DATA_AUGMENT_H
#include <stdint.h>

#include "data/augment_backend.h"
#include "data/step.h"
#include "data/wordnet.h"

/* 1 for the methods that need a model backend (mlm, paraphrase, backtranslate). */
int vkft_augment_method_needs_model(int m);



#define VKFT_AUG_MAX_CLASS_RULES 64

typedef struct {
    int methods[VKFT_AUG_NMETHODS]; /* the order to cycle through */
    int n_methods;                  /* default: sr, ri, rs, rd */
    double rate;                    /* words changed per op (sr/ri/rs) and deletion probability; 0.1 */
    int copies;                     /* copies per record (default 1) */
    int minority;                   /* copies per class from the counts (raise classes to the largest) */
    int max_copies;                 /* cap for minority mode (default 8) */
    struct {
        char label[128];
        int copies;
    } per_class[VKFT_AUG_MAX_CLASS_RULES];
    int n_per_class;              /* when given, other classes get 0 copies */
    const char *protected_file;   /* one term or phrase per line */
    const char *const *protected_terms; /* more terms or phrases (e.g. from the command line) */
    int n_protected_terms;
    const char *wordnet_dir;      /* NULL: default */
    int max_senses;               /* WordNet senses per part of speech (default 2) */
    const char *provenance_field; /* default "augmentation" */
    uint64_t seed;
    int top_k;                           /* mlm: pick among this many candidates (default 5) */
    const vkft_augment_backend *backend; /* needed by model-driven methods */
} vkft_augment_opts;

void vkft_augment_opts_defaults(vkft_augment_opts *o);
/* Parses "sr,ri,rs,rd,reorder,mlm,paraphrase,backtranslate" into o->methods. */
int vkft_augment_parse_methods(vkft_augment_opts *o, const char *list, char *err, size_t errlen);
const char *vkft_augment_method_name(int m);

typedef struct vkft_augmenter vkft_augmenter;
/* wn may be NULL (sr and ri then find no synonyms). */
int vkft_augmenter_new(vkft_augmenter **a, const vkft_augment_opts *o, char *err, size_t errlen);
void vkft_augmenter_free(vkft_augmenter *a);
/* Adds a protected term (case-insensitive; phrases of several words allowed). */
int vkft_augmenter_protect(vkft_augmenter *a, const char *term);
/* Applies one method to text into out; returns 1 when the text changed, 0 when the method could not
 * apply (no synonyms, one sentence...), -1 on error. rng is the caller's state. */
int vkft_augment_text(vkft_augmenter *a, int method, const char *text, vkft_buf *out, uint64_t *rng);

typedef struct vkft_augment_step vkft_augment_step;
int vkft_augment_step_new(vkft_augment_step **s, const vkft_augment_opts *o, const char *text_field,
                          const char *label_field, vkft_step *step, char *err, size_t errlen);
void vkft_augment_step_free(vkft_augment_step *s);
#endif
