#version 450
// Elementwise activations on fp32 vectors of n elements, forward and backward. OP (specialization
// constant 1): 0 relu, 1 gelu (tanh approximation), 2 gelu (erf), 3 silu, 4 swiglu (y = silu(g) * u).
//   forward:  y = f(x)                      bindings: x (g for swiglu), u (swiglu; else unused), y
//   backward: dx = f'(x) * dy               bindings: x (g), u, dy, dx (dg), du (swiglu; else unused)
// Variants *_vec4 move 4 elements per load (n a multiple of 4, buffers 16-byte aligned): lavapipe turns
// every per-invocation load into a loop over the lanes, so 4 elements per loop trip are ~3x faster there.
//@variant forward -DBACKWARD=0 -DVEC=1
//@variant backward -DBACKWARD=1 -DVEC=1
//@variant forward_vec4 -DBACKWARD=0 -DVEC=4
//@variant backward_vec4 -DBACKWARD=1 -DVEC=4
#include "vkft.glsl"

#if VEC == 4
#define VT vec4
#else
#define VT float
#endif

layout(constant_id = 1) const uint OP = 0;
layout(push_constant) uniform Push {
    uint n;
} p;
layout(binding = 0) readonly buffer X { VT x[]; };
layout(binding = 1) readonly buffer U { VT u[]; };
#if BACKWARD == 0
layout(binding = 2) writeonly buffer Y { VT y[]; };
#else
layout(binding = 2) readonly buffer DY { VT dy[]; };
layout(binding = 3) writeonly buffer DX { VT dx[]; };
layout(binding = 4) writeonly buffer DU { VT du[]; };
#endif

const float SQRT_2_OVER_PI = 0.7978845608028654;
const float GELU_C = 0.044715;
const float INV_SQRT_2 = 0.7071067811865476;
const float INV_SQRT_2PI = 0.3989422804014327;

VT sigmoid(VT v) { return 1.0 / (1.0 + exp(-v)); }

// erf with an absolute error below 2e-7 (Abramowitz and Stegun 7.1.26 is 1.5e-7 in exact arithmetic).
VT erf_approx(VT v) {
    VT a = abs(v);
    VT t = 1.0 / (1.0 + 0.3275911 * a);
    VT poly = 1.421413741 + t * (-1.453152027 + t * 1.061405429);
    poly = t * (0.254829592 + t * (-0.284496736 + t * poly));
    VT r = 1.0 - poly * exp(-a * a);
    return sign(v) * r;
}

// The GELU argument's tanh t and 1 - t^2, from e = exp(2a): t = (e - 1) / (e + 1), 1 - t^2 = 4e / (e + 1)^2
// (no cancellation where t is near +-1). a is clamped: tanh(15) is 1 in fp32 and (e + 1)^2 stays finite.
void gelu_tanh_t(VT v, out VT t, out VT sech2) {
    VT e = exp(2.0 * clamp(SQRT_2_OVER_PI * (v + GELU_C * v * v * v), -15.0, 15.0));
    t = (e - 1.0) / (e + 1.0);
    sech2 = 4.0 * e / ((e + 1.0) * (e + 1.0));
}

VT act(VT v) {
    if (OP == 0) return max(v, 0.0);
    if (OP == 1) {
        VT t, sech2;
        gelu_tanh_t(v, t, sech2);
        return 0.5 * v * (1.0 + t);
    }
    if (OP == 2) return 0.5 * v * (1.0 + erf_approx(v * INV_SQRT_2));
    return v * sigmoid(v); // silu, and the gate of swiglu
}

VT act_grad(VT v) {
    if (OP == 0) return step(0.0, v) * sign(v); // 1 where v > 0, else 0
    if (OP == 1) {
        VT t, sech2;
        gelu_tanh_t(v, t, sech2);
        return 0.5 * (1.0 + t) + 0.5 * v * sech2 * SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_C * v * v);
    }
    if (OP == 2) return 0.5 * (1.0 + erf_approx(v * INV_SQRT_2)) + v * exp(-0.5 * v * v) * INV_SQRT_2PI;
    VT s = sigmoid(v);
    return s * (1.0 + v * (1.0 - s));
}

void main() {
    uint count = p.n / VEC; // the vec4 variants are used only when n % 4 == 0
    for (uint i = gl_GlobalInvocationID.x; i < count; i += GRID_STRIDE) {
        VT v = x[i];
#if BACKWARD == 0
        y[i] = OP == 4 ? act(v) * u[i] : act(v);
#else
        VT g = dy[i];
        if (OP == 4) {
            dx[i] = g * u[i] * act_grad(v);
            du[i] = g * act(v);
        } else {
            dx[i] = g * act_grad(v);
        }
#endif
    }
}
