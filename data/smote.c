#include "data/smote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_u64(uint64_t *s) { /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

long vkft_smote_count(const int *y, long n, int k_classes, const long *target) {
    long total = 0;
    for (int c = 0; c < k_classes; c++) {
        long nc = 0;
        for (long i = 0; i < n; i++) nc += y[i] == c;
        if (target[c] > nc) total += target[c] - nc;
    }
    return total;
}

static double dist2(const float *a, const float *b, int h) {
    double d = 0;
    for (int j = 0; j < h; j++) {
        double t = (double)a[j] - b[j];
        d += t * t;
    }
    return d;
}

/* The k nearest same-class rows of member i (indices into members), nearest first, into nn. */
static void neighbours(const float *X, int h, const long *members, long nc, long i, int k, long *nn, double *nd) {
    int have = 0;
    for (long j = 0; j < nc; j++) {
        if (j == i) continue;
        double d = dist2(X + members[i] * (size_t)h, X + members[j] * (size_t)h, h);
        if (have == k && d >= nd[k - 1]) continue; /* members ascend, so ties keep the lower row */
        int p = have < k ? have++ : k - 1;
        while (p > 0 && nd[p - 1] > d) {
            nd[p] = nd[p - 1];
            nn[p] = nn[p - 1];
            p--;
        }
        nd[p] = d;
        nn[p] = members[j];
    }
}

long vkft_smote(const float *X, const int *y, long n, int h, int k_classes, const long *target, int k,
                uint64_t seed, float *out, vkft_smote_row *rows, char *err, size_t errlen) {
    if (k < 1) k = 5;
    long made = 0, *members = malloc(sizeof(long) * (size_t)(n ? n : 1));
    long *nn = malloc(sizeof(long) * (size_t)k);
    double *nd = malloc(sizeof(double) * (size_t)k);
    if (!members || !nn || !nd) {
        snprintf(err, errlen, "smote: out of memory");
        made = -1;
        goto done;
    }
    uint64_t rng = seed ^ 0x5a0735a0735ULL;
    for (int c = 0; c < k_classes; c++) {
        long nc = 0;
        for (long i = 0; i < n; i++)
            if (y[i] == c) members[nc++] = i;
        long need = target[c] - nc;
        if (need <= 0) continue;
        if (nc < 2) {
            snprintf(err, errlen, "smote: class %d has %ld row%s; interpolation needs at least 2", c, nc,
                     nc == 1 ? "" : "s");
            made = -1;
            goto done;
        }
        int kk = k < nc - 1 ? k : (int)(nc - 1);
        /* Neighbours are found once per seeding row, when that row is first used. */
        long *table = malloc(sizeof(long) * (size_t)nc * (size_t)kk);
        if (!table) {
            snprintf(err, errlen, "smote: out of memory");
            made = -1;
            goto done;
        }
        for (long j = 0; j < need; j++) {
            long i = j % nc;
            if (j < nc) {
                neighbours(X, h, members, nc, i, kk, nn, nd);
                memcpy(table + i * kk, nn, sizeof(long) * (size_t)kk);
            }
            long a = members[i], b = table[i * kk + (long)(next_u64(&rng) % (uint64_t)kk)];
            float lam = (float)((double)(next_u64(&rng) >> 11) / 9007199254740992.0);
            float *x = out + (size_t)made * (size_t)h;
            const float *xa = X + (size_t)a * (size_t)h, *xb = X + (size_t)b * (size_t)h;
            for (int t = 0; t < h; t++) x[t] = xa[t] + lam * (xb[t] - xa[t]);
            rows[made++] = (vkft_smote_row){a, b, lam, c};
        }
        free(table);
    }
done:
    free(members);
    free(nn);
    free(nd);
    return made;
}
