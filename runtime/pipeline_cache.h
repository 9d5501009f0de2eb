/* The on-disk VkPipelineCache: $XDG_CACHE_HOME/vkft (fallback ~/.cache/vkft), one file per device and
 * driver, written atomically, checked (magic, size, checksum, device and driver) before use; a corrupt or
 * foreign file is ignored with a warning. Internal to the runtime. */
#ifndef VKFT_PIPELINE_CACHE_H
#define VKFT_PIPELINE_CACHE_H
#include "runtime/internal.h"

/* Creates ctx->pipeline_cache, seeded from the file when it is valid. */
int vkft_pipeline_cache_open(vkft_ctx *ctx);
#endif
