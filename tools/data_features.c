#include "tools/data_features.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/fsutil.h"

int data_features_write(const char *path, const data_tensor *t, int n, const char *const *meta_keys,
                        const char *const *meta_values, int n_meta, char *err, size_t errlen) {
    cJSON *h = cJSON_CreateObject(), *meta = cJSON_AddObjectToObject(h, "__metadata__");
    for (int i = 0; i < n_meta; i++) cJSON_AddStringToObject(meta, meta_keys[i], meta_values[i]);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(h, t[i].name), *sh = cJSON_AddArrayToObject(e, "shape");
        cJSON_AddStringToObject(e, "dtype", t[i].i32 ? "I32" : "F32");
        size_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) {
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t[i].shape[d]));
            numel *= (size_t)t[i].shape[d];
        }
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        off += numel * 4;
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
    }
    char *js = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!js) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t hl = strlen(js), padded = (hl + 7) / 8 * 8, total = 8 + padded + off;
    char *buf = malloc(total);
    if (!buf) {
        free(js);
        snprintf(err, errlen, "out of memory (%zu bytes)", total);
        return -1;
    }
    for (int b = 0; b < 8; b++) buf[b] = (char)((uint64_t)padded >> (8 * b)); /* little-endian u64 */
    memcpy(buf + 8, js, hl);
    memset(buf + 8 + hl, ' ', padded - hl);
    free(js);
    char *p = buf + 8 + padded;
    for (int i = 0; i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) numel *= (size_t)t[i].shape[d];
        memcpy(p, t[i].data, numel * 4);
        p += numel * 4;
    }
    int rc = vkft_write_file_atomic(path, buf, total, err, errlen);
    free(buf);
    return rc ? -1 : 0;
}

/* A feature file in memory: its bytes and parsed header. */
typedef struct {
    char *data;
    size_t len, base; /* base: where tensor data starts (8 + header length) */
    cJSON *header;
} feature_file;

static int open_file(const char *path, feature_file *f, char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    if (vkft_read_file(path, &f->data, &f->len, err, errlen)) return -1;
    uint64_t hl = 0;
    for (int b = 0; b < 8 && f->len >= 8; b++) hl |= (uint64_t)(unsigned char)f->data[b] << (8 * b);
    f->header = f->len >= 8 && hl <= f->len - 8 ? cJSON_ParseWithLength(f->data + 8, (size_t)hl) : NULL;
    f->base = 8 + (size_t)hl;
    if (f->header) return 0;
    snprintf(err, errlen, "%s: not a safetensors file", path);
    free(f->data);
    return -1;
}

static void close_file(feature_file *f) {
    cJSON_Delete(f->header);
    free(f->data);
}

/* Tensor `name` of `dtype` with `ndim` dimensions: its shape and a pointer to its bytes, or NULL with err. */
static const void *find_tensor(const feature_file *f, const char *path, const char *name, const char *dtype,
                               int ndim, long *shape, char *err, size_t errlen) {
    cJSON *t = cJSON_GetObjectItemCaseSensitive(f->header, name);
    cJSON *sh = cJSON_GetObjectItem(t, "shape"), *off = cJSON_GetObjectItem(t, "data_offsets");
    const char *dt = cJSON_GetStringValue(cJSON_GetObjectItem(t, "dtype"));
    if (!t || !dt || strcmp(dt, dtype) || cJSON_GetArraySize(sh) != ndim || cJSON_GetArraySize(off) != 2) {
        snprintf(err, errlen, "%s: needs a tensor \"%s\" of dtype %s with %d dimension%s", path, name, dtype, ndim,
                 ndim > 1 ? "s" : "");
        return NULL;
    }
    size_t numel = 1, b = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble,
           e = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
    for (int d = 0; d < ndim; d++) {
        shape[d] = (long)cJSON_GetArrayItem(sh, d)->valuedouble;
        numel *= shape[d] > 0 ? (size_t)shape[d] : 0;
    }
    if (numel == 0 || b > e || e - b != numel * 4 || f->base + e > f->len) {
        snprintf(err, errlen, "%s: \"%s\" has inconsistent shape and offsets", path, name);
        return NULL;
    }
    return f->data + f->base + b;
}

int data_features_read(const char *path, float **x, long *n, int *h, long *real_rows, char *err, size_t errlen) {
    feature_file f;
    if (open_file(path, &f, err, errlen)) return -1;
    long shape[2];
    const void *data = find_tensor(&f, path, "features", "F32", 2, shape, err, errlen);
    int rc = -1;
    if (data && !(*x = malloc((size_t)shape[0] * shape[1] * 4))) {
        snprintf(err, errlen, "out of memory");
    } else if (data) {
        memcpy(*x, data, (size_t)shape[0] * shape[1] * 4);
        *n = shape[0];
        *h = (int)shape[1];
        const char *rr = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(f.header, "__metadata__"), "real_rows"));
        *real_rows = rr ? atol(rr) : shape[0];
        if (*real_rows < 1 || *real_rows > shape[0]) *real_rows = shape[0];
        rc = 0;
    }
    close_file(&f);
    return rc;
}

int data_features_read_labeled(const char *path, data_labeled *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    feature_file f;
    if (open_file(path, &f, err, errlen)) return -1;
    long xs[2], ys[1];
    const void *x = find_tensor(&f, path, "features", "F32", 2, xs, err, errlen);
    const void *y = x ? find_tensor(&f, path, "labels", "I32", 1, ys, err, errlen) : NULL;
    const char *names = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(f.header, "__metadata__"), "labels"));
    cJSON *arr = names ? cJSON_Parse(names) : NULL;
    int rc = -1;
    if (!y) {
    } else if (ys[0] != xs[0]) {
        snprintf(err, errlen, "%s: %ld labels for %ld feature rows", path, ys[0], xs[0]);
    } else if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1) {
        snprintf(err, errlen, "%s: the metadata needs \"labels\", a JSON array of the label names (as vkft data "
                 "balance --mode smote writes)", path);
    } else {
        out->n = xs[0];
        out->h = (int)xs[1];
        out->k = cJSON_GetArraySize(arr);
        out->x = malloc((size_t)out->n * out->h * 4);
        out->y = malloc((size_t)out->n * 4);
        out->names = calloc((size_t)out->k, sizeof *out->names);
        rc = out->x && out->y && out->names ? 0 : -1;
        if (rc) snprintf(err, errlen, "out of memory");
        for (int i = 0; !rc && i < out->k; i++) {
            const char *s = cJSON_GetStringValue(cJSON_GetArrayItem(arr, i));
            out->names[i] = strdup(s ? s : "");
        }
        if (!rc) {
            memcpy(out->x, x, (size_t)out->n * out->h * 4);
            memcpy(out->y, y, (size_t)out->n * 4);
            for (long i = 0; i < out->n && !rc; i++)
                if (out->y[i] < 0 || out->y[i] >= out->k) {
                    snprintf(err, errlen, "%s: row %ld has label %d, outside the %d label names", path, i,
                             (int)out->y[i], out->k);
                    rc = -1;
                }
        }
    }
    cJSON_Delete(arr);
    close_file(&f);
    if (rc) data_labeled_free(out);
    return rc;
}

void data_labeled_free(data_labeled *d) {
    for (int i = 0; d->names && i < d->k; i++) free(d->names[i]);
    free(d->names), free(d->x), free(d->y);
    memset(d, 0, sizeof *d);
}
