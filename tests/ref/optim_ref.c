#include "tests/ref/optim_ref.h"

#include <math.h>

double grad_norm_ref(const double *g, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += g[i] * g[i];
    return sqrt(s);
}

double clip_coef_ref(double norm, double max_norm) {
    if (max_norm <= 0) return 1.0;
    double c = max_norm / (norm + 1e-6);
    return c < 1.0 ? c : 1.0;
}

void adamw_step_ref(double *param, const double *g, double *m, double *v, size_t n, double lr, double beta1,
                    double beta2, double eps, double weight_decay, unsigned step, double coef) {
    double bc1 = 1 - pow(beta1, step), bc2 = 1 - pow(beta2, step);
    for (size_t i = 0; i < n; i++) {
        double gi = g[i] * coef;
        param[i] *= 1 - lr * weight_decay;
        m[i] = beta1 * m[i] + (1 - beta1) * gi;
        v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
        param[i] -= lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
    }
}
