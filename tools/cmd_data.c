/* vkft data: data preparation steps (clean, dedup, deid, augment, balance, report, pipeline). */
#include "tools/cmd_data.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "data/clean.h"
#include "data/dedup.h"
#include "data/deid.h"
#include "tools/commands.h"
#include "util/fsutil.h"

const char data_common_help[] =
    "common options (every step):\n"
    "  --in FILE            input (repeatable); JSONL, CSV, TSV or text, guessed from the name\n"
    "  --out FILE           output (written to a temporary file, renamed when complete; '-' = stdout)\n"
    "  --format F           input format: jsonl|csv|tsv|text (default: from each file name)\n"
    "  --out-format F       output format (default: from --out's name, else the input's)\n"
    "  --text-per-file      text input: one document per file instead of per line\n"
    "  --field PATH         text field, dotted path for nested JSON (default text)\n"
    "  --label-field PATH   label field (default label)\n"
    "  --summary FILE.json  write what the step did (counts per rule) as JSON\n"
    "  --dry-run            count everything, write no data; print the summary\n"
    "  --strict             stop at the first malformed record (default: skip it, count it, and\n"
    "                       list the first locations in the summary)\n"
    "  --quiet              no progress bar\n";

const char *const data_common_opts[] = {
    "--in",      "--out",     "--format", "--out-format", "--text-per-file", "--field", "--label-field",
    "--summary", "--dry-run", "--strict", "--quiet",      "--help",          NULL};

void data_common_init(data_common *c) {
    memset(c, 0, sizeof *c);
    vkft_data_io_defaults(&c->io);
}

const char *data_value(const char *cmd, int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "vkft data %s: %s needs a value (see vkft data %s --help)\n", cmd, argv[*i], cmd);
        return NULL;
    }
    return argv[++*i];
}

int data_parse_long(const char *cmd, const char *opt, const char *v, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || *end || end == v) {
        fprintf(stderr, "vkft data %s: %s '%s' is not an integer\n", cmd, opt, v);
        return -1;
    }
    *out = x;
    return 0;
}

int data_parse_double(const char *cmd, const char *opt, const char *v, double *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || *end || end == v) {
        fprintf(stderr, "vkft data %s: %s '%s' is not a number\n", cmd, opt, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int edit_distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63 || lb > 63) return 99;
    int d[64][64];
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int c = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < c) c = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < c) c = d[i][j - 1] + 1;
            d[i][j] = c;
        }
    return d[la][lb];
}

int data_unknown(const char *cmd, const char *opt, const char *const *known) {
    const char *best = NULL;
    int bd = 4;
    for (int k = 0; k < 2; k++) {
        const char *const *list = k ? data_common_opts : known;
        for (int i = 0; list && list[i]; i++) {
            int d = edit_distance(opt, list[i]);
            if (d < bd) {
                bd = d;
                best = list[i];
            }
        }
    }
    if (best)
        fprintf(stderr, "vkft data %s: unknown option '%s'; did you mean %s? (vkft data %s --help)\n", cmd,
                opt, best, cmd);
    else
        fprintf(stderr, "vkft data %s: unknown option '%s' (vkft data %s --help lists them)\n", cmd, opt,
                cmd);
    return 2;
}

int data_common_opt(data_common *c, const char *cmd, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v;
    if (!strcmp(a, "--in")) {
        if (!(v = data_value(cmd, argc, argv, i))) return -1;
        if (c->n_in >= DATA_MAX_IN) {
            fprintf(stderr, "vkft data %s: at most %d --in files; concatenate them first\n", cmd,
                    DATA_MAX_IN);
            return -1;
        }
        c->in[c->n_in++] = v;
    } else if (!strcmp(a, "--out")) {
        if (!(c->io.out = data_value(cmd, argc, argv, i))) return -1;
    } else if (!strcmp(a, "--format") || !strcmp(a, "--out-format")) {
        if (!(v = data_value(cmd, argc, argv, i))) return -1;
        vkft_format f;
        if (vkft_format_parse(v, &f)) {
            fprintf(stderr, "vkft data %s: %s '%s': use jsonl, csv, tsv or text\n", cmd, a, v);
            return -1;
        }
        if (!strcmp(a, "--format"))
            c->io.in_fmt = f;
        else
            c->io.out_fmt = f;
    } else if (!strcmp(a, "--text-per-file")) {
        c->io.text_per_file = 1;
    } else if (!strcmp(a, "--field")) {
        if (!(c->io.field = data_value(cmd, argc, argv, i))) return -1;
    } else if (!strcmp(a, "--label-field")) {
        if (!(c->io.label_field = data_value(cmd, argc, argv, i))) return -1;
    } else if (!strcmp(a, "--summary")) {
        if (!(c->summary = data_value(cmd, argc, argv, i))) return -1;
    } else if (!strcmp(a, "--dry-run")) {
        c->io.dry_run = 1;
    } else if (!strcmp(a, "--strict")) {
        c->io.fatal_malformed = 1;
    } else if (!strcmp(a, "--quiet")) {
        c->quiet = 1;
    } else {
        return 0;
    }
    return 1;
}

int data_check_io(data_common *c, const char *cmd, int need_out) {
    if (c->n_in == 0) {
        fprintf(stderr, "vkft data %s: no input; pass --in FILE (see vkft data %s --help)\n", cmd, cmd);
        return 2;
    }
    for (int i = 0; i < c->n_in; i++) {
        if (!vkft_file_exists(c->in[i])) {
            fprintf(stderr, "vkft data %s: input '%s' does not exist\n", cmd, c->in[i]);
            return 2;
        }
        if (c->io.out && !strcmp(c->in[i], c->io.out)) {
            fprintf(stderr,
                    "vkft data %s: --out '%s' is also an input; inputs are never modified, pick another "
                    "output name\n",
                    cmd, c->io.out);
            return 2;
        }
        if (c->io.in_fmt == VKFT_FMT_AUTO && vkft_format_guess(c->in[i]) == VKFT_FMT_AUTO) {
            fprintf(stderr,
                    "vkft data %s: cannot tell the format of '%s' from its name; pass --format "
                    "jsonl|csv|tsv|text\n",
                    cmd, c->in[i]);
            return 2;
        }
    }
    if (need_out && !c->io.out && !c->io.dry_run) {
        fprintf(stderr, "vkft data %s: no output; pass --out FILE (or --dry-run to only count)\n", cmd);
        return 2;
    }
    c->io.inputs = c->in;
    c->io.n_inputs = c->n_in;
    return 0;
}

static void progress_cb(void *ctx, uint64_t done, uint64_t total, long records) {
    data_common *c = ctx;
    char t[64];
    snprintf(t, sizeof t, "%ld records", records);
    if (done >= total && total) return; /* the final line is printed by data_run_step */
    vkft_progress_update(&c->bar, done, t);
}

int data_write_json(const char *path, const cJSON *j) {
    char *s = cJSON_Print(j), err[VKFT_ERR_LEN];
    if (!s) {
        fprintf(stderr, "vkft data: out of memory\n");
        return 1;
    }
    size_t n = strlen(s);
    s[n] = '\n';
    int rc = vkft_write_file_atomic(path, s, n + 1, err, sizeof err);
    free(s);
    if (rc) fprintf(stderr, "vkft data: %s\n", err);
    return rc ? 1 : 0;
}

int data_run_step(data_common *c, const char *cmd, vkft_step *step, cJSON *summary) {
    return data_run_step_keep(c, cmd, step, summary, NULL);
}

int data_run_step_keep(data_common *c, const char *cmd, vkft_step *step, cJSON *summary, cJSON **keep) {
    char err[1024];
    uint64_t total = 0;
    for (int i = 0; i < c->n_in; i++) {
        FILE *f = fopen(c->in[i], "rb");
        if (f) {
            fseek(f, 0, SEEK_END);
            long s = ftell(f);
            if (s > 0) total += (uint64_t)s;
            fclose(f);
        }
    }
    vkft_progress_init(&c->bar, cmd, total, "MB", 1e6);
    if (c->quiet) c->bar.enabled = 0;
    c->io.progress = progress_cb;
    c->io.progress_ctx = c;
    if (vkft_data_run(&c->io, cmd, step, summary, err, sizeof err)) {
        if (c->bar.drawn && c->bar.tty) fputc('\n', stderr);
        fprintf(stderr, "vkft data %s: %s\n", cmd, err);
        cJSON_Delete(summary);
        return 1;
    }
    char t[96];
    snprintf(t, sizeof t, "%.0f records", cJSON_GetObjectItem(summary, "records_in")->valuedouble);
    if (c->bar.drawn) vkft_progress_finish(&c->bar, total, t);
    if (keep) {
        *keep = summary;
        return 0;
    }
    return data_finish_step(c, cmd, summary);
}

int data_finish_step(data_common *c, const char *cmd, cJSON *summary) {
    int rc = 0;
    if (c->summary && data_write_json(c->summary, summary)) rc = 1;
    if (c->io.dry_run) {
        char *s = cJSON_Print(summary);
        if (s) printf("%s\n", s);
        free(s);
    } else if (!c->quiet) {
        double in = cJSON_GetObjectItem(summary, "records_in")->valuedouble,
               out = cJSON_GetObjectItem(summary, "records_out")->valuedouble,
               bad = cJSON_GetObjectItem(summary, "malformed")->valuedouble,
               sec = cJSON_GetObjectItem(summary, "seconds")->valuedouble;
        fprintf(stderr, "%s: %.0f records in, %.0f out, %.0f malformed skipped, %.2f s%s%s\n", cmd, in, out,
                bad, sec, c->io.out ? " -> " : "", c->io.out ? c->io.out : "");
        cJSON *unw = cJSON_GetObjectItem(summary, "records_with_fields_not_in_csv_header");
        if (unw)
            fprintf(stderr,
                    "  warning: %.0f records had fields the CSV header (from the first record) has no column "
                    "for; those fields were not written (write JSONL to keep them)\n",
                    unw->valuedouble);
        if (bad > 0) {
            cJSON *ex = cJSON_GetObjectItem(summary, "malformed_examples");
            cJSON *first = cJSON_GetArrayItem(ex, 0);
            if (first)
                fprintf(stderr, "  first malformed: %s (all in --summary; --strict makes them fatal)\n",
                        first->valuestring);
        }
    }
    cJSON_Delete(summary);
    return rc;
}

/* ---- clean ------------------------------------------------------------------------------------- */

static const char clean_help[] =
    "usage: vkft data clean --in FILE --out FILE [options]\n\n"
    "Normalizes text and filters records. Rules, in order: Unicode normalization, control and zero-width\n"
    "character removal, punctuation, case, special characters, whitespace, dates, numbers; then missing\n"
    "fields and length filters.\n\n"
    "  --normalize nfc|nfkc|none   Unicode normalization (default nfc)\n"
    "  --keep-control              keep control and zero-width characters\n"
    "  --keep-whitespace           do not collapse whitespace\n"
    "  --lowercase                 lowercase (all scripts)\n"
    "  --punct                     curly quotes -> straight, dashes -> '-', ellipsis -> '...'\n"
    "  --strip-special             drop symbols and emoji (keep letters, marks, numbers, punctuation)\n"
    "  --numbers                   '1,234.50' -> '1234.50'\n"
    "  --dates day-first|month-first  dates -> YYYY-MM-DD; the rule reads numeric dates like 03/04/2025\n"
    "  --clean-field PATH          clean this field (repeatable; default: the --field)\n"
    "  --missing PATH=drop|PATH=fill:VALUE  per field, for missing or empty values (repeatable; the\n"
    "                              text field defaults to drop)\n"
    "  --min-chars N --max-chars N --min-words N --max-words N   length filters on the text field\n"
    "  --min-tokens N --max-tokens N   length filters in tokens of --tokenizer\n"
    "  --tokenizer PATH            tokenizer.json (or a model folder) for the token filters\n\n";
static const char *const clean_opts[] = {
    "--normalize", "--keep-control", "--keep-whitespace", "--lowercase",  "--punct",     "--strip-special",
    "--numbers",   "--dates",        "--clean-field",     "--missing",    "--min-chars", "--max-chars",
    "--min-words", "--max-words",    "--min-tokens",      "--max-tokens", "--tokenizer", NULL};

static int cmd_clean(int argc, char **argv) {
    const char *cmd = "clean";
    data_common c;
    data_common_init(&c);
    vkft_clean_opts o;
    vkft_clean_opts_defaults(&o);
    const char *fields[32];
    int nf = 0;
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s%s", clean_help, data_common_help);
            return 0;
        }
        int r = data_common_opt(&c, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(a, "--normalize")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (!strcmp(v, "nfc"))
                o.normalize = VKFT_NORM_NFC;
            else if (!strcmp(v, "nfkc"))
                o.normalize = VKFT_NORM_NFKC;
            else if (!strcmp(v, "none"))
                o.normalize = VKFT_NORM_NONE;
            else {
                fprintf(stderr, "vkft data clean: --normalize '%s': use nfc, nfkc or none\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--keep-control"))
            o.strip_control = 0;
        else if (!strcmp(a, "--keep-whitespace"))
            o.collapse_ws = 0;
        else if (!strcmp(a, "--lowercase"))
            o.lowercase = 1;
        else if (!strcmp(a, "--punct"))
            o.punct = 1;
        else if (!strcmp(a, "--strip-special"))
            o.strip_special = 1;
        else if (!strcmp(a, "--numbers"))
            o.numbers = 1;
        else if (!strcmp(a, "--dates")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (!strcmp(v, "day-first"))
                o.dates = VKFT_DATES_DAY_FIRST;
            else if (!strcmp(v, "month-first"))
                o.dates = VKFT_DATES_MONTH_FIRST;
            else {
                fprintf(stderr,
                        "vkft data clean: --dates '%s': say how to read 03/04/2025: day-first or "
                        "month-first\n",
                        v);
                return 2;
            }
        } else if (!strcmp(a, "--clean-field")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (nf >= 32) {
                fprintf(stderr, "vkft data clean: at most 32 --clean-field\n");
                return 2;
            }
            fields[nf++] = v;
        } else if (!strcmp(a, "--missing")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (vkft_clean_add_rule(&o, v, err, sizeof err)) {
                fprintf(stderr, "vkft data clean: %s\n", err);
                return 2;
            }
        } else if (!strcmp(a, "--tokenizer")) {
            if (!(o.tokenizer_path = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--min-chars") || !strcmp(a, "--max-chars") || !strcmp(a, "--min-words") ||
                   !strcmp(a, "--max-words") || !strcmp(a, "--min-tokens") || !strcmp(a, "--max-tokens")) {
            long x;
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            if (x < 0) {
                fprintf(stderr, "vkft data clean: %s must be >= 0\n", a);
                return 2;
            }
            long *dst = !strcmp(a, "--min-chars")    ? &o.min_chars
                        : !strcmp(a, "--max-chars")  ? &o.max_chars
                        : !strcmp(a, "--min-words")  ? &o.min_words
                        : !strcmp(a, "--max-words")  ? &o.max_words
                        : !strcmp(a, "--min-tokens") ? &o.min_tokens
                                                     : &o.max_tokens;
            *dst = x;
        } else
            return data_unknown(cmd, a, clean_opts);
    }
    if (data_check_io(&c, cmd, 1)) return 2;
    if (nf) {
        o.fields = fields;
        o.n_fields = nf;
    }
    vkft_clean_step *s;
    vkft_step step;
    if (vkft_clean_step_new(&s, &o, c.io.field, &step, err, sizeof err)) {
        fprintf(stderr, "vkft data clean: %s\n", err);
        return 1;
    }
    int rc = data_run_step(&c, cmd, &step, cJSON_CreateObject());
    vkft_clean_step_free(s);
    return rc;
}

/* ---- dedup ------------------------------------------------------------------------------------- */

static const char dedup_help[] =
    "usage: vkft data dedup --in FILE --out FILE [options]\n\n"
    "Removes exact duplicates (hash of the case-folded, whitespace-collapsed text) and near duplicates\n"
    "(MinHash + LSH at a Jaccard threshold, candidates verified); keeps the first occurrence.\n\n"
    "  --exact-only         no near-duplicate detection\n"
    "  --near-only          no exact-duplicate pass\n"
    "  --threshold J        Jaccard similarity for near duplicates (default 0.8)\n"
    "  --num-perm N         MinHash permutations (default 128)\n"
    "  --bands B --rows R   LSH banding (default: chosen for the threshold, favouring recall since\n"
    "                       candidates are verified: 14x9 for 0.8/128; with --no-verify 9x13)\n"
    "  --shingle K          shingle size (default 5)\n"
    "  --unit words|chars   shingle unit (default words; chars for languages without spaces)\n"
    "  --no-verify          trust band collisions (faster, more false positives)\n"
    "  --seed N             hash seed (default 1)\n"
    "  --clusters FILE      write one JSONL line per removed record naming the kept one\n\n";
static const char *const dedup_opts[] = {"--exact-only", "--near-only", "--threshold", "--num-perm",
                                         "--bands",      "--rows",      "--shingle",   "--unit",
                                         "--no-verify",  "--seed",      "--clusters",  NULL};

static int cmd_dedup(int argc, char **argv) {
    const char *cmd = "dedup";
    data_common c;
    data_common_init(&c);
    vkft_dedup_opts o;
    vkft_dedup_opts_defaults(&o);
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s%s", dedup_help, data_common_help);
            return 0;
        }
        int r = data_common_opt(&c, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        long x;
        if (!strcmp(a, "--exact-only"))
            o.near = 0;
        else if (!strcmp(a, "--near-only"))
            o.exact = 0;
        else if (!strcmp(a, "--no-verify"))
            o.verify = 0;
        else if (!strcmp(a, "--threshold")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_double(cmd, a, v, &o.threshold))
                return 2;
        } else if (!strcmp(a, "--num-perm") || !strcmp(a, "--bands") || !strcmp(a, "--rows") ||
                   !strcmp(a, "--shingle") || !strcmp(a, "--seed")) {
            if (!(v = data_value(cmd, argc, argv, &i)) || data_parse_long(cmd, a, v, &x)) return 2;
            if (!strcmp(a, "--num-perm"))
                o.num_perm = (int)x;
            else if (!strcmp(a, "--bands"))
                o.bands = (int)x;
            else if (!strcmp(a, "--rows"))
                o.rows = (int)x;
            else if (!strcmp(a, "--shingle"))
                o.shingle = (int)x;
            else
                o.seed = (uint64_t)x;
        } else if (!strcmp(a, "--unit")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (!strcmp(v, "words"))
                o.char_shingles = 0;
            else if (!strcmp(v, "chars"))
                o.char_shingles = 1;
            else {
                fprintf(stderr, "vkft data dedup: --unit '%s': use words or chars\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--clusters")) {
            if (!(o.pairs_path = data_value(cmd, argc, argv, &i))) return 2;
        } else
            return data_unknown(cmd, a, dedup_opts);
    }
    if (!o.exact && !o.near) {
        fprintf(stderr, "vkft data dedup: --exact-only and --near-only together leave nothing to do\n");
        return 2;
    }
    if ((o.bands > 0) != (o.rows > 0)) {
        fprintf(stderr, "vkft data dedup: give both --bands and --rows, or neither\n");
        return 2;
    }
    if (data_check_io(&c, cmd, 1)) return 2;
    vkft_dedup_step *s;
    vkft_step step;
    if (vkft_dedup_step_new(&s, &o, c.io.field, c.io.dry_run, &step, err, sizeof err)) {
        fprintf(stderr, "vkft data dedup: %s\n", err);
        return 1;
    }
    int rc = data_run_step(&c, cmd, &step, cJSON_CreateObject());
    if (rc == 0 && vkft_dedup_step_finish(s, err, sizeof err)) {
        fprintf(stderr, "vkft data dedup: %s\n", err);
        rc = 1;
    }
    vkft_dedup_step_free(s);
    return rc;
}

/* ---- deid -------------------------------------------------------------------------------------- */

static const char deid_help[] =
    "usage: vkft data deid --in FILE --out FILE [options]\n\n"
    "Replaces personal data with typed placeholders ([EMAIL_1], [PHONE_2], ...); the same value gets the\n"
    "same placeholder within a record (or the whole run with --scope file).\n"
    "Types: EMAIL URL IP CARD (Luhn-checked) IBAN (mod-97-checked) SSN PHONE DOB ADDRESS MRN NAME.\n\n"
    "  --types LIST         comma-separated types to find (default all)\n"
    "  --scope record|file  where placeholders stay consistent (default record)\n"
    "  --all-fields         every string value of a record, not only --field\n"
    "  --names FILE         extra names, one per line, for NAME\n"
    "  --no-default-names   do not use the built-in list of common first names and surnames\n"
    "  --mrn-pattern REGEX  medical record number pattern (PCRE2; repeatable; a capture group, if any,\n"
    "                       is the number); replaces the default 'MRN: 1234567'-style pattern\n"
    "  --audit FILE         JSONL: file, line, field, type, byte offsets and placeholder of each\n"
    "                       replacement (no original values unless --audit-values)\n"
    "  --audit-values       include the original values in the audit (handle that file with care)\n\n";
static const char *const deid_opts[] = {
    "--types",       "--scope", "--all-fields",   "--names", "--no-default-names",
    "--mrn-pattern", "--audit", "--audit-values", NULL};

static int cmd_deid(int argc, char **argv) {
    const char *cmd = "deid";
    data_common c;
    data_common_init(&c);
    vkft_deid_opts o;
    vkft_deid_opts_defaults(&o);
    char err[512];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s%s", deid_help, data_common_help);
            return 0;
        }
        int r = data_common_opt(&c, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(a, "--types")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (vkft_pii_parse_types(v, &o.types, err, sizeof err)) {
                fprintf(stderr, "vkft data deid: --types: %s\n", err);
                return 2;
            }
        } else if (!strcmp(a, "--scope")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (!strcmp(v, "record"))
                o.scope = VKFT_DEID_SCOPE_RECORD;
            else if (!strcmp(v, "file"))
                o.scope = VKFT_DEID_SCOPE_FILE;
            else {
                fprintf(stderr, "vkft data deid: --scope '%s': use record or file\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--all-fields"))
            o.all_fields = 1;
        else if (!strcmp(a, "--names")) {
            if (!(o.names_file = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--no-default-names"))
            o.no_default_names = 1;
        else if (!strcmp(a, "--mrn-pattern")) {
            if (!(v = data_value(cmd, argc, argv, &i))) return 2;
            if (o.n_mrn >= VKFT_DEID_MAX_PATTERNS) {
                fprintf(stderr, "vkft data deid: at most %d --mrn-pattern\n", VKFT_DEID_MAX_PATTERNS);
                return 2;
            }
            o.mrn_patterns[o.n_mrn++] = v;
        } else if (!strcmp(a, "--audit")) {
            if (!(o.audit_path = data_value(cmd, argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--audit-values"))
            o.audit_values = 1;
        else
            return data_unknown(cmd, a, deid_opts);
    }
    if (data_check_io(&c, cmd, 1)) return 2;
    vkft_deid_step *s;
    vkft_step step;
    if (vkft_deid_step_new(&s, &o, c.io.field, c.io.dry_run, &step, err, sizeof err)) {
        fprintf(stderr, "vkft data deid: %s\n", err);
        return 1;
    }
    int rc = data_run_step(&c, cmd, &step, cJSON_CreateObject());
    if (rc == 0 && vkft_deid_step_finish(s, err, sizeof err)) {
        fprintf(stderr, "vkft data deid: %s\n", err);
        rc = 1;
    }
    vkft_deid_step_free(s);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    int (*run)(int, char **);
    const char *what;
} data_sub;

static const data_sub subs[] = {
    {"clean", cmd_clean, "normalize text, drop or fill missing fields, length filters"},
    {"dedup", cmd_dedup, "remove exact and near duplicates (MinHash + LSH)"},
    {"deid", cmd_deid, "replace personal data with typed, consistent placeholders"},
    {"augment", cmd_data_augment, "synonyms (WordNet), EDA swap/delete/insert, sentence reordering"},
    {"balance", cmd_data_balance, "over/under-sample classes; class weights for vkft train"},
    {"report", cmd_data_report, "data-quality report (JSON + Markdown + PNG histograms)"},
    {"pipeline", cmd_data_pipeline, "run several steps from one JSON recipe"},
};

static void data_usage(FILE *f) {
    fprintf(
        f,
        "usage: vkft data STEP --in FILE [--in FILE ...] --out FILE [options]   (vkft data STEP --help)\n\n"
        "steps:\n");
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        fprintf(f, "  %-9s %s\n", subs[i].name, subs[i].what);
    fprintf(
        f,
        "\nInputs are never modified; outputs are written atomically; every step takes --summary FILE.json\n"
        "and --dry-run. Documentation: docs/data.md\n");
}

int data_dispatch(int argc, char **argv) {
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[0], subs[i].name)) return subs[i].run(argc, argv);
    fprintf(stderr, "vkft data: unknown step '%s'\n", argv[0]);
    return 2;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        data_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        if (!strcmp(argv[1], subs[i].name)) return subs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vkft data: unknown step '%s'\n\n", argv[1]);
    data_usage(stderr);
    return 2;
}
