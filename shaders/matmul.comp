#version 450
// Matmul shaped for CPU Vulkan drivers (lavapipe): no shared memory, no barriers, big register blocks.
// One workgroup is one subgroup of SG lanes (specialization constant 0 = the subgroup size) and owns a
// TM x (SG*TN) block of C. Every lane holds TM x TN accumulators; the TM values of A it needs at each k
// are the same for all lanes, so they are read at subgroup-uniform addresses (one scalar load each on
// lavapipe, instead of one load per lane); B is read as 4-wide vectors per lane (fewer gathers).
// Blocks on the edge of C (and unaligned B) take a plain, bounds-clamped path.
//@variant f32
//@variant f16 -DB_F16
//@variant bf16 -DB_BF16
#include "vkft.glsl"
#include "matmul_common.glsl"

layout(constant_id = 2) const uint TM = 8; // rows of C per workgroup
layout(constant_id = 3) const uint TN = 8; // columns of C per lane (a multiple of 4)

#define SG gl_WorkGroupSize.x
#define NG (TN / 4u) // 4-wide column groups per lane

// Column of C held in accumulator slot j by this lane. B contiguous in n: lane-interleaved groups of 4
// (vector loads); B contiguous in k (NT): one column per lane, SG apart.
uint column(uint n0, uint lane, uint j) {
    return B_ROWMAJOR_N ? n0 + (j / 4u) * (4u * SG) + lane * 4u + (j & 3u) : n0 + j * SG + lane;
}

void main() {
    const uint lane = gl_LocalInvocationID.x;
    const uint n0 = gl_WorkGroupID.x * (SG * TN);
    const uint m0 = gl_WorkGroupID.y * TM;
    const uint batch = gl_WorkGroupID.z;
    const uint aoff = batch * p.stride_a, boff = batch * p.stride_b, coff = batch * p.stride_c;
    const uint M = p.M, N = p.N, K = p.K;

    float acc[TM][TN];
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    bool interior = m0 + TM <= M && n0 + SG * TN <= N && (p.ldb & 3u) == 0u && (boff & 3u) == 0u;
    uint k = 0;
    if (interior) {
        for (; k + 4u <= K; k += 4u) {
            // B: 4 k-values x TN columns, as TN vector loads
            vec4 bv[4][NG];
            if (B_ROWMAJOR_N) {
                for (uint kk = 0; kk < 4u; kk++)
                    for (uint g = 0; g < NG; g++)
                        bv[kk][g] = load_b4(boff + (k + kk) * p.ldb + n0 + g * (4u * SG) + lane * 4u);
            } else {
                for (uint j = 0; j < TN; j++) {
                    vec4 t = load_b4(boff + (n0 + j * SG + lane) * p.ldb + k);
                    bv[0][j / 4u][j & 3u] = t.x;
                    bv[1][j / 4u][j & 3u] = t.y;
                    bv[2][j / 4u][j & 3u] = t.z;
                    bv[3][j / 4u][j & 3u] = t.w;
                }
            }
            for (uint kk = 0; kk < 4u; kk++) {
                for (uint i = 0; i < TM; i++) {
                    float av = a[aoff + index_a(m0 + i, k + kk)]; // subgroup-uniform address
                    for (uint g = 0; g < NG; g++) {
                        acc[i][g * 4u + 0u] = fma(av, bv[kk][g].x, acc[i][g * 4u + 0u]);
                        acc[i][g * 4u + 1u] = fma(av, bv[kk][g].y, acc[i][g * 4u + 1u]);
                        acc[i][g * 4u + 2u] = fma(av, bv[kk][g].z, acc[i][g * 4u + 2u]);
                        acc[i][g * 4u + 3u] = fma(av, bv[kk][g].w, acc[i][g * 4u + 3u]);
                    }
                }
            }
        }
    }
    // The rest of K (all of it on edge blocks), one k at a time with clamped indices.
    for (; k < K; k++) {
        float bs[TN];
        for (uint j = 0; j < TN; j++) bs[j] = load_b(boff + index_b(k, min(column(n0, lane, j), N - 1u)));
        for (uint i = 0; i < TM; i++) {
            float av = a[aoff + index_a(min(m0 + i, M - 1u), k)];
            for (uint j = 0; j < TN; j++) acc[i][j] = fma(av, bs[j], acc[i][j]);
        }
    }

    for (uint i = 0; i < TM; i++) {
        uint m = m0 + i;
        if (m >= M) break;
        for (uint j = 0; j < TN; j++) {
            uint n = column(n0, lane, j);
            if (n < N) store_c(coff, m, n, acc[i][j]);
        }
    }
}
