#version 450
// Small kernels of DoRA (model/ops_lora.c); OP (specialization constant 1) picks one:
//   0 norm:  per output row o < rows: n[o] = sqrt(sum_i W[o,i]^2 + sum_j B[o,j] R[o,j]),  g[o] = m[o] / n[o]
//            where R = 2s W A^T + s^2 B (A A^T) [rows, cols] was computed by matmuls, so that
//            ||W[o,:] + s (B A)[o,:]||^2 is had without forming B A. inner = the row length of W.
//            bindings: 0 W, 1 B, 2 R, 3 m, 4 g (out), 5 n (out)
//   1 scale: y[t,o] = g[o] * u[t,o] (+ bias[o] if flags & 1), rows = T, cols = out.
//            bindings: 0 u, 1 g, 2 bias, 4 y (out)
//   2 dmag:  dm[o] = sum_t dy[t,o] u[t,o] / n[o] (fixed order over t), rows = T, cols = out.
//            bindings: 0 dy, 1 u, 2 n, 4 dm (out)
// Outputs are always bindings 4 and 5 (the only ones written); the launcher binds an input to an
// unused input slot and the output again to an unused binding 5.
#include "vkft.glsl"

layout(constant_id = 1) const uint OP = 0;
layout(push_constant) uniform Push {
    uint rows, cols, inner, flags;
} p;
layout(binding = 0) readonly buffer B0 { float b0[]; };
layout(binding = 1) readonly buffer B1 { float b1[]; };
layout(binding = 2) readonly buffer B2 { float b2[]; };
layout(binding = 3) readonly buffer B3 { float b3[]; };
layout(binding = 4) buffer B4 { float b4[]; };
layout(binding = 5) buffer B5 { float b5[]; };

void main() {
    if (OP == 0) {
        for (uint o = gl_GlobalInvocationID.x; o < p.rows; o += GRID_STRIDE) {
            float acc = 0.0;
            for (uint i = 0; i < p.inner; i++) {
                float w = b0[o * p.inner + i];
                acc = fma(w, w, acc);
            }
            for (uint j = 0; j < p.cols; j++) acc = fma(b1[o * p.cols + j], b2[o * p.cols + j], acc);
            float n = sqrt(max(acc, 0.0));
            b4[o] = b3[o] / n;
            b5[o] = n;
        }
    } else if (OP == 1) {
        uint total = p.rows * p.cols;
        for (uint e = gl_GlobalInvocationID.x; e < total; e += GRID_STRIDE) {
            uint o = e % p.cols;
            float v = b1[o] * b0[e];
            if ((p.flags & 1u) != 0u) v += b2[o];
            b4[e] = v;
        }
    } else {
        for (uint o = gl_GlobalInvocationID.x; o < p.cols; o += GRID_STRIDE) {
            float acc = 0.0;
            for (uint t = 0; t < p.rows; t++) acc = fma(b0[t * p.cols + o], b1[t * p.cols + o], acc);
            b4[o] = acc / b2[o];
        }
    }
}
