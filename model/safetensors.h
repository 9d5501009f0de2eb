/* safetensors: the Hugging Face tensor file format. An 8-byte little-endian header length, a JSON header
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data, with
 * offsets relative to the start of the data. Read through mmap with strict validation; written atomically.
 * Sharded checkpoints are read through model.safetensors.index.json. */
#ifndef VKFT_SAFETENSORS_H
#define VKFT_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>

#include "model/dtype.h"

#define VKFT_ST_MAX_DIMS 8

typedef struct {
    char *name;
    vkft_dtype dtype;
    int ndim;
    int64_t shape[VKFT_ST_MAX_DIMS];
    int64_t numel;
    const void *data; /* inside the mapping */
    size_t nbytes;
    int file; /* which file of a sharded set */
} vkft_st_tensor;

typedef struct {
    char path[4096];
    void *map;
    size_t map_size;
} vkft_st_file;

/* One file, or every shard of a sharded checkpoint, as one set of tensors. */
typedef struct {
    vkft_st_file *files;
    int file_count;
    vkft_st_tensor *tensors; /* sorted by name */
    int count;
    char **meta_keys, **meta_values; /* __metadata__ of the first file */
    int meta_count;
} vkft_safetensors;

/* Opens one .safetensors file. Errors name the file and the tensor. */
int vkft_st_open(const char *path, vkft_safetensors *st, char *err, size_t errlen);
/* Opens a model folder: model.safetensors, or the shards listed by model.safetensors.index.json. */
int vkft_st_open_dir(const char *dir, vkft_safetensors *st, char *err, size_t errlen);
void vkft_st_close(vkft_safetensors *st);
const vkft_st_tensor *vkft_st_find(const vkft_safetensors *st, const char *name);
const char *vkft_st_metadata(const vkft_safetensors *st, const char *key);

/* A tensor to write: data in `dtype` already, row-major. */
typedef struct {
    const char *name;
    vkft_dtype dtype;
    int ndim;
    int64_t shape[VKFT_ST_MAX_DIMS];
    const void *data;
} vkft_st_write_tensor;

/* Writes tensors (any order; written sorted by name, as the Python library does) and optional string
 * metadata pairs to path, atomically (temp file, fsync, rename). */
int vkft_st_write(const char *path, const vkft_st_write_tensor *tensors, int count, const char *const *meta_keys,
                  const char *const *meta_values, int meta_count, char *err, size_t errlen);
#endif
