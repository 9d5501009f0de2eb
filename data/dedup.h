/* dedup: exact and near-duplicate detection for `vkft data dedup` (and the report).
 *
 * Exact: a 64-bit hash of the normalized text (case-folded, whitespace collapsed, trimmed).
 * Near: MinHash over word shingles (k consecutive words; words are runs of letters/digits, case-
 * folded) or character shingles (k code points of the normalized text), num_perm hash functions
 * h_i(x) = high 32 bits of (a_i * x + b_i) mod 2^64 on a 64-bit shingle hash; LSH with b bands of r
 * rows chosen to minimize the weighted false-positive + false-negative areas at the threshold (as
 * datasketch and text-dedup do, but weighted towards recall because candidates are verified: 14 x 9
 * for 0.8 / 128 instead of their 9 x 13) unless given. Candidates are verified by the Jaccard similarity
 * estimated from stored 4-bit signatures (b-bit MinHash, corrected for chance agreement), so a band collision
 * alone never removes a record (--no-verify turns that off). The first occurrence is kept; only kept records
 * are indexed, so every removed record is similar to a kept one (no chains). Memory per kept record, with the
 * default 128 permutations and 14 bands: about 24 B (exact hash table) + 64 B (4-bit signature) + 14 x 11 B
 * (32-bit band keys at up to 70% load; a key collision only adds a verified candidate) = about 250 B, up to
 * twice that just after the tables double: 2 to 3 million kept records per GB. Without verification, band
 * keys are 64-bit (about 24 B each). */
#ifndef VKFT_DATA_DEDUP_H
#define VKFT_DATA_DEDUP_H
#include <stdint.h>

#include "data/records.h"
#include "data/step.h"

typedef struct {
    int exact, near;        /* both on by default */
    double threshold;       /* Jaccard, default 0.8 */
    int num_perm;           /* default 128 */
    int bands, rows;        /* 0: optimal for threshold */
    int shingle;            /* default 5 */
    int char_shingles;      /* 0: word shingles (default) */
    int verify;             /* default 1 */
    uint64_t seed;          /* default 1 */
    const char *pairs_path; /* optional JSONL: one line per removed record, naming the kept one */
} vkft_dedup_opts;

void vkft_dedup_opts_defaults(vkft_dedup_opts *o);
/* b and r minimizing (1-w)*FP + w*FN areas of the LSH S-curve at threshold (w = fn_weight), with
 * b*r <= num_perm. datasketch and text-dedup use w = 0.5; vkft uses 0.9 when candidates are verified
 * (a false positive then costs one signature comparison, a false negative a kept duplicate). */
void vkft_lsh_params(double threshold, int num_perm, double fn_weight, int *bands, int *rows);

enum { VKFT_DUP_NONE = 0, VKFT_DUP_EXACT = 1, VKFT_DUP_NEAR = 2 };

typedef struct vkft_deduper vkft_deduper;
int vkft_deduper_new(vkft_deduper **d, const vkft_dedup_opts *o, char *err, size_t errlen);
void vkft_deduper_free(vkft_deduper *d);
/* Checks text against the kept texts. Returns VKFT_DUP_* (and *of: the kept record's number, in the
 * order records were kept; *sim: the estimated Jaccard for near duplicates); a new text is kept and
 * gets the next number. -1: out of memory. */
int vkft_deduper_check(vkft_deduper *d, const char *text, size_t n, long *of, double *sim);
/* Statistics: kept records, candidates verified and rejected, bytes of memory held. */
void vkft_deduper_stats(const vkft_deduper *d, long *kept, long *candidates, long *rejected, size_t *bytes);
void vkft_deduper_params(const vkft_deduper *d, int *bands, int *rows);

/* MinHash of one text (exposed for tests): sig receives num_perm values; returns the shingle count. */
long vkft_minhash(const vkft_deduper *d, const char *text, size_t n, uint32_t *sig);

typedef struct vkft_dedup_step vkft_dedup_step;
int vkft_dedup_step_new(vkft_dedup_step **s, const vkft_dedup_opts *o, const char *text_field, int dry_run,
                        vkft_step *step, char *err, size_t errlen);
/* Commits the pairs file (when asked for); call after a successful vkft_data_run. */
int vkft_dedup_step_finish(vkft_dedup_step *s, char *err, size_t errlen);
void vkft_dedup_step_free(vkft_dedup_step *s);

#endif
