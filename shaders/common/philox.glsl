// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based
// generator, so a random number is a pure function of (key, counter). tests/ref/dropout_ref.c holds the
// same function in C, checked against the published known-answer vectors.
const uint PHILOX_M0 = 0xD2511F53u, PHILOX_M1 = 0xCD9E8D57u;
const uint PHILOX_W0 = 0x9E3779B9u, PHILOX_W1 = 0xBB67AE85u;

uvec4 philox4x32_round(uvec4 c, uvec2 k) {
    uint hi0, lo0, hi1, lo1;
    umulExtended(PHILOX_M0, c.x, hi0, lo0);
    umulExtended(PHILOX_M1, c.z, hi1, lo1);
    return uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
}

uvec4 philox4x32_10(uvec4 c, uvec2 k) {
    for (int r = 0; r < 10; r++) {
        if (r > 0) k += uvec2(PHILOX_W0, PHILOX_W1);
        c = philox4x32_round(c, k);
    }
    return c;
}

// A uniform float in [0, 1) from the top 24 bits of a 32-bit word (exact in fp32).
float philox_uniform(uint w) { return float(w >> 8) * (1.0 / 16777216.0); }
