/* Embedding lookup (token ids -> rows of an fp32 table) and its deterministic scatter-add backward. */
#ifndef VKFT_OPS_EMBEDDING_H
#define VKFT_OPS_EMBEDDING_H
#include "runtime/runtime.h"

/* out[n, :] = table[ids[n], :] for int32 ids [N], table [V, C]. Ids outside [0, V) give zero rows and are
 * reported in status (2 uint32, written by this call): status[0] = how many, status[1] = the first such
 * position n (0xffffffff if none). Nothing is read out of bounds. */
int vkft_embedding_forward(vkft_recorder *rec, vkft_buf ids, vkft_buf table, vkft_buf out, vkft_buf status,
                           uint32_t N, uint32_t V, uint32_t C);
/* dtable[v, :] (+)= sum of dout[n, :] over the tokens n with ids[n] == v (accumulate = 0: dtable is zeroed
 * first; 1: added to, e.g. for a table tied to the LM head). Deterministic: each thread owns a column of a
 * slice of the vocabulary and adds the tokens in order (no float atomics). Invalid ids are skipped. */
int vkft_embedding_backward(vkft_recorder *rec, vkft_buf ids, vkft_buf dout, vkft_buf dtable, uint32_t N,
                            uint32_t V, uint32_t C, int accumulate);
/* The same with the number of vocabulary slices chosen by the caller (0: by the device, as above; 1 on a
 * CPU driver, up to 64 on a GPU), for tests that cover both. The result does not depend on it. */
int vkft_embedding_backward_sliced(vkft_recorder *rec, vkft_buf ids, vkft_buf dout, vkft_buf dtable,
                                   uint32_t N, uint32_t V, uint32_t C, int accumulate, uint32_t slices);
/* The kernel definitions: "embedding_forward" ("embedding_forward_vec4" when C % 4 == 0),
 * "embedding_check_ids", "embedding_backward". */
const vkft_kernel_def *vkft_embedding_kernel(const char *name);
#endif
