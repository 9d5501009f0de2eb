/* AdamW over a model's trainable parameters: moment buffers, the global gradient norm with clipping, and
 * the step, recorded on the device; and checkpoints of the trainable state (weights + moments). */
#ifndef VKFT_OPTIMIZER_H
#define VKFT_OPTIMIZER_H
#include "model/model.h"
#include "model/ops_optim.h"

typedef struct vkft_optimizer vkft_optimizer;

vkft_optimizer *vkft_optimizer_create(vkft_model *m, char *err, size_t errlen);
void vkft_optimizer_free(vkft_optimizer *o);
/* Records: the global gradient norm (clip coefficient for max_norm; <= 0: no clipping), the AdamW step on
 * every trainable parameter with the clipped gradients, then zeroing of the gradients. The learning rate,
 * betas and step number are read on the device from what vkft_optimizer_set_step last uploaded, so one
 * recording serves every step. */
int vkft_optimizer_record_step(vkft_optimizer *o, vkft_recorder *rec, float max_norm);
/* Uploads the hyperparameters of step t (1-based) for the next submission of the recorded step. */
int vkft_optimizer_set_step(vkft_optimizer *o, const vkft_adamw_hparams *hp, uint32_t t);
/* Records zeroing of every trainable parameter's gradient. */
int vkft_optimizer_record_zero_grads(vkft_optimizer *o, vkft_recorder *rec);
/* The gradient norm (before clipping) of the last submitted step. */
int vkft_optimizer_grad_norm(vkft_optimizer *o, float *norm);
/* Bytes of optimizer state (the two moments). */
uint64_t vkft_optimizer_bytes(const vkft_optimizer *o);

/* Writes DIR/trainable.safetensors (every trainable parameter under its name, and its moments under
 * "optimizer.m.NAME" / "optimizer.v.NAME") and DIR/state.json (the given JSON text), each atomically;
 * state.json is written last, so a checkpoint is complete when state.json names its step. */
int vkft_checkpoint_save(vkft_optimizer *o, const char *dir, const char *state_json, char *err, size_t errlen);
/* Restores what vkft_checkpoint_save wrote (the same model and method); *state_json is malloc'd. */
int vkft_checkpoint_load(vkft_optimizer *o, const char *dir, char **state_json, char *err, size_t errlen);
#endif
