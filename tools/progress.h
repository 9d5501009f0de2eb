/* A progress bar the caller owns (no global state): step/total, rate with units, ETA, and free text
 * (a loss, a count). On a terminal it redraws one line in place with \r at most 10 times a second; when
 * the output is not a terminal (CI logs, pipes) it prints a plain line every `plain_every` seconds
 * (default 10) and at the end. VKFT_PROGRESS=0 in the environment silences it; VKFT_PROGRESS=1 forces
 * the terminal style. */
#ifndef VKFT_TOOLS_PROGRESS_H
#define VKFT_TOOLS_PROGRESS_H
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *out;      /* default stderr */
    char label[48]; /* printed first, e.g. "dedup" or "train" */
    char unit[16];  /* unit of done/total after scaling, e.g. "MB", "steps" */
    double scale;   /* done and total are divided by this for display (1e6 for bytes -> MB) */
    uint64_t total; /* 0: unknown (no bar, no ETA) */
    int tty, enabled, width;
    double plain_every; /* seconds between plain lines when not a terminal */
    double t0, last;    /* start and last draw (seconds) */
    int drawn, last_len;
} vkft_progress;

/* total may be 0 (unknown). unit/scale: what done counts, e.g. ("MB", 1e6) for bytes. */
void vkft_progress_init(vkft_progress *p, const char *label, uint64_t total, const char *unit, double scale);
/* Updates; text (may be NULL) is printed after the numbers ("loss 2.31"). Cheap when nothing is
 * drawn, so it may be called per item. */
void vkft_progress_update(vkft_progress *p, uint64_t done, const char *text);
/* Final line (always printed when enabled), ends with a newline. */
void vkft_progress_finish(vkft_progress *p, uint64_t done, const char *text);
/* Formats seconds as H:MM:SS or M:SS into buf. */
void vkft_format_duration(double s, char *buf, size_t n);
#endif
