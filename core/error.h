/*
 * error.h - the one error enum of Amana.
 *
 * Every fallible function returns enum amana_err (AMANA_OK is 0), marked
 * AMANA_MUST_CHECK so a caller cannot drop it. The CLI maps these codes to exit
 * codes in exactly one place (cli/exitcode.c), later the HTTP layer to status
 * codes in exactly one place.
 */
#ifndef AMANA_CORE_ERROR_H
#define AMANA_CORE_ERROR_H

#define AMANA_MUST_CHECK __attribute__((warn_unused_result))

enum amana_err {
	AMANA_OK = 0,
	AMANA_ERR_NOMEM, /* allocation failed */
	AMANA_ERR_IO, /* a file or device failed */
	AMANA_ERR_USAGE, /* the caller asked for something malformed */
	AMANA_ERR_INPUT, /* input rejected; the errors were listed */
	AMANA_ERR_DENIED, /* access denied */
	AMANA_ERR_NOTFOUND, /* no such employer, person, declaration */
	AMANA_ERR_EXISTS, /* would overwrite or duplicate something */
	AMANA_ERR_CRYPTO, /* a key is missing or a ciphertext failed to open */
	AMANA_ERR_CORRUPT, /* stored data violates an invariant */
	AMANA_ERR_STORE, /* the database failed */
	AMANA_ERR_LIMIT, /* a bound was reached (size, count, capacity) */
};

/* A short English phrase for err, never NULL, never personal data. */
const char *amana_strerror(enum amana_err err);

#endif
