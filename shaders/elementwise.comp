#version 450
// Elementwise ops on fp32 vectors; OP (specialization constant 1) picks one:
//   0 add:   c = a + b
//   1 scale: c = alpha * a        (b is not read)
#include "vkft.glsl"

layout(constant_id = 1) const uint OP = 0;
layout(push_constant) uniform Push {
    uint n;
    float alpha;
} p;
layout(binding = 0) readonly buffer A { float a[]; };
layout(binding = 1) readonly buffer B { float b[]; };
layout(binding = 2) writeonly buffer C { float c[]; };

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE) {
        if (OP == 0) c[i] = a[i] + b[i];
        else c[i] = p.alpha * a[i];
    }
}
