#version 450
// Dropout with a counter-based mask: element i is kept when u_i >= p, where u_i is word (i % 4) of
// Philox4x32-10 with key (seed_lo, seed_hi) and counter (i / 4, site, step, micro). The mask is a pure
// function of (seed, step, micro, site, i): the backward regenerates it instead of storing it.
//   out = keep ? in * scale : 0,  scale = 1 / (1 - p)   (forward: in = x; backward: in = dy)
// Each invocation handles 4 consecutive elements (one Philox call).
// Variant vec4: one vec4 load and store per quad (n % 4 == 0, 16-byte aligned buffers; faster on lavapipe).
// Variants ctr*: step and micro are read from a buffer (binding 2: step, micro) when the work runs, so one
// recorded command buffer serves every training step; flags bit 0 accumulates (out += ...), for a
// gradient that other work also adds to. The other variants take step from the push constants, micro 0.
//@variant scalar
//@variant vec4 -DVEC4=1
//@variant ctr -DCTR=1
//@variant ctr_vec4 -DCTR=1 -DVEC4=1
#include "vkft.glsl"
#include "philox.glsl"

layout(push_constant) uniform Push {
    uint n;
    float p, scale;
    uint seed_lo, seed_hi, step, site, flags;
} p;
#ifdef CTR
#define OUT_ACCESS
layout(binding = 2) readonly buffer Ctr { uint ctr[]; };
#else
#define OUT_ACCESS writeonly
#endif
layout(binding = 0) readonly buffer In { float x[]; };
layout(binding = 1) OUT_ACCESS buffer Out { float y[]; };
#ifdef VEC4
layout(binding = 0) readonly buffer In4 { vec4 x4[]; };
layout(binding = 1) OUT_ACCESS buffer Out4 { vec4 y4[]; };
#endif

void main() {
#ifdef CTR
    uint step = ctr[0], micro = ctr[1];
    bool acc = (p.flags & 1u) != 0u;
#else
    uint step = p.step, micro = 0u;
#endif
    uint quads = (p.n + 3) / 4;
    for (uint q = gl_GlobalInvocationID.x; q < quads; q += GRID_STRIDE) {
        uvec4 r = philox4x32_10(uvec4(q, p.site, step, micro), uvec2(p.seed_lo, p.seed_hi));
#ifdef VEC4
        bvec4 keep = greaterThanEqual(vec4(r >> 8) * (1.0 / 16777216.0), vec4(p.p));
        vec4 v = mix(vec4(0.0), x4[q] * p.scale, keep);
#ifdef CTR
        if (acc) v += y4[q];
#endif
        y4[q] = v;
        continue;
#endif
        for (uint j = 0; j < 4; j++) {
            uint i = 4 * q + j;
            if (i >= p.n) break;
            float v = philox_uniform(r[j]) >= p.p ? x[i] * p.scale : 0.0;
#ifdef CTR
            if (acc) v += y[i];
#endif
            y[i] = v;
        }
    }
}
