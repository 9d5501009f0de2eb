/* Rotary position embedding (RoPE) in the Hugging Face "rotate_half" convention (pairs i and i + R/2),
 * with rope_theta, linear position scaling and position ids per token (so padded batches and KV-cache
 * offsets work), forward and backward (the inverse rotation), on [B, T, H, D] fp32 activations.
 * For q and k with different head counts (grouped-query attention), call once for each. */
#ifndef VKFT_OPS_ROPE_H
#define VKFT_OPS_ROPE_H
#include "runtime/runtime.h"

/* Fills inv_freq[rot_dim / 2] = 1 / theta^(2i / rot_dim), computed in fp32 as Hugging Face does; upload it
 * once at setup (it depends only on the model's config). */
void vkft_rope_inv_freq(float *inv_freq, uint32_t rot_dim, float theta);
/* y = rope(x) with angle (pos[b*T + t] / scaling_factor) * inv_freq[i]; pos is int32 [B*T]; rot_dim (even,
 * <= D; D for full rotary) dims are rotated, the rest copied. x and y may be the same buffer. */
int vkft_rope_forward(vkft_recorder *rec, vkft_buf x, vkft_buf y, vkft_buf pos, vkft_buf inv_freq, uint32_t B,
                      uint32_t T, uint32_t H, uint32_t D, uint32_t rot_dim, float scaling_factor);
/* dx = rope^-1(dy) (the transpose of the rotation). dy and dx may be the same buffer. */
int vkft_rope_backward(vkft_recorder *rec, vkft_buf dy, vkft_buf dx, vkft_buf pos, vkft_buf inv_freq,
                       uint32_t B, uint32_t T, uint32_t H, uint32_t D, uint32_t rot_dim,
                       float scaling_factor);
/* q [B, T, Hq, D] and k [B, T, Hkv, D] (grouped-query attention: Hkv divides Hq) rotated in place, with the
 * same positions: two dispatches, no barrier between them. */
int vkft_rope_qk_forward(vkft_recorder *rec, vkft_buf q, vkft_buf k, vkft_buf pos, vkft_buf inv_freq,
                         uint32_t B, uint32_t T, uint32_t Hq, uint32_t Hkv, uint32_t D, uint32_t rot_dim,
                         float scaling_factor);
/* dq and dk rotated back in place. */
int vkft_rope_qk_backward(vkft_recorder *rec, vkft_buf dq, vkft_buf dk, vkft_buf pos, vkft_buf inv_freq,
                          uint32_t B, uint32_t T, uint32_t Hq, uint32_t Hkv, uint32_t D, uint32_t rot_dim,
                          float scaling_factor);
/* The kernel definitions: "rope_forward", "rope_backward" (and "_vec4" forms: rot_dim % 8 == 0, D % 4 == 0).
 */
const vkft_kernel_def *vkft_rope_kernel(const char *name);
#endif
