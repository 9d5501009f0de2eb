#include "data/dedup.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "data/u64map.h"
#include "util/fsutil.h"

void vkft_dedup_opts_defaults(vkft_dedup_opts *o) {
    memset(o, 0, sizeof *o);
    o->exact = o->near = 1;
    o->threshold = 0.8;
    o->num_perm = 128;
    o->shingle = 5;
    o->verify = 1;
    o->seed = 1;
}

/* Probability that two texts of Jaccard s share at least one band. */
static double p_collide(double s, int b, int r) { return 1.0 - pow(1.0 - pow(s, r), b); }

static double integrate(double lo, double hi, int b, int r, int fn) {
    const int n = 200;
    double h = (hi - lo) / n, sum = 0;
    for (int i = 0; i <= n; i++) { /* Simpson */
        double s = lo + i * h, p = p_collide(s, b, r);
        double v = fn ? 1.0 - p : p;
        sum += v * (i == 0 || i == n ? 1 : (i & 1) ? 4 : 2);
    }
    return sum * h / 3;
}

void vkft_lsh_params(double threshold, int num_perm, double fn_weight, int *bands, int *rows) {
    double best = 1e9;
    *bands = 1;
    *rows = num_perm;
    for (int b = 1; b <= num_perm; b++)
        for (int r = 1; r * b <= num_perm; r++) {
            double err = (1 - fn_weight) * integrate(0, threshold, b, r, 0) +
                         fn_weight * integrate(threshold, 1, b, r, 1);
            if (err < best) {
                best = err;
                *bands = b;
                *rows = r;
            }
        }
}

struct vkft_deduper {
    vkft_dedup_opts o;
    int bands, rows;
    uint64_t *a, *b;
    vkft_u64map exact, lsh; /* lsh: 64-bit band keys without verification */
    vkft_u32map lsh32;      /* 32-bit band keys when candidates are verified (a collision costs a check) */
    uint8_t *sigs;          /* 4 bits of each MinHash value, num_perm / 2 bytes per kept record */
    size_t sigs_cap;
    long kept, candidates, rejected;
    vkft_buf norm;
    uint64_t *tok, *sh;
    size_t tok_cap, sh_cap;
    uint32_t *sig;
};

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int vkft_deduper_new(vkft_deduper **out, const vkft_dedup_opts *o, char *err, size_t errlen) {
    if (o->num_perm < 1 || o->num_perm > 1024) {
        snprintf(err, errlen, "--num-perm %d: use 1..1024 (128 is usual)", o->num_perm);
        return -1;
    }
    if (o->threshold <= 0 || o->threshold > 1) {
        snprintf(err, errlen, "--threshold %g: use a Jaccard similarity in (0, 1], e.g. 0.8", o->threshold);
        return -1;
    }
    if (o->shingle < 1 || o->shingle > 64) {
        snprintf(err, errlen, "--shingle %d: use 1..64", o->shingle);
        return -1;
    }
    vkft_deduper *d = calloc(1, sizeof *d);
    if (!d) return -1;
    d->o = *o;
    if (o->bands > 0 && o->rows > 0) {
        if (o->bands * o->rows > o->num_perm) {
            snprintf(err, errlen, "--bands %d x --rows %d exceeds --num-perm %d", o->bands, o->rows,
                     o->num_perm);
            free(d);
            return -1;
        }
        d->bands = o->bands;
        d->rows = o->rows;
    } else {
        /* verified candidates make false positives cheap, so favour recall (0.9); without
         * verification, weigh both errors equally as datasketch and text-dedup do */
        vkft_lsh_params(o->threshold, o->num_perm, o->verify ? 0.9 : 0.5, &d->bands, &d->rows);
    }
    d->a = malloc(sizeof(uint64_t) * (size_t)o->num_perm);
    d->b = malloc(sizeof(uint64_t) * (size_t)o->num_perm);
    d->sig = malloc(sizeof(uint32_t) * (size_t)o->num_perm);
    uint64_t s = o->seed;
    for (int i = 0; i < o->num_perm; i++) {
        d->a[i] = splitmix(&s) | 1;
        d->b[i] = splitmix(&s);
    }
    if (!d->a || !d->b || !d->sig || vkft_u64map_init(&d->exact, 1024) || vkft_u64map_init(&d->lsh, 16) ||
        vkft_u32map_init(&d->lsh32, 1024)) {
        vkft_deduper_free(d);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *out = d;
    return 0;
}

void vkft_deduper_free(vkft_deduper *d) {
    if (!d) return;
    free(d->a);
    free(d->b);
    free(d->sig);
    free(d->sigs);
    free(d->tok);
    free(d->sh);
    vkft_u64map_free(&d->exact);
    vkft_u64map_free(&d->lsh);
    vkft_u32map_free(&d->lsh32);
    vkft_buf_free(&d->norm);
    free(d);
}

void vkft_deduper_params(const vkft_deduper *d, int *bands, int *rows) {
    *bands = d->bands;
    *rows = d->rows;
}

void vkft_deduper_stats(const vkft_deduper *d, long *kept, long *candidates, long *rejected, size_t *bytes) {
    if (kept) *kept = d->kept;
    if (candidates) *candidates = d->candidates;
    if (rejected) *rejected = d->rejected;
    if (bytes)
        *bytes = vkft_u64map_bytes(&d->exact) + vkft_u64map_bytes(&d->lsh) + vkft_u32map_bytes(&d->lsh32) +
                 d->sigs_cap;
}

/* Case-folded text with whitespace runs collapsed to one space and trimmed, into d->norm. */
static void normalize(vkft_deduper *d, const char *text, size_t n) {
    static const unsigned char ws[128] = {
        [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\f'] = 1, ['\v'] = 1};
    vkft_buf *b = &d->norm;
    b->n = 0;
    /* lower-casing can lengthen a code point by one byte at most (2 -> 3 bytes): 2n is enough */
    vkft_buf_reserve(b, 2 * n + 8);
    char *o = b->p, *o0 = b->p;
    int sp = 0;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            if (ws[c]) {
                sp = 1;
                continue;
            }
            if (sp && o > o0) *o++ = ' ';
            sp = 0;
            *o++ = (char)(c - 'A' < 26u ? c + 32 : c);
            continue;
        }
        int32_t cp;
        ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t)(n - i), &cp);
        if (k > 0 && utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS) {
            i += (size_t)k;
            sp = 1;
            continue;
        }
        if (sp && o > o0) *o++ = ' ';
        sp = 0;
        if (k <= 0) { /* not UTF-8: the byte as it is */
            *o++ = (char)c;
            i++;
            continue;
        }
        i += (size_t)k;
        o += utf8proc_encode_char(utf8proc_tolower(cp), (utf8proc_uint8_t *)o);
    }
    b->n = (size_t)(o - o0);
    vkft_buf_nul(b);
}

static int grow_u64(uint64_t **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    uint64_t *q = realloc(*p, c * sizeof *q);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Shingle hashes of the normalized text (d->norm) into d->sh; returns the count or -1. */
static long shingles(vkft_deduper *d) {
    const char *s = d->norm.p;
    size_t n = d->norm.n;
    int k = d->o.shingle;
    long ns = 0;
    if (d->o.char_shingles) {
        /* code point starts */
        if (grow_u64(&d->tok, &d->tok_cap, n + 1)) return -1;
        size_t np = 0;
        for (size_t i = 0; i < n; i++)
            if (((unsigned char)s[i] & 0xC0) != 0x80) d->tok[np++] = i;
        d->tok[np] = n;
        if (np == 0) return 0;
        size_t cnt = np >= (size_t)k ? np - (size_t)k + 1 : 1;
        if (grow_u64(&d->sh, &d->sh_cap, cnt)) return -1;
        for (size_t i = 0; i < cnt; i++) {
            size_t e = i + (size_t)k <= np ? i + (size_t)k : np;
            d->sh[ns++] = vkft_hash64(s + d->tok[i], d->tok[e] - d->tok[i], 0x5eed);
        }
        return ns;
    }
    /* words: runs of ASCII letters/digits or non-ASCII bytes */
    size_t nt = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        int w = c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!w) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n) {
            unsigned char e = (unsigned char)s[j];
            if (!(e >= 0x80 || (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')))
                break;
            j++;
        }
        if (nt + 1 > d->tok_cap && grow_u64(&d->tok, &d->tok_cap, nt + 1)) return -1;
        d->tok[nt++] = vkft_hash64(s + i, j - i, 0x70c);
        i = j;
    }
    if (nt == 0) return 0;
    size_t cnt = nt >= (size_t)k ? nt - (size_t)k + 1 : 1;
    if (grow_u64(&d->sh, &d->sh_cap, cnt)) return -1;
    for (size_t i = 0; i < cnt; i++) {
        uint64_t h = 0x243f6a8885a308d3ULL;
        size_t e = i + (size_t)k <= nt ? i + (size_t)k : nt;
        for (size_t j = i; j < e; j++) {
            h = (h ^ d->tok[j]) * 0x9e3779b97f4a7c15ULL;
            h ^= h >> 29;
        }
        d->sh[ns++] = h;
    }
    return ns;
}

static long minhash_norm(const vkft_deduper *cd, uint32_t *sig) {
    vkft_deduper *d = (vkft_deduper *)cd;
    long ns = shingles(d);
    if (ns <= 0) return ns;
    const uint64_t *sh = d->sh;
    for (int i = 0; i < d->o.num_perm; i++) {
        uint64_t a = d->a[i], b = d->b[i];
        uint32_t m = UINT32_MAX;
        for (long j = 0; j < ns; j++) {
            uint32_t v = (uint32_t)((sh[j] * a + b) >> 32);
            m = v < m ? v : m;
        }
        sig[i] = m;
    }
    return ns;
}

long vkft_minhash(const vkft_deduper *cd, const char *text, size_t n, uint32_t *sig) {
    vkft_deduper *d = (vkft_deduper *)cd;
    normalize(d, text, n);
    return minhash_norm(d, sig);
}

/* b-bit MinHash (Li and Koenig): with 4 bits kept, two different values agree by chance with probability
 * 1/16, so J = (P(agree) - 1/16) / (15/16). The standard error at J = 0.8 with 128 values is 0.037
 * (0.035 with full values). */
static double est_jaccard(const uint8_t *a, const uint32_t *sig, int np) {
    int eq = 0;
    for (int i = 0; i < np; i++) eq += ((a[i >> 1] >> ((i & 1) * 4)) & 15) == (sig[i] & 15);
    double p = (double)eq / np, c = 1.0 / 16;
    double j = (p - c) / (1 - c);
    return j < 0 ? 0 : j;
}

int vkft_deduper_check(vkft_deduper *d, const char *text, size_t n, long *of, double *sim) {
    normalize(d, text, n);
    *sim = 1.0;
    *of = -1;
    uint64_t eh = 0;
    if (d->o.exact) {
        eh = vkft_hash64(d->norm.p, d->norm.n, 0xe4ac7);
        uint32_t *v = vkft_u64map_get(&d->exact, eh);
        if (v) {
            *of = (long)*v;
            return VKFT_DUP_EXACT;
        }
    }
    long ns = 0;
    int np = d->o.num_perm;
    uint64_t keys[1024];
    if (d->o.near) {
        ns = minhash_norm(d, d->sig);
        if (ns < 0) return -1;
        if (ns > 0) {
            for (int b = 0; b < d->bands; b++) {
                keys[b] = vkft_hash64(d->sig + b * d->rows, sizeof(uint32_t) * (size_t)d->rows,
                                      0xba7d + (uint64_t)b * 0x9e3779b97f4a7c15ULL);
                uint32_t *v = d->o.verify ? vkft_u32map_get(&d->lsh32, (uint32_t)keys[b])
                                          : vkft_u64map_get(&d->lsh, keys[b]);
                if (!v) continue;
                if (!d->o.verify) {
                    *of = (long)*v;
                    *sim = -1;
                    return VKFT_DUP_NEAR;
                }
                d->candidates++;
                double j = est_jaccard(d->sigs + (size_t)*v * (size_t)((np + 1) / 2), d->sig, np);
                if (j >= d->o.threshold) {
                    *of = (long)*v;
                    *sim = j;
                    return VKFT_DUP_NEAR;
                }
                d->rejected++;
            }
        }
    }
    /* a new text: remember it */
    uint32_t id = (uint32_t)d->kept;
    int ins;
    if (d->o.exact && !vkft_u64map_put(&d->exact, eh, id, &ins)) return -1;
    if (d->o.near && ns > 0) {
        for (int b = 0; b < d->bands; b++)
            if (d->o.verify ? !vkft_u32map_put(&d->lsh32, (uint32_t)keys[b], id, &ins)
                            : !vkft_u64map_put(&d->lsh, keys[b], id, &ins))
                return -1;
    }
    if (d->o.near && d->o.verify) {
        size_t sb = (size_t)((np + 1) / 2), need = ((size_t)id + 1) * sb;
        if (need > d->sigs_cap) {
            size_t c = d->sigs_cap ? d->sigs_cap * 2 : sb * 1024;
            while (c < need) c *= 2;
            uint8_t *p = realloc(d->sigs, c);
            if (!p) return -1;
            d->sigs = p;
            d->sigs_cap = c;
        }
        uint8_t *dst = d->sigs + (size_t)id * sb;
        memset(dst, 0, sb);
        if (ns > 0)
            for (int i = 0; i < np; i++) dst[i >> 1] |= (uint8_t)((d->sig[i] & 15) << ((i & 1) * 4));
    }
    d->kept++;
    return VKFT_DUP_NONE;
}

/* ---- the step ---------------------------------------------------------------------------------- */

typedef struct {
    uint32_t file; /* index into the file-name list */
    uint32_t line;
} loc;

struct vkft_dedup_step {
    vkft_deduper *d;
    vkft_dedup_opts o;
    const char *field;
    long exact_dups, near_dups, no_text, records;
    loc *locs;
    size_t locs_cap;
    char **files;
    int nfiles;
    vkft_atomic_file pairs;
    int pairs_open;
};

static uint32_t file_id(vkft_dedup_step *s, const char *path) {
    if (s->nfiles && !strcmp(s->files[s->nfiles - 1], path)) return (uint32_t)(s->nfiles - 1);
    for (int i = 0; i < s->nfiles; i++)
        if (!strcmp(s->files[i], path)) return (uint32_t)i;
    char **f = realloc(s->files, sizeof(char *) * (size_t)(s->nfiles + 1));
    if (!f) return 0;
    s->files = f;
    s->files[s->nfiles] = strdup(path);
    return (uint32_t)s->nfiles++;
}

static int dedup_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    vkft_dedup_step *s = ctx;
    s->records++;
    char buf[64];
    const char *t = vkft_path_text(rec->obj, s->field, buf, sizeof buf);
    if (!t) {
        s->no_text++;
        return VKFT_STEP_KEEP;
    }
    long of;
    double sim;
    int rc = vkft_deduper_check(s->d, t, strlen(t), &of, &sim);
    if (rc < 0) {
        snprintf(err, errlen, "dedup: out of memory");
        return VKFT_STEP_FAIL;
    }
    if (rc == VKFT_DUP_NONE) {
        if (s->o.pairs_path) {
            long id;
            vkft_deduper_stats(s->d, &id, NULL, NULL, NULL);
            id--;
            if ((size_t)id >= s->locs_cap) {
                size_t c = s->locs_cap ? s->locs_cap * 2 : 4096;
                loc *p = realloc(s->locs, c * sizeof *p);
                if (!p) {
                    snprintf(err, errlen, "dedup: out of memory");
                    return VKFT_STEP_FAIL;
                }
                s->locs = p;
                s->locs_cap = c;
            }
            s->locs[id].file = file_id(s, rec->path);
            s->locs[id].line = (uint32_t)rec->line;
        }
        return VKFT_STEP_KEEP;
    }
    if (rc == VKFT_DUP_EXACT)
        s->exact_dups++;
    else
        s->near_dups++;
    if (s->pairs_open) {
        const loc *k = &s->locs[of];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", rc == VKFT_DUP_EXACT ? "exact" : "near");
        cJSON_AddStringToObject(o, "removed_file", rec->path);
        cJSON_AddNumberToObject(o, "removed_line", (double)rec->line);
        cJSON_AddStringToObject(o, "kept_file", s->files[k->file]);
        cJSON_AddNumberToObject(o, "kept_line", (double)k->line);
        if (rc == VKFT_DUP_NEAR && sim >= 0) cJSON_AddNumberToObject(o, "jaccard", round(sim * 1000) / 1000);
        char *p = cJSON_PrintUnformatted(o);
        if (p) fprintf(s->pairs.f, "%s\n", p);
        free(p);
        cJSON_Delete(o);
    }
    return VKFT_STEP_DROP;
}

static void dedup_summarize(void *ctx, cJSON *sum) {
    vkft_dedup_step *s = ctx;
    cJSON *r = cJSON_AddObjectToObject(sum, "dedup");
    long kept, cand, rej;
    size_t bytes;
    vkft_deduper_stats(s->d, &kept, &cand, &rej, &bytes);
    int b, rows;
    vkft_deduper_params(s->d, &b, &rows);
    cJSON_AddNumberToObject(r, "exact_duplicates", (double)s->exact_dups);
    cJSON_AddNumberToObject(r, "near_duplicates", (double)s->near_dups);
    cJSON_AddNumberToObject(r, "duplicate_rate",
                            s->records ? (double)(s->exact_dups + s->near_dups) / (double)s->records : 0.0);
    cJSON_AddNumberToObject(r, "records_without_text", (double)s->no_text);
    cJSON_AddNumberToObject(r, "candidates_verified", (double)cand);
    cJSON_AddNumberToObject(r, "candidates_rejected", (double)rej);
    cJSON *p = cJSON_AddObjectToObject(r, "params");
    cJSON_AddBoolToObject(p, "exact", s->o.exact);
    cJSON_AddBoolToObject(p, "near", s->o.near);
    if (s->o.near) {
        cJSON_AddNumberToObject(p, "threshold", s->o.threshold);
        cJSON_AddNumberToObject(p, "num_perm", s->o.num_perm);
        cJSON_AddNumberToObject(p, "bands", b);
        cJSON_AddNumberToObject(p, "rows", rows);
        cJSON_AddNumberToObject(p, "shingle", s->o.shingle);
        cJSON_AddStringToObject(p, "shingle_unit", s->o.char_shingles ? "chars" : "words");
        cJSON_AddBoolToObject(p, "verify", s->o.verify);
    }
    cJSON_AddNumberToObject(r, "index_bytes", (double)bytes);
}

int vkft_dedup_step_new(vkft_dedup_step **out, const vkft_dedup_opts *o, const char *text_field, int dry_run,
                        vkft_step *step, char *err, size_t errlen) {
    vkft_dedup_step *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->o = *o;
    s->field = text_field;
    if (vkft_deduper_new(&s->d, o, err, errlen)) {
        free(s);
        return -1;
    }
    if (o->pairs_path && !dry_run) {
        if (vkft_atomic_open(&s->pairs, o->pairs_path, err, errlen)) {
            vkft_dedup_step_free(s);
            return -1;
        }
        s->pairs_open = 1;
    } else {
        s->o.pairs_path = NULL;
    }
    memset(step, 0, sizeof *step);
    step->apply = dedup_apply;
    step->summarize = dedup_summarize;
    step->ctx = s;
    *out = s;
    return 0;
}

int vkft_dedup_step_finish(vkft_dedup_step *s, char *err, size_t errlen) {
    if (!s->pairs_open) return 0;
    s->pairs_open = 0;
    return vkft_atomic_commit(&s->pairs, err, errlen);
}

void vkft_dedup_step_free(vkft_dedup_step *s) {
    if (!s) return;
    if (s->pairs_open) vkft_atomic_abort(&s->pairs);
    vkft_deduper_free(s->d);
    for (int i = 0; i < s->nfiles; i++) free(s->files[i]);
    free(s->files);
    free(s->locs);
    free(s);
}
