#version 450
// Rotary position embedding, Hugging Face "rotate_half" convention, on [B, T, H, D] fp32 (q or k; call
// once per tensor with its own head count). For token (b, t) at position pos[b*T + t] and pair i < R/2
// (R = rot_dim <= D, even): angle = (pos / factor) * inv_freq[i],
//   forward:  y_i = x_i cos - x_{i+R/2} sin,  y_{i+R/2} = x_{i+R/2} cos + x_i sin
//   backward: the inverse rotation (sin -> -sin) applied to dy.
// Elements R..D-1 are copied. inv_freq[R/2] comes from a buffer the host fills once (vkft_rope_inv_freq),
// computed as Hugging Face does in fp32, so that angles match theirs bit for bit; cos and sin use an exact
// range reduction (some GPUs' cos/sin lose accuracy on large arguments).
// Variant vec4: 4 pairs per invocation with vec4 loads (rot_dim % 8 == 0, D % 4 == 0, aligned buffers).
//@variant scalar -DVEC=1
//@variant vec4 -DVEC=4
#include "vkft.glsl"

layout(push_constant) uniform Push {
    uint B, T, H, D, rot_dim;
    float inv_factor; // 1 / linear scaling factor
    float sign;       // +1 forward, -1 backward
} p;
#if VEC == 4
#define VT vec4
#else
#define VT float
#endif
layout(binding = 0) readonly buffer X { VT x[]; };
layout(binding = 1) readonly buffer Pos { int pos[]; };
layout(binding = 2) readonly buffer F { VT inv_freq[]; };
layout(binding = 3) writeonly buffer Y { VT y[]; };

// a mod 2 pi in [-pi, pi], for |a| below about 1e5: 2 pi = C1 + C2 with C1 = 201/32 (exact, so k * C1 is
// exact for k < 2^16).
void cos_sin(VT a, out VT c, out VT s) {
    const float C1 = 6.28125;
    const float C2 = 0.0019353071795864769;
    VT k = round(a * 0.15915494309189535);
    precise VT r = a - k * C1;
    r = r - k * C2;
    c = cos(r);
    s = sin(r);
}

#if VEC == 4
// Row units are quads: quad q < R/8 pairs with quad q + R/8; the quads from R/4 on are copied.
void main() {
    uint quads = p.D / 4, half_q = p.rot_dim / 8, copy_q = quads - 2 * half_q, per_row = half_q + copy_q;
    uint total = p.B * p.T * p.H * per_row;
    for (uint id = gl_GlobalInvocationID.x; id < total; id += GRID_STRIDE) {
        uint k = id % per_row, rest = id / per_row;
        uint bt = rest / p.H, base = rest * quads;
        if (k < half_q) {
            vec4 c, s;
            cos_sin((float(pos[bt]) * p.inv_factor) * inv_freq[k], c, s);
            s *= p.sign;
            vec4 x0 = x[base + k], x1 = x[base + k + half_q];
            y[base + k] = x0 * c - x1 * s;
            y[base + k + half_q] = x1 * c + x0 * s;
        } else {
            uint j = 2 * half_q + (k - half_q);
            y[base + j] = x[base + j];
        }
    }
}
#else
void main() {
    uint half_d = p.D / 2, half_r = p.rot_dim / 2;
    uint total = p.B * p.T * p.H * half_d;
    for (uint id = gl_GlobalInvocationID.x; id < total; id += GRID_STRIDE) {
        uint i = id % half_d, rest = id / half_d;
        uint bt = rest / p.H;
        uint base = rest * p.D;
        if (i < half_r) {
            float c, s;
            cos_sin((float(pos[bt]) * p.inv_factor) * inv_freq[i], c, s);
            s *= p.sign;
            float x0 = x[base + i], x1 = x[base + i + half_r];
            y[base + i] = x0 * c - x1 * s;
            y[base + i + half_r] = x1 * c + x0 * s;
        } else {
            uint j = p.rot_dim + 2 * (i - half_r);
            y[base + j] = x[base + j];
            y[base + j + 1] = x[base + j + 1];
        }
    }
}
#endif
