#version 450
// Dropout with a counter-based mask: element i is kept when u_i >= p, where u_i is word (i % 4) of
// Philox4x32-10 with key (seed_lo, seed_hi) and counter (i / 4, site, step, 0). The mask is a pure
// function of (seed, step, site, i): the backward regenerates it instead of storing it.
//   out = keep ? in * scale : 0,  scale = 1 / (1 - p)   (forward: in = x; backward: in = dy)
// Each invocation handles 4 consecutive elements (one Philox call).
// Variant vec4: one vec4 load and store per quad (n % 4 == 0, 16-byte aligned buffers; faster on lavapipe).
//@variant scalar
//@variant vec4 -DVEC4=1
#include "vkft.glsl"
#include "philox.glsl"

layout(push_constant) uniform Push {
    uint n;
    float p, scale;
    uint seed_lo, seed_hi, step, site;
} p;
layout(binding = 0) readonly buffer In { float x[]; };
layout(binding = 1) writeonly buffer Out { float y[]; };
#ifdef VEC4
layout(binding = 0) readonly buffer In4 { vec4 x4[]; };
layout(binding = 1) writeonly buffer Out4 { vec4 y4[]; };
#endif

void main() {
    uint quads = (p.n + 3) / 4;
    for (uint q = gl_GlobalInvocationID.x; q < quads; q += GRID_STRIDE) {
        uvec4 r = philox4x32_10(uvec4(q, p.site, p.step, 0u), uvec2(p.seed_lo, p.seed_hi));
#ifdef VEC4
        bvec4 keep = greaterThanEqual(vec4(r >> 8) * (1.0 / 16777216.0), vec4(p.p));
        y4[q] = mix(vec4(0.0), x4[q] * p.scale, keep);
        continue;
#endif
        for (uint j = 0; j < 4; j++) {
            uint i = 4 * q + j;
            if (i >= p.n) break;
            y[i] = philox_uniform(r[j]) >= p.p ? x[i] * p.scale : 0.0;
        }
    }
}
