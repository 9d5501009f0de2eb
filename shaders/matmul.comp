#version 450
// Matmul shaped for CPU Vulkan drivers (lavapipe): no shared memory, no barriers, big register blocks.
// One workgroup is one subgroup of SG lanes (specialization constant 0 = the subgroup size) and owns a
// TM x (SG*TN) block of C. Every lane holds TM x TN accumulators; the TM values of A it needs at each k
// are the same for all lanes: each lane reads a different one and subgroupBroadcast shares them (on
// lavapipe every storage-buffer load is a bounds-checked scalar load per lane, and a subgroup-uniform
// address still costs one such load per value: sharing halved the time). B is read 64 bits per lane.
// Blocks on the edge of C (and unaligned B) take a plain, bounds-clamped path. The f32tex variant reads
// A and B of whole blocks through texel buffers instead (bindings 4 and 5: the same buffers as 0 and 1).
//@variant f32
//@variant f16 -DB_F16
//@variant bf16 -DB_BF16
//@variant f32tex -DTEXEL
#extension GL_EXT_control_flow_attributes : require
#extension GL_EXT_shader_explicit_arithmetic_types_int64 : require
#extension GL_KHR_shader_subgroup_ballot : require
#include "vkft.glsl"
#include "matmul_common.glsl"

layout(constant_id = 2) const uint TM = 32; // rows of C per workgroup (even)
layout(constant_id = 3) const uint TN = 4;  // columns of C per lane (a multiple of B values per 64-bit word: 2 fp32, 4 fp16)
// 1: A read 64 bits per lane (needs A's rows and batch items at even elements); 0: 32 bits, for an odd
// row stride (logits over GPT-2's 50257 tokens), which would otherwise send every block down the clamped
// edge path. A specialization constant, not a branch: a run-time select in the loads cost 35% of the rate.
layout(constant_id = 4) const uint A_WIDE = 1;
// Columns of blocks per group of the block order (main): 8 measured best of 2, 4 and 8 (NN 4096x3072x768:
// 55 GFLOP/s in plain row order, 90-100 grouped).
layout(constant_id = 5) const uint GROUP_COLS = 8;

#define SG gl_WorkGroupSize.x

// 64-bit views of A and B: one load per lane brings 2 fp32 (or 4 fp16/bf16) values, half the loads of
// 32-bit words (each per-lane storage-buffer load is a bounds-checked scalar load on lavapipe).
layout(binding = 0) readonly buffer BufA64 { uint64_t a64[]; };
layout(binding = 1) readonly buffer BufB64 { uint64_t b64[]; };
#ifdef TEXEL
// The same A and B as uniform texel buffers of vec4 (element i / 4 of the binding): lavapipe fetches a
// texel for all 8 lanes as 8 vector loads and a transpose, with no per-lane branch, about twice as cheap
// per value as the storage-buffer loads (matmul 1.2x faster).
layout(binding = 4) uniform samplerBuffer ta4;
layout(binding = 5) uniform samplerBuffer tb4;
#define VW 4u
#define BVEC vec4
#define KU 8u // k per step (4 and 16 were slower: 94 and 79 against 103 GFLOP/s, NT 4096x768x768)
#elif defined(B_F16) || defined(B_BF16)
#define VW 4u // B elements per 64-bit word
#define BVEC vec4
BVEC load_bvec(uint i) {
    uvec2 w = unpackUint2x32(b64[i >> 2]);
    return vec4(unpack_b2(w.x), unpack_b2(w.y));
}
#else
#define VW 2u
#define BVEC vec2
BVEC load_bvec(uint i) { return uintBitsToFloat(unpackUint2x32(b64[i >> 1])); }
#endif
vec2 load_a2(uint i) {
    return A_WIDE != 0u ? uintBitsToFloat(unpackUint2x32(a64[i >> 1])) : vec2(a[i], a[i + 1u]);
}

// Column of C held in accumulator slot j by this lane. B contiguous in n: lane-interleaved groups of VW
// columns (one 64-bit load each); B contiguous in k (NT): one column per lane, SG apart.
uint column(uint n0, uint lane, uint j) {
    return B_ROWMAJOR_N ? n0 + (j / VW) * (VW * SG) + lane * VW + (j % VW) : n0 + j * SG + lane;
}

void main() {
    const uint lane = gl_LocalInvocationID.x;
    // Blocks in groups of GROUP_COLS columns of blocks, all rows of a group before the next (x fastest
    // within a row): consecutive workgroups share A's rows and the group's panels of B stay in cache.
    const uint ncol = gl_NumWorkGroups.x, nrow = gl_NumWorkGroups.y;
    const uint linear = gl_WorkGroupID.y * ncol + gl_WorkGroupID.x, group = linear / (GROUP_COLS * nrow);
    const uint width = min(GROUP_COLS, ncol - group * GROUP_COLS), r = linear - group * GROUP_COLS * nrow;
    const uint n0 = (group * GROUP_COLS + r % width) * (SG * TN);
    const uint m0 = (r / width) * TM;
    const uint batch = gl_WorkGroupID.z;
    const uint aoff = batch * p.stride_a, boff = batch * p.stride_b, coff = batch * p.stride_c;
    const uint M = p.M, N = p.N;

    // FLAG_CAUSAL (attention's score blocks, matmul_common.glsl): NT skips blocks above the diagonal;
    // NN and TN run k only where A is not zero (A[m, k] = 0 for k > m; TN: A[k, m] = 0 for m > k).
    uint k = 0, K = p.K;
    if ((p.flags & FLAG_CAUSAL) != 0u) {
        if (FORM == FORM_NT && n0 >= m0 + TM) return; // no barriers in this kernel: a whole block may leave
        if (FORM == FORM_NN) K = min(K, m0 + TM);
        if (FORM == FORM_TN) k = min(K, m0);
    }

    float acc[TM][TN];
    [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    // Whole blocks with aligned rows take the 64-bit path (subgroup-uniform branch).
    // subgroupBroadcast shares A only if the workgroup is exactly one subgroup (the launcher sizes it so)
    const bool share = gl_SubgroupSize == SG;
    bool interior = m0 + TM <= M && n0 + SG * TN <= N && (p.ldb % VW) == 0u && (boff % VW) == 0u &&
                    (A_WIDE == 0u || ((p.lda & 1u) == 0u && (aoff & 1u) == 0u));
#ifdef TEXEL
    // Whole texels of A (rows and batch items at multiples of 4 elements; B's are checked above), and
    // blocks that the loads below cover (TN: each lane fetches 4 rows, so TM a multiple of 4 SG)
    interior = interior && share && (p.lda % 4u) == 0u && (aoff % 4u) == 0u && TN % 4u == 0u &&
               TM % (A_ROWMAJOR_K ? SG : 4u * SG) == 0u;
    if (interior) {
        for (; k + KU <= K; k += KU) {
            float bv[KU][TN]; // [k][column slot], per lane
            if (B_ROWMAJOR_N) {
                [[unroll]] for (uint kk = 0; kk < KU; kk++)
                    [[unroll]] for (uint g = 0; g < TN / 4u; g++) {
                        uint i = boff + (k + kk) * p.ldb + n0 + g * (4u * SG) + lane * 4u;
                        vec4 t = texelFetch(tb4, int(i >> 2));
                        [[unroll]] for (uint e = 0; e < 4u; e++) bv[kk][g * 4u + e] = t[e];
                    }
            } else {
                [[unroll]] for (uint j = 0; j < TN; j++)
                    [[unroll]] for (uint q = 0; q < KU / 4u; q++) {
                        uint i = boff + (n0 + j * SG + lane) * p.ldb + k + 4u * q;
                        vec4 t = texelFetch(tb4, int(i >> 2));
                        [[unroll]] for (uint e = 0; e < 4u; e++) bv[4u * q + e][j] = t[e];
                    }
            }
            // A: each lane fetches 4 k of a row (NN, NT) or 4 rows of a k (TN); subgroupBroadcast shares them
            float av[KU][TM];
            if (A_ROWMAJOR_K) {
                [[unroll]] for (uint g = 0; g < TM / SG; g++)
                    [[unroll]] for (uint q = 0; q < KU / 4u; q++) {
                        uint i = aoff + (m0 + g * SG + lane) * p.lda + k + 4u * q;
                        vec4 t = texelFetch(ta4, int(i >> 2));
                        [[unroll]] for (uint l = 0; l < SG; l++)
                            [[unroll]] for (uint e = 0; e < 4u; e++)
                                av[4u * q + e][g * SG + l] = subgroupBroadcast(t[e], l);
                    }
            } else {
                [[unroll]] for (uint kk = 0; kk < KU; kk++)
                    [[unroll]] for (uint g = 0; g < TM / (4u * SG); g++) {
                        uint i = aoff + (k + kk) * p.lda + m0 + g * 4u * SG + 4u * lane;
                        vec4 t = texelFetch(ta4, int(i >> 2));
                        [[unroll]] for (uint l = 0; l < SG; l++)
                            [[unroll]] for (uint e = 0; e < 4u; e++)
                                av[kk][g * 4u * SG + 4u * l + e] = subgroupBroadcast(t[e], l);
                    }
            }
            [[unroll]] for (uint i = 0; i < TM; i++)
                [[unroll]] for (uint kk = 0; kk < KU; kk++)
                    [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(av[kk][i], bv[kk][j], acc[i][j]);
        }
    }
#else
    if (interior) {
        for (; k + 4u <= K; k += 4u) {
            float bv[4][TN]; // [k][column slot], per lane
            if (B_ROWMAJOR_N) {
                [[unroll]] for (uint kk = 0; kk < 4u; kk++)
                    [[unroll]] for (uint g = 0; g < TN / VW; g++) {
                        BVEC t = load_bvec(boff + (k + kk) * p.ldb + n0 + g * (VW * SG) + lane * VW);
                        [[unroll]] for (uint e = 0; e < VW; e++) bv[kk][g * VW + e] = t[e];
                    }
            } else {
                [[unroll]] for (uint j = 0; j < TN; j++)
                    [[unroll]] for (uint q = 0; q < 4u / VW; q++) {
                        BVEC t = load_bvec(boff + (n0 + j * SG + lane) * p.ldb + k + q * VW);
                        [[unroll]] for (uint e = 0; e < VW; e++) bv[q * VW + e][j] = t[e];
                    }
            }
            // A: the same TM x 4 values for every lane: each lane reads some, subgroupBroadcast shares them
            // (the last branch, subgroup-uniform addresses, is for block shapes the others do not cover)
            float av[4][TM];
            if (A_ROWMAJOR_K && TM % SG == 0u && share) {
                // lane l reads rows m0 + l + SG*g; the others get them through subgroupBroadcast
                [[unroll]] for (uint g = 0; g < TM / SG; g++)
                    [[unroll]] for (uint q = 0; q < 2u; q++) {
                        vec2 t = load_a2(aoff + (m0 + g * SG + lane) * p.lda + k + 2u * q);
                        [[unroll]] for (uint l = 0; l < SG; l++) {
                            av[2u * q][g * SG + l] = subgroupBroadcast(t.x, l);
                            av[2u * q + 1u][g * SG + l] = subgroupBroadcast(t.y, l);
                        }
                    }
            } else if (A_ROWMAJOR_K) {
                [[unroll]] for (uint i = 0; i < TM; i++)
                    [[unroll]] for (uint q = 0; q < 2u; q++) {
                        vec2 t = load_a2(aoff + (m0 + i) * p.lda + k + 2u * q);
                        av[2u * q][i] = t.x;
                        av[2u * q + 1u][i] = t.y;
                    }
            } else if (!A_ROWMAJOR_K && TM % (2u * SG) == 0u && share) {
                // A^T: lane l reads rows m0 + 2l, 2l+1 (+ 2SG*g) of each k; broadcast to the others
                [[unroll]] for (uint kk = 0; kk < 4u; kk++)
                    [[unroll]] for (uint g = 0; g < TM / (2u * SG); g++) {
                        vec2 t = load_a2(aoff + (k + kk) * p.lda + m0 + g * 2u * SG + 2u * lane);
                        [[unroll]] for (uint l = 0; l < SG; l++) {
                            av[kk][g * 2u * SG + 2u * l] = subgroupBroadcast(t.x, l);
                            av[kk][g * 2u * SG + 2u * l + 1u] = subgroupBroadcast(t.y, l);
                        }
                    }
            } else if (!A_ROWMAJOR_K && TM % SG == 0u && share) {
                [[unroll]] for (uint kk = 0; kk < 4u; kk++)
                    [[unroll]] for (uint g = 0; g < TM / SG; g++) {
                        float t = a[aoff + (k + kk) * p.lda + m0 + g * SG + lane];
                        [[unroll]] for (uint l = 0; l < SG; l++) av[kk][g * SG + l] = subgroupBroadcast(t, l);
                    }
            } else {
                [[unroll]] for (uint kk = 0; kk < 4u; kk++)
                    [[unroll]] for (uint i = 0; i < TM; i += 2u) {
                        vec2 t = load_a2(aoff + (k + kk) * p.lda + m0 + i);
                        av[kk][i] = t.x;
                        av[kk][i + 1u] = t.y;
                    }
            }
            [[unroll]] for (uint i = 0; i < TM; i++)
                [[unroll]] for (uint kk = 0; kk < 4u; kk++)
                    [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(av[kk][i], bv[kk][j], acc[i][j]);
        }
    }
#endif
    // The rest of K (all of it on edge blocks), one k at a time with clamped indices.
    for (; k < K; k++) {
        float bs[TN];
        [[unroll]] for (uint j = 0; j < TN; j++)
            bs[j] = load_b(boff + index_b(k, min(column(n0, lane, j), N - 1u)));
        [[unroll]] for (uint i = 0; i < TM; i++) {
            float av = a[aoff + index_a(min(m0 + i, M - 1u), k)];
            [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(av, bs[j], acc[i][j]);
        }
    }

    // Epilogue one row at a time, shifting the accumulator rows up instead of indexing them (a rolled loop
    // keeps the per-lane stores' code small; dynamic indexing would spill the block to memory).
    [[dont_unroll]] for (uint i = 0; i < TM; i++) {
        uint m = m0 + i;
        if (m < M) {
            [[unroll]] for (uint j = 0; j < TN; j++) {
                uint n = column(n0, lane, j);
                if (n < N) store_c(coff, m, n, acc[0][j]);
            }
        }
        [[unroll]] for (uint r = 0; r + 1u < TM; r++)
            [[unroll]] for (uint j = 0; j < TN; j++) acc[r][j] = acc[r + 1u][j];
    }
}
