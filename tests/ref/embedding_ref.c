#include "tests/ref/embedding_ref.h"

#include <string.h>

size_t embedding_forward_ref(const int32_t *ids, const double *table, double *out, size_t N, size_t V,
                             size_t C, uint32_t *first_bad) {
    size_t bad = 0;
    *first_bad = UINT32_MAX;
    for (size_t n = 0; n < N; n++) {
        int ok = ids[n] >= 0 && (size_t)ids[n] < V;
        if (!ok && bad++ == 0) *first_bad = (uint32_t)n;
        for (size_t c = 0; c < C; c++) out[n * C + c] = ok ? table[(size_t)ids[n] * C + c] : 0.0;
    }
    return bad;
}

void embedding_backward_ref(const int32_t *ids, const double *dout, double *dtable, size_t N, size_t V,
                            size_t C) {
    memset(dtable, 0, V * C * sizeof *dtable);
    for (size_t n = 0; n < N; n++) {
        if (ids[n] < 0 || (size_t)ids[n] >= V) continue;
        for (size_t c = 0; c < C; c++) dtable[(size_t)ids[n] * C + c] += dout[n * C + c];
    }
}
