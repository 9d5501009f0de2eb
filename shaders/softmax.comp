#version 450
// Softmax over the rows of a [rows, cols] fp32 matrix, one workgroup per row.
//   PASS 0 forward:  y = softmax(scale * x), entries above the causal diagonal set to 0
//   PASS 1 backward: dx = scale * y * (dy - sum_j dy_j y_j)   (masked entries have y = 0, so dx = 0)
// Causal mask: the rows are q_len-row matrices (attention scores [B, H, q_len, cols]); row r is query
// i = r % q_len and sees keys j <= i + cols - q_len (the keys of a KV cache precede the queries).
#include "vkft.glsl"
#include "rows.glsl"

layout(constant_id = 1) const uint PASS = 0;
layout(push_constant) uniform Push {
    uint rows, cols;
    float scale;
    uint causal, q_len;
} p;
layout(binding = 0) readonly buffer In0 { float a[]; };  // forward: x;  backward: y
layout(binding = 1) readonly buffer In1 { float b[]; };  // forward: unused (x again);  backward: dy
layout(binding = 2) writeonly buffer Out { float o[]; }; // forward: y;  backward: dx

void main() {
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += ROW_STRIDE) {
        uint base = row * p.cols;
        uint limit = p.cols;
        if (p.causal != 0) {
            uint i = row % p.q_len;
            limit = min(p.cols, i + p.cols - p.q_len + 1); // q_len <= cols (checked by the launcher)
        }
        if (PASS == 0) {
            float m = -3.402823e38;
            for (uint j = tid; j < limit; j += wg) m = max(m, p.scale * a[base + j]);
            m = wg_max(m);
            float s = 0.0;
            for (uint j = tid; j < limit; j += wg) s += exp(p.scale * a[base + j] - m);
            float inv = 1.0 / wg_sum(s);
            for (uint j = tid; j < p.cols; j += wg)
                o[base + j] = j < limit ? exp(p.scale * a[base + j] - m) * inv : 0.0;
        } else {
            float d = 0.0;
            for (uint j = tid; j < limit; j += wg) d += a[base + j] * b[base + j];
            d = wg_sum(d);
            for (uint j = tid; j < p.cols; j += wg)
                o[base + j] = j < limit ? p.scale * a[base + j] * (b[base + j] - d) : 0.0;
        }
    }
}
