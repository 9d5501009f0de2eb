#version 450
// Fused attention forward, subgroup-shaped (see common/attention_sg.glsl): a workgroup owns TM query
// rows of one head; keys stream through SG*TN at a time, TN per lane: scores S = q.k (q uniform, k vec4
// per lane), online softmax per row (subgroupMax), then O += P.V with P broadcast from the lane that
// holds each key and V read as the lane's column groups. Saves the row logsumexp only.
// Dispatch: (ceil(T / TM), H, B).
#include "attention_sg.glsl"

layout(binding = 0) readonly buffer Q4 { vec4 q4[]; };
layout(binding = 1) readonly buffer K4 { vec4 k4[]; };
layout(binding = 2) readonly buffer V4 { vec4 v4[]; };
layout(binding = 3) readonly buffer Lengths { uint lengths[]; };
layout(binding = 4) writeonly buffer O4 { vec4 o4[]; };
layout(binding = 5) writeonly buffer Lse { float lse[]; };

void main() {
    uint lane = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
    uint hk = h / (p.H / p.Hkv);
    uint i0 = gl_WorkGroupID.x * TM;
    uint len = attn_len(b, p.has_lengths != 0 ? lengths[b] : 0);
    uint kend = i0 >= len ? 0 : (p.causal != 0 ? min(len, i0 + TM) : len);
    uint qrow0 = ((b * p.T) * p.H + h) * D; // q row i starts at qrow0 + i * H * D
    uint qstride = p.H * D;
    uint krow0 = ((b * p.T) * p.Hkv + hk) * D4;
    uint kstride4 = p.Hkv * D4;

    uint qb[TM]; // q rows (vec4 index), clamped in bounds
    [[unroll]] for (uint r = 0; r < TM; r++) qb[r] = (qrow0 + min(i0 + r, p.T - 1) * qstride) / 4u;
    vec4 acc[TM][NG];
    float m[TM], lsum[TM];
    [[unroll]] for (uint r = 0; r < TM; r++) {
        m[r] = ATTN_M_INIT;
        lsum[r] = 0.0;
        [[unroll]] for (uint g = 0; g < NG; g++) acc[r][g] = vec4(0.0);
    }

    for (uint j0 = 0; j0 < kend; j0 += SG * TN) {
        uint kb[TN];
        [[unroll]] for (uint tn = 0; tn < TN; tn++)
            kb[tn] = krow0 + min(j0 + tn * SG + lane, p.T - 1) * kstride4;
        float s[TM][TN];
        [[unroll]] for (uint r = 0; r < TM; r++)
            [[unroll]] for (uint tn = 0; tn < TN; tn++) s[r][tn] = 0.0;
        for (uint c4 = 0; c4 < D4; c4++) {
            vec4 kv[TN];
            [[unroll]] for (uint tn = 0; tn < TN; tn++) kv[tn] = k4[kb[tn] + c4];
            [[unroll]] for (uint r = 0; r < TM; r++) {
                vec4 qv = q4[qb[r] + c4]; // subgroup-uniform
                [[unroll]] for (uint tn = 0; tn < TN; tn++) s[r][tn] += dot(qv, kv[tn]);
            }
        }
        // online softmax, per row; masked scores become ATTN_M_INIT, then probability 0
        [[unroll]] for (uint r = 0; r < TM; r++) {
            uint i = i0 + r;
            float mx = ATTN_M_INIT;
            [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                uint j = j0 + tn * SG + lane;
                bool vis = j < kend && i < len && (p.causal == 0 || j <= i);
                s[r][tn] = vis ? s[r][tn] * p.scale : ATTN_M_INIT;
                mx = max(mx, s[r][tn]);
            }
            float mnew = max(m[r], subgroupMax(mx));
            float alpha = exp(m[r] - mnew), psum = 0.0;
            [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                float pr = s[r][tn] > ATTN_MASKED ? exp(s[r][tn] - mnew) : 0.0;
                s[r][tn] = pr;
                psum += pr;
            }
            lsum[r] = lsum[r] * alpha + psum;
            m[r] = mnew;
            [[unroll]] for (uint g = 0; g < NG; g++) acc[r][g] *= alpha;
        }
        // O += P V: key j0 + tn*SG + t's probabilities are in lane t
        [[unroll]] for (uint tn = 0; tn < TN; tn++)
            for (uint t = 0; t < SG; t++) {
                uint j = j0 + tn * SG + t;
                if (j < kend) {
                    uint vb = krow0 + j * kstride4 + lane;
                    vec4 vv[NG];
                    [[unroll]] for (uint g = 0; g < NG; g++) vv[g] = v4[vb + g * SG];
                    [[unroll]] for (uint r = 0; r < TM; r++) {
                        float pt = subgroupBroadcast(s[r][tn], t);
                        [[unroll]] for (uint g = 0; g < NG; g++) acc[r][g] += pt * vv[g];
                    }
                }
            }
    }

    [[unroll]] for (uint r = 0; r < TM; r++) {
        uint i = i0 + r;
        float l = subgroupAdd(lsum[r]);
        if (i < p.T) {
            float inv = l > 0.0 ? 1.0 / l : 0.0;
            uint ob = (qrow0 + i * qstride) / 4u + lane;
            [[unroll]] for (uint g = 0; g < NG; g++) o4[ob + g * SG] = acc[r][g] * inv;
            if (lane == 0) lse[(b * p.H + h) * p.T + i] = l > 0.0 ? m[r] + log(l) : ATTN_NEG_INF;
        }
    }
}
