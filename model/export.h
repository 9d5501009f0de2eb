/* Writing what training produced: a PEFT LoRA adapter, or the whole model as a Hugging Face folder. */
#ifndef VKFT_EXPORT_H
#define VKFT_EXPORT_H
#include <stddef.h>

#include "model/model.h"

typedef struct {
    const char *base_model; /* base_model_name_or_path */
    unsigned r;
    double alpha, dropout;
    int rslora;
} vkft_peft_info;

/* DIR/adapter_config.json and DIR/adapter_model.safetensors (PEFT's names and shapes: lora_A [r, in],
 * lora_B [out, r]), atomically. */
int vkft_peft_save(vkft_model *m, const char *dir, const vkft_peft_info *info, char *err, size_t errlen);
/* DIR/model.safetensors with every base parameter under its checkpoint name, config.json copied from the
 * model folder (and the tokenizer files beside it), atomically. */
int vkft_model_save_hf(vkft_model *m, const char *src_dir, const char *dir, char *err, size_t errlen);
#endif
