// Shared by the matmul shaders (matmul.comp, matmul_tiled.comp, matmul_coopmat.comp):
// the push-constant block (mirrored by push_matmul in model/ops_matmul.c), the bindings, the
// element loads of A (fp32) and B (fp32, or fp16/bf16 packed two per 32-bit word) and the epilogue.
//
// FORM (specialization constant 1) picks the product, all row-major:
//   0 NN: C[M,N] = A[M,K] . B[K,N]      A[m*lda + k], B[k*ldb + n]
//   1 NT: C[M,N] = A[M,K] . B[N,K]^T    A[m*lda + k], B[n*ldb + k]
//   2 TN: C[M,N] = A[K,M]^T . B[K,N]    A[k*lda + m], B[k*ldb + n]
// Epilogue: C = alpha * (A.B) + bias[n] (if FLAG_BIAS) + beta * C (if FLAG_BETA, else C is not read).
// Batches are gl_WorkGroupID.z, stride_* elements apart (0: the same matrix for every batch item).

layout(constant_id = 1) const uint FORM = 0;
#define FORM_NN 0u
#define FORM_NT 1u
#define FORM_TN 2u
#define A_ROWMAJOR_K (FORM != FORM_TN) // A's k index is contiguous
#define B_ROWMAJOR_N (FORM != FORM_NT) // B's n index is contiguous

#define FLAG_BIAS 1u
#define FLAG_BETA 2u
// For attention's causal score blocks (only matmul.comp, the CPU kernel, acts on it; the others compute
// everything): NT may leave blocks of C wholly above the diagonal unwritten (the caller ignores them);
// NN and TN may skip the k where A is zero (A[m, k] = 0 for k > m; TN: A[k, m] = 0 for m > k).
#define FLAG_CAUSAL 4u

layout(push_constant) uniform Push {
    uint M, N, K;
    uint lda, ldb, ldc;
    uint stride_a, stride_b, stride_c;
    uint flags;
    float alpha, beta;
} p;

layout(binding = 0) readonly buffer BufA { float a[]; };
layout(binding = 0) readonly buffer BufA4 { vec4 a4[]; };
#if defined(B_F16) || defined(B_BF16)
// Two 16-bit values per word (little-endian: element 2i in the low half), read without any 16-bit
// device feature.
layout(binding = 1) readonly buffer BufB { uint bw[]; };
layout(binding = 1) readonly buffer BufB2 { uvec2 bw2[]; };
#else
layout(binding = 1) readonly buffer BufB { float b[]; };
layout(binding = 1) readonly buffer BufB4 { vec4 b4[]; };
#endif
layout(binding = 2) buffer BufC { float c[]; };
layout(binding = 3) readonly buffer BufBias { float bias[]; };

#if defined(B_BF16)
vec2 unpack_b2(uint w) { return vec2(uintBitsToFloat(w << 16), uintBitsToFloat(w & 0xffff0000u)); }
#elif defined(B_F16)
vec2 unpack_b2(uint w) { return unpackHalf2x16(w); }
#endif

// One element of B at element index i (from the binding's start).
float load_b(uint i) {
#if defined(B_F16) || defined(B_BF16)
    vec2 v = unpack_b2(bw[i >> 1]);
    return (i & 1u) != 0u ? v.y : v.x;
#else
    return b[i];
#endif
}

// Four elements of B at i, i+1, i+2, i+3 (i a multiple of 4).
vec4 load_b4(uint i) {
#if defined(B_F16) || defined(B_BF16)
    uvec2 w = bw2[i >> 2];
    return vec4(unpack_b2(w.x), unpack_b2(w.y));
#else
    return b4[i >> 2];
#endif
}

// Element offsets of A(m, k) and B(k, n) for the form.
uint index_a(uint m, uint k) { return A_ROWMAJOR_K ? m * p.lda + k : k * p.lda + m; }
uint index_b(uint k, uint n) { return B_ROWMAJOR_N ? k * p.ldb + n : n * p.ldb + k; }

// Writes one result element with the epilogue.
void store_c(uint coff, uint m, uint n, float acc) {
    float v = p.alpha * acc;
    if ((p.flags & FLAG_BIAS) != 0u) v += bias[n];
    uint i = coff + m * p.ldc + n;
    if ((p.flags & FLAG_BETA) != 0u) v += p.beta * c[i];
    c[i] = v;
}
