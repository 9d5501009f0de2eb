/* Linear layers on the device, forward and backward, for nn.Linear ([out, in]) and GPT-2's Conv1D
 * ([in, out], possibly a column slice of a fused weight). */
#include "model/model_internal.h"
#include "model/ops_basic.h"
#include "model/ops_matmul.h"

/* The weight (and bias) views of a Conv1D slice start at its first column. */
static vkft_buf col_view(vkft_buf w, uint32_t col, uint64_t rest) {
    return vkft_buf_slice(w, (VkDeviceSize)col * 4, w.size - (VkDeviceSize)col * 4 < rest ? w.size - col * 4 : rest);
}

int vkft_linear_forward(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf y,
                        uint32_t rows) {
    vkft_matmul_opts o = vkft_matmul_opts_default();
    vkft_buf w = vkft_pbuf(m, l->w);
    if (l->b >= 0) o.bias = l->conv1d ? col_view(vkft_pbuf(m, l->b), l->col, (uint64_t)l->out * 4) : vkft_pbuf(m, l->b);
    if (!l->conv1d) return vkft_matmul(rec, VKFT_MM_NT, x, w, y, rows, l->out, l->in, &o);
    o.ldb = l->ld;
    return vkft_matmul(rec, VKFT_MM_NN, x, col_view(w, l->col, w.size), y, rows, l->out, l->in, &o);
}

int vkft_linear_backward(vkft_model *m, vkft_recorder *rec, const vkft_linear *l, vkft_buf x, vkft_buf dy,
                         vkft_buf dx, uint32_t rows, int accumulate_dx) {
    vkft_buf w = vkft_pbuf(m, l->w), dw = vkft_pgrad(m, l->w);
    vkft_matmul_opts o = vkft_matmul_opts_default();
    if (dx.block) {
        o.beta = accumulate_dx ? 1.0f : 0.0f;
        if (!l->conv1d) {
            if (vkft_matmul(rec, VKFT_MM_NN, dy, w, dx, rows, l->in, l->out, &o)) return -1;
        } else {
            o.ldb = l->ld; /* dx = dy . W_slice^T: W_slice is [in, out] with rows ld apart */
            if (vkft_matmul(rec, VKFT_MM_NT, dy, col_view(w, l->col, w.size), dx, rows, l->in, l->out, &o)) return -1;
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
        if (vkft_colsum_f32(rec, dy, rows, l->out, db, 1)) return -1;
    }
    return 0;
}
