/* Steps: the one calling convention every `vkft data` step shares.
 *
 * A step reads records from one or more inputs, decides per record (keep, drop, rewrite, emit extra
 * records), and writes the kept ones to one output, atomically. The driver here does the reading,
 * malformed-line policy, writing, counting and the summary; a step supplies callbacks. Steps that
 * need statistics over the whole input first (balance) ask for a counting pass. */
#ifndef VKFT_DATA_STEP_H
#define VKFT_DATA_STEP_H
#include "data/records.h"

/* Progress: called every few thousand records and at the end (done == total at the end when the
 * size is known). */
typedef void (*vkft_progress_fn)(void *ctx, uint64_t bytes_done, uint64_t bytes_total, long records);

typedef struct {
    const char *const *inputs;
    int n_inputs;
    vkft_format in_fmt;      /* AUTO: guessed from each file name */
    int text_per_file;       /* text inputs: one document per file instead of per line */
    const char *out;         /* NULL: no output (report) */
    vkft_format out_fmt;     /* AUTO: from the output name, else the first input's format */
    const char *field;       /* text field (dotted path), default "text" */
    const char *label_field; /* default "label" */
    int dry_run;             /* count everything, write nothing */
    int fatal_malformed;     /* stop at the first malformed record (default: skip and count) */
    vkft_progress_fn progress;
    void *progress_ctx;
} vkft_data_io;

void vkft_data_io_defaults(vkft_data_io *io);

typedef struct vkft_emitter vkft_emitter;
/* Writes an extra record (a copy is not taken: obj is printed immediately). */
int vkft_emit(vkft_emitter *em, const cJSON *obj, char *err, size_t errlen);

enum { VKFT_STEP_DROP = 0, VKFT_STEP_KEEP = 1, VKFT_STEP_KEEP_MODIFIED = 2, VKFT_STEP_FAIL = -1 };

typedef struct {
    /* Optional first pass over all inputs (no output): return 0, or -1 with err set. */
    int (*count)(void *ctx, const vkft_record *rec, char *err, size_t errlen);
    /* Called between the passes (after count), may be NULL. */
    int (*prepare)(void *ctx, char *err, size_t errlen);
    /* Per record: VKFT_STEP_KEEP (written unchanged), _KEEP_MODIFIED (rec->obj was changed), _DROP,
     * or _FAIL (err set). May call vkft_emit for extra records. */
    int (*apply)(void *ctx, vkft_record *rec, vkft_emitter *em, char *err, size_t errlen);
    /* Adds the step's counts to the summary, may be NULL. */
    void (*summarize)(void *ctx, cJSON *summary);
    void *ctx;
} vkft_step;

/* Runs one step. summary receives: step-independent counts ("records_in", "records_out", "malformed",
 * "bytes_in", "seconds", "output", "dry_run") plus the step's own. Returns 0, or -1 with err. */
int vkft_data_run(const vkft_data_io *io, const char *step_name, vkft_step *step, cJSON *summary, char *err,
                  size_t errlen);

/* Monotonic seconds. */
double vkft_data_now(void);

#endif
