/* Instruction data through a chat template: a conversation rendered as one text, and where its assistant
 * responses are in it (sft_dataset.h says how they are found and why). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/jinja.h"
#include "data/sft_dataset.h"

struct vkft_chat_template {
    vkft_jinja *jinja;
    cJSON *specials; /* {"bos_token": ..., ...}: the tokenizer's special tokens as strings */
    char *tail;      /* what the template writes after any conversation ("" when nothing) */
    size_t tail_len;
    char name[512];
};

/* Renders messages[0..n) (references to the items, not copies). */
static int render(const vkft_chat_template *ct, const cJSON *messages, int n, int add_generation_prompt, char **out,
                  size_t *len, char *err, size_t errlen) {
    cJSON *vars = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(vars, "messages");
    int i = 0;
    for (const cJSON *m = messages ? messages->child : NULL; m && i < n; m = m->next, i++)
        cJSON_AddItemReferenceToArray(list, (cJSON *)m);
    cJSON_AddBoolToObject(vars, "add_generation_prompt", add_generation_prompt);
    cJSON_AddNullToObject(vars, "tools");
    for (const cJSON *s = ct->specials->child; s; s = s->next)
        cJSON_AddStringToObject(vars, s->string, s->valuestring);
    int rc = vkft_jinja_render(ct->jinja, vars, out, len, err, errlen);
    cJSON_Delete(vars);
    return rc;
}

int vkft_chat_template_new(const char *text, const char *name, const vkft_tokenizer *tok, vkft_chat_template **out,
                           char *err, size_t errlen) {
    vkft_chat_template *ct = calloc(1, sizeof *ct);
    char e[512];
    if (!ct) abort();
    snprintf(ct->name, sizeof ct->name, "%s", name);
    if (vkft_jinja_parse(text, strlen(text), &ct->jinja, e, sizeof e)) {
        snprintf(err, errlen, "%s: %s", name, e);
        free(ct);
        return -1;
    }
    ct->specials = cJSON_CreateObject();
    if (tok) {
        vkft_tok_specials sp = vkft_tokenizer_specials(tok);
        const int32_t ids[] = {sp.bos, sp.eos, sp.pad, sp.unk};
        static const char *const vars[] = {"bos_token", "eos_token", "pad_token", "unk_token"};
        for (int i = 0; i < 4; i++) {
            size_t n;
            const char *s = ids[i] >= 0 ? vkft_tokenizer_id_to_token(tok, ids[i], &n) : NULL;
            if (!s) continue;
            char *z = strndup(s, n);
            cJSON_AddStringToObject(ct->specials, vars[i], z);
            free(z);
        }
    }
    /* A template may fail without messages (e.g. messages[0] of nothing): then it writes no tail. */
    if (render(ct, NULL, 0, 0, &ct->tail, &ct->tail_len, e, sizeof e)) {
        ct->tail = strdup("");
        ct->tail_len = 0;
    }
    *out = ct;
    return 0;
}

void vkft_chat_template_free(vkft_chat_template *ct) {
    if (!ct) return;
    vkft_jinja_free(ct->jinja);
    cJSON_Delete(ct->specials);
    free(ct->tail);
    free(ct);
}

static int is_prefix(const char *p, size_t pn, const char *s, size_t sn) { return pn <= sn && !memcmp(p, s, pn); }

int vkft_chat_template_render(const vkft_chat_template *ct, const cJSON *messages, char **text, size_t *len,
                              size_t **spans, size_t *nspans, char *err, size_t errlen) {
    char e[1024];
    *text = NULL;
    *spans = NULL;
    *nspans = 0;
    int n = cJSON_GetArraySize(messages);
    if (render(ct, messages, n, 0, text, len, e, sizeof e)) {
        snprintf(err, errlen, "the chat template (%s) failed: %s", ct->name, e);
        return -1;
    }
    *spans = malloc(2 * (size_t)(n ? n : 1) * sizeof **spans);
    size_t last_end = 0;
    int i = 0;
    for (const cJSON *m = messages->child; m; m = m->next, i++) {
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
        if (!role || strcmp(role, "assistant")) continue;
        char *prompt = NULL, *upto = NULL;
        size_t pn = 0, un = 0;
        if (render(ct, messages, i, 1, &prompt, &pn, e, sizeof e) || render(ct, messages, i + 1, 0, &upto, &un, e, sizeof e)) {
            snprintf(err, errlen, "the chat template (%s) failed on messages[0..%d]: %s", ct->name, i, e);
            free(prompt);
            free(upto);
            goto fail;
        }
        if (ct->tail_len && un >= ct->tail_len && !memcmp(upto + un - ct->tail_len, ct->tail, ct->tail_len))
            un -= ct->tail_len;
        int prompt_ok = is_prefix(prompt, pn, *text, *len), upto_ok = is_prefix(upto, un, *text, *len);
        free(prompt);
        free(upto);
        if (!prompt_ok || !upto_ok || un < pn || pn < last_end) {
            snprintf(err, errlen,
                     "the chat template (%s) does not render messages[:%d]%s as the start of the whole "
                     "conversation, so the response in messages[%d] cannot be found (use data.chat_template "
                     "\"default\", or a template that writes a conversation's beginning the same whatever follows)",
                     ct->name, !prompt_ok ? i : i + 1, !prompt_ok ? " with add_generation_prompt" : "", i);
            goto fail;
        }
        while (un > pn && strchr(" \t\r\n", (*text)[un - 1])) un--;
        (*spans)[2 * *nspans] = pn;
        (*spans)[2 * *nspans + 1] = un;
        ++*nspans;
        last_end = un;
    }
    return 0;
fail:
    free(*text);
    free(*spans);
    *text = NULL;
    *spans = NULL;
    return -1;
}
