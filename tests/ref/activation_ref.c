#include "tests/ref/activation_ref.h"

#include <math.h>

static const double SQRT_2_OVER_PI = 0.79788456080286535588, GELU_C = 0.044715;

static double sigmoid(double v) { return 1.0 / (1.0 + exp(-v)); }

static double act(int a, double v) {
    switch (a) {
    case 0: return v > 0 ? v : 0;
    case 1: return 0.5 * v * (1 + tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v)));
    case 2: return 0.5 * v * (1 + erf(v / sqrt(2.0)));
    default: return v * sigmoid(v);
    }
}

static double act_grad(int a, double v) {
    switch (a) {
    case 0: return v > 0 ? 1 : 0;
    case 1: {
        double t = tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v));
        return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * v * v);
    }
    case 2: return 0.5 * (1 + erf(v / sqrt(2.0))) + v * exp(-0.5 * v * v) / sqrt(2 * M_PI);
    default: {
        double s = sigmoid(v);
        return s * (1 + v * (1 - s));
    }
    }
}

void activation_forward_ref(int a, const double *x, double *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = act(a, x[i]);
}

void activation_backward_ref(int a, const double *x, const double *dy, double *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = act_grad(a, x[i]) * dy[i];
}

void swiglu_forward_ref(const double *g, const double *u, double *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = act(3, g[i]) * u[i];
}

void swiglu_backward_ref(const double *g, const double *u, const double *dy, double *dg, double *du,
                         size_t n) {
    for (size_t i = 0; i < n; i++) {
        dg[i] = dy[i] * u[i] * act_grad(3, g[i]);
        du[i] = dy[i] * act(3, g[i]);
    }
}
