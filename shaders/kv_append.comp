#version 450
// Appends one token per sequence to a KV cache: k_cache[b, positions[b]] = k[b] and the same for v, with
// k, v [B, KD] and the caches [B, max_len, KD] (KD = kv heads x head dim). Positions outside the cache are
// skipped (the launcher's caller checks them on the host).
#include "vkft.glsl"

layout(push_constant) uniform Push {
    uint B, KD, max_len;
} p;
layout(binding = 0) readonly buffer K { float k[]; };
layout(binding = 1) readonly buffer V { float v[]; };
layout(binding = 2) readonly buffer Pos { int positions[]; }; // [B]
layout(binding = 3) buffer KC { float kc[]; };
layout(binding = 4) buffer VC { float vc[]; };

void main() {
    uint b = gl_WorkGroupID.y;
    int pos = positions[b];
    if (pos < 0 || uint(pos) >= p.max_len) return;
    uint dst = (b * p.max_len + uint(pos)) * p.KD, src = b * p.KD;
    for (uint e = gl_GlobalInvocationID.x; e < p.KD; e += GRID_STRIDE) {
        kc[dst + e] = k[src + e];
        vc[dst + e] = v[src + e];
    }
}
