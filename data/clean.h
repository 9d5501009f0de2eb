/* clean: text normalization and record filters for `vkft data clean`.
 *
 * Per text, in this order: Unicode normalization (NFC or NFKC); removal of control characters (except
 * newline and tab) and zero-width/format characters (U+200B..U+200D, U+2060, U+FEFF, soft hyphen...);
 * optional punctuation normalization (curly quotes -> ' and ", dashes -> -, ellipsis -> ...);
 * optional lowercase; optional removal of special characters (symbols, emoji: anything that is not a
 * letter, mark, number, punctuation or space); whitespace collapse (runs of spaces -> one, lines
 * trimmed, three or more newlines -> two); optional date standardization to YYYY-MM-DD ("March 19,
 * 2025", "19 March 2025", "19/03/2025" read day-first or month-first by a stated rule; impossible
 * dates are left alone); optional number standardization ("1,234.50" -> "1234.50").
 * Per record: missing or empty fields dropped or filled per field; length filters on the text field. */
#ifndef VKFT_DATA_CLEAN_H
#define VKFT_DATA_CLEAN_H
#include "data/records.h"
#include "data/step.h"

enum { VKFT_NORM_NONE = 0, VKFT_NORM_NFC, VKFT_NORM_NFKC };
enum { VKFT_DATES_OFF = 0, VKFT_DATES_DAY_FIRST, VKFT_DATES_MONTH_FIRST };

#define VKFT_CLEAN_MAX_RULES 32

typedef struct {
    char path[128];
    int fill; /* 0: drop the record; 1: fill with value */
    char value[256];
} vkft_missing_rule;

typedef struct {
    int normalize;                                   /* VKFT_NORM_*, default NFC */
    int strip_control;                               /* default 1 */
    int collapse_ws;                                 /* default 1 */
    int lowercase;                                   /* default 0 */
    int punct;                                       /* default 0 */
    int strip_special;                               /* default 0 */
    int numbers;                                     /* default 0 */
    int dates;                                       /* VKFT_DATES_*, default off */
    long min_chars, max_chars, min_words, max_words; /* 0: no limit (characters are code points) */
    long min_tokens, max_tokens; /* 0: no limit; tokens of tokenizer_path (needed when set) */
    const char *tokenizer_path;  /* tokenizer.json or a model folder, for the token filters */
    const char *const *fields;   /* fields to clean; NULL: only the io's text field */
    int n_fields;
    vkft_missing_rule rules[VKFT_CLEAN_MAX_RULES]; /* the text field defaults to drop */
    int n_rules;
} vkft_clean_opts;

void vkft_clean_opts_defaults(vkft_clean_opts *o);
/* Parses "PATH=drop" or "PATH=fill:VALUE" into o->rules. */
int vkft_clean_add_rule(vkft_clean_opts *o, const char *spec, char *err, size_t errlen);

typedef struct {
    long texts, texts_changed;
    long normalized, control_removed, zero_width_removed, punct_normalized, special_removed;
    long lowercased, whitespace_collapsed, numbers_standardized, dates_standardized;
} vkft_clean_counts;

typedef struct vkft_cleaner vkft_cleaner;
int vkft_cleaner_new(vkft_cleaner **c, const vkft_clean_opts *o, char *err, size_t errlen);
void vkft_cleaner_free(vkft_cleaner *c);
/* Cleans one text into out (replaced, NUL-terminated). Returns 0 or -1 (invalid UTF-8). */
int vkft_clean_text(vkft_cleaner *c, const char *in, size_t n, vkft_buf *out, vkft_clean_counts *counts);
/* Number of code points and whitespace-separated words. */
void vkft_text_length(const char *s, size_t n, long *chars, long *words);

/* The step (for vkft_data_run and the pipeline). */
typedef struct vkft_clean_step vkft_clean_step;
int vkft_clean_step_new(vkft_clean_step **s, const vkft_clean_opts *o, const char *text_field,
                        vkft_step *step, char *err, size_t errlen);
void vkft_clean_step_free(vkft_clean_step *s);

#endif
