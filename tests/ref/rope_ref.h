/* CPU reference of shaders/rope.comp (rotary position embedding, rotate_half convention). */
#ifndef VKFT_ROPE_REF_H
#define VKFT_ROPE_REF_H
#include <stddef.h>
#include <stdint.h>

/* The angle of pair i at position pos is formed in fp32 exactly as the shader and Hugging Face form it,
 * ((float)pos * (1/factor)) * inv_freq[i]; cos and sin are then taken in double. sign +1: forward,
 * -1: backward (the inverse rotation). x: [B, T, H, D]; pos: [B*T]; inv_freq: [rot_dim / 2]. */
void rope_ref(const double *x, double *y, const int32_t *pos, const float *inv_freq, size_t B, size_t T,
              size_t H, size_t D, size_t rot_dim, float scaling_factor, int sign);
#endif
