#version 450
// Rotary position embedding, Hugging Face "rotate_half" convention, on [B, T, H, D] fp32 (q or k; call
// once per tensor with its own head count). For token (b, t) at position pos[b*T + t] and pair i < R/2
// (R = rot_dim <= D, even): angle = (pos / factor) * inv_freq[i],
//   forward:  y_i = x_i cos - x_{i+R/2} sin,  y_{i+R/2} = x_{i+R/2} cos + x_i sin
//   backward: the inverse rotation (sin -> -sin) applied to dy.
// Elements R..D-1 are copied. inv_freq[R/2] comes from a buffer the host fills once (vkft_rope_inv_freq),
// computed as Hugging Face does in fp32, so that angles match theirs bit for bit; cos and sin use an exact
// range reduction (some GPUs' cos/sin lose accuracy on large arguments).
#include "vkft.glsl"

layout(push_constant) uniform Push {
    uint B, T, H, D, rot_dim;
    float inv_factor; // 1 / linear scaling factor
    float sign;       // +1 forward, -1 backward
} p;
layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) readonly buffer Pos { int pos[]; };
layout(binding = 2) readonly buffer F { float inv_freq[]; };
layout(binding = 3) writeonly buffer Y { float y[]; };

// a mod 2 pi in [-pi, pi], for |a| below about 1e5: 2 pi = C1 + C2 with C1 = 201/32 (exact, so k * C1 is
// exact for k < 2^16).
vec2 cos_sin(float a) {
    const float C1 = 6.28125;
    const float C2 = 0.0019353071795864769;
    float k = round(a * 0.15915494309189535);
    precise float r = a - k * C1;
    r = r - k * C2;
    return vec2(cos(r), sin(r));
}

void main() {
    uint half_d = p.D / 2, half_r = p.rot_dim / 2;
    uint total = p.B * p.T * p.H * half_d;
    for (uint id = gl_GlobalInvocationID.x; id < total; id += GRID_STRIDE) {
        uint i = id % half_d, rest = id / half_d;
        uint bt = rest / p.H;
        uint base = rest * p.D;
        if (i < half_r) {
            float a = (float(pos[bt]) * p.inv_factor) * inv_freq[i];
            vec2 cs = cos_sin(a);
            float s = p.sign * cs.y;
            float x0 = x[base + i], x1 = x[base + i + half_r];
            y[base + i] = x0 * cs.x - x1 * s;
            y[base + i + half_r] = x1 * cs.x + x0 * s;
        } else {
            uint j = p.rot_dim + 2 * (i - half_r);
            y[base + j] = x[base + j];
            y[base + j + 1] = x[base + j + 1];
        }
    }
}
