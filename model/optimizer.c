#include "model/optimizer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/safetensors.h"
#include "util/fsutil.h"

struct vkft_optimizer {
    vkft_model *m;
    vkft_ctx *ctx;
    vkft_arena *arena;
    int *params; /* indices of the trainable parameters */
    vkft_buf *mom1, *mom2;
    vkft_buf *grads;
    int count;
    vkft_buf scratch, norm, hp;
    uint64_t bytes;
    /* The kernels' view: each trainable tensor in pieces one binding spans (one piece unless the tensor is
     * larger, e.g. a full fine-tune's 147 MiB GPT-2 embedding on lavapipe): weight, gradient, moments. */
    vkft_buf *pw, *pg, *pm1, *pm2;
    uint32_t *psize;
    int pieces;
};

/* Floats in one piece: what one binding spans, a multiple of the offset alignment. */
static uint64_t piece_floats(vkft_ctx *ctx) { return vkft_aligned_count(ctx, 4, vkft_binding_limit(ctx) / 4); }

/* Appends tensor k's pieces (the arrays were sized for every piece). */
static void add_pieces(vkft_optimizer *o, vkft_param *p, int k) {
    uint64_t per = piece_floats(o->ctx);
    for (uint64_t at = 0; at < p->numel; at += per) {
        uint64_t n = p->numel - at < per ? p->numel - at : per;
        int i = o->pieces++;
        o->pw[i] = vkft_buf_slice(p->w, at * 4, n * 4);
        o->pg[i] = vkft_buf_slice(p->grad, at * 4, n * 4);
        o->pm1[i] = vkft_buf_slice(o->mom1[k], at * 4, n * 4);
        o->pm2[i] = vkft_buf_slice(o->mom2[k], at * 4, n * 4);
        o->psize[i] = (uint32_t)n;
    }
}

vkft_optimizer *vkft_optimizer_create(vkft_model *m, char *err, size_t errlen) {
    vkft_optimizer *o = calloc(1, sizeof *o);
    o->m = m;
    o->ctx = vkft_model_ctx(m);
    o->arena = vkft_arena_create(o->ctx, "optimizer", 0);
    int n = vkft_model_param_count(m);
    o->params = calloc(n ? n : 1, sizeof *o->params);
    o->mom1 = calloc(n ? n : 1, sizeof *o->mom1);
    o->mom2 = calloc(n ? n : 1, sizeof *o->mom2);
    o->grads = calloc(n ? n : 1, sizeof *o->grads);
    uint64_t cap = 1, per = piece_floats(o->ctx);
    for (int i = 0; i < n; i++)
        if (vkft_model_param(m, i)->trainable) cap += (vkft_model_param(m, i)->numel + per - 1) / per;
    o->pw = calloc(cap, sizeof *o->pw), o->pg = calloc(cap, sizeof *o->pg);
    o->pm1 = calloc(cap, sizeof *o->pm1), o->pm2 = calloc(cap, sizeof *o->pm2);
    o->psize = calloc(cap, sizeof *o->psize);
    for (int i = 0; i < n; i++) {
        vkft_param *p = vkft_model_param(m, i);
        if (!p->trainable) continue;
        if (!p->grad.block) {
            snprintf(err, errlen, "plan the model for training before creating the optimizer");
            vkft_optimizer_free(o);
            return NULL;
        }
        int k = o->count++;
        o->params[k] = i;
        o->grads[k] = p->grad;
        if (vkft_arena_alloc(o->arena, p->numel * 4, &o->mom1[k]) || vkft_arena_alloc(o->arena, p->numel * 4, &o->mom2[k])) {
            snprintf(err, errlen, "optimizer state: %s", vkft_last_error(o->ctx));
            vkft_optimizer_free(o);
            return NULL;
        }
        o->bytes += p->numel * 8;
        add_pieces(o, p, k);
    }
    if (o->count == 0) {
        snprintf(err, errlen, "nothing to train: no parameter is trainable");
        vkft_optimizer_free(o);
        return NULL;
    }
    if (vkft_arena_alloc(o->arena, vkft_grad_norm_scratch_floats((uint32_t)o->pieces) * 4, &o->scratch) ||
        vkft_arena_alloc(o->arena, 8, &o->norm) || vkft_arena_alloc(o->arena, VKFT_ADAMW_HP_FLOATS * 4, &o->hp)) {
        snprintf(err, errlen, "optimizer state: %s", vkft_last_error(o->ctx));
        vkft_optimizer_free(o);
        return NULL;
    }
    /* Moments start at zero. */
    vkft_recorder *rec = vkft_recorder_create(o->ctx);
    int rc = !rec || vkft_rec_begin(rec);
    for (int k = 0; k < o->count && !rc; k++) rc = vkft_rec_fill(rec, o->mom1[k], 0) || vkft_rec_fill(rec, o->mom2[k], 0);
    rc = rc || vkft_rec_end(rec) || vkft_rec_submit(rec);
    vkft_recorder_destroy(rec);
    if (rc) {
        snprintf(err, errlen, "optimizer state: %s", vkft_last_error(o->ctx));
        vkft_optimizer_free(o);
        return NULL;
    }
    return o;
}

void vkft_optimizer_free(vkft_optimizer *o) {
    if (!o) return;
    vkft_arena_destroy(o->arena);
    free(o->params), free(o->mom1), free(o->mom2), free(o->grads);
    free(o->pw), free(o->pg), free(o->pm1), free(o->pm2), free(o->psize);
    free(o);
}

uint64_t vkft_optimizer_bytes(const vkft_optimizer *o) { return o->bytes; }

int vkft_optimizer_record_step(vkft_optimizer *o, vkft_recorder *rec, float max_norm) {
    if (vkft_grad_norm(rec, o->pg, o->psize, (uint32_t)o->pieces, o->scratch, o->norm, max_norm)) return -1;
    for (int i = 0; i < o->pieces; i++)
        if (vkft_adamw_step_hp(rec, o->pw[i], o->pg[i], o->pm1[i], o->pm2[i], o->psize[i], o->hp, o->norm)) return -1;
    return vkft_optimizer_record_zero_grads(o, rec);
}

int vkft_optimizer_record_zero_grads(vkft_optimizer *o, vkft_recorder *rec) {
    for (int k = 0; k < o->count; k++)
        if (vkft_rec_fill(rec, o->grads[k], 0)) return -1;
    return 0;
}

int vkft_optimizer_set_step(vkft_optimizer *o, const vkft_adamw_hparams *hp, uint32_t t) {
    float packed[VKFT_ADAMW_HP_FLOATS];
    vkft_adamw_hp_pack(hp, t, packed);
    return vkft_upload(o->ctx, o->hp, 0, packed, sizeof packed);
}

int vkft_optimizer_grad_norm(vkft_optimizer *o, float *norm) { return vkft_download(o->ctx, o->norm, 0, norm, 4); }

/* ---- checkpoints -------------------------------------------------------------------------- */

int vkft_checkpoint_save(vkft_optimizer *o, const char *dir, const char *state_json, char *err, size_t errlen) {
    if (vkft_mkdirs(dir, err, errlen)) return -1;
    int n = 3 * o->count;
    vkft_st_write_tensor *t = calloc(n, sizeof *t);
    char (*names)[200] = calloc(n, 200);
    float **host = calloc(n, sizeof *host);
    int rc = 0;
    for (int k = 0; k < o->count && !rc; k++) {
        vkft_param *p = vkft_model_param(o->m, o->params[k]);
        vkft_buf src[3] = {p->w, o->mom1[k], o->mom2[k]};
        for (int j = 0; j < 3 && !rc; j++) {
            int i = 3 * k + j;
            snprintf(names[i], 200, "%s%s", j == 0 ? "" : j == 1 ? "optimizer.m." : "optimizer.v.", p->name);
            host[i] = malloc(p->numel * 4);
            rc = vkft_download(o->ctx, src[j], 0, host[i], p->numel * 4);
            t[i].name = names[i];
            t[i].dtype = VKFT_F32;
            t[i].ndim = p->ndim;
            t[i].shape[0] = p->shape[0];
            t[i].shape[1] = p->shape[1];
            t[i].data = host[i];
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/trainable.safetensors", dir);
    if (rc)
        snprintf(err, errlen, "checkpoint: %s", vkft_last_error(o->ctx));
    else
        rc = vkft_st_write(path, t, n, NULL, NULL, 0, err, errlen);
    for (int i = 0; i < n; i++) free(host[i]);
    free(host), free(names), free(t);
    if (rc) return -1;
    snprintf(path, sizeof path, "%s/state.json", dir);
    return vkft_write_file_atomic(path, state_json, strlen(state_json), err, errlen);
}

int vkft_checkpoint_load(vkft_optimizer *o, const char *dir, char **state_json, char *err, size_t errlen) {
    char path[4200];
    size_t len;
    snprintf(path, sizeof path, "%s/state.json", dir);
    if (vkft_read_file(path, state_json, &len, err, errlen)) return -1;
    vkft_safetensors st;
    snprintf(path, sizeof path, "%s/trainable.safetensors", dir);
    if (vkft_st_open(path, &st, err, errlen)) return -1;
    int rc = 0;
    for (int k = 0; k < o->count && !rc; k++) {
        vkft_param *p = vkft_model_param(o->m, o->params[k]);
        vkft_buf dst[3] = {p->w, o->mom1[k], o->mom2[k]};
        for (int j = 0; j < 3 && !rc; j++) {
            char name[200];
            snprintf(name, sizeof name, "%s%s", j == 0 ? "" : j == 1 ? "optimizer.m." : "optimizer.v.", p->name);
            const vkft_st_tensor *t = vkft_st_find(&st, name);
            if (!t || t->dtype != VKFT_F32 || (uint64_t)t->numel != p->numel) {
                snprintf(err, errlen, "%s: %s is missing or has another shape: the checkpoint was made by another "
                                      "model or method",
                         path, name);
                rc = -1;
            } else if (vkft_upload(o->ctx, dst[j], 0, t->data, p->numel * 4)) {
                snprintf(err, errlen, "%s: %s", path, vkft_last_error(o->ctx));
                rc = -1;
            }
        }
    }
    vkft_st_close(&st);
    if (rc) {
        free(*state_json);
        *state_json = NULL;
    }
    return rc;
}
