/* CPU references of shaders/norm.comp (layernorm, rmsnorm), in double. */
#ifndef VKFT_NORM_REF_H
#define VKFT_NORM_REF_H
#include <stddef.h>

/* b may be NULL (no bias); mean and rstd receive one value per row. */
void layernorm_forward_ref(const double *x, const double *w, const double *b, double *y, double *mean,
                           double *rstd, size_t rows, size_t C, double eps);
/* dx, dw, db written (not accumulated); any of them may be NULL. */
void layernorm_backward_ref(const double *x, const double *w, const double *mean, const double *rstd,
                            const double *dy, double *dx, double *dw, double *db, size_t rows, size_t C);
void rmsnorm_forward_ref(const double *x, const double *w, double *y, double *rstd, size_t rows, size_t C,
                         double eps);
void rmsnorm_backward_ref(const double *x, const double *w, const double *rstd, const double *dy, double *dx,
                          double *dw, size_t rows, size_t C);
#endif
