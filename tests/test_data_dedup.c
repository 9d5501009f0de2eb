/* dedup: exact duplicates after normalization, near duplicates by MinHash/LSH, LSH parameters,
 * MinHash estimates against true Jaccard similarities, multi-byte text, keep-first semantics. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dedup.h"
#include "tests/test_util.h"

static const char *words[] = {"river", "stone", "maple", "cloud", "paper", "light", "green", "quiet",
                              "north", "table", "glass", "ocean", "metal", "house", "bread", "field",
                              "sugar", "plant", "storm", "night", "chair", "smile", "money", "train",
                              "value", "water", "dream", "horse", "music", "fruit", "earth", "steel"};

/* A document of n pseudo-random words. */
static void make_doc(char *out, int n, uint64_t seed) {
    out[0] = 0;
    uint64_t s = seed;
    for (int i = 0; i < n; i++) {
        strcat(out, words[test_rand_u64(&s) % 32]);
        strcat(out, i + 1 < n ? " " : ".");
    }
}

/* True Jaccard of word-k-shingle sets (small texts; quadratic). */
static double true_jaccard(const char *a, const char *b, int k) {
    char *wa[512], *wb[512], ca[8192], cb[8192];
    int na = 0, nb = 0;
    strcpy(ca, a);
    strcpy(cb, b);
    for (char *p = strtok(ca, " ."); p; p = strtok(NULL, " .")) wa[na++] = p;
    for (char *p = strtok(cb, " ."); p; p = strtok(NULL, " .")) wb[nb++] = p;
    char sa[512][128], sb[512][128];
    int ka = 0, kb = 0;
    for (int i = 0; i + k <= na; i++) {
        sa[ka][0] = 0;
        for (int j = 0; j < k; j++) strcat(strcat(sa[ka], wa[i + j]), " ");
        int dup = 0;
        for (int q = 0; q < ka; q++) dup |= !strcmp(sa[q], sa[ka]);
        if (!dup) ka++;
    }
    for (int i = 0; i + k <= nb; i++) {
        sb[kb][0] = 0;
        for (int j = 0; j < k; j++) strcat(strcat(sb[kb], wb[i + j]), " ");
        int dup = 0;
        for (int q = 0; q < kb; q++) dup |= !strcmp(sb[q], sb[kb]);
        if (!dup) kb++;
    }
    int inter = 0;
    for (int i = 0; i < ka; i++)
        for (int j = 0; j < kb; j++)
            if (!strcmp(sa[i], sb[j])) {
                inter++;
                break;
            }
    return (double)inter / (ka + kb - inter);
}

/* Replaces the word number idx of doc (0-based) by w. */
static void replace_word(char *doc, int idx, const char *w) {
    char out[8192] = "", *save, tmp[8192];
    strcpy(tmp, doc);
    int i = 0;
    for (char *p = strtok_r(tmp, " ", &save); p; p = strtok_r(NULL, " ", &save), i++) {
        if (i) strcat(out, " ");
        strcat(out, i == idx ? w : p);
    }
    strcpy(doc, out);
}

int main(void) {
    test_state t;
    test_begin(&t, "test_data_dedup");
    int b, r;
    vkft_lsh_params(0.8, 128, 0.5, &b, &r);
    printf("LSH params for threshold 0.8, 128 permutations, equal weights: b=%d r=%d\n", b, r);
    CHECK(&t, b == 9 && r == 13, "equal weights give datasketch's 9 x 13 for 0.8 / 128");
    vkft_lsh_params(0.8, 128, 0.9, &b, &r);
    printf("LSH params for threshold 0.8, 128 permutations, recall-weighted: b=%d r=%d\n", b, r);
    CHECK(&t, b == 14 && r == 9, "recall-weighted: 14 x 9");
    vkft_lsh_params(0.5, 128, 0.5, &b, &r);
    printf("LSH params for threshold 0.5, 128 permutations: b=%d r=%d\n", b, r);

    vkft_dedup_opts o;
    vkft_dedup_opts_defaults(&o);
    vkft_deduper *d;
    char err[256];
    CHECK(&t, vkft_deduper_new(&d, &o, err, sizeof err) == 0, "new");
    long of;
    double sim;
    const char *a = "The quick brown fox jumps over the lazy dog near the river bank.";
    CHECK(&t, vkft_deduper_check(d, a, strlen(a), &of, &sim) == VKFT_DUP_NONE, "first is new");
    const char *a2 = "  the QUICK brown fox\tjumps over the lazy dog near the river bank.\n";
    CHECK(&t, vkft_deduper_check(d, a2, strlen(a2), &of, &sim) == VKFT_DUP_EXACT && of == 0,
          "case and whitespace variant is an exact duplicate of #0");
    const char *a3 = "The quick brown fox jumps over the lazy dog near the river bank!";
    CHECK(&t, vkft_deduper_check(d, a3, strlen(a3), &of, &sim) == VKFT_DUP_NEAR && of == 0,
          "punctuation variant is a near duplicate (sim %.2f)", sim);
    const char *u =
        "Le caf\xC3\xA9 est tr\xC3\xA8s bon et le th\xC3\xA9 aussi, dit-elle \xC3\xA0 Z\xC3\xBCrich.";
    const char *u2 =
        "LE CAF\xC3\x89 EST TR\xC3\x88S BON ET LE TH\xC3\x89 AUSSI, DIT-ELLE \xC3\x80 Z\xC3\x9CRICH.";
    CHECK(&t, vkft_deduper_check(d, u, strlen(u), &of, &sim) == VKFT_DUP_NONE, "multi-byte text is new");
    CHECK(&t, vkft_deduper_check(d, u2, strlen(u2), &of, &sim) == VKFT_DUP_EXACT && of == 1,
          "upper-cased multi-byte text is an exact duplicate (case folding beyond ASCII)");

    /* near duplicates of 100-word documents: 1 and 2 words changed are caught; 15 are not */
    char base[8192], v[8192];
    make_doc(base, 100, 42);
    CHECK(&t, vkft_deduper_check(d, base, strlen(base), &of, &sim) == VKFT_DUP_NONE, "base doc new");
    strcpy(v, base);
    replace_word(v, 50, "zebra");
    double tj = true_jaccard(base, v, 5);
    int rc = vkft_deduper_check(d, v, strlen(v), &of, &sim);
    CHECK(&t, rc == VKFT_DUP_NEAR && of == 2, "one word changed: near duplicate (true J %.3f, est %.3f)", tj,
          sim);
    CHECK(&t, fabs(sim - tj) < 0.12, "estimate %.3f close to true %.3f", sim, tj);
    strcpy(v, base);
    for (int i = 0; i < 15; i++) replace_word(v, 3 + i * 6, "zebra");
    tj = true_jaccard(base, v, 5);
    rc = vkft_deduper_check(d, v, strlen(v), &of, &sim);
    CHECK(&t, rc == VKFT_DUP_NONE, "15 words changed (true J %.3f) is not a near duplicate at 0.8", tj);

    /* unrelated documents: no false positives among 300 */
    int fp = 0;
    for (int i = 0; i < 300; i++) {
        make_doc(v, 80, 1000 + (uint64_t)i);
        if (vkft_deduper_check(d, v, strlen(v), &of, &sim) != VKFT_DUP_NONE) fp++;
    }
    CHECK(&t, fp == 0, "no false positives among 300 unrelated docs (got %d)", fp);

    /* MinHash estimate accuracy over a range of similarities */
    double maxerr = 0;
    uint32_t s1[128], s2[128];
    for (int m = 1; m <= 40; m += 3) {
        make_doc(base, 120, 7);
        strcpy(v, base);
        for (int i = 0; i < m; i++) replace_word(v, (i * 37) % 120, "zebra");
        tj = true_jaccard(base, v, 5);
        vkft_minhash(d, base, strlen(base), s1);
        vkft_minhash(d, v, strlen(v), s2);
        int eq = 0;
        for (int i = 0; i < 128; i++) eq += s1[i] == s2[i];
        double est = eq / 128.0;
        if (fabs(est - tj) > maxerr) maxerr = fabs(est - tj);
    }
    printf("MinHash (128 perm) max |estimate - true Jaccard| over 14 pairs: %.3f\n", maxerr);
    CHECK(&t, maxerr < 0.15, "MinHash estimate within 0.15 of the true Jaccard");

    long kept, cand, rej;
    vkft_deduper_stats(d, &kept, &cand, &rej, NULL);
    printf("kept %ld, candidates verified %ld, rejected %ld\n", kept, cand, rej);
    vkft_deduper_free(d);

    /* exact-only mode ignores near duplicates; character shingles work on CJK without spaces */
    o.near = 0;
    CHECK(&t, vkft_deduper_new(&d, &o, err, sizeof err) == 0, "exact-only");
    vkft_deduper_check(d, a, strlen(a), &of, &sim);
    CHECK(&t, vkft_deduper_check(d, a3, strlen(a3), &of, &sim) == VKFT_DUP_NONE,
          "exact-only keeps near dups");
    vkft_deduper_free(d);
    vkft_dedup_opts_defaults(&o);
    o.char_shingles = 1;
    o.shingle = 3;
    CHECK(&t, vkft_deduper_new(&d, &o, err, sizeof err) == 0, "char shingles");
    const char *c1 = "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE6\x96\x87\xE7\xAB\xA0\xE3\x81\xAF"
                     "\xE7\xA9\xBA\xE7\x99\xBD\xE3\x81\x8C\xE3\x81\xAA\xE3\x81\x84\xE3\x81\xAE\xE3\x81\xA7"
                     "\xE6\x96\x87\xE5\xAD\x97\xE3\x81\xA7\xE5\x88\x86\xE3\x81\x91\xE3\x82\x8B\xE3\x80\x82";
    char c2[256];
    snprintf(c2, sizeof c2, "%s\xE3\x81\xAD", c1); /* one character appended */
    vkft_deduper_check(d, c1, strlen(c1), &of, &sim);
    CHECK(&t, vkft_deduper_check(d, c2, strlen(c2), &of, &sim) == VKFT_DUP_NEAR,
          "CJK text with one character appended is a near duplicate by character shingles");
    vkft_deduper_free(d);
    o.num_perm = 0;
    CHECK(&t, vkft_deduper_new(&d, &o, err, sizeof err) == -1 && strstr(err, "num-perm"),
          "bad num_perm refused");
    return test_finish(&t);
}
