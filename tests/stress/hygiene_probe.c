/*
 * `hygiene_probe MODE [FILE]`: checks that the shim leaves the program's own
 * process state alone while it works hard: large requests, refusals under
 * SAFEEXEC_MEMORY_LIMIT, stalls, mmap and threads, while the test turns on
 * the log and trace files. Each mode prints key=value lines that the test
 * compares with a run without the shim:
 *   fds       open descriptors above 2 at the start of main and after the
 *             work (fds_start, fds_end), and what a thread that scans
 *             /proc/self/fd meanwhile saw: descriptors opened since the
 *             start (new_seen) and those of them without FD_CLOEXEC
 *             (not_cloexec);
 *   closefds  closes every descriptor above 2, opens FILE as the program's
 *             own (it gets descriptor 3), works, and reports whether FILE
 *             holds only what the program wrote (own_file_intact);
 *   signals   a digest of every signal's disposition and the signal mask,
 *             at the start and after the work;
 *   errno     calls of the allocation family that succeeded but changed
 *             errno (errno_changed, and their names);
 *   rlimits   every resource limit at the start and after the work.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define ERRNO_MARK 4242

static char changed_names[512];
static int errno_changed;

/* Records name when a successful call changed errno from ERRNO_MARK. */
static void
check_errno(const char *name, int succeeded)
{
	if (succeeded && errno != ERRNO_MARK) {
		errno_changed++;
		if (strlen(changed_names) + strlen(name) + 2 < sizeof(changed_names)) {
			strcat(changed_names, name);
			strcat(changed_names, ",");
		}
	}
	errno = ERRNO_MARK;
}

static void *
thread_work(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 50; i++) {
		char *p;

		errno = ERRNO_MARK;
		p = malloc((size_t)2 << 20);
		check_errno("thread malloc", p != NULL);
		if (p != NULL) {
			p[0] = 1;
		}
		free(p);
		check_errno("thread free", 1);
	}
	return NULL;
}

/* The work: large and small requests of every kind, refusals, mmap, threads. */
static void
work(void)
{
	void *blocks[16] = { NULL }, *p = NULL;
	pthread_t threads[4];
	int i;

	errno = ERRNO_MARK;
	for (i = 0; i < 100; i++) {
		char *small = malloc((size_t)i * 10 + 1), *large = malloc((size_t)3 << 20);

		check_errno("malloc", small != NULL && large != NULL);
		if (large != NULL) {
			memset(large, 1, (size_t)3 << 20);
		}
		free(small);
		free(large);
		check_errno("free", 1);
	}
	/* Up to 1 GiB in 64 MiB blocks: a 256M budget refuses some of them. */
	for (i = 0; i < 16; i++) {
		blocks[i] = malloc((size_t)64 << 20);
		if (blocks[i] == NULL) {
			errno = ERRNO_MARK;
			break;
		}
		memset(blocks[i], 1, (size_t)64 << 20);
		check_errno("malloc 64M", 1);
	}
	for (i = 0; i < 16; i++) {
		free(blocks[i]);
	}
	check_errno("free 64M", 1);

	p = calloc(4, (size_t)1 << 20);
	check_errno("calloc", p != NULL);
	p = realloc(p, (size_t)16 << 20);
	check_errno("realloc", p != NULL);
	check_errno("malloc_usable_size", malloc_usable_size(p) >= ((size_t)16 << 20));
	free(p);
	check_errno("posix_memalign", posix_memalign(&p, 4096, (size_t)8 << 20) == 0);
	free(p);
	p = aligned_alloc(65536, (size_t)8 << 20);
	check_errno("aligned_alloc", p != NULL);
	free(p);
	p = memalign(4096, (size_t)2 << 20);
	check_errno("memalign", p != NULL);
	free(p);
	p = valloc((size_t)2 << 20);
	check_errno("valloc", p != NULL);
	free(p);
	p = mmap(NULL, (size_t)8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	check_errno("mmap", p != MAP_FAILED);
	if (p != MAP_FAILED) {
		memset(p, 1, (size_t)8 << 20);
		check_errno("munmap", munmap(p, (size_t)8 << 20) == 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_create(&threads[i], NULL, thread_work, NULL);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
	}
}

#define FDS_TRACKED 1024

/* Descriptors open at the start of main: the parent's, not the shim's. */
static bool inherited[FDS_TRACKED];

/*
 * Writes the descriptors above 2 (except the scanner's own) as "3,5,..." to
 * out, counts in *new_seen those not inherited and in *not_cloexec those of
 * them that lack FD_CLOEXEC. With mark set, records every descriptor seen
 * as inherited.
 */
static void
list_fds(char *out, size_t size, int *new_seen, int *not_cloexec, bool mark)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *entry;
	size_t used = 0;

	out[0] = '\0';
	if (dir == NULL) {
		snprintf(out, size, "unreadable");
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		int fd = atoi(entry->d_name);
		int flags;

		if (entry->d_name[0] == '.' || fd <= 2 || fd == dirfd(dir)) {
			continue;
		}
		if (mark && fd < FDS_TRACKED) {
			inherited[fd] = true;
		}
		flags = fcntl(fd, F_GETFD);
		if (new_seen != NULL && flags >= 0 && (fd >= FDS_TRACKED || !inherited[fd])) {
			(*new_seen)++;
			if ((flags & FD_CLOEXEC) == 0) {
				(*not_cloexec)++;
			}
		}
		if (used + 16 < size) {
			used += (size_t)snprintf(out + used, size - used, "%d,", fd);
		}
	}
	closedir(dir);
}

static atomic_bool scanning;
static int scanner_not_cloexec, scanner_new_seen;
static long scans;

static void *
scan_fds(void *arg)
{
	char ignored[1024];

	(void)arg;
	while (atomic_load(&scanning)) {
		list_fds(ignored, sizeof(ignored), &scanner_new_seen, &scanner_not_cloexec, false);
		scans++;
	}
	return NULL;
}

static int
mode_fds(void)
{
	char start[1024], end[1024];
	pthread_t scanner;

	list_fds(start, sizeof(start), NULL, NULL, true);
	atomic_store(&scanning, true);
	pthread_create(&scanner, NULL, scan_fds, NULL);
	work();
	atomic_store(&scanning, false);
	pthread_join(scanner, NULL);
	list_fds(end, sizeof(end), NULL, NULL, false);
	printf("fds_start=%s\nfds_end=%s\nnew_seen=%d\nnot_cloexec=%d\nscans=%ld\n", start,
	    end, scanner_new_seen, scanner_not_cloexec, scans);
	return 0;
}

static int
mode_closefds(const char *path)
{
	static const char own_text[] = "the program's own line\n";
	char buffer[256];
	ssize_t length;
	int fd;

	closefrom(3);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd != 3) {
		printf("own_fd=%d\n", fd);
		return 1;
	}
	if (write(fd, own_text, sizeof(own_text) - 1) != (ssize_t)sizeof(own_text) - 1) {
		return 1;
	}
	work();
	length = pread(fd, buffer, sizeof(buffer) - 1, 0);
	buffer[length > 0 ? length : 0] = '\0';
	printf("own_fd=%d\nown_file_intact=%d\nerrno_changed=%d\n", fd,
	    strcmp(buffer, own_text) == 0, errno_changed);
	close(fd);
	return 0;
}

/* FNV-1a over every signal's handler, flags and mask, and the thread's signal mask. */
static unsigned long long
signal_digest(void)
{
	unsigned long long hash = 1469598103934665603ULL;
	sigset_t mask;
	int signal_number;
	size_t i;

	for (signal_number = 1; signal_number < NSIG; signal_number++) {
		struct sigaction action;
		const unsigned char *bytes;

		if (sigaction(signal_number, NULL, &action) != 0) {
			continue;
		}
		bytes = (const unsigned char *)&action.sa_handler;
		for (i = 0; i < sizeof(action.sa_handler); i++) {
			hash = (hash ^ bytes[i]) * 1099511628211ULL;
		}
		hash = (hash ^ (unsigned)action.sa_flags) * 1099511628211ULL;
		for (i = 1; i < NSIG; i++) {
			hash = (hash ^ (unsigned)sigismember(&action.sa_mask, (int)i)) * 1099511628211ULL;
		}
	}
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	for (i = 1; i < NSIG; i++) {
		hash = (hash ^ (unsigned)sigismember(&mask, (int)i)) * 1099511628211ULL;
	}
	return hash;
}

static int
mode_signals(void)
{
	unsigned long long start = signal_digest();

	work();
	printf("signals_start=%llx\nsignals_end=%llx\n", start, signal_digest());
	return 0;
}

static int
mode_errno(void)
{
	errno = ERRNO_MARK;
	work();
	printf("errno_changed=%d\nchanged=%s\n", errno_changed, changed_names);
	return 0;
}

static void
format_rlimits(char *out, size_t size)
{
	size_t used = 0;
	int resource;

	for (resource = 0; resource < RLIM_NLIMITS; resource++) {
		struct rlimit limit;

		if (getrlimit(resource, &limit) != 0) {
			continue;
		}
		used += (size_t)snprintf(out + used, size - used, "%d:%llx:%llx,", resource,
		    (unsigned long long)limit.rlim_cur, (unsigned long long)limit.rlim_max);
		if (used >= size) {
			break;
		}
	}
}

static int
mode_rlimits(void)
{
	char start[1024], end[1024];

	format_rlimits(start, sizeof(start));
	work();
	format_rlimits(end, sizeof(end));
	printf("rlimits_start=%s\nrlimits_end=%s\n", start, end);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: hygiene_probe fds|closefds FILE|signals|errno|rlimits\n");
		return 2;
	}
	if (strcmp(argv[1], "fds") == 0) {
		return mode_fds();
	}
	if (strcmp(argv[1], "closefds") == 0 && argc > 2) {
		return mode_closefds(argv[2]);
	}
	if (strcmp(argv[1], "signals") == 0) {
		return mode_signals();
	}
	if (strcmp(argv[1], "errno") == 0) {
		return mode_errno();
	}
	if (strcmp(argv[1], "rlimits") == 0) {
		return mode_rlimits();
	}
	fprintf(stderr, "unknown mode %s\n", argv[1]);
	return 2;
}
