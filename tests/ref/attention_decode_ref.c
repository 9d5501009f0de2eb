#include "tests/ref/attention_decode_ref.h"

#include <math.h>
#include <stdlib.h>

void attention_decode_ref(const float *q, const float *k, const float *v, float *out, uint32_t B, uint32_t H,
                          uint32_t Hkv, uint32_t D, uint32_t n, uint32_t max_len, float scale) {
    double sc = scale != 0.0f ? scale : 1.0 / sqrt((double)D);
    double *s = malloc((n ? n : 1) * sizeof *s);
    size_t stride = (size_t)Hkv * D;
    for (uint32_t b = 0; b < B; b++)
        for (uint32_t h = 0; h < H; h++) {
            const float *qr = q + ((size_t)b * H + h) * D;
            const float *kb = k + (size_t)b * max_len * stride + (size_t)(h / (H / Hkv)) * D;
            const float *vb = v + (size_t)b * max_len * stride + (size_t)(h / (H / Hkv)) * D;
            double mx = -INFINITY, sum = 0;
            for (uint32_t j = 0; j < n; j++) {
                double dot = 0;
                for (uint32_t d = 0; d < D; d++) dot += (double)qr[d] * kb[j * stride + d];
                s[j] = sc * dot;
                if (s[j] > mx) mx = s[j];
            }
            for (uint32_t j = 0; j < n; j++) sum += (s[j] = exp(s[j] - mx));
            for (uint32_t d = 0; d < D; d++) {
                double acc = 0;
                for (uint32_t j = 0; j < n; j++) acc += s[j] * vb[j * stride + d];
                out[((size_t)b * H + h) * D + d] = (float)(acc / sum);
            }
        }
    free(s);
}
