#version 450
// Matrix-vector products for decoding (a few rows, one token per sequence):
//   y[b, n] = sum_k x[b, k] W(n, k) + bias[n]      b < rows (workgroup y), n < N, k < K
//   FORM 0 (NT): W[N, K] with row stride ldw (nn.Linear weights [out, in]). One subgroup per output n:
//                lanes stride over k (consecutive addresses across lanes), four partial sums per lane,
//                then a subgroup sum.
//   FORM 1 (NN): W[K, N] with row stride ldw (GPT-2's Conv1D [in, out], possibly a column slice). One
//                invocation per output n, k in order.
// Summation orders are fixed by the sizes and the subgroup size: results repeat exactly on a device.
#include "vkft.glsl"
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(constant_id = 1) const uint FORM = 0;
layout(push_constant) uniform Push {
    uint rows, N, K, ldw;
    uint has_bias;
} p;
layout(binding = 0) readonly buffer X { float x[]; };     // [rows, K]
layout(binding = 1) readonly buffer W { float w[]; };
layout(binding = 2) readonly buffer Bias { float bias[]; }; // [N] (not read when has_bias == 0)
layout(binding = 3) writeonly buffer Y { float y[]; };    // [rows, N]

void main() {
    uint b = gl_WorkGroupID.y;
    uint xb = b * p.K;
    if (FORM == 0) {
        uint sg = gl_SubgroupSize, lane = gl_SubgroupInvocationID;
        uint per_wg = gl_NumSubgroups;
        for (uint n = gl_WorkGroupID.x * per_wg + gl_SubgroupID; n < p.N; n += gl_NumWorkGroups.x * per_wg) {
            uint wb = n * p.ldw;
            float a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
            uint k = lane;
            for (; k + 3 * sg < p.K; k += 4 * sg) {
                a0 += x[xb + k] * w[wb + k];
                a1 += x[xb + k + sg] * w[wb + k + sg];
                a2 += x[xb + k + 2 * sg] * w[wb + k + 2 * sg];
                a3 += x[xb + k + 3 * sg] * w[wb + k + 3 * sg];
            }
            for (; k < p.K; k += sg) a0 += x[xb + k] * w[wb + k];
            float acc = subgroupAdd((a0 + a1) + (a2 + a3));
            if (subgroupElect()) y[b * p.N + n] = acc + (p.has_bias != 0 ? bias[n] : 0.0);
        }
    } else {
        for (uint n = gl_GlobalInvocationID.x; n < p.N; n += GRID_STRIDE) {
            float acc = 0.0;
            for (uint k = 0; k < p.K; k++) acc += x[xb + k] * w[k * p.ldw + n];
            y[b * p.N + n] = acc + (p.has_bias != 0 ? bias[n] : 0.0);
        }
    }
}
