/* pipeline: a JSON recipe that chains data steps, for `vkft data pipeline`.
 *
 *   {"in": ["raw.jsonl"], "out": "final.jsonl", "field": "text", "label_field": "label",
 *    "steps": [{"step": "clean", "lowercase": true, "min_words": 3, "missing": ["label=drop"]},
 *              {"step": "dedup", "threshold": 0.85},
 *              {"step": "deid", "types": "EMAIL,PHONE"},
 *              {"step": "balance", "mode": "over"}],
 *    "report": "report_folder"}
 *
 * Each step object names a step and its options, spelled as on the command line without the dashes
 * (underscores or dashes): true is a flag, false leaves it out, numbers and strings are values, an
 * array repeats the option. The steps' own parsers validate the options, so an unknown key fails
 * with the same message (and suggestion) as on the command line. */
#ifndef VKFT_DATA_PIPELINE_H
#define VKFT_DATA_PIPELINE_H
#include <stddef.h>

typedef struct {
    char step[32];
    int argc;
    char **argv; /* argv[0] is the step name; NULL-terminated */
} vkft_pipeline_step;

typedef struct {
    vkft_pipeline_step *steps;
    int n_steps;
    char **in;
    int n_in;
    char *out, *report, *field, *label_field, *format;
} vkft_pipeline;

/* Parses a recipe; on error returns -1 with the step number and key in err. */
int vkft_pipeline_parse(const char *json, size_t n, vkft_pipeline *p, char *err, size_t errlen);
void vkft_pipeline_free(vkft_pipeline *p);
#endif
