#version 450
// LayerNorm and RMSNorm over the rows of a [rows, C] fp32 matrix.
//   RMS = 0 layernorm: y = (x - mean) * rstd * w + b,  rstd = 1 / sqrt(var + eps)   (biased variance)
//   RMS = 1 rmsnorm:   y = x * rstd * w,               rstd = 1 / sqrt(mean(x^2) + eps)
// PASS (a build variant, so that each pass declares exactly which buffers it writes):
//   0 forward (one workgroup per row): y, and the saved mean (layernorm) and rstd per row
//   1 backward, input gradient (one workgroup per row), with g = dy * w and xhat the normalized input:
//       layernorm: dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
//       rmsnorm:   dx = rstd * (g - xhat * mean(g * xhat))
//   2 backward, weight/bias gradient partials: thread c of workgroup (gx, block) sums dy * xhat and dy over
//     the rows of its block, in row order: part[block * C + c] and part[(nblocks + block) * C + c]
//     (the vec4 variant: 4 columns per thread, the same sums in the same order)
//   3 backward, weight/bias gradient: dw[c] (+)= sum over blocks of the partials, in block order.
// No atomics: the sums' order is fixed by (rows, rows_per_block), so results repeat exactly.
// The *_vec4 variants of passes 0-2 move 4 elements per load (C % 4 == 0, 16-byte aligned buffers):
// lavapipe turns each per-invocation load into a loop over the lanes, so they are ~2x faster there.
//@variant forward -DPASS=0 -DVEC=1
//@variant backward -DPASS=1 -DVEC=1
//@variant wgrad -DPASS=2 -DVEC=1
//@variant forward_vec4 -DPASS=0 -DVEC=4
//@variant backward_vec4 -DPASS=1 -DVEC=4
//@variant wgrad_vec4 -DPASS=2 -DVEC=4
//@variant reduce -DPASS=3 -DVEC=1
#include "vkft.glsl"
#include "rows.glsl"

#if VEC == 4
#define VT vec4
float hsum(vec4 v) { return dot(v, vec4(1.0)); }
#else
#define VT float
float hsum(float v) { return v; }
#endif

layout(constant_id = 1) const uint RMS = 0;
#if PASS == 0
#define STATS writeonly
#else
#define STATS readonly
#endif
#if PASS == 3
#define OUT readonly
#define GRAD
#else
#define OUT writeonly
#define GRAD readonly
#endif
layout(push_constant) uniform Push {
    uint rows, C;
    float eps;
    uint has_bias, rows_per_block, nblocks, accumulate;
} p;
layout(binding = 0) readonly buffer X { VT x[]; };
layout(binding = 1) readonly buffer W { VT w[]; };
layout(binding = 2) readonly buffer Bias { VT bias[]; };
layout(binding = 3) readonly buffer DY { VT dy[]; };
layout(binding = 4) STATS buffer Mean { float mean_s[]; };
layout(binding = 5) STATS buffer Rstd { float rstd_s[]; };
layout(binding = 6) OUT buffer Out { VT o[]; };  // y (PASS 0), dx (PASS 1), partials (PASS 2, 3)
layout(binding = 7) GRAD buffer DW { float dw[]; };
layout(binding = 8) GRAD buffer DB { float db[]; };

// Rows are C / VEC elements of VT; sums over a row add the lanes with hsum.
#if PASS == 0
void forward_row(uint row) {
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x, n = p.C / VEC, base = row * n;
    float mean = 0.0;
    if (RMS == 0) {
        float s = 0.0;
        for (uint j = tid; j < n; j += wg) s += hsum(x[base + j]);
        mean = wg_sum(s) / float(p.C);
    }
    float s2 = 0.0;
    for (uint j = tid; j < n; j += wg) {
        VT d = x[base + j] - mean;
        s2 += hsum(d * d);
    }
    float rstd = inversesqrt(wg_sum(s2) / float(p.C) + p.eps);
    for (uint j = tid; j < n; j += wg) {
        VT v = (x[base + j] - mean) * rstd * w[j];
        if (p.has_bias != 0) v += bias[j];
        o[base + j] = v;
    }
    if (tid == 0) {
        if (RMS == 0) mean_s[row] = mean;
        rstd_s[row] = rstd;
    }
}

#endif
#if PASS == 1
void backward_dx_row(uint row) {
    uint tid = gl_LocalInvocationID.x, wg = gl_WorkGroupSize.x, n = p.C / VEC, base = row * n;
    float mean = RMS == 0 ? mean_s[row] : 0.0;
    float rstd = rstd_s[row];
    float sg = 0.0, sgx = 0.0;
    for (uint j = tid; j < n; j += wg) {
        VT g = dy[base + j] * w[j];
        sg += hsum(g);
        sgx += hsum(g * (x[base + j] - mean) * rstd);
    }
    float mg = RMS == 0 ? wg_sum(sg) / float(p.C) : 0.0;
    float mgx = wg_sum(sgx) / float(p.C);
    for (uint j = tid; j < n; j += wg) {
        VT g = dy[base + j] * w[j];
        VT xhat = (x[base + j] - mean) * rstd;
        o[base + j] = rstd * (g - mg - xhat * mgx);
    }
}

#endif

void main() {
#if PASS == 0
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += ROW_STRIDE) forward_row(row);
#elif PASS == 1
    for (uint row = gl_WorkGroupID.x; row < p.rows; row += ROW_STRIDE) backward_dx_row(row);
#elif PASS == 2
    {
        // thread c owns columns VEC*c .. VEC*c + VEC-1; the partials' layout is the same for both widths
        uint c = gl_GlobalInvocationID.x, block = gl_WorkGroupID.y, n = p.C / VEC;
        if (c >= n) return;
        uint r0 = block * p.rows_per_block, r1 = min(p.rows, r0 + p.rows_per_block);
        VT sw = VT(0.0), sb = VT(0.0);
        for (uint r = r0; r < r1; r++) {
            float mean = RMS == 0 ? mean_s[r] : 0.0;
            VT g = dy[r * n + c];
            sw += g * (x[r * n + c] - mean) * rstd_s[r];
            sb += g;
        }
        o[block * n + c] = sw;
        if (p.has_bias != 0) o[(p.nblocks + block) * n + c] = sb;
    }
#else
    {
        uint c = gl_GlobalInvocationID.x;
        if (c >= p.C) return;
        float sw = 0.0, sb = 0.0;
        for (uint k = 0; k < p.nblocks; k++) {
            sw += o[k * p.C + c];
            if (p.has_bias != 0) sb += o[(p.nblocks + k) * p.C + c];
        }
        dw[c] = p.accumulate != 0 ? dw[c] + sw : sw;
        if (p.has_bias != 0) db[c] = p.accumulate != 0 ? db[c] + sb : sb;
    }
#endif
}
