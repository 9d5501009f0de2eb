#include "data/u64map.h"

#include <stdlib.h>
#include <string.h>

int vkft_u64map_init(vkft_u64map *m, size_t expected) {
    size_t cap = 64;
    while (cap < expected * 2) cap *= 2;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->vals) {
        vkft_u64map_free(m);
        return -1;
    }
    return 0;
}

void vkft_u64map_free(vkft_u64map *m) {
    free(m->keys);
    free(m->vals);
    m->keys = NULL;
    m->vals = NULL;
    m->cap = m->n = 0;
}

uint32_t *vkft_u64map_get(const vkft_u64map *m, uint64_t key) {
    if (!key) key = 1;
    size_t mask = m->cap - 1, i = (size_t)(key ^ (key >> 29)) & mask;
    while (m->keys[i]) {
        if (m->keys[i] == key) return &m->vals[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

static int grow(vkft_u64map *m) {
    vkft_u64map b;
    if (vkft_u64map_init(&b, m->cap)) return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            int ins;
            vkft_u64map_put(&b, m->keys[i], m->vals[i], &ins);
        }
    vkft_u64map_free(m);
    *m = b;
    return 0;
}

uint32_t *vkft_u64map_put(vkft_u64map *m, uint64_t key, uint32_t val, int *inserted) {
    if (!key) key = 1;
    if ((m->n + 1) * 2 > m->cap && grow(m)) return NULL;
    size_t mask = m->cap - 1, i = (size_t)(key ^ (key >> 29)) & mask;
    while (m->keys[i]) {
        if (m->keys[i] == key) {
            *inserted = 0;
            return &m->vals[i];
        }
        i = (i + 1) & mask;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    *inserted = 1;
    return &m->vals[i];
}

size_t vkft_u64map_bytes(const vkft_u64map *m) { return m->cap * (sizeof *m->keys + sizeof *m->vals); }

int vkft_u32map_init(vkft_u32map *m, size_t expected) {
    size_t cap = 64;
    while (cap * 7 < expected * 10) cap *= 2;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    m->cap = cap;
    m->n = 0;
    if (!m->keys || !m->vals) {
        vkft_u32map_free(m);
        return -1;
    }
    return 0;
}

void vkft_u32map_free(vkft_u32map *m) {
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->n = 0;
}

static size_t slot32(uint32_t key, size_t mask) { return (size_t)((key * 0x9e3779b1u) ^ (key >> 15)) & mask; }

uint32_t *vkft_u32map_get(const vkft_u32map *m, uint32_t key) {
    if (!key) key = 1;
    size_t mask = m->cap - 1, i = slot32(key, mask);
    while (m->keys[i]) {
        if (m->keys[i] == key) return &m->vals[i];
        i = (i + 1) & mask;
    }
    return NULL;
}

uint32_t *vkft_u32map_put(vkft_u32map *m, uint32_t key, uint32_t val, int *inserted) {
    if (!key) key = 1;
    if ((m->n + 1) * 10 > m->cap * 7) {
        vkft_u32map b;
        if (vkft_u32map_init(&b, m->cap)) return NULL;
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                int ins;
                vkft_u32map_put(&b, m->keys[i], m->vals[i], &ins);
            }
        vkft_u32map_free(m);
        *m = b;
    }
    size_t mask = m->cap - 1, i = slot32(key, mask);
    while (m->keys[i]) {
        if (m->keys[i] == key) {
            *inserted = 0;
            return &m->vals[i];
        }
        i = (i + 1) & mask;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    *inserted = 1;
    return &m->vals[i];
}

size_t vkft_u32map_bytes(const vkft_u32map *m) { return m->cap * (sizeof *m->keys + sizeof *m->vals); }
