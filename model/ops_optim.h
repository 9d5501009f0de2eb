/* The optimizer step: AdamW over a parameter group in one dispatch, the global gradient norm (a
 * deterministic two-pass reduction) and clipping by a coefficient computed on the GPU. */
#ifndef VKFT_OPS_OPTIM_H
#define VKFT_OPS_OPTIM_H
#include "runtime/runtime.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
} vkft_adamw_hparams;

/* The global L2 norm of `count` gradient buffers (grads[i] holding n[i] floats), as torch's
 * clip_grad_norm_ computes it: norm[0] = sqrt(sum of squares), norm[1] = min(1, max_norm / (norm + 1e-6))
 * (1 when max_norm <= 0). scratch holds vkft_grad_norm_scratch_floats(count) floats. Deterministic: the
 * partial sums have a fixed order. */
int vkft_grad_norm(vkft_recorder *rec, const vkft_buf *grads, const uint32_t *n, uint32_t count,
                   vkft_buf scratch, vkft_buf norm, float max_norm);
size_t vkft_grad_norm_scratch_floats(uint32_t count);
/* grads *= norm[1] (the coefficient vkft_grad_norm wrote), read on the GPU. */
int vkft_clip_grads(vkft_recorder *rec, vkft_buf grads, uint32_t n, vkft_buf norm);
/* One torch.optim.AdamW step (t = step, 1-based) over params, grads, m, v (n floats each).
 * norm.block != NULL: the gradients are first scaled by norm[1] (clipping fused into the step). */
int vkft_adamw_step(vkft_recorder *rec, vkft_buf params, vkft_buf grads, vkft_buf m, vkft_buf v, uint32_t n,
                    const vkft_adamw_hparams *hp, uint32_t step, vkft_buf norm);
/* The same step with the hyperparameters read from a buffer on the GPU, so that one recorded command
 * buffer serves every step: before each submission the host writes vkft_adamw_hp_pack's floats (lr,
 * betas, eps, weight decay, and the step's bias corrections, computed in double) into hp. */
#define VKFT_ADAMW_HP_FLOATS 8
void vkft_adamw_hp_pack(const vkft_adamw_hparams *hp, uint32_t step, float out[VKFT_ADAMW_HP_FLOATS]);
int vkft_adamw_step_hp(vkft_recorder *rec, vkft_buf params, vkft_buf grads, vkft_buf m, vkft_buf v,
                       uint32_t n, vkft_buf hp, vkft_buf norm);
/* The kernel definitions: "grad_norm_partial", "grad_norm_final", "clip_grads", "adamw_step",
 * "adamw_step_hp" (and the same with "_vec4": 4 elements per load). */
const vkft_kernel_def *vkft_optim_kernel(const char *name);
#endif
