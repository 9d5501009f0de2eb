/* balance: class balancing by resampling, and class weights, for `vkft data balance`.
 *
 * Two passes over the input: the first counts records per label, the second writes each record a
 * planned number of times. Every class c with n_c records gets a target t_c:
 *   over:  t_c = max(n_c, round(ratio * n_max))   (minority classes duplicated)
 *   under: t_c = min(n_c, round(n_min / ratio))   (majority classes subsampled)
 *   both:  with m = the mean class size, classes above m go down to m, classes below go up to
 *          max(n_c, round(ratio * m))
 * Each record of class c is written floor(t_c / n_c) times, plus once more for exactly t_c mod n_c of
 * them picked by selection sampling (Knuth's algorithm S) with a seed, so the counts are exact and memory
 * is one counter per class. Records without a label pass through unchanged (counted).
 * Class weights (from the input counts): inverse frequency w_c = N / (K n_c), or the effective number
 * of samples (Cui et al. 2019) w_c = (1 - beta) / (1 - beta^n_c), scaled so that the weights average 1
 * over classes; written as a JSON config snippet {"class_weights": {"label": w, ...}}. */
#ifndef VKFT_DATA_BALANCE_H
#define VKFT_DATA_BALANCE_H
#include <stdint.h>

#include "data/step.h"

enum { VKFT_BALANCE_NONE = 0, VKFT_BALANCE_OVER, VKFT_BALANCE_UNDER, VKFT_BALANCE_BOTH };
enum { VKFT_WEIGHTS_INVERSE = 0, VKFT_WEIGHTS_EFFECTIVE };

typedef struct {
    int mode;      /* VKFT_BALANCE_*; NONE only computes weights */
    double ratio;  /* target minority/majority ratio, (0, 1], default 1 */
    uint64_t seed; /* default 1 */
    int weights;   /* VKFT_WEIGHTS_* */
    double beta;   /* effective number, default 0.999 */
} vkft_balance_opts;

void vkft_balance_opts_defaults(vkft_balance_opts *o);

/* Targets for k classes with counts n[] (exposed for tests). */
void vkft_balance_targets(const vkft_balance_opts *o, const long *n, int k, long *t);
/* Class weights for k classes with counts n[]. */
void vkft_class_weights(const vkft_balance_opts *o, const long *n, int k, double *w);

typedef struct vkft_balance_step vkft_balance_step;
int vkft_balance_step_new(vkft_balance_step **s, const vkft_balance_opts *o, const char *label_field,
                          vkft_step *step, char *err, size_t errlen);
/* The class-weights snippet (after the run): {"class_weights": {...}, "counts": {...}, "method": ...}. */
cJSON *vkft_balance_weights_json(const vkft_balance_step *s);
void vkft_balance_step_free(vkft_balance_step *s);

#endif
