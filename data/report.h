/* report: a data-quality report for `vkft data report` (one streaming pass; memory grows with the
 * number of records (8 bytes each for lengths), distinct words and bigrams).
 *
 * Measures: record count; completeness per field (top-level fields plus the text and label paths:
 * present, not null, not blank); exact and near-duplicate rates (dedup's MinHash/LSH at 0.8); length
 * distribution in characters (code points) and words (min, max, mean, p50, p90, p99, histogram);
 * lexical diversity over case-folded words: type-token ratio (= distinct-1), distinct-2, and MTLD
 * (distinct counts are exact up to 2 million items, HyperLogLog estimates beyond, so memory stays bounded)
 * (McCarthy and Jarvis 2010, factor threshold 0.72, mean of forward and backward passes, computed per
 * record with at least 10 words and averaged weighted by words); vocabulary fit to a tokenizer when
 * one is given (tokens per word, unknown-token rate); label distribution and imbalance ratio
 * (largest/smallest class); annotation anomalies (exact or near-duplicate texts with different labels,
 * with locations); personal-data findings from deid (counts per type, no values); bias indicators:
 * the words most associated with each label by PMI over document frequencies (log2 p(w,c)/(p(w)p(c)),
 * words in at least pmi_min_count documents of the label) and per-label document counts of a list of
 * demographic terms (a default list, or the user's). */
#ifndef VKFT_DATA_REPORT_H
#define VKFT_DATA_REPORT_H
#include "data/records.h"
#include "data/step.h"

typedef struct {
    const char *tokenizer_path; /* optional: tokenizer.json or a model folder */
    const char *terms_file;     /* demographic terms, one per line; NULL: the default list */
    int pii;                    /* run deid's detectors (default 1) */
    int near_dup;               /* near-duplicate detection (default 1) */
    int pmi_top;                /* terms per label (default 10) */
    int pmi_min_count;          /* default 5 */
    int bins;                   /* histogram bins (default 30) */
    int max_examples;           /* anomaly examples kept (default 20) */
    long distinct_exact_max;    /* distinct words/bigrams counted exactly up to this, then HyperLogLog
                                 * (about 0.8% error; default 2000000) */
} vkft_report_opts;

void vkft_report_opts_defaults(vkft_report_opts *o);

typedef struct vkft_report vkft_report;
int vkft_report_step_new(vkft_report **r, const vkft_report_opts *o, const char *text_field,
                         const char *label_field, vkft_step *step, char *err, size_t errlen);
void vkft_report_free(vkft_report *r);
/* The report (after the run), to be merged with the run summary by the caller. */
cJSON *vkft_report_json(vkft_report *r);

typedef struct {
    char name[32]; /* file-name friendly: "length_chars" */
    char title[96];
    char xlabel[48];
    int n;                     /* bars */
    double lo, width;          /* numeric bins: bar i covers [lo + i*width, lo + (i+1)*width) */
    const char *const *labels; /* categorical bars (labels): names, else NULL */
    double *values;
} vkft_histogram;
/* Histograms for plotting: lengths in characters and words, labels. Returns the count (<= max); the
 * arrays stay owned by r. */
int vkft_report_histograms(vkft_report *r, vkft_histogram *h, int max);

/* Markdown from a report JSON (vkft_report_json merged with the summary, or the pipeline's combined
 * report); images: names of PNG files to link (NULL-terminated, may be NULL). */
int vkft_report_markdown(const cJSON *report, const char *const *images, vkft_buf *out);

/* MTLD of a word sequence given as hashes (exposed for tests). */
double vkft_mtld(const uint64_t *words, long n, double threshold);

extern const char *const vkft_default_demographic_terms[];
#endif
