#include "tools/progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void vkft_format_duration(double s, char *buf, size_t n) {
    if (s < 0 || s > 1e8) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void vkft_progress_init(vkft_progress *p, const char *label, uint64_t total, const char *unit, double scale) {
    memset(p, 0, sizeof *p);
    p->out = stderr;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "");
    p->scale = scale > 0 ? scale : 1;
    p->total = total;
    p->tty = isatty(fileno(p->out));
    p->enabled = 1;
    p->width = 24;
    p->plain_every = 10;
    const char *e = getenv("VKFT_PROGRESS");
    if (e && !strcmp(e, "0")) p->enabled = 0;
    if (e && !strcmp(e, "1")) p->tty = 1;
    p->t0 = p->last = now();
}

static void draw(vkft_progress *p, uint64_t done, const char *text, int final) {
    double t = now(), el = t - p->t0;
    double d = (double)done / p->scale, tot = (double)p->total / p->scale;
    double rate = el > 0 ? d / el : 0;
    char line[512];
    int n = snprintf(line, sizeof line, "%s", p->label);
    if (p->total) {
        double f = (double)done / (double)p->total;
        if (f > 1) f = 1;
        if (p->tty) {
            int fill = (int)(f * p->width + 0.5);
            n += snprintf(line + n, sizeof line - (size_t)n, " [");
            for (int i = 0; i < p->width && n < (int)sizeof line - 2; i++) line[n++] = i < fill ? '#' : '.';
            n += snprintf(line + n, sizeof line - (size_t)n, "]");
        }
        n += snprintf(line + n, sizeof line - (size_t)n, " %3.0f%% %.*f/%.*f %s", f * 100, d < 100 ? 1 : 0, d,
                      tot < 100 ? 1 : 0, tot, p->unit);
    } else {
        n += snprintf(line + n, sizeof line - (size_t)n, " %.*f %s", d < 100 ? 1 : 0, d, p->unit);
    }
    if (n < (int)sizeof line && el > 0)
        n += snprintf(line + n, sizeof line - (size_t)n, ", %.*f %s/s", rate < 100 ? 2 : 0, rate, p->unit);
    char dur[32];
    if (n < (int)sizeof line) {
        if (final) {
            vkft_format_duration(el, dur, sizeof dur);
            n += snprintf(line + n, sizeof line - (size_t)n, ", %s elapsed", dur);
        } else if (p->total && rate > 0) {
            vkft_format_duration((tot - d) / rate, dur, sizeof dur);
            n += snprintf(line + n, sizeof line - (size_t)n, ", ETA %s", dur);
        }
    }
    if (text && *text && n < (int)sizeof line)
        n += snprintf(line + n, sizeof line - (size_t)n, " | %s", text);
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    if (p->tty) {
        int pad = p->last_len > n ? p->last_len - n : 0;
        fprintf(p->out, "\r%s%*s%s", line, pad, "", final ? "\n" : "");
        p->last_len = n;
    } else {
        fprintf(p->out, "%s\n", line);
    }
    fflush(p->out);
    p->last = t;
    p->drawn = 1;
}

void vkft_progress_update(vkft_progress *p, uint64_t done, const char *text) {
    if (!p->enabled) return;
    double t = now();
    double every = p->tty ? 0.1 : p->plain_every;
    if (t - p->last < every) return;
    draw(p, done, text, 0);
}

void vkft_progress_finish(vkft_progress *p, uint64_t done, const char *text) {
    if (!p->enabled) return;
    draw(p, done, text, 1);
}
