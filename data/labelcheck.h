/* Labels a quick model disagrees with, for `vkft data report --model`: a multinomial logistic regression
 * (softmax, L2-regularized, bias unregularized) on standardized feature vectors, trained with Nesterov-
 * accelerated gradient descent at step 1/L (L: Boehning's bound 0.5 * lambda_max(X^T X / n) + l2, found by
 * power iteration), evaluated with stratified k-fold cross-validation: every row gets class
 * probabilities from the model trained on the other folds. A row is flagged when the out-of-fold
 * prediction differs from its label with probability >= threshold. No GPU; the features come from the
 * caller (tools/ computes them with a model). */
#ifndef VKFT_DATA_LABELCHECK_H
#define VKFT_DATA_LABELCHECK_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int folds;        /* default 5 (fewer when a class is smaller: at least 2) */
    double l2;        /* default 1e-2 */
    int iters;        /* gradient steps per fold (default 300) */
    double threshold; /* flag when p(predicted) >= threshold (default 0.7) */
    uint64_t seed;    /* fold assignment (default 1) */
} vkft_labelcheck_opts;

void vkft_labelcheck_opts_defaults(vkft_labelcheck_opts *o);

/* X [n, h], labels y[n] in 0..k-1. proba [n, k] receives the out-of-fold probabilities. Returns the folds
 * used, or -1 with err. */
int vkft_labelcheck_oof(const float *X, const int *y, long n, int h, int k, const vkft_labelcheck_opts *o,
                        float *proba, char *err, size_t errlen);

/* Trains on rows [n] and predicts m rows of Xt into proba [m, k] (exposed for tests). */
int vkft_logreg_fit_predict(const float *X, const int *y, long n, int h, int k, double l2, int iters,
                            const float *Xt, long m, float *proba, char *err, size_t errlen);
#endif
