/* report (MTLD, lexical diversity, label conflicts, PMI, completeness, Markdown) and pipeline recipes
 * (JSON options to command-line arguments, errors). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/pipeline.h"
#include "data/report.h"
#include "tests/test_util.h"
#include "util/fsutil.h"

static void test_mtld(test_state *t) {
    uint64_t w[200];
    for (int i = 0; i < 200; i++) w[i] = (uint64_t)(i + 1); /* all distinct: TTR never drops */
    CHECK(t, fabs(vkft_mtld(w, 200, 0.72) - 200) < 1e-9, "all-distinct text: MTLD = its length");
    for (int i = 0; i < 200; i++) w[i] = 7; /* one word repeated */
    double m = vkft_mtld(w, 200, 0.72);
    /* TTR 1/1, 1/2 <= 0.72 -> a factor every 2 words: 100 factors, MTLD 2 */
    CHECK(t, fabs(m - 2) < 1e-9, "one repeated word: MTLD 2 (got %g)", m);
    for (int i = 0; i < 200; i++) w[i] = (uint64_t)(i % 4);
    m = vkft_mtld(w, 200, 0.72);
    CHECK(t, m > 2 && m < 10, "4-word cycle: small MTLD (got %g)", m);
}

static void test_report(test_state *t) {
    char dir[] = "/tmp/vkft_test_report_XXXXXX";
    if (!mkdtemp(dir)) return;
    char in[256], err[512];
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    FILE *f = fopen(in, "w");
    /* 20 "sport" texts about football, 20 "food" texts about pizza, a label conflict, a blank label */
    for (int i = 0; i < 20; i++)
        fprintf(f, "{\"text\":\"the football match number %d was great\",\"label\":\"sport\"}\n", i);
    for (int i = 0; i < 20; i++)
        fprintf(f, "{\"text\":\"she ate a pizza with cheese number %d\",\"label\":\"food\"}\n", i);
    fprintf(f, "{\"text\":\"the football match number 3 was great\",\"label\":\"food\"}\n");
    fprintf(f, "{\"text\":\"nothing here\",\"label\":\"\"}\n");
    fclose(f);
    vkft_report_opts o;
    vkft_report_opts_defaults(&o);
    vkft_report *r;
    vkft_step step;
    CHECK(t, vkft_report_step_new(&r, &o, "text", "label", &step, err, sizeof err) == 0, "report: %s", err);
    vkft_data_io io;
    vkft_data_io_defaults(&io);
    const char *ins[1] = {in};
    io.inputs = ins;
    io.n_inputs = 1;
    cJSON *sum = cJSON_CreateObject();
    CHECK(t, vkft_data_run(&io, "report", &step, sum, err, sizeof err) == 0, "run: %s", err);
    cJSON *j = vkft_report_json(r);
    CHECK(t, cJSON_GetObjectItem(j, "records")->valuedouble == 42, "42 records");
    cJSON *lab = cJSON_GetObjectItem(j, "labels");
    CHECK(t, cJSON_GetObjectItem(cJSON_GetObjectItem(lab, "counts"), "food")->valuedouble == 21, "21 food");
    CHECK(t, cJSON_GetObjectItem(lab, "unlabeled")->valuedouble == 1, "1 unlabeled (blank)");
    CHECK(t, fabs(cJSON_GetObjectItem(lab, "imbalance_ratio")->valuedouble - 21.0 / 20) < 1e-3,
          "imbalance 1.05");
    cJSON *an = cJSON_GetObjectItem(j, "anomalies");
    CHECK(t, cJSON_GetObjectItem(an, "identical_text_different_label")->valuedouble == 1,
          "one label conflict");
    cJSON *ex = cJSON_GetArrayItem(cJSON_GetObjectItem(an, "examples"), 0);
    CHECK(t,
          ex && cJSON_GetObjectItem(ex, "line")->valuedouble == 41 &&
              cJSON_GetObjectItem(ex, "first_line")->valuedouble == 4,
          "conflict at line 41 vs line 4");
    cJSON *comp = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "completeness"), "label");
    CHECK(t, cJSON_GetObjectItem(comp, "blank")->valuedouble == 1, "blank label counted");
    cJSON *pmi =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "bias"), "pmi_top_terms"), "sport");
    int has_football = 0;
    for (cJSON *e = pmi ? pmi->child : NULL; e; e = e->next)
        has_football |= !strcmp(cJSON_GetObjectItem(e, "term")->valuestring, "football");
    CHECK(t, has_football, "football is among sport's PMI terms");
    cJSON *she =
        cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "bias"), "demographic_terms"), "she");
    CHECK(t, she && cJSON_GetObjectItem(she, "food")->valuedouble == 20, "'she' in 20 food documents");
    cJSON *lex = cJSON_GetObjectItem(j, "lexical");
    CHECK(t,
          cJSON_GetObjectItem(lex, "distinct_2")->valuedouble > 0 &&
              cJSON_GetObjectItem(lex, "distinct_2")->valuedouble < 1,
          "distinct-2 in (0, 1)");
    vkft_histogram h[4];
    int nh = vkft_report_histograms(r, h, 4);
    double total = 0;
    for (int i = 0; i < h[0].n; i++) total += h[0].values[i];
    CHECK(t, nh == 3 && total == 42, "3 histograms; the length histogram counts 42 texts");
    vkft_buf md = {0};
    const char *imgs[] = {"labels.png", NULL};
    vkft_report_markdown(j, imgs, &md);
    CHECK(t,
          strstr(md.p, "| records | 42 |") && strstr(md.p, "![labels.png](labels.png)") &&
              strstr(md.p, "identical text, different label"),
          "Markdown has the numbers and images");
    vkft_buf_free(&md);
    cJSON_Delete(j);
    cJSON_Delete(sum);
    vkft_report_free(r);
    unlink(in);
    rmdir(dir);
}

/* Distinct counts switch to HyperLogLog beyond a limit: the estimate stays within 3% of the exact count. */
static void test_distinct_estimate(test_state *t) {
    char dir[] = "/tmp/vkft_test_hll_XXXXXX";
    if (!mkdtemp(dir)) return;
    char in[256], err[512];
    snprintf(in, sizeof in, "%s/in.txt", dir);
    FILE *f = fopen(in, "w");
    uint64_t st = 5;
    for (int i = 0; i < 4000; i++) { /* 4000 lines of 25 words from 250 random tokens: bigrams repeat */
        for (int k = 0; k < 25; k++) fprintf(f, "w%llu ", (unsigned long long)(test_rand_u64(&st) % 250));
        fprintf(f, "\n");
    }
    fclose(f);
    double got[2][2];
    for (int pass = 0; pass < 2; pass++) {
        vkft_report_opts o;
        vkft_report_opts_defaults(&o);
        o.pii = 0;
        o.near_dup = 0;
        if (pass) o.distinct_exact_max = 100;
        vkft_report *r;
        vkft_step step;
        vkft_report_step_new(&r, &o, "text", "label", &step, err, sizeof err);
        vkft_data_io io;
        vkft_data_io_defaults(&io);
        const char *ins[1] = {in};
        io.inputs = ins;
        io.n_inputs = 1;
        cJSON *sum = cJSON_CreateObject();
        CHECK(t, vkft_data_run(&io, "report", &step, sum, err, sizeof err) == 0, "run: %s", err);
        cJSON *j = vkft_report_json(r), *lex = cJSON_GetObjectItem(j, "lexical");
        got[pass][0] = cJSON_GetObjectItem(lex, "distinct_words")->valuedouble;
        got[pass][1] = cJSON_GetObjectItem(lex, "distinct_2")->valuedouble;
        CHECK(t,
              !strcmp(cJSON_GetObjectItem(lex, "distinct_counting")->valuestring,
                      pass ? "HyperLogLog estimate (about 0.8% error)" : "exact"),
              "counting mode %d", pass);
        cJSON_Delete(j);
        cJSON_Delete(sum);
        vkft_report_free(r);
    }
    printf("distinct words exact %.0f, HyperLogLog %.0f; distinct-2 exact %.4f, HyperLogLog %.4f\n",
           got[0][0], got[1][0], got[0][1], got[1][1]);
    CHECK(t, fabs(got[1][0] / got[0][0] - 1) < 0.03, "distinct words estimate within 3%%");
    CHECK(t, fabs(got[1][1] / got[0][1] - 1) < 0.03, "distinct-2 estimate within 3%%");
    unlink(in);
    rmdir(dir);
}

static void test_pipeline(test_state *t) {
    const char *recipe = "{\"in\": \"a.jsonl\", \"out\": \"b.jsonl\", \"steps\": ["
                         "{\"step\": \"clean\", \"min_words\": 3, \"lowercase\": true, \"punct\": false,"
                         " \"missing\": [\"label=drop\", \"meta.x=fill:0\"]},"
                         "{\"step\": \"dedup\", \"threshold\": 0.85}]}";
    vkft_pipeline p;
    char err[512];
    CHECK(t, vkft_pipeline_parse(recipe, strlen(recipe), &p, err, sizeof err) == 0, "parse: %s", err);
    CHECK(t, p.n_steps == 2 && p.n_in == 1 && !strcmp(p.out, "b.jsonl"), "steps, in, out");
    char joined[512] = "";
    for (int i = 0; i < p.steps[0].argc; i++) {
        strcat(joined, p.steps[0].argv[i]);
        strcat(joined, " ");
    }
    CHECK(t, !strcmp(joined, "clean --min-words 3 --lowercase --missing label=drop --missing meta.x=fill:0 "),
          "clean args: %s", joined);
    CHECK(t, p.steps[1].argc == 3 && !strcmp(p.steps[1].argv[2], "0.85"), "dedup threshold");
    vkft_pipeline_free(&p);
    const char *bad[] = {"[1]",
                         "{\"steps\": []}",
                         "{\"steps\": [{\"step\": \"frobnicate\"}]}",
                         "{\"steps\": [{\"step\": \"dedup\", \"out\": \"x\"}]}",
                         "{\"stepz\": 1}",
                         "{\"steps\": [{\"step\": \"dedup\", \"threshold\": {\"a\": 1}}]}"};
    const char *want[] = {"not a JSON object",   "non-empty",   "unknown step",
                          "set by the pipeline", "unknown key", "must be true/false"};
    for (int i = 0; i < 6; i++) {
        int rc = vkft_pipeline_parse(bad[i], strlen(bad[i]), &p, err, sizeof err);
        CHECK(t, rc == -1 && strstr(err, want[i]), "bad recipe %d: %s", i, err);
    }
}

int main(void) {
    test_state t;
    test_begin(&t, "test_data_report_pipeline");
    test_mtld(&t);
    test_report(&t);
    test_distinct_estimate(&t);
    test_pipeline(&t);
    return test_finish(&t);
}
