/* vkft's Jinja subset (data/jinja.h) by hand: each construct with its expected text (Jinja2's, where
 * @huggingface/jinja differs, as data/jinja.h lists), and errors with the position and words they must
 * carry. No npm needed; test_data_chat_template compares whole templates with the reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "data/jinja.h"
#include "tests/test_util.h"

#define MSGS "\"messages\": [{\"role\": \"system\", \"content\": \" Be brief. \"}, {\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": \"Hello!\"}]"

static const struct {
    const char *tmpl, *vars, *want;
} OK_CASES[] = {
    /* text, comments, whitespace control, trim_blocks and lstrip_blocks */
    {"plain text", NULL, "plain text"},
    {"a {# comment #} b", NULL, "a  b"},
    {"a  {#- c -#}  b", NULL, "ab"},
    {"a\n{% if true %}\nyes\n{% endif %}\nb", NULL, "a\nyes\nb"},
    {"a\n    {% if true %}x{% endif %}", NULL, "a\nx"},
    {"a  {{- 'x' -}}  b", NULL, "axb"},
    {"{{ 'x' }}\n", NULL, "x"},
    {"{{ 'x' }}\ny", NULL, "x\ny"},
    {"  {{ 'keep' }}", NULL, "  keep"},
    /* literals and printing */
    {"{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 2.0 }} {{ 'a' \"b\" }}", NULL, "1 -2 1.5 2.0 ab"},
    {"{{ none }}|{{ true }}|{{ False }}|{{ undefined_name }}|", NULL, "None|True|False||"},
    {"{{ [1, 'a', none] }} {{ {'k': 1} }} {{ (1, 2) }}", NULL, "[1, \"a\", null] {\"k\": 1} [1, 2]"},
    {"{{ '\\n\\t\\'\\\"\\\\\\u00e9\\x41' }}", NULL, "\n\t'\"\\\xc3\xa9" "A"},
    /* variables, attributes, indexing, slicing */
    {"{{ messages[1]['content'] }}{{ messages[1].role }}{{ messages[-1].content }}", "{" MSGS "}", "HiuserHello!"},
    {"{{ messages[1:] | length }} {{ messages[:1][0].role }} {{ messages[::-1][0].role }}", "{" MSGS "}",
     "2 system assistant"},
    {"{{ 'h\xc3\xa9llo'[1] }}{{ 'h\xc3\xa9llo'[1:3] }}{{ 'abc'[-2:] }}{{ 'abc'[10] }}", NULL, "\xc3\xa9\xc3\xa9lbc"},
    {"{{ messages[5].content }}|{{ nothing.at.all }}|{{ {'a': 1}.b }}", "{" MSGS "}", "||"},
    /* operators */
    {"{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }}", NULL,
     "7 9 3.5 3 -4 2 1024"},
    {"{{ 'a' + 'b' }} {{ 'a' ~ 1 ~ none ~ undefined_x }} {{ [1] + [2] }} {{ '-' * 3 }}", NULL, "ab a1None [1, 2] ---"},
    {"{{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ 2 < 3 }} {{ 'b' >= 'a' }} {{ [1, 2] == [1, 2] }}", NULL,
     "True True True True True"},
    {"{{ 'ell' in 'hello' }} {{ 3 not in [1, 2] }} {{ 'k' in {'k': 0} }} {{ 'x' in undefined_y }}", NULL,
     "True True True False"},
    {"{{ 0 or 'fallback' }} {{ 1 and 'second' }} {{ not 0 }} {{ none or [] }}", NULL, "fallback second True []"},
    {"{{ 'y' if 1 > 2 else 'n' }} {{ 'shown' if true }}{{ 'hidden' if false }}", NULL, "n shown"},
    /* if / elif / else */
    {"{% if x == 1 %}one{% elif x == 2 %}two{% elif x == 3 %}three{% else %}many{% endif %}", "{\"x\": 3}", "three"},
    {"{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", "{\"x\": 9}", "many"},
    /* for: loop variables, filter, else, tuples, dicts, break/continue, scoping */
    {"{% for m in messages %}{{ loop.index0 }}{{ loop.index }}{{ loop.revindex }}{% if loop.first %}F{% endif %}"
     "{% if loop.last %}L{% endif %}/{{ loop.length }} {% endfor %}",
     "{" MSGS "}", "013F/3 122/3 231L/3 "},
    {"{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %}", "{" MSGS "}",
     "1:user 2:assistant "},
    {"{% for x in [] %}x{% else %}empty{% endfor %}", NULL, "empty"},
    {"{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", NULL, "a=1;b=2;"},
    {"{% for k in {'a': 1, 'b': 2} %}{{ k }}{% endfor %}{% for c in 'h\xc3\xa9' %}[{{ c }}]{% endfor %}", NULL,
     "ab[h][\xc3\xa9]"},
    {"{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}"
     "{% endfor %}",
     NULL, "0134"},
    {"{% for i in range(1, 7, 2) %}{{ i }}{% endfor %}{% for i in range(3, 0, -1) %}{{ i }}{% endfor %}", NULL,
     "135321"},
    {"{% for m in messages %}{{ loop.previtem.role if loop.previtem is defined else '-' }},{% endfor %}",
     "{" MSGS "}", "-,system,user,"},
    {"{% set x = 'out' %}{% for i in [1] %}{% set x = 'in' %}{% endfor %}{{ x }}", NULL, "out"},
    {"{% for a in [1, 2] %}{% for b in [3, 4] %}{{ loop.index }}{{ a }}{{ b }} {% endfor %}{% endfor %}", NULL,
     "113 214 123 224 "},
    /* set: names, tuples, blocks, namespaces */
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c = [3, 4] %}{% set d, e = c %}{{ e }}", NULL, "124"},
    {"{% set block %}x={{ 1 + 1 }}{% endset %}[{{ block }}]", NULL, "[x=2]"},
    {"{% set ns = namespace(n=0, s='') %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}",
     NULL, "6"},
    {"{% set ns = namespace(found=false) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.found = true %}"
     "{% endif %}{% endfor %}{{ ns.found }}",
     "{" MSGS "}", "True"},
    /* macros */
    {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', "
     "punct='?') }} {{ greet(punct='.', name='Cy') }}",
     NULL, "Hi Ann! Hi Bo? Hi Cy."},
    {"{% set g = 'top' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}", NULL, "top"},
    /* tests */
    {"{{ x is defined }}{{ y is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}",
     "{\"x\": 1}", "TrueFalseTrueTrueTrueTrue"},
    {"{{ {} is mapping }}{{ [] is iterable }}{{ 'a' is iterable }}{{ 1 is iterable }}{{ 3 is odd }}{{ 4 is even }}",
     NULL, "TrueTrueTrueFalseTrueTrue"},
    {"{{ 'x' is not none }}{{ 6 is divisibleby(3) }}{{ 'a' is eq('a') }}{{ true is boolean }}{{ 'abc' is lower }}",
     NULL, "TrueTrueTrueTrueTrue"},
    /* filters */
    {"[{{ '  a b  ' | trim }}] [{{ 'xxaxx' | trim('x') }}] {{ 'abc' | length }} {{ 'h\xc3\xa9' | length }} "
     "{{ [1, 2] | count }}",
     NULL, "[a b] [a] 3 2 2"},
    {"{{ 'Hello World' | upper }} {{ 'Hello World' | lower }} {{ 'hello wORLD' | title }} {{ 'hELLO' | capitalize }}",
     NULL, "HELLO WORLD hello world Hello World Hello"},
    {"{{ undefined_z | default('d') }} {{ '' | default('e') }} {{ '' | default('f', true) }} {{ 0 | d('g', "
     "boolean=true) }}",
     NULL, "d  f g"},
    {"{{ ['a', 'b', 1] | join }} {{ ['a', 'b'] | join(', ') }} {{ messages | map(attribute='role') | join('/') }}",
     "{" MSGS "}", "ab1 a, b system/user/assistant"},
    {"{{ 'a-b-b' | replace('b', 'c') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'ab' | replace('', '.') }}", NULL,
     "a-c-c bba .a.b."},
    {"{{ [3, 1, 2] | first }}{{ [3, 1, 2] | last }}{{ [1, 2] | reverse | list }}{{ [1, 1, 2] | unique | list }}", NULL,
     "32[2, 1][1, 2]"},
    {"{{ '42' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 3 | float }} {{ -3 | abs }} {{ 1 | string ~ 'x' }}",
     NULL, "43 0 2.5 3.0 3 1x"},
    {"{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}", NULL, "a\n  b\n\n  c|  a\n  b"},
    {"{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ messages | "
     "rejectattr('role', 'equalto', 'user') | list | length }}",
     "{" MSGS "}", "[\"Hi\"] 2"},
    {"{{ messages[1] | tojson }}|{{ {'b': [1, 2.5, none, true], 'a': 'é\"\\n'} | tojson(indent=2, sort_keys=true) }}",
     "{" MSGS "}",
     "{\"role\": \"user\", \"content\": \"Hi\"}|{\n  \"a\": \"é\\\"\\n\",\n  \"b\": [\n    1,\n    2.5,\n    null,\n    "
     "true\n  ]\n}"},
    {"{{ 'é' | tojson(ensure_ascii=true) }} {{ {'a': 1} | tojson(separators=(',', ':')) }} {{ [] | tojson(indent=2) }}",
     NULL, "\"\\u00e9\" {\"a\":1} []"},
    {"{% for k, v in {'x': 1} | items %}{{ k }}{{ v }}{% endfor %}{{ {'a': 1} | list }}", NULL, "x1[\"a\"]"},
    /* methods */
    {"[{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ '--x--'.strip('-') }}]", NULL,
     "[x][x  ][  x][x]"},
    {"{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'bc')) }}{{ 'abc'.upper() }}{{ 'ABC'.lower() }}", NULL,
     "TrueTrueABCabc"},
    {"{{ ' a  b '.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} {{ ', '.join(['x', 'y']) }}",
     NULL, "[\"a\", \"b\"] [\"a\", \"b\", \"\", \"c\"] [\"a\", \"b c\"] x, y"},
    {"{{ 'a.b.c'.replace('.', '/') }} {{ 'hello'.find('l') }} {{ 'hello'.count('l') }} {{ 'x y'.title() }}", NULL,
     "a/b/c 2 2 X Y"},
    {"{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b', 'none') }} {{ {'a': 1}.get('b') }} {{ {'a': 1, 'b': 2}.keys() }}"
     " {{ {'a': 1}.values() }}",
     NULL, "1 none None [\"a\", \"b\"] [1]"},
    /* transformers' generation markers render nothing */
    {"a{% generation %}b{% endgeneration %}c", NULL, "abc"},
};

static const struct {
    const char *tmpl, *vars, *want; /* want: a part of the error message */
} ERR_CASES[] = {
    {"ok {{ x ", NULL, "line 1, column 4: unterminated {{ (no }}"},
    {"a\n{% if true %}", NULL, "line 2, column 1: {% if %} is never closed (no {% endif %})"},
    {"{% for x in y %}{% endif %}", NULL, "unknown statement 'endif' here (nothing open to end)"},
    {"{# never closed", NULL, "line 1, column 1: unterminated comment"},
    {"x\n  {{ 'abc }}", NULL, "line 2, column 6: unterminated string"},
    {"{{ x | nosuchfilter }}", NULL, "line 1, column 8: unknown filter 'nosuchfilter'"},
    {"{{ x is nosuchtest }}", NULL, "line 1, column 9: unknown test 'nosuchtest'"},
    {"{% frobnicate %}", NULL, "unknown statement 'frobnicate'"},
    {"{{ 1 + }}", NULL, "line 1, column 8: expected a value"},
    {"{{ a b }}", NULL, "expected '}}', found 'b'"},
    {"{{ 1 $ 2 }}", NULL, "unexpected character '$'"},
    {"\n\n   {{ raise_exception('Roles must alternate') }}", NULL,
     "line 3, column 7: the template raised an error: Roles must alternate"},
    {"{{ 1 / 0 }}", NULL, "division by zero"},
    {"{{ 'a' - 1 }}", NULL, "cannot apply '-' to string and integer"},
    {"{{ x.y() }}", "{\"x\": {}}", "is not a function"},
    {"{% set x = 1 %}{% set x.a = 2 %}", NULL, "only a namespace() takes attributes"},
    {"{% for a, b in [1] %}{% endfor %}", NULL, "cannot unpack integer into 2 names"},
    {"{% for x in 5 %}{% endfor %}", NULL, "cannot loop over integer"},
    {"{{ 'abc' | first | tojson | items }}", NULL, "the filter 'items' does not apply to a string"},
    {"{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}", NULL, "macro 'f' takes 1 arguments, got 2"},
    {"{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", NULL, "more than 100 deep"},
};

int main(void) {
    test_state t;
    test_begin(&t, "test_data_jinja");
    char err[512];
    size_t n_ok = sizeof OK_CASES / sizeof OK_CASES[0], n_err = sizeof ERR_CASES / sizeof ERR_CASES[0], good = 0;
    for (size_t i = 0; i < n_ok; i++) {
        vkft_jinja *j = NULL;
        cJSON *vars = OK_CASES[i].vars ? cJSON_Parse(OK_CASES[i].vars) : NULL;
        char *out = NULL;
        size_t n = 0;
        int ok = vkft_jinja_parse(OK_CASES[i].tmpl, strlen(OK_CASES[i].tmpl), &j, err, sizeof err) == 0 &&
                 vkft_jinja_render(j, vars, &out, &n, err, sizeof err) == 0;
        int same = ok && n == strlen(OK_CASES[i].want) && !memcmp(out, OK_CASES[i].want, n);
        good += same;
        CHECK(&t, same, "template %s\n  want [%s]\n  got  [%s]", OK_CASES[i].tmpl, OK_CASES[i].want, ok ? out : err);
        free(out);
        vkft_jinja_free(j);
        cJSON_Delete(vars);
    }
    printf("%zu/%zu constructs render as expected\n", good, n_ok);
    good = 0;
    for (size_t i = 0; i < n_err; i++) {
        vkft_jinja *j = NULL;
        cJSON *vars = ERR_CASES[i].vars ? cJSON_Parse(ERR_CASES[i].vars) : NULL;
        char *out = NULL;
        size_t n = 0;
        err[0] = 0;
        int ok = vkft_jinja_parse(ERR_CASES[i].tmpl, strlen(ERR_CASES[i].tmpl), &j, err, sizeof err) == 0 &&
                 vkft_jinja_render(j, vars, &out, &n, err, sizeof err) == 0;
        int same = !ok && strstr(err, ERR_CASES[i].want);
        good += same;
        CHECK(&t, same, "template %s\n  want an error with [%s]\n  got  [%s]", ERR_CASES[i].tmpl, ERR_CASES[i].want,
              ok ? "no error" : err);
        free(out);
        vkft_jinja_free(j);
        cJSON_Delete(vars);
    }
    printf("%zu/%zu bad templates fail with the expected message\n", good, n_err);

    /* Random templates from fragments: each renders, or fails with a message that says where. */
    static const char *const frags[] = {
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", " if ", " elif ", " else ", " endif ", " for m in ",
        " endfor ", " set ", " = ", " ns.x ", " messages ", " m.content ", "'a'", "\"b\"", "|trim", "|length",
        "|tojson", "[", "]", "(", ")", ",", ":", "-", "+", "~", "*", "/", "%", " is ", " defined ", " not ", " and ",
        " or ", " in ", "'", "\\", "[1:]", "[::-1]", ".items()", " macro f(a, b=1) ", " endmacro ", "f(1)",
        "range(3)", "namespace(x=1)", "raise_exception('stop')", "loop.index", "1", "2.5", "none", "\n", "  ", "x",
        "{", "}", " break ", " continue ", "|join(', ')", ".split()", "|default('d')", "é", "\xff"};
    const size_t nf = sizeof frags / sizeof frags[0];
    uint64_t st = 7;
    size_t rendered = 0, failed_well = 0, runs = 3000;
    cJSON *vars = cJSON_Parse("{" MSGS "}");
    for (size_t r = 0; r < runs; r++) {
        char tmpl[2048] = "";
        size_t len = 1 + test_rand_u64(&st) % 24;
        for (size_t k = 0; k < len; k++) strncat(tmpl, frags[test_rand_u64(&st) % nf], sizeof tmpl - strlen(tmpl) - 1);
        vkft_jinja *j = NULL;
        char *out = NULL;
        size_t n = 0;
        err[0] = 0;
        if (vkft_jinja_parse(tmpl, strlen(tmpl), &j, err, sizeof err) == 0 &&
            vkft_jinja_render(j, vars, &out, &n, err, sizeof err) == 0) {
            rendered++;
        } else {
            int where = !strncmp(err, "line ", 5);
            failed_well += where;
            CHECK(&t, where, "random template [%s]: the error does not say where: [%s]", tmpl, err);
        }
        free(out);
        vkft_jinja_free(j);
    }
    cJSON_Delete(vars);
    printf("%zu random templates: %zu rendered, %zu failed with a position\n", runs, rendered, failed_well);
    CHECK(&t, rendered > 0 && rendered + failed_well == runs, "random templates: %zu rendered, %zu failed well",
          rendered, failed_well);
    return test_finish(&t);
}
