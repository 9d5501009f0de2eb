#version 450
// Attention backward, first pass, subgroup-shaped (see common/attention_sg.glsl): a workgroup owns TM
// query rows of one head. delta_i = dO_i . O_i (saved for the dK/dV pass); then keys stream through
// SG*TN at a time, TN per lane: s = q.k and dp = dO.v (q, dO uniform; k, v as vec4 per lane),
// p = exp(scale s - lse_i), dS = p (dp - delta_i), and dQ += dS.K with dS broadcast from the lane that
// holds each key and K read as the lane's column groups. Dispatch: (ceil(T / TM), H, B).
#include "attention_sg.glsl"

layout(binding = 0) readonly buffer Q4 { vec4 q4[]; };
layout(binding = 1) readonly buffer K4 { vec4 k4[]; };
layout(binding = 2) readonly buffer V4 { vec4 v4[]; };
layout(binding = 3) readonly buffer Lengths { uint lengths[]; };
layout(binding = 4) readonly buffer O4 { vec4 o4[]; };
layout(binding = 5) readonly buffer Lse { float lse[]; };
layout(binding = 7) writeonly buffer DQ4 { vec4 dq4[]; };
layout(binding = 8) writeonly buffer Delta { float delta[]; };
layout(binding = 6) readonly buffer DO4 { vec4 dout4[]; };

void main() {
    uint lane = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.z, h = gl_WorkGroupID.y;
    uint hk = h / (p.H / p.Hkv);
    uint i0 = gl_WorkGroupID.x * TM;
    uint len = attn_len(b, p.has_lengths != 0 ? lengths[b] : 0);
    uint kend = i0 >= len ? 0 : (p.causal != 0 ? min(len, i0 + TM) : len);
    uint qrow0 = ((b * p.T) * p.H + h) * D;
    uint qstride = p.H * D;
    uint krow0 = ((b * p.T) * p.Hkv + hk) * D4;
    uint kstride4 = p.Hkv * D4;
    uint lrow = (b * p.H + h) * p.T;

    // delta and lse of each row (uniform after the subgroup sums)
    float di[TM], li[TM];
    uint qb[TM]; // q / dO rows (vec4 index), clamped in bounds
    [[unroll]] for (uint r = 0; r < TM; r++) qb[r] = (qrow0 + min(i0 + r, p.T - 1) * qstride) / 4u;
    vec4 acc[TM][NG];
    [[unroll]] for (uint r = 0; r < TM; r++) {
        uint i = min(i0 + r, p.T - 1);
        uint rb = (qrow0 + i * qstride) / 4u + lane;
        float part = 0.0;
        [[unroll]] for (uint g = 0; g < NG; g++) {
            part += dot(dout4[rb + g * SG], o4[rb + g * SG]);
            acc[r][g] = vec4(0.0);
        }
        bool ok = i0 + r < len;
        di[r] = ok ? subgroupAdd(part) : 0.0;
        li[r] = ok ? lse[lrow + i] : 0.0;
    }

    for (uint j0 = 0; j0 < kend; j0 += SG * TN) {
        uint kb[TN];
        [[unroll]] for (uint tn = 0; tn < TN; tn++)
            kb[tn] = krow0 + min(j0 + tn * SG + lane, p.T - 1) * kstride4;
        float s[TM][TN], dp[TM][TN];
        [[unroll]] for (uint r = 0; r < TM; r++)
            [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                s[r][tn] = 0.0;
                dp[r][tn] = 0.0;
            }
        for (uint c4 = 0; c4 < D4; c4++) {
            vec4 kv[TN], vv[TN];
            [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                kv[tn] = k4[kb[tn] + c4];
                vv[tn] = v4[kb[tn] + c4];
            }
            [[unroll]] for (uint r = 0; r < TM; r++) {
                vec4 qv = q4[qb[r] + c4], dv = dout4[qb[r] + c4]; // subgroup-uniform
                [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                    s[r][tn] += dot(qv, kv[tn]);
                    dp[r][tn] += dot(dv, vv[tn]);
                }
            }
        }
        [[unroll]] for (uint r = 0; r < TM; r++) {
            uint i = i0 + r;
            [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                uint j = j0 + tn * SG + lane;
                bool vis = j < kend && i < len && (p.causal == 0 || j <= i);
                float pr = vis ? exp(s[r][tn] * p.scale - li[r]) : 0.0;
                s[r][tn] = pr * (dp[r][tn] - di[r]); // dS
            }
        }
        // dQ += dS K: key j0 + tn*SG + t's dS values are in lane t
        [[unroll]] for (uint tn = 0; tn < TN; tn++)
            for (uint t = 0; t < SG; t++) {
                uint j = j0 + tn * SG + t;
                if (j < kend) {
                    uint kt = krow0 + j * kstride4 + lane;
                    vec4 kk[NG];
                    [[unroll]] for (uint g = 0; g < NG; g++) kk[g] = k4[kt + g * SG];
                    [[unroll]] for (uint r = 0; r < TM; r++) {
                        float dst = subgroupBroadcast(s[r][tn], t);
                        [[unroll]] for (uint g = 0; g < NG; g++) acc[r][g] += dst * kk[g];
                    }
                }
            }
    }

    [[unroll]] for (uint r = 0; r < TM; r++) {
        uint i = i0 + r;
        if (i < p.T) {
            uint ob = (qrow0 + i * qstride) / 4u + lane;
            [[unroll]] for (uint g = 0; g < NG; g++) dq4[ob + g * SG] = acc[r][g] * p.scale;
            if (lane == 0) delta[lrow + i] = di[r];
        }
    }
}
