/* error.c - phrases for the error enum. */
#include "error.h"

const char *amana_strerror(enum amana_err err)
{
	switch (err) {
	case AMANA_OK: return "ok";
	case AMANA_ERR_NOMEM: return "out of memory";
	case AMANA_ERR_IO: return "input/output error";
	case AMANA_ERR_USAGE: return "usage error";
	case AMANA_ERR_INPUT: return "input rejected";
	case AMANA_ERR_DENIED: return "access denied";
	case AMANA_ERR_NOTFOUND: return "not found";
	case AMANA_ERR_EXISTS: return "already exists";
	case AMANA_ERR_CRYPTO: return "cryptographic failure (wrong key or altered data)";
	case AMANA_ERR_CORRUPT: return "stored data is corrupt";
	case AMANA_ERR_STORE: return "database error";
	case AMANA_ERR_LIMIT: return "limit reached";
	}
	return "unknown error";
}
