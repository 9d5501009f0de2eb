#version 450
// Attention backward, first pass: one invocation per query row. Computes delta_i = dO_i . O_i (saved for
// the dK/dV pass), then recomputes the row's probabilities from the saved logsumexp, key by key:
// p_ij = exp(s_ij - lse_i), dS_ij = p_ij (dO_i . v_j - delta_i), dQ_i = scale * sum_j dS_ij k_j.
// Dispatch: (ceil(T / local size), H, B).
#include "attention.glsl"

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { float k[]; };
layout(binding = 2) readonly buffer V { float v[]; };
layout(binding = 3) readonly buffer Lengths { uint lengths[]; };
layout(binding = 4) readonly buffer O { float o[]; };
layout(binding = 5) readonly buffer Lse { float lse[]; };
layout(binding = 6) readonly buffer DO { float dout[]; };
layout(binding = 7) writeonly buffer DQ { float dq[]; };
layout(binding = 8) writeonly buffer Delta { float delta[]; };

void main() {
    uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
    uint hk = h / (p.H / p.Hkv);
    uint i0 = gl_WorkGroupID.x * gl_WorkGroupSize.x;
    uint i = i0 + gl_LocalInvocationID.x;
    uint len = attn_len(b, p.has_lengths != 0 ? lengths[b] : 0);
    bool row_ok = i < len;
    uint kend = i0 >= len ? 0 : (p.causal != 0 ? min(len, i0 + gl_WorkGroupSize.x) : len);

    uint qbase = ((b * p.T + i) * p.H + h) * D;
    float qr[D], dor[D], g[D];
    float di = 0.0;
    for (uint c = 0; c < D; c++) {
        qr[c] = 0.0;
        dor[c] = 0.0;
        g[c] = 0.0;
    }
    uint lidx = (b * p.H + h) * p.T + i;
    float li = 0.0;
    if (row_ok) {
        for (uint c = 0; c < D; c++) {
            qr[c] = q[qbase + c] * p.scale;
            dor[c] = dout[qbase + c];
            di += dor[c] * o[qbase + c];
        }
        li = lse[lidx];
    }

    uint kstride = p.Hkv * D;
    uint kbase = (b * p.T * p.Hkv + hk) * D;
    uint jlast = p.causal != 0 ? i : len - 1;
    for (uint j = 0; j < kend; j++) {
        uint kj = kbase + j * kstride;
        float s = 0.0, dp = 0.0;
        for (uint c = 0; c < D; c++) {
            s += qr[c] * k[kj + c];
            dp += dor[c] * v[kj + c];
        }
        float pj = (row_ok && j <= jlast) ? exp(s - li) : 0.0;
        float ds = pj * (dp - di);
        for (uint c = 0; c < D; c++) g[c] += ds * k[kj + c];
    }
    if (i >= p.T) return;
    for (uint c = 0; c < D; c++) dq[qbase + c] = g[c] * p.scale;
    delta[lidx] = di;
}
