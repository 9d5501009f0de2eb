#include "util/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vkft_fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int vkft_atomic_open(vkft_atomic_file *af, const char *path, char *err, size_t errlen) {
    memset(af, 0, sizeof *af);
    if (strlen(path) >= sizeof af->path) return vkft_fail(err, errlen, "%s: path too long", path);
    snprintf(af->path, sizeof af->path, "%s", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    af->f = fopen(af->tmp, "wb");
    if (!af->f) return vkft_fail(err, errlen, "cannot write %s: %s", af->tmp, strerror(errno));
    return 0;
}

static void fsync_parent(const char *path) {
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int vkft_atomic_commit(vkft_atomic_file *af, char *err, size_t errlen) {
    if (!af->f) return vkft_fail(err, errlen, "%s: not open", af->path);
    int bad = ferror(af->f) || fflush(af->f) != 0 || fsync(fileno(af->f)) != 0;
    int saved = errno;
    if (fclose(af->f) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    af->f = NULL;
    if (bad) {
        unlink(af->tmp);
        return vkft_fail(err, errlen, "writing %s failed: %s (is the disk full?)", af->path, strerror(saved));
    }
    if (rename(af->tmp, af->path) != 0) {
        saved = errno;
        unlink(af->tmp);
        return vkft_fail(err, errlen, "cannot rename %s to %s: %s", af->tmp, af->path, strerror(saved));
    }
    fsync_parent(af->path);
    return 0;
}

void vkft_atomic_abort(vkft_atomic_file *af) {
    if (af->f) fclose(af->f);
    af->f = NULL;
    if (af->tmp[0]) unlink(af->tmp);
}

int vkft_write_file_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen) {
    vkft_atomic_file af;
    if (vkft_atomic_open(&af, path, err, errlen)) return -1;
    if (n && fwrite(data, 1, n, af.f) != n) {
        int saved = errno;
        vkft_atomic_abort(&af);
        return vkft_fail(err, errlen, "writing %s failed: %s", path, strerror(saved));
    }
    return vkft_atomic_commit(&af, err, errlen);
}

int vkft_read_file(const char *path, char **data, size_t *n, char *err, size_t errlen) {
    *data = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return vkft_fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) {
            fclose(f);
            return vkft_fail(err, errlen, "%s: out of memory", path);
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap) break;
        cap *= 2;
        char *grown = realloc(buf, cap + 1);
        if (!grown) free(buf);
        buf = grown;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return vkft_fail(err, errlen, "reading %s failed", path);
    }
    buf[len] = 0;
    *data = buf;
    *n = len;
    return 0;
}

int vkft_mkdirs(const char *path, char *err, size_t errlen) {
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return vkft_fail(err, errlen, "%s: path too long", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return vkft_fail(err, errlen, "cannot create folder %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return vkft_fail(err, errlen, "cannot create folder %s: %s", buf, strerror(errno));
    return 0;
}

int vkft_file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}
