/* SMOTE (Chawla et al. 2002) on feature vectors, for `vkft data balance --mode smote`: a class below its
 * target gets synthetic rows x = a + lambda (b - a), a one of its real rows (taken in turn, so every row
 * seeds about the same number), b one of a's k nearest neighbours of the same class (squared Euclidean
 * distance, ties to the lower row), picked at random, lambda uniform in [0, 1). Deterministic for a
 * seed. No GPU: the features come from the caller (tools/ computes them with a model). */
#ifndef VKFT_DATA_SMOTE_H
#define VKFT_DATA_SMOTE_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    long a, b;    /* the real rows interpolated */
    float lambda; /* x = a + lambda (b - a) */
    int label;
} vkft_smote_row;

/* X [n, h] with labels y[n] in 0..k_classes-1; target[c]: rows wanted for class c (classes already at or
 * above it get none). Writes the synthetic rows' features to out (sum of the deficits x h floats) and
 * their origin to rows; returns how many were made, or -1 with err (a class that needs rows has fewer
 * than 2). k: neighbours (default 5; fewer when the class is smaller). */
long vkft_smote(const float *X, const int *y, long n, int h, int k_classes, const long *target, int k,
                uint64_t seed, float *out, vkft_smote_row *rows, char *err, size_t errlen);
/* Rows vkft_smote will make for these targets (to size out and rows). */
long vkft_smote_count(const int *y, long n, int k_classes, const long *target);
#endif
