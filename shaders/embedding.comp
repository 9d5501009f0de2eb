#version 450
// Embedding lookup on an fp32 table [V, C] with int32 token ids [N].
//   forward:  out[n, :] = table[ids[n], :]; an id outside [0, V) gives a zero row. Nothing is read out
//             of bounds. A table too large for one binding is bound in parts: the part holding rows
//             v0..v0+V-1 of a vtotal-row table writes the rows of those ids only (and the part with v0 = 0
//             the zero rows of invalid ids).
//   check:    one workgroup: status[0] = how many ids are outside [0, V), status[1] = the first such
//             position (0xffffffff if none). (A reduction, not atomics: device-scope atomics would need
//             vulkanMemoryModelDeviceScope.)
//   backward: dtable[v, c] += sum over tokens n with ids[n] == v of dout[n, c], with no float atomics:
//             thread (c, s) owns column c of the vocabulary rows v with v % S == s, and adds the tokens in
//             order n = 0..N-1, so every sum has a fixed order and results repeat bit for bit.
//@variant forward -DPASS=0 -DVEC=1
//@variant forward_vec4 -DPASS=0 -DVEC=4
//@variant check -DPASS=1
//@variant backward -DPASS=2
#include "vkft.glsl"
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(push_constant) uniform Push {
    uint N, V, C;
    uint slices; // backward: S, the vocabulary slices (gl_NumWorkGroups.y)
    uint v0;     // the first table row this binding holds (0 unless the table is bound in parts)
    uint vtotal; // the whole table's rows (V when it is bound whole)
} p;
layout(binding = 0) readonly buffer Ids { int ids[]; };
#if PASS == 0
// forward_vec4: 4 columns per load (C % 4 == 0, 16-byte aligned buffers)
#if VEC == 4
#define VT vec4
#else
#define VT float
#endif
layout(binding = 1) readonly buffer Table { VT table[]; };
layout(binding = 2) writeonly buffer Out { VT o[]; };
#elif PASS == 1
layout(binding = 1) writeonly buffer Status { uint status[]; };
shared uint check_count[256], check_first[256];
#else
layout(binding = 1) readonly buffer DOut { float dout[]; };
layout(binding = 2) buffer DTable { float dtable[]; };
#endif

void main() {
#if PASS == 0
    uint cols = p.C / VEC, total = p.N * cols;
    for (uint i = gl_GlobalInvocationID.x; i < total; i += GRID_STRIDE) {
        uint n = i / cols, c = i % cols;
        int id = ids[n];
        uint r = uint(id) - p.v0; // wraps for ids below v0
        if (id >= 0 && uint(id) >= p.v0 && r < p.V)
            o[i] = table[r * cols + c];
        else if (p.v0 == 0u && (id < 0 || uint(id) >= p.vtotal))
            o[i] = VT(0.0);
    }
#elif PASS == 1
    uint count = 0, first = 0xffffffffu;
    for (uint n = gl_LocalInvocationID.x; n < p.N; n += gl_WorkGroupSize.x) {
        int id = ids[n];
        if (id < 0 || uint(id) >= p.V) {
            count++;
            first = min(first, n);
        }
    }
    count = subgroupAdd(count);
    first = subgroupMin(first);
    if (subgroupElect()) {
        check_count[gl_SubgroupID] = count;
        check_first[gl_SubgroupID] = first;
    }
    barrier();
    if (gl_LocalInvocationID.x == 0) {
        for (uint i = 1; i < gl_NumSubgroups; i++) {
            count += check_count[i];
            first = min(first, check_first[i]);
        }
        status[0] = count; // thread 0 holds subgroup 0's sums, plus the others' above
        status[1] = first;
    }
#else
    uint c = gl_GlobalInvocationID.x, s = gl_WorkGroupID.y;
    if (c >= p.C) return;
    for (uint n = 0; n < p.N; n++) {
        int id = ids[n];
        uint r = uint(id) - p.v0;
        if (id < 0 || uint(id) < p.v0 || r >= p.V || uint(id) % p.slices != s) continue;
        uint j = r * p.C + c;
        dtable[j] += dout[n * p.C + c];
    }
#endif
}
