#version 450
// Attention backward, second pass, subgroup-shaped (see common/attention_sg.glsl): a workgroup owns TM
// key rows of one kv head. For each query head sharing it, query rows stream through SG*TN at a time,
// TN per lane: s = k.q and dp = v.dO (k, v uniform; q, dO as vec4 per lane), p = exp(scale s - lse_i),
// dS = p (dp - delta_i); then dV += P^T dO and dK += dS^T Q with p and dS broadcast from the lane that
// holds each query row. Sums run in a fixed order: deterministic, no atomics.
// Dispatch: (ceil(T / TM), Hkv, B).
#include "attention_sg.glsl"

layout(binding = 0) readonly buffer Q4 { vec4 q4[]; };
layout(binding = 1) readonly buffer K4 { vec4 k4[]; };
layout(binding = 2) readonly buffer V4 { vec4 v4[]; };
layout(binding = 3) readonly buffer Lengths { uint lengths[]; };
layout(binding = 4) readonly buffer Lse { float lse[]; };
layout(binding = 5) readonly buffer Delta { float delta[]; };
layout(binding = 6) readonly buffer DO4 { vec4 dout4[]; };
layout(binding = 7) writeonly buffer DK4 { vec4 dk4[]; };
layout(binding = 8) writeonly buffer DV4 { vec4 dv4[]; };

void main() {
    uint lane = gl_LocalInvocationID.x;
    uint b = gl_WorkGroupID.z, hk = gl_WorkGroupID.y;
    uint rep = p.H / p.Hkv;
    uint j0 = gl_WorkGroupID.x * TM;
    uint len = attn_len(b, p.has_lengths != 0 ? lengths[b] : 0);
    uint krow0 = ((b * p.T) * p.Hkv + hk) * D;
    uint kstride = p.Hkv * D;
    uint qstride4 = p.H * D4;

    uint kb[TM]; // k / v rows (vec4 index), clamped in bounds
    [[unroll]] for (uint r = 0; r < TM; r++) kb[r] = (krow0 + min(j0 + r, p.T - 1) * kstride) / 4u;
    vec4 gk[TM][NG], gv[TM][NG];
    [[unroll]] for (uint r = 0; r < TM; r++)
        [[unroll]] for (uint g = 0; g < NG; g++) {
            gk[r][g] = vec4(0.0);
            gv[r][g] = vec4(0.0);
        }

    // query rows that may see a key of this workgroup
    uint istart = p.causal != 0 ? j0 : 0;
    uint iend = j0 >= len ? 0 : len;
    for (uint hh = 0; hh < rep; hh++) {
        uint h = hk * rep + hh;
        uint qrow0 = ((b * p.T) * p.H + h) * D4;
        uint lrow = (b * p.H + h) * p.T;
        for (uint i0 = istart; i0 < iend; i0 += SG * TN) {
            uint qb[TN];
            float li[TN], di[TN];
            [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                uint ic = min(i0 + tn * SG + lane, p.T - 1);
                qb[tn] = qrow0 + ic * qstride4;
                li[tn] = lse[lrow + ic];
                di[tn] = delta[lrow + ic];
            }
            float s[TM][TN], dp[TM][TN];
            [[unroll]] for (uint r = 0; r < TM; r++)
                [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                    s[r][tn] = 0.0;
                    dp[r][tn] = 0.0;
                }
            for (uint c4 = 0; c4 < D4; c4++) {
                vec4 qv[TN], dv[TN];
                [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                    qv[tn] = q4[qb[tn] + c4];
                    dv[tn] = dout4[qb[tn] + c4];
                }
                [[unroll]] for (uint r = 0; r < TM; r++) {
                    vec4 kr = k4[kb[r] + c4], vr = v4[kb[r] + c4]; // subgroup-uniform
                    [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                        s[r][tn] += dot(kr, qv[tn]);
                        dp[r][tn] += dot(vr, dv[tn]);
                    }
                }
            }
            [[unroll]] for (uint r = 0; r < TM; r++) {
                uint j = j0 + r;
                [[unroll]] for (uint tn = 0; tn < TN; tn++) {
                    uint i = i0 + tn * SG + lane;
                    bool vis = i < iend && j < len && (p.causal == 0 || j <= i);
                    float pr = vis ? exp(s[r][tn] * p.scale - li[tn]) : 0.0;
                    s[r][tn] = pr;                         // P
                    dp[r][tn] = pr * (dp[r][tn] - di[tn]); // dS
                }
            }
            // dV += P^T dO, dK += dS^T Q: query i0 + tn*SG + u's values are in lane u
            [[unroll]] for (uint tn = 0; tn < TN; tn++)
                for (uint u = 0; u < SG; u++) {
                    uint i = i0 + tn * SG + u;
                    if (i < iend) {
                        uint qu = qrow0 + i * qstride4 + lane;
                        vec4 qq[NG], dd[NG];
                        [[unroll]] for (uint g = 0; g < NG; g++) {
                            qq[g] = q4[qu + g * SG];
                            dd[g] = dout4[qu + g * SG];
                        }
                        [[unroll]] for (uint r = 0; r < TM; r++) {
                            float pu = subgroupBroadcast(s[r][tn], u), dsu = subgroupBroadcast(dp[r][tn], u);
                            [[unroll]] for (uint g = 0; g < NG; g++) {
                                gv[r][g] += pu * dd[g];
                                gk[r][g] += dsu * qq[g];
                            }
                        }
                    }
                }
        }
    }

    [[unroll]] for (uint r = 0; r < TM; r++) {
        uint j = j0 + r;
        if (j < p.T) {
            uint ob = (krow0 + j * kstride) / 4u + lane;
            [[unroll]] for (uint g = 0; g < NG; g++) {
                dk4[ob + g * SG] = gk[r][g] * p.scale;
                dv4[ob + g * SG] = gv[r][g];
            }
        }
    }
}
