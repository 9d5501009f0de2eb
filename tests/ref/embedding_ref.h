/* CPU references of shaders/embedding.comp. */
#ifndef VKFT_EMBEDDING_REF_H
#define VKFT_EMBEDDING_REF_H
#include <stddef.h>
#include <stdint.h>

/* out[n, :] = table[ids[n], :], zero rows for ids outside [0, V); returns how many ids were outside and
 * stores the first such position in *first_bad (UINT32_MAX if none). */
size_t embedding_forward_ref(const int32_t *ids, const double *table, double *out, size_t N, size_t V,
                             size_t C, uint32_t *first_bad);
/* dtable (zeroed first) += the rows of dout scattered by ids (invalid ids skipped). */
void embedding_backward_ref(const int32_t *ids, const double *dout, double *dtable, size_t N, size_t V,
                            size_t C);
#endif
