/* Small PNG charts (bars and lines) with a built-in 3x5 pixel font, written with stb_image_write.
 * Used for the data report's histograms; reusable for loss curves (vkft_plot_lines). No global state. */
#ifndef VKFT_TOOLS_PLOT_H
#define VKFT_TOOLS_PLOT_H
#include <stddef.h>

typedef struct {
    const char *title; /* drawn upper-case at the top; may be NULL */
    const char *xlabel, *ylabel;
    int width, height; /* 0: 640 x 400 */
    int log_y;         /* lines only: logarithmic y axis (values <= 0 are skipped) */
} vkft_plot_opts;

/* Bars: values[i] over [x0 + i*dx, x0 + (i+1)*dx), or categorical with labels[i] when labels != NULL. */
int vkft_plot_bars(const char *path, const vkft_plot_opts *o, const double *values, int n,
                   const char *const *labels, double x0, double dx, char *err, size_t errlen);
/* Lines: nseries series sharing x[0..n); ys[s][i]. Series get distinct colours. */
int vkft_plot_lines(const char *path, const vkft_plot_opts *o, const double *x, const double *const *ys,
                    int nseries, int n, char *err, size_t errlen);
#endif
