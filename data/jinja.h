/* A Jinja subset for chat templates (tokenizer_config.json's "chat_template"): enough to render the
 * templates models ship, with the whitespace rules Hugging Face uses (trim_blocks and lstrip_blocks on, one
 * trailing newline of the template dropped).
 *
 *   tags        {{ expr }}  {% stmt %}  {# comment #}, with '-' on either side to strip whitespace
 *   statements  if/elif/else, for (else, `if` filter, tuple targets, break/continue), set (to a name, a
 *               tuple, a namespace attribute, or a block: {% set x %}...{% endset %}), macro (defaults,
 *               keyword arguments), generation/endgeneration (ignored, as transformers renders them)
 *   expressions none/true/false (also None/True/False), numbers, strings, lists, tuples, dicts, a.b,
 *               a['b'], a[1:-1:2], calls, `x if c else y`, `x if c`, + - * / // % ** ~, == != < > <=
 *               >=, and or not, in / not in, is [not] TEST, | FILTER
 *   filters     abs capitalize count d default first float indent int items join last length list lower
 *               map (attribute= or a filter name) rejectattr replace reverse safe selectattr string title
 *               tojson (indent, sort_keys, separators, ensure_ascii) trim unique upper
 *   tests       defined undefined none string number integer float boolean true false mapping iterable
 *               sequence callable odd even lower upper divisibleby(n) eq/equalto(x) ne(x) in(x)
 *   methods     strings: strip lstrip rstrip (optional characters) startswith endswith (a string or a
 *               tuple) split (sep, maxsplit) replace (count) upper lower title capitalize join find count;
 *               dicts: items keys values get
 *   globals     raise_exception(msg) (the render fails with msg), range, namespace, strftime_now
 *
 * Semantics follow Python's Jinja2 as transformers configures it. Where @huggingface/jinja (the JavaScript
 * port the parity test compares with) differs, this follows Jinja2: none prints "None" and booleans print
 * "True"/"False"; `~` treats undefined as ""; lengths, indices and slices of strings count code points. A
 * list or dict printed directly prints as JSON (as @huggingface/jinja does); capitalize lowers the rest of
 * the string and split()/strip()/trim take whitespace as Python's str.isspace does. upper, lower, title and
 * capitalize change ASCII letters only. An attribute or item of undefined is undefined (no error).
 *
 * Errors are values: functions return 0 on success, -1 with "line L, column C: what" in err. */
#ifndef VKFT_JINJA_H
#define VKFT_JINJA_H
#include <stddef.h>

#include <cjson/cJSON.h>

typedef struct vkft_jinja vkft_jinja;

/* Parses a template (len bytes of UTF-8). Syntax errors, unknown filters and tests fail here. */
int vkft_jinja_parse(const char *src, size_t len, vkft_jinja **out, char *err, size_t errlen);
void vkft_jinja_free(vkft_jinja *t);

/* Renders with the members of vars (a JSON object; NULL: none) as variables. *out is malloc'd and
 * NUL-terminated; *out_len excludes the NUL. */
int vkft_jinja_render(const vkft_jinja *t, const cJSON *vars, char **out, size_t *out_len, char *err,
                      size_t errlen);
#endif
