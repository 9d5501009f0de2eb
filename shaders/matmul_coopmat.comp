#version 450
// Matmul on cooperative matrices (VK_KHR_cooperative_matrix, 16x16x16 fp16 or bf16 inputs, fp32
// accumulation): a BM x BN = 128 x 128 block of C per workgroup of 8 subgroups, laid out 2 (m) x 4 (n),
// each owning 64 x 32 of C as 4 x 2 accumulators of 16 x 16. K is walked in slices of BK = 32: the
// workgroup stages the A and B slices into shared memory as fp16 (bf16) - A (and fp32 B) are rounded
// there - with padded rows (16-byte global loads where aligned), then every subgroup loads its fragments
// from shared memory.
// The result goes through a per-subgroup 16 x 16 fp32 scratch in shared memory so that the epilogue
// (alpha, bias, beta) and the bounds checks are applied per element.
// UNVERIFIED ON HARDWARE here (lavapipe has no cooperative matrices); see model/ops_matmul.c.
//@variant coopmat needs:coopmat,fp16 noopt
//@variant coopmat_f16 needs:coopmat,fp16 noopt -DB_F16
//@variant coopmat_bf16 needs:coopmat,bf16,fp16 noopt -DB_BF16 -DELT_BF16
#extension GL_KHR_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#extension GL_EXT_control_flow_attributes : require
#ifdef ELT_BF16
#extension GL_EXT_bfloat16 : require
#define ELT bfloat16_t
#else
#define ELT float16_t
#endif
#include "vkft.glsl"
#include "matmul_common.glsl"

layout(constant_id = 2) const uint BM = 128;
layout(constant_id = 3) const uint BN = 128;
layout(constant_id = 4) const uint BK = 32;
layout(constant_id = 5) const uint SGS = 32; // subgroup size the workgroup was sized with

#define THREADS gl_WorkGroupSize.x
#define WM (BM / 2u)        // rows of C per subgroup
#define WN (BN / 4u)        // columns of C per subgroup
#define FM (WM / 16u)       // 16 x 16 tiles per subgroup along m
#define FN (WN / 16u)       // ... along n
#define A_STRIDE (BK + 8u)  // shared rows padded by 16 bytes
#define B_STRIDE (BN + 8u)

shared ELT As[BM * A_STRIDE]; // As[m][k]
shared ELT Bs[BK * B_STRIDE]; // Bs[k][n]
shared float Cs[8u * 256u];   // one 16 x 16 scratch per subgroup

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint sg = gl_SubgroupID, lane = gl_SubgroupInvocationID;
    const uint wm = sg / 4u, wn = sg % 4u;
    const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    const uint batch = gl_WorkGroupID.z;
    const uint aoff = batch * p.stride_a, boff = batch * p.stride_b, coff = batch * p.stride_c;
    const uint M = p.M, N = p.N, K = p.K;

    coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator> acc[FM][FN];
    [[unroll]] for (uint i = 0; i < FM; i++)
        [[unroll]] for (uint j = 0; j < FN; j++)
            acc[i][j] = coopmat<float, gl_ScopeSubgroup, 16, 16, gl_MatrixUseAccumulator>(0.0);

    // 16-byte loads need rows (and batch offsets) in multiples of 4 elements and whole blocks in range.
    const bool vec_a = (p.lda & 3u) == 0u && (aoff & 3u) == 0u && m0 + BM <= M;
    const bool vec_b = (p.ldb & 3u) == 0u && (boff & 3u) == 0u && n0 + BN <= N;
    for (uint k0 = 0; k0 < K; k0 += BK) {
        // Stage the slices, the contiguous index of each operand fastest (coalesced reads): 16-byte loads
        // where the slice lies inside the matrix and rows are 16-byte aligned, else bounds-checked scalars.
        bool full_k = k0 + BK <= K;
        if (vec_a && full_k) {
            for (uint e = tid; e < BM * BK / 4u; e += THREADS) {
                if (A_ROWMAJOR_K) {
                    uint kk = (e % (BK / 4u)) * 4u, mm = e / (BK / 4u);
                    vec4 v = a4[(aoff + index_a(m0 + mm, k0 + kk)) >> 2];
                    [[unroll]] for (uint i = 0; i < 4u; i++) As[mm * A_STRIDE + kk + i] = ELT(v[i]);
                } else {
                    uint mm = (e % (BM / 4u)) * 4u, kk = e / (BM / 4u);
                    vec4 v = a4[(aoff + index_a(m0 + mm, k0 + kk)) >> 2];
                    [[unroll]] for (uint i = 0; i < 4u; i++) As[(mm + i) * A_STRIDE + kk] = ELT(v[i]);
                }
            }
        } else {
            for (uint e = tid; e < BM * BK; e += THREADS) {
                uint kk = A_ROWMAJOR_K ? e % BK : e / BM;
                uint mm = A_ROWMAJOR_K ? e / BK : e % BM;
                uint m = m0 + mm, k = k0 + kk;
                As[mm * A_STRIDE + kk] = ELT((m < M && k < K) ? a[aoff + index_a(m, k)] : 0.0);
            }
        }
        if (vec_b && full_k) {
            for (uint e = tid; e < BK * BN / 4u; e += THREADS) {
                if (B_ROWMAJOR_N) {
                    uint nn = (e % (BN / 4u)) * 4u, kk = e / (BN / 4u);
                    vec4 v = load_b4(boff + index_b(k0 + kk, n0 + nn));
                    [[unroll]] for (uint i = 0; i < 4u; i++) Bs[kk * B_STRIDE + nn + i] = ELT(v[i]);
                } else {
                    uint kk = (e % (BK / 4u)) * 4u, nn = e / (BK / 4u);
                    vec4 v = load_b4(boff + index_b(k0 + kk, n0 + nn));
                    [[unroll]] for (uint i = 0; i < 4u; i++) Bs[(kk + i) * B_STRIDE + nn] = ELT(v[i]);
                }
            }
        } else {
            for (uint e = tid; e < BK * BN; e += THREADS) {
                uint kk = B_ROWMAJOR_N ? e / BN : e % BK;
                uint nn = B_ROWMAJOR_N ? e % BN : e / BK;
                uint n = n0 + nn, k = k0 + kk;
                Bs[kk * B_STRIDE + nn] = ELT((n < N && k < K) ? load_b(boff + index_b(k, n)) : 0.0);
            }
        }
        barrier();
        [[unroll]] for (uint kk = 0; kk < BK; kk += 16u) {
            coopmat<ELT, gl_ScopeSubgroup, 16, 16, gl_MatrixUseA> fa[FM];
            coopmat<ELT, gl_ScopeSubgroup, 16, 16, gl_MatrixUseB> fb[FN];
            [[unroll]] for (uint i = 0; i < FM; i++)
                coopMatLoad(fa[i], As, (wm * WM + i * 16u) * A_STRIDE + kk, A_STRIDE,
                            gl_CooperativeMatrixLayoutRowMajor);
            [[unroll]] for (uint j = 0; j < FN; j++)
                coopMatLoad(fb[j], Bs, kk * B_STRIDE + wn * WN + j * 16u, B_STRIDE,
                            gl_CooperativeMatrixLayoutRowMajor);
            [[unroll]] for (uint i = 0; i < FM; i++)
                [[unroll]] for (uint j = 0; j < FN; j++) acc[i][j] = coopMatMulAdd(fa[i], fb[j], acc[i][j]);
        }
        barrier();
    }

    // Epilogue through this subgroup's scratch: 256 elements per tile, SGS lanes.
    [[unroll]] for (uint i = 0; i < FM; i++)
        [[unroll]] for (uint j = 0; j < FN; j++) {
            coopMatStore(acc[i][j], Cs, sg * 256u, 16u, gl_CooperativeMatrixLayoutRowMajor);
            subgroupBarrier();
            for (uint e = lane; e < 256u; e += SGS) {
                uint m = m0 + wm * WM + i * 16u + e / 16u, n = n0 + wn * WN + j * 16u + e % 16u;
                if (m < M && n < N) store_c(coff, m, n, Cs[sg * 256u + e]);
            }
            subgroupBarrier();
        }
}
