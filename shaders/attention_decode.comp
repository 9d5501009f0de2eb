#version 450
// Attention of one new query row per (sequence b, head h) against a KV cache (incremental decoding).
// q, out [B, H, D]; k, v caches [B, max_len, Hkv, D] of which the first n rows are valid: n from the push
// constants, or (n == 0) per sequence from the positions buffer, n = positions[b] + 1 (the new token's
// position; then one recording serves every step). Query head h reads kv head h / (H / Hkv).
// out = softmax(scale q k^T) v over the n cached keys.
// One workgroup per (h, b): keys are taken in chunks of one per invocation; an online softmax (running
// max and sum) rescales the accumulated output between chunks. Invocation t owns output dims
// t, t + WG, t + 2 WG, t + 3 WG (D <= 4 WG, checked by the launcher). Every sum runs in a fixed order,
// so results repeat exactly on a given device.
#include "vkft.glsl"
#include "rows.glsl"

layout(push_constant) uniform Push {
    uint B, H, Hkv, D;
    uint n, max_len;
    float scale;
} p;
layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { float kc[]; };
layout(binding = 2) readonly buffer V { float vc[]; };
layout(binding = 3) writeonly buffer O { float o[]; };
layout(binding = 4) readonly buffer Pos { int positions[]; }; // [B] (read only when p.n == 0)

const uint MAX_D = 1024;
const uint MAX_WG = 1024;
shared float sq[MAX_D];  // the query row
shared float sp[MAX_WG]; // the chunk's probabilities (relative to the running max)

void main() {
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
    uint h = gl_WorkGroupID.x, b = gl_WorkGroupID.y;
    uint kvh = h / (p.H / p.Hkv);
    uint qbase = (b * p.H + h) * p.D;
    uint stride = p.Hkv * p.D; // between consecutive cached positions
    uint cbase = b * p.max_len * stride + kvh * p.D;
    uint n = p.n != 0u ? p.n : uint(max(positions[b], 0)) + 1u;
    n = min(n, p.max_len); // never read past the cache (the launcher checks the push-constant n)
    for (uint d = tid; d < p.D; d += wg) sq[d] = q[qbase + d];
    barrier();
    float m = -3.402823e38, l = 0.0;
    float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
    for (uint j0 = 0; j0 < n; j0 += wg) {
        uint j = j0 + tid;
        float s = -3.402823e38;
        if (j < n) {
            uint kb = cbase + j * stride;
            float dot = 0.0;
            for (uint d = 0; d < p.D; d++) dot += sq[d] * kc[kb + d];
            s = p.scale * dot;
        }
        float mn = max(m, wg_max(s));
        float corr = exp(m - mn);
        float pj = j < n ? exp(s - mn) : 0.0;
        l = l * corr + wg_sum(pj);
        sp[tid] = pj;
        barrier();
        uint cnt = min(wg, n - j0);
        for (uint a = 0; a < 4; a++) {
            uint d = tid + a * wg;
            if (d < p.D) {
                float x = acc[a] * corr;
                uint vb = cbase + j0 * stride + d;
                for (uint jj = 0; jj < cnt; jj++) x += sp[jj] * vc[vb + jj * stride];
                acc[a] = x;
            }
        }
        barrier();
        m = mn;
    }
    float inv = 1.0 / l;
    for (uint a = 0; a < 4; a++) {
        uint d = tid + a * wg;
        if (d < p.D) o[qbase + d] = acc[a] * inv;
    }
}
