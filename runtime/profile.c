/* Per-kernel GPU time from timestamp queries, summed by kernel name (VKFT_PROFILE=1). */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

int vkft_profile_enabled(const vkft_ctx *ctx) { return ctx->profile; }

void vkft_profile_add(vkft_ctx *ctx, const char *name, double ns) {
    for (uint32_t i = 0; i < ctx->profile_count; i++)
        if (!strcmp(ctx->profile_rows[i].name, name)) {
            ctx->profile_rows[i].calls++;
            ctx->profile_rows[i].total_ns += ns;
            return;
        }
    if (ctx->profile_count == ctx->profile_cap) {
        ctx->profile_cap = ctx->profile_cap ? ctx->profile_cap * 2 : 32;
        ctx->profile_rows = realloc(ctx->profile_rows, ctx->profile_cap * sizeof *ctx->profile_rows);
    }
    vkft_profile_row *row = &ctx->profile_rows[ctx->profile_count++];
    snprintf(row->name, sizeof row->name, "%s", name);
    row->calls = 1;
    row->total_ns = ns;
}

static int by_total_desc(const void *a, const void *b) {
    double x = ((const vkft_profile_row *)a)->total_ns, y = ((const vkft_profile_row *)b)->total_ns;
    return x < y ? 1 : x > y ? -1 : 0;
}

void vkft_profile_print(const vkft_ctx *ctx, FILE *out) {
    if (!ctx->profile_count) {
        fprintf(out, "profile: no timed kernels%s\n", ctx->profile ? "" : " (set VKFT_PROFILE=1)");
        return;
    }
    vkft_profile_row *rows = malloc(ctx->profile_count * sizeof *rows);
    if (!rows) return;
    memcpy(rows, ctx->profile_rows, ctx->profile_count * sizeof *rows);
    qsort(rows, ctx->profile_count, sizeof *rows, by_total_desc);
    double total = 0;
    for (uint32_t i = 0; i < ctx->profile_count; i++) total += rows[i].total_ns;
    fprintf(out, "%-32s %10s %12s %12s %7s\n", "kernel", "calls", "total ms", "mean us", "share");
    for (uint32_t i = 0; i < ctx->profile_count; i++)
        fprintf(out, "%-32s %10llu %12.3f %12.2f %6.1f%%\n", rows[i].name, (unsigned long long)rows[i].calls,
                rows[i].total_ns / 1e6, rows[i].total_ns / 1e3 / (double)rows[i].calls,
                total > 0 ? 100.0 * rows[i].total_ns / total : 0.0);
    fprintf(out, "%-32s %10s %12.3f\n", "total", "", total / 1e6);
    free(rows);
}

double vkft_profile_kernel_ms(const vkft_ctx *ctx, const char *name, uint32_t *calls) {
    for (uint32_t i = 0; i < ctx->profile_count; i++)
        if (!strcmp(ctx->profile_rows[i].name, name)) {
            if (calls) *calls = (uint32_t)ctx->profile_rows[i].calls;
            return ctx->profile_rows[i].total_ns / 1e6;
        }
    if (calls) *calls = 0;
    return 0;
}

void vkft_profile_reset(vkft_ctx *ctx) { ctx->profile_count = 0; }

void vkft_profile_free(vkft_ctx *ctx) {
    free(ctx->profile_rows);
    ctx->profile_rows = NULL;
    ctx->profile_count = ctx->profile_cap = 0;
}
