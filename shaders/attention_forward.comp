#version 450
// Fused attention forward (flash-attention style): one invocation per query row, keys visited in steps
// of BK with an online softmax; only the row's logsumexp is saved for the backward, never the T x T
// scores. Dispatch: (ceil(T / local size), H, B).
#include "attention.glsl"

layout(binding = 0) readonly buffer Q { float q[]; };
layout(binding = 1) readonly buffer K { float k[]; };
layout(binding = 2) readonly buffer V { float v[]; };
layout(binding = 3) readonly buffer Lengths { uint lengths[]; };
layout(binding = 4) writeonly buffer O { float o[]; };
layout(binding = 5) writeonly buffer Lse { float lse[]; };

void main() {
    uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
    uint hk = h / (p.H / p.Hkv);
    uint i0 = gl_WorkGroupID.x * gl_WorkGroupSize.x;
    uint i = i0 + gl_LocalInvocationID.x;
    uint len = attn_len(b, p.has_lengths != 0 ? lengths[b] : 0);
    bool row_ok = i < len;
    // keys this workgroup may see
    uint kend = i0 >= len ? 0 : (p.causal != 0 ? min(len, i0 + gl_WorkGroupSize.x) : len);

    uint qbase = ((b * p.T + i) * p.H + h) * D;
    float qr[D];
    float acc[D];
    for (uint c = 0; c < D; c++) {
        qr[c] = 0.0;
        acc[c] = 0.0;
    }
    if (row_ok)
        for (uint c = 0; c < D; c++) qr[c] = q[qbase + c] * p.scale;
    float m = ATTN_M_INIT, l = 0.0;

    uint kstride = p.Hkv * D;
    uint kbase = (b * p.T * p.Hkv + hk) * D;
    uint jlast = p.causal != 0 ? i : len - 1; // last visible key of this row (if row_ok)
    for (uint j0 = 0; j0 < kend; j0 += BK) {
        float s[BK];
        float mnew = m;
        for (uint t = 0; t < BK; t++) {
            uint j = j0 + t;
            float x = ATTN_M_INIT;
            if (j < kend) {
                uint kj = kbase + j * kstride;
                float dot = 0.0;
                for (uint c = 0; c < D; c++) dot += qr[c] * k[kj + c];
                if (row_ok && j <= jlast) x = dot;
            }
            s[t] = x;
            mnew = max(mnew, x);
        }
        float alpha = exp(m - mnew);
        l *= alpha;
        for (uint c = 0; c < D; c++) acc[c] *= alpha;
        for (uint t = 0; t < BK; t++) {
            uint j = j0 + t;
            if (j < kend) {
                float pj = (row_ok && j <= jlast) ? exp(s[t] - mnew) : 0.0;
                l += pj;
                uint vj = kbase + j * kstride;
                for (uint c = 0; c < D; c++) acc[c] += pj * v[vj + c];
            }
        }
        m = mnew;
    }
    if (i >= p.T) return;
    float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (uint c = 0; c < D; c++) o[qbase + c] = acc[c] * inv;
    lse[(b * p.H + h) * p.T + i] = l > 0.0 ? m + log(l) : ATTN_NEG_INF;
}
