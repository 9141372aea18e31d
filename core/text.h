/*
 * text.h - turning free text into the e-BDS character set.
 *
 * Writers upper-case, strip accents and turn punctuation into spaces
 * (spec/ebds.md); the same normal form feeds name blind indexes, so
 * "Benanni Fatima-Zahra" and "BENANNI FATIMA ZAHRA" match.
 */
#ifndef AMANA_CORE_TEXT_H
#define AMANA_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Normalize UTF-8 (or ASCII) text: Latin letters with diacritics lose them
 * (é -> E, ç -> C, œ -> OE, ß -> SS), letters are upper-cased, anything else
 * that is not A-Z or 0-9 becomes a space, runs of spaces fold to one, ends
 * are trimmed. Writes at most cap-1 bytes and a NUL; returns the length
 * written. Invalid UTF-8 bytes become spaces. */
size_t text_to_ebds(const char *in, size_t len, char *out, size_t cap);

/* True if s (len bytes) uses only A-Z, 0-9 and space. */
bool text_is_ebds(const char *s, size_t len);

#endif
