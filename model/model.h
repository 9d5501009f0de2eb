/* A Hugging Face model on the device: parameters loaded from safetensors, an activation plan for a batch
 * shape, and explicit forward and backward passes recorded into a recorder (llm.c style, no autograd).
 * Architectures: GPT-2, the Llama family (llama, mistral, qwen2) and BERT (masked-LM head). */
#ifndef VKFT_MODEL_H
#define VKFT_MODEL_H
#include <stdint.h>

#include "model/config.h"
#include "model/dtype.h"
#include "runtime/runtime.h"

typedef struct {
    char name[160];     /* the checkpoint's name, e.g. "model.layers.0.self_attn.q_proj.weight" */
    int ndim;
    uint32_t shape[2];
    uint64_t numel;
    vkft_buf w;         /* fp32 on the device */
    vkft_buf grad;      /* fp32 gradient, block == NULL when frozen */
    int trainable;
    int optional;       /* may be absent from the checkpoint (then zero) */
    int lora;           /* a LoRA parameter (not in the base checkpoint) */
    vkft_dtype dtype;   /* of w on the device: F32, or F16/BF16 for frozen linear weights */
    int loaded;
} vkft_param;

/* A linear map on the device: y = x W^T + b for nn.Linear weights [out, in]; y = x W + b for GPT-2's
 * Conv1D weights [in, out]. A Conv1D may be a column slice (col, of ld columns) of a fused weight. */
typedef struct {
    int w, b;           /* parameter indices (b = -1: no bias) */
    int conv1d;
    uint32_t in, out;
    uint32_t col, ld;   /* Conv1D slice: first column and the weight's row length */
    /* LoRA: y += scale * (x A^T) B^T with A [r, in], B [out_full, r] (a slice of B's rows for Conv1D
     * slices: rows col..col+out). lora_a = -1: none. */
    int lora_a, lora_b;
    uint32_t lora_r;
    float lora_scale;
    uint32_t lora_site; /* tells this module's dropout mask apart (layer * 16 + slot; slices share it) */
    vkft_buf xa; /* x A^T [rows, r], saved for the backward (planned) */
} vkft_linear;

typedef struct {
    vkft_linear q, k, v, o, gate, up, down, fc, proj;
    int ln1_w, ln1_b, ln2_w, ln2_b; /* pre-norms (gpt2, llama) or post-norms (bert: attention, output) */
} vkft_block_params;

typedef struct vkft_model vkft_model;

/* Device tensors of one batch: token ids, positions, targets, sequence lengths (right padding). */
typedef struct {
    uint32_t B, T;
    vkft_buf input_ids, position_ids, token_type_ids, targets, lengths;
} vkft_batch_dev;


/* Loads DIR (config.json + safetensors) onto the context's device. Missing tensors are listed by name. */
int vkft_model_load(vkft_ctx *ctx, const char *dir, vkft_model **out, char *err, size_t errlen);
void vkft_model_free(vkft_model *m);
const vkft_model_config *vkft_model_cfg(const vkft_model *m);
int vkft_model_param_count(const vkft_model *m);
vkft_param *vkft_model_param(vkft_model *m, int i);
int vkft_model_find_param(const vkft_model *m, const char *name);
/* Marks every parameter trainable or not (allocates or frees gradient buffers at the next plan). */
void vkft_model_set_trainable(vkft_model *m, int trainable);

/* LoRA (model/lora.c): adds A [r, in] and B [out, r] to every linear layer whose module name ends with
 * one of targets (PEFT's target_modules: "q_proj", "c_attn", ...; "all-linear": every linear layer but
 * the output head), named as PEFT names them ("base_model.model.<module>.lora_A.weight"). A is
 * Kaiming-uniform as PEFT initializes it (from seed), B zero, scale alpha / r (alpha / sqrt(r) with
 * rslora). Only the LoRA parameters are trainable afterwards. Returns the number of adapted layers. */
typedef struct {
    uint32_t r;
    float alpha;
    int rslora;
    const char *const *targets;
    int n_targets;
    uint64_t seed;
} vkft_lora_opts;
int vkft_model_add_lora(vkft_model *m, const vkft_lora_opts *o, char *err, size_t errlen);
/* Loads a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) onto the model. */
int vkft_model_load_adapter(vkft_model *m, const char *dir, char *err, size_t errlen);
/* Folds every LoRA update into its base weight (W += scale B A); returns the number of merged layers. */
int vkft_model_merge_lora(vkft_model *m, char *err, size_t errlen);
/* Stores every frozen linear-layer weight (not embeddings, norms or the output head) in fp16 or bf16 on
 * the device, halving their memory; products still accumulate in fp32. Returns bytes saved, or -1. */
int64_t vkft_model_store_frozen_weights(vkft_model *m, vkft_dtype dtype, char *err, size_t errlen);
/* The module names LoRA was applied to (for the adapter's target_modules), comma-separated. */
const char *vkft_model_lora_targets(const vkft_model *m);
/* LoRA dropout (PEFT's lora_dropout, 0 <= p < 1): in training steps (record_step with backward) each
 * adapted layer computes scale * B A dropout(x); the base product, evaluation and inference see x. The
 * mask is Philox(seed; element, the layer's site, step, micro): nothing is stored, the backward and
 * checkpointing's recompute regenerate it. Takes effect at the next plan. */
int vkft_model_set_lora_dropout(vkft_model *m, float p, uint64_t seed);
/* Before each submission of a training step: the (global, 1-based) step and the micro-batch within it,
 * which select the masks. Read on the GPU, so a recorded step can be submitted for every step. */
int vkft_model_set_dropout_step(vkft_model *m, uint32_t step, uint32_t micro);

/* Activation checkpointing (on: keep only each layer's input during the forward and recompute the layer
 * before its backward: less memory, about a third more compute). Takes effect at the next plan. */
void vkft_model_set_checkpointing(vkft_model *m, int on);

/* The LM head computes the logits [B*T, vocab] a chunk of rows at a time (forward, loss and backward of
 * each chunk before the next), keeping at most `bytes` of them (0: the default, 64 MiB; never more than
 * the device's storage-buffer range). Takes effect at the next plan. */
void vkft_model_set_logits_budget(vkft_model *m, uint64_t bytes);

/* Plans (allocates) the activations, gradients and scratch for batches of B x T; prints nothing, returns
 * the bytes planned per kind. */
typedef struct {
    uint64_t weights, gradients, activations, scratch;
} vkft_memory_plan;
int vkft_model_plan(vkft_model *m, uint32_t B, uint32_t T, int train, vkft_memory_plan *plan);

/* Uploads a batch: ids [B*T] (int32), targets [B*T] (int32, -100 ignored), lengths [B], token types
 * (NULL: zeros). Positions are 0..len-1 per sequence. */
int vkft_model_set_batch(vkft_model *m, const int32_t *ids, const int32_t *targets, const uint32_t *lengths,
                         const int32_t *token_types);
/* Records the forward pass and the loss (mean cross-entropy over non-ignored targets); with backward,
 * also the logits gradient and the backward pass into the parameters' gradients (added to them). */
int vkft_model_record_step(vkft_model *m, vkft_recorder *rec, int backward, float grad_scale);
/* After submission: the loss and the non-ignored token count; the logits [B, T, V] when the plan keeps
 * them all (one chunk: see vkft_model_set_logits_budget; else -1 with the context's error set). */
int vkft_model_read_loss(vkft_model *m, float *loss, float *tokens);
int vkft_model_read_logits(vkft_model *m, float *logits);
/* After submission of a forward: the last hidden state [B, T, hidden] as transformers' last_hidden_state
 * (after the final norm for GPT-2 and Llama; the last encoder layer's output for BERT). */
int vkft_model_read_hidden(vkft_model *m, float *hidden);
/* Records zeroing of every gradient. */
int vkft_model_zero_grads(vkft_model *m, vkft_recorder *rec);
vkft_ctx *vkft_model_ctx(vkft_model *m);
#endif
