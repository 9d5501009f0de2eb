/* CPU references of the PEFT layers (model/ops_lora.c), in double. Row-major; x and y are [T, in] and
 * [T, out]; W [out, in] (frozen), A [r, in], B [out, r], s = alpha / r.
 *   LoRA:    y = x W^T + bias + s (x A^T) B^T
 *   adapter: y = h + up(act(down(h))), down: Wd [r, C], bd [r]; up: Wu [C, r], bu [C]; act 0 relu, 1 gelu
 * (tanh) DoRA:    y = g * (x W^T + s (x A^T) B^T) + bias, g[o] = m[o] / n[o], n[o] = ||W[o,:] + s (B
 * A)[o,:]|| (PEFT: the norm is treated as a constant in backward) */
#ifndef VKFT_LORA_REF_H
#define VKFT_LORA_REF_H

/* h [T, r] = x A^T is returned for the backward (may be NULL). bias may be NULL. */
void lora_forward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                      const double *bias, const double *A, const double *B, double *h, double *y);
/* dx may be NULL. */
void lora_backward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                       const double *A, const double *B, const double *dy, double *dx, double *dA,
                       double *dB);

/* z [T, r] (pre-activation) may be NULL. */
void adapter_forward_ref(int T, int C, int r, int act, const double *h, const double *Wd, const double *bd,
                         const double *Wu, const double *bu, double *z, double *y);
void adapter_backward_ref(int T, int C, int r, int act, const double *h, const double *Wd, const double *bd,
                          const double *Wu, const double *dy, double *dh, double *dWd, double *dbd,
                          double *dWu, double *dbu);
double act_ref(int act, double z);
double act_grad_ref(int act, double z);

/* n_fixed: NULL computes the norms; else they are used as given (the finite-difference check of the
 * detached-norm gradient). n_out (may be NULL) receives the norms used. */
void dora_forward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                      const double *bias, const double *A, const double *B, const double *m,
                      const double *n_fixed, double *n_out, double *y);
void dora_backward_ref(int T, int in, int out, int r, double s, const double *x, const double *W,
                       const double *A, const double *B, const double *m, const double *dy, double *dx,
                       double *dA, double *dB, double *dm);
#endif
