/* CPU reference of shaders/softmax_xent.comp (cross-entropy with softmax), in double. */
#ifndef VKFT_XENT_REF_H
#define VKFT_XENT_REF_H
#include <stddef.h>
#include <stdint.h>

/* PyTorch's F.cross_entropy(reduction='mean', weight, ignore_index, label_smoothing); weight may be NULL.
 * Writes row_loss[N] (unnormalized, 0 on ignored or invalid rows) and, if dlogits is not NULL, the
 * gradient of grad_scale * mean. Returns the mean (0 when no row counts); *denom receives D if not NULL. */
double cross_entropy_ref(const double *logits, const int32_t *targets, const double *weight, size_t N,
                         size_t V, int32_t ignore_index, double label_smoothing, double grad_scale,
                         double *row_loss, double *dlogits, double *denom);
#endif
