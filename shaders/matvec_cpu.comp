#version 450
// Matrix-vector products for decoding, shaped for CPU Vulkan drivers (lavapipe), where every per-lane
// storage-buffer load is a bounds-checked scalar load and subgroup-uniform addresses are single loads
// (see matvec.comp for the products and the GPU kernel):
//   FORM 0 (NT, W[N, K]): a workgroup of one subgroup per RB outputs; lanes stride over k, reading W and x
//                         64 bits per lane per load (one cache line per load across 8 lanes), x once for
//                         the RB rows; then one subgroup sum per output (fixed order).
//   FORM 1 (NN, W[K, N]): one invocation per two adjacent outputs, k in order; one 64-bit load of W per
//                         lane and k.
// Unaligned shapes (odd K, N or row strides) take a 32-bit path. Sums run in a fixed order: deterministic.
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "vkft.glsl"

layout(constant_id = 1) const uint FORM = 0;
layout(constant_id = 2) const uint RB = 4; // FORM 0: output rows per workgroup
layout(push_constant) uniform Push {
    uint rows, N, K, ldw;
    uint has_bias;
} p;
layout(binding = 0) readonly buffer X { float x[]; };       // [rows, K]
layout(binding = 0) readonly buffer X64 { uint64_t x64[]; };
layout(binding = 1) readonly buffer W { float w[]; };
layout(binding = 1) readonly buffer W64 { uint64_t w64[]; };
layout(binding = 2) readonly buffer Bias { float bias[]; }; // [N] (not read when has_bias == 0)
layout(binding = 3) writeonly buffer Y { float y[]; };      // [rows, N]

vec2 load_x2(uint i) { return uintBitsToFloat(unpackUint2x32(x64[i >> 1])); }
vec2 load_w2(uint i) { return uintBitsToFloat(unpackUint2x32(w64[i >> 1])); }

void main() {
    uint b = gl_WorkGroupID.y;
    uint xb = b * p.K;
    if (FORM == 0) {
        // RB rows per workgroup (one subgroup): lanes stride over k two floats at a time (consecutive
        // 64-bit words across lanes), x's words are loaded once for the RB rows; a subgroup sum per row.
        uint sg = gl_WorkGroupSize.x, lane = gl_LocalInvocationID.x;
        bool wide = ((p.K | p.ldw) & 1u) == 0u;
        for (uint n0 = gl_WorkGroupID.x * RB; n0 < p.N; n0 += gl_NumWorkGroups.x * RB) {
            vec2 acc[RB];
            [[unroll]] for (uint r = 0; r < RB; r++) acc[r] = vec2(0.0);
            if (wide && n0 + RB <= p.N) {
                for (uint k = 2u * lane; k < p.K; k += 2u * sg) {
                    vec2 xv = load_x2(xb + k);
                    [[unroll]] for (uint r = 0; r < RB; r++) acc[r] += xv * load_w2((n0 + r) * p.ldw + k);
                }
            } else {
                for (uint k = lane; k < p.K; k += sg) {
                    float xv = x[xb + k];
                    [[unroll]] for (uint r = 0; r < RB; r++)
                        if (n0 + r < p.N) acc[r].x += xv * w[(n0 + r) * p.ldw + k];
                }
            }
            [[unroll]] for (uint r = 0; r < RB; r++) {
                float s = subgroupAdd(acc[r].x + acc[r].y);
                if (lane == 0u && n0 + r < p.N) y[b * p.N + n0 + r] = s + (p.has_bias != 0 ? bias[n0 + r] : 0.0);
            }
        }
    } else {
        bool wide = ((p.N | p.ldw) & 1u) == 0u;
        for (uint n = 2u * gl_GlobalInvocationID.x; n < p.N; n += 2u * GRID_STRIDE) {
            vec2 acc = vec2(0.0);
            if (wide) {
                for (uint k = 0; k < p.K; k++) acc += x[xb + k] * load_w2(k * p.ldw + n);
            } else {
                bool two = n + 1u < p.N;
                for (uint k = 0; k < p.K; k++) {
                    acc.x += x[xb + k] * w[k * p.ldw + n];
                    if (two) acc.y += x[xb + k] * w[k * p.ldw + n + 1u];
                }
            }
            if (p.has_bias != 0) acc += vec2(bias[n], n + 1u < p.N ? bias[n + 1u] : 0.0);
            y[b * p.N + n] = acc.x;
            if (n + 1u < p.N) y[b * p.N + n + 1u] = acc.y;
        }
    }
}
