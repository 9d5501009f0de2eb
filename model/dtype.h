/* Element types of tensors on disk and on the device, and conversions between them. */
#ifndef VKFT_DTYPE_H
#define VKFT_DTYPE_H
#include <stddef.h>
#include <stdint.h>

typedef enum { VKFT_F32, VKFT_F16, VKFT_BF16 } vkft_dtype;

size_t vkft_dtype_size(vkft_dtype t);
/* "F32", "F16", "BF16": the safetensors names. */
const char *vkft_dtype_name(vkft_dtype t);
/* Parses a safetensors dtype name; returns 0, or -1 for a name vkft does not read. */
int vkft_dtype_parse(const char *name, vkft_dtype *out);

float vkft_f16_to_f32(uint16_t h);
uint16_t vkft_f32_to_f16(float f);   /* round to nearest even */
float vkft_bf16_to_f32(uint16_t h);
uint16_t vkft_f32_to_bf16(float f);  /* round to nearest even; NaN stays NaN */
/* Converts n elements of type `from` to fp32. */
void vkft_to_f32(const void *src, vkft_dtype from, float *dst, size_t n);
/* Converts n fp32 elements to type `to`. */
void vkft_from_f32(const float *src, vkft_dtype to, void *dst, size_t n);
#endif
