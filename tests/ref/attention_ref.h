/* CPU reference of attention (shaders/attention.comp): the simple unfused computation, scores, softmax,
 * weighted sum, and its backward, in double precision.
 *
 * Layouts (row-major): q, out, dq, dout [B, T, H, D]; k, v, dk, dv [B, T, Hkv, D]; lse [B, H, T].
 * Query head h reads kv head h / (H / Hkv) (grouped-query attention; Hkv = H is multi-head, Hkv = 1
 * multi-query). Score s_ij = scale * q_i . k_j. Key j is visible to query i when j < len[b] (lengths
 * NULL: len = T) and, if causal, j <= i. Query rows i >= len[b] are padding: out = 0, lse = -inf, and
 * they contribute no gradient. lse is the natural-log logsumexp of the visible scores. */
#ifndef VKFT_ATTENTION_REF_H
#define VKFT_ATTENTION_REF_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t B, T, H, Hkv, D;
    int causal;
    double scale;
    const uint32_t *lengths; /* [B] valid lengths (right padding), or NULL */
} attention_ref_dims;

/* double versions (for finite differences) */
void attention_forward_ref_f64(const attention_ref_dims *d, double *out, double *lse, const double *q,
                               const double *k, const double *v);
/* dq, dk, dv are overwritten. */
void attention_backward_ref_f64(const attention_ref_dims *d, double *dq, double *dk, double *dv,
                                const double *dout, const double *q, const double *k, const double *v);

/* fp32 in and out, computed in double */
void attention_forward_ref(const attention_ref_dims *d, float *out, float *lse, const float *q,
                           const float *k, const float *v);
void attention_backward_ref(const attention_ref_dims *d, float *dq, float *dk, float *dv, const float *dout,
                            const float *q, const float *k, const float *v);
#endif
