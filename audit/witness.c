/*
 * witness.c - a witness folder, kept by a third party: the log's public key,
 * pinned the first time (public.key, the log's own format), and every head
 * it accepted (heads, the log's 120-byte records). Whether to accept a head
 * is the caller's decision; this module only keeps the files.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum amana_err audit_witness_pin(const char *dir, const uint8_t pk[AUDIT_PUBLIC_KEY_BYTES],
				 uint8_t pinned[AUDIT_PUBLIC_KEY_BYTES], bool *pinned_now)
{
	*pinned_now = false;
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return AMANA_ERR_IO;
	enum amana_err err = audit_read_public_key(dir, pinned);
	if (err != AMANA_ERR_NOTFOUND)
		return err;
	if ((err = audit_write_public_key(dir, pk)))
		return err;
	memcpy(pinned, pk, AUDIT_PUBLIC_KEY_BYTES);
	*pinned_now = true;
	return AMANA_OK;
}

enum amana_err audit_witness_last(const char *dir, struct audit_head *last, bool *have)
{
	*have = false;
	int fd = audit_open_in(dir, "heads", O_RDONLY, 0);
	if (fd < 0)
		return errno == ENOENT ? AMANA_OK : AMANA_ERR_IO;
	struct stat st;
	uint8_t rec[AUDIT_HEAD_RECORD];
	enum amana_err err = AMANA_OK;
	if (fstat(fd, &st) != 0)
		err = AMANA_ERR_IO;
	else if (st.st_size % AUDIT_HEAD_RECORD != 0)
		err = AMANA_ERR_CORRUPT;
	else if (st.st_size > 0 &&
		 !(err = audit_pread_all(fd, rec, sizeof(rec), (uint64_t)st.st_size - AUDIT_HEAD_RECORD)))
		err = audit_head_decode(rec, last) ? (*have = true, AMANA_OK) : AMANA_ERR_CORRUPT;
	close(fd);
	return err;
}

enum amana_err audit_witness_append(const char *dir, const struct audit_head *h)
{
	int fd = audit_open_in(dir, "heads", O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0)
		return AMANA_ERR_IO;
	struct stat st;
	uint8_t rec[AUDIT_HEAD_RECORD];
	audit_head_encode(h, rec);
	enum amana_err err =
	    fstat(fd, &st) != 0 ? AMANA_ERR_IO : audit_pwrite_all(fd, rec, sizeof(rec), (uint64_t)st.st_size);
	if (!err)
		err = audit_sync_fd(fd);
	close(fd);
	return err;
}
