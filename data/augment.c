#include "data/augment.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/u64map.h"
#include "util/fsutil.h"

static const char *const method_names[VKFT_AUG_NMETHODS] = {"sr",  "ri",         "rs",           "rd",
                                                            "reorder", "mlm", "paraphrase", "backtranslate"};

int vkft_augment_method_needs_model(int m) {
    return m == VKFT_AUG_MLM || m == VKFT_AUG_PARAPHRASE || m == VKFT_AUG_BACKTRANSLATE;
}

const char *vkft_augment_method_name(int m) {
    return m >= 0 && m < VKFT_AUG_NMETHODS ? method_names[m] : "?";
}

void vkft_augment_opts_defaults(vkft_augment_opts *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < 4; i++) o->methods[i] = i;
    o->n_methods = 4;
    o->rate = 0.1;
    o->copies = 1;
    o->max_copies = 8;
    o->max_senses = 2;
    o->provenance_field = "augmentation";
    o->seed = 1;
    o->top_k = 5;
}

int vkft_augment_parse_methods(vkft_augment_opts *o, const char *list, char *err, size_t errlen) {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", list);
    o->n_methods = 0;
    char *save;
    for (char *p = strtok_r(tmp, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        int m = -1;
        for (int i = 0; i < VKFT_AUG_NMETHODS; i++)
            if (!strcasecmp(p, method_names[i])) m = i;
        if (m < 0) {
            snprintf(err, errlen,
                     "unknown augmentation method '%s'; known: sr, ri, rs, rd, reorder, mlm, paraphrase, "
                     "backtranslate",
                     p);
            return -1;
        }
        if (o->n_methods >= VKFT_AUG_NMETHODS) break;
        o->methods[o->n_methods++] = m;
    }
    if (!o->n_methods) {
        snprintf(err, errlen, "no augmentation method given");
        return -1;
    }
    return 0;
}

static const char *const stop[] = {
    "a",       "an",     "the",    "and",   "or",    "but",   "if",      "of",   "at",    "by",    "for",
    "with",    "about",  "to",     "from",  "in",    "on",    "up",      "out",  "off",   "over",  "under",
    "again",   "then",   "once",   "here",  "there", "when",  "where",   "why",  "how",   "all",   "any",
    "both",    "each",   "few",    "more",  "most",  "other", "some",    "such", "no",    "nor",   "not",
    "only",    "own",    "same",   "so",    "than",  "too",   "very",    "can",  "will",  "just",  "should",
    "now",     "i",      "me",     "my",    "we",    "our",   "you",     "your", "he",    "him",   "his",
    "she",     "her",    "it",     "its",   "they",  "them",  "their",   "what", "which", "who",   "whom",
    "this",    "that",   "these",  "those", "am",    "is",    "are",     "was",  "were",  "be",    "been",
    "being",   "have",   "has",    "had",   "do",    "does",  "did",     "as",   "until", "while", "into",
    "through", "during", "before", "after", "above", "below", "between", NULL};

typedef struct {
    char **w;
    int n, cap;
} words;

static void words_free(words *ws) {
    for (int i = 0; i < ws->n; i++) free(ws->w[i]);
    free(ws->w);
    ws->w = NULL;
    ws->n = ws->cap = 0;
}

static int words_insert(words *ws, int at, char *s) {
    if (ws->n == ws->cap) {
        int c = ws->cap ? ws->cap * 2 : 32;
        char **p = realloc(ws->w, sizeof(char *) * (size_t)c);
        if (!p) return -1;
        ws->w = p;
        ws->cap = c;
    }
    memmove(ws->w + at + 1, ws->w + at, sizeof(char *) * (size_t)(ws->n - at));
    ws->w[at] = s;
    ws->n++;
    return 0;
}

struct vkft_augmenter {
    vkft_augment_opts o;
    vkft_wordnet *wn;
    char ***prot; /* protected phrases: arrays of lowercase words, NULL-terminated */
    int nprot;
    vkft_u64map stop;
    vkft_buf syn;
};

static uint64_t lower_hash(const char *s, size_t n) {
    char t[128];
    if (n > sizeof t) n = sizeof t;
    for (size_t i = 0; i < n; i++) t[i] = (char)tolower((unsigned char)s[i]);
    return vkft_hash64(t, n, 0x570b);
}

int vkft_augmenter_new(vkft_augmenter **out, const vkft_augment_opts *o, char *err, size_t errlen) {
    vkft_augmenter *a = calloc(1, sizeof *a);
    if (!a) return -1;
    a->o = *o;
    vkft_u64map_init(&a->stop, 256);
    for (int i = 0; stop[i]; i++) {
        int ins;
        vkft_u64map_put(&a->stop, lower_hash(stop[i], strlen(stop[i])), 1, &ins);
    }
    int need_wn = 0;
    for (int i = 0; i < o->n_methods; i++)
        need_wn |= o->methods[i] == VKFT_AUG_SR || o->methods[i] == VKFT_AUG_RI;
    if (need_wn && vkft_wordnet_open(&a->wn, o->wordnet_dir, err, errlen)) {
        vkft_augmenter_free(a);
        return -1;
    }
    for (int i = 0; i < o->n_protected_terms; i++)
        if (vkft_augmenter_protect(a, o->protected_terms[i])) {
            snprintf(err, errlen, "out of memory");
            vkft_augmenter_free(a);
            return -1;
        }
    if (o->protected_file) {
        char *data;
        size_t n;
        if (vkft_read_file(o->protected_file, &data, &n, err, errlen)) {
            vkft_augmenter_free(a);
            return -1;
        }
        char *save;
        for (char *line = strtok_r(data, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
            if (line[0] != '#') vkft_augmenter_protect(a, line);
        free(data);
    }
    *out = a;
    return 0;
}

void vkft_augmenter_free(vkft_augmenter *a) {
    if (!a) return;
    for (int i = 0; i < a->nprot; i++) {
        for (int j = 0; a->prot[i][j]; j++) free(a->prot[i][j]);
        free(a->prot[i]);
    }
    free(a->prot);
    vkft_wordnet_close(a->wn);
    vkft_u64map_free(&a->stop);
    vkft_buf_free(&a->syn);
    free(a);
}

int vkft_augmenter_protect(vkft_augmenter *a, const char *term) {
    char **ph = calloc(33, sizeof(char *));
    if (!ph) return -1;
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", term);
    int k = 0;
    char *save;
    for (char *w = strtok_r(tmp, " \t", &save); w && k < 32; w = strtok_r(NULL, " \t", &save)) {
        for (char *c = w; *c; c++) *c = (char)tolower((unsigned char)*c);
        ph[k++] = strdup(w);
    }
    if (!k) {
        free(ph);
        return 0;
    }
    char ***p = realloc(a->prot, sizeof(char **) * (size_t)(a->nprot + 1));
    if (!p) return -1;
    a->prot = p;
    a->prot[a->nprot++] = ph;
    return 0;
}

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static int rnd(uint64_t *s, int n) { return n > 0 ? (int)(next_u64(s) % (uint64_t)n) : 0; }
static double unif(uint64_t *s) { return (double)(next_u64(s) >> 11) / 9007199254740992.0; }

/* The core of a token: without leading/trailing ASCII punctuation. */
static void core(const char *w, size_t *s, size_t *e) {
    size_t n = strlen(w), a = 0, b = n;
    while (a < n && ispunct((unsigned char)w[a])) a++;
    while (b > a && ispunct((unsigned char)w[b - 1])) b--;
    *s = a;
    *e = b;
}

static int core_eq(const char *w, const char *lower) {
    size_t s, e;
    core(w, &s, &e);
    size_t n = strlen(lower);
    if (e - s != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)w[s + i]) != lower[i]) return 0;
    return 1;
}

static void mark_protected(vkft_augmenter *a, const words *ws, char *prot) {
    memset(prot, 0, (size_t)ws->n);
    for (int p = 0; p < a->nprot; p++) {
        char **ph = a->prot[p];
        int k = 0;
        while (ph[k]) k++;
        for (int i = 0; i + k <= ws->n; i++) {
            int ok = 1;
            for (int j = 0; j < k && ok; j++) ok = core_eq(ws->w[i + j], ph[j]);
            if (ok)
                for (int j = 0; j < k; j++) prot[i + j] = 1;
        }
    }
}

static int eligible(vkft_augmenter *a, const char *w) {
    size_t s, e;
    core(w, &s, &e);
    if (e - s < 2) return 0;
    for (size_t i = s; i < e; i++)
        if (!isalpha((unsigned char)w[i]) && w[i] != '-' && w[i] != '\'') return 0;
    return !vkft_u64map_get(&a->stop, lower_hash(w + s, e - s));
}

/* A random synonym of token w (with w's punctuation and first-letter case), malloc'd; NULL if none. */
static char *synonym_for(vkft_augmenter *a, const char *w, int keep_punct, uint64_t *rng) {
    if (!a->wn) return NULL;
    size_t s, e;
    core(w, &s, &e);
    int n = vkft_wordnet_synonyms(a->wn, w + s, e - s, a->o.max_senses, &a->syn);
    if (n <= 0) return NULL;
    int pick = rnd(rng, n);
    const char *p = a->syn.p;
    for (int i = 0; i < pick; i++) p += strlen(p) + 1;
    size_t len = strlen(p);
    char *r = malloc(len + strlen(w) + 1);
    if (!r) return NULL;
    size_t k = 0;
    if (keep_punct) {
        memcpy(r, w, s);
        k = s;
    }
    memcpy(r + k, p, len);
    if (isupper((unsigned char)w[s])) r[k] = (char)toupper((unsigned char)r[k]);
    k += len;
    if (keep_punct) {
        memcpy(r + k, w + e, strlen(w) - e);
        k += strlen(w) - e;
    }
    r[k] = 0;
    return r;
}

static int split_words(const char *text, words *ws) {
    const char *p = text;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        const char *q = p;
        while (*q && !isspace((unsigned char)*q)) q++;
        if (words_insert(ws, ws->n, strndup(p, (size_t)(q - p)))) return -1;
        p = q;
    }
    return 0;
}

static void join(const words *ws, vkft_buf *out) {
    out->n = 0;
    for (int i = 0; i < ws->n; i++) {
        if (i) vkft_buf_addc(out, ' ');
        vkft_buf_adds(out, ws->w[i]);
    }
    vkft_buf_nul(out);
}

static int reorder(const char *text, vkft_buf *out, uint64_t *rng) {
    /* sentences end at . ! ? (runs, with closing quotes/brackets) followed by whitespace */
    const char *starts[256];
    size_t lens[256];
    int n = 0;
    const char *p = text;
    while (*p && isspace((unsigned char)*p)) p++;
    const char *s = p;
    while (*p && n < 255) {
        if (*p == '.' || *p == '!' || *p == '?') {
            const char *q = p;
            while (*q == '.' || *q == '!' || *q == '?' || *q == '"' || *q == '\'' || *q == ')') q++;
            if (!*q || isspace((unsigned char)*q)) {
                starts[n] = s;
                lens[n++] = (size_t)(q - s);
                while (*q && isspace((unsigned char)*q)) q++;
                s = p = q;
                continue;
            }
        }
        p++;
    }
    if (*s) {
        starts[n] = s;
        lens[n] = strlen(s);
        while (lens[n] && isspace((unsigned char)s[lens[n] - 1])) lens[n]--;
        if (lens[n]) n++;
    }
    if (n < 2) return 0;
    int order[256];
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = rnd(rng, i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int same = 1;
    for (int i = 0; i < n; i++) same &= order[i] == i;
    if (same) { /* rotate: the output must differ */
        for (int i = 0; i < n; i++) order[i] = (i + 1) % n;
    }
    out->n = 0;
    for (int i = 0; i < n; i++) {
        if (i) vkft_buf_addc(out, ' ');
        vkft_buf_add(out, starts[order[i]], lens[order[i]]);
    }
    vkft_buf_nul(out);
    return 1;
}

int vkft_augment_text(vkft_augmenter *a, int method, const char *text, vkft_buf *out, uint64_t *rng) {
    if (method == VKFT_AUG_REORDER) return reorder(text, out, rng);
    if (vkft_augment_method_needs_model(method)) return 0; /* through the step's backend only */
    words ws = {0};
    if (split_words(text, &ws)) {
        words_free(&ws);
        return -1;
    }
    if (ws.n == 0) {
        words_free(&ws);
        return 0;
    }
    char *prot = malloc((size_t)ws.n + 64);
    mark_protected(a, &ws, prot);
    int nchange = (int)lround(a->o.rate * ws.n);
    if (nchange < 1) nchange = 1;
    int changed = 0;
    if (method == VKFT_AUG_SR) {
        int *idx = malloc(sizeof(int) * (size_t)ws.n), m = 0;
        for (int i = 0; i < ws.n; i++)
            if (!prot[i] && eligible(a, ws.w[i])) idx[m++] = i;
        for (int i = m - 1; i > 0; i--) {
            int j = rnd(rng, i + 1), t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        for (int i = 0; i < m && changed < nchange; i++) {
            char *s = synonym_for(a, ws.w[idx[i]], 1, rng);
            if (!s) continue;
            free(ws.w[idx[i]]);
            ws.w[idx[i]] = s;
            changed++;
        }
        free(idx);
    } else if (method == VKFT_AUG_RI) {
        for (int k = 0; k < nchange; k++) {
            char *s = NULL;
            for (int tries = 0; tries < 20 && !s; tries++) {
                int i = rnd(rng, ws.n);
                if (!prot[i] && eligible(a, ws.w[i])) s = synonym_for(a, ws.w[i], 0, rng);
            }
            if (!s) break;
            for (char *c = s; *c; c++) *c = (char)tolower((unsigned char)*c);
            int at = rnd(rng, ws.n + 1);
            /* never inside a protected phrase */
            for (int tries = 0; tries < 10 && at > 0 && at < ws.n && prot[at - 1] == 1 && prot[at] == 1;
                 tries++)
                at = rnd(rng, ws.n + 1);
            if (at > 0 && at < ws.n && prot[at - 1] == 1 && prot[at] == 1) at = ws.n;
            char *np = realloc(prot, (size_t)ws.n + 65);
            if (!np) break;
            prot = np;
            memmove(prot + at + 1, prot + at, (size_t)(ws.n - at));
            prot[at] = 2; /* an inserted word is not touched again */
            words_insert(&ws, at, s);
            changed++;
        }
    } else if (method == VKFT_AUG_RS) {
        int free_n = 0;
        for (int i = 0; i < ws.n; i++) free_n += !prot[i];
        for (int k = 0; k < nchange && free_n >= 2; k++) {
            int i, j, tries = 0;
            do {
                i = rnd(rng, ws.n);
                j = rnd(rng, ws.n);
            } while ((i == j || prot[i] || prot[j] || !strcmp(ws.w[i], ws.w[j])) && ++tries < 50);
            if (tries >= 50) break;
            char *t = ws.w[i];
            ws.w[i] = ws.w[j];
            ws.w[j] = t;
            changed++;
        }
    } else if (method == VKFT_AUG_RD) {
        if (ws.n > 1) {
            words keep = {0};
            for (int i = 0; i < ws.n; i++) {
                if (!prot[i] && unif(rng) < a->o.rate) {
                    free(ws.w[i]);
                    changed++;
                } else
                    words_insert(&keep, keep.n, ws.w[i]);
                ws.w[i] = NULL;
            }
            if (keep.n == 0) { /* all deleted: nothing kept, so the text stays */
                changed = 0;
                words_free(&keep);
                free(prot);
                free(ws.w);
                return 0;
            }
            free(ws.w);
            ws = keep;
        }
    }
    if (changed) join(&ws, out);
    words_free(&ws);
    free(prot);
    return changed > 0;
}

/* ---- masked-LM substitution (the model's part runs in the backend) ----------------------------- */

/* Picks the words to mask, as sr picks the words to replace, and writes the text with their cores
 * replaced by the mask token. masked[] receives the word indices in text order; returns the count. */
static int mlm_mask(vkft_augmenter *a, const words *ws, uint64_t *rng, const char *mask, int *masked,
                    vkft_buf *out) {
    char *prot = malloc((size_t)ws->n + 1);
    int *idx = malloc(sizeof(int) * (size_t)ws->n + 1), m = 0;
    if (!prot || !idx) {
        free(prot);
        free(idx);
        return -1;
    }
    mark_protected(a, ws, prot);
    for (int i = 0; i < ws->n; i++)
        if (!prot[i] && eligible(a, ws->w[i])) idx[m++] = i;
    for (int i = m - 1; i > 0; i--) {
        int j = rnd(rng, i + 1), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    int want = (int)lround(a->o.rate * ws->n), nm = 0;
    if (want < 1) want = 1;
    if (want > m) want = m;
    char *pick = calloc((size_t)ws->n + 1, 1);
    for (int i = 0; i < want; i++) pick[idx[i]] = 1;
    out->n = 0;
    for (int i = 0; i < ws->n; i++) {
        if (i) vkft_buf_addc(out, ' ');
        if (!pick[i]) {
            vkft_buf_adds(out, ws->w[i]);
            continue;
        }
        size_t cs, ce;
        core(ws->w[i], &cs, &ce);
        vkft_buf_add(out, ws->w[i], cs);
        vkft_buf_adds(out, mask);
        vkft_buf_adds(out, ws->w[i] + ce);
        masked[nm++] = i;
    }
    vkft_buf_nul(out);
    free(pick);
    free(idx);
    free(prot);
    return nm;
}

/* A candidate is acceptable when it is not the word it replaces and not a protected one-word term. */
static int mlm_acceptable(vkft_augmenter *a, const char *word, const char *cand) {
    size_t cs, ce, n = strlen(cand);
    core(word, &cs, &ce);
    if (ce - cs == n && !strncasecmp(word + cs, cand, n)) return 0;
    for (int p = 0; p < a->nprot; p++)
        if (!a->prot[p][1] && !strcasecmp(a->prot[p][0], cand)) return 0;
    return 1;
}

/* Replaces each masked word by one of the first top_k acceptable candidates (cands: the backend's
 * answer), keeping the word's punctuation and first-letter case; records each choice in detail (an
 * array). Returns the number of words replaced. */
static int mlm_fill(vkft_augmenter *a, words *ws, const int *masked, int nm, const char *cands,
                    size_t cands_len, uint64_t *rng, cJSON *detail) {
    const char *p = cands, *end = cands + cands_len;
    int replaced = 0;
    for (int k = 0; k < nm; k++) {
        const char *ok[64];
        int n_ok = 0;
        while (p < end && *p) { /* this mask's list, up to its empty terminator */
            if (n_ok < a->o.top_k && n_ok < 64 && mlm_acceptable(a, ws->w[masked[k]], p)) ok[n_ok++] = p;
            p += strlen(p) + 1;
        }
        if (p < end) p++;
        char *word = ws->w[masked[k]];
        size_t cs, ce;
        core(word, &cs, &ce);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "word", masked[k]);
        char *from = strndup(word + cs, ce - cs);
        cJSON_AddStringToObject(d, "from", from);
        free(from);
        if (!n_ok) {
            cJSON_AddNullToObject(d, "to");
            cJSON_AddItemToArray(detail, d);
            continue;
        }
        const char *c = ok[rnd(rng, n_ok)];
        size_t cl = strlen(c), tail = strlen(word) - ce;
        char *r = malloc(cs + cl + tail + 1);
        memcpy(r, word, cs);
        memcpy(r + cs, c, cl);
        if (isupper((unsigned char)word[cs])) r[cs] = (char)toupper((unsigned char)r[cs]);
        memcpy(r + cs + cl, word + ce, tail + 1);
        cJSON_AddStringToObject(d, "to", c);
        cJSON_AddItemToArray(detail, d);
        free(ws->w[masked[k]]);
        ws->w[masked[k]] = r;
        replaced++;
    }
    return replaced;
}

/* ---- the step ---------------------------------------------------------------------------------- */

/* With a model method: what the first pass keeps per record, and the copies made between the passes. */
typedef struct {
    int method;
    char *text;
    cJSON *detail; /* provenance extras: mlm substitutions, the generation seed */
} aug_copy;
typedef struct {
    char *text, *label; /* NULL when absent */
    uint64_t rng;
    aug_copy *copies;
    int n_copies;
} aug_rec;
typedef struct {
    long rec;
    uint64_t rng;
    int *masked, nm;
} aug_job_meta;

struct vkft_augment_step {
    vkft_augmenter *a;
    int deferred; /* a model method is used: two passes, model work in between */
    aug_rec *recs;
    long n_recs, cap_recs, cursor;
    vkft_augment_opts o;
    const char *field, *label_field;
    vkft_u64map label_ids;
    long counts[1024];
    int nlabels;
    long max_count;
    long made[VKFT_AUG_NMETHODS], skipped[VKFT_AUG_NMETHODS], records_augmented, model_jobs;
    vkft_buf out;
};

static int label_id(vkft_augment_step *s, const char *l, int add) {
    uint64_t h = vkft_hash64(l, strlen(l), 0x1abe1);
    uint32_t *v = vkft_u64map_get(&s->label_ids, h);
    if (v) return (int)*v;
    if (!add || s->nlabels >= 1024) return -1;
    int ins;
    vkft_u64map_put(&s->label_ids, h, (uint32_t)s->nlabels, &ins);
    s->counts[s->nlabels] = 0;
    return s->nlabels++;
}

static int aug_count(void *ctx, const vkft_record *rec, char *err, size_t errlen) {
    vkft_augment_step *s = ctx;
    char buf[64];
    const char *l = vkft_path_text(rec->obj, s->label_field, buf, sizeof buf);
    if (!l) return 0;
    int id = label_id(s, l, 1);
    if (id >= 0 && ++s->counts[id] > s->max_count) s->max_count = s->counts[id];
    return 0;
}

static int copies_for_label(vkft_augment_step *s, const char *l) {
    if (s->o.n_per_class) {
        if (!l) return 0;
        for (int i = 0; i < s->o.n_per_class; i++)
            if (!strcmp(s->o.per_class[i].label, l)) return s->o.per_class[i].copies;
        return 0;
    }
    if (s->o.minority) {
        if (!l) return 0;
        int id = label_id(s, l, 0);
        if (id < 0 || !s->counts[id]) return 0;
        long c = lround((double)s->max_count / (double)s->counts[id]) - 1;
        return (int)(c > s->o.max_copies ? s->o.max_copies : c < 0 ? 0 : c);
    }
    return s->o.copies;
}

static int copies_for(vkft_augment_step *s, const cJSON *obj) {
    char buf[64];
    return copies_for_label(s, vkft_path_text(obj, s->label_field, buf, sizeof buf));
}

static uint64_t record_rng(const vkft_augment_step *s, const vkft_record *rec) {
    return s->o.seed ^ vkft_hash64(rec->path, strlen(rec->path), 7) ^
           ((uint64_t)rec->line * 0x9e3779b97f4a7c15ULL);
}

/* Writes one augmented copy of rec with its provenance (detail's items are added to it). */
static int emit_copy(vkft_augment_step *s, vkft_record *rec, int m, const char *text, const cJSON *detail,
                     vkft_emitter *em, char *err, size_t errlen) {
    cJSON *copy = cJSON_Duplicate(rec->obj, 1);
    if (!copy) {
        snprintf(err, errlen, "augment: out of memory");
        return -1;
    }
    cJSON_SetValuestring(vkft_path_get(copy, s->field), text);
    cJSON_DeleteItemFromObjectCaseSensitive(copy, s->o.provenance_field);
    cJSON *p = cJSON_AddObjectToObject(copy, s->o.provenance_field);
    char src[600];
    snprintf(src, sizeof src, "%s:%ld", rec->path, rec->line);
    cJSON_AddStringToObject(p, "source", src);
    cJSON_AddNumberToObject(p, "source_index", (double)rec->index);
    cJSON_AddStringToObject(p, "method", method_names[m]);
    for (const cJSON *d = detail ? detail->child : NULL; d; d = d->next)
        cJSON_AddItemToObject(p, d->string, cJSON_Duplicate(d, 1));
    int w = vkft_emit(em, copy, err, errlen);
    cJSON_Delete(copy);
    return w ? -1 : 0;
}

/* ---- deferred mode (model methods) --------------------------------------------------------------- */

static int keep_count(void *ctx, const vkft_record *rec, char *err, size_t errlen) {
    vkft_augment_step *s = ctx;
    if (s->o.minority) aug_count(ctx, rec, err, errlen);
    if (s->n_recs == s->cap_recs) {
        long c = s->cap_recs ? s->cap_recs * 2 : 1024;
        aug_rec *p = realloc(s->recs, sizeof *p * (size_t)c);
        if (!p) {
            snprintf(err, errlen, "augment: out of memory keeping the texts");
            return -1;
        }
        s->recs = p;
        s->cap_recs = c;
    }
    aug_rec *r = &s->recs[s->n_recs++];
    memset(r, 0, sizeof *r);
    cJSON *v = vkft_path_get(rec->obj, s->field);
    char buf[64];
    const char *l = vkft_path_text(rec->obj, s->label_field, buf, sizeof buf);
    if (cJSON_IsString(v)) r->text = strdup(v->valuestring);
    if (l) r->label = strdup(l);
    r->rng = record_rng(s, rec);
    return 0;
}

static void add_copy(aug_rec *r, int m, char *text, cJSON *detail) {
    aug_copy *p = realloc(r->copies, sizeof *p * (size_t)(r->n_copies + 1));
    if (!p) {
        free(text);
        cJSON_Delete(detail);
        return;
    }
    r->copies = p;
    r->copies[r->n_copies++] = (aug_copy){m, text, detail};
}

/* Generated text: leading whitespace skipped, cut at the first line break, trailing whitespace trimmed. */
static char *first_line(const char *t) {
    while (*t && isspace((unsigned char)*t)) t++;
    size_t n = strcspn(t, "\r\n");
    while (n && isspace((unsigned char)t[n - 1])) n--;
    return strndup(t, n);
}

/* Between the passes: every copy of every record; the model jobs in one call to the backend. */
static int deferred_prepare(void *ctx, char *err, size_t errlen) {
    vkft_augment_step *s = ctx;
    vkft_aug_job *jobs = NULL;
    aug_job_meta *meta = NULL;
    long nj = 0, cap = 0;
    int rc = -1;
    for (long i = 0; i < s->n_recs; i++) {
        aug_rec *r = &s->recs[i];
        if (!r->text) continue;
        int copies = copies_for_label(s, r->label);
        for (int c = 0; c < copies; c++) {
            int m = s->o.methods[c % s->o.n_methods];
            if (!vkft_augment_method_needs_model(m)) {
                int trc = vkft_augment_text(s->a, m, r->text, &s->out, &r->rng);
                if (trc < 0) goto oom;
                if (trc == 0)
                    s->skipped[m]++;
                else
                    add_copy(r, m, strdup(s->out.p), NULL);
                continue;
            }
            if (nj == cap) {
                cap = cap ? cap * 2 : 256;
                vkft_aug_job *nj_ = realloc(jobs, sizeof *jobs * (size_t)cap);
                aug_job_meta *nm_ = nj_ ? realloc(meta, sizeof *meta * (size_t)cap) : NULL;
                if (nj_) jobs = nj_;
                if (!nm_) goto oom;
                meta = nm_;
            }
            vkft_aug_job *j = &jobs[nj];
            aug_job_meta *mt = &meta[nj];
            memset(j, 0, sizeof *j);
            memset(mt, 0, sizeof *mt);
            mt->rec = i;
            mt->rng = next_u64(&r->rng); /* each job its own generator: results do not depend on batching */
            j->method = m;
            j->seed = mt->rng & 0xffffffffu; /* fits a JSON number exactly, for the provenance */
            if (m == VKFT_AUG_MLM) {
                words ws = {0};
                if (split_words(r->text, &ws)) {
                    words_free(&ws);
                    goto oom;
                }
                mt->masked = malloc(sizeof(int) * (size_t)ws.n + 1);
                vkft_buf mtext = {0};
                int n = mt->masked ? mlm_mask(s->a, &ws, &mt->rng, s->o.backend->mask_token, mt->masked, &mtext)
                                   : -1;
                words_free(&ws);
                if (n < 0) goto oom;
                if (n == 0) {
                    s->skipped[m]++;
                    free(mt->masked);
                    vkft_buf_free(&mtext);
                    continue;
                }
                mt->nm = n;
                j->n_masks = n;
                j->text = mtext.p; /* owned by the job */
            } else {
                j->text = r->text;
            }
            nj++;
        }
    }
    s->model_jobs = nj;
    if (nj && s->o.backend->run(s->o.backend->user, jobs, nj, err, errlen)) goto done;
    for (long k = 0; k < nj; k++) {
        vkft_aug_job *j = &jobs[k];
        aug_job_meta *mt = &meta[k];
        aug_rec *r = &s->recs[mt->rec];
        int m = j->method;
        if (!j->ok) {
            s->skipped[m]++;
            continue;
        }
        cJSON *detail = cJSON_CreateObject();
        char *text = NULL;
        if (m == VKFT_AUG_MLM) {
            words ws = {0};
            split_words(r->text, &ws);
            cJSON *subs = cJSON_AddArrayToObject(detail, "substitutions");
            if (j->out && mlm_fill(s->a, &ws, mt->masked, mt->nm, j->out, j->out_len, &mt->rng, subs) > 0) {
                join(&ws, &s->out);
                text = strdup(s->out.p);
            }
            words_free(&ws);
        } else {
            text = first_line(j->out ? j->out : "");
            cJSON_AddNumberToObject(detail, "seed", (double)j->seed);
            if (text && (!*text || !strcmp(text, r->text))) {
                free(text);
                text = NULL;
            }
        }
        if (!text) {
            s->skipped[m]++;
            cJSON_Delete(detail);
            continue;
        }
        add_copy(r, m, text, detail);
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "augment: out of memory");
done:
    for (long k = 0; k < nj; k++) {
        if (jobs[k].method == VKFT_AUG_MLM) free((char *)jobs[k].text);
        free(jobs[k].out);
        free(meta[k].masked);
    }
    free(jobs);
    free(meta);
    return rc;
}

static int deferred_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    vkft_augment_step *s = ctx;
    if (s->cursor >= s->n_recs) {
        snprintf(err, errlen, "%s:%ld: the input changed between the two passes", rec->path, rec->line);
        return VKFT_STEP_FAIL;
    }
    aug_rec *r = &s->recs[s->cursor++];
    if (r->n_copies) s->records_augmented++;
    for (int c = 0; c < r->n_copies; c++) {
        aug_copy *cp = &r->copies[c];
        if (emit_copy(s, rec, cp->method, cp->text, cp->detail, em, err, errlen)) return VKFT_STEP_FAIL;
        s->made[cp->method]++;
        free(cp->text);
        cJSON_Delete(cp->detail);
    }
    free(r->copies);
    free(r->text);
    free(r->label);
    memset(r, 0, sizeof *r);
    return VKFT_STEP_KEEP;
}

static int aug_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    vkft_augment_step *s = ctx;
    cJSON *v = vkft_path_get(rec->obj, s->field);
    if (!cJSON_IsString(v)) return VKFT_STEP_KEEP;
    int copies = copies_for(s, rec->obj);
    if (copies <= 0) return VKFT_STEP_KEEP;
    uint64_t rng = record_rng(s, rec);
    int any = 0;
    for (int c = 0; c < copies; c++) {
        int m = s->o.methods[c % s->o.n_methods];
        int rc = vkft_augment_text(s->a, m, v->valuestring, &s->out, &rng);
        if (rc < 0) {
            snprintf(err, errlen, "augment: out of memory");
            return VKFT_STEP_FAIL;
        }
        if (rc == 0) {
            s->skipped[m]++;
            continue;
        }
        if (emit_copy(s, rec, m, s->out.p, NULL, em, err, errlen)) return VKFT_STEP_FAIL;
        s->made[m]++;
        any = 1;
    }
    if (any) s->records_augmented++;
    return VKFT_STEP_KEEP;
}

static void aug_summarize(void *ctx, cJSON *sum) {
    vkft_augment_step *s = ctx;
    cJSON *r = cJSON_AddObjectToObject(sum, "augment");
    cJSON *m = cJSON_AddObjectToObject(r, "made"), *k = cJSON_AddObjectToObject(r, "skipped_not_applicable");
    for (int i = 0; i < s->o.n_methods; i++) {
        int id = s->o.methods[i];
        if (cJSON_GetObjectItem(m, method_names[id])) continue;
        cJSON_AddNumberToObject(m, method_names[id], (double)s->made[id]);
        cJSON_AddNumberToObject(k, method_names[id], (double)s->skipped[id]);
    }
    cJSON_AddNumberToObject(r, "records_augmented", (double)s->records_augmented);
    cJSON_AddNumberToObject(r, "rate", s->o.rate);
    cJSON_AddNumberToObject(r, "protected_terms", (double)s->a->nprot);
    cJSON_AddStringToObject(r, "provenance_field", s->o.provenance_field);
    if (s->deferred) {
        cJSON_AddNumberToObject(r, "model_jobs", (double)s->model_jobs);
        cJSON_AddNumberToObject(r, "top_k", s->o.top_k);
    }
}

int vkft_augment_step_new(vkft_augment_step **out, const vkft_augment_opts *o, const char *text_field,
                          const char *label_field, vkft_step *step, char *err, size_t errlen) {
    if (o->rate <= 0 || o->rate >= 1) {
        snprintf(err, errlen, "--rate %g: use a fraction in (0, 1), e.g. 0.1", o->rate);
        return -1;
    }
    vkft_augment_step *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->o = *o;
    s->field = text_field;
    s->label_field = label_field;
    vkft_u64map_init(&s->label_ids, 64);
    if (vkft_augmenter_new(&s->a, o, err, errlen)) {
        vkft_u64map_free(&s->label_ids);
        free(s);
        return -1;
    }
    memset(step, 0, sizeof *step);
    for (int i = 0; i < o->n_methods; i++) s->deferred |= vkft_augment_method_needs_model(o->methods[i]);
    if (s->deferred && !o->backend) {
        snprintf(err, errlen, "augmentation methods mlm, paraphrase and backtranslate need a model (--model DIR)");
        vkft_augment_step_free(s);
        return -1;
    }
    if (s->deferred) {
        step->count = keep_count;
        step->prepare = deferred_prepare;
        step->apply = deferred_apply;
    } else {
        if (o->minority) step->count = aug_count;
        step->apply = aug_apply;
    }
    step->summarize = aug_summarize;
    step->ctx = s;
    *out = s;
    return 0;
}

void vkft_augment_step_free(vkft_augment_step *s) {
    if (!s) return;
    vkft_augmenter_free(s->a);
    for (long i = 0; i < s->n_recs; i++) {
        for (int c = 0; c < s->recs[i].n_copies; c++) {
            free(s->recs[i].copies[c].text);
            cJSON_Delete(s->recs[i].copies[c].detail);
        }
        free(s->recs[i].copies);
        free(s->recs[i].text);
        free(s->recs[i].label);
    }
    free(s->recs);
    vkft_u64map_free(&s->label_ids);
    vkft_buf_free(&s->out);
    free(s);
}
