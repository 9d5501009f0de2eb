/* WordNet synonyms, read straight from the database files of Debian's `wordnet-base`
 * (/usr/share/wordnet/index.{noun,verb,adj,adv} and data.*): the lemmas of the first few senses of a
 * word in every part of speech. Index files are loaded into memory (about 7 MB) and searched by
 * binary search; synsets are read from the data files by byte offset. */
#ifndef VKFT_DATA_WORDNET_H
#define VKFT_DATA_WORDNET_H
#include <stddef.h>

#include "data/records.h"

#define VKFT_WORDNET_DEFAULT_DIR "/usr/share/wordnet"

typedef struct vkft_wordnet vkft_wordnet;
/* dir NULL: $WNSEARCHDIR, else /usr/share/wordnet. */
int vkft_wordnet_open(vkft_wordnet **wn, const char *dir, char *err, size_t errlen);
void vkft_wordnet_close(vkft_wordnet *wn);
/* Synonyms of word (case-insensitive; multi-word lemmas with spaces) from its first max_senses senses
 * per part of speech, excluding the word itself; appended to out as NUL-terminated strings. Returns
 * the count (0 when the word is unknown). */
int vkft_wordnet_synonyms(vkft_wordnet *wn, const char *word, size_t n, int max_senses, vkft_buf *out);
#endif
