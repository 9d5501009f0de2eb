#version 450
// Sum reduction, one partial sum per workgroup: partial[wg] = sum of the x[i] this workgroup visits.
// Run twice (n elements -> G partials -> 1) for a full sum; the order of additions is fixed by n and G,
// so results repeat exactly on a given device.
#include "vkft.glsl"

layout(push_constant) uniform Push {
    uint n;
} p;
layout(binding = 0) readonly buffer X { float x[]; };
layout(binding = 1) writeonly buffer Partial { float partial[]; };

shared float sdata[1024];

void main() {
    uint tid = gl_LocalInvocationID.x;
    float acc = 0.0;
    for (uint i = gl_GlobalInvocationID.x; i < p.n; i += GRID_STRIDE) acc += x[i];
    sdata[tid] = acc;
    barrier();
    // Tree reduction; the workgroup size is a power of two (runtime/pipeline.c clamps spec 0).
    for (uint s = gl_WorkGroupSize.x / 2; s > 0; s >>= 1) {
        if (tid < s) sdata[tid] += sdata[tid + s];
        barrier();
    }
    if (tid == 0) partial[gl_WorkGroupID.x] = sdata[0];
}
