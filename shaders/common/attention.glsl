// Shared by the attention kernels (attention_forward.comp, attention_backward_dq.comp,
// attention_backward_dkdv.comp); the launchers are in model/ops_attention.c.
//
// Layouts (row-major fp32): q, o, dq, dO [B, T, H, D]; k, v, dk, dv [B, T, Hkv, D]; lse, delta [B, H, T].
// Query head h reads kv head h / (H / Hkv). Key j is visible to query i when j < len(b) and, if causal,
// j <= i; query rows i >= len(b) are padding (zero output, zero gradient, lse = -inf).
//
// Each invocation owns one row (a query row in the forward and dQ kernels, a key row in the dK/dV
// kernel) and keeps it in registers; the rows it meets in the loop (keys, or queries) are the same for
// the whole workgroup, so their loads are uniform: one scalar load broadcast to every lane on lavapipe,
// one broadcast from L1 on a GPU. No shared memory, no barriers.
#include "vkft.glsl"

layout(constant_id = 1) const uint D = 64;  // head dim: exact, register arrays are D long
layout(constant_id = 2) const uint BK = 16; // forward: keys per online-softmax step

layout(push_constant) uniform Push {
    uint B, T, H, Hkv;
    uint has_lengths; // 1: binding "lengths" holds len(b); 0: len = T
    uint causal;
    float scale;
} p;

#define ATTN_NEG_INF uintBitsToFloat(0xff800000u)
// The running maximum starts finite so that exp(m_old - m_new) is never exp(-inf + inf).
#define ATTN_M_INIT (-1.0e30)
// Scores below this are masked ones (real scores are far above it).
#define ATTN_MASKED (-1.0e29)

uint attn_len(uint b, uint stored) {
    return p.has_lengths != 0 ? min(stored, p.T) : p.T;
}
