#include "data/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dedup.h"
#include "data/deid.h"
#include "data/tokenizer.h"
#include "data/u64map.h"
#include "util/fsutil.h"

const char *const vkft_default_demographic_terms[] = {
    "he",       "she",      "him",      "her",       "his",         "hers",     "man",    "woman",
    "men",      "women",    "male",     "female",    "boy",         "girl",     "father", "mother",
    "husband",  "wife",     "black",    "white",     "asian",       "hispanic", "latino", "latina",
    "african",  "european", "arab",     "indian",    "christian",   "muslim",   "jewish", "hindu",
    "buddhist", "atheist",  "gay",      "lesbian",   "transgender", "straight", "young",  "old",
    "elderly",  "teen",     "disabled", "immigrant", "poor",        "rich",     NULL};

void vkft_report_opts_defaults(vkft_report_opts *o) {
    memset(o, 0, sizeof *o);
    o->pii = 1;
    o->near_dup = 1;
    o->pmi_top = 10;
    o->pmi_min_count = 5;
    o->bins = 30;
    o->max_examples = 20;
    o->distinct_exact_max = 2000000;
}

#define MAX_FIELDS 64
#define HLL_P 14

/* Distinct counting: exact (a hash set) up to a limit (opts.distinct_exact_max), then a HyperLogLog sketch of
 * 2^14 registers (standard error about 0.8%), so memory stays bounded on any input. */
typedef struct {
    vkft_u64map set;
    uint8_t *hll;
    long max;
} distinct;

static uint64_t fmix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static void hll_add(uint8_t *reg, uint64_t h) {
    h = fmix(h);
    size_t idx = (size_t)(h >> (64 - HLL_P));
    uint64_t w = (h << HLL_P) | (1ULL << (HLL_P - 1));
    uint8_t rho = (uint8_t)(__builtin_clzll(w) + 1);
    if (rho > reg[idx]) reg[idx] = rho;
}

static int distinct_add(distinct *d, uint64_t h) {
    if (d->hll) {
        hll_add(d->hll, h);
        return 0;
    }
    int ins;
    if (!vkft_u64map_put(&d->set, h, 1, &ins)) return -1;
    if ((long)d->set.n > d->max) {
        d->hll = calloc((size_t)1 << HLL_P, 1);
        if (!d->hll) return -1;
        for (size_t i = 0; i < d->set.cap; i++)
            if (d->set.keys[i]) hll_add(d->hll, d->set.keys[i]);
        vkft_u64map_free(&d->set);
    }
    return 0;
}

static double distinct_count(const distinct *d) {
    if (!d->hll) return (double)d->set.n;
    double m = (double)(1 << HLL_P), sum = 0;
    int zeros = 0;
    for (int i = 0; i < (1 << HLL_P); i++) {
        sum += ldexp(1.0, -d->hll[i]);
        zeros += d->hll[i] == 0;
    }
    double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros) e = m * log(m / zeros);
    return round(e);
}
#define MAX_LABELS 1024
#define MAX_VOCAB 200000

typedef struct {
    char *name;
    long present, blank;
} field_stat;

struct vkft_report {
    vkft_report_opts o;
    const char *text_field, *label_field;
    long records, no_text;
    field_stat fields[MAX_FIELDS];
    int nfields;
    /* lengths */
    int32_t *chars, *words;
    size_t nlen, caplen;
    /* lexical */
    distinct types, bigrams;
    long tokens, bigram_total;
    double mtld_sum, mtld_weight;
    uint64_t *rec_words;
    size_t rec_cap;
    /* labels */
    vkft_u64map label_ids;
    char *labels[MAX_LABELS];
    long label_count[MAX_LABELS];
    int nlabels;
    long unlabeled;
    /* duplicates and anomalies */
    vkft_deduper *dd;
    long exact, near;
    int16_t *kept_label;
    uint32_t *kept_line;
    size_t kept_cap;
    long conflict_exact, conflict_near;
    cJSON *examples;
    /* pii */
    vkft_deid *deid;
    long pii[VKFT_PII_NTYPES], records_with_pii;
    /* tokenizer */
    vkft_tokenizer *tok;
    vkft_tok_ids ids;
    long tok_tokens, tok_unk, tok_words;
    int32_t unk_id;
    /* bias */
    vkft_u64map vocab; /* word hash -> index */
    char **vocab_words;
    long *vocab_df;
    size_t nvocab, vocab_cap;
    int vocab_full;
    vkft_u64map pair_df; /* (index, label) -> docs */
    long labeled_docs;
    char **terms;
    int nterms;
    long *term_docs; /* nterms x MAX_LABELS+1 (last: unlabeled) */
    int32_t *doc_vocab;
    size_t doc_vocab_cap;
    /* histograms */
    double *hist_chars, *hist_words, *hist_labels;
    vkft_buf norm;
};

static int field_index(vkft_report *r, const char *name) {
    for (int i = 0; i < r->nfields; i++)
        if (!strcmp(r->fields[i].name, name)) return i;
    if (r->nfields >= MAX_FIELDS) return -1;
    r->fields[r->nfields].name = strdup(name);
    r->fields[r->nfields].present = r->fields[r->nfields].blank = 0;
    return r->nfields++;
}

static int is_blank(const cJSON *v) {
    if (!v || cJSON_IsNull(v)) return 1;
    if (cJSON_IsString(v)) {
        for (const char *s = v->valuestring; *s; s++)
            if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return 0;
        return 1;
    }
    if (cJSON_IsArray(v) || cJSON_IsObject(v)) return v->child == NULL;
    return 0;
}

/* Case-folded (ASCII) words: runs of letters/digits or non-ASCII bytes; hashes into r->rec_words. */
static long word_hashes(vkft_report *r, const char *s, size_t n, vkft_buf *lower) {
    long nw = 0;
    lower->n = 0;
    vkft_buf_reserve(lower, n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        lower->p[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    lower->n = n;
    const char *t = lower->p;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)t[i];
        int w = c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
        if (!w) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n) {
            unsigned char e = (unsigned char)t[j];
            if (!(e >= 0x80 || (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z'))) break;
            j++;
        }
        if ((size_t)nw >= r->rec_cap) {
            size_t c2 = r->rec_cap ? r->rec_cap * 2 : 1024;
            uint64_t *p = realloc(r->rec_words, c2 * sizeof *p);
            if (!p) return -1;
            r->rec_words = p;
            r->rec_cap = c2;
        }
        r->rec_words[nw++] = vkft_hash64(t + i, j - i, 0x77);
        i = j;
    }
    return nw;
}

double vkft_mtld(const uint64_t *w, long n, double thr) {
    double total = 0;
    for (int dir = 0; dir < 2; dir++) {
        double factors = 0;
        uint64_t seg[4096];
        long types = 0, toks = 0;
        double ttr = 1;
        for (long k = 0; k < n; k++) {
            uint64_t h = w[dir ? n - 1 - k : k];
            int seen = 0;
            for (long q = 0; q < types && !seen; q++) seen = seg[q] == h;
            if (!seen && types < 4096) seg[types++] = h;
            toks++;
            ttr = (double)types / (double)toks;
            if (ttr <= thr) {
                factors += 1;
                types = toks = 0;
                ttr = 1;
            }
        }
        if (toks > 0) factors += (1 - ttr) / (1 - thr);
        total += factors > 0 ? (double)n / factors : (double)n;
    }
    return total / 2;
}

static int label_of(vkft_report *r, const char *l) {
    uint64_t h = vkft_hash64(l, strlen(l), 0x1ab);
    uint32_t *v = vkft_u64map_get(&r->label_ids, h);
    if (v) return (int)*v;
    if (r->nlabels >= MAX_LABELS) return -1;
    int ins;
    vkft_u64map_put(&r->label_ids, h, (uint32_t)r->nlabels, &ins);
    r->labels[r->nlabels] = strdup(l);
    r->label_count[r->nlabels] = 0;
    return r->nlabels++;
}

static int int_cmp(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void add_example(vkft_report *r, const char *kind, const vkft_record *rec, long other_line, int la,
                        int lb) {
    if (cJSON_GetArraySize(r->examples) >= r->o.max_examples) return;
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "kind", kind);
    cJSON_AddStringToObject(e, "file", rec->path);
    cJSON_AddNumberToObject(e, "line", (double)rec->line);
    cJSON_AddNumberToObject(e, "first_line", (double)other_line);
    cJSON_AddStringToObject(e, "label", r->labels[la]);
    cJSON_AddStringToObject(e, "first_label", r->labels[lb]);
    cJSON_AddItemToArray(r->examples, e);
}

static int rep_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    vkft_report *r = ctx;
    r->records++;
    /* completeness */
    for (cJSON *c = rec->obj->child; c; c = c->next) {
        int i = field_index(r, c->string);
        if (i < 0) continue;
        if (is_blank(c))
            r->fields[i].blank++;
        else
            r->fields[i].present++;
    }
    const char *paths[2] = {r->text_field, r->label_field};
    for (int k = 0; k < 2; k++) {
        if (!strchr(paths[k], '.')) continue; /* top-level fields were counted above */
        int i = field_index(r, paths[k]);
        if (i < 0) continue;
        cJSON *v = vkft_path_get(rec->obj, paths[k]);
        if (is_blank(v))
            r->fields[i].blank++;
        else
            r->fields[i].present++;
    }
    /* label */
    char lb[64];
    const char *ls = vkft_path_text(rec->obj, r->label_field, lb, sizeof lb);
    int label = -1;
    if (ls && *ls) {
        label = label_of(r, ls);
        if (label >= 0) r->label_count[label]++;
    } else
        r->unlabeled++;
    char tb[64];
    const char *text = vkft_path_text(rec->obj, r->text_field, tb, sizeof tb);
    if (!text) {
        r->no_text++;
        return VKFT_STEP_KEEP;
    }
    size_t n = strlen(text);
    /* lengths */
    long ch, wd;
    {
        long c = 0, w = 0;
        int in = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char b = (unsigned char)text[i];
            if ((b & 0xC0) != 0x80) c++;
            int sp = b == ' ' || b == '\n' || b == '\t' || b == '\r';
            if (!sp && !in) w++;
            in = !sp;
        }
        ch = c;
        wd = w;
    }
    if (r->nlen == r->caplen) {
        size_t c = r->caplen ? r->caplen * 2 : 4096;
        int32_t *a = realloc(r->chars, c * sizeof *a), *b = realloc(r->words, c * sizeof *b);
        if (a) r->chars = a;
        if (b) r->words = b;
        if (!a || !b) goto oom;
        r->caplen = c;
    }
    r->chars[r->nlen] = (int32_t)(ch > INT32_MAX ? INT32_MAX : ch);
    r->words[r->nlen] = (int32_t)(wd > INT32_MAX ? INT32_MAX : wd);
    r->nlen++;
    /* lexical diversity */
    long nw = word_hashes(r, text, n, &r->norm);
    if (nw < 0) goto oom;
    int ins;
    for (long i = 0; i < nw; i++) {
        if (distinct_add(&r->types, r->rec_words[i])) goto oom;
        if (i > 0) {
            uint64_t bg = r->rec_words[i - 1] * 0x9e3779b97f4a7c15ULL ^ r->rec_words[i];
            if (distinct_add(&r->bigrams, bg)) goto oom;
            r->bigram_total++;
        }
    }
    r->tokens += nw;
    if (nw >= 10) {
        r->mtld_sum += vkft_mtld(r->rec_words, nw, 0.72) * (double)nw;
        r->mtld_weight += (double)nw;
    }
    /* tokenizer fit */
    if (r->tok) {
        r->ids.n = 0;
        char terr[256];
        if (vkft_tokenizer_encode(r->tok, text, n, 0, &r->ids, terr, sizeof terr) == 0) {
            r->tok_tokens += (long)r->ids.n;
            r->tok_words += wd;
            if (r->unk_id >= 0)
                for (size_t i = 0; i < r->ids.n; i++) r->tok_unk += r->ids.ids[i] == r->unk_id;
        }
    }
    /* duplicates and label conflicts */
    long of;
    double sim;
    int dup = vkft_deduper_check(r->dd, text, n, &of, &sim);
    if (dup < 0) goto oom;
    if (dup == VKFT_DUP_NONE) {
        long id;
        vkft_deduper_stats(r->dd, &id, NULL, NULL, NULL);
        id--;
        if ((size_t)id >= r->kept_cap) {
            size_t c = r->kept_cap ? r->kept_cap * 2 : 4096;
            int16_t *a = realloc(r->kept_label, c * sizeof *a);
            uint32_t *b = realloc(r->kept_line, c * sizeof *b);
            if (a) r->kept_label = a;
            if (b) r->kept_line = b;
            if (!a || !b) goto oom;
            r->kept_cap = c;
        }
        r->kept_label[id] = (int16_t)label;
        r->kept_line[id] = (uint32_t)rec->line;
    } else {
        if (dup == VKFT_DUP_EXACT)
            r->exact++;
        else
            r->near++;
        int first = r->kept_label[of];
        if (label >= 0 && first >= 0 && first != label) {
            if (dup == VKFT_DUP_EXACT)
                r->conflict_exact++;
            else
                r->conflict_near++;
            add_example(r,
                        dup == VKFT_DUP_EXACT ? "identical text, different label"
                                              : "near-identical text, different label",
                        rec, (long)r->kept_line[of], label, first);
        }
    }
    /* personal data */
    if (r->deid) {
        const vkft_pii_span *sp;
        int ns;
        if (vkft_deid_find(r->deid, text, n, &sp, &ns)) goto oom;
        for (int i = 0; i < ns; i++) r->pii[sp[i].type]++;
        if (ns) r->records_with_pii++;
    }
    /* bias: document frequencies of words per label, demographic terms */
    if ((size_t)nw > r->doc_vocab_cap) {
        int32_t *p = realloc(r->doc_vocab, (size_t)nw * sizeof *p);
        if (!p) goto oom;
        r->doc_vocab = p;
        r->doc_vocab_cap = (size_t)nw;
    }
    size_t nd = 0;
    {
        /* word strings are needed for the vocabulary: walk the lowered text again */
        const char *t = r->norm.p;
        long k = 0;
        for (size_t i = 0; i < n && k < nw;) {
            unsigned char c = (unsigned char)t[i];
            if (!(c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) {
                i++;
                continue;
            }
            size_t j = i;
            while (j < n) {
                unsigned char e = (unsigned char)t[j];
                if (!(e >= 0x80 || (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z'))) break;
                j++;
            }
            uint64_t h = r->rec_words[k++];
            uint32_t *v = vkft_u64map_get(&r->vocab, h);
            int32_t idx = -1;
            if (v)
                idx = (int32_t)*v;
            else if (r->nvocab < MAX_VOCAB) {
                if (r->nvocab == r->vocab_cap) {
                    size_t c2 = r->vocab_cap ? r->vocab_cap * 2 : 4096;
                    char **a = realloc(r->vocab_words, c2 * sizeof *a);
                    long *b = realloc(r->vocab_df, c2 * sizeof *b);
                    if (a) r->vocab_words = a;
                    if (b) r->vocab_df = b;
                    if (!a || !b) goto oom;
                    r->vocab_cap = c2;
                }
                idx = (int32_t)r->nvocab;
                r->vocab_words[idx] = strndup(t + i, j - i);
                r->vocab_df[idx] = 0;
                r->nvocab++;
                vkft_u64map_put(&r->vocab, h, (uint32_t)idx, &ins);
            } else
                r->vocab_full = 1;
            if (idx >= 0) r->doc_vocab[nd++] = idx;
            i = j;
        }
    }
    if (nd > 1) qsort(r->doc_vocab, nd, sizeof *r->doc_vocab, int_cmp);
    if (label >= 0) r->labeled_docs++;
    for (size_t i = 0; i < nd; i++) {
        if (i && r->doc_vocab[i] == r->doc_vocab[i - 1]) continue;
        int32_t w = r->doc_vocab[i];
        if (label < 0) continue;
        r->vocab_df[w]++;
        uint64_t key = ((uint64_t)w << 11) | (uint64_t)label;
        key = key * 2 + 1;
        uint32_t *v = vkft_u64map_put(&r->pair_df, key, 0, &ins);
        if (!v) goto oom;
        (*v)++;
    }
    for (int ti = 0; ti < r->nterms; ti++) {
        uint64_t h = vkft_hash64(r->terms[ti], strlen(r->terms[ti]), 0x77);
        for (long i = 0; i < nw; i++)
            if (r->rec_words[i] == h) {
                r->term_docs[(size_t)ti * (MAX_LABELS + 1) + (size_t)(label >= 0 ? label : MAX_LABELS)]++;
                break;
            }
    }
    return VKFT_STEP_KEEP;
oom:
    snprintf(err, errlen, "report: out of memory");
    return VKFT_STEP_FAIL;
}

static int cmp_i32(const void *a, const void *b) { return int_cmp(a, b); }

static cJSON *dist_json(int32_t *v, size_t n) {
    cJSON *d = cJSON_CreateObject();
    if (!n) return d;
    int32_t *s = malloc(n * sizeof *s);
    if (!s) return d;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_i32);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += s[i];
    cJSON_AddNumberToObject(d, "min", s[0]);
    cJSON_AddNumberToObject(d, "max", s[n - 1]);
    cJSON_AddNumberToObject(d, "mean", round(sum / (double)n * 100) / 100);
    cJSON_AddNumberToObject(d, "p50", s[(n - 1) / 2]);
    cJSON_AddNumberToObject(d, "p90", s[(size_t)((double)(n - 1) * 0.9)]);
    cJSON_AddNumberToObject(d, "p99", s[(size_t)((double)(n - 1) * 0.99)]);
    free(s);
    return d;
}

typedef struct {
    int32_t w;
    double pmi;
    long df;
} pmi_item;
static int pmi_cmp(const void *a, const void *b) {
    const pmi_item *x = a, *y = b;
    if (x->pmi != y->pmi) return x->pmi < y->pmi ? 1 : -1;
    return (x->df < y->df) - (x->df > y->df);
}

static double r4(double x) { return round(x * 10000) / 10000; }

cJSON *vkft_report_json(vkft_report *r) {
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "records", (double)r->records);
    cJSON_AddNumberToObject(j, "records_without_text", (double)r->no_text);
    cJSON *f = cJSON_AddObjectToObject(j, "completeness");
    for (int i = 0; i < r->nfields; i++) {
        cJSON *o = cJSON_AddObjectToObject(f, r->fields[i].name);
        long present = r->fields[i].present;
        cJSON_AddNumberToObject(o, "present", (double)present);
        cJSON_AddNumberToObject(o, "blank", (double)r->fields[i].blank);
        cJSON_AddNumberToObject(o, "missing", (double)(r->records - present - r->fields[i].blank));
        cJSON_AddNumberToObject(o, "completeness", r->records ? r4((double)present / (double)r->records) : 0);
    }
    cJSON *d = cJSON_AddObjectToObject(j, "duplicates");
    long texts = r->records - r->no_text;
    cJSON_AddNumberToObject(d, "exact", (double)r->exact);
    cJSON_AddNumberToObject(d, "near", (double)r->near);
    cJSON_AddNumberToObject(d, "exact_rate", texts ? r4((double)r->exact / (double)texts) : 0);
    cJSON_AddNumberToObject(d, "near_rate", texts ? r4((double)r->near / (double)texts) : 0);
    cJSON_AddBoolToObject(d, "near_checked", r->o.near_dup);
    cJSON *l = cJSON_AddObjectToObject(j, "length");
    cJSON_AddItemToObject(l, "chars", dist_json(r->chars, r->nlen));
    cJSON_AddItemToObject(l, "words", dist_json(r->words, r->nlen));
    cJSON *x = cJSON_AddObjectToObject(j, "lexical");
    cJSON_AddNumberToObject(x, "words", (double)r->tokens);
    double types = distinct_count(&r->types), bigrams = distinct_count(&r->bigrams);
    cJSON_AddNumberToObject(x, "distinct_words", types);
    cJSON_AddNumberToObject(x, "type_token_ratio", r->tokens ? r4(types / (double)r->tokens) : 0);
    cJSON_AddNumberToObject(x, "distinct_1", r->tokens ? r4(types / (double)r->tokens) : 0);
    cJSON_AddNumberToObject(x, "distinct_2", r->bigram_total ? r4(bigrams / (double)r->bigram_total) : 0);
    cJSON_AddStringToObject(x, "distinct_counting",
                            r->types.hll || r->bigrams.hll ? "HyperLogLog estimate (about 0.8% error)"
                                                           : "exact");
    if (r->mtld_weight > 0)
        cJSON_AddNumberToObject(x, "mtld", round(r->mtld_sum / r->mtld_weight * 100) / 100);
    else
        cJSON_AddNullToObject(x, "mtld");
    if (r->tok) {
        cJSON *t = cJSON_AddObjectToObject(j, "tokenizer");
        cJSON_AddStringToObject(t, "path", r->o.tokenizer_path);
        cJSON_AddNumberToObject(t, "tokens", (double)r->tok_tokens);
        cJSON_AddNumberToObject(t, "tokens_per_word",
                                r->tok_words ? r4((double)r->tok_tokens / (double)r->tok_words) : 0);
        if (r->unk_id >= 0)
            cJSON_AddNumberToObject(t, "unknown_token_rate",
                                    r->tok_tokens ? r4((double)r->tok_unk / (double)r->tok_tokens) : 0);
        else
            cJSON_AddStringToObject(t, "unknown_token_rate", "n/a (the tokenizer has no unknown token)");
    }
    cJSON *lab = cJSON_AddObjectToObject(j, "labels");
    cJSON *counts = cJSON_AddObjectToObject(lab, "counts");
    long mx = 0, mn = -1;
    for (int i = 0; i < r->nlabels; i++) {
        cJSON_AddNumberToObject(counts, r->labels[i], (double)r->label_count[i]);
        if (r->label_count[i] > mx) mx = r->label_count[i];
        if (mn < 0 || r->label_count[i] < mn) mn = r->label_count[i];
    }
    cJSON_AddNumberToObject(lab, "classes", r->nlabels);
    cJSON_AddNumberToObject(lab, "unlabeled", (double)r->unlabeled);
    cJSON_AddNumberToObject(lab, "imbalance_ratio", mn > 0 ? r4((double)mx / (double)mn) : 0);
    cJSON *an = cJSON_AddObjectToObject(j, "anomalies");
    cJSON_AddNumberToObject(an, "identical_text_different_label", (double)r->conflict_exact);
    cJSON_AddNumberToObject(an, "near_identical_text_different_label", (double)r->conflict_near);
    cJSON_AddItemToObject(an, "examples", cJSON_Duplicate(r->examples, 1));
    cJSON_AddStringToObject(an, "model_disagreement", "see label_disagreements (vkft data report --model DIR)");
    if (r->deid) {
        cJSON *p = cJSON_AddObjectToObject(j, "personal_data");
        for (int i = 0; i < VKFT_PII_NTYPES; i++)
            cJSON_AddNumberToObject(p, vkft_pii_name(i), (double)r->pii[i]);
        cJSON_AddNumberToObject(p, "records_with_personal_data", (double)r->records_with_pii);
    }
    cJSON *b = cJSON_AddObjectToObject(j, "bias");
    cJSON *pm = cJSON_AddObjectToObject(b, "pmi_top_terms");
    if (r->vocab_full) cJSON_AddStringToObject(b, "note", "vocabulary capped at 200000 words for PMI");
    pmi_item *items = malloc(sizeof(pmi_item) * (r->nvocab ? r->nvocab : 1));
    for (int c = 0; c < r->nlabels && items; c++) {
        size_t ni = 0;
        for (size_t s = 0; s < r->pair_df.cap; s++) {
            uint64_t key = r->pair_df.keys[s];
            if (!key) continue;
            key >>= 1;
            if ((int)(key & 2047) != c) continue;
            int32_t w = (int32_t)(key >> 11);
            long dfc = (long)r->pair_df.vals[s];
            if (dfc < r->o.pmi_min_count) continue;
            double pmi = log2(((double)dfc * (double)r->labeled_docs) /
                              ((double)r->vocab_df[w] * (double)r->label_count[c]));
            items[ni].w = w;
            items[ni].pmi = pmi;
            items[ni].df = dfc;
            ni++;
        }
        qsort(items, ni, sizeof *items, pmi_cmp);
        cJSON *arr = cJSON_AddArrayToObject(pm, r->labels[c]);
        for (size_t i = 0; i < ni && (int)i < r->o.pmi_top; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "term", r->vocab_words[items[i].w]);
            cJSON_AddNumberToObject(e, "pmi", r4(items[i].pmi));
            cJSON_AddNumberToObject(e, "docs", (double)items[i].df);
            cJSON_AddItemToArray(arr, e);
        }
    }
    free(items);
    cJSON *tm = cJSON_AddObjectToObject(b, "demographic_terms");
    for (int ti = 0; ti < r->nterms; ti++) {
        long total = 0;
        for (int c = 0; c <= MAX_LABELS; c++)
            total += r->term_docs[(size_t)ti * (MAX_LABELS + 1) + (size_t)c];
        if (!total) continue;
        cJSON *o = cJSON_AddObjectToObject(tm, r->terms[ti]);
        for (int c = 0; c < r->nlabels; c++)
            cJSON_AddNumberToObject(o, r->labels[c],
                                    (double)r->term_docs[(size_t)ti * (MAX_LABELS + 1) + (size_t)c]);
        long un = r->term_docs[(size_t)ti * (MAX_LABELS + 1) + MAX_LABELS];
        if (un) cJSON_AddNumberToObject(o, "(unlabeled)", (double)un);
    }
    return j;
}

static void hist_of(const int32_t *v, size_t n, int bins, double **out, double *lo, double *width) {
    *out = calloc((size_t)bins, sizeof **out);
    *lo = 0;
    *width = 1;
    if (!n || !*out) return;
    int32_t *s = malloc(n * sizeof *s);
    if (!s) return;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_i32);
    /* from the shortest text to the 99th percentile; longer ones go to the last bar */
    double a = s[0], hi = s[(size_t)((double)(n - 1) * 0.99)] + 1;
    free(s);
    double w = ceil((hi - a) / bins);
    if (w < 1) w = 1;
    *lo = a;
    *width = w;
    for (size_t i = 0; i < n; i++) {
        int b = (int)((v[i] - a) / w);
        (*out)[b >= bins ? bins - 1 : b < 0 ? 0 : b]++;
    }
}

int vkft_report_histograms(vkft_report *r, vkft_histogram *h, int max) {
    int k = 0;
    free(r->hist_chars);
    free(r->hist_words);
    free(r->hist_labels);
    r->hist_chars = r->hist_words = r->hist_labels = NULL;
    if (k < max && r->nlen) {
        memset(&h[k], 0, sizeof h[k]);
        snprintf(h[k].name, sizeof h[k].name, "length_chars");
        snprintf(h[k].title, sizeof h[k].title, "text length (characters; last bar: p99 and above)");
        snprintf(h[k].xlabel, sizeof h[k].xlabel, "characters");
        h[k].n = r->o.bins;
        hist_of(r->chars, r->nlen, r->o.bins, &r->hist_chars, &h[k].lo, &h[k].width);
        h[k].values = r->hist_chars;
        k++;
    }
    if (k < max && r->nlen) {
        memset(&h[k], 0, sizeof h[k]);
        snprintf(h[k].name, sizeof h[k].name, "length_words");
        snprintf(h[k].title, sizeof h[k].title, "text length (words; last bar: p99 and above)");
        snprintf(h[k].xlabel, sizeof h[k].xlabel, "words");
        h[k].n = r->o.bins;
        hist_of(r->words, r->nlen, r->o.bins, &r->hist_words, &h[k].lo, &h[k].width);
        h[k].values = r->hist_words;
        k++;
    }
    if (k < max && r->nlabels) {
        memset(&h[k], 0, sizeof h[k]);
        snprintf(h[k].name, sizeof h[k].name, "labels");
        snprintf(h[k].title, sizeof h[k].title, "records per label");
        snprintf(h[k].xlabel, sizeof h[k].xlabel, "label");
        h[k].n = r->nlabels;
        h[k].labels = (const char *const *)r->labels;
        r->hist_labels = calloc((size_t)r->nlabels, sizeof(double));
        for (int i = 0; i < r->nlabels && r->hist_labels; i++) r->hist_labels[i] = (double)r->label_count[i];
        h[k].values = r->hist_labels;
        k++;
    }
    return k;
}

static void md_num(vkft_buf *b, const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    char t[64];
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 1e15)
            snprintf(t, sizeof t, "%.0f", v->valuedouble);
        else
            snprintf(t, sizeof t, "%.4g", v->valuedouble);
    } else if (cJSON_IsString(v))
        snprintf(t, sizeof t, "%s", v->valuestring);
    else
        snprintf(t, sizeof t, "–");
    vkft_buf_adds(b, t);
}

int vkft_report_markdown(const cJSON *j, const char *const *images, vkft_buf *b) {
    b->n = 0;
    vkft_buf_adds(b, "# Data-quality report\n\n");
    const cJSON *inputs = cJSON_GetObjectItem(j, "inputs");
    if (inputs) {
        vkft_buf_adds(b, "Inputs:");
        for (const cJSON *i = inputs->child; i; i = i->next) {
            vkft_buf_adds(b, " `");
            vkft_buf_adds(b, i->valuestring);
            vkft_buf_adds(b, "`");
        }
        vkft_buf_adds(b, "\n\n");
    }
    vkft_buf_adds(b, "| measure | value |\n|---|---|\n| records | ");
    md_num(b, j, "records");
    vkft_buf_adds(b, " |\n| malformed (skipped) | ");
    md_num(b, j, "malformed");
    const cJSON *d = cJSON_GetObjectItem(j, "duplicates");
    vkft_buf_adds(b, " |\n| exact duplicates | ");
    md_num(b, d, "exact");
    vkft_buf_adds(b, " (rate ");
    md_num(b, d, "exact_rate");
    vkft_buf_adds(b, ") |\n| near duplicates (Jaccard >= 0.8) | ");
    md_num(b, d, "near");
    vkft_buf_adds(b, " (rate ");
    md_num(b, d, "near_rate");
    const cJSON *x = cJSON_GetObjectItem(j, "lexical");
    vkft_buf_adds(b, ") |\n| words / distinct words | ");
    md_num(b, x, "words");
    vkft_buf_adds(b, " / ");
    md_num(b, x, "distinct_words");
    vkft_buf_adds(b, " |\n| type-token ratio (distinct-1) | ");
    md_num(b, x, "type_token_ratio");
    vkft_buf_adds(b, " |\n| distinct-2 | ");
    md_num(b, x, "distinct_2");
    vkft_buf_adds(b, " |\n| MTLD | ");
    md_num(b, x, "mtld");
    const cJSON *t = cJSON_GetObjectItem(j, "tokenizer");
    if (t) {
        vkft_buf_adds(b, " |\n| tokens per word | ");
        md_num(b, t, "tokens_per_word");
        vkft_buf_adds(b, " |\n| unknown-token rate | ");
        md_num(b, t, "unknown_token_rate");
    }
    vkft_buf_adds(
        b,
        " |\n\n## Length\n\n| unit | min | p50 | mean | p90 | p99 | max |\n|---|---|---|---|---|---|---|\n");
    const cJSON *l = cJSON_GetObjectItem(j, "length");
    for (int k = 0; k < 2; k++) {
        const char *u = k ? "words" : "chars";
        const cJSON *o = cJSON_GetObjectItem(l, u);
        vkft_buf_adds(b, "| ");
        vkft_buf_adds(b, u);
        const char *keys[] = {"min", "p50", "mean", "p90", "p99", "max"};
        for (int q = 0; q < 6; q++) {
            vkft_buf_adds(b, " | ");
            md_num(b, o, keys[q]);
        }
        vkft_buf_adds(b, " |\n");
    }
    vkft_buf_adds(
        b,
        "\n## Completeness\n\n| field | present | blank | missing | completeness |\n|---|---|---|---|---|\n");
    for (const cJSON *f =
             cJSON_GetObjectItem(j, "completeness") ? cJSON_GetObjectItem(j, "completeness")->child : NULL;
         f; f = f->next) {
        vkft_buf_adds(b, "| `");
        vkft_buf_adds(b, f->string);
        vkft_buf_adds(b, "` | ");
        md_num(b, f, "present");
        vkft_buf_adds(b, " | ");
        md_num(b, f, "blank");
        vkft_buf_adds(b, " | ");
        md_num(b, f, "missing");
        vkft_buf_adds(b, " | ");
        md_num(b, f, "completeness");
        vkft_buf_adds(b, " |\n");
    }
    const cJSON *lab = cJSON_GetObjectItem(j, "labels");
    vkft_buf_adds(b, "\n## Labels\n\nImbalance ratio (largest/smallest class): ");
    md_num(b, lab, "imbalance_ratio");
    vkft_buf_adds(b, "; unlabeled records: ");
    md_num(b, lab, "unlabeled");
    vkft_buf_adds(b, "\n\n| label | records |\n|---|---|\n");
    const cJSON *counts = cJSON_GetObjectItem(lab, "counts");
    for (const cJSON *c = counts ? counts->child : NULL; c; c = c->next) {
        vkft_buf_adds(b, "| ");
        vkft_buf_adds(b, c->string);
        vkft_buf_adds(b, " | ");
        md_num(b, counts, c->string);
        vkft_buf_adds(b, " |\n");
    }
    const cJSON *an = cJSON_GetObjectItem(j, "anomalies");
    vkft_buf_adds(b, "\n## Annotation anomalies\n\nIdentical texts with different labels: ");
    md_num(b, an, "identical_text_different_label");
    vkft_buf_adds(b, "; near-identical: ");
    md_num(b, an, "near_identical_text_different_label");
    vkft_buf_adds(b, cJSON_GetObjectItem(j, "label_disagreements")
                         ? ". Labels a quick model disagrees with: below.\n\n"
                         : ". Labels a quick model disagrees with: run the report with --model DIR.\n\n");
    const cJSON *ex = cJSON_GetObjectItem(an, "examples");
    for (const cJSON *e = ex ? ex->child : NULL; e; e = e->next) {
        char line[512];
        snprintf(
            line, sizeof line, "- %s:%.0f (`%s`) vs line %.0f (`%s`): %s\n",
            cJSON_GetObjectItem(e, "file")->valuestring, cJSON_GetObjectItem(e, "line")->valuedouble,
            cJSON_GetObjectItem(e, "label")->valuestring, cJSON_GetObjectItem(e, "first_line")->valuedouble,
            cJSON_GetObjectItem(e, "first_label")->valuestring, cJSON_GetObjectItem(e, "kind")->valuestring);
        vkft_buf_adds(b, line);
    }
    const cJSON *ld = cJSON_GetObjectItem(j, "label_disagreements");
    if (ld) { /* from vkft data report --model (tools/cmd_data_model.c) */
        char line[1024];
        const cJSON *src = cJSON_GetObjectItem(ld, "model");
        if (!src) src = cJSON_GetObjectItem(ld, "embeddings");
        snprintf(line, sizeof line,
                 "\n## Labels a quick model disagrees with\n\nA logistic regression on sentence embeddings (%s), "
                 "%d-fold cross-validated: out-of-fold accuracy %.3f over %.0f records; %.0f records are "
                 "predicted as another label with probability >= %.2f.\n",
                 cJSON_IsString(src) ? src->valuestring : "?", (int)cJSON_GetObjectItem(ld, "folds")->valuedouble,
                 cJSON_GetObjectItem(ld, "cv_accuracy")->valuedouble,
                 cJSON_GetObjectItem(ld, "records_checked")->valuedouble,
                 cJSON_GetObjectItem(ld, "flagged")->valuedouble, cJSON_GetObjectItem(ld, "threshold")->valuedouble);
        vkft_buf_adds(b, line);
        const cJSON *rs = cJSON_GetObjectItem(ld, "records");
        if (cJSON_GetArraySize(rs)) {
            vkft_buf_adds(b, "\n| record | id | given | predicted | confidence |\n|---|---|---|---|---|\n");
            int shown = 0;
            for (const cJSON *e = rs->child; e && shown < 50; e = e->next, shown++) {
                const cJSON *id = cJSON_GetObjectItem(e, "id");
                snprintf(line, sizeof line, "| %.300s | %.100s | %.100s | %.100s | %.3f |\n",
                         cJSON_GetObjectItem(e, "source")->valuestring, cJSON_IsString(id) ? id->valuestring : "",
                         cJSON_GetObjectItem(e, "given")->valuestring,
                         cJSON_GetObjectItem(e, "predicted")->valuestring,
                         cJSON_GetObjectItem(e, "confidence")->valuedouble);
                vkft_buf_adds(b, line);
            }
            if (cJSON_GetArraySize(rs) > 50) vkft_buf_adds(b, "\n(first 50; all in report.json)\n");
        }
    }
    const cJSON *p = cJSON_GetObjectItem(j, "personal_data");
    if (p) {
        vkft_buf_adds(b, "\n## Personal data found (counts only)\n\n| type | found |\n|---|---|\n");
        for (const cJSON *c = p->child; c; c = c->next) {
            vkft_buf_adds(b, "| ");
            vkft_buf_adds(b, c->string);
            vkft_buf_adds(b, " | ");
            md_num(b, p, c->string);
            vkft_buf_adds(b, " |\n");
        }
    }
    const cJSON *bias = cJSON_GetObjectItem(j, "bias");
    const cJSON *pm = cJSON_GetObjectItem(bias, "pmi_top_terms");
    if (pm && pm->child) {
        vkft_buf_adds(b, "\n## Terms most associated with each label (PMI)\n\n");
        for (const cJSON *c = pm->child; c; c = c->next) {
            vkft_buf_adds(b, "- **");
            vkft_buf_adds(b, c->string);
            vkft_buf_adds(b, "**:");
            for (const cJSON *e = c->child; e; e = e->next) {
                char s[160];
                snprintf(s, sizeof s, " %s (%.2f)", cJSON_GetObjectItem(e, "term")->valuestring,
                         cJSON_GetObjectItem(e, "pmi")->valuedouble);
                vkft_buf_adds(b, s);
            }
            vkft_buf_adds(b, "\n");
        }
    }
    const cJSON *tm = cJSON_GetObjectItem(bias, "demographic_terms");
    if (tm && tm->child) {
        vkft_buf_adds(b, "\n## Demographic terms per label (documents)\n\n");
        for (const cJSON *c = tm->child; c; c = c->next) {
            vkft_buf_adds(b, "- `");
            vkft_buf_adds(b, c->string);
            vkft_buf_adds(b, "`:");
            for (const cJSON *e = c->child; e; e = e->next) {
                char s[160];
                snprintf(s, sizeof s, " %s %.0f", e->string, e->valuedouble);
                vkft_buf_adds(b, s);
            }
            vkft_buf_adds(b, "\n");
        }
    }
    if (images && images[0]) {
        vkft_buf_adds(b, "\n## Histograms\n\n");
        for (int i = 0; images[i]; i++) {
            vkft_buf_adds(b, "![");
            vkft_buf_adds(b, images[i]);
            vkft_buf_adds(b, "](");
            vkft_buf_adds(b, images[i]);
            vkft_buf_adds(b, ")\n");
        }
    }
    const cJSON *steps = cJSON_GetObjectItem(j, "steps");
    if (steps) {
        vkft_buf_adds(b, "\n## Pipeline steps\n\n| step | records in | records out |\n|---|---|---|\n");
        for (const cJSON *s = steps->child; s; s = s->next) {
            vkft_buf_adds(b, "| ");
            md_num(b, s, "step");
            vkft_buf_adds(b, " | ");
            md_num(b, s, "records_in");
            vkft_buf_adds(b, " | ");
            md_num(b, s, "records_out");
            vkft_buf_adds(b, " |\n");
        }
    }
    vkft_buf_nul(b);
    return 0;
}

int vkft_report_step_new(vkft_report **out, const vkft_report_opts *o, const char *text_field,
                         const char *label_field, vkft_step *step, char *err, size_t errlen) {
    vkft_report *r = calloc(1, sizeof *r);
    if (!r) return -1;
    r->o = *o;
    r->text_field = text_field;
    r->label_field = label_field;
    r->unk_id = -1;
    r->examples = cJSON_CreateArray();
    r->types.max = r->bigrams.max = o->distinct_exact_max > 0 ? o->distinct_exact_max : 2000000;
    if (vkft_u64map_init(&r->types.set, 4096) || vkft_u64map_init(&r->bigrams.set, 4096) ||
        vkft_u64map_init(&r->label_ids, 64) || vkft_u64map_init(&r->vocab, 4096) ||
        vkft_u64map_init(&r->pair_df, 4096)) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    vkft_dedup_opts dop;
    vkft_dedup_opts_defaults(&dop);
    dop.near = o->near_dup;
    if (vkft_deduper_new(&r->dd, &dop, err, errlen)) goto fail;
    if (o->pii) {
        vkft_deid_opts dp;
        vkft_deid_opts_defaults(&dp);
        if (vkft_deid_new(&r->deid, &dp, err, errlen)) goto fail;
    }
    if (o->tokenizer_path) {
        if (vkft_tokenizer_load(o->tokenizer_path, &r->tok, err, errlen)) goto fail;
        r->unk_id = vkft_tokenizer_specials(r->tok).unk;
    }
    if (o->terms_file) {
        char *data;
        size_t n;
        if (vkft_read_file(o->terms_file, &data, &n, err, errlen)) goto fail;
        char *save;
        for (char *line = strtok_r(data, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
            if (!*line || line[0] == '#') continue;
            char **t = realloc(r->terms, sizeof(char *) * (size_t)(r->nterms + 1));
            if (!t) break;
            r->terms = t;
            for (char *c = line; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c + 32);
            r->terms[r->nterms++] = strdup(line);
        }
        free(data);
    } else {
        for (int i = 0; vkft_default_demographic_terms[i]; i++) {
            char **t = realloc(r->terms, sizeof(char *) * (size_t)(r->nterms + 1));
            if (!t) break;
            r->terms = t;
            r->terms[r->nterms++] = strdup(vkft_default_demographic_terms[i]);
        }
    }
    r->term_docs = calloc((size_t)(r->nterms ? r->nterms : 1) * (MAX_LABELS + 1), sizeof(long));
    if (!r->term_docs) goto fail;
    memset(step, 0, sizeof *step);
    step->apply = rep_apply;
    step->ctx = r;
    *out = r;
    return 0;
fail:
    vkft_report_free(r);
    return -1;
}

void vkft_report_free(vkft_report *r) {
    if (!r) return;
    for (int i = 0; i < r->nfields; i++) free(r->fields[i].name);
    free(r->chars);
    free(r->words);
    vkft_u64map_free(&r->types.set);
    vkft_u64map_free(&r->bigrams.set);
    free(r->types.hll);
    free(r->bigrams.hll);
    vkft_u64map_free(&r->label_ids);
    vkft_u64map_free(&r->vocab);
    vkft_u64map_free(&r->pair_df);
    for (int i = 0; i < r->nlabels; i++) free(r->labels[i]);
    vkft_deduper_free(r->dd);
    vkft_deid_free(r->deid);
    if (r->tok) vkft_tokenizer_free(r->tok);
    vkft_tok_ids_free(&r->ids);
    free(r->kept_label);
    free(r->kept_line);
    cJSON_Delete(r->examples);
    for (size_t i = 0; i < r->nvocab; i++) free(r->vocab_words[i]);
    free(r->vocab_words);
    free(r->vocab_df);
    for (int i = 0; i < r->nterms; i++) free(r->terms[i]);
    free(r->terms);
    free(r->term_docs);
    free(r->doc_vocab);
    free(r->rec_words);
    free(r->hist_chars);
    free(r->hist_words);
    free(r->hist_labels);
    vkft_buf_free(&r->norm);
    free(r);
}
