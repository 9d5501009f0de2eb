/* CPU references of shaders/activation.comp, in double. act: 0 relu, 1 gelu_tanh, 2 gelu_erf, 3 silu
 * (the values of vkft_activation). */
#ifndef VKFT_ACTIVATION_REF_H
#define VKFT_ACTIVATION_REF_H
#include <stddef.h>

void activation_forward_ref(int act, const double *x, double *y, size_t n);
void activation_backward_ref(int act, const double *x, const double *dy, double *dx, size_t n);
void swiglu_forward_ref(const double *g, const double *u, double *y, size_t n);
void swiglu_backward_ref(const double *g, const double *u, const double *dy, double *dg, double *du,
                         size_t n);
#endif
