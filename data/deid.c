#include "data/deid.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "data/u64map.h"
#include "util/fsutil.h"

static const char *const type_names[VKFT_PII_NTYPES] = {"EMAIL", "URL", "IP",      "CARD", "IBAN", "SSN",
                                                        "PHONE", "DOB", "ADDRESS", "MRN",  "NAME"};

const char *vkft_pii_name(int type) { return type >= 0 && type < VKFT_PII_NTYPES ? type_names[type] : "?"; }

int vkft_pii_parse_types(const char *list, unsigned *mask, char *err, size_t errlen) {
    *mask = 0;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", list);
    char *save;
    for (char *p = strtok_r(tmp, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        int found = -1;
        for (int i = 0; i < VKFT_PII_NTYPES; i++)
            if (!strcasecmp(p, type_names[i])) found = i;
        if (!strcasecmp(p, "all")) {
            *mask = (1u << VKFT_PII_NTYPES) - 1;
            continue;
        }
        if (found < 0) {
            snprintf(err, errlen,
                     "unknown personal-data type '%s'; known: EMAIL,URL,IP,CARD,IBAN,SSN,PHONE,DOB,"
                     "ADDRESS,MRN,NAME",
                     p);
            return -1;
        }
        *mask |= 1u << found;
    }
    return 0;
}

void vkft_deid_opts_defaults(vkft_deid_opts *o) {
    memset(o, 0, sizeof *o);
    o->types = (1u << VKFT_PII_NTYPES) - 1;
}

/* ---- checks ------------------------------------------------------------------------------------ */

int vkft_luhn_ok(const char *d, size_t n) {
    int sum = 0, dbl = 0;
    for (size_t i = n; i-- > 0;) {
        int v = d[i] - '0';
        if (v < 0 || v > 9) return 0;
        if (dbl) {
            v *= 2;
            if (v > 9) v -= 9;
        }
        sum += v;
        dbl = !dbl;
    }
    return sum % 10 == 0;
}

int vkft_iban_ok(const char *s, size_t n) {
    char c[40];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ') continue;
        if (k >= 34 || !isalnum((unsigned char)s[i])) return 0;
        c[k++] = (char)toupper((unsigned char)s[i]);
    }
    if (k < 15 || !isalpha((unsigned char)c[0]) || !isalpha((unsigned char)c[1]) ||
        !isdigit((unsigned char)c[2]) || !isdigit((unsigned char)c[3]))
        return 0;
    /* move the first four characters to the end, letters -> 10..35, mod 97 == 1 */
    unsigned rem = 0;
    for (size_t i = 0; i < k; i++) {
        char ch = c[(i + 4) % k];
        if (isdigit((unsigned char)ch))
            rem = (rem * 10 + (unsigned)(ch - '0')) % 97;
        else
            rem = (rem * 100 + (unsigned)(ch - 'A' + 10)) % 97;
    }
    return rem == 1;
}

/* ---- detectors --------------------------------------------------------------------------------- */

#define MONTHS                                                                                               \
    "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"   \
    "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

typedef struct {
    int type;
    const char *pattern;
    int check; /* 0 none, 1 Luhn, 2 IBAN, 3 IPv6, 4 international phone, 5 URL trim */
} detector_def;

static const detector_def defs[] = {
    {VKFT_PII_EMAIL,
     "(?<![\\w.+%-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\\.)+[A-Za-z]{2,}"
     "(?![\\w@-])",
     0},
    {VKFT_PII_URL, "(?i)\\b(?:https?://|ftp://|www\\.)[^\\s<>\"']+", 5},
    {VKFT_PII_IP,
     "(?<![\\w.])(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
     "(?!\\.?\\d|\\w)",
     0},
    {VKFT_PII_IP,
     "(?<![\\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\\d{1,3}\\.){3}\\d{1,3})?"
     "(?![\\w:])",
     3},
    {VKFT_PII_CARD, "(?<![\\d-])\\d(?:[ -]?\\d){12,18}(?![\\d-]|[ ]\\d)", 1},
    {VKFT_PII_IBAN, "\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\\b", 2},
    {VKFT_PII_SSN, "(?<![\\d-])(?!000|666|9\\d\\d)\\d{3}-(?!00)\\d{2}-(?!0000)\\d{4}(?![\\d-])", 0},
    {VKFT_PII_SSN,
     "(?i)\\b(?:ssn|social\\s+security(?:\\s+(?:number|no\\.?|#))?)\\s*(?:is|:|#)?\\s*"
     "((?!000|666|9\\d\\d)\\d{3}[ ]?(?!00)\\d{2}[ ]?(?!0000)\\d{4})\\b",
     0},
    {VKFT_PII_PHONE,
     "(?<![\\w+(-])(?:\\+?1[ .-]?)?(?:\\(\\d{3}\\)[ ]?|\\d{3}[ .-])\\d{3}[ .-]\\d{4}(?![\\w-])", 0},
    {VKFT_PII_PHONE, "(?<![\\w+])\\+\\d{1,3}(?:[ .-]?\\(?\\d{1,5}\\)?){1,6}(?![\\w])", 4},
    {VKFT_PII_DOB,
     "(?i)\\b(?:born(?:\\s+on)?|d\\.?o\\.?b\\.?|date\\s+of\\s+birth|birth\\s*date|birthday)"
     "\\s*(?:is|was)?\\s*[:-]?\\s*(\\d{1,2}[/.-]\\d{1,2}[/.-]\\d{2,4}|\\d{4}-\\d{2}-\\d{2}|" MONTHS
     "\\.?\\s+\\d{1,2}(?:st|nd|rd|th)?,?\\s+\\d{4}|\\d{1,2}(?:st|nd|rd|th)?\\s+(?:of\\s+)?" MONTHS
     "\\.?,?\\s+\\d{4})",
     0},
    {VKFT_PII_ADDRESS,
     "\\b\\d{1,6}\\s+(?:[NSEW]\\.?\\s+)?(?:[A-Z][A-Za-z'-]+\\s+){1,3}(?:(?:Street|Avenue|Road|"
     "Boulevard|Lane|Drive|Court|Way|Place|Terrace|Parkway|Circle|Highway|Square)\\b|"
     "(?:St|Ave|Rd|Blvd|Ln|Dr|Ct|Pl|Ter|Pkwy|Cir|Hwy|Sq)\\b\\.?)(?:,?\\s+(?:Apt|Apartment|Suite|Ste|Unit|#)"
     "\\.?\\s*"
     "[A-Za-z0-9-]+)?(?:,\\s*[A-Z][A-Za-z]+(?:\\s+[A-Z][A-Za-z]+)*,\\s*[A-Z]{2}\\s+\\d{5}"
     "(?:-\\d{4})?)?",
     0},
};
static const char *default_mrn = "(?i)\\b(?:MRN|medical\\s+record\\s+(?:number|no\\.?|#))\\s*(?:is|:|#)?\\s*:"
                                 "?\\s*([A-Z]{0,3}-?\\d{5,10})\\b";

typedef struct {
    int type, check;
    pcre2_code *re;
} detector;

#define NAME_FIRST 1
#define NAME_LAST 2
#define NAME_AMBIG 4

struct vkft_deid {
    vkft_deid_opts o;
    detector det[32];
    int ndet;
    pcre2_match_data *md;
    vkft_u64map names, stop;
    vkft_pii_span *cand, *spans;
    int ncand, nspans, cap;
    vkft_u64map ph;            /* placeholder numbers by (type, value) */
    int next[VKFT_PII_NTYPES]; /* next placeholder number per type */
    vkft_buf key;
};

static uint64_t lower_hash(const char *s, size_t n) {
    char tmp[64];
    if (n > sizeof tmp) n = sizeof tmp;
    for (size_t i = 0; i < n; i++) tmp[i] = (char)tolower((unsigned char)s[i]);
    return vkft_hash64(tmp, n, 0x4a3e);
}

static int add_name(vkft_u64map *m, const char *s, size_t n, uint32_t flags) {
    int ins;
    uint32_t *v = vkft_u64map_put(m, lower_hash(s, n), flags, &ins);
    if (!v) return -1;
    if (!ins) *v |= flags;
    return 0;
}

static const char *const stopwords[] = {
    "The",      "A",       "An",         "And",      "Or",        "But",      "If",        "In",
    "On",       "At",      "To",         "For",      "Of",        "By",       "With",      "From",
    "Dear",     "Hi",      "Hello",      "Thanks",   "Thank",     "Yes",      "No",        "I",
    "We",       "You",     "He",         "She",      "They",      "It",       "This",      "That",
    "Street",   "St",      "Avenue",     "Ave",      "Road",      "Rd",       "Boulevard", "Lane",
    "Drive",    "Court",   "Way",        "Place",    "January",   "February", "March",     "April",
    "May",      "June",    "July",       "August",   "September", "October",  "November",  "December",
    "Monday",   "Tuesday", "Wednesday",  "Thursday", "Friday",    "Saturday", "Sunday",    "Is",
    "Was",      "Has",     "Had",        "Will",     "Can",       "Called",   "Said",      "Says",
    "Hospital", "Clinic",  "University", "Inc",      "Ltd",       "Corp",     "Company",   "Bank",
    "Team",     "Group",   "Department", "Center",   "Centre",    NULL};

void vkft_deid_free(vkft_deid *d) {
    if (!d) return;
    for (int i = 0; i < d->ndet; i++) pcre2_code_free(d->det[i].re);
    pcre2_match_data_free(d->md);
    vkft_u64map_free(&d->names);
    vkft_u64map_free(&d->stop);
    vkft_u64map_free(&d->ph);
    free(d->cand);
    free(d->spans);
    vkft_buf_free(&d->key);
    free(d);
}

static int add_detector(vkft_deid *d, int type, const char *pat, int check, char *err, size_t errlen) {
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "pattern for %s '%s': %s at offset %zu", type_names[type], pat, (char *)msg,
                 (size_t)off);
        return -1;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    d->det[d->ndet].type = type;
    d->det[d->ndet].check = check;
    d->det[d->ndet].re = re;
    d->ndet++;
    return 0;
}

int vkft_deid_new(vkft_deid **out, const vkft_deid_opts *o, char *err, size_t errlen) {
    vkft_deid *d = calloc(1, sizeof *d);
    if (!d) return -1;
    d->o = *o;
    d->md = pcre2_match_data_create(16, NULL);
    if (vkft_u64map_init(&d->names, 1024) || vkft_u64map_init(&d->stop, 256) || vkft_u64map_init(&d->ph, 16))
        goto fail_oom;
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
        if ((o->types >> defs[i].type) & 1)
            if (add_detector(d, defs[i].type, defs[i].pattern, defs[i].check, err, errlen)) goto fail;
    if ((o->types >> VKFT_PII_MRN) & 1) {
        if (o->n_mrn == 0) {
            if (add_detector(d, VKFT_PII_MRN, default_mrn, 0, err, errlen)) goto fail;
        }
        for (int i = 0; i < o->n_mrn; i++)
            if (add_detector(d, VKFT_PII_MRN, o->mrn_patterns[i], 0, err, errlen)) goto fail;
    }
    if (!o->no_default_names) {
        for (int i = 0; vkft_default_first_names[i]; i++)
            add_name(&d->names, vkft_default_first_names[i], strlen(vkft_default_first_names[i]), NAME_FIRST);
        for (int i = 0; vkft_default_surnames[i]; i++)
            add_name(&d->names, vkft_default_surnames[i], strlen(vkft_default_surnames[i]), NAME_LAST);
        for (int i = 0; vkft_ambiguous_names[i]; i++)
            add_name(&d->names, vkft_ambiguous_names[i], strlen(vkft_ambiguous_names[i]), NAME_AMBIG);
    }
    for (int i = 0; stopwords[i]; i++) {
        int ins;
        vkft_u64map_put(&d->stop, lower_hash(stopwords[i], strlen(stopwords[i])), 1, &ins);
    }
    if (o->names_file) {
        char *data;
        size_t n;
        if (vkft_read_file(o->names_file, &data, &n, err, errlen)) goto fail;
        char *save;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            size_t len = strlen(line);
            while (len && (line[len - 1] == '\r' || line[len - 1] == ' ')) line[--len] = 0;
            if (!len || line[0] == '#') continue;
            /* every word of a line is a name (first and last: user names are never ambiguous) */
            char *s2;
            for (char *w = strtok_r(line, " \t", &s2); w; w = strtok_r(NULL, " \t", &s2))
                add_name(&d->names, w, strlen(w), NAME_FIRST | NAME_LAST | 8);
        }
        free(data);
    }
    if (!d->md) goto fail_oom;
    *out = d;
    return 0;
fail_oom:
    snprintf(err, errlen, "out of memory");
fail:
    vkft_deid_free(d);
    return -1;
}

static int push(vkft_deid *d, int type, size_t s, size_t e) {
    if (e <= s) return 0;
    if (d->ncand >= d->cap) {
        int c = d->cap ? d->cap * 2 : 64;
        vkft_pii_span *a = realloc(d->cand, sizeof *a * (size_t)c),
                      *b = realloc(d->spans, sizeof *b * (size_t)c);
        if (a) d->cand = a;
        if (b) d->spans = b;
        if (!a || !b) return -1;
        d->cap = c;
    }
    d->cand[d->ncand].type = type;
    d->cand[d->ncand].start = s;
    d->cand[d->ncand].end = e;
    d->ncand++;
    return 0;
}

static int check_span(const detector *det, const char *t, size_t *s, size_t *e) {
    char digits[64];
    size_t nd = 0;
    switch (det->check) {
    case 1: /* card: Luhn over 13..19 digits, not all the same digit */
        for (size_t i = *s; i < *e; i++)
            if (isdigit((unsigned char)t[i]) && nd < sizeof digits) digits[nd++] = t[i];
        if (nd < 13 || nd > 19 || !vkft_luhn_ok(digits, nd)) return 0;
        for (size_t i = 1; i < nd; i++)
            if (digits[i] != digits[0]) return 1;
        return 0;
    case 2: return vkft_iban_ok(t + *s, *e - *s);
    case 3: { /* IPv6 */
        char buf[64];
        size_t n = *e - *s;
        if (n < 3 || n >= sizeof buf) return 0;
        memcpy(buf, t + *s, n);
        buf[n] = 0;
        unsigned char addr[16];
        return inet_pton(AF_INET6, buf, addr) == 1;
    }
    case 4: /* international phone: 8..15 digits */
        for (size_t i = *s; i < *e; i++) nd += isdigit((unsigned char)t[i]) != 0;
        while (*e > *s && (t[*e - 1] == ' ' || t[*e - 1] == '-' || t[*e - 1] == '.')) (*e)--;
        return nd >= 8 && nd <= 15;
    case 5: /* URL: trailing punctuation is not part of it; unbalanced closing parens neither */
        while (*e > *s && strchr(".,;:!?'\")]}>", t[*e - 1])) {
            if (t[*e - 1] == ')') {
                int open = 0;
                for (size_t i = *s; i < *e - 1; i++) open += (t[i] == '(') - (t[i] == ')');
                if (open > 0) break;
            }
            (*e)--;
        }
        return *e > *s + 4;
    default: return 1;
    }
}

typedef struct {
    size_t s, e;
    int cap;
} word;

static int is_title(const char *s, size_t n) {
    static const char *const t[] = {"Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Mx", "Sir", "Madam", NULL};
    for (int i = 0; t[i]; i++)
        if (strlen(t[i]) == n && !memcmp(t[i], s, n)) return 1;
    return 0;
}

/* Names from the list (see deid.h). */
static int find_names(vkft_deid *d, const char *t, size_t n) {
    word w[512];
    size_t pos = 0;
    while (pos < n) {
        int nw = 0;
        /* words in a window of at most 512 */
        while (pos < n && nw < 512) {
            unsigned char c = (unsigned char)t[pos];
            if (!(isalpha(c) || c >= 0x80)) {
                pos++;
                continue;
            }
            size_t s = pos;
            while (pos < n) {
                unsigned char e = (unsigned char)t[pos];
                if (isalpha(e) || e >= 0x80 ||
                    ((e == '\'' || e == '-') && pos + 1 < n && isalpha((unsigned char)t[pos + 1])))
                    pos++;
                else
                    break;
            }
            w[nw].s = s;
            w[nw].e = pos;
            if (c < 0x80)
                w[nw].cap = isupper(c) != 0;
            else {
                int32_t cp = 0;
                utf8proc_iterate((const utf8proc_uint8_t *)t + s, (utf8proc_ssize_t)(n - s), &cp);
                w[nw].cap = utf8proc_category(cp) == UTF8PROC_CATEGORY_LU;
            }
            nw++;
        }
        for (int i = 0; i < nw; i++) {
            if (!w[i].cap) continue;
            size_t len = w[i].e - w[i].s;
            /* adjacent: separated by exactly one space (or ". " after an initial) */
            int next_adj = i + 1 < nw && w[i + 1].cap && w[i + 1].s == w[i].e + 1 && t[w[i].e] == ' ';
            if (is_title(t + w[i].s, len) && i + 1 < nw && w[i + 1].cap) {
                size_t gap = w[i + 1].s - w[i].e;
                if (gap <= 2 && (t[w[i].e] == ' ' || t[w[i].e] == '.')) {
                    int j = i + 1;
                    if (j + 1 < nw && w[j + 1].cap && w[j + 1].s == w[j].e + 1 && t[w[j].e] == ' ' &&
                        !vkft_u64map_get(&d->stop, lower_hash(t + w[j + 1].s, w[j + 1].e - w[j + 1].s)))
                        j++;
                    if (push(d, VKFT_PII_NAME, w[i + 1].s, w[j].e)) return -1;
                    i = j;
                    continue;
                }
            }
            uint32_t *f = vkft_u64map_get(&d->names, lower_hash(t + w[i].s, len));
            uint32_t flags = f ? *f : 0;
            int stop_i = vkft_u64map_get(&d->stop, lower_hash(t + w[i].s, len)) != NULL;
            uint32_t nflags = 0;
            int next_stop = 1;
            if (next_adj) {
                uint32_t *g = vkft_u64map_get(&d->names, lower_hash(t + w[i + 1].s, w[i + 1].e - w[i + 1].s));
                nflags = g ? *g : 0;
                next_stop =
                    vkft_u64map_get(&d->stop, lower_hash(t + w[i + 1].s, w[i + 1].e - w[i + 1].s)) != NULL;
            }
            /* First Last: a known first name and a capitalized non-stopword; or any capitalized
             * non-stopword and a known unambiguous surname */
            if (stop_i && flags) stop_i = 0; /* "May", "Will": names when a surname follows */
            if (next_adj && !next_stop && !stop_i &&
                ((flags & NAME_FIRST) || ((nflags & NAME_LAST) && !(nflags & NAME_AMBIG)))) {
                if (push(d, VKFT_PII_NAME, w[i].s, w[i + 1].e)) return -1;
                i++;
                continue;
            }
            if ((flags & NAME_FIRST) && !(flags & NAME_AMBIG) && !stop_i) {
                if (push(d, VKFT_PII_NAME, w[i].s, w[i].e)) return -1;
            }
        }
    }
    return 0;
}

static int span_cmp(const void *a, const void *b) {
    const vkft_pii_span *x = a, *y = b;
    size_t lx = x->end - x->start, ly = y->end - y->start;
    if (lx != ly) return lx > ly ? -1 : 1;
    if (x->type != y->type) return x->type - y->type;
    return x->start < y->start ? -1 : x->start > y->start;
}
static int start_cmp(const void *a, const void *b) {
    const vkft_pii_span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

int vkft_deid_find(vkft_deid *d, const char *t, size_t n, const vkft_pii_span **spans, int *nspans) {
    d->ncand = 0;
    for (int k = 0; k < d->ndet; k++) {
        const detector *det = &d->det[k];
        size_t pos = 0;
        while (pos <= n) {
            int rc = pcre2_match(det->re, (PCRE2_SPTR)t, n, pos, 0, d->md, NULL);
            if (rc < 0) break;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(d->md);
            size_t s = ov[0], e = ov[1];
            if (rc >= 2 && ov[2] != PCRE2_UNSET) {
                s = ov[2];
                e = ov[3];
            }
            if (check_span(det, t, &s, &e) && push(d, det->type, s, e)) return -1;
            pos = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
        }
    }
    if (((d->o.types >> VKFT_PII_NAME) & 1) && find_names(d, t, n)) return -1;
    /* overlaps: longest first, then by type order */
    if (d->ncand > 1) qsort(d->cand, (size_t)d->ncand, sizeof *d->cand, span_cmp);
    d->nspans = 0;
    for (int i = 0; i < d->ncand; i++) {
        int ok = 1;
        for (int j = 0; j < d->nspans && ok; j++)
            if (d->cand[i].start < d->spans[j].end && d->spans[j].start < d->cand[i].end) ok = 0;
        if (ok) d->spans[d->nspans++] = d->cand[i];
    }
    if (d->nspans > 1) qsort(d->spans, (size_t)d->nspans, sizeof *d->spans, start_cmp);
    *spans = d->spans;
    *nspans = d->nspans;
    return 0;
}

void vkft_deid_reset_scope(vkft_deid *d) {
    if (d->ph.n) {
        vkft_u64map_free(&d->ph);
        vkft_u64map_init(&d->ph, 16);
    }
    memset(d->next, 0, sizeof d->next);
}

/* The placeholder number of a value: the same (normalized) value gets the same number. */
static int placeholder(vkft_deid *d, int type, const char *v, size_t n) {
    vkft_buf *k = &d->key;
    k->n = 0;
    vkft_buf_addc(k, (char)('A' + type));
    int digits_only = type == VKFT_PII_PHONE || type == VKFT_PII_CARD || type == VKFT_PII_SSN ||
                      type == VKFT_PII_IBAN || type == VKFT_PII_MRN;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (digits_only && !isalnum(c)) continue;
        vkft_buf_addc(k, (char)tolower(c));
    }
    int ins;
    uint32_t *num =
        vkft_u64map_put(&d->ph, vkft_hash64(k->p, k->n, 0x9a), (uint32_t)(d->next[type] + 1), &ins);
    if (!num) return -1;
    if (ins) d->next[type]++;
    return (int)*num;
}

int vkft_deid_replace(vkft_deid *d, const char *t, size_t n, vkft_buf *out, long *counts) {
    const vkft_pii_span *sp;
    int ns;
    out->n = 0;
    if (vkft_deid_find(d, t, n, &sp, &ns)) return -1;
    size_t at = 0;
    for (int i = 0; i < ns; i++) {
        vkft_buf_add(out, t + at, sp[i].start - at);
        int num = placeholder(d, sp[i].type, t + sp[i].start, sp[i].end - sp[i].start);
        if (num < 0) return -1;
        char ph[48];
        snprintf(ph, sizeof ph, "[%s_%d]", type_names[sp[i].type], num);
        vkft_buf_adds(out, ph);
        at = sp[i].end;
        if (counts) counts[sp[i].type]++;
    }
    vkft_buf_add(out, t + at, n - at);
    vkft_buf_nul(out);
    return ns;
}

/* ---- the step ---------------------------------------------------------------------------------- */

struct vkft_deid_step {
    vkft_deid *d;
    vkft_deid_opts o;
    const char *field;
    long counts[VKFT_PII_NTYPES];
    long records_changed, values_changed;
    vkft_buf out;
    vkft_atomic_file audit;
    int audit_open;
    char path[512];
};

static int audit_spans(vkft_deid_step *s, const vkft_record *rec, const char *field, const char *text,
                       const char *replaced) {
    /* spans are recomputed for the audit (only when --audit is on) */
    const vkft_pii_span *sp;
    int ns;
    if (vkft_deid_find(s->d, text, strlen(text), &sp, &ns)) return -1;
    /* placeholders: read back from the replaced text in order */
    const char *p = replaced;
    for (int i = 0; i < ns; i++) {
        const char *b = strchr(p, '['), *e = b ? strchr(b, ']') : NULL;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "file", rec->path);
        cJSON_AddNumberToObject(o, "line", (double)rec->line);
        cJSON_AddStringToObject(o, "field", field);
        cJSON_AddStringToObject(o, "type", type_names[sp[i].type]);
        cJSON_AddNumberToObject(o, "start", (double)sp[i].start);
        cJSON_AddNumberToObject(o, "end", (double)sp[i].end);
        if (b && e) {
            char ph[64];
            size_t n = (size_t)(e - b + 1) < sizeof ph ? (size_t)(e - b + 1) : sizeof ph - 1;
            memcpy(ph, b, n);
            ph[n] = 0;
            cJSON_AddStringToObject(o, "placeholder", ph);
            p = e + 1;
        }
        if (s->o.audit_values) {
            char *v = strndup(text + sp[i].start, sp[i].end - sp[i].start);
            cJSON_AddStringToObject(o, "value", v ? v : "");
            free(v);
        }
        char *js = cJSON_PrintUnformatted(o);
        if (js) fprintf(s->audit.f, "%s\n", js);
        free(js);
        cJSON_Delete(o);
    }
    return 0;
}

static int deid_value(vkft_deid_step *s, vkft_record *rec, cJSON *v, const char *field) {
    const char *text = v->valuestring;
    int ns = vkft_deid_replace(s->d, text, strlen(text), &s->out, s->counts);
    if (ns < 0) return -1;
    if (ns == 0) return 0;
    if (s->audit_open && audit_spans(s, rec, field, text, s->out.p)) return -1;
    cJSON_SetValuestring(v, s->out.p);
    s->values_changed++;
    return 1;
}

static int walk(vkft_deid_step *s, vkft_record *rec, cJSON *node, char *path, size_t plen) {
    int changed = 0, i = 0;
    for (cJSON *c = node->child; c; c = c->next, i++) {
        size_t n = plen;
        if (cJSON_IsArray(node))
            n += (size_t)snprintf(path + plen, 512 - plen, "%s%d", plen ? "." : "", i);
        else
            n += (size_t)snprintf(path + plen, 512 - plen, "%s%s", plen ? "." : "", c->string);
        if (n >= 511) n = 511;
        if (cJSON_IsString(c)) {
            int r = deid_value(s, rec, c, path);
            if (r < 0) return -1;
            changed |= r;
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            int r = walk(s, rec, c, path, n);
            if (r < 0) return -1;
            changed |= r;
        }
        path[plen] = 0;
    }
    return changed;
}

static int deid_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    vkft_deid_step *s = ctx;
    if (s->o.scope == VKFT_DEID_SCOPE_RECORD) vkft_deid_reset_scope(s->d);
    int changed;
    if (s->o.all_fields) {
        s->path[0] = 0;
        changed = walk(s, rec, rec->obj, s->path, 0);
    } else {
        cJSON *v = vkft_path_get(rec->obj, s->field);
        changed = cJSON_IsString(v) ? deid_value(s, rec, v, s->field) : 0;
    }
    if (changed < 0) {
        snprintf(err, errlen, "deid: out of memory");
        return VKFT_STEP_FAIL;
    }
    if (changed) s->records_changed++;
    return changed ? VKFT_STEP_KEEP_MODIFIED : VKFT_STEP_KEEP;
}

static void deid_summarize(void *ctx, cJSON *sum) {
    vkft_deid_step *s = ctx;
    cJSON *r = cJSON_AddObjectToObject(sum, "deid");
    cJSON *c = cJSON_AddObjectToObject(r, "found");
    long total = 0;
    for (int i = 0; i < VKFT_PII_NTYPES; i++) {
        if ((s->o.types >> i) & 1) cJSON_AddNumberToObject(c, type_names[i], (double)s->counts[i]);
        total += s->counts[i];
    }
    cJSON_AddNumberToObject(r, "total", (double)total);
    cJSON_AddNumberToObject(r, "records_changed", (double)s->records_changed);
    cJSON_AddNumberToObject(r, "values_changed", (double)s->values_changed);
    cJSON_AddStringToObject(r, "placeholder_scope", s->o.scope == VKFT_DEID_SCOPE_FILE ? "file" : "record");
}

int vkft_deid_step_new(vkft_deid_step **out, const vkft_deid_opts *o, const char *text_field, int dry_run,
                       vkft_step *step, char *err, size_t errlen) {
    vkft_deid_step *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->o = *o;
    s->field = text_field;
    if (vkft_deid_new(&s->d, o, err, errlen)) {
        free(s);
        return -1;
    }
    if (o->audit_path && !dry_run) {
        if (vkft_atomic_open(&s->audit, o->audit_path, err, errlen)) {
            vkft_deid_step_free(s);
            return -1;
        }
        s->audit_open = 1;
    }
    memset(step, 0, sizeof *step);
    step->apply = deid_apply;
    step->summarize = deid_summarize;
    step->ctx = s;
    *out = s;
    return 0;
}

int vkft_deid_step_finish(vkft_deid_step *s, char *err, size_t errlen) {
    if (!s->audit_open) return 0;
    s->audit_open = 0;
    return vkft_atomic_commit(&s->audit, err, errlen);
}

void vkft_deid_step_free(vkft_deid_step *s) {
    if (!s) return;
    if (s->audit_open) vkft_atomic_abort(&s->audit);
    vkft_deid_free(s->d);
    vkft_buf_free(&s->out);
    free(s);
}
