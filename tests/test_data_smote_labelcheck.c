/* SMOTE and the label check on host-side vectors (data/smote.c, data/labelcheck.c): synthetic rows lie on
 * the segment between a row and one of its k nearest same-class neighbours, the counts reach the targets,
 * the same seed repeats; on well-separated clusters the out-of-fold classifier flags exactly the rows
 * whose labels were changed on purpose. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/labelcheck.h"
#include "data/smote.h"

static int fails;
#define CHECK(c, ...)                                                                                        \
    do {                                                                                                     \
        if (!(c)) {                                                                                          \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                      \
            printf(__VA_ARGS__);                                                                             \
            printf("\n");                                                                                    \
            fails++;                                                                                         \
        }                                                                                                    \
    } while (0)

static double gauss(uint64_t *s) { /* Box-Muller on a small LCG: test data only */
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double u = ((*s >> 11) + 1.0) / 9007199254740994.0;
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    double v = (*s >> 11) / 9007199254740992.0;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static double d2(const float *a, const float *b, int h) {
    double s = 0;
    for (int j = 0; j < h; j++) s += ((double)a[j] - b[j]) * ((double)a[j] - b[j]);
    return s;
}

static void test_smote(void) {
    enum { N = 40, H = 7, K = 3 };
    float X[N * H];
    int y[N];
    uint64_t s = 11;
    for (int i = 0; i < N; i++) {
        y[i] = i < 30 ? 0 : i < 36 ? 1 : 2; /* 30, 6, 4 */
        for (int j = 0; j < H; j++) X[i * H + j] = (float)(gauss(&s) + 5 * y[i]);
    }
    long target[3] = {30, 30, 15};
    long n = vkft_smote_count(y, N, 3, target);
    CHECK(n == 24 + 11, "count %ld", n);
    float *out = malloc(sizeof(float) * (size_t)n * H), *out2 = malloc(sizeof(float) * (size_t)n * H);
    vkft_smote_row *rows = malloc(sizeof *rows * (size_t)n), *rows2 = malloc(sizeof *rows2 * (size_t)n);
    char err[256];
    long made = vkft_smote(X, y, N, H, 3, target, K, 7, out, rows, err, sizeof err);
    CHECK(made == n, "made %ld (%s)", made, err);
    long per[3] = {0};
    double worst = 0;
    for (long r = 0; r < made; r++) {
        long a = rows[r].a, b = rows[r].b;
        int c = rows[r].label;
        per[c]++;
        CHECK(y[a] == c && y[b] == c && a != b, "row %ld: classes", r);
        CHECK(rows[r].lambda >= 0 && rows[r].lambda < 1, "row %ld: lambda %g", r, rows[r].lambda);
        for (int j = 0; j < H; j++) {
            double want = X[a * H + j] + rows[r].lambda * (X[b * H + j] - X[a * H + j]);
            if (fabs(want - out[r * H + j]) > worst) worst = fabs(want - out[r * H + j]);
        }
        /* b is among a's K nearest of the class: fewer than K same-class rows are strictly nearer */
        int nearer = 0;
        for (int i = 0; i < N; i++)
            if (i != a && y[i] == c && d2(X + i * H, X + a * H, H) < d2(X + b * H, X + a * H, H)) nearer++;
        CHECK(nearer < K, "row %ld: neighbour %ld of %ld has %d nearer rows", r, b, a, nearer);
    }
    CHECK(worst < 1e-5, "off the segment by %g", worst);
    CHECK(per[0] == 0 && per[1] == 24 && per[2] == 11, "per class %ld %ld %ld", per[0], per[1], per[2]);
    long made2 = vkft_smote(X, y, N, H, 3, target, K, 7, out2, rows2, err, sizeof err);
    CHECK(made2 == made && !memcmp(out, out2, sizeof(float) * (size_t)n * H), "the same seed differs");
    printf("smote: %ld synthetic rows, max distance from their segment %.2e\n", made, worst);
    y[36] = y[37] = y[38] = 1; /* class 2 left with one row, below its target: refused */
    target[2] = 5;
    CHECK(vkft_smote(X, y, N, H, 3, target, K, 7, out, rows, err, sizeof err) < 0, "one-row class accepted");
    free(out), free(out2), free(rows), free(rows2);
}

static void test_labelcheck(void) {
    enum { N = 90, H = 12, K = 3 };
    float *X = malloc(sizeof(float) * N * H), *p = malloc(sizeof(float) * N * K);
    int y[N];
    uint64_t s = 5;
    float centers[K][H];
    for (int c = 0; c < K; c++)
        for (int j = 0; j < H; j++) centers[c][j] = (float)(4 * gauss(&s));
    for (int i = 0; i < N; i++) {
        y[i] = i % K;
        for (int j = 0; j < H; j++) X[i * H + j] = centers[y[i]][j] + (float)gauss(&s);
    }
    int planted[] = {4, 50, 83};
    for (int k = 0; k < 3; k++) y[planted[k]] = (y[planted[k]] + 1) % K;
    vkft_labelcheck_opts o;
    vkft_labelcheck_opts_defaults(&o);
    char err[256];
    int folds = vkft_labelcheck_oof(X, y, N, H, K, &o, p, err, sizeof err);
    CHECK(folds == 5, "folds %d (%s)", folds, err);
    int flagged = 0, hit = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        for (int c = 1; c < K; c++)
            if (p[i * K + c] > p[i * K + best]) best = c;
        if (best != y[i] && p[i * K + best] >= o.threshold) {
            flagged++;
            for (int k = 0; k < 3; k++) hit += i == planted[k];
        }
    }
    CHECK(flagged == 3 && hit == 3, "flagged %d, of them planted %d", flagged, hit);
    printf("label check: %d flagged, %d of the 3 planted\n", flagged, hit);
    free(X), free(p);
}

int main(void) {
    test_smote();
    test_labelcheck();
    printf("%s\n", fails ? "FAILED" : "ok");
    return fails != 0;
}
