#version 450
// y[i] = value for i < n.
#include "vkft.glsl"

layout(push_constant) uniform Push {
    uint n;
    float value;
} p;
layout(binding = 0) writeonly buffer Y { float y[]; };

void main() {
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE) y[i] = p.value;
}
