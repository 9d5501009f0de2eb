/* vkft bench model: forward and forward+backward tokens/s of a Hugging Face model folder on the device.
 *
 * Loads the model, makes every parameter trainable, plans batches of B x T for training (activations kept
 * for the backward, a gradient per parameter), uploads one batch of random token ids (full length, no
 * padding; causal models predict the next token, BERT every position), then records two steps once each:
 *   forward            the forward pass and the mean cross-entropy loss
 *   forward+backward   zeroing of every gradient, the forward pass, the loss, and the backward pass into
 *                      every parameter's gradient (no optimizer step)
 * and submits each recording --warmup times untimed and --iters times timed (one submission per step, as
 * training does). Prints ms per step (wall clock, and this process's CPU time, which on a CPU driver such
 * as lavapipe is the work done and stays meaningful when other processes share the cores), tokens/s
 * (B*T tokens per step), an estimate of the achieved matmul GFLOP/s, and the memory plan. --json prints one
 * JSON object instead. With VKFT_PROFILE=1 the per-kernel table of the timed forward steps is printed after
 * them and that of the timed forward+backward steps at exit (on stderr). bench/model_vs_torch.sh runs it beside
 * PyTorch (bench/model_peer.py) on the same checkpoint and shapes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"
#include "tools/bench.h"
#include "tools/cli.h"

static double process_cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Multiply-add flops of one forward pass over B sequences of T tokens: every projection, the lm head /
 * MLM decoder, and causal (or full, for BERT) attention's two products. Norms, activations and softmax
 * are not counted. The backward pass is counted as twice the forward (dX and dW of every product). */
static double forward_flops(const vkft_model_config *c, uint32_t B, uint32_t T) {
    double C = c->hidden_size, HD = (double)c->num_heads * c->head_dim, KD = (double)c->num_kv_heads * c->head_dim;
    double I = c->intermediate_size, V = c->vocab_size, tok = (double)B * T;
    double proj = C * HD + 2 * C * KD + HD * C;
    proj += (c->arch == VKFT_ARCH_LLAMA ? 3 : 2) * C * I;
    /* scores q.k and probs.v: T keys per query (BERT) or (T+1)/2 on average (causal) */
    double keys = c->arch == VKFT_ARCH_BERT ? T : (T + 1) / 2.0;
    double attn = 2 * keys * HD;
    double head = C * V + (c->arch == VKFT_ARCH_BERT ? C * C : 0);
    return 2 * tok * (c->num_layers * (proj + attn) + head);
}

typedef struct {
    double ms, cpu_ms;
} step_time;

static int time_steps(vkft_recorder *rec, int warmup, int iters, step_time *out) {
    for (int i = 0; i < warmup; i++)
        if (vkft_rec_submit(rec)) return -1;
    /* The warm-up steps include lavapipe's shader compilation (at first use): profile the timed steps only. */
    if (vkft_profile_enabled(vkft_rec_ctx(rec))) vkft_profile_reset(vkft_rec_ctx(rec));
    double t0 = cli_now_s(), c0 = process_cpu_s();
    for (int i = 0; i < iters; i++)
        if (vkft_rec_submit(rec)) return -1;
    out->ms = (cli_now_s() - t0) / iters * 1e3;
    out->cpu_ms = (process_cpu_s() - c0) / iters * 1e3;
    return 0;
}

static void usage(void) {
    printf("usage: vkft bench model --model DIR [--batch B] [--seq T] [--iters N] [--warmup N] [--device N|NAME]\n"
           "                        [--json]\n\n"
           "Forward and forward+backward (all parameters trainable, gradients zeroed each step) tokens/s of\n"
           "the model in DIR on batches of B x T random tokens (defaults: B 4, T 256, 3 timed steps after 1\n"
           "warm-up step). bench/model_vs_torch.sh runs it beside PyTorch.\n");
}

/* vkft bench model --model DIR [...] */
int bench_model_main(int argc, char **argv) {
    const char *device = NULL, *dir = NULL;
    int iters = 3, warmup = 1, json = 0, bad = 0;
    long B = 4, T = 256;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage();
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if ((v = cli_value(argc, argv, &i, "--model", &bad))) {
            dir = v;
        } else if ((v = cli_value(argc, argv, &i, "--device", &bad))) {
            device = v;
        } else if ((v = cli_value(argc, argv, &i, "--batch", &bad))) {
            B = atol(v);
        } else if ((v = cli_value(argc, argv, &i, "--seq", &bad))) {
            T = atol(v);
        } else if ((v = cli_value(argc, argv, &i, "--iters", &bad))) {
            iters = atoi(v);
        } else if ((v = cli_value(argc, argv, &i, "--warmup", &bad))) {
            warmup = atoi(v);
        } else {
            if (!bad) fprintf(stderr, "vkft bench model: unknown option '%s' (see vkft bench model --help)\n", argv[i]);
            return 2;
        }
    }
    if (bad) return 2;
    if (!dir) {
        fprintf(stderr, "vkft bench model: --model DIR is required (see vkft bench model --help)\n");
        return 2;
    }
    if (B < 1 || B > 4096 || T < 2 || T > 65536 || iters < 1 || warmup < 0) {
        fprintf(stderr, "vkft bench model: need 1 <= --batch <= 4096, 2 <= --seq <= 65536, --iters >= 1, "
                        "--warmup >= 0\n");
        return 2;
    }
    vkft_ctx *ctx = cli_open_device(device);
    if (!ctx) return 1;
    char err[2048];
    vkft_model *m = NULL;
    vkft_recorder *fwd = NULL, *train = NULL;
    int32_t *ids = NULL, *targets = NULL;
    uint32_t *lengths = NULL;
    int rc = 1;
    double t_load = cli_now_s();
    if (vkft_model_load(ctx, dir, &m, err, sizeof err)) {
        fprintf(stderr, "vkft bench model: %s\n", err);
        goto done;
    }
    t_load = cli_now_s() - t_load;
    const vkft_model_config *cfg = vkft_model_cfg(m);
    if (cfg->arch != VKFT_ARCH_LLAMA && (uint32_t)T > cfg->max_positions) {
        fprintf(stderr, "vkft bench model: --seq %ld exceeds the model's %u positions\n", T, cfg->max_positions);
        goto done;
    }
    uint64_t nparams = 0;
    for (int i = 0; i < vkft_model_param_count(m); i++) nparams += vkft_model_param(m, i)->numel;

    vkft_model_set_trainable(m, 1);
    vkft_memory_plan plan;
    double t_plan = cli_now_s();
    if (vkft_model_plan(m, (uint32_t)B, (uint32_t)T, 1, &plan)) goto vk_error;
    t_plan = cli_now_s() - t_plan;

    /* One batch of random ids (a fixed LCG; ids 5..V-1 as the PyTorch peer draws them). */
    size_t n = (size_t)B * T;
    ids = malloc(n * sizeof *ids), targets = malloc(n * sizeof *targets), lengths = malloc(B * sizeof *lengths);
    if (!ids || !targets || !lengths) {
        fprintf(stderr, "vkft bench model: out of host memory\n");
        goto done;
    }
    uint64_t s = 0x9E3779B97F4A7C15ull;
    uint32_t low = cfg->vocab_size > 5 ? 5 : 0;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ids[i] = (int32_t)(low + (uint32_t)(s >> 33) % (cfg->vocab_size - low));
    }
    for (long b = 0; b < B; b++) {
        lengths[b] = (uint32_t)T;
        for (long t = 0; t < T; t++) {
            size_t i = (size_t)b * T + t;
            if (cfg->arch == VKFT_ARCH_BERT) targets[i] = ids[i];
            else targets[i] = t + 1 < T ? ids[i + 1] : -100;
        }
    }
    if (vkft_model_set_batch(m, ids, targets, lengths, NULL)) goto vk_error;

    /* Record once, submit many times. */
    double t_rec = cli_now_s();
    fwd = vkft_recorder_create(ctx);
    train = vkft_recorder_create(ctx);
    if (!fwd || !train) goto vk_error;
    if (vkft_rec_begin(fwd) || vkft_model_record_step(m, fwd, 0, 1.0f) || vkft_rec_end(fwd)) goto vk_error;
    if (vkft_rec_begin(train) || vkft_model_zero_grads(m, train) || vkft_model_record_step(m, train, 1, 1.0f) ||
        vkft_rec_end(train))
        goto vk_error;
    t_rec = cli_now_s() - t_rec;
    vkft_recorder_stats fs = vkft_rec_get_stats(fwd), ts = vkft_rec_get_stats(train);

    const vkft_device_caps *dev = vkft_device(ctx);
    if (!json) {
        printf("vkft bench model on %s (%s): %s, %s, %.1fM parameters, %u layers, hidden %u, %u heads / %u kv, "
               "vocab %u\n",
               dev->name, dev->driver_name, dir, cfg->model_type, nparams / 1e6, cfg->num_layers, cfg->hidden_size,
               cfg->num_heads, cfg->num_kv_heads, cfg->vocab_size);
        printf("batch %ld x %ld = %ld tokens per step, %d warm-up + %d timed steps, fp32\n", B, T, B * T, warmup,
               iters);
        printf("memory plan: weights %.1f MiB, gradients %.1f MiB, activations %.1f MiB, scratch %.1f MiB "
               "(total %.1f MiB)\n",
               plan.weights / 1048576.0, plan.gradients / 1048576.0, plan.activations / 1048576.0,
               plan.scratch / 1048576.0,
               (plan.weights + plan.gradients + plan.activations + plan.scratch) / 1048576.0);
        printf("recorded: forward %u dispatches, %u barriers; forward+backward %u dispatches, %u copies, %u "
               "barriers (load %.2f s, plan %.2f s, record %.3f s)\n",
               fs.dispatches, fs.barriers, ts.dispatches, ts.copies, ts.barriers, t_load, t_plan, t_rec);
        fflush(stdout);
    }

    step_time tf, tb;
    if (time_steps(fwd, warmup, iters, &tf)) goto vk_error;
    float loss_f = 0, loss_b = 0, count = 0;
    if (vkft_model_read_loss(m, &loss_f, &count)) goto vk_error;
    if (vkft_profile_enabled(ctx)) {
        fprintf(stderr, "profile of the %d timed forward steps:\n", iters);
        vkft_profile_print(ctx, stderr);
        vkft_profile_reset(ctx);
    }
    if (!json) {
        printf("  %-18s %10.1f ms/step %10.1f tokens/s %8.1f GFLOP/s  (%.1f cpu-ms/step)\n", "forward", tf.ms,
               B * T / (tf.ms / 1e3), forward_flops(cfg, B, T) / (tf.ms / 1e3) / 1e9, tf.cpu_ms);
        fflush(stdout);
    }
    if (time_steps(train, warmup, iters, &tb)) goto vk_error;
    if (vkft_model_read_loss(m, &loss_b, &count)) goto vk_error;
    double fl = forward_flops(cfg, B, T);
    if (json) {
        printf("{\"device\": \"%s\", \"driver\": \"%s\", \"model\": \"%s\", \"model_type\": \"%s\", "
               "\"parameters\": %llu, \"layers\": %u, \"batch\": %ld, \"seq\": %ld, \"iters\": %d, \"warmup\": %d, "
               "\"forward_ms\": %.3f, \"forward_cpu_ms\": %.3f, \"forward_tokens_per_s\": %.2f, "
               "\"forward_gflops\": %.2f, \"train_ms\": %.3f, \"train_cpu_ms\": %.3f, \"train_tokens_per_s\": %.2f, "
               "\"train_gflops\": %.2f, \"loss\": %.6f, \"memory\": {\"weights\": %llu, \"gradients\": %llu, "
               "\"activations\": %llu, \"scratch\": %llu}, \"dispatches\": {\"forward\": %u, \"train\": %u}}\n",
               dev->name, dev->driver_name, dir, cfg->model_type, (unsigned long long)nparams, cfg->num_layers, B, T,
               iters, warmup, tf.ms, tf.cpu_ms, B * T / (tf.ms / 1e3), fl / (tf.ms / 1e3) / 1e9, tb.ms, tb.cpu_ms,
               B * T / (tb.ms / 1e3), 3 * fl / (tb.ms / 1e3) / 1e9, loss_b, (unsigned long long)plan.weights,
               (unsigned long long)plan.gradients, (unsigned long long)plan.activations,
               (unsigned long long)plan.scratch, fs.dispatches, ts.dispatches);
    } else {
        printf("  %-18s %10.1f ms/step %10.1f tokens/s %8.1f GFLOP/s  (%.1f cpu-ms/step)\n", "forward+backward",
               tb.ms, B * T / (tb.ms / 1e3), 3 * fl / (tb.ms / 1e3) / 1e9, tb.cpu_ms);
        printf("loss %.4f (forward) / %.4f (forward+backward) over %.0f predicted tokens; GFLOP/s counts the "
               "matmuls and attention products only\n",
               loss_f, loss_b, count);
    }
    if (vkft_profile_enabled(ctx)) fprintf(stderr, "profile of the %d timed forward+backward steps:\n", iters);
    rc = 0;
    goto done;
vk_error:
    fprintf(stderr, "vkft bench model: %s\n", vkft_last_error(ctx));
done:
    free(ids), free(targets), free(lengths);
    vkft_recorder_destroy(fwd);
    vkft_recorder_destroy(train);
    vkft_model_free(m);
    return cli_close_device(ctx) || rc ? 1 : 0;
}
