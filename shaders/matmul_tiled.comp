#version 450
// Matmul for GPUs: a BM x BN block of C per workgroup, K walked in slices of BK staged through shared
// memory, each thread accumulating a TM x TN register block. Tile sizes are specialization constants
// chosen from the device's limits (model/ops_matmul.c); the workgroup has (BM/TM)*(BN/TN) threads.
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

    for (uint k0 = 0; k0 < K; k0 += BK) {
        // Stage A and B, walking the contiguous index fastest so that global reads coalesce.
        for (uint e = tid; e < BK * BM; e += THREADS) {
            uint kk = A_ROWMAJOR_K ? e % BK : e / BM;
            uint mm = A_ROWMAJOR_K ? e / BK : e % BM;
            uint m = m0 + mm, k = k0 + kk;
            As[kk * AS_STRIDE + mm] = (m < M && k < K) ? a[aoff + index_a(m, k)] : 0.0;
        }
        for (uint e = tid; e < BK * BN; e += THREADS) {
            uint kk = B_ROWMAJOR_N ? e / BN : e % BK;
            uint nn = B_ROWMAJOR_N ? e % BN : e / BK;
            uint n = n0 + nn, k = k0 + kk;
            Bs[kk * BS_STRIDE + nn] = (n < N && k < K) ? load_b(boff + index_b(k, n)) : 0.0;
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
