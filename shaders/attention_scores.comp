#version 450
// The row pass of attention's scores path (model/ops_attention_scores.c). The matmul kernels wrote one
// chunk of score blocks S = q k^T: block (query head hh0 + u, kv head hk0 + w) of batch item b is block
// u * nk + w, T rows of ld floats (ld = T rounded up to 4). One workgroup per row; the mask: key j is
// visible to query i when i, j < len(b) and, if causal, j <= i.
//   forward:  S := P = softmax(scale S) over the visible keys (0 elsewhere, so P.v reads whole rows);
//             lse[b, h, i] = the row's logsumexp (-inf for a padding row).
//   backward: S := P = exp(scale S - lse) (0 where masked), dP := dS = P (dP - delta) with
//             delta = dO_i . O_i (D values of the row, also stored in delta[b, h, i]).
// With a causal mask the matmul leaves the blocks of S and dP above the diagonal unset (FLAG_CAUSAL):
// masked entries are selected away, never multiplied. Rows are read and written as vec4 (ld % 4 == 0, 16-byte aligned views: the launcher checks).
//@variant forward -DPASS=0
//@variant backward -DPASS=1
#include "vkft.glsl"
#include "rows.glsl"

layout(push_constant) uniform Push {
    uint T, ld, H, Hkv, D;
    uint b, hk0, nk, hh0, rows; // the chunk: batch item, first kv head, kv heads, first query head, T*blocks
    uint causal, has_lengths;
    float scale;
} p;

layout(binding = 0) buffer S4 { vec4 s4[]; };
layout(binding = 1) readonly buffer Lengths { uint lengths[]; };
#if PASS == 0
layout(binding = 2) writeonly buffer Lse { float lse[]; };
#else
layout(binding = 2) readonly buffer Lse { float lse[]; };
layout(binding = 3) buffer DP4 { vec4 dp4[]; };
layout(binding = 4) readonly buffer O4 { vec4 o4[]; };
layout(binding = 5) readonly buffer DO4 { vec4 do4[]; };
layout(binding = 6) writeonly buffer Delta { float delta[]; };
#endif

#define NEG_INF uintBitsToFloat(0xff800000u)

float hsum(vec4 v) { return dot(v, vec4(1.0)); }
float hmax(vec4 v) { return max(max(v.x, v.y), max(v.z, v.w)); }
// lanes of element group j whose key is below limit (masked lanes are selected away, never multiplied)
bvec4 visible(uint j, uint limit) { return lessThan(uvec4(4 * j) + uvec4(0, 1, 2, 3), uvec4(limit)); }

void main() {
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x, n = p.ld / 4u;
    uint rep = p.H / p.Hkv;
    uint len = p.has_lengths != 0 ? min(lengths[p.b], p.T) : p.T;
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += ROW_STRIDE) {
        uint blk = r / p.T, i = r % p.T;
        uint h = (p.hk0 + blk % p.nk) * rep + p.hh0 + blk / p.nk;
        uint base = r * n; // block blk, row i: (blk * T + i) * ld floats
        uint limit = i < len ? (p.causal != 0 ? i + 1u : len) : 0u;
        uint n_vis = (limit + 3u) / 4u;
        uint at = (p.b * p.H + h) * p.T + i;
#if PASS == 0
        float m = -3.402823e38;
        for (uint j = tid; j < n_vis; j += wg)
            m = max(m, hmax(mix(vec4(-3.402823e38), p.scale * s4[base + j], visible(j, limit))));
        m = wg_max(m);
        float s = 0.0;
        for (uint j = tid; j < n_vis; j += wg)
            s += hsum(mix(vec4(0.0), exp(p.scale * s4[base + j] - m), visible(j, limit)));
        float l = wg_sum(s);
        float inv = limit > 0u ? 1.0 / l : 0.0;
        for (uint j = tid; j < n; j += wg)
            s4[base + j] = mix(vec4(0.0), exp(p.scale * s4[base + j] - m) * inv, visible(j, limit));
        if (tid == 0u) lse[at] = limit > 0u ? m + log(l) : NEG_INF;
#else
        uint ob = ((p.b * p.T + i) * p.H + h) * (p.D / 4u);
        float d = 0.0;
        for (uint c = tid; c < p.D / 4u; c += wg) d += dot(do4[ob + c], o4[ob + c]);
        d = limit > 0u ? wg_sum(d) : 0.0;
        float li = limit > 0u ? lse[at] : 0.0;
        for (uint j = tid; j < n; j += wg) {
            vec4 pr = mix(vec4(0.0), exp(p.scale * s4[base + j] - li), visible(j, limit));
            s4[base + j] = pr;
            dp4[base + j] = mix(vec4(0.0), pr * (dp4[base + j] - d), visible(j, limit));
        }
        if (tid == 0u) delta[at] = d;
#endif
    }
}
