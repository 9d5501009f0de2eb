#version 450
// Cross-entropy fused with softmax over the vocabulary, matching PyTorch's
// F.cross_entropy(logits, targets, weight=w, ignore_index=ii, label_smoothing=eps, reduction='mean'):
//   row loss  l_i = (1 - eps) w[t_i] (lse_i - z_it) + eps / V * sum_c w[c] (lse_i - z_ic)
//             (0 if t_i is ignored)
//   mean      L = sum_i l_i / D,  D = sum over non-ignored rows of w[t_i]   (w = 1 without weights)
//   gradient  dz_ic = grad_scale / D * ((1 - eps) w[t_i] (p_ic - [c == t_i]) + eps / V * (p_ic W - w[c])),
//             W = sum_c w[c]; 0 on ignored rows.
// Variants (one dispatch each, in this order):
//   denom: one workgroup: stats = {D, W, invalid targets, non-ignored rows}
//   rows:  one workgroup per row: an online max / sum of exp over V (one read of the row), then the
//          gradient (a second read, one write); row losses. A target outside [0, V) that is not
//          ignore_index is counted in stats[2] and its row treated as ignored.
//   mean:  one workgroup: loss[0] = sum_i l_i / D (0 when D is 0, where PyTorch gives NaN; the gradient
//          is then 0).
// Every sum has a fixed order (strided per-thread sums, then the workgroup reduction), so results repeat.
//   rows_vec4: rows with 4 logits per load (ld % 4 == 0, 16-byte aligned buffers; the last V % 4 classes one
//          at a time): lavapipe turns each per-invocation load into a loop over the lanes, so this is ~2x
//          faster there.
//@variant denom -DPASS=0
//@variant rows -DPASS=1
//@variant rows_vec4 -DPASS=1 -DVEC4=1
//@variant mean -DPASS=2
#include "vkft.glsl"
#include "rows.glsl"

layout(push_constant) uniform Push {
    uint N, V;
    int ignore_index;
    uint has_weight;
    float label_smoothing, grad_scale;
    uint row0; // first row of this chunk (the logits bindings start at row0; targets and losses do not)
    uint rows;       // rows in this chunk
    uint write_grad; // 0: losses only (dz is not written)
    uint ld;         // rows pass: elements from one row of logits (and of dz) to the next, >= V
} p;

#if PASS == 0
layout(binding = 0) readonly buffer T { int targets[]; };
layout(binding = 1) readonly buffer Wt { float weight[]; };
layout(binding = 2) writeonly buffer S { float stats[]; };
#elif PASS == 1
layout(binding = 0) readonly buffer Z { float z[]; };
layout(binding = 1) readonly buffer T { int targets[]; };
layout(binding = 2) readonly buffer Wt { float weight[]; };
layout(binding = 3) readonly buffer S { float stats[]; };
layout(binding = 4) writeonly buffer L { float row_loss[]; };
layout(binding = 5) writeonly buffer DZ { float dz[]; };
#ifdef VEC4
layout(binding = 0) readonly buffer Z4 { vec4 z4[]; };
layout(binding = 2) readonly buffer Wt4 { vec4 weight4[]; };
layout(binding = 5) writeonly buffer DZ4 { vec4 dz4[]; };
vec4 w4_of(uint c4) { return p.has_weight != 0 ? weight4[c4] : vec4(1.0); }
#endif
#else
layout(binding = 0) readonly buffer L { float row_loss[]; };
layout(binding = 1) readonly buffer S { float stats[]; };
layout(binding = 2) writeonly buffer Out { float loss[]; };
#endif

#if PASS != 2
float w_of(uint c) { return p.has_weight != 0 ? weight[c] : 1.0; }
#endif

void main() {
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x;
#if PASS == 0
    float d = 0.0, bad = 0.0, kept = 0.0, wsum = 0.0;
    for (uint i = tid; i < p.N; i += wg) {
        int t = targets[i];
        if (t == p.ignore_index) continue;
        if (t < 0 || uint(t) >= p.V) {
            bad += 1.0;
            continue;
        }
        d += w_of(uint(t));
        kept += 1.0;
    }
    for (uint c = tid; c < p.V; c += wg) wsum += w_of(c);
    d = wg_sum(d);
    wsum = wg_sum(wsum);
    bad = wg_sum(bad);
    kept = wg_sum(kept);
    if (tid == 0) {
        stats[0] = d;
        stats[1] = wsum;
        stats[2] = bad;
        stats[3] = kept;
    }
#elif PASS == 1
    float D = stats[0], W = stats[1];
    float eps = p.label_smoothing, Vf = float(p.V);
    for (uint r = gl_WorkGroupID.x; r < p.rows; r += ROW_STRIDE) {
        uint row = p.row0 + r, base = r * p.ld;
        int t = targets[row];
        bool skip = t == p.ignore_index || t < 0 || uint(t) >= p.V;
        float m = -3.402823e38, s = 0.0, sz = 0.0;
#ifdef VEC4
        uint V4 = p.V / 4, base4 = r * (p.ld / 4);
        if (!skip) {
            for (uint c4 = tid; c4 < V4; c4 += wg) {
                vec4 v = z4[base4 + c4];
                float vm = max(max(v.x, v.y), max(v.z, v.w));
                if (vm > m) {
                    s *= exp(m - vm);
                    m = vm;
                }
                s += dot(exp(v - m), vec4(1.0));
                if (eps != 0.0) sz += dot(w4_of(c4), v);
            }
            for (uint c = 4u * V4 + tid; c < p.V; c += wg) { // the last V % 4 classes
                float v = z[base + c];
                if (v > m) {
                    s *= exp(m - v);
                    m = v;
                }
                s += exp(v - m);
                if (eps != 0.0) sz += w_of(c) * v;
            }
        }
#else
        if (!skip) {
            for (uint c = tid; c < p.V; c += wg) {
                float v = z[base + c];
                if (v > m) {
                    s = s * exp(m - v) + 1.0;
                    m = v;
                } else {
                    s += exp(v - m);
                }
                if (eps != 0.0) sz += w_of(c) * v;
            }
        }
#endif
        float M = wg_max(m);
        float S = wg_sum(s * exp(m - M));
        float SZ = eps != 0.0 ? wg_sum(sz) : 0.0;
        if (skip) {
            if (tid == 0) row_loss[row] = 0.0;
            if (p.write_grad != 0)
                for (uint c = tid; c < p.V; c += wg) dz[base + c] = 0.0;
            continue;
        }
        float lse = M + log(S);
        float wt = w_of(uint(t));
        if (tid == 0)
            row_loss[row] = (1.0 - eps) * wt * (lse - z[base + uint(t)]) + eps / Vf * (lse * W - SZ);
        if (p.write_grad == 0) continue;
        float scale = D > 0.0 ? p.grad_scale / D : 0.0;
        float inv_s = 1.0 / S;
#ifdef VEC4
        for (uint c4 = tid; c4 < V4; c4 += wg) {
            vec4 pc = exp(z4[base4 + c4] - M) * inv_s;
            vec4 onehot = vec4(equal(uvec4(4 * c4) + uvec4(0, 1, 2, 3), uvec4(uint(t))));
            vec4 g = (1.0 - eps) * wt * (pc - onehot);
            if (eps != 0.0) g += eps / Vf * (pc * W - w4_of(c4));
            dz4[base4 + c4] = scale * g;
        }
        for (uint c = 4u * V4 + tid; c < p.V; c += wg) {
            float pc = exp(z[base + c] - M) * inv_s;
            float g = (1.0 - eps) * wt * (pc - (c == uint(t) ? 1.0 : 0.0));
            if (eps != 0.0) g += eps / Vf * (pc * W - w_of(c));
            dz[base + c] = scale * g;
        }
#else
        for (uint c = tid; c < p.V; c += wg) {
            float pc = exp(z[base + c] - M) * inv_s;
            float g = (1.0 - eps) * wt * (pc - (c == uint(t) ? 1.0 : 0.0));
            if (eps != 0.0) g += eps / Vf * (pc * W - w_of(c));
            dz[base + c] = scale * g;
        }
#endif
    }
#else
    float s = 0.0;
    for (uint i = tid; i < p.N; i += wg) s += row_loss[i];
    s = wg_sum(s);
    if (tid == 0) loss[0] = stats[0] > 0.0 ? s / stats[0] : 0.0;
#endif
}
