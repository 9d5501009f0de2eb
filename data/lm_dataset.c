#include "data/lm_dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/records.h"

static int add_seq(vkft_lm_data *d, const int32_t *ids, size_t n) {
    if (n == 0) {
        d->empty_lines++;
        return 0;
    }
    int32_t **s = realloc(d->seqs, (d->n + 1) * sizeof *s);
    uint32_t *l = realloc(d->lens, (d->n + 1) * sizeof *l);
    if (!s || !l) return -1;
    d->seqs = s;
    d->lens = l;
    d->seqs[d->n] = malloc(n * sizeof(int32_t));
    if (!d->seqs[d->n]) return -1;
    memcpy(d->seqs[d->n], ids, n * sizeof(int32_t));
    d->lens[d->n++] = (uint32_t)n;
    d->tokens += n;
    return 0;
}

int vkft_lm_data_load(const char *path, vkft_tokenizer *tok, const char *text_field, int add_special,
                      uint32_t vocab_size, vkft_lm_data *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    vkft_format fmt = vkft_format_guess(path);
    if (fmt == VKFT_FMT_AUTO) fmt = VKFT_FMT_TEXT; /* a file without a known extension: text lines */
    if (fmt == VKFT_FMT_CSV || fmt == VKFT_FMT_TSV) {
        snprintf(err, errlen, "%s: give language-modelling data as text or JSONL (CSV/TSV: convert with vkft data)",
                 path);
        return -1;
    }
    vkft_reader *r;
    if (vkft_reader_open(&r, path, fmt, 0, err, errlen)) return -1;
    vkft_tok_ids ids = {0};
    int rc = 0;
    for (;;) {
        vkft_record rec;
        int st = vkft_reader_next(r, &rec, err, errlen);
        if (st == VKFT_REC_EOF) break;
        if (st != VKFT_REC_OK) {
            rc = -1; /* err holds FILE:LINE: why */
            break;
        }
        ids.n = 0;
        const cJSON *pre = cJSON_GetObjectItemCaseSensitive(rec.obj, "input_ids");
        if (fmt == VKFT_FMT_JSONL && pre) {
            if (!cJSON_IsArray(pre)) {
                snprintf(err, errlen, "%s:%ld: \"input_ids\" must be an array of token ids", path, rec.line);
                rc = -1;
                break;
            }
            for (const cJSON *v = pre->child; v; v = v->next) {
                if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble != (double)(int32_t)v->valuedouble) {
                    snprintf(err, errlen, "%s:%ld: \"input_ids\" holds a value that is not a token id", path, rec.line);
                    rc = -1;
                    break;
                }
                if (ids.n == ids.cap) {
                    ids.cap = ids.cap ? ids.cap * 2 : 256;
                    ids.ids = realloc(ids.ids, ids.cap * sizeof *ids.ids);
                }
                ids.ids[ids.n++] = (int32_t)v->valuedouble;
            }
            if (rc) break;
        } else {
            char num[64];
            const char *text = vkft_path_text(rec.obj, fmt == VKFT_FMT_TEXT ? "text" : text_field, num, sizeof num);
            if (!text) {
                snprintf(err, errlen, "%s:%ld: no \"%s\" field (and no \"input_ids\"); set the text field", path,
                         rec.line, text_field);
                rc = -1;
                break;
            }
            if (!*text) {
                out->empty_lines++;
                continue;
            }
            if (!tok) {
                snprintf(err, errlen, "%s:%ld: text needs the model's tokenizer, and the model folder has no "
                                      "tokenizer.json (give pre-tokenized {\"input_ids\": [...]} lines instead)",
                         path, rec.line);
                rc = -1;
                break;
            }
            if (vkft_tokenizer_encode(tok, text, strlen(text), add_special, &ids, err, errlen)) {
                rc = -1;
                break;
            }
        }
        for (size_t i = 0; i < ids.n && vocab_size; i++)
            if ((uint32_t)ids.ids[i] >= vocab_size) {
                snprintf(err, errlen, "%s:%ld: token id %d is outside the model's vocabulary (%u)", path, rec.line,
                         ids.ids[i], vocab_size);
                rc = -1;
                break;
            }
        if (rc || add_seq(out, ids.ids, ids.n)) {
            if (!rc) snprintf(err, errlen, "%s: out of memory", path);
            rc = -1;
            break;
        }
    }
    vkft_tok_ids_free(&ids);
    vkft_reader_close(r);
    if (rc) vkft_lm_data_free(out);
    return rc;
}

void vkft_lm_data_free(vkft_lm_data *d) {
    for (size_t i = 0; i < d->n; i++) free(d->seqs[i]);
    free(d->seqs);
    free(d->lens);
    memset(d, 0, sizeof *d);
}
