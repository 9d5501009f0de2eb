#include "model/dtype.h"

#include <string.h>

size_t vkft_dtype_size(vkft_dtype t) { return t == VKFT_F32 ? 4 : 2; }

const char *vkft_dtype_name(vkft_dtype t) {
    switch (t) {
    case VKFT_F32: return "F32";
    case VKFT_F16: return "F16";
    case VKFT_BF16: return "BF16";
    }
    return "?";
}

int vkft_dtype_parse(const char *name, vkft_dtype *out) {
    if (!strcmp(name, "F32")) *out = VKFT_F32;
    else if (!strcmp(name, "F16")) *out = VKFT_F16;
    else if (!strcmp(name, "BF16")) *out = VKFT_BF16;
    else return -1;
    return 0;
}

static uint32_t bits_of(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float float_of(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float vkft_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f) return float_of(sign | 0x7f800000u | (mant << 13)); /* inf / NaN */
    if (exp == 0) {
        if (mant == 0) return float_of(sign);
        /* subnormal: value = mant * 2^-24 */
        float v = (float)mant * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return float_of(sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t vkft_f32_to_f16(float f) {
    uint32_t u = bits_of(f), sign = (u >> 16) & 0x8000;
    uint32_t exp = (u >> 23) & 0xff, mant = u & 0x7fffff;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00); /* overflow: inf */
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign; /* underflow: zero */
        mant |= 0x800000;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++; /* may carry into the exponent: correct */
    return (uint16_t)half;
}

float vkft_bf16_to_f32(uint16_t h) { return float_of((uint32_t)h << 16); }

uint16_t vkft_f32_to_bf16(float f) {
    uint32_t u = bits_of(f);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffff)) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

void vkft_to_f32(const void *src, vkft_dtype from, float *dst, size_t n) {
    const uint16_t *h = src;
    switch (from) {
    case VKFT_F32: memcpy(dst, src, n * 4); break;
    case VKFT_F16:
        for (size_t i = 0; i < n; i++) dst[i] = vkft_f16_to_f32(h[i]);
        break;
    case VKFT_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = vkft_bf16_to_f32(h[i]);
        break;
    }
}

void vkft_from_f32(const float *src, vkft_dtype to, void *dst, size_t n) {
    uint16_t *h = dst;
    switch (to) {
    case VKFT_F32: memcpy(dst, src, n * 4); break;
    case VKFT_F16:
        for (size_t i = 0; i < n; i++) h[i] = vkft_f32_to_f16(src[i]);
        break;
    case VKFT_BF16:
        for (size_t i = 0; i < n; i++) h[i] = vkft_f32_to_bf16(src[i]);
        break;
    }
}
