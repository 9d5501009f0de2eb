#include "tools/plot.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)(x))
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb/stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

typedef struct {
    unsigned char *px;
    int w, h;
} canvas;

static void set_px(canvas *c, int x, int y, const unsigned char *rgb) {
    if (x < 0 || y < 0 || x >= c->w || y >= c->h) return;
    memcpy(c->px + 3 * ((size_t)y * (size_t)c->w + (size_t)x), rgb, 3);
}

static void fill(canvas *c, int x0, int y0, int x1, int y1, const unsigned char *rgb) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) set_px(c, x, y, rgb);
}

static void line(canvas *c, int x0, int y0, int x1, int y1, const unsigned char *rgb) {
    int dx = abs(x1 - x0), sx = x0 < x1 ? 1 : -1, dy = -abs(y1 - y0), sy = y0 < y1 ? 1 : -1, e = dx + dy;
    for (;;) {
        set_px(c, x0, y0, rgb);
        set_px(c, x0, y0 + 1, rgb);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) {
            e += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            e += dx;
            y0 += sy;
        }
    }
}

/* 3x5 glyphs: five rows of three bits (4 = left column). */
static const char glyph_chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:%()/_+=,;<>";
static const unsigned char glyphs[][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7},
    {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}, {2, 5, 7, 5, 5}, {6, 5, 6, 5, 6},
    {3, 4, 4, 4, 3}, {6, 5, 5, 5, 6}, {7, 4, 6, 4, 7}, {7, 4, 6, 4, 4}, {3, 4, 5, 5, 3}, {5, 5, 7, 5, 5},
    {7, 2, 2, 2, 7}, {1, 1, 1, 5, 2}, {5, 5, 6, 5, 5}, {4, 4, 4, 4, 7}, {5, 7, 7, 5, 5}, {6, 5, 5, 5, 5},
    {2, 5, 5, 5, 2}, {6, 5, 6, 4, 4}, {2, 5, 5, 6, 3}, {6, 5, 6, 5, 5}, {3, 4, 2, 1, 6}, {7, 2, 2, 2, 2},
    {5, 5, 5, 5, 7}, {5, 5, 5, 5, 2}, {5, 5, 7, 7, 5}, {5, 5, 2, 5, 5}, {5, 5, 2, 2, 2}, {7, 1, 2, 4, 7},
    {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0}, {0, 2, 0, 2, 0}, {5, 1, 2, 4, 5}, {1, 2, 2, 2, 1}, {4, 2, 2, 2, 4},
    {1, 1, 2, 4, 4}, {0, 0, 0, 0, 7}, {0, 2, 7, 2, 0}, {0, 7, 0, 7, 0}, {0, 0, 0, 2, 4}, {0, 2, 0, 2, 4},
    {1, 2, 4, 2, 1}, {4, 2, 1, 2, 4}};

#define SCALE 2
#define CHAR_W (4 * SCALE)

static int text_width(const char *s) { return (int)strlen(s) * CHAR_W; }

static void text(canvas *c, int x, int y, const char *s, const unsigned char *rgb) {
    for (; *s; s++, x += CHAR_W) {
        const char *g = strchr(glyph_chars, toupper((unsigned char)*s));
        if (!g || !*s) continue;
        const unsigned char *rows = glyphs[g - glyph_chars];
        for (int r = 0; r < 5; r++)
            for (int b = 0; b < 3; b++)
                if (rows[r] & (4 >> b))
                    fill(c, x + b * SCALE, y + r * SCALE, x + (b + 1) * SCALE, y + (r + 1) * SCALE, rgb);
    }
}

static void fmt_num(double v, char *buf, size_t n) {
    double a = fabs(v);
    if (a >= 1e6)
        snprintf(buf, n, "%.3gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, n, "%.3gK", v / 1e3);
    else if (a >= 100)
        snprintf(buf, n, "%.0f", v);
    else if (a == floor(a))
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "%.3g", v);
}

static const unsigned char BLACK[3] = {30, 30, 30}, GRID[3] = {225, 225, 225}, WHITE[3] = {255, 255, 255};
static const unsigned char COLORS[][3] = {
    {52, 101, 164}, {204, 0, 0}, {78, 154, 6}, {245, 121, 0}, {117, 80, 123}};

typedef struct {
    canvas c;
    int l, r, t, b; /* plot area */
    double ylo, yhi;
    int log_y;
} frame;

static int frame_begin(frame *f, const vkft_plot_opts *o, double ylo, double yhi, char *err, size_t errlen) {
    int w = o && o->width ? o->width : 640, h = o && o->height ? o->height : 400;
    f->c.w = w;
    f->c.h = h;
    f->c.px = malloc((size_t)w * (size_t)h * 3);
    if (!f->c.px) {
        snprintf(err, errlen, "plot: out of memory");
        return -1;
    }
    memset(f->c.px, 255, (size_t)w * (size_t)h * 3);
    f->l = 70;
    f->r = w - 20;
    f->t = 36;
    f->b = h - 46;
    f->log_y = o && o->log_y;
    if (yhi <= ylo) yhi = ylo + 1;
    f->ylo = ylo;
    f->yhi = yhi;
    if (o && o->title) text(&f->c, (w - text_width(o->title)) / 2, 10, o->title, BLACK);
    if (o && o->xlabel) text(&f->c, (f->l + f->r - text_width(o->xlabel)) / 2, h - 16, o->xlabel, BLACK);
    if (o && o->ylabel) text(&f->c, 4, 12, o->ylabel, BLACK);
    for (int k = 0; k <= 4; k++) {
        double v = ylo + (yhi - ylo) * k / 4;
        int y = f->b - (int)((f->b - f->t) * k / 4.0);
        for (int x = f->l; x < f->r; x++) set_px(&f->c, x, y, GRID);
        char buf[32];
        fmt_num(f->log_y ? pow(10, v) : v, buf, sizeof buf);
        text(&f->c, f->l - 6 - text_width(buf), y - 5, buf, BLACK);
    }
    return 0;
}

static int frame_end(frame *f, const char *path, char *err, size_t errlen) {
    line(&f->c, f->l, f->b, f->r, f->b, BLACK);
    line(&f->c, f->l, f->t, f->l, f->b, BLACK);
    /* write to a temporary name, then rename: never a half-written PNG at path */
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.png", path);
    int ok = stbi_write_png(tmp, f->c.w, f->c.h, 3, f->c.px, f->c.w * 3);
    free(f->c.px);
    if (!ok || rename(tmp, path)) {
        remove(tmp);
        snprintf(err, errlen, "%s: cannot write the PNG (check the folder exists and is writable)", path);
        return -1;
    }
    return 0;
}

static int ypix(const frame *f, double v) {
    return f->b - (int)((v - f->ylo) / (f->yhi - f->ylo) * (f->b - f->t));
}

int vkft_plot_bars(const char *path, const vkft_plot_opts *o, const double *values, int n,
                   const char *const *labels, double x0, double dx, char *err, size_t errlen) {
    double mx = 0;
    for (int i = 0; i < n; i++)
        if (values[i] > mx) mx = values[i];
    frame f;
    if (frame_begin(&f, o, 0, mx > 0 ? mx * 1.05 : 1, err, errlen)) return -1;
    double bw = n > 0 ? (double)(f.r - f.l) / n : 1;
    for (int i = 0; i < n; i++) {
        int xa = f.l + (int)(i * bw) + (bw > 4 ? 1 : 0), xb = f.l + (int)((i + 1) * bw) - (bw > 4 ? 1 : 0);
        fill(&f.c, xa, ypix(&f, values[i]), xb, f.b, COLORS[0]);
        if (labels) {
            char lab[64];
            snprintf(lab, sizeof lab, "%s", labels[i]);
            int maxc = (int)(bw / CHAR_W);
            if (maxc < 1) maxc = 1;
            if ((int)strlen(lab) > maxc) lab[maxc] = 0;
            text(&f.c, (xa + xb - text_width(lab)) / 2, f.b + 6, lab, BLACK);
        }
    }
    if (!labels) {
        for (int k = 0; k <= 4; k++) {
            char buf[32];
            fmt_num(x0 + dx * n * k / 4.0, buf, sizeof buf);
            int x = f.l + (f.r - f.l) * k / 4;
            line(&f.c, x, f.b, x, f.b + 3, BLACK);
            text(&f.c, x - text_width(buf) / 2, f.b + 8, buf, BLACK);
        }
    }
    (void)WHITE;
    return frame_end(&f, path, err, errlen);
}

int vkft_plot_lines(const char *path, const vkft_plot_opts *o, const double *x, const double *const *ys,
                    int nseries, int n, char *err, size_t errlen) {
    int log_y = o && o->log_y;
    double lo = INFINITY, hi = -INFINITY, xlo = n ? x[0] : 0, xhi = n ? x[n - 1] : 1;
    for (int s = 0; s < nseries; s++)
        for (int i = 0; i < n; i++) {
            double v = ys[s][i];
            if (!isfinite(v) || (log_y && v <= 0)) continue;
            v = log_y ? log10(v) : v;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
    if (!isfinite(lo)) lo = 0, hi = 1;
    double pad = (hi - lo) * 0.05;
    if (pad == 0) pad = fabs(hi) * 0.05 + 1e-9;
    frame f;
    if (frame_begin(&f, o, lo - pad, hi + pad, err, errlen)) return -1;
    if (xhi <= xlo) xhi = xlo + 1;
    for (int s = 0; s < nseries; s++) {
        int px = -1, py = -1;
        for (int i = 0; i < n; i++) {
            double v = ys[s][i];
            if (!isfinite(v) || (log_y && v <= 0)) continue;
            v = log_y ? log10(v) : v;
            int X = f.l + (int)((x[i] - xlo) / (xhi - xlo) * (f.r - f.l)), Y = ypix(&f, v);
            if (px >= 0) line(&f.c, px, py, X, Y, COLORS[s % 5]);
            px = X;
            py = Y;
        }
    }
    for (int k = 0; k <= 4; k++) {
        char buf[32];
        fmt_num(xlo + (xhi - xlo) * k / 4, buf, sizeof buf);
        int X = f.l + (f.r - f.l) * k / 4;
        line(&f.c, X, f.b, X, f.b + 3, BLACK);
        text(&f.c, X - text_width(buf) / 2, f.b + 8, buf, BLACK);
    }
    return frame_end(&f, path, err, errlen);
}
