#version 450
// Dropout with a counter-based mask: element i is kept when u_i >= p, where u_i is word (i % 4) of
// Philox4x32-10 with key (seed_lo, seed_hi) and counter (i / 4, site, step, 0). The mask is a pure
// function of (seed, step, site, i): the backward regenerates it instead of storing it.
//   out = keep ? in * scale : 0,  scale = 1 / (1 - p)   (forward: in = x; backward: in = dy)
// Each invocation handles 4 consecutive elements (one Philox call).
#include "vkft.glsl"
#include "philox.glsl"

layout(push_constant) uniform Push {
    uint n;
    float p, scale;
    uint seed_lo, seed_hi, step, site;
} p;
layout(binding = 0) readonly buffer In { float x[]; };
layout(binding = 1) writeonly buffer Out { float y[]; };

void main() {
    uint quads = (p.n + 3) / 4;
    for (uint q = gl_GlobalInvocationID.x; q < quads; q += GRID_STRIDE) {
        uvec4 r = philox4x32_10(uvec4(q, p.site, p.step, 0u), uvec2(p.seed_lo, p.seed_hi));
        for (uint j = 0; j < 4; j++) {
            uint i = 4 * q + j;
            if (i >= p.n) break;
            y[i] = philox_uniform(r[j]) >= p.p ? x[i] * p.scale : 0.0;
        }
    }
}
