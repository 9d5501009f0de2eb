/* Feature files of `vkft data`: safetensors holding sentence embeddings (and SMOTE's synthetic rows).
 * Written and read here rather than through model/safetensors.h because they hold I32 tensors (labels,
 * source rows), which the model loader has no use for. Layout (docs/data.md, "Feature files"):
 *   features [N, H] F32, labels [N] I32, source [N, 2] I32, lambda [N] F32, and string metadata. */
#ifndef VKFT_TOOLS_DATA_FEATURES_H
#define VKFT_TOOLS_DATA_FEATURES_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;
    int i32;         /* 0: F32 */
    int ndim;
    int64_t shape[2];
    const void *data;
} data_tensor;

/* Writes tensors (given sorted by name) and metadata pairs atomically. Returns 0 or -1 with err. */
int data_features_write(const char *path, const data_tensor *t, int n, const char *const *meta_keys,
                        const char *const *meta_values, int n_meta, char *err, size_t errlen);
/* Reads the F32 tensor `features` [N, H] (malloc'd into *x); *real_rows: the metadata "real_rows" when
 * present (SMOTE output: the rows before it are the records), else N. Returns 0 or -1 with err. */
int data_features_read(const char *path, float **x, long *n, int *h, long *real_rows, char *err, size_t errlen);

/* Feature rows with their labels: `features` [n, h], `labels` [n] (I32, each in [0, k)) and the metadata's
 * label names (k). */
typedef struct {
    float *x;
    int32_t *y;
    long n;
    int h, k;
    char **names;
} data_labeled;
int data_features_read_labeled(const char *path, data_labeled *out, char *err, size_t errlen);
void data_labeled_free(data_labeled *d);
#endif
