/* text.c - UTF-8 to the e-BDS character set (see text.h). */
#include "text.h"

#include <stdint.h>
#include <string.h>

/* Latin-1 supplement and Latin Extended-A letters to their base letters
 * (upper case). Index is code point - 0xC0; "" means "not a letter". */
static const char *const latin1[64] = {
	"A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I",  "I",
	"D", "N", "O", "O", "O", "O", "O",  "",  "O", "U", "U", "U", "U", "Y", "TH", "SS",
	"A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I",  "I",
	"D", "N", "O", "O", "O", "O", "O",  "",  "O", "U", "U", "U", "U", "Y", "TH", "Y",
};

static const char *ext_a(uint32_t cp)
{
	/* U+0100..U+017F come in upper/lower pairs grouped by base letter. */
	static const struct {
		uint32_t lo, hi;
		const char *base;
	} map[] = {
		{ 0x100, 0x105, "A" }, { 0x106, 0x10D, "C" },  { 0x10E, 0x111, "D" }, { 0x112, 0x11B, "E" },
		{ 0x11C, 0x123, "G" }, { 0x124, 0x127, "H" },  { 0x128, 0x131, "I" }, { 0x132, 0x133, "IJ" },
		{ 0x134, 0x135, "J" }, { 0x136, 0x138, "K" },  { 0x139, 0x142, "L" }, { 0x143, 0x14B, "N" },
		{ 0x14C, 0x151, "O" }, { 0x152, 0x153, "OE" }, { 0x154, 0x159, "R" }, { 0x15A, 0x161, "S" },
		{ 0x162, 0x167, "T" }, { 0x168, 0x173, "U" },  { 0x174, 0x175, "W" }, { 0x176, 0x178, "Y" },
		{ 0x179, 0x17E, "Z" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (cp >= map[i].lo && cp <= map[i].hi)
			return map[i].base;
	return "";
}

/* Decode one UTF-8 sequence; returns its length (>= 1) and the code point,
 * or 0xFFFD for an invalid byte (consumed alone). */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t v;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xE0) == 0xC0) {
		n = 2;
		v = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3;
		v = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4;
		v = c & 0x07;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (n > len) {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8
	 * (RFC 3629): treated as invalid, so no two byte strings that differ
	 * normalize to the same text by such a trick. */
	static const uint32_t min_for_len[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (v < min_for_len[n] || (v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) {
		*cp = 0xFFFD;
		return n;
	}
	*cp = v;
	return n;
}

size_t text_to_ebds(const char *in, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	bool pending_space = false;
	const unsigned char *s = (const unsigned char *)in;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		i += utf8_next(s + i, len - i, &cp);
		char one[2] = { 0, 0 };
		const char *rep = "";
		if (cp >= 'a' && cp <= 'z') {
			one[0] = (char)(cp - 'a' + 'A');
			rep = one;
		} else if ((cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')) {
			one[0] = (char)cp;
			rep = one;
		} else if (cp >= 0xC0 && cp <= 0xFF) {
			rep = latin1[cp - 0xC0];
		} else if (cp >= 0x100 && cp <= 0x17F) {
			rep = ext_a(cp);
		}
		if (rep[0] == '\0') {
			pending_space = o > 0;
			continue;
		}
		size_t rl = strlen(rep);
		if (o + (pending_space ? 1 : 0) + rl > cap - 1)
			break;
		if (pending_space)
			out[o++] = ' ';
		pending_space = false;
		memcpy(out + o, rep, rl);
		o += rl;
	}
	out[o] = '\0';
	return o;
}

bool text_is_ebds(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' '))
			return false;
	}
	return true;
}
