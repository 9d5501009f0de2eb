#version 450
// Softmax over the rows of a [rows, cols] fp32 matrix, one workgroup per row.
//   PASS 0 forward:  y = softmax(scale * x), entries above the causal diagonal set to 0
//   PASS 1 backward: dx = scale * y * (dy - sum_j dy_j y_j)   (masked entries have y = 0, so dx = 0)
// Causal mask: the rows are q_len-row matrices (attention scores [B, H, q_len, cols]); row r is query
// i = r % q_len and sees keys j <= i + cols - q_len (the keys of a KV cache precede the queries).
// Variant vec4: 4 elements per load (cols % 4 == 0, 16-byte aligned buffers; ~2x on lavapipe, where every
// per-invocation load is a loop over the lanes). The causal mask is then applied per lane.
//@variant scalar -DVEC=1
//@variant vec4 -DVEC=4
#include "vkft.glsl"
#include "rows.glsl"

#if VEC == 4
#define VT vec4
float hsum(vec4 v) { return dot(v, vec4(1.0)); }
float hmax(vec4 v) { return max(max(v.x, v.y), max(v.z, v.w)); }
// true for the lanes of element group j whose column is below limit (masked lanes are selected away, never
// multiplied by 0: their values may be anything, exp() of them inf)
bvec4 lanes_below(uint j, uint limit) { return lessThan(uvec4(4 * j) + uvec4(0, 1, 2, 3), uvec4(limit)); }
#else
#define VT float
float hsum(float v) { return v; }
float hmax(float v) { return v; }
bool lanes_below(uint j, uint limit) { return j < limit; }
#endif

layout(constant_id = 1) const uint PASS = 0;
layout(push_constant) uniform Push {
    uint rows, cols;
    float scale;
    uint causal, q_len;
} p;
layout(binding = 0) readonly buffer In0 { VT a[]; };  // forward: x;  backward: y
layout(binding = 1) readonly buffer In1 { VT b[]; };  // forward: unused (x again);  backward: dy
layout(binding = 2) writeonly buffer Out { VT o[]; }; // forward: y;  backward: dx

void main() {
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x, n = p.cols / VEC;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += ROW_STRIDE) {
        uint base = row * n;
        uint limit = p.cols;
        if (p.causal != 0) {
            uint i = row % p.q_len;
            limit = min(p.cols, i + p.cols - p.q_len + 1); // q_len <= cols (checked by the launcher)
        }
        uint n_vis = (limit + VEC - 1) / VEC; // element groups holding a visible column
        if (PASS == 0) {
            float m = -3.402823e38;
            for (uint j = tid; j < n_vis; j += wg)
                m = max(m, hmax(mix(VT(-3.402823e38), p.scale * a[base + j], lanes_below(j, limit))));
            m = wg_max(m);
            float s = 0.0;
            for (uint j = tid; j < n_vis; j += wg)
                s += hsum(mix(VT(0.0), exp(p.scale * a[base + j] - m), lanes_below(j, limit)));
            float inv = 1.0 / wg_sum(s);
            for (uint j = tid; j < n; j += wg)
                o[base + j] = mix(VT(0.0), exp(p.scale * a[base + j] - m) * inv, lanes_below(j, limit));
        } else {
            float d = 0.0;
            for (uint j = tid; j < n_vis; j += wg)
                d += hsum(mix(VT(0.0), a[base + j] * b[base + j], lanes_below(j, limit)));
            d = wg_sum(d);
            for (uint j = tid; j < n; j += wg)
                o[base + j] = mix(VT(0.0), p.scale * a[base + j] * (b[base + j] - d), lanes_below(j, limit));
        }
    }
}
