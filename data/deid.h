/* deid: finds personal data in text and replaces it with typed, consistent placeholders ([EMAIL_1]).
 *
 * Detectors (PCRE2 with JIT, plus checks in C):
 *   EMAIL, URL (http/https/ftp/www., trailing punctuation trimmed), IP (IPv4 with octet ranges; IPv6
 *   validated by inet_pton), PHONE (North-American with separators or parentheses, and international
 *   "+CC ..." with 8..15 digits), SSN (AAA-GG-SSSS without the never-issued areas 000/666/9xx, or nine
 *   digits after "SSN"), CARD (13..19 digits, optional space/dash groups, Luhn-checked), IBAN
 *   (ISO 13616 mod-97 checksum), DOB (a date after "born", "DOB", "date of birth"...), ADDRESS (a
 *   house number, capitalized street name and a street suffix, optional unit and "City, ST 12345"),
 *   MRN (configurable patterns; default: a 5..10-digit id after "MRN"/"medical record number"),
 *   NAME (from a names list: a known first name followed by a capitalized word, a title such as "Dr."
 *   followed by capitalized words, or a known unambiguous first name alone; a default list of common
 *   English first names and surnames ships in the binary; users add their own with a file).
 * Overlapping matches resolve to the longest span; ties go to the type listed first above.
 * Placeholders are consistent for the same value (case-folded; digits only for numbers) within a
 * record or across the whole run (scope). */
#ifndef VKFT_DATA_DEID_H
#define VKFT_DATA_DEID_H
#include <stddef.h>

#include "data/records.h"
#include "data/step.h"

enum {
    VKFT_PII_EMAIL,
    VKFT_PII_URL,
    VKFT_PII_IP,
    VKFT_PII_CARD,
    VKFT_PII_IBAN,
    VKFT_PII_SSN,
    VKFT_PII_PHONE,
    VKFT_PII_DOB,
    VKFT_PII_ADDRESS,
    VKFT_PII_MRN,
    VKFT_PII_NAME,
    VKFT_PII_NTYPES
};
const char *vkft_pii_name(int type);
/* Parses a comma-separated list of type names ("EMAIL,PHONE", case-insensitive) into a bit mask. */
int vkft_pii_parse_types(const char *list, unsigned *mask, char *err, size_t errlen);

enum { VKFT_DEID_SCOPE_RECORD = 0, VKFT_DEID_SCOPE_FILE = 1 };

#define VKFT_DEID_MAX_PATTERNS 16

typedef struct {
    unsigned types;         /* bit mask of VKFT_PII_*; default all */
    const char *names_file; /* extra names, one per line ('#' comments) */
    int no_default_names;
    const char *mrn_patterns[VKFT_DEID_MAX_PATTERNS]; /* replace the default MRN pattern when given; a
                                                       * capture group, if any, is the identifier */
    int n_mrn;
    int scope;              /* VKFT_DEID_SCOPE_*, default record */
    int all_fields;         /* every string value of the record, not only the text field */
    const char *audit_path; /* JSONL of what was replaced where */
    int audit_values;       /* include the original values in the audit (off by default) */
} vkft_deid_opts;

void vkft_deid_opts_defaults(vkft_deid_opts *o);

typedef struct {
    int type;
    size_t start, end; /* byte offsets */
} vkft_pii_span;

typedef struct vkft_deid vkft_deid;
int vkft_deid_new(vkft_deid **d, const vkft_deid_opts *o, char *err, size_t errlen);
void vkft_deid_free(vkft_deid *d);
/* Finds the spans in text (sorted, non-overlapping). *spans stays owned by d until the next call. */
int vkft_deid_find(vkft_deid *d, const char *text, size_t n, const vkft_pii_span **spans, int *nspans);
/* Replaces the spans found in text with placeholders into out (NUL-terminated); counts[type] += finds. */
int vkft_deid_replace(vkft_deid *d, const char *text, size_t n, vkft_buf *out, long *counts);
/* Starts a new placeholder scope (called per record when the scope is the record). */
void vkft_deid_reset_scope(vkft_deid *d);

/* Checks exposed for tests. */
int vkft_luhn_ok(const char *digits, size_t n);
int vkft_iban_ok(const char *s, size_t n); /* spaces allowed */

typedef struct vkft_deid_step vkft_deid_step;
int vkft_deid_step_new(vkft_deid_step **s, const vkft_deid_opts *o, const char *text_field, int dry_run,
                       vkft_step *step, char *err, size_t errlen);
int vkft_deid_step_finish(vkft_deid_step *s, char *err, size_t errlen);
void vkft_deid_step_free(vkft_deid_step *s);

/* The default names list (data/deid_names.c): NULL-terminated arrays. */
extern const char *const vkft_default_first_names[];
extern const char *const vkft_default_surnames[];
extern const char *const vkft_ambiguous_names[];

#endif
