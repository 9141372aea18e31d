/* test_text.c - free text to the e-BDS character set (core/text.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/text.h"

#define CAP 256

/* Convert s (NUL-terminated) with a roomy buffer; returns the static result. */
static const char *conv(const char *s)
{
	static char out[CAP];
	size_t n = text_to_ebds(s, strlen(s), out, sizeof(out));

	assert_int_equal(n, strlen(out));
	return out;
}

static const char *conv_n(const char *s, size_t len)
{
	static char out[CAP];
	size_t n = text_to_ebds(s, len, out, sizeof(out));

	assert_int_equal(n, strlen(out));
	return out;
}

/* What every output must be: A-Z 0-9 and single inner spaces. */
static void assert_normal_form(const char *s)
{
	size_t n = strlen(s);

	assert_true(text_is_ebds(s, n));
	if (n == 0)
		return;
	if (s[0] == ' ' || s[n - 1] == ' ')
		fail_msg("\"%s\": blank at an end", s);
	if (strstr(s, "  "))
		fail_msg("\"%s\": double blank", s);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(conv("Fatima-Zahra Benanni"), "FATIMA ZAHRA BENANNI");
	assert_string_equal(conv("Benanni Fatima-Zahra"), "BENANNI FATIMA ZAHRA");
	assert_string_equal(conv("\xC5\x92uvre \xC3\x87"
				 "a \xC3\xA9t\xC3\xA9"),
			    "OEUVRE CA ETE"); /* Œuvre Ça été */
	assert_string_equal(conv("El Idrissi, Mohamed"), "EL IDRISSI MOHAMED");
	assert_string_equal(conv("M'hamed O'Brien"), "M HAMED O BRIEN");
	assert_string_equal(conv("Rue 12, n\xC2\xB0"
				 "5"),
			    "RUE 12 N 5"); /* ° is not a letter */
	assert_string_equal(conv("BENANNI FATIMA ZAHRA"), "BENANNI FATIMA ZAHRA");
	assert_string_equal(conv("abc xyz 0123456789"), "ABC XYZ 0123456789");
}

static void test_latin1_letters(void **state)
{
	(void)state;
	/* U+00C0..U+00DF */
	assert_string_equal(conv("\xC3\x80\xC3\x81\xC3\x82\xC3\x83\xC3\x84\xC3\x85"), "AAAAAA");
	assert_string_equal(conv("\xC3\x86"), "AE");
	assert_string_equal(conv("\xC3\x87"), "C");
	assert_string_equal(conv("\xC3\x88\xC3\x89\xC3\x8A\xC3\x8B"), "EEEE");
	assert_string_equal(conv("\xC3\x8C\xC3\x8D\xC3\x8E\xC3\x8F"), "IIII");
	assert_string_equal(conv("\xC3\x90\xC3\x91"), "DN");
	assert_string_equal(conv("\xC3\x92\xC3\x93\xC3\x94\xC3\x95\xC3\x96\xC3\x98"), "OOOOOO");
	assert_string_equal(conv("\xC3\x99\xC3\x9A\xC3\x9B\xC3\x9C"), "UUUU");
	assert_string_equal(conv("\xC3\x9D"), "Y");
	assert_string_equal(conv("\xC3\x9E"), "TH");
	assert_string_equal(conv("stra\xC3\x9F"
				 "e"),
			    "STRASSE"); /* ß */
	/* lower case, U+00E0..U+00FF */
	assert_string_equal(conv("\xC3\xA0\xC3\xA1\xC3\xA2\xC3\xA3\xC3\xA4\xC3\xA5"), "AAAAAA");
	assert_string_equal(conv("\xC3\xA6\xC3\xA7"), "AEC");
	assert_string_equal(conv("\xC3\xA8\xC3\xA9\xC3\xAA\xC3\xAB"), "EEEE");
	assert_string_equal(conv("\xC3\xAC\xC3\xAD\xC3\xAE\xC3\xAF"), "IIII");
	assert_string_equal(conv("\xC3\xB0\xC3\xB1"), "DN");
	assert_string_equal(conv("\xC3\xB2\xC3\xB3\xC3\xB4\xC3\xB5\xC3\xB6\xC3\xB8"), "OOOOOO");
	assert_string_equal(conv("\xC3\xB9\xC3\xBA\xC3\xBB\xC3\xBC"), "UUUU");
	assert_string_equal(conv("\xC3\xBD\xC3\xBE\xC3\xBF"), "YTHY");
	/* × and ÷ are not letters */
	assert_string_equal(conv("A\xC3\x97"
				 "B\xC3\xB7"
				 "C"),
			    "A B C");
	/* Latin-1 punctuation and symbols: NBSP, «», ¿, µ, ª */
	assert_string_equal(conv("A\xC2\xA0"
				 "B"),
			    "A B");
	assert_string_equal(conv("\xC2\xAB"
				 "Oui\xC2\xBB"),
			    "OUI");
	assert_string_equal(conv("\xC2\xBF"
				 "Qui"),
			    "QUI");
	assert_string_equal(conv("5\xC2\xB5m"), "5 M");
}

static void test_latin_extended_a(void **state)
{
	(void)state;
	assert_string_equal(conv("\xC5\x81\xC3\xB3"
				 "d\xC5\xBA"),
			    "LODZ"); /* Łódź */
	assert_string_equal(conv("\xC5\xA0koda \xC5\xBDi\xC5\xBEkov"), "SKODA ZIZKOV"); /* Škoda Žižkov */
	assert_string_equal(conv("\xC4\xB2ssel"), "IJSSEL"); /* Ĳ */
	assert_string_equal(conv("\xC5\x93"
				 "uf"),
			    "OEUF"); /* œ */
	assert_string_equal(conv("\xC4\xB1"
				 "stanbul"),
			    "ISTANBUL"); /* dotless ı */
	assert_string_equal(conv("\xC4\x8C\xC4\x8D\xC4\x86\xC4\x87"), "CCCC");
	assert_string_equal(conv("\xC4\x80\xC4\x81\xC4\x84\xC4\x85"), "AAAA");
	assert_string_equal(conv("\xC4\x98\xC4\x9A"), "EE");
	assert_string_equal(conv("\xC4\x9E\xC4\xA2"), "GG");
	assert_string_equal(conv("\xC5\x83\xC5\x88"), "NN");
	assert_string_equal(conv("\xC5\x98\xC5\x99"), "RR");
	assert_string_equal(conv("\xC5\x9E\xC5\x9F"), "SS");
	assert_string_equal(conv("\xC5\xA2\xC5\xA3"), "TT");
	assert_string_equal(conv("\xC5\xAE\xC5\xB3"), "UU");
	assert_string_equal(conv("\xC5\xB4\xC5\xB6\xC5\xB8"), "WYY");
	assert_string_equal(conv("\xC5\xB9\xC5\xBE"), "ZZ");
	assert_string_equal(conv("\xC4\x90\xC4\x91"), "DD");
	assert_string_equal(conv("\xC4\xA6\xC4\xB4\xC4\xB6\xC4\xB9"), "HJKL");
}

static void test_other_scripts(void **state)
{
	(void)state;
	/* Arabic, emoji, CJK: not letters of the set, so blanks. */
	assert_string_equal(conv("\xD9\x85\xD8\xAD\xD9\x85\xD8\xAF Ali"), "ALI");
	assert_string_equal(conv("A\xF0\x9F\x98\x80"
				 "B"),
			    "A B");
	assert_string_equal(conv("\xE4\xB8\xAD\xE6\x96\x87"), "");
	/* Greek capital alpha is not A. */
	assert_string_equal(conv("\xCE\x91"
				 "B"),
			    "B");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	/* Invalid bytes become blanks (folded, trimmed). */
	assert_string_equal(conv("A\xFF"
				 "B"),
			    "A B");
	assert_string_equal(conv("A\xFE\xFF"
				 "B"),
			    "A B");
	assert_string_equal(conv("A\x80"
				 "B"),
			    "A B"); /* lone continuation */
	assert_string_equal(conv("A\x80\xBF\x80"
				 "B"),
			    "A B");
	assert_string_equal(conv("A\xC3"
				 "B"),
			    "A B"); /* lead without continuation */
	assert_string_equal(conv("A\xC3"), "A"); /* cut at the end */
	assert_string_equal(conv("A\xE2\x82"), "A"); /* 3-byte, cut */
	assert_string_equal(conv("A\xF0\x9F\x98"), "A"); /* 4-byte, cut */
	assert_string_equal(conv("\xC3\x28"
				 "A"),
			    "A"); /* ( after a bad lead */
	assert_string_equal(conv("A\xE2\x28\xA1"
				 "B"),
			    "A B");
	assert_string_equal(conv("\xF8\x88\x80\x80\x80"
				 "Z"),
			    "Z"); /* 5-byte form */
	assert_string_equal(conv("A\xED\xA0\x80"
				 "B"),
			    "A B"); /* surrogate */
	assert_string_equal(conv("A\xF4\x90\x80\x80"
				 "B"),
			    "A B"); /* past U+10FFFF */
	/* A bad byte never eats the letter after it. */
	assert_string_equal(conv("\xC3\xC3\xA9"), "E");
	assert_string_equal(conv("\xE2\xC3\xA9"
				 "t\xC3\xA9"),
			    "ETE");
	/* Length, not NUL, ends the input. */
	assert_string_equal(conv_n("A\0B", 3), "A B");
	assert_string_equal(conv_n("ABC", 2), "AB");
	assert_string_equal(conv_n("\xC3\xA9", 1), ""); /* cut inside é by len */
}

/*
 * BUG: (found by this test, fixed in core/text.c since) text.h says
 * "Invalid UTF-8 bytes become spaces", but overlong encodings (invalid
 * UTF-8 per RFC 3629) were decoded as if valid:
 * "X\xC1\x81Y" (overlong 'A') gave "XAY", expected "X Y";
 * "\xC0\xB1" (overlong '1') gave "1", expected "";
 * "\xE0\x83\xA9" (overlong U+00E9 é) gave "E", expected "".
 * The same letters can then be smuggled past a byte-level filter, and two
 * byte strings that differ normalize to one blind-index value.
 */
static void test_overlong_utf8(void **state)
{
	(void)state;
	assert_string_equal(conv("X\xC1\x81Y"), "X Y");
	assert_string_equal(conv("\xC0\xB1"), "");
	assert_string_equal(conv("\xE0\x83\xA9"), "");
	assert_string_equal(conv("\xF0\x80\x81\x81"), "");
}

/*
 * AMBIGUOUS: decomposed accents (NFD: "E" + U+0301 COMBINING ACUTE) are "not
 * A-Z or 0-9", and text.h says those become spaces, so "E\xCC\x81t\xC3\xA9"
 * gives "E TE", not "ETE" as the composed form does. Pinned as it is; see
 * the report.
 */
static void test_combining_marks(void **state)
{
	(void)state;
	assert_string_equal(conv("E\xCC\x81t\xC3\xA9"), "E TE");
	assert_string_equal(conv("\xC3\x89t\xC3\xA9"), "ETE");
}

static void test_punctuation_and_blanks(void **state)
{
	(void)state;
	assert_string_equal(conv("  --Ben,, Anni!!  "), "BEN ANNI");
	assert_string_equal(conv("...Ben"), "BEN");
	assert_string_equal(conv("Ben..."), "BEN");
	assert_string_equal(conv("A  \t\r\n  B"), "A B");
	assert_string_equal(conv("A.-_/\\'\"()[]{}<>@#$%^&*+=~`|;:?!,B"), "A B");
	assert_string_equal(conv("---"), "");
	assert_string_equal(conv("   "), "");
	assert_string_equal(conv(" \xC3\x97 "), "");
	assert_string_equal(conv("\t\tA\t\t"), "A");
}

static void test_empty(void **state)
{
	char out[8];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(text_to_ebds("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	memset(out, 'x', sizeof(out));
	assert_int_equal(text_to_ebds("ABC", 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* cap 0: nothing written at all */
	memset(out, 'x', sizeof(out));
	assert_int_equal(text_to_ebds("ABC", 3, out, 0), 0);
	assert_int_equal(out[0], 'x');
	/* cap 1: only the terminator */
	assert_int_equal(text_to_ebds("ABC", 3, out, 1), 0);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'x');
}

/* Truncation: never more than cap - 1 bytes, always terminated, never a
 * partial replacement (OE, SS, TH), never a trailing blank, always a prefix
 * of the full result. */
static void check_truncation(const char *in)
{
	char full[CAP];
	size_t full_len = text_to_ebds(in, strlen(in), full, sizeof(full));

	for (size_t cap = 0; cap <= full_len + 3; cap++) {
		char out[CAP + 8];
		memset(out, '#', sizeof(out));
		size_t n = text_to_ebds(in, strlen(in), out, cap);
		if (cap == 0) {
			assert_int_equal(n, 0);
			assert_int_equal(out[0], '#');
			continue;
		}
		assert_true(n < cap);
		assert_int_equal(out[n], '\0');
		assert_int_equal(strlen(out), n);
		for (size_t k = n + 1; k < sizeof(out); k++)
			if (out[k] != '#')
				fail_msg("\"%s\" cap %zu: byte %zu written past the result", in, cap, k);
		assert_normal_form(out);
		assert_memory_equal(out, full, n);
		if (cap >= full_len + 1) {
			assert_int_equal(n, full_len);
			assert_string_equal(out, full);
		}
	}
}

static void test_truncation(void **state)
{
	char out[8];

	(void)state;
	check_truncation("Fatima-Zahra Benanni");
	check_truncation("\xC5\x92uvre \xC3\x87"
			 "a \xC3\xA9t\xC3\xA9");
	check_truncation("\xC5\x92\xC5\x92 \xC3\x9F\xC3\x9F \xC3\x9E\xC3\x86 \xC4\xB2");
	check_truncation("A B C D E F G H");
	check_truncation("--A--B--");

	/* Never half of a two-letter replacement. */
	assert_int_equal(text_to_ebds("\xC5\x92", 2, out, 2), 0); /* Œ needs 2 */
	assert_string_equal(out, "");
	assert_int_equal(text_to_ebds("A\xC5\x92", 3, out, 3), 1);
	assert_string_equal(out, "A");
	assert_int_equal(text_to_ebds("A\xC5\x92", 3, out, 4), 3);
	assert_string_equal(out, "AOE");
	assert_int_equal(text_to_ebds("\xC3\x9F", 2, out, 2), 0); /* ß */
	/* Never a blank at the cut. */
	assert_int_equal(text_to_ebds("AB CD", 5, out, 4), 2);
	assert_string_equal(out, "AB");
	assert_int_equal(text_to_ebds("AB CD", 5, out, 5), 4);
	assert_string_equal(out, "AB C");
	/* The e-BDS name field: 60 characters out of a longer name. */
	char name[61];
	const char *longname = "Benanni Fatima-Zahra bent Mohamed ben Abdelkader El Fassi Alaoui Idrissi";
	size_t n = text_to_ebds(longname, strlen(longname), name, sizeof(name));
	assert_true(n <= 60);
	assert_string_equal(name, "BENANNI FATIMA ZAHRA BENT MOHAMED BEN ABDELKADER EL FASSI AL");
	assert_int_equal(n, 60);
}

/* Pseudo-random bytes (fixed seed), with a bias to UTF-8 lead and
 * continuation bytes: every output is in normal form and converting it
 * again changes nothing. */
static void test_random_inputs(void **state)
{
	uint32_t x = 2463534242u;

	(void)state;
	for (unsigned round = 0; round < 20000; round++) {
		unsigned char in[64];
		char out[48], again[48];
		size_t len = round % 64;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			unsigned char b = (unsigned char)x;
			switch ((x >> 8) % 4) {
			case 0: in[i] = (unsigned char)(0x80 | (b & 0x3F)); break;
			case 1: in[i] = (unsigned char)(0xC0 | (b & 0x1F)); break;
			case 2: in[i] = (unsigned char)("aZ -9.\xC3\xC5"[b % 8]); break;
			default: in[i] = b; break;
			}
		}
		size_t cap = 1 + (x >> 16) % sizeof(out);
		size_t n = text_to_ebds((const char *)in, len, out, cap);
		assert_true(n < cap);
		assert_int_equal(strlen(out), n);
		assert_normal_form(out);
		size_t m = text_to_ebds(out, n, again, sizeof(again));
		assert_int_equal(m, n);
		assert_string_equal(again, out);
	}
}

static void test_idempotent(void **state)
{
	const char *inputs[] = {
		"Fatima-Zahra Benanni",
		"\xC5\x92uvre \xC3\x87"
		"a \xC3\xA9t\xC3\xA9",
		"  x  ",
		"A\xFF"
		"B",
		"",
		"stra\xC3\x9F"
		"e",
		"12 rue 3",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char once[CAP];
		snprintf(once, sizeof(once), "%s", conv(inputs[i]));
		assert_string_equal(conv(once), once);
		assert_normal_form(once);
	}
}

static void test_is_ebds(void **state)
{
	(void)state;
	assert_true(text_is_ebds("ABC 123", 7));
	assert_true(text_is_ebds("", 0));
	assert_true(text_is_ebds("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ", 37));
	assert_true(text_is_ebds("  ", 2)); /* blanks are in the set */
	assert_false(text_is_ebds("abc", 3));
	assert_false(text_is_ebds("ABc", 3));
	assert_false(text_is_ebds("A-B", 3));
	assert_false(text_is_ebds("A\tB", 3)); /* the normal form has no tab */
	assert_false(text_is_ebds("A\nB", 3));
	assert_false(text_is_ebds("\xC3\x89", 2));
	assert_false(text_is_ebds("A\0B", 3));
	assert_false(text_is_ebds("@", 1));
	assert_false(text_is_ebds("[", 1));
	assert_false(text_is_ebds("/", 1));
	assert_false(text_is_ebds(":", 1));
	assert_false(text_is_ebds("`", 1));
	assert_false(text_is_ebds("{", 1));
	/* Only len bytes are looked at. */
	assert_true(text_is_ebds("ABCd", 3));
	assert_false(text_is_ebds("ABCd", 4));
	/* Every byte value: exactly 37 are in the set. */
	unsigned in_set = 0;
	for (unsigned b = 0; b < 256; b++) {
		char c = (char)b;
		if (text_is_ebds(&c, 1))
			in_set++;
	}
	assert_int_equal(in_set, 37);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_latin1_letters),
		cmocka_unit_test(test_latin_extended_a),
		cmocka_unit_test(test_other_scripts),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_overlong_utf8),
		cmocka_unit_test(test_combining_marks),
		cmocka_unit_test(test_punctuation_and_blanks),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_random_inputs),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_is_ebds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
