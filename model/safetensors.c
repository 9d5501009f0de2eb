#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fsutil.h"

/* The Python library refuses headers over 100 MB; so do we (a corrupt length would otherwise ask for
 * gigabytes). */
#define MAX_HEADER (100u << 20)

static int by_name(const void *a, const void *b) {
    return strcmp(((const vkft_st_tensor *)a)->name, ((const vkft_st_tensor *)b)->name);
}

static int by_begin(const void *a, const void *b) {
    const vkft_st_tensor *x = *(vkft_st_tensor *const *)a, *y = *(vkft_st_tensor *const *)b;
    return x->data < y->data ? -1 : x->data > y->data;
}

static void add_meta(vkft_safetensors *st, const char *k, const char *v) {
    st->meta_keys = realloc(st->meta_keys, (st->meta_count + 1) * sizeof *st->meta_keys);
    st->meta_values = realloc(st->meta_values, (st->meta_count + 1) * sizeof *st->meta_values);
    st->meta_keys[st->meta_count] = strdup(k);
    st->meta_values[st->meta_count] = strdup(v);
    st->meta_count++;
}

/* Maps one file and appends its tensors to st (file index fi). */
static int load_file(vkft_safetensors *st, const char *path, int fi, char *err, size_t errlen) {
    vkft_st_file *f = &st->files[fi];
    snprintf(f->path, sizeof f->path, "%s", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return vkft_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        close(fd);
        return vkft_fail(err, errlen, "cannot stat %s: %s", path, strerror(errno));
    }
    size_t size = (size_t)sb.st_size;
    if (size < 8) {
        close(fd);
        return vkft_fail(err, errlen, "%s: truncated (%zu bytes; a safetensors file starts with an 8-byte header length)",
                    path, size);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return vkft_fail(err, errlen, "cannot map %s: %s", path, strerror(errno));
    f->map = map;
    f->map_size = size;
    const uint8_t *bytes = map;
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | bytes[i];
    if (hlen > MAX_HEADER)
        return vkft_fail(err, errlen, "%s: header length %llu is too large (over 100 MB): not a safetensors file or corrupt",
                    path, (unsigned long long)hlen);
    if (8 + hlen > size)
        return vkft_fail(err, errlen, "%s: truncated: the header claims %llu bytes but the file has %zu", path,
                    (unsigned long long)hlen, size);
    char *text = malloc(hlen + 1);
    memcpy(text, bytes + 8, hlen);
    text[hlen] = 0;
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return vkft_fail(err, errlen, "%s: the header is not a JSON object", path);
    }
    const uint8_t *data = bytes + 8 + hlen;
    size_t data_size = size - 8 - hlen;
    int rc = 0, first_new = st->count;
    for (cJSON *e = root->child; e && rc == 0; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            if (!cJSON_IsObject(e)) {
                rc = vkft_fail(err, errlen, "%s: __metadata__ must be an object of strings", path);
                break;
            }
            for (cJSON *m = e->child; m; m = m->next)
                if (cJSON_IsString(m) && fi == 0) add_meta(st, m->string, m->valuestring);
            continue;
        }
        cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2) {
            rc = vkft_fail(err, errlen, "%s: tensor '%s' needs \"dtype\", \"shape\" and \"data_offsets\" [begin, end]",
                      path, e->string);
            break;
        }
        vkft_st_tensor t = {0};
        if (vkft_dtype_parse(dt->valuestring, &t.dtype)) {
            rc = vkft_fail(err, errlen, "%s: tensor '%s' has dtype %s; vkft reads F32, F16 and BF16 (convert the "
                                   "checkpoint, e.g. with torch, to one of them)",
                      path, e->string, dt->valuestring);
            break;
        }
        t.ndim = cJSON_GetArraySize(shape);
        if (t.ndim > VKFT_ST_MAX_DIMS) {
            rc = vkft_fail(err, errlen, "%s: tensor '%s' has %d dimensions (at most %d)", path, e->string, t.ndim,
                      VKFT_ST_MAX_DIMS);
            break;
        }
        t.numel = 1;
        int d = 0;
        for (cJSON *s = shape->child; s; s = s->next, d++) {
            if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble != (double)(int64_t)s->valuedouble ||
                s->valuedouble > 1e15) {
                rc = vkft_fail(err, errlen, "%s: tensor '%s' has an invalid shape", path, e->string);
                break;
            }
            t.shape[d] = (int64_t)s->valuedouble;
            t.numel *= t.shape[d];
        }
        if (rc) break;
        double b = cJSON_GetArrayItem(off, 0)->valuedouble, en = cJSON_GetArrayItem(off, 1)->valuedouble;
        if (!cJSON_IsNumber(cJSON_GetArrayItem(off, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(off, 1)) || b < 0 ||
            en < b || en > (double)data_size) {
            rc = vkft_fail(err, errlen, "%s: tensor '%s' has data_offsets [%.0f, %.0f] outside the %zu bytes of data%s",
                      path, e->string, b, en, data_size, en > (double)data_size ? " (truncated file?)" : "");
            break;
        }
        t.nbytes = (size_t)(en - b);
        if ((uint64_t)t.numel * vkft_dtype_size(t.dtype) != t.nbytes) {
            rc = vkft_fail(err, errlen, "%s: tensor '%s': shape needs %lld bytes of %s but data_offsets span %zu", path,
                      e->string, (long long)(t.numel * (int64_t)vkft_dtype_size(t.dtype)),
                      vkft_dtype_name(t.dtype), t.nbytes);
            break;
        }
        t.data = data + (size_t)b;
        t.file = fi;
        t.name = strdup(e->string);
        st->tensors = realloc(st->tensors, (st->count + 1) * sizeof *st->tensors);
        st->tensors[st->count++] = t;
    }
    cJSON_Delete(root);
    if (rc) return rc;
    /* Overlapping data ranges within this file. */
    int n = st->count - first_new;
    vkft_st_tensor **order = malloc((n ? n : 1) * sizeof *order);
    for (int i = 0; i < n; i++) order[i] = &st->tensors[first_new + i];
    qsort(order, n, sizeof *order, by_begin);
    for (int i = 1; i < n && rc == 0; i++)
        if ((const uint8_t *)order[i - 1]->data + order[i - 1]->nbytes > (const uint8_t *)order[i]->data)
            rc = vkft_fail(err, errlen, "%s: tensors '%s' and '%s' overlap in the data section", path, order[i - 1]->name,
                      order[i]->name);
    free(order);
    return rc;
}

static int finish(vkft_safetensors *st, char *err, size_t errlen) {
    qsort(st->tensors, st->count, sizeof *st->tensors, by_name);
    for (int i = 1; i < st->count; i++)
        if (!strcmp(st->tensors[i - 1].name, st->tensors[i].name))
            return vkft_fail(err, errlen, "%s: tensor '%s' appears twice", st->files[st->tensors[i].file].path,
                        st->tensors[i].name);
    return 0;
}

int vkft_st_open(const char *path, vkft_safetensors *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    st->files = calloc(1, sizeof *st->files);
    st->file_count = 1;
    if (load_file(st, path, 0, err, errlen) || finish(st, err, errlen)) {
        vkft_st_close(st);
        return -1;
    }
    return 0;
}

int vkft_st_open_dir(const char *dir, vkft_safetensors *st, char *err, size_t errlen) {
    memset(st, 0, sizeof *st);
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (vkft_file_exists(path)) return vkft_st_open(path, st, err, errlen);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (!vkft_file_exists(path))
        return vkft_fail(err, errlen, "%s has neither model.safetensors nor model.safetensors.index.json (vkft reads "
                                 "safetensors checkpoints; convert .bin files with torch + safetensors)",
                    dir);
    char *text;
    size_t n;
    if (vkft_read_file(path, &text, &n, err, errlen)) return -1;
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(root);
        return vkft_fail(err, errlen, "%s: expected a JSON object with \"weight_map\"", path);
    }
    /* The distinct shard files, in order of first mention. */
    char **shards = NULL;
    int nshards = 0;
    for (cJSON *e = map->child; e; e = e->next) {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/')) {
            cJSON_Delete(root);
            free(shards);
            return vkft_fail(err, errlen, "%s: weight_map entry '%s' must name a file in the same folder", path, e->string);
        }
        int seen = 0;
        for (int i = 0; i < nshards && !seen; i++) seen = !strcmp(shards[i], e->valuestring);
        if (!seen) {
            shards = realloc(shards, (nshards + 1) * sizeof *shards);
            shards[nshards++] = e->valuestring;
        }
    }
    st->files = calloc(nshards ? nshards : 1, sizeof *st->files);
    st->file_count = nshards;
    int rc = 0;
    for (int i = 0; i < nshards && rc == 0; i++) {
        char shard[4096];
        snprintf(shard, sizeof shard, "%s/%s", dir, shards[i]);
        rc = load_file(st, shard, i, err, errlen);
    }
    if (rc == 0) rc = finish(st, err, errlen);
    /* Every tensor the index names must be in the shard it names. */
    for (cJSON *e = map->child; e && rc == 0; e = e->next) {
        const vkft_st_tensor *t = vkft_st_find(st, e->string);
        if (!t)
            rc = vkft_fail(err, errlen, "%s names tensor '%s' in %s, but that file does not have it", path, e->string,
                      e->valuestring);
        else if (strcmp(strrchr(st->files[t->file].path, '/') + 1, e->valuestring))
            rc = vkft_fail(err, errlen, "%s: tensor '%s' is in %s, not in %s as the index says", path, e->string,
                      st->files[t->file].path, e->valuestring);
    }
    free(shards);
    cJSON_Delete(root);
    if (rc) vkft_st_close(st);
    return rc;
}

void vkft_st_close(vkft_safetensors *st) {
    for (int i = 0; i < st->count; i++) free(st->tensors[i].name);
    for (int i = 0; i < st->file_count; i++)
        if (st->files[i].map) munmap(st->files[i].map, st->files[i].map_size);
    for (int i = 0; i < st->meta_count; i++) free(st->meta_keys[i]), free(st->meta_values[i]);
    free(st->meta_keys);
    free(st->meta_values);
    free(st->tensors);
    free(st->files);
    memset(st, 0, sizeof *st);
}

const vkft_st_tensor *vkft_st_find(const vkft_safetensors *st, const char *name) {
    int lo = 0, hi = st->count - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = strcmp(st->tensors[mid].name, name);
        if (c == 0) return &st->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return NULL;
}

const char *vkft_st_metadata(const vkft_safetensors *st, const char *key) {
    for (int i = 0; i < st->meta_count; i++)
        if (!strcmp(st->meta_keys[i], key)) return st->meta_values[i];
    return NULL;
}

static int by_write_name(const void *a, const void *b) {
    return strcmp((*(const vkft_st_write_tensor *const *)a)->name, (*(const vkft_st_write_tensor *const *)b)->name);
}

int vkft_st_write(const char *path, const vkft_st_write_tensor *tensors, int count, const char *const *meta_keys,
                  const char *const *meta_values, int meta_count, char *err, size_t errlen) {
    const vkft_st_write_tensor **order = malloc((count ? count : 1) * sizeof *order);
    for (int i = 0; i < count; i++) order[i] = &tensors[i];
    qsort(order, count, sizeof *order, by_write_name);
    cJSON *root = cJSON_CreateObject();
    if (meta_count > 0) {
        cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
        for (int i = 0; i < meta_count; i++) cJSON_AddStringToObject(m, meta_keys[i], meta_values[i]);
    }
    size_t offset = 0;
    int rc = 0;
    for (int i = 0; i < count; i++) {
        const vkft_st_write_tensor *t = order[i];
        if (i > 0 && !strcmp(order[i - 1]->name, t->name)) {
            rc = vkft_fail(err, errlen, "%s: tensor '%s' given twice", path, t->name);
            break;
        }
        int64_t numel = 1;
        cJSON *e = cJSON_AddObjectToObject(root, t->name);
        cJSON_AddStringToObject(e, "dtype", vkft_dtype_name(t->dtype));
        cJSON *shape = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t->ndim; d++) {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
            numel *= t->shape[d];
        }
        size_t nbytes = (size_t)numel * vkft_dtype_size(t->dtype);
        cJSON *off = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)offset));
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(offset + nbytes)));
        offset += nbytes;
    }
    char *header = rc ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (rc) {
        free(order);
        return rc;
    }
    /* Pad the header with spaces so that the data starts 8-byte aligned (as the Python library does). */
    size_t hlen = strlen(header), padded = (hlen + 8 + 7) / 8 * 8 - 8;
    vkft_atomic_file af;
    if (vkft_atomic_open(&af, path, err, errlen)) {
        free(header);
        free(order);
        return -1;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    int ok = fwrite(len8, 1, 8, af.f) == 8 && fwrite(header, 1, hlen, af.f) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', af.f) != EOF;
    for (int i = 0; ok && i < count; i++) {
        const vkft_st_write_tensor *t = order[i];
        int64_t numel = 1;
        for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
        size_t nbytes = (size_t)numel * vkft_dtype_size(t->dtype);
        ok = nbytes == 0 || fwrite(t->data, 1, nbytes, af.f) == nbytes;
    }
    free(header);
    free(order);
    if (!ok) {
        vkft_atomic_abort(&af);
        return vkft_fail(err, errlen, "writing %s failed: %s", path, strerror(errno));
    }
    return vkft_atomic_commit(&af, err, errlen);
}
