#version 450
// The bottleneck adapter's activation (model/ops_lora.c), on [rows, cols] fp32:
//   OP 0 forward:  a[e] = act(z[e])
//   OP 1 backward: dz[e] = da[e] * act'(z[e])
// act (push constant): 0 relu, 1 gelu (tanh approximation).
// bindings: 0 z, 1 da (backward; bound to z in forward), 2 a or dz (out)
#include "vkft.glsl"

layout(constant_id = 1) const uint OP = 0;
layout(push_constant) uniform Push {
    uint rows, cols, act;
} p;
layout(binding = 0) readonly buffer Z { float z[]; };
layout(binding = 1) readonly buffer In { float in1[]; };
layout(binding = 2) writeonly buffer Out { float outv[]; };

const float SQRT_2_OVER_PI = 0.7978845608028654;

// tanh of a clamped argument (|u| > 15 is +-1 in fp32; some drivers' tanh overflows far out)
float tanh_safe(float u) { return tanh(clamp(u, -15.0, 15.0)); }

float act_forward(float v) {
    if (p.act == 0u) return max(v, 0.0);
    return 0.5 * v * (1.0 + tanh_safe(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
}

float act_grad(float v) {
    if (p.act == 0u) return v > 0.0 ? 1.0 : 0.0;
    float th = tanh_safe(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
    return 0.5 * (1.0 + th) + 0.5 * v * (1.0 - th * th) * SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * v * v);
}

void main() {
    uint total = p.rows * p.cols;
    for (uint e = gl_GlobalInvocationID.x; e < total; e += GRID_STRIDE) {
        if (OP == 0) {
            outv[e] = act_forward(z[e]);
        } else {
            outv[e] = in1[e] * act_grad(z[e]);
        }
    }
}
