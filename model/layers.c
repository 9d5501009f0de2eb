/* Linear layers on the device, forward and backward, for nn.Linear ([out, in]) and GPT-2's Conv1D
 * ([in, out], possibly a column slice of a fused weight). */
#include "model/model_internal.h"
#include "model/ops_basic.h"
#include "model/ops_dropout.h"
#include "model/ops_matmul.h"

/* The weight (and bias) views of a Conv1D slice start at its first column. */
static vkft_buf col_view(vkft_buf w, uint32_t col, uint64_t rest) {
    return vkft_buf_slice(w, (VkDeviceSize)col * 4, w.size - (VkDeviceSize)col * 4 < rest ? w.size - col * 4 : rest);
}

/* LoRA's B rows for this layer (a Conv1D slice uses rows col..col+out of the fused layer's B). */
static vkft_buf lora_b_rows(vkft_buf b, const vkft_linear *l) {
    return vkft_buf_slice(b, (VkDeviceSize)l->col * l->lora_r * 4, (VkDeviceSize)l->out * l->lora_r * 4);
}

/* The matmul element type of a weight stored in dtype. */
static vkft_mm_btype btype_of(vkft_dtype t) {
    return t == VKFT_F16 ? VKFT_MM_B_F16 : t == VKFT_BF16 ? VKFT_MM_B_BF16 : VKFT_MM_B_F32;
}

/* A Conv1D slice's weight view starts at its first column: elements of the weight's own size. */
static vkft_buf weight_col_view(vkft_model *m, const vkft_linear *l) {
    vkft_buf w = vkft_pbuf(m, l->w);
    VkDeviceSize esz = vkft_dtype_size(m->params[l->w].dtype), off = (VkDeviceSize)l->col * esz;
    return vkft_buf_slice(w, off, w.size - off);
}

/* LoRA dropout: the LoRA branch's input dropout(x) in the shared scratch; the mask comes from the step's
 * counters on the GPU, so the backward (and a checkpointed recompute) regenerates the same one. */
static int lora_dropout_x(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, uint32_t rows,
                          vkft_buf *xd) {
    *xd = vkft_buf_slice(m->lora_x, 0, (VkDeviceSize)rows * l->in * 4);
    return vkft_dropout_forward_ctr(rec, x, *xd, rows * l->in, m->lora_dropout, m->dropout_seed, m->dropout_ctr,
                                    l->lora_site, 0);
}

int vkft_linear_forward(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf y,
                        uint32_t rows) {
    vkft_matmul_opts o = vkft_matmul_opts_default();
    vkft_buf w = vkft_pbuf(m, l->w);
    o.b_type = btype_of(m->params[l->w].dtype);
    if (l->b >= 0) o.bias = l->conv1d ? col_view(vkft_pbuf(m, l->b), l->col, (uint64_t)l->out * 4) : vkft_pbuf(m, l->b);
    int rc;
    if (!l->conv1d) {
        rc = vkft_matmul(rec, VKFT_MM_NT, x, w, y, rows, l->out, l->in, &o);
    } else {
        o.ldb = l->ld;
        rc = vkft_matmul(rec, VKFT_MM_NN, x, weight_col_view(m, l), y, rows, l->out, l->in, &o);
    }
    if (rc || l->lora_r == 0) return rc;
    /* y += scale * (x A^T) B^T, never forming B A; x is dropout(x) there in training with lora_dropout */
    vkft_matmul_opts acc = vkft_matmul_opts_default();
    acc.alpha = l->lora_scale;
    acc.beta = 1.0f;
    vkft_buf xl = x;
    if (m->dropout_on && lora_dropout_x(m, rec, l, x, rows, &xl)) return -1;
    if (vkft_matmul(rec, VKFT_MM_NT, xl, vkft_pbuf(m, l->lora_a), l->xa, rows, l->lora_r, l->in, NULL)) return -1;
    return vkft_matmul(rec, VKFT_MM_NT, l->xa, lora_b_rows(vkft_pbuf(m, l->lora_b), l), y, rows, l->out, l->lora_r,
                       &acc);
}

/* LoRA's backward: dB += s dy^T xa, d(xa) = s dy B, dA += d(xa)^T x, dx += d(xa) A; with dropout,
 * dA += d(xa)^T dropout(x) and dx += dropout'(d(xa) A) (the same mask and scale). */
static int lora_backward(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf dy,
                         vkft_buf dx, uint32_t rows, int accumulate_dx) {
    (void)accumulate_dx; /* the base layer always wrote dx first */
    vkft_matmul_opts g = vkft_matmul_opts_default();
    g.alpha = l->lora_scale;
    g.beta = 1.0f;
    vkft_buf gb = vkft_pgrad(m, l->lora_b), ga = vkft_pgrad(m, l->lora_a);
    if (gb.block && vkft_matmul(rec, VKFT_MM_TN, dy, l->xa, lora_b_rows(gb, l), l->out, l->lora_r, rows, &g))
        return -1;
    vkft_matmul_opts s = vkft_matmul_opts_default();
    s.alpha = l->lora_scale;
    if (vkft_matmul(rec, VKFT_MM_NN, dy, lora_b_rows(vkft_pbuf(m, l->lora_b), l), m->dxa, rows, l->lora_r, l->out,
                    &s))
        return -1;
    vkft_matmul_opts a = vkft_matmul_opts_default();
    a.beta = 1.0f;
    vkft_buf xd = x;
    if (ga.block && m->dropout_on && lora_dropout_x(m, rec, l, x, rows, &xd)) return -1;
    if (ga.block && vkft_matmul(rec, VKFT_MM_TN, m->dxa, xd, ga, l->lora_r, l->in, rows, &a)) return -1;
    if (!dx.block) return 0;
    vkft_matmul_opts d = vkft_matmul_opts_default();
    d.beta = 1.0f;
    if (!m->dropout_on)
        return vkft_matmul(rec, VKFT_MM_NN, m->dxa, vkft_pbuf(m, l->lora_a), dx, rows, l->in, l->lora_r, &d);
    /* d(xa) A into the scratch (dropout(x) is used up), then masked and scaled onto dx */
    xd = vkft_buf_slice(m->lora_x, 0, (VkDeviceSize)rows * l->in * 4);
    if (vkft_matmul(rec, VKFT_MM_NN, m->dxa, vkft_pbuf(m, l->lora_a), xd, rows, l->in, l->lora_r, NULL)) return -1;
    return vkft_dropout_backward_ctr(rec, xd, dx, rows * l->in, m->lora_dropout, m->dropout_seed, m->dropout_ctr,
                                     l->lora_site, 1);
}

int vkft_linear_backward(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf dy,
                         vkft_buf dx, uint32_t rows, int accumulate_dx) {
    vkft_buf w = vkft_pbuf(m, l->w), dw = vkft_pgrad(m, l->w);
    vkft_matmul_opts o = vkft_matmul_opts_default();
    o.b_type = btype_of(m->params[l->w].dtype);
    if (dx.block) {
        o.beta = accumulate_dx ? 1.0f : 0.0f;
        if (!l->conv1d) {
            if (vkft_matmul(rec, VKFT_MM_NN, dy, w, dx, rows, l->in, l->out, &o)) return -1;
        } else {
            o.ldb = l->ld; /* dx = dy . W_slice^T: W_slice is [in, out] with rows ld apart */
            if (vkft_matmul(rec, VKFT_MM_NT, dy, weight_col_view(m, l), dx, rows, l->in, l->out, &o)) return -1;
        }
    }
    if (dw.block) {
        vkft_matmul_opts g = vkft_matmul_opts_default();
        g.beta = 1.0f; /* gradients accumulate (zeroed at the start of a step) */
        if (!l->conv1d) {
            if (vkft_matmul(rec, VKFT_MM_TN, dy, x, dw, l->out, l->in, rows, &g)) return -1;
        } else {
            g.ldc = l->ld;
            if (vkft_matmul(rec, VKFT_MM_TN, x, dy, col_view(dw, l->col, dw.size), l->in, l->out, rows, &g)) return -1;
        }
    }
    vkft_buf db = vkft_pgrad(m, l->b);
    if (l->b >= 0 && db.block) {
        if (l->conv1d) db = col_view(db, l->col, (uint64_t)l->out * 4);
        if (vkft_colsum_f32(rec, dy, rows, l->out, l->out, db, 1)) return -1;
    }
    /* The LoRA path adds to dx after the base layer wrote (or added to) it. */
    if (l->lora_r) return lora_backward(m, rec, l, x, dy, dx, rows, 1);
    return 0;
}
