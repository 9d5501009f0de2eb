/* Instruction data through chat templates (data/sft_dataset.h): the responses found in each fixture template's
 * rendering are exactly the assistant turns as the template writes them; a ChatML template gives the same ids
 * and loss mask as vkft's default ChatML; alpaca records become a user and an assistant turn; a template that
 * renders a conversation's beginning differently depending on what follows is an error naming the record. */
#pragma GCC diagnostic ignored "-Wformat-truncation" /* paths in fixed buffers */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/sft_dataset.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

static const char *CONV =
    "[{\"role\":\"user\",\"content\":\" Hello there \"},{\"role\":\"assistant\",\"content\":\"Hi! How can I help?\"},"
    "{\"role\":\"user\",\"content\":\"Tell me a fact.\"},{\"role\":\"assistant\",\"content\":\"Water boils at 100 "
    "\\u00b0C.\\n\"}]";

/* A Llama-3-like template that always ends with the assistant header, whatever add_generation_prompt says. */
static const char *ALWAYS_PROMPT =
    "{% for m in messages %}{% if loop.first %}{{ bos_token }}{% endif %}<|start_header_id|>{{ m.role }}"
    "<|end_header_id|>\n\n{{ m.content | trim }}<|eot_id|>{% endfor %}{{ '<|start_header_id|>assistant<|end_header_id|>"
    "\\n\\n' }}";
/* vkft's default ChatML as a template */
static const char *CHATML =
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>' + '\\n' }}{% endfor "
    "%}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
/* renders the last message differently: the prompt is not the start of the whole conversation */
static const char *BROKEN = "{% for m in messages %}{% if loop.last %}LAST {% endif %}{{ m.content }}|{% endfor %}";

static char *read_fixture(const char *src, const char *name) {
    char path[4300], err[512], *text = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/tests/fixtures/chat_templates/%s.jinja", src, name);
    if (vkft_read_file(path, &text, &n, err, sizeof err)) printf("%s\n", err);
    return text;
}

int main(void) {
    test_state t;
    test_begin(&t, "test_data_sft_chat");
    const char *src = getenv("VKFT_SOURCE_DIR");
    if (!src) src = ".";
    char tok_path[4300], err[2048];
    snprintf(tok_path, sizeof tok_path, "%s/demo/model/tokenizer.json", src);
    vkft_tokenizer *tok = NULL;
    if (!CHECK(&t, vkft_tokenizer_load(tok_path, &tok, err, sizeof err) == 0, "%s", err)) return test_finish(&t);
    size_t eos_n;
    const char *eos_s = vkft_tokenizer_id_to_token(tok, vkft_tokenizer_specials(tok).eos, &eos_n);
    char eos[64];
    snprintf(eos, sizeof eos, "%.*s", (int)eos_n, eos_s);

    /* 1. the responses of each template, as its text says they are */
    const char *c1 = "Hi! How can I help?", *c2 = "Water boils at 100 \xc2\xb0" "C.\n", *c2t = "Water boils at 100 \xc2\xb0" "C.";
    struct {
        const char *name, *inline_text;
        char want[2][128];
    } cases[] = {
        {"chatml", NULL, {"", ""}},        {"zephyr", NULL, {"", ""}}, {"mistral", NULL, {"", ""}},
        {"gemma", NULL, {"", ""}},         {"phi3", NULL, {"", ""}},   {"system_default", NULL, {"", ""}},
        {"always-prompt", ALWAYS_PROMPT, {"", ""}},
    };
    snprintf(cases[0].want[0], 128, "%s<|im_end|>", c1);
    snprintf(cases[0].want[1], 128, "%s<|im_end|>", c2);
    snprintf(cases[1].want[0], 128, "%s%s", c1, eos);
    snprintf(cases[1].want[1], 128, "%s%s", c2, eos);
    snprintf(cases[2].want[0], 128, " %s%s", c1, eos);
    snprintf(cases[2].want[1], 128, " %s%s", c2, eos);
    snprintf(cases[3].want[0], 128, "%s<end_of_turn>", c1);
    snprintf(cases[3].want[1], 128, "%s<end_of_turn>", c2t);
    snprintf(cases[4].want[0], 128, "%s<|end|>", c1);
    snprintf(cases[4].want[1], 128, "%s<|end|>", c2);
    snprintf(cases[5].want[0], 128, " %s %s", c1, eos);
    snprintf(cases[5].want[1], 128, " %s %s", c2t, eos);
    snprintf(cases[6].want[0], 128, "%s<|eot_id|>", c1);
    snprintf(cases[6].want[1], 128, "%s<|eot_id|>", c2t);
    cJSON *conv = cJSON_Parse(CONV);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = cases[i].inline_text ? strdup(cases[i].inline_text) : read_fixture(src, cases[i].name), *out = NULL;
        vkft_chat_template *ct = NULL;
        size_t len, *spans = NULL, ns = 0;
        int ok = text && vkft_chat_template_new(text, cases[i].name, tok, &ct, err, sizeof err) == 0 &&
                 vkft_chat_template_render(ct, conv, &out, &len, &spans, &ns, err, sizeof err) == 0;
        if (CHECK(&t, ok && ns == 2, "%s: %s (%zu responses)", cases[i].name, ok ? "" : err, ns)) {
            for (size_t k = 0; k < 2; k++) {
                size_t n = spans[2 * k + 1] - spans[2 * k];
                CHECK(&t, n == strlen(cases[i].want[k]) && !memcmp(out + spans[2 * k], cases[i].want[k], n),
                      "%s: response %zu is [%.*s], want [%s]", cases[i].name, k, (int)n, out + spans[2 * k],
                      cases[i].want[k]);
            }
            printf("%-16s responses [%.*s] [%.*s]\n", cases[i].name, (int)(spans[1] - spans[0]), out + spans[0],
                   (int)(spans[3] - spans[2]), out + spans[2]);
        }
        free(out);
        free(spans);
        free(text);
        vkft_chat_template_free(ct);
    }

    /* 2. through vkft_sft_data_load: ChatML as a template equals the default ChatML; alpaca as two turns */
    char dir[4300], msgs_path[4400], alpaca_path[4400];
    const char *cache = getenv("XDG_CACHE_HOME");
    snprintf(dir, sizeof dir, "%s/sft-chat", cache ? cache : "/tmp");
    vkft_mkdirs(dir, err, sizeof err);
    snprintf(msgs_path, sizeof msgs_path, "%s/chat.jsonl", dir);
    snprintf(alpaca_path, sizeof alpaca_path, "%s/alpaca.jsonl", dir);
    FILE *f = fopen(msgs_path, "w");
    fprintf(f, "{\"messages\": %s}\n", CONV);
    fprintf(f, "{\"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": "
               "\"Why?\"}, {\"role\": \"assistant\", \"content\": \"Because.\"}]}\n");
    fclose(f);
    f = fopen(alpaca_path, "w");
    fprintf(f, "{\"instruction\": \"Translate.\", \"input\": \"chat\", \"output\": \"cat\"}\n"
               "{\"instruction\": \"Say hi.\", \"output\": \"hi\"}\n");
    fclose(f);
    vkft_chat_template *chatml = NULL;
    CHECK(&t, vkft_chat_template_new(CHATML, "ChatML", tok, &chatml, err, sizeof err) == 0, "%s", err);
    vkft_sft_data a, b;
    long tr;
    int ok = vkft_sft_data_load(msgs_path, VKFT_SFT_MESSAGES, tok, -1, 4096, 0, NULL, &a, &tr, err, sizeof err) == 0;
    CHECK(&t, ok, "%s", err);
    ok = ok && vkft_sft_data_load(msgs_path, VKFT_SFT_MESSAGES, tok, -1, 4096, 0, chatml, &b, &tr, err, sizeof err) == 0;
    CHECK(&t, ok, "%s", err);
    if (ok) {
        int same = a.n == b.n && a.tokens == b.tokens && a.target_tokens == b.target_tokens;
        for (size_t i = 0; same && i < a.n; i++)
            same = a.lens[i] == b.lens[i] && !memcmp(a.seqs[i], b.seqs[i], a.lens[i] * 4) &&
                   !memcmp(a.loss_mask[i], b.loss_mask[i], a.lens[i]);
        CHECK(&t, same, "ChatML as a template: ids and mask differ from the default ChatML (%llu/%llu tokens, "
                        "%llu/%llu targets)",
              (unsigned long long)a.tokens, (unsigned long long)b.tokens, (unsigned long long)a.target_tokens,
              (unsigned long long)b.target_tokens);
        printf("ChatML template == default ChatML: %zu records, %llu tokens, %llu targets\n", b.n,
               (unsigned long long)b.tokens, (unsigned long long)b.target_tokens);
        vkft_sft_data_free(&a);
        vkft_sft_data_free(&b);
    }
    if (CHECK(&t, vkft_sft_data_load(alpaca_path, VKFT_SFT_ALPACA, tok, -1, 4096, 0, chatml, &b, &tr, err, sizeof err) == 0,
              "%s", err)) {
        /* the targets of the first record decode to the output and the end of turn */
        vkft_tok_ids tg = {0};
        char *dec = NULL, *whole = NULL;
        size_t dn, wn;
        for (uint32_t i = 0; i < b.lens[0]; i++)
            if (b.loss_mask[0][i]) {
                if (tg.n == tg.cap) tg.ids = realloc(tg.ids, (tg.cap = tg.cap ? tg.cap * 2 : 16) * sizeof *tg.ids);
                tg.ids[tg.n++] = b.seqs[0][i];
            }
        vkft_tokenizer_decode(tok, tg.ids, tg.n, 0, &dec, &dn, err, sizeof err);
        vkft_tokenizer_decode(tok, b.seqs[0], b.lens[0], 0, &whole, &wn, err, sizeof err);
        const char *want_whole = "<|im_start|>user\nTranslate.\n\nchat<|im_end|>\n<|im_start|>assistant\ncat<|im_end|>\n";
        CHECK(&t, dec && !strcmp(dec, "cat<|im_end|>"), "alpaca through ChatML: targets [%s]", dec ? dec : "?");
        CHECK(&t, whole && !strcmp(whole, want_whole), "alpaca through ChatML: text [%s]", whole ? whole : "?");
        printf("alpaca through ChatML: targets [%s] of [%s]\n", dec ? dec : "?", whole ? whole : "?");
        free(dec);
        free(whole);
        vkft_tok_ids_free(&tg);
        vkft_sft_data_free(&b);
    }

    /* 3. a template whose prompt is not the start of the whole conversation: the record and message named */
    vkft_chat_template *broken = NULL;
    CHECK(&t, vkft_chat_template_new(BROKEN, "broken.jinja", tok, &broken, err, sizeof err) == 0, "%s", err);
    ok = vkft_sft_data_load(msgs_path, VKFT_SFT_MESSAGES, tok, -1, 4096, 0, broken, &b, &tr, err, sizeof err) == 0;
    CHECK(&t, !ok && strstr(err, "chat.jsonl:1: the chat template (broken.jinja) does not render messages[:1] with "
                                 "add_generation_prompt as the start of the whole conversation, so the response in messages[1] cannot be found"),
          "broken template: %s", ok ? "loaded" : err);
    printf("broken template: %s\n", ok ? "loaded" : err);
    if (ok) vkft_sft_data_free(&b);

    vkft_chat_template_free(broken);
    vkft_chat_template_free(chatml);
    cJSON_Delete(conv);
    vkft_tokenizer_free(tok);
    return test_finish(&t);
}
