#version 450
// Column sums of a row-major [rows, cols] matrix, rows ld apart: out[c] = sum_r x[r, c] (+ out[c] when
// accumulate).
// One thread per column, rows summed in order: deterministic, no atomics (bias gradients).
#include "vkft.glsl"

layout(push_constant) uniform Push {
    uint rows;
    uint cols;
    uint accumulate;
    uint ld;
} p;
layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) buffer Out { float o[]; };

void main() {
    for (uint c = gl_GlobalInvocationID.x; c < p.cols; c += GRID_STRIDE) {
        float acc = 0.0;
        for (uint r = 0; r < p.rows; r++) acc += x[r * p.ld + c];
        o[c] = p.accumulate != 0 ? o[c] + acc : acc;
    }
}
