/* CPU references of shaders/adamw.comp (AdamW step, global gradient norm, clipping), in double. */
#ifndef VKFT_OPTIM_REF_H
#define VKFT_OPTIM_REF_H
#include <stddef.h>

/* sqrt of the sum of squares of g[0..n). */
double grad_norm_ref(const double *g, size_t n);
/* torch.nn.utils.clip_grad_norm_'s coefficient: min(1, max_norm / (norm + 1e-6)); 1 if max_norm <= 0. */
double clip_coef_ref(double norm, double max_norm);
/* One torch.optim.AdamW step t (1-based) with gradients g * coef. */
void adamw_step_ref(double *param, const double *g, double *m, double *v, size_t n, double lr, double beta1,
                    double beta2, double eps, double weight_decay, unsigned step, double coef);
#endif
