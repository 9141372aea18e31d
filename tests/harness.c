/* harness.c - see harness.h. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

const char *amana_bin(void)
{
	const char *b = getenv("AMANA_BIN");
	return b ? b : "amana";
}

static char *slurp_fd(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return NULL;
	lseek(fd, 0, SEEK_SET);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int run_argv(struct run_result *r, char *const argv[])
{
	memset(r, 0, sizeof(*r));
	char out_t[] = "/tmp/amana-test-outXXXXXX", err_t[] = "/tmp/amana-test-errXXXXXX";
	int ofd = mkstemp(out_t), efd = mkstemp(err_t);
	if (ofd < 0 || efd < 0)
		return -1;
	unlink(out_t);
	unlink(err_t);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, ofd, 1);
	posix_spawn_file_actions_adddup2(&fa, efd, 2);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		close(ofd);
		close(efd);
		return -1;
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = slurp_fd(ofd, &r->out_len);
	r->err = slurp_fd(efd, &r->err_len);
	close(ofd);
	close(efd);
	return r->out && r->err ? 0 : -1;
}

int run_amana(struct run_result *r, ...)
{
	char *argv[256];
	int n = 0;
	argv[n++] = (char *)amana_bin();
	va_list ap;
	va_start(ap, r);
	const char *a;
	while ((a = va_arg(ap, const char *)) && n < 255)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(r, argv);
}

pid_t spawn_amana(char *const args[])
{
	char *argv[256];
	int n = 0;
	argv[n++] = (char *)amana_bin();
	for (int i = 0; args[i] && n < 255; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return rc == 0 ? pid : -1;
}

void run_result_free(struct run_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

char *temp_dir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;
	if (asprintf(&path, "%s/amana-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0)
		return NULL;
	if (!mkdtemp(path)) {
		free(path);
		return NULL;
	}
	return path;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void remove_tree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	size_t n = 0;
	char *b = slurp_fd(fd, &n);
	close(fd);
	if (len)
		*len = n;
	return b;
}

int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	ssize_t w = write(fd, data, len);
	close(fd);
	return w == (ssize_t)len ? 0 : -1;
}

int init_registry(const char *dir)
{
	char home[4096], key[4096];
	snprintf(home, sizeof(home), "%s/reg", dir);
	snprintf(key, sizeof(key), "%s/key", dir);
	setenv("AMANA_HOME", home, 1);
	setenv("AMANA_KEY_FILE", key, 1);
	struct run_result r;
	if (run_amana(&r, "init", NULL) != 0)
		return -1;
	int st = r.status;
	run_result_free(&r);
	return st;
}
