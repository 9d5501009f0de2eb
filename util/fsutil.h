/* File helpers shared by every module (libc only): atomic writes, whole-file reads, mkdir -p.
 * Every function returns 0 on success or -1 with a message in err (naming the file and the cause). */
#ifndef VKFT_FSUTIL_H
#define VKFT_FSUTIL_H
#include <stddef.h>
#include <stdio.h>

#define VKFT_ERR_LEN 512

/* An output file written to PATH.tmp.PID and renamed over PATH only on commit, so a crash or an
 * error never leaves a half-written file where the user's file was. */
typedef struct {
    FILE *f;
    char path[4096];
    char tmp[4096 + 32];
} vkft_atomic_file;

int vkft_atomic_open(vkft_atomic_file *af, const char *path, char *err, size_t errlen);
/* Flushes, fsyncs, renames over the final path and fsyncs the folder. Closes af either way. */
int vkft_atomic_commit(vkft_atomic_file *af, char *err, size_t errlen);
/* Closes and removes the temporary file; the final path is left untouched. */
void vkft_atomic_abort(vkft_atomic_file *af);

/* Writes n bytes atomically (open + write + commit). */
int vkft_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* Reads a whole file into a malloc'd buffer (NUL-terminated; *n excludes the NUL). */
int vkft_read_file(const char *path, char **data, size_t *n, char *err, size_t errlen);

/* mkdir -p; existing folders are fine. */
int vkft_mkdirs(const char *path, char *err, size_t errlen);

int vkft_file_exists(const char *path);

/* Formats a message into err (errlen bytes) and returns -1: `return vkft_fail(err, errlen, ...)`. */
int vkft_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif
