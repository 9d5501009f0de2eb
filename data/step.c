#include "data/step.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Extra records are held until the step has decided about the record itself, so that they follow it
 * in the output (an augmented copy comes after its source). */
struct vkft_emitter {
    vkft_writer *w;
    long emitted;
    cJSON **pending;
    int npending, cap;
};

double vkft_data_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void vkft_data_io_defaults(vkft_data_io *io) {
    memset(io, 0, sizeof *io);
    io->field = "text";
    io->label_field = "label";
}

int vkft_emit(vkft_emitter *em, const cJSON *obj, char *err, size_t errlen) {
    em->emitted++;
    if (!em->w) return 0;
    if (em->npending == em->cap) {
        int c = em->cap ? em->cap * 2 : 8;
        cJSON **p = realloc(em->pending, sizeof(cJSON *) * (size_t)c);
        if (!p) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        em->pending = p;
        em->cap = c;
    }
    cJSON *d = cJSON_Duplicate(obj, 1);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    em->pending[em->npending++] = d;
    return 0;
}

/* Writes (or, with w NULL, drops) the held extra records. */
static int flush_pending(vkft_emitter *em, char *err, size_t errlen) {
    int rc = 0;
    for (int i = 0; i < em->npending; i++) {
        if (!rc && em->w) rc = vkft_writer_put(em->w, em->pending[i], NULL, 0, 0, err, errlen);
        cJSON_Delete(em->pending[i]);
    }
    em->npending = 0;
    return rc;
}

typedef struct {
    const vkft_data_io *io;
    vkft_malformed bad;
    long records_in;
    uint64_t bytes_total, bytes_before;
} run_state;

/* One pass over every input; calls fn per good record. Returns 0 or -1. */
typedef int (*pass_fn)(void *ctx, vkft_record *rec, char *err, size_t errlen);
static int one_pass(run_state *st, int count_malformed, pass_fn fn, void *ctx, char *err, size_t errlen) {
    const vkft_data_io *io = st->io;
    st->bytes_before = 0;
    for (int i = 0; i < io->n_inputs; i++) {
        vkft_reader *r;
        if (vkft_reader_open(&r, io->inputs[i], io->in_fmt, io->text_per_file, err, errlen)) return -1;
        vkft_record rec;
        char msg[512];
        int rc;
        long n = 0;
        while ((rc = vkft_reader_next(r, &rec, msg, sizeof msg)) != VKFT_REC_EOF) {
            if (rc == VKFT_REC_ERR) {
                snprintf(err, errlen, "%s", msg);
                vkft_reader_close(r);
                return -1;
            }
            if (rc == VKFT_REC_BAD) {
                if (io->fatal_malformed) {
                    snprintf(err, errlen,
                             "%s (malformed records are fatal with --strict; drop --strict to "
                             "skip and count them)",
                             msg);
                    vkft_reader_close(r);
                    return -1;
                }
                if (count_malformed) vkft_malformed_add(&st->bad, msg);
                continue;
            }
            if (fn(ctx, &rec, err, errlen)) {
                vkft_reader_close(r);
                return -1;
            }
            if (io->progress && (++n & 4095) == 0)
                io->progress(io->progress_ctx, st->bytes_before + vkft_reader_offset(r), st->bytes_total,
                             st->records_in);
        }
        st->bytes_before += vkft_reader_offset(r);
        vkft_reader_close(r);
    }
    return 0;
}

typedef struct {
    run_state *st;
    vkft_step *step;
    vkft_writer *w;
    vkft_emitter em;
    vkft_format out_fmt;
    long out;
} apply_ctx;

static int count_cb(void *ctx, vkft_record *rec, char *err, size_t errlen) {
    apply_ctx *a = ctx;
    return a->step->count(a->step->ctx, rec, err, errlen);
}

static int apply_cb(void *ctx, vkft_record *rec, char *err, size_t errlen) {
    apply_ctx *a = ctx;
    a->st->records_in++;
    int rc = a->step->apply ? a->step->apply(a->step->ctx, rec, &a->em, err, errlen) : VKFT_STEP_KEEP;
    if (rc == VKFT_STEP_FAIL) {
        vkft_writer *w = a->em.w;
        char tmp[8];
        a->em.w = NULL; /* drop what the failed record emitted */
        flush_pending(&a->em, tmp, sizeof tmp);
        a->em.w = w;
        return -1;
    }
    if (rc != VKFT_STEP_DROP) {
        a->out++;
        if (a->w) {
            vkft_format in =
                a->st->io->in_fmt != VKFT_FMT_AUTO ? a->st->io->in_fmt : vkft_format_guess(rec->path);
            /* raw bytes are copied when nothing changed and the formats match (CSV rows are re-quoted) */
            int same = rc == VKFT_STEP_KEEP && in == a->out_fmt && a->out_fmt != VKFT_FMT_CSV &&
                       a->out_fmt != VKFT_FMT_TSV &&
                       !a->st->io->text_per_file; /* a whole file as one text line: its newlines must go */
            if (vkft_writer_put(a->w, rec->obj, rec->raw, rec->raw_len, same, err, errlen)) {
                char tmp[8];
                a->em.w = NULL;
                flush_pending(&a->em, tmp, sizeof tmp);
                return -1;
            }
        }
    }
    return flush_pending(&a->em, err, errlen);
}

int vkft_data_run(const vkft_data_io *io, const char *step_name, vkft_step *step, cJSON *summary, char *err,
                  size_t errlen) {
    double t0 = vkft_data_now();
    run_state st;
    memset(&st, 0, sizeof st);
    st.io = io;
    if (io->n_inputs < 1) {
        snprintf(err, errlen, "%s: no input; pass --in FILE", step_name);
        return -1;
    }
    for (int i = 0; i < io->n_inputs; i++) {
        FILE *f = fopen(io->inputs[i], "rb");
        if (!f) {
            snprintf(err, errlen, "%s: cannot open (check the --in path)", io->inputs[i]);
            return -1;
        }
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fclose(f);
        if (sz > 0) st.bytes_total += (uint64_t)sz;
    }
    apply_ctx a;
    memset(&a, 0, sizeof a);
    a.st = &st;
    a.step = step;
    vkft_format in0 = io->in_fmt != VKFT_FMT_AUTO ? io->in_fmt : vkft_format_guess(io->inputs[0]);
    a.out_fmt = io->out_fmt;
    if (a.out_fmt == VKFT_FMT_AUTO && io->out) a.out_fmt = vkft_format_guess(io->out);
    if (a.out_fmt == VKFT_FMT_AUTO) a.out_fmt = in0 == VKFT_FMT_AUTO ? VKFT_FMT_JSONL : in0;
    if (step->count) {
        for (int i = 0; i < io->n_inputs; i++) {
            struct stat sb;
            if (stat(io->inputs[i], &sb) || !S_ISREG(sb.st_mode)) {
                snprintf(err, errlen, "%s: %s reads its input twice (to count first), so it needs a regular file, "
                         "not a pipe; write the data to a file first", io->inputs[i], step_name);
                return -1;
            }
        }
        if (one_pass(&st, 0, count_cb, &a, err, errlen)) return -1;
    }
    if (step->prepare && step->prepare(step->ctx, err, errlen)) return -1;
    if (io->out && !io->dry_run) {
        if (vkft_writer_open(&a.w, io->out, a.out_fmt, io->field, err, errlen)) return -1;
        a.em.w = a.w;
        /* CSV/TSV out of CSV/TSV in keeps the input's column order */
        if ((a.out_fmt == VKFT_FMT_CSV || a.out_fmt == VKFT_FMT_TSV) &&
            (in0 == VKFT_FMT_CSV || in0 == VKFT_FMT_TSV)) {
            vkft_reader *r;
            char tmp[512];
            if (!vkft_reader_open(&r, io->inputs[0], io->in_fmt, 0, tmp, sizeof tmp)) {
                vkft_record rec;
                vkft_reader_next(r, &rec, tmp, sizeof tmp);
                int nc;
                const char *const *cols = vkft_reader_columns(r, &nc);
                if (cols && nc) vkft_writer_set_columns(a.w, cols, nc);
                vkft_reader_close(r);
            }
        }
    }
    if (one_pass(&st, 1, apply_cb, &a, err, errlen)) {
        free(a.em.pending);
        if (a.w) vkft_writer_abort(a.w);
        return -1;
    }
    free(a.em.pending);
    long written = a.out + a.em.emitted;
    long unwritten = a.w ? vkft_writer_unwritten(a.w) : 0;
    if (a.w && vkft_writer_commit(a.w, err, errlen)) return -1;
    if (io->progress) io->progress(io->progress_ctx, st.bytes_total, st.bytes_total, st.records_in);
    cJSON_AddStringToObject(summary, "step", step_name);
    cJSON *ins = cJSON_AddArrayToObject(summary, "inputs");
    for (int i = 0; i < io->n_inputs; i++) cJSON_AddItemToArray(ins, cJSON_CreateString(io->inputs[i]));
    if (io->out) cJSON_AddStringToObject(summary, "output", io->out);
    cJSON_AddBoolToObject(summary, "dry_run", io->dry_run);
    cJSON_AddNumberToObject(summary, "records_in", (double)st.records_in);
    cJSON_AddNumberToObject(summary, "records_out", (double)written);
    cJSON_AddNumberToObject(summary, "records_dropped", (double)(st.records_in - a.out));
    if (a.em.emitted) cJSON_AddNumberToObject(summary, "records_added", (double)a.em.emitted);
    vkft_malformed_to_json(&st.bad, summary);
    cJSON_AddNumberToObject(summary, "bytes_in", (double)st.bytes_total);
    if (unwritten) cJSON_AddNumberToObject(summary, "records_with_fields_not_in_csv_header", (double)unwritten);
    if (step->summarize) step->summarize(step->ctx, summary);
    cJSON_AddNumberToObject(summary, "seconds", vkft_data_now() - t0);
    return 0;
}
