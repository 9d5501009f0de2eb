/* Small helpers shared by the row/elementwise kernel references and their tests (CPU only):
 * float <-> double copies, a comparison and a finite-difference gradient check in fp64. */
#ifndef VKFT_ROWS_REF_H
#define VKFT_ROWS_REF_H
#include <stddef.h>

/* malloc'd copies (n may be 0). */
double *rows_to_double(const float *x, size_t n);
float *rows_to_float(const double *x, size_t n);
/* Largest |a-b| / max(1, |b|), NaN counting as infinite. */
double rows_max_err(const float *a, const double *b, size_t n);

/* A scalar function of x: writes f(x) (any number of outputs) and returns L = sum_k out_k * r_k for the
 * fixed random weights r the caller bound into ctx. */
typedef double (*rows_loss_fn)(void *ctx, const double *x);
/* Central differences of loss at x (modified in place and restored), compared with grad: returns the
 * largest |fd - grad| / max(1, |grad|) over the n inputs (or over `stride`-spaced samples of them). */
double rows_fd_check(rows_loss_fn loss, void *ctx, double *x, const double *grad, size_t n, size_t stride,
                     double h);
#endif
