#include "data/clean.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "data/tokenizer.h"

void vkft_clean_opts_defaults(vkft_clean_opts *o) {
    memset(o, 0, sizeof *o);
    o->normalize = VKFT_NORM_NFC;
    o->strip_control = 1;
    o->collapse_ws = 1;
}

int vkft_clean_add_rule(vkft_clean_opts *o, const char *spec, char *err, size_t errlen) {
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || (size_t)(eq - spec) >= sizeof o->rules[0].path) {
        snprintf(err, errlen, "--missing '%s': expected FIELD=drop or FIELD=fill:VALUE", spec);
        return -1;
    }
    if (o->n_rules >= VKFT_CLEAN_MAX_RULES) {
        snprintf(err, errlen, "--missing: at most %d rules", VKFT_CLEAN_MAX_RULES);
        return -1;
    }
    vkft_missing_rule *r = &o->rules[o->n_rules];
    memset(r, 0, sizeof *r);
    memcpy(r->path, spec, (size_t)(eq - spec));
    if (!strcmp(eq + 1, "drop"))
        r->fill = 0;
    else if (!strncmp(eq + 1, "fill:", 5)) {
        r->fill = 1;
        snprintf(r->value, sizeof r->value, "%s", eq + 6);
    } else {
        snprintf(err, errlen, "--missing '%s': the action must be 'drop' or 'fill:VALUE'", spec);
        return -1;
    }
    o->n_rules++;
    return 0;
}

struct vkft_cleaner {
    vkft_clean_opts o;
    pcre2_code *re_num, *re_date_mdy, *re_date_dmy, *re_date_num;
    pcre2_match_data *md;
    vkft_buf tmp, tmp2;
};

static pcre2_code *compile(const char *pat, char *err, size_t errlen) {
    int ec;
    PCRE2_SIZE off;
    pcre2_code *re =
        pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        snprintf(err, errlen, "regex '%s' at %zu: %s", pat, (size_t)off, (char *)msg);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

#define MONTHS                                                                                               \
    "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"     \
    "oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"

int vkft_cleaner_new(vkft_cleaner **out, const vkft_clean_opts *o, char *err, size_t errlen) {
    vkft_cleaner *c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->o = *o;
    c->re_num = compile("(?<![\\d.,])\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?(?![\\d,]|\\.\\d)", err, errlen);
    c->re_date_mdy =
        compile("(?i)\\b" MONTHS "\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b", err, errlen);
    c->re_date_dmy = compile(
        "(?i)\\b(\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?" MONTHS "\\.?,?\\s+(\\d{4})\\b", err, errlen);
    c->re_date_num =
        compile("(?<![\\d/.-])(\\d{1,2})([/.-])(\\d{1,2})\\2(\\d{4})(?![\\d/.-]\\d)", err, errlen);
    c->md = pcre2_match_data_create(16, NULL);
    if (!c->re_num || !c->re_date_mdy || !c->re_date_dmy || !c->re_date_num || !c->md) {
        vkft_cleaner_free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void vkft_cleaner_free(vkft_cleaner *c) {
    if (!c) return;
    pcre2_code_free(c->re_num);
    pcre2_code_free(c->re_date_mdy);
    pcre2_code_free(c->re_date_dmy);
    pcre2_code_free(c->re_date_num);
    pcre2_match_data_free(c->md);
    vkft_buf_free(&c->tmp);
    vkft_buf_free(&c->tmp2);
    free(c);
}

static int month_of(const char *s) {
    static const char *m[] = {"jan", "feb", "mar", "apr", "may", "jun",
                              "jul", "aug", "sep", "oct", "nov", "dec"};
    char t[4] = {(char)tolower((unsigned char)s[0]), (char)tolower((unsigned char)s[1]),
                 (char)tolower((unsigned char)s[2]), 0};
    for (int i = 0; i < 12; i++)
        if (!strcmp(t, m[i])) return i + 1;
    return 0;
}

static int valid_date(int y, int m, int d) {
    static const int dim[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > dim[m - 1] || y < 1000 || y > 2999) return 0;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 0;
    return 1;
}

typedef int (*subst_fn)(vkft_cleaner *c, const char *s, const PCRE2_SIZE *ov, vkft_buf *out);

/* Replaces every match of re in in[0..n) by what fn appends (fn returns 1 when it replaced, 0 to keep
 * the match as it is). Returns the number of replacements. */
static long substitute(vkft_cleaner *c, pcre2_code *re, const char *in, size_t n, vkft_buf *out,
                       subst_fn fn) {
    out->n = 0;
    size_t pos = 0, copied = 0;
    long count = 0;
    while (pos <= n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)in, n, pos, 0, c->md, NULL);
        if (rc < 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
        vkft_buf_add(out, in + copied, ov[0] - copied);
        size_t mark = out->n;
        if (fn(c, in, ov, out))
            count++;
        else {
            out->n = mark;
            vkft_buf_add(out, in + ov[0], ov[1] - ov[0]);
        }
        copied = ov[1];
        pos = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
    }
    if (copied < n) vkft_buf_add(out, in + copied, n - copied);
    vkft_buf_nul(out);
    return count;
}

static int grp_int(const char *s, const PCRE2_SIZE *ov, int g) {
    int v = 0;
    for (size_t i = ov[2 * g]; i < ov[2 * g + 1]; i++) v = v * 10 + (s[i] - '0');
    return v;
}

static int put_date(vkft_buf *out, int y, int m, int d) {
    if (!valid_date(y, m, d)) return 0;
    char t[48];
    snprintf(t, sizeof t, "%04d-%02d-%02d", y, m, d);
    vkft_buf_adds(out, t);
    return 1;
}

static int sub_mdy(vkft_cleaner *c, const char *s, const PCRE2_SIZE *ov, vkft_buf *out) {
    return put_date(out, grp_int(s, ov, 3), month_of(s + ov[2]), grp_int(s, ov, 2));
}
static int sub_dmy(vkft_cleaner *c, const char *s, const PCRE2_SIZE *ov, vkft_buf *out) {
    return put_date(out, grp_int(s, ov, 3), month_of(s + ov[4]), grp_int(s, ov, 1));
}
static int sub_num_date(vkft_cleaner *c, const char *s, const PCRE2_SIZE *ov, vkft_buf *out) {
    int a = grp_int(s, ov, 1), b = grp_int(s, ov, 3), y = grp_int(s, ov, 4);
    return c->o.dates == VKFT_DATES_DAY_FIRST ? put_date(out, y, b, a) : put_date(out, y, a, b);
}
static int sub_number(vkft_cleaner *c, const char *s, const PCRE2_SIZE *ov, vkft_buf *out) {
    for (size_t i = ov[0]; i < ov[1]; i++)
        if (s[i] != ',') vkft_buf_addc(out, s[i]);
    return 1;
}

static int is_zero_width(int32_t cp) {
    return (cp >= 0x200B && cp <= 0x200F) || cp == 0x2060 || cp == 0xFEFF || cp == 0x00AD || cp == 0x180E ||
           (cp >= 0x2061 && cp <= 0x2064) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static const char *punct_map(int32_t cp) {
    switch (cp) {
    case 0x2018:
    case 0x2019:
    case 0x201A:
    case 0x201B:
    case 0x2032:
    case 0x00B4:
    case 0x0060: return "'";
    case 0x201C:
    case 0x201D:
    case 0x201E:
    case 0x201F:
    case 0x2033:
    case 0x00AB:
    case 0x00BB: return "\"";
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015:
    case 0x2212: return "-";
    case 0x2026: return "...";
    default: return NULL;
    }
}

int vkft_clean_text(vkft_cleaner *c, const char *in, size_t n, vkft_buf *out, vkft_clean_counts *k) {
    const vkft_clean_opts *o = &c->o;
    k->texts++;
    unsigned char *norm = NULL;
    const unsigned char *s = (const unsigned char *)in;
    ssize_t len = (ssize_t)n;
    if (o->normalize != VKFT_NORM_NONE) {
        int flags =
            UTF8PROC_STABLE | UTF8PROC_COMPOSE | (o->normalize == VKFT_NORM_NFKC ? UTF8PROC_COMPAT : 0);
        len = utf8proc_map(s, (utf8proc_ssize_t)n, &norm, (utf8proc_option_t)flags);
        if (len < 0) return -1;
        if ((size_t)len != n || memcmp(norm, in, n)) k->normalized++;
        s = norm;
    }
    /* per code point: controls, zero-width, punctuation, case, specials; spaces become ' ' */
    vkft_buf *t = &c->tmp;
    t->n = 0;
    vkft_buf_reserve(t, (size_t)len + 16);
    int lowered = 0;
    for (ssize_t i = 0; i < len;) {
        int32_t cp;
        ssize_t step = utf8proc_iterate(s + i, len - i, &cp);
        if (step <= 0) {
            free(norm);
            return -1;
        }
        i += step;
        if (cp == '\r') {
            if (i < len && s[i] == '\n') continue;
            cp = '\n';
        }
        if (cp == 0x2028 || cp == 0x2029) cp = '\n';
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cp == '\t' || (cat == UTF8PROC_CATEGORY_ZS && cp != ' ')) {
            vkft_buf_addc(t, ' ');
            continue;
        }
        if (o->strip_control && cp != '\n') {
            if (is_zero_width(cp)) {
                k->zero_width_removed++;
                continue;
            }
            if (cat == UTF8PROC_CATEGORY_CC) {
                k->control_removed++;
                continue;
            }
        }
        if (o->punct) {
            const char *p = punct_map(cp);
            if (p) {
                vkft_buf_adds(t, p);
                k->punct_normalized++;
                continue;
            }
        }
        if (o->strip_special && cp != '\n' && cp != ' ' &&
            !(cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_PO)) {
            k->special_removed++;
            continue;
        }
        if (o->lowercase) {
            int32_t l = utf8proc_tolower(cp);
            if (l != cp) lowered = 1;
            cp = l;
        }
        if (cp < 0x80)
            vkft_buf_addc(t, (char)cp);
        else {
            unsigned char e[4];
            ssize_t m = utf8proc_encode_char(cp, e);
            vkft_buf_add(t, e, (size_t)m);
        }
    }
    free(norm);
    if (lowered) k->lowercased++;
    vkft_buf_nul(t);
    /* whitespace: runs of spaces -> one; lines trimmed; >= 3 newlines -> 2; the text trimmed */
    if (o->collapse_ws) {
        vkft_buf *w = &c->tmp2;
        w->n = 0;
        vkft_buf_reserve(w, t->n + 1);
        int nl = 0, sp = 0, changed = 0;
        for (size_t i = 0; i < t->n; i++) {
            char ch = t->p[i];
            if (ch == ' ') {
                if (sp) changed = 1;
                sp = 1;
                continue;
            }
            if (ch == '\n') {
                if (sp) changed = 1; /* trailing spaces of the line */
                sp = 0;
                nl++;
                continue;
            }
            if (w->n == 0) {
                if (sp || nl) changed = 1; /* leading space */
            } else if (nl) {
                if (sp) changed = 1; /* leading spaces of the line */
                if (nl > 2) changed = 1;
                vkft_buf_add(w, "\n\n", nl > 2 ? 2 : (size_t)nl);
            } else if (sp) {
                vkft_buf_addc(w, ' ');
            }
            nl = sp = 0;
            vkft_buf_addc(w, ch);
        }
        if (sp || nl) changed = 1;
        vkft_buf_nul(w);
        if (changed) k->whitespace_collapsed++;
        vkft_buf tmp = *t;
        *t = *w;
        *w = tmp;
    }
    /* dates, then numbers (a date's "19, 2025" is no thousands separator anyway) */
    vkft_buf *a = t, *b = &c->tmp2;
    if (o->dates != VKFT_DATES_OFF) {
        long m = substitute(c, c->re_date_mdy, a->p, a->n, b, sub_mdy);
        vkft_buf x = *a;
        *a = *b;
        *b = x;
        m += substitute(c, c->re_date_dmy, a->p, a->n, b, sub_dmy);
        x = *a;
        *a = *b;
        *b = x;
        m += substitute(c, c->re_date_num, a->p, a->n, b, sub_num_date);
        x = *a;
        *a = *b;
        *b = x;
        k->dates_standardized += m;
    }
    if (o->numbers) {
        long m = substitute(c, c->re_num, a->p, a->n, b, sub_number);
        vkft_buf x = *a;
        *a = *b;
        *b = x;
        k->numbers_standardized += m;
    }
    out->n = 0;
    vkft_buf_add(out, a->p, a->n);
    vkft_buf_nul(out);
    if (out->n != n || memcmp(out->p, in, n)) k->texts_changed++;
    return 0;
}

void vkft_text_length(const char *s, size_t n, long *chars, long *words) {
    long c = 0, w = 0;
    int in_word = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xC0) != 0x80) c++;
        int space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r';
        if (!space && !in_word) w++;
        in_word = !space;
    }
    if (chars) *chars = c;
    if (words) *words = w;
}

/* ---- the step ---------------------------------------------------------------------------------- */

struct vkft_clean_step {
    vkft_cleaner *c;
    vkft_clean_opts o;
    const char *text_field;
    vkft_clean_counts k;
    vkft_buf out;
    long dropped_missing[VKFT_CLEAN_MAX_RULES + 1], filled[VKFT_CLEAN_MAX_RULES + 1];
    long too_short, too_long, bad_text;
    vkft_tokenizer *tok;
    vkft_tok_ids ids;
};

static int is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r') return 0;
    return 1;
}

static int clean_apply(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen) {
    vkft_clean_step *s = ctx;
    int modified = 0;
    const char *main_field[1] = {s->text_field};
    const char *const *fields = s->o.fields ? s->o.fields : main_field;
    int nf = s->o.fields ? s->o.n_fields : 1;
    for (int i = 0; i < nf; i++) {
        cJSON *v = vkft_path_get(rec->obj, fields[i]);
        if (!cJSON_IsString(v)) continue;
        size_t n = strlen(v->valuestring);
        if (vkft_clean_text(s->c, v->valuestring, n, &s->out, &s->k)) {
            s->bad_text++;
            return VKFT_STEP_DROP;
        }
        if (s->out.n != n || memcmp(s->out.p, v->valuestring, n)) {
            cJSON_SetValuestring(v, s->out.p);
            modified = 1;
        }
    }
    /* missing or empty fields */
    int has_text_rule = 0;
    for (int i = 0; i <= s->o.n_rules; i++) {
        vkft_missing_rule def;
        const vkft_missing_rule *r = &s->o.rules[i];
        if (i == s->o.n_rules) {
            if (has_text_rule) break;
            memset(&def, 0, sizeof def);
            snprintf(def.path, sizeof def.path, "%s", s->text_field);
            r = &def;
        } else if (!strcmp(r->path, s->text_field))
            has_text_rule = 1;
        char buf[64];
        const char *t = vkft_path_text(rec->obj, r->path, buf, sizeof buf);
        if (t && !is_blank(t)) continue;
        if (!r->fill) {
            s->dropped_missing[i]++;
            return VKFT_STEP_DROP;
        }
        if (vkft_path_set_string(rec->obj, r->path, r->value)) {
            snprintf(err, errlen, "%s:%ld: cannot fill '%s' (a parent is not an object)", rec->path,
                     rec->line, r->path);
            return VKFT_STEP_FAIL;
        }
        s->filled[i]++;
        modified = 1;
    }
    /* length filters on the text field */
    char buf[64];
    const char *t = vkft_path_text(rec->obj, s->text_field, buf, sizeof buf);
    if (t && (s->o.min_chars || s->o.max_chars || s->o.min_words || s->o.max_words)) {
        long ch, w;
        vkft_text_length(t, strlen(t), &ch, &w);
        if ((s->o.min_chars && ch < s->o.min_chars) || (s->o.min_words && w < s->o.min_words)) {
            s->too_short++;
            return VKFT_STEP_DROP;
        }
        if ((s->o.max_chars && ch > s->o.max_chars) || (s->o.max_words && w > s->o.max_words)) {
            s->too_long++;
            return VKFT_STEP_DROP;
        }
    }
    if (t && s->tok && (s->o.min_tokens || s->o.max_tokens)) {
        s->ids.n = 0;
        if (vkft_tokenizer_encode(s->tok, t, strlen(t), 0, &s->ids, err, errlen)) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", err);
            snprintf(err, errlen, "%s:%ld: tokenizer: %s", rec->path, rec->line, msg);
            return VKFT_STEP_FAIL;
        }
        long nt = (long)s->ids.n;
        if (s->o.min_tokens && nt < s->o.min_tokens) {
            s->too_short++;
            return VKFT_STEP_DROP;
        }
        if (s->o.max_tokens && nt > s->o.max_tokens) {
            s->too_long++;
            return VKFT_STEP_DROP;
        }
    }
    return modified ? VKFT_STEP_KEEP_MODIFIED : VKFT_STEP_KEEP;
}

static void clean_summarize(void *ctx, cJSON *sum) {
    vkft_clean_step *s = ctx;
    cJSON *r = cJSON_AddObjectToObject(sum, "clean");
    const vkft_clean_counts *k = &s->k;
    cJSON_AddNumberToObject(r, "texts", (double)k->texts);
    cJSON_AddNumberToObject(r, "texts_changed", (double)k->texts_changed);
    cJSON_AddNumberToObject(r, "unicode_normalized", (double)k->normalized);
    cJSON_AddNumberToObject(r, "control_chars_removed", (double)k->control_removed);
    cJSON_AddNumberToObject(r, "zero_width_removed", (double)k->zero_width_removed);
    cJSON_AddNumberToObject(r, "punctuation_normalized", (double)k->punct_normalized);
    cJSON_AddNumberToObject(r, "special_chars_removed", (double)k->special_removed);
    cJSON_AddNumberToObject(r, "lowercased", (double)k->lowercased);
    cJSON_AddNumberToObject(r, "whitespace_collapsed", (double)k->whitespace_collapsed);
    cJSON_AddNumberToObject(r, "numbers_standardized", (double)k->numbers_standardized);
    cJSON_AddNumberToObject(r, "dates_standardized", (double)k->dates_standardized);
    cJSON_AddNumberToObject(r, "dropped_invalid_text", (double)s->bad_text);
    cJSON_AddNumberToObject(r, "dropped_too_short", (double)s->too_short);
    cJSON_AddNumberToObject(r, "dropped_too_long", (double)s->too_long);
    cJSON *m = cJSON_AddObjectToObject(r, "missing");
    int has_text_rule = 0;
    for (int i = 0; i < s->o.n_rules; i++) {
        cJSON *f = cJSON_AddObjectToObject(m, s->o.rules[i].path);
        cJSON_AddStringToObject(f, "action", s->o.rules[i].fill ? "fill" : "drop");
        cJSON_AddNumberToObject(f, s->o.rules[i].fill ? "filled" : "dropped",
                                (double)(s->o.rules[i].fill ? s->filled[i] : s->dropped_missing[i]));
        if (!strcmp(s->o.rules[i].path, s->text_field)) has_text_rule = 1;
    }
    if (!has_text_rule && !cJSON_GetObjectItemCaseSensitive(m, s->text_field)) {
        cJSON *f = cJSON_AddObjectToObject(m, s->text_field);
        cJSON_AddStringToObject(f, "action", "drop");
        cJSON_AddNumberToObject(f, "dropped", (double)s->dropped_missing[s->o.n_rules]);
    }
}

int vkft_clean_step_new(vkft_clean_step **out, const vkft_clean_opts *o, const char *text_field,
                        vkft_step *step, char *err, size_t errlen) {
    vkft_clean_step *s = calloc(1, sizeof *s);
    if (!s) return -1;
    s->o = *o;
    s->text_field = text_field;
    if (vkft_cleaner_new(&s->c, o, err, errlen)) {
        free(s);
        return -1;
    }
    if ((o->min_tokens || o->max_tokens) && !o->tokenizer_path) {
        snprintf(err, errlen,
                 "--min-tokens/--max-tokens need --tokenizer tokenizer.json (or a model folder)");
        vkft_clean_step_free(s);
        return -1;
    }
    if (o->tokenizer_path && vkft_tokenizer_load(o->tokenizer_path, &s->tok, err, errlen)) {
        vkft_clean_step_free(s);
        return -1;
    }
    memset(step, 0, sizeof *step);
    step->apply = clean_apply;
    step->summarize = clean_summarize;
    step->ctx = s;
    *out = s;
    return 0;
}

void vkft_clean_step_free(vkft_clean_step *s) {
    if (!s) return;
    vkft_cleaner_free(s->c);
    vkft_buf_free(&s->out);
    if (s->tok) vkft_tokenizer_free(s->tok);
    vkft_tok_ids_free(&s->ids);
    free(s);
}
