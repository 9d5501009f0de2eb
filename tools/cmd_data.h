/* Shared pieces of `vkft data` (tools/cmd_data*.c): the common options every step takes, running a
 * step with a progress bar, and writing its summary. */
#ifndef VKFT_TOOLS_CMD_DATA_H
#define VKFT_TOOLS_CMD_DATA_H
#include "data/labelcheck.h"
#include "data/step.h"
#include "tools/data_model.h"
#include "tools/progress.h"

#define DATA_MAX_IN 64

typedef struct {
    const char *in[DATA_MAX_IN];
    int n_in;
    vkft_data_io io;
    const char *summary;
    int quiet;
    vkft_progress bar;
} data_common;

void data_common_init(data_common *c);
/* Consumes a common option at argv[*i] (advancing *i past its value). Returns 1 when consumed, 0 when
 * not a common option, -1 on error (printed). */
int data_common_opt(data_common *c, const char *cmd, int argc, char **argv, int *i);
/* The value of option argv[*i], advancing *i; prints an error and returns NULL when missing. */
const char *data_value(const char *cmd, int argc, char **argv, int *i);
int data_parse_long(const char *cmd, const char *opt, const char *v, long *out);
int data_parse_double(const char *cmd, const char *opt, const char *v, double *out);
/* Prints "unknown option" with the nearest known option; returns 2. */
int data_unknown(const char *cmd, const char *opt, const char *const *known);
/* Checks the inputs and output (--out needed unless need_out is 0 or --dry-run). Returns 0 or 2. */
int data_check_io(data_common *c, const char *cmd, int need_out);
/* Runs a step with the progress bar; writes --summary; prints the summary on --dry-run and a line
 * otherwise. Returns the exit status (0 ok, 1 failure). summary is consumed. */
int data_run_step(data_common *c, const char *cmd, vkft_step *step, cJSON *summary);
/* The same, but hands the summary back in *keep (nothing printed or written) on success. */
int data_run_step_keep(data_common *c, const char *cmd, vkft_step *step, cJSON *summary, cJSON **keep);
/* What data_run_step does after the run: writes --summary, prints it (--dry-run) or a line. Consumes
 * summary; returns the exit status. */
int data_finish_step(data_common *c, const char *cmd, cJSON *summary);
/* Writes summary JSON to path atomically; prints errors. */
int data_write_json(const char *path, const cJSON *j);
/* The common options' help text. */
extern const char data_common_help[];
extern const char *const data_common_opts[];

/* Runs step argv[0] ("clean", ...) with its arguments (used by the pipeline). */
int data_dispatch(int argc, char **argv);

/* Model options shared by the model-driven parts (tools/cmd_data_model.c): consumes --model, --batch,
 * --max-tokens, --device at argv[*i]. Returns 1 when consumed, 0 when not one of them, -1 on error. */
int data_model_opt(data_model_opts *o, const char *cmd, int argc, char **argv, int *i);
int data_pooling_parse(const char *cmd, const char *v, int *pooling);
extern const char data_model_help[], data_embed_help[];
extern const char *const data_model_opt_names[];
/* balance --mode smote: embeddings (model or emb file), SMOTE to ratio, the features file at --out. */
int data_smote(data_common *c, double ratio, uint64_t seed, int k, int pooling, const char *emb,
               const data_model_opts *mo);
/* report --model / --embeddings: adds "label_disagreements" to report. Returns 0 or 1 (printed). */
int data_label_check(data_common *c, const vkft_labelcheck_opts *lo, int pooling, const char *emb,
                     const data_model_opts *mo, cJSON *report);

int cmd_data_report(int argc, char **argv);
int cmd_data_balance(int argc, char **argv);
int cmd_data_augment(int argc, char **argv);
int cmd_data_pipeline(int argc, char **argv);
#endif
