/* The recorder: barriers only where there is a hazard (a 100-dispatch read-after-write chain gives the
 * right result with 99 barriers; independent dispatches get none; write-after-read is caught), reuse of a
 * recorded command buffer, errors, the profiler, and proof that synchronization validation is on: the
 * same chain recorded without barriers makes the validation layer complain. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/ops_basic.h"
#include "tests/test_gpu.h"

enum { N = 1000, CHAIN = 100 };

/* Records x *= 1.01 CHAIN times in place; returns 0 on success. */
static int record_chain(vkft_recorder *rec, vkft_buf x) {
    if (vkft_rec_begin(rec)) return -1;
    for (int i = 0; i < CHAIN; i++)
        if (vkft_scale_f32(rec, x, x, N, 1.01f)) return -1;
    return vkft_rec_end(rec);
}

int main(void) {
    test_state t;
    test_begin(&t, "runtime_recorder");
    vkft_ctx_options o;
    vkft_ctx_options_default(&o);
    o.profile = 1;
    vkft_ctx *ctx = NULL;
    if (!CHECK(&t, vkft_ctx_create(&o, &ctx) == 0, "context: %s", vkft_last_error(ctx))) return test_finish(&t);
    vkft_recorder *rec = vkft_recorder_create(ctx);
    float host[N], ones[N];
    for (int i = 0; i < N; i++) ones[i] = 1.0f + i * 0.001f;
    vkft_buf x = test_buf_f32(&t, ctx, ones, N);

    /* Read-after-write chain. */
    CHECK(&t, record_chain(rec, x) == 0, "record chain: %s", vkft_last_error(ctx));
    CHECK(&t, vkft_rec_submit(rec) == 0, "submit: %s", vkft_last_error(ctx));
    vkft_recorder_stats st = vkft_rec_get_stats(rec);
    CHECK(&t, st.dispatches == CHAIN && st.barriers == CHAIN - 1, "chain: %u dispatches, %u barriers (want %d)",
          st.dispatches, st.barriers, CHAIN - 1);
    vkft_download(ctx, x, 0, host, sizeof host);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double want = ones[i] * pow(1.01f, CHAIN);
        worst = fmax(worst, fabs(host[i] - want) / want);
    }
    CHECK(&t, worst < 1e-5, "chain result: max rel. error %.2e", worst);
    printf("100-dispatch chain: %u barriers, max rel. error %.2e\n", st.barriers, worst);

    /* Submitting the same recording again applies it again. */
    CHECK(&t, vkft_rec_submit(rec) == 0, "resubmit: %s", vkft_last_error(ctx));
    vkft_download(ctx, x, 0, host, sizeof host);
    CHECK(&t, fabs(host[7] - ones[7] * pow(1.01f, 2 * CHAIN)) / host[7] < 2e-5, "resubmitted chain: %g", host[7]);

    /* Profiler: the chain's kernel by name, with its calls. */
    uint32_t calls = 0;
    double ms = vkft_profile_kernel_ms(ctx, "scale_f32", &calls);
    CHECK(&t, calls == 2 * CHAIN && ms > 0, "profile: scale_f32 %u calls, %.3f ms", calls, ms);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    vkft_profile_print(ctx, mem);
    fclose(mem);
    CHECK(&t, text && strstr(text, "scale_f32") && strstr(text, "calls") && strstr(text, "share"),
          "profile table: %s", text ? text : "");
    printf("%s", text ? text : "");
    free(text);

    /* Independent dispatches on disjoint slices: no barriers, all results right. */
    vkft_buf y = test_buf_f32(&t, ctx, NULL, 100 * 64);
    CHECK(&t, vkft_rec_begin(rec) == 0, "begin");
    for (int i = 0; i < 100; i++) vkft_fill_f32(rec, vkft_buf_slice(y, (VkDeviceSize)i * 256, 64 * 4), 64, (float)i);
    CHECK(&t, vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0, "independent: %s", vkft_last_error(ctx));
    st = vkft_rec_get_stats(rec);
    CHECK(&t, st.barriers == 0, "independent dispatches: %u barriers (want 0)", st.barriers);
    float *yy = test_download_f32(&t, ctx, y, 100 * 64);
    int bad = 0;
    for (int i = 0; i < 100 * 64; i++) bad += yy[i] != (float)(i / 64);
    CHECK(&t, bad == 0, "independent fills: %d wrong", bad);
    free(yy);

    /* Write-after-read: z = x + x, then x is overwritten: one barrier, which also covers z for the
     * scale that follows (a barrier makes everything before it visible). */
    vkft_buf z = test_buf_f32(&t, ctx, NULL, N);
    vkft_rec_begin(rec);
    vkft_add_f32(rec, x, x, z, N);
    vkft_fill_f32(rec, x, N, 0.0f);
    vkft_scale_f32(rec, z, z, N, 0.5f);
    CHECK(&t, vkft_rec_end(rec) == 0 && vkft_rec_submit(rec) == 0, "WAR: %s", vkft_last_error(ctx));
    st = vkft_rec_get_stats(rec);
    CHECK(&t, st.barriers == 1, "write-after-read: %u barriers (want 1)", st.barriers);
    float *zz = test_download_f32(&t, ctx, z, N), *xx = test_download_f32(&t, ctx, x, N);
    CHECK(&t, zz[5] == host[5] && xx[5] == 0.0f, "WAR results: z %g (want %g), x %g", zz[5], host[5], xx[5]);
    free(zz);
    free(xx);

    /* Errors: wrong binding count, submit before end, dispatch before begin. */
    vkft_binding one[] = {{x, VKFT_READ}};
    vkft_rec_begin(rec);
    CHECK(&t, vkft_rec_dispatch(rec, vkft_basic_kernel("add_f32"), &(struct { uint32_t n; float a; }){1, 1}, 1, 1, 1,
                                one, 1) != 0 &&
                  strstr(vkft_last_error(ctx), "takes 3 buffers"),
          "binding count: %s", vkft_last_error(ctx));
    CHECK(&t, vkft_rec_submit(rec) != 0, "submit while recording is refused");
    vkft_rec_end(rec);
    vkft_recorder_destroy(rec);
    test_close_ctx(&t, ctx);

    /* Synchronization validation is really on: without barriers the chain is a hazard it reports. */
    if (getenv("VKFT_VALIDATION")) {
        vkft_ctx_options_default(&o);
        o.unsafe_skip_barriers = 1;
        ctx = NULL;
        if (CHECK(&t, vkft_ctx_create(&o, &ctx) == 0, "context: %s", vkft_last_error(ctx))) {
            printf("expected: synchronization-validation errors for a chain recorded without barriers\n");
            rec = vkft_recorder_create(ctx);
            vkft_buf v = test_buf_f32(&t, ctx, ones, N);
            record_chain(rec, v);
            vkft_rec_submit(rec);
            int messages = vkft_validation_messages(ctx);
            CHECK(&t, messages > 0, "the validation layer reported %d hazards without barriers", messages);
            printf("end of expected validation errors (%d)\n", messages);
            vkft_recorder_destroy(rec);
            vkft_ctx_destroy(ctx);
        }
    }
    return test_finish(&t);
}
