/* Helpers for tests that run on the Vulkan device (linked only into GPU tests, not the data tests). */
#ifndef VKFT_TEST_GPU_H
#define VKFT_TEST_GPU_H
#include <stddef.h>

#include "runtime/runtime.h"
#include "tests/test_util.h"

/* Opens the default device with the options CTest sets (VKFT_VALIDATION=1, a private cache folder).
 * Fails the test (and returns NULL) if that is impossible. */
vkft_ctx *test_open_ctx(test_state *t);
/* Checks that the context saw no validation messages, then destroys it. */
void test_close_ctx(test_state *t, vkft_ctx *ctx);

/* Allocates a buffer of n floats from the default arena and uploads data (if not NULL). */
vkft_buf test_buf_f32(test_state *t, vkft_ctx *ctx, const float *data, size_t n);
/* Downloads n floats into a malloc'd array. */
float *test_download_f32(test_state *t, vkft_ctx *ctx, vkft_buf b, size_t n);

/* Runs `/usr/bin/python3 $VKFT_SOURCE_DIR/tests/reference/SCRIPT ARGS` (the PyTorch reference);
 * returns its exit status. */
int test_run_reference(const char *script, const char *args);
/* Raw little-endian fp32 files, the exchange format with the reference scripts. */
int test_write_f32(const char *path, const float *x, size_t n);
float *test_read_f32(const char *path, size_t *n);
/* A fresh temporary folder (mkdtemp under $TMPDIR or /tmp); the caller may leave it. */
const char *test_tmpdir(char *buf, size_t len);
#endif
