/* A hash map from 64-bit keys (already well mixed: hashes) to 32-bit values, open addressing with
 * linear probing; grows by doubling at 50% load. Memory: 16 bytes per slot. Key 0 is stored as 1. */
#ifndef VKFT_DATA_U64MAP_H
#define VKFT_DATA_U64MAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n; /* cap is a power of two */
} vkft_u64map;

int vkft_u64map_init(vkft_u64map *m, size_t expected);
void vkft_u64map_free(vkft_u64map *m);
/* Returns a pointer to the value of key, or NULL when absent. */
uint32_t *vkft_u64map_get(const vkft_u64map *m, uint64_t key);
/* Inserts key with val unless present; returns a pointer to the stored value (the old one when the
 * key was there: *inserted = 0), or NULL when out of memory. */
uint32_t *vkft_u64map_put(vkft_u64map *m, uint64_t key, uint32_t val, int *inserted);
size_t vkft_u64map_bytes(const vkft_u64map *m);

/* The same for 32-bit keys, at up to 70% load: 8 bytes per slot. For hashes where a rare collision
 * is harmless (LSH band keys: a collision only adds a candidate that is verified). Key 0 is stored as 1. */
typedef struct {
    uint32_t *keys, *vals;
    size_t cap, n;
} vkft_u32map;

int vkft_u32map_init(vkft_u32map *m, size_t expected);
void vkft_u32map_free(vkft_u32map *m);
uint32_t *vkft_u32map_get(const vkft_u32map *m, uint32_t key);
uint32_t *vkft_u32map_put(vkft_u32map *m, uint32_t key, uint32_t val, int *inserted);
size_t vkft_u32map_bytes(const vkft_u32map *m);
#endif
