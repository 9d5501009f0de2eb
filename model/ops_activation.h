/* Elementwise activations on fp32 vectors, forward and backward: ReLU, GELU (tanh approximation and
 * erf), SiLU, and SwiGLU (y = silu(g) * u, as in Llama's MLP). */
#ifndef VKFT_OPS_ACTIVATION_H
#define VKFT_OPS_ACTIVATION_H
#include "runtime/runtime.h"

typedef enum {
    VKFT_ACT_RELU,
    VKFT_ACT_GELU_TANH, /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))): GPT-2's gelu_new */
    VKFT_ACT_GELU_ERF,  /* 0.5 x (1 + erf(x / sqrt(2))): BERT's gelu */
    VKFT_ACT_SILU,
} vkft_activation;

/* y = f(x); x and y may be the same buffer. */
int vkft_activation_forward(vkft_recorder *rec, vkft_activation act, vkft_buf x, vkft_buf y, uint32_t n);
/* dx = f'(x) * dy from the forward's input x; dx may be the same buffer as dy. */
int vkft_activation_backward(vkft_recorder *rec, vkft_activation act, vkft_buf x, vkft_buf dy, vkft_buf dx,
                             uint32_t n);
/* y = silu(g) * u (elementwise over n). */
int vkft_swiglu_forward(vkft_recorder *rec, vkft_buf g, vkft_buf u, vkft_buf y, uint32_t n);
/* dg = dy * u * silu'(g), du = dy * silu(g). */
int vkft_swiglu_backward(vkft_recorder *rec, vkft_buf g, vkft_buf u, vkft_buf dy, vkft_buf dg, vkft_buf du,
                         uint32_t n);
/* "relu", "gelu_tanh", "gelu_erf", "silu" (NULL if out of range). */
const char *vkft_activation_name(vkft_activation act);
/* The kernel definitions: NAME_forward / NAME_backward (and NAME_forward_vec4 / NAME_backward_vec4, 4
 * elements per load) for the names above and "swiglu". */
const vkft_kernel_def *vkft_activation_kernel(const char *name);
#endif
