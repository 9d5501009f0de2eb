#include "data/sft_dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/records.h"

size_t vkft_alpaca_prompt(const char *instruction, const char *input, char *out, size_t n) {
    int len;
    if (input && *input)
        len = snprintf(out, n,
                       "Below is an instruction that describes a task, paired with an input that provides further "
                       "context. Write a response that appropriately completes the request.\n\n"
                       "### Instruction:\n%s\n\n### Input:\n%s\n\n### Response:\n",
                       instruction, input);
    else
        len = snprintf(out, n,
                       "Below is an instruction that describes a task. Write a response that appropriately "
                       "completes the request.\n\n### Instruction:\n%s\n\n### Response:\n",
                       instruction);
    return len < 0 ? 0 : (size_t)len;
}

/* A sequence being built: ids and their loss mask. */
typedef struct {
    vkft_tok_ids ids;
    uint8_t *mask;
    size_t mask_cap;
} builder;

/* Appends text's tokens with the given mask value. */
static int append(builder *b, vkft_tokenizer *tok, const char *text, int add_special, uint8_t target, char *err,
                  size_t errlen) {
    size_t before = b->ids.n;
    if (vkft_tokenizer_encode(tok, text, strlen(text), add_special, &b->ids, err, errlen)) return -1;
    if (b->ids.n > b->mask_cap) {
        b->mask_cap = b->ids.n * 2;
        b->mask = realloc(b->mask, b->mask_cap);
    }
    memset(b->mask + before, target, b->ids.n - before);
    return 0;
}

static int append_id(builder *b, int32_t id, uint8_t target) {
    if (b->ids.n == b->ids.cap) {
        b->ids.cap = b->ids.cap ? b->ids.cap * 2 : 64;
        b->ids.ids = realloc(b->ids.ids, b->ids.cap * sizeof *b->ids.ids);
    }
    if (b->ids.n + 1 > b->mask_cap) {
        b->mask_cap = (b->ids.n + 1) * 2;
        b->mask = realloc(b->mask, b->mask_cap);
    }
    b->mask[b->ids.n] = target;
    b->ids.ids[b->ids.n++] = id;
    return 0;
}

static const char *string_field(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A conversation through a chat template: the rendered text cut at the responses' edges, each piece
 * tokenized on its own (so each edge is a token boundary) with the responses as targets. */
static int build_with_template(builder *b, const cJSON *msgs, vkft_tokenizer *tok, const vkft_chat_template *ct,
                               const char *where, char *err, size_t errlen) {
    char *text, e[1500];
    size_t len, *spans, nspans;
    if (vkft_chat_template_render(ct, msgs, &text, &len, &spans, &nspans, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", where, e);
        return -1;
    }
    int rc = 0;
    if (nspans == 0) {
        snprintf(err, errlen, "%s: no assistant message: nothing to learn from this record", where);
        rc = -1;
    }
    size_t at = 0;
    for (size_t k = 0; !rc && k <= nspans; k++) {
        size_t s = k < nspans ? spans[2 * k] : len, end = k < nspans ? spans[2 * k + 1] : len;
        for (int target = 0; !rc && target < 2; target++) {
            size_t from = target ? s : at, to = target ? end : s;
            if (to <= from) continue;
            char *piece = strndup(text + from, to - from);
            rc = append(b, tok, piece, 0, (uint8_t)target, err, errlen);
            free(piece);
        }
        at = end;
    }
    free(text);
    free(spans);
    return rc;
}

static int build_alpaca(builder *b, const cJSON *obj, vkft_tokenizer *tok, int32_t eos, const vkft_chat_template *ct,
                        const char *where, char *err, size_t errlen) {
    const char *instruction = string_field(obj, "instruction"), *input = string_field(obj, "input"),
               *output = string_field(obj, "output");
    if (!instruction || !output) {
        snprintf(err, errlen, "%s: an alpaca record needs string fields \"instruction\" and \"output\"", where);
        return -1;
    }
    if (ct) { /* a user turn (instruction, a blank line, input) and the assistant's answer */
        size_t n = strlen(instruction) + (input ? strlen(input) : 0) + 3;
        char *user = malloc(n);
        snprintf(user, n, "%s%s%s", instruction, input && *input ? "\n\n" : "", input && *input ? input : "");
        cJSON *msgs = cJSON_CreateArray(), *u = cJSON_CreateObject(), *a = cJSON_CreateObject();
        cJSON_AddStringToObject(u, "role", "user");
        cJSON_AddStringToObject(u, "content", user);
        cJSON_AddStringToObject(a, "role", "assistant");
        cJSON_AddStringToObject(a, "content", output);
        cJSON_AddItemToArray(msgs, u);
        cJSON_AddItemToArray(msgs, a);
        int rc = build_with_template(b, msgs, tok, ct, where, err, errlen);
        cJSON_Delete(msgs);
        free(user);
        return rc;
    }
    size_t need = vkft_alpaca_prompt(instruction, input, NULL, 0) + 1;
    char *prompt = malloc(need);
    vkft_alpaca_prompt(instruction, input, prompt, need);
    int rc = append(b, tok, prompt, 1, 0, err, errlen) || append(b, tok, output, 0, 1, err, errlen);
    free(prompt);
    if (!rc && eos >= 0) append_id(b, eos, 1);
    return rc ? -1 : 0;
}

static int build_messages(builder *b, const cJSON *obj, vkft_tokenizer *tok, const vkft_chat_template *ct,
                          const char *where, char *err, size_t errlen) {
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(obj, "messages");
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0) {
        snprintf(err, errlen, "%s: a messages record needs a non-empty \"messages\" array", where);
        return -1;
    }
    int first = 1, any_assistant = 0, i = 0;
    if (ct) { /* the template decides what content may be; a role is needed to find the responses */
        for (const cJSON *m = msgs->child; m; m = m->next, i++)
            if (!cJSON_IsObject(m) || !string_field(m, "role")) {
                snprintf(err, errlen, "%s: messages[%d] needs a string field \"role\"", where, i);
                return -1;
            }
        return build_with_template(b, msgs, tok, ct, where, err, errlen);
    }
    for (const cJSON *m = msgs->child; m; m = m->next, i++) {
        const char *role = string_field(m, "role"), *content = string_field(m, "content");
        if (!role || !content) {
            snprintf(err, errlen, "%s: messages[%d] needs string fields \"role\" and \"content\"", where, i);
            return -1;
        }
        if (strcmp(role, "system") && strcmp(role, "user") && strcmp(role, "assistant")) {
            snprintf(err, errlen, "%s: messages[%d].role \"%s\": use system, user or assistant", where, i, role);
            return -1;
        }
        int assistant = !strcmp(role, "assistant");
        any_assistant |= assistant;
        size_t hl = strlen(role) + 16;
        char *header = malloc(hl);
        snprintf(header, hl, "<|im_start|>%s\n", role);
        int rc = append(b, tok, header, first, 0, err, errlen) ||
                 append(b, tok, content, 0, (uint8_t)assistant, err, errlen) ||
                 append(b, tok, "<|im_end|>", 0, (uint8_t)assistant, err, errlen) ||
                 append(b, tok, "\n", 0, 0, err, errlen);
        free(header);
        if (rc) return -1;
        first = 0;
    }
    if (!any_assistant) {
        snprintf(err, errlen, "%s: no assistant message: nothing to learn from this record", where);
        return -1;
    }
    return 0;
}

int vkft_sft_data_load(const char *path, vkft_sft_format fmt, vkft_tokenizer *tok, int32_t eos, uint32_t max_len,
                       uint32_t vocab_size, const vkft_chat_template *ct, vkft_sft_data *out, long *truncated,
                       char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    *truncated = 0;
    vkft_reader *r;
    if (vkft_reader_open(&r, path, VKFT_FMT_JSONL, 0, err, errlen)) return -1;
    builder b = {0};
    int rc = 0;
    for (;;) {
        vkft_record rec;
        int st = vkft_reader_next(r, &rec, err, errlen);
        if (st == VKFT_REC_EOF) break;
        if (st != VKFT_REC_OK) {
            rc = -1;
            break;
        }
        char where[4200];
        snprintf(where, sizeof where, "%s:%ld", path, rec.line);
        b.ids.n = 0;
        rc = fmt == VKFT_SFT_ALPACA ? build_alpaca(&b, rec.obj, tok, eos, ct, where, err, errlen)
                                    : build_messages(&b, rec.obj, tok, ct, where, err, errlen);
        if (rc) break;
        for (size_t i = 0; i < b.ids.n && vocab_size; i++)
            if ((uint32_t)b.ids.ids[i] >= vocab_size) {
                snprintf(err, errlen, "%s: token id %d is outside the model's vocabulary (%u)", where, b.ids.ids[i],
                         vocab_size);
                rc = -1;
                break;
            }
        if (rc) break;
        size_t n = b.ids.n;
        if (n > max_len) {
            n = max_len;
            (*truncated)++;
        }
        out->seqs = realloc(out->seqs, (out->n + 1) * sizeof *out->seqs);
        out->loss_mask = realloc(out->loss_mask, (out->n + 1) * sizeof *out->loss_mask);
        out->lens = realloc(out->lens, (out->n + 1) * sizeof *out->lens);
        out->seqs[out->n] = malloc(n * 4);
        out->loss_mask[out->n] = malloc(n ? n : 1);
        memcpy(out->seqs[out->n], b.ids.ids, n * 4);
        memcpy(out->loss_mask[out->n], b.mask, n);
        out->lens[out->n] = (uint32_t)n;
        out->tokens += n;
        for (size_t i = 0; i < n; i++) out->target_tokens += b.mask[i];
        out->n++;
    }
    vkft_tok_ids_free(&b.ids);
    free(b.mask);
    vkft_reader_close(r);
    if (rc) vkft_sft_data_free(out);
    return rc;
}

void vkft_sft_data_free(vkft_sft_data *d) {
    for (size_t i = 0; i < d->n; i++) {
        free(d->seqs[i]);
        free(d->loss_mask[i]);
    }
    free(d->seqs);
    free(d->loss_mask);
    free(d->lens);
    memset(d, 0, sizeof *d);
}
