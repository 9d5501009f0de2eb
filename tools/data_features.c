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

int data_features_read(const char *path, float **x, long *n, int *h, long *real_rows, char *err, size_t errlen) {
    char *data;
    size_t len;
    if (vkft_read_file(path, &data, &len, err, errlen)) return -1;
    uint64_t hl = 0;
    for (int b = 0; b < 8 && len >= 8; b++) hl |= (uint64_t)(unsigned char)data[b] << (8 * b);
    cJSON *j = len >= 8 && hl <= len - 8 ? cJSON_ParseWithLength(data + 8, (size_t)hl) : NULL;
    cJSON *f = cJSON_GetObjectItemCaseSensitive(j, "features");
    cJSON *sh = cJSON_GetObjectItem(f, "shape"), *off = cJSON_GetObjectItem(f, "data_offsets");
    const char *dt = cJSON_GetStringValue(cJSON_GetObjectItem(f, "dtype"));
    int rc = -1;
    if (!j) {
        snprintf(err, errlen, "%s: not a safetensors file", path);
    } else if (!f || !dt || strcmp(dt, "F32") || cJSON_GetArraySize(sh) != 2 || cJSON_GetArraySize(off) != 2) {
        snprintf(err, errlen, "%s: needs a tensor \"features\" of dtype F32 and shape [records, hidden]", path);
    } else {
        long rows = (long)cJSON_GetArrayItem(sh, 0)->valuedouble;
        int cols = (int)cJSON_GetArrayItem(sh, 1)->valuedouble;
        size_t b = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble, e = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
        size_t base = 8 + (size_t)hl;
        if (rows < 1 || cols < 1 || e - b != (size_t)rows * (size_t)cols * 4 || base + e > len || b > e) {
            snprintf(err, errlen, "%s: \"features\" has inconsistent shape and offsets", path);
        } else if (!(*x = malloc(e - b))) {
            snprintf(err, errlen, "out of memory");
        } else {
            memcpy(*x, data + base + b, e - b);
            *n = rows;
            *h = cols;
            const char *rr = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "__metadata__"), "real_rows"));
            *real_rows = rr ? atol(rr) : rows;
            if (*real_rows < 1 || *real_rows > rows) *real_rows = rows;
            rc = 0;
        }
    }
    cJSON_Delete(j);
    free(data);
    return rc;
}
