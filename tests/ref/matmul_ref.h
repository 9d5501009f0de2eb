/* CPU reference of the matmul family (shaders/matmul*.comp): row-major, accumulated in double. */
#ifndef VKFT_MATMUL_REF_H
#define VKFT_MATMUL_REF_H
#include <stddef.h>
#include <stdint.h>

/* form: 0 NN (C = A.B, A[M,K], B[K,N]), 1 NT (C = A.B^T, B[N,K]), 2 TN (C = A^T.B, A[K,M]).
 * C[m*ldc+n] = alpha * sum_k A(m,k) B(k,n) + (bias ? bias[n] : 0) + beta * C[m*ldc+n]
 * (C is not read when beta == 0). */
void matmul_ref(int form, const float *A, const float *B, float *C, int M, int N, int K, int lda, int ldb,
                int ldc, float alpha, float beta, const float *bias);
/* The same in double throughout (for finite-difference checks of the layers built on it). */
void matmul_ref_f64(int form, const double *A, const double *B, double *C, int M, int N, int K, double alpha,
                    double beta);

/* IEEE half and bfloat16 conversions, round to nearest even (the formats of frozen weights). */
uint16_t f32_to_f16(float x);
float f16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float x);
float bf16_to_f32(uint16_t h);
#endif
