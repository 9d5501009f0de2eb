/* safetensors: write and read back, exchange with PyTorch both ways, sharded checkpoints, fp16/bf16
 * conversions, and every malformed-file error naming the file and the tensor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"
#include "tests/test_gpu.h"
#include "util/fsutil.h"

/* The reference tensors (same formulas as tests/reference/safetensors_io.py). */
static float ref_a(int i) { return i * 0.5f - 3; }
static float ref_b(int i) { return i / 8.0f - 0.25f; }
static float ref_c(int i) { return i * 1.5f + 0.125f; }

static void write_reference(test_state *t, const char *path) {
    float a[15];
    uint16_t b[7], c[12];
    for (int i = 0; i < 15; i++) a[i] = ref_a(i);
    for (int i = 0; i < 7; i++) b[i] = vkft_f32_to_f16(ref_b(i));
    for (int i = 0; i < 12; i++) c[i] = vkft_f32_to_bf16(ref_c(i));
    vkft_st_write_tensor w[] = {
        {"z.c", VKFT_BF16, 3, {2, 2, 3}, c},
        {"layer.a", VKFT_F32, 2, {3, 5}, a},
        {"layer.b", VKFT_F16, 1, {7}, b},
    };
    const char *keys[] = {"format"}, *values[] = {"pt"};
    char err[512];
    CHECK(t, vkft_st_write(path, w, 3, keys, values, 1, err, sizeof err) == 0, "write: %s", err);
}

static void check_reference(test_state *t, const vkft_safetensors *st, const char *what) {
    const vkft_st_tensor *a = vkft_st_find(st, "layer.a"), *b = vkft_st_find(st, "layer.b"),
                         *c = vkft_st_find(st, "z.c");
    if (!CHECK(t, a && b && c && st->count == 3, "%s: three tensors", what)) return;
    CHECK(t, a->dtype == VKFT_F32 && a->ndim == 2 && a->shape[0] == 3 && a->shape[1] == 5, "%s: a shape", what);
    CHECK(t, b->dtype == VKFT_F16 && b->numel == 7 && c->dtype == VKFT_BF16 && c->ndim == 3, "%s: b, c", what);
    float x[15];
    int bad = 0;
    vkft_to_f32(a->data, a->dtype, x, 15);
    for (int i = 0; i < 15; i++) bad += x[i] != ref_a(i);
    vkft_to_f32(b->data, b->dtype, x, 7);
    for (int i = 0; i < 7; i++) bad += x[i] != ref_b(i);
    vkft_to_f32(c->data, c->dtype, x, 12);
    for (int i = 0; i < 12; i++) bad += x[i] != vkft_bf16_to_f32(vkft_f32_to_bf16(ref_c(i)));
    CHECK(t, bad == 0, "%s: %d values differ", what, bad);
}

/* Writes a file with the given JSON header and data length (zero bytes), for malformed cases. */
static void write_raw(const char *path, const char *header, uint64_t claimed_len, size_t data_len) {
    FILE *f = fopen(path, "wb");
    size_t hlen = strlen(header);
    uint64_t len = claimed_len ? claimed_len : hlen;
    for (int i = 0; i < 8; i++) fputc((int)(len >> (8 * i)) & 0xff, f);
    fwrite(header, 1, hlen, f);
    for (size_t i = 0; i < data_len; i++) fputc(0, f);
    fclose(f);
}

static void expect_error(test_state *t, const char *path, const char *header, uint64_t claimed, size_t data_len,
                         const char *want1, const char *want2) {
    write_raw(path, header, claimed, data_len);
    vkft_safetensors st;
    char err[1024] = "";
    int rc = vkft_st_open(path, &st, err, sizeof err);
    CHECK(t, rc != 0 && strstr(err, path) && strstr(err, want1) && (!want2 || strstr(err, want2)),
          "malformed (%s): got '%s'", want1, err);
    printf("  error: %s\n", err);
    if (rc == 0) vkft_st_close(&st);
}

int main(void) {
    test_state t;
    test_begin(&t, "safetensors");
    char dir[256], path[1024], err[1024];
    test_tmpdir(dir, sizeof dir);

    /* fp16/bf16 conversions on edge values. */
    CHECK(&t, vkft_f16_to_f32(vkft_f32_to_f16(65504.0f)) == 65504.0f, "f16 max");
    CHECK(&t, isinf(vkft_f16_to_f32(vkft_f32_to_f16(70000.0f))), "f16 overflow is inf");
    CHECK(&t, vkft_f16_to_f32(vkft_f32_to_f16(5.9604645e-8f)) == 5.9604645e-8f, "f16 smallest subnormal");
    CHECK(&t, vkft_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00, "f16 ties to even (down)");
    CHECK(&t, vkft_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02, "f16 ties to even (up)");
    CHECK(&t, vkft_f32_to_bf16(1.0f + 1.0f / 256) == 0x3f80, "bf16 ties to even");
    CHECK(&t, isnan(vkft_bf16_to_f32(vkft_f32_to_bf16(NAN))) && isnan(vkft_f16_to_f32(vkft_f32_to_f16(NAN))),
          "NaN stays NaN");

    /* Round trip through vkft, then PyTorch reads vkft's file, then vkft reads PyTorch's. */
    snprintf(path, sizeof path, "%s/vkft.safetensors", dir);
    write_reference(&t, path);
    vkft_safetensors st;
    if (CHECK(&t, vkft_st_open(path, &st, err, sizeof err) == 0, "open: %s", err)) {
        check_reference(&t, &st, "vkft round trip");
        CHECK(&t, vkft_st_metadata(&st, "format") && !strcmp(vkft_st_metadata(&st, "format"), "pt"), "metadata");
        vkft_st_close(&st);
    }
    char args[1100];
    snprintf(args, sizeof args, "check '%s'", path);
    CHECK(&t, test_run_reference("safetensors_io.py", args) == 0, "PyTorch reads vkft's file");
    snprintf(path, sizeof path, "%s/torch.safetensors", dir);
    snprintf(args, sizeof args, "write '%s'", path);
    if (CHECK(&t, test_run_reference("safetensors_io.py", args) == 0, "PyTorch writes") &&
        CHECK(&t, vkft_st_open(path, &st, err, sizeof err) == 0, "open torch's file: %s", err)) {
        check_reference(&t, &st, "torch's file");
        vkft_st_close(&st);
    }

    /* Sharded: two files and an index. */
    char shard_dir[400];
    snprintf(shard_dir, sizeof shard_dir, "%s/sharded", dir);
    vkft_mkdirs(shard_dir, err, sizeof err);
    float one[3] = {1, 2, 3}, two[2] = {4, 5};
    vkft_st_write_tensor s1 = {"model.embed.weight", VKFT_F32, 1, {3}, one};
    vkft_st_write_tensor s2 = {"lm_head.weight", VKFT_F32, 1, {2}, two};
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", shard_dir);
    vkft_st_write(path, &s1, 1, NULL, NULL, 0, err, sizeof err);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", shard_dir);
    vkft_st_write(path, &s2, 1, NULL, NULL, 0, err, sizeof err);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", shard_dir);
    const char *index = "{\"metadata\": {\"total_size\": 20}, \"weight_map\": {"
                        "\"model.embed.weight\": \"model-00001-of-00002.safetensors\", "
                        "\"lm_head.weight\": \"model-00002-of-00002.safetensors\"}}";
    vkft_write_file_atomic(path, index, strlen(index), err, sizeof err);
    if (CHECK(&t, vkft_st_open_dir(shard_dir, &st, err, sizeof err) == 0, "sharded: %s", err)) {
        const vkft_st_tensor *e = vkft_st_find(&st, "model.embed.weight"), *h = vkft_st_find(&st, "lm_head.weight");
        CHECK(&t, st.file_count == 2 && e && h && ((const float *)h->data)[1] == 5 && e->file != h->file,
              "sharded tensors from both files");
        vkft_st_close(&st);
    }
    const char *bad_index = "{\"weight_map\": {\"model.embed.weight\": \"model-00002-of-00002.safetensors\", "
                            "\"lm_head.weight\": \"model-00002-of-00002.safetensors\"}}";
    vkft_write_file_atomic(path, bad_index, strlen(bad_index), err, sizeof err);
    CHECK(&t, vkft_st_open_dir(shard_dir, &st, err, sizeof err) != 0 && strstr(err, "model.embed.weight"),
          "index naming the wrong shard: %s", err);
    CHECK(&t, vkft_st_open_dir(dir, &st, err, sizeof err) != 0 && strstr(err, "neither model.safetensors"),
          "folder without a checkpoint: %s", err);

    /* Malformed files: each error names the file and the tensor. */
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    expect_error(&t, path, "{}", (uint64_t)1 << 40, 0, "too large", NULL);
    expect_error(&t, path, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4096, 0,
                 "truncated", NULL);
    expect_error(&t, path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 0, 8,
                 "outside the 8 bytes", "'w'");
    expect_error(&t, path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", 0, 16,
                 "shape needs 12 bytes", "'w'");
    expect_error(&t, path,
                 "{\"p\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                 " \"q\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
                 0, 12, "overlap", "'q'");
    expect_error(&t, path,
                 "{\"d\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                 " \"d\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
                 0, 8, "appears twice", "'d'");
    expect_error(&t, path, "{\"ids\": {\"dtype\": \"I64\", \"shape\": [1], \"data_offsets\": [0, 8]}}", 0, 8,
                 "dtype I64", "'ids'");
    expect_error(&t, path, "[1, 2]", 0, 0, "not a JSON object", NULL);
    expect_error(&t, path, "{\"x\": {\"dtype\": \"F32\"}}", 0, 0, "data_offsets", "'x'");
    FILE *f = fopen(path, "wb");
    fputs("abc", f);
    fclose(f);
    CHECK(&t, vkft_st_open(path, &st, err, sizeof err) != 0 && strstr(err, "truncated"), "3-byte file: %s", err);
    return test_finish(&t);
}
