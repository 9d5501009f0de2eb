// Helpers for kernels that give one workgroup to a row: workgroup-wide sum and max.
// Each result is returned to every invocation. The order of additions is fixed by the workgroup and
// subgroup sizes (subgroup reduction, then the subgroup partials added in index order), so a result
// repeats exactly on a given device. Include after vkft.glsl.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

// One slot per subgroup: 1024 invocations / subgroups of at least 4.
shared float rows_partial[256];

float wg_sum(float v) {
    v = subgroupAdd(v);
    if (gl_NumSubgroups == 1) return v; // a one-subgroup workgroup (CPU drivers) needs no barrier
    if (subgroupElect()) rows_partial[gl_SubgroupID] = v;
    barrier();
    float r = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++) r += rows_partial[i];
    barrier();
    return r;
}

float wg_max(float v) {
    v = subgroupMax(v);
    if (gl_NumSubgroups == 1) return v;
    if (subgroupElect()) rows_partial[gl_SubgroupID] = v;
    barrier();
    float r = rows_partial[0];
    for (uint i = 1; i < gl_NumSubgroups; i++) r = max(r, rows_partial[i]);
    barrier();
    return r;
}

// Rows are visited with a workgroup stride, so a bounded grid covers any number of rows.
#define ROW_STRIDE gl_NumWorkGroups.x
