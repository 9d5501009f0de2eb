/* Just enough SPIR-V reflection to check a kernel's push-constant size against its C struct and to
 * build its descriptor-set layout: storage buffers of set 0 and the push-constant block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

enum {
    OpDecorate = 71,
    OpMemberDecorate = 72,
    OpTypeInt = 21,
    OpTypeFloat = 22,
    OpTypeVector = 23,
    OpTypeMatrix = 24,
    OpTypeImage = 25,
    OpTypeSampledImage = 27,
    OpTypeArray = 28,
    OpTypeStruct = 30,
    OpTypePointer = 32,
    OpConstant = 43,
    OpVariable = 59,
    OpExecutionModeId = 331,
    OpExecutionMode = 16,
    DecorationBinding = 33,
    DecorationDescriptorSet = 34,
    DecorationOffset = 35,
    DecorationSpecId = 1,
    StorageClassUniformConstant = 0,
    StorageClassPushConstant = 9,
    StorageClassStorageBuffer = 12,
    StorageClassUniform = 2,
    ExecutionModeLocalSizeId = 38,
    DimBuffer = 5,
};

typedef struct {
    uint16_t op;
    uint32_t a[4]; /* first operands */
    const uint32_t *words;
    uint32_t count;
} type_info;

static uint32_t type_size(const uint32_t *code, uint32_t bound, uint32_t **defs, uint32_t **offsets,
                          uint32_t id, int depth) {
    if (id >= bound || !defs[id] || depth > 16) return 0;
    const uint32_t *ins = defs[id];
    uint32_t op = ins[0] & 0xffff, wc = ins[0] >> 16;
    switch (op) {
    case OpTypeInt:
    case OpTypeFloat: return ins[2] / 8;
    case OpTypeVector:
    case OpTypeMatrix: return ins[3] * type_size(code, bound, defs, offsets, ins[2], depth + 1);
    case OpTypeArray: {
        const uint32_t *len = ins[3] < bound ? defs[ins[3]] : NULL;
        uint32_t n = len && (len[0] & 0xffff) == OpConstant ? len[3] : 0;
        return n * type_size(code, bound, defs, offsets, ins[2], depth + 1);
    }
    case OpTypeStruct: {
        uint32_t end = 0;
        for (uint32_t m = 0; m + 2 < wc; m++) {
            uint32_t off = offsets[id] && m < 64 ? offsets[id][m] : 0;
            uint32_t sz = type_size(code, bound, defs, offsets, ins[2 + m], depth + 1);
            if (off + sz > end) end = off + sz;
        }
        return end;
    }
    default: return 0;
    }
}

int vkft_spirv_reflect(const uint32_t *code, size_t bytes, vkft_spirv_info *info, char *err, size_t errlen) {
    memset(info, 0, sizeof *info);
    size_t n = bytes / 4;
    if (n < 5 || code[0] != 0x07230203) {
        snprintf(err, errlen, "not a SPIR-V module (bad magic)");
        return -1;
    }
    uint32_t bound = code[3];
    uint32_t **defs = calloc(bound, sizeof *defs);         /* id -> defining instruction */
    uint32_t **offsets = calloc(bound, sizeof *offsets);   /* struct id -> member offsets */
    int32_t *binding = malloc(bound * sizeof *binding);    /* variable id -> binding */
    int32_t *set = malloc(bound * sizeof *set);
    if (!defs || !offsets || !binding || !set) {
        free(defs), free(offsets), free(binding), free(set);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memset(binding, 0xff, bound * sizeof *binding);
    memset(set, 0, bound * sizeof *set);
    int rc = 0;
    for (size_t i = 5; i < n;) {
        uint32_t wc = code[i] >> 16, op = code[i] & 0xffff;
        if (wc == 0 || i + wc > n) {
            snprintf(err, errlen, "malformed SPIR-V (instruction at word %zu)", i);
            rc = -1;
            break;
        }
        const uint32_t *ins = code + i;
        switch (op) {
        case OpTypeInt:
        case OpTypeFloat:
        case OpTypeVector:
        case OpTypeMatrix:
        case OpTypeArray:
        case OpTypeStruct:
        case OpTypeImage:
        case OpTypeSampledImage:
        case OpTypePointer:
            if (ins[1] < bound) defs[ins[1]] = (uint32_t *)ins;
            break;
        case OpConstant:
        case OpVariable:
            if (ins[2] < bound) defs[ins[2]] = (uint32_t *)ins;
            break;
        case OpMemberDecorate:
            if (ins[3] == DecorationOffset && ins[1] < bound && ins[2] < 64) {
                if (!offsets[ins[1]]) offsets[ins[1]] = calloc(64, sizeof(uint32_t));
                offsets[ins[1]][ins[2]] = ins[4];
            }
            break;
        case OpDecorate:
            if (ins[1] < bound && ins[2] == DecorationBinding) binding[ins[1]] = (int32_t)ins[3];
            if (ins[1] < bound && ins[2] == DecorationDescriptorSet) set[ins[1]] = (int32_t)ins[3];
            break;
        case OpExecutionModeId:
            if (ins[2] == ExecutionModeLocalSizeId) info->uses_local_size_id = 1;
            break;
        default: break;
        }
        i += wc;
    }
    for (uint32_t id = 0; rc == 0 && id < bound; id++) {
        const uint32_t *v = defs[id];
        if (!v || (v[0] & 0xffff) != OpVariable) continue;
        uint32_t storage = v[3];
        const uint32_t *ptr = v[1] < bound ? defs[v[1]] : NULL;
        if (!ptr || (ptr[0] & 0xffff) != OpTypePointer) continue;
        if (storage == StorageClassPushConstant) {
            info->push_size = type_size(code, bound, defs, offsets, ptr[3], 0);
        } else if ((storage == StorageClassStorageBuffer || storage == StorageClassUniform) && binding[id] >= 0) {
            if (set[id] != 0) {
                snprintf(err, errlen, "descriptor set %d is used; kernels bind everything in set 0", set[id]);
                rc = -1;
            } else if ((uint32_t)binding[id] + 1 > info->binding_count) {
                info->binding_count = (uint32_t)binding[id] + 1;
            }
        } else if (storage == StorageClassUniformConstant && binding[id] >= 0) {
            /* samplerBuffer: a sampled image of Dim Buffer, Sampled 1 (a storage image is not supported) */
            const uint32_t *t = ptr[3] < bound ? defs[ptr[3]] : NULL;
            if (t && (t[0] & 0xffff) == OpTypeSampledImage) t = t[2] < bound ? defs[t[2]] : NULL;
            if (!t || (t[0] & 0xffff) != OpTypeImage || t[3] != DimBuffer || t[7] != 1 || binding[id] >= 32) {
                snprintf(err, errlen, "binding %d is neither a storage buffer nor a samplerBuffer", binding[id]);
                rc = -1;
            } else if (set[id] != 0) {
                snprintf(err, errlen, "descriptor set %d is used; kernels bind everything in set 0", set[id]);
                rc = -1;
            } else {
                const uint32_t *sampled = t[2] < bound ? defs[t[2]] : NULL;
                info->texel_mask |= 1u << binding[id];
                if (sampled && (sampled[0] & 0xffff) == OpTypeInt) info->texel_uint_mask |= 1u << binding[id];
                if ((uint32_t)binding[id] + 1 > info->binding_count) info->binding_count = (uint32_t)binding[id] + 1;
            }
        }
    }
    for (uint32_t id = 0; id < bound; id++) free(offsets[id]);
    free(defs), free(offsets), free(binding), free(set);
    return rc;
}
