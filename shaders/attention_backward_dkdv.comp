#version 450
// Attention backward, second pass: one invocation per key row j of kv head hk. Loops over the query
// heads sharing hk and over the query rows that see j, recomputing p_ij = exp(s_ij - lse_i):
// dV_j = sum p_ij dO_i, dK_j = scale * sum p_ij (dO_i . v_j - delta_i) q_i. Each sum runs in a fixed
// order in one invocation: deterministic, no atomics. Dispatch: (ceil(T / local size), Hkv, B).
#include "attention.glsl"

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { float k[]; };
layout(binding = 2) readonly buffer V { float v[]; };
layout(binding = 3) readonly buffer Lengths { uint lengths[]; };
layout(binding = 4) readonly buffer Lse { float lse[]; };
layout(binding = 5) readonly buffer Delta { float delta[]; };
layout(binding = 6) readonly buffer DO { float dout[]; };
layout(binding = 7) writeonly buffer DK { float dk[]; };
layout(binding = 8) writeonly buffer DV { float dv[]; };

void main() {
    uint b = gl_WorkGroupID.z, hk = gl_WorkGroupID.y;
    uint rep = p.H / p.Hkv;
    uint j0 = gl_WorkGroupID.x * gl_WorkGroupSize.x;
    uint j = j0 + gl_LocalInvocationID.x;
    uint len = attn_len(b, p.has_lengths != 0 ? lengths[b] : 0);
    bool key_ok = j < len;

    uint kbase = ((b * p.T + j) * p.Hkv + hk) * D;
    float kr[D], vr[D], gk[D], gv[D];
    for (uint c = 0; c < D; c++) {
        kr[c] = 0.0;
        vr[c] = 0.0;
        gk[c] = 0.0;
        gv[c] = 0.0;
    }
    if (key_ok)
        for (uint c = 0; c < D; c++) {
            kr[c] = k[kbase + c] * p.scale;
            vr[c] = v[kbase + c];
        }
    // query rows that may see a key of this workgroup
    uint istart = p.causal != 0 ? j0 : 0;
    uint iend = j0 >= len ? 0 : len;
    uint qstride = p.H * D;
    for (uint hh = 0; hh < rep; hh++) {
        uint h = hk * rep + hh;
        uint qb = (b * p.T * p.H + h) * D;
        uint lb = (b * p.H + h) * p.T;
        for (uint i = istart; i < iend; i++) {
            uint qi = qb + i * qstride;
            float s = 0.0, dp = 0.0;
            for (uint c = 0; c < D; c++) {
                s += kr[c] * q[qi + c];
                dp += vr[c] * dout[qi + c];
            }
            bool vis = key_ok && (p.causal == 0 || j <= i);
            float pij = vis ? exp(s - lse[lb + i]) : 0.0;
            float ds = pij * (dp - delta[lb + i]);
            for (uint c = 0; c < D; c++) {
                gv[c] += pij * dout[qi + c];
                gk[c] += ds * q[qi + c];
            }
        }
    }
    if (j >= p.T) return;
    for (uint c = 0; c < D; c++) {
        dk[kbase + c] = gk[c] * p.scale;
        dv[kbase + c] = gv[c];
    }
}
