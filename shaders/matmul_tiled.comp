#version 450
// Matmul for GPUs: a BM x BN block of C per workgroup, K walked in slices of BK staged through shared
// memory (16-byte global loads where aligned), each thread accumulating a TM x TN register block. Tile
// sizes are specialization constants chosen from the device's limits (model/ops_matmul.c); the workgroup
// has (BM/TM)*(BN/TN) threads.
// Thread (tx, ty) owns rows ty + i*(BM/TM) and columns tx + j*(BN/TN): neighbouring threads read
// neighbouring shared-memory words (no bank conflicts) and write neighbouring words of C.
//@variant f32
//@variant f16 -DB_F16
//@variant bf16 -DB_BF16
#extension GL_EXT_control_flow_attributes : require
#include "vkft.glsl"
#include "matmul_common.glsl"

layout(constant_id = 2) const uint BM = 64;
layout(constant_id = 3) const uint BN = 64;
layout(constant_id = 4) const uint BK = 16;
layout(constant_id = 5) const uint TM = 4;
layout(constant_id = 6) const uint TN = 4;

#define THREADS gl_WorkGroupSize.x
#define TX (BN / TN) // threads along n
#define TY (BM / TM) // threads along m
#define AS_STRIDE (BM + 4u)
#define BS_STRIDE (BN + 4u)

shared float As[BK * AS_STRIDE]; // As[k][m]
shared float Bs[BK * BS_STRIDE]; // Bs[k][n]

void main() {
    const uint tid = gl_LocalInvocationID.x;
    const uint tx = tid % TX, ty = tid / TX;
    const uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    const uint batch = gl_WorkGroupID.z;
    const uint aoff = batch * p.stride_a, boff = batch * p.stride_b, coff = batch * p.stride_c;
    const uint M = p.M, N = p.N, K = p.K;

    float acc[TM][TN];
    [[unroll]] for (uint i = 0; i < TM; i++)
        [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    // 16-byte loads need rows (and batch offsets) in multiples of 4 elements and whole blocks in range.
    const bool vec_a = (p.lda & 3u) == 0u && (aoff & 3u) == 0u && m0 + BM <= M;
    const bool vec_b = (p.ldb & 3u) == 0u && (boff & 3u) == 0u && n0 + BN <= N;
    for (uint k0 = 0; k0 < K; k0 += BK) {
        // Stage A and B, walking the contiguous index fastest so that global reads coalesce: 16-byte loads
        // where the slice lies inside the matrix and rows are 16-byte aligned, else bounds-checked scalars.
        bool full_k = k0 + BK <= K;
        if (vec_a && full_k) {
            for (uint e = tid; e < BK * BM / 4u; e += THREADS) {
                if (A_ROWMAJOR_K) {
                    uint kk = (e % (BK / 4u)) * 4u, mm = e / (BK / 4u);
                    vec4 v = a4[(aoff + index_a(m0 + mm, k0 + kk)) >> 2];
                    As[kk * AS_STRIDE + mm] = v.x;
                    As[(kk + 1u) * AS_STRIDE + mm] = v.y;
                    As[(kk + 2u) * AS_STRIDE + mm] = v.z;
                    As[(kk + 3u) * AS_STRIDE + mm] = v.w;
                } else {
                    uint mm = (e % (BM / 4u)) * 4u, kk = e / (BM / 4u);
                    vec4 v = a4[(aoff + index_a(m0 + mm, k0 + kk)) >> 2];
                    As[kk * AS_STRIDE + mm] = v.x;
                    As[kk * AS_STRIDE + mm + 1u] = v.y;
                    As[kk * AS_STRIDE + mm + 2u] = v.z;
                    As[kk * AS_STRIDE + mm + 3u] = v.w;
                }
            }
        } else {
            for (uint e = tid; e < BK * BM; e += THREADS) {
                uint kk = A_ROWMAJOR_K ? e % BK : e / BM;
                uint mm = A_ROWMAJOR_K ? e / BK : e % BM;
                uint m = m0 + mm, k = k0 + kk;
                As[kk * AS_STRIDE + mm] = (m < M && k < K) ? a[aoff + index_a(m, k)] : 0.0;
            }
        }
        if (vec_b && full_k) {
            for (uint e = tid; e < BK * BN / 4u; e += THREADS) {
                if (B_ROWMAJOR_N) {
                    uint nn = (e % (BN / 4u)) * 4u, kk = e / (BN / 4u);
                    vec4 v = load_b4(boff + index_b(k0 + kk, n0 + nn));
                    Bs[kk * BS_STRIDE + nn] = v.x;
                    Bs[kk * BS_STRIDE + nn + 1u] = v.y;
                    Bs[kk * BS_STRIDE + nn + 2u] = v.z;
                    Bs[kk * BS_STRIDE + nn + 3u] = v.w;
                } else {
                    uint kk = (e % (BK / 4u)) * 4u, nn = e / (BK / 4u);
                    vec4 v = load_b4(boff + index_b(k0 + kk, n0 + nn));
                    Bs[kk * BS_STRIDE + nn] = v.x;
                    Bs[(kk + 1u) * BS_STRIDE + nn] = v.y;
                    Bs[(kk + 2u) * BS_STRIDE + nn] = v.z;
                    Bs[(kk + 3u) * BS_STRIDE + nn] = v.w;
                }
            }
        } else {
            for (uint e = tid; e < BK * BN; e += THREADS) {
                uint kk = B_ROWMAJOR_N ? e / BN : e % BK;
                uint nn = B_ROWMAJOR_N ? e % BN : e / BK;
                uint n = n0 + nn, k = k0 + kk;
                Bs[kk * BS_STRIDE + nn] = (n < N && k < K) ? load_b(boff + index_b(k, n)) : 0.0;
            }
        }
        barrier();
        [[unroll]] for (uint kk = 0; kk < BK; kk++) {
            float av[TM], bv[TN];
            [[unroll]] for (uint i = 0; i < TM; i++) av[i] = As[kk * AS_STRIDE + ty + i * TY];
            [[unroll]] for (uint j = 0; j < TN; j++) bv[j] = Bs[kk * BS_STRIDE + tx + j * TX];
            [[unroll]] for (uint i = 0; i < TM; i++)
                [[unroll]] for (uint j = 0; j < TN; j++) acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        barrier();
    }

    // Epilogue one row at a time, shifting the accumulator rows up (see matmul.comp).
    [[dont_unroll]] for (uint i = 0; i < TM; i++) {
        uint m = m0 + ty + i * TY;
        if (m < M) {
            [[unroll]] for (uint j = 0; j < TN; j++) {
                uint n = n0 + tx + j * TX;
                if (n < N) store_c(coff, m, n, acc[0][j]);
            }
        }
        [[unroll]] for (uint r = 0; r + 1u < TM; r++)
            [[unroll]] for (uint j = 0; j < TN; j++) acc[r][j] = acc[r + 1u][j];
    }
}
