#include "tests/ref/rope_ref.h"

#include <math.h>

void rope_ref(const double *x, double *y, const int32_t *pos, const float *inv_freq, size_t B, size_t T,
              size_t H, size_t D, size_t rot_dim, float scaling_factor, int sign) {
    size_t half = rot_dim / 2;
    volatile float inv_factor = 1.0f / scaling_factor; /* volatile: keep each fp32 rounding */
    for (size_t bt = 0; bt < B * T; bt++)
        for (size_t h = 0; h < H; h++) {
            const double *xr = x + (bt * H + h) * D;
            double *yr = y + (bt * H + h) * D;
            for (size_t i = 0; i < half; i++) {
                volatile float t = (float)pos[bt] * inv_factor;
                volatile float a = t * inv_freq[i];
                double c = cos((double)a), s = sign * sin((double)a);
                yr[i] = xr[i] * c - xr[i + half] * s;
                yr[i + half] = xr[i + half] * c + xr[i] * s;
            }
            for (size_t j = rot_dim; j < D; j++) yr[j] = xr[j];
        }
}
