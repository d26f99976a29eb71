/*
 * `fork_during_dlopen SLOW_LIB.so`: forks while another thread is inside a
 * dlopen of SLOW_LIB.so, whose constructor takes 400 ms. No BLAS is loaded,
 * so the child must not find cblas_dgemm with dlsym(RTLD_DEFAULT). The
 * parent looks nothing up before the fork: dlsym would wait for the
 * loader's lock until the dlopen ends. Prints "child: visible|absent" and
 * exits 0 when the child found nothing.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void *
open_slow_library(void *path)
{
	return dlopen(path, RTLD_NOW | RTLD_LOCAL);
}

static const char *
visibility(void)
{
	return dlsym(RTLD_DEFAULT, "cblas_dgemm") != NULL ? "visible" : "absent";
}

int
main(int argc, char **argv)
{
	struct timespec delay = { 0, 100 * 1000 * 1000 };
	pthread_t opener;
	void *handle = NULL;
	int status = 0;
	pid_t child;

	if (argc != 2) {
		fprintf(stderr, "usage: fork_during_dlopen SLOW_LIB.so\n");
		return 2;
	}
	if (pthread_create(&opener, NULL, open_slow_library, argv[1]) != 0) {
		return 2;
	}
	nanosleep(&delay, NULL);

	child = fork();
	if (child == 0) {
		printf("child: %s\n", visibility());
		fflush(stdout);
		_exit(dlsym(RTLD_DEFAULT, "cblas_dgemm") != NULL ? 1 : 0);
	}
	if (child < 0 || waitpid(child, &status, 0) != child) {
		return 2;
	}
	pthread_join(opener, &handle);
	if (handle == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", argv[1], dlerror());
		return 2;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}
