/* CPU reference of shaders/softmax.comp, in double (also used for finite-difference checks). */
#ifndef VKFT_SOFTMAX_REF_H
#define VKFT_SOFTMAX_REF_H
#include <stddef.h>

/* See model/ops_softmax.h for the meaning of causal and q_len. */
void softmax_forward_ref(const double *x, double *y, size_t rows, size_t cols, double scale, int causal,
                         size_t q_len);
void softmax_backward_ref(const double *y, const double *dy, double *dx, size_t rows, size_t cols,
                          double scale, int causal, size_t q_len);
#endif
