/*
 * `stress_fork FORKS BLAS_LIBRARY`: four threads allocate and free blocks
 * of mixed sizes without pause while the main thread forks FORKS children,
 * one after another. Each child allocates (small and 2-4 MiB blocks, from
 * two threads of its own) and multiplies two 96x96 matrices with
 * cblas_dgemm from BLAS_LIBRARY, dlopened by the parent before the threads
 * start, as Python does when it imports numpy; the shim's cblas_dgemm
 * wrapper is called when the shim is preloaded. A child that does not
 * exit within 30 s is killed (by pid) and counted as hung. Prints
 * children_ok, children_failed, children_hung and dgemm_error, and exits 0
 * when every child exited 0.
 */
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N 96
/* CBLAS enum values, from the CBLAS reference header. */
#define CBLAS_ROW_MAJOR 101
#define CBLAS_NO_TRANS 111

typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int,
    const double *, int, double, double *, int);

static atomic_bool stop_churn;
static dgemm_fn dgemm;

static void *
churn(void *arg)
{
	unsigned state = (unsigned)(uintptr_t)arg;

	while (!atomic_load(&stop_churn)) {
		size_t size;
		unsigned char *p;

		state = state * 1103515245u + 12345u;
		size = (state >> 8) % 5 == 0 ? ((state >> 12) % 3 + 2) << 20 : (state >> 8) % 3000 + 1;
		p = malloc(size);
		if (p != NULL) {
			p[0] = 1;
			p[size - 1] = 2;
		}
		free(p);
	}
	return NULL;
}

/* Multiplies A (all 1) by B (all 2) and returns the largest error against 2 * N. */
static double
multiply(void)
{
	double *a = malloc(sizeof(double) * N * N), *b = malloc(sizeof(double) * N * N);
	double *c = calloc(N * N, sizeof(double)), error = 0;
	int i;

	if (a == NULL || b == NULL || c == NULL) {
		return INFINITY;
	}
	for (i = 0; i < N * N; i++) {
		a[i] = 1.0;
		b[i] = 2.0;
	}
	dgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, N, N, N, 1.0, a, N, b, N, 0.0,
	    c, N);
	for (i = 0; i < N * N; i++) {
		error = fmax(error, fabs(c[i] - 2.0 * N));
	}
	free(a);
	free(b);
	free(c);
	return error;
}

static int
child_main(void)
{
	pthread_t thread;
	void *blocks[64] = { NULL };
	int i, status = 0;

	atomic_store(&stop_churn, false);
	if (pthread_create(&thread, NULL, churn, (void *)(uintptr_t)getpid()) != 0) {
		return 3;
	}
	for (i = 0; i < 400; i++) {
		size_t size = i % 16 == 0 ? (size_t)(i % 3 + 2) << 20 : (size_t)(i * 37 % 5000 + 1);

		free(blocks[i % 64]);
		blocks[i % 64] = malloc(size);
		if (blocks[i % 64] == NULL) {
			status = 4;
			break;
		}
		memset(blocks[i % 64], i, size < 8192 ? size : 8192);
	}
	if (status == 0 && multiply() > 1e-9) {
		status = 5;
	}
	atomic_store(&stop_churn, true);
	pthread_join(thread, NULL);
	for (i = 0; i < 64; i++) {
		free(blocks[i]);
	}
	return status;
}

/* Waits up to 30 s for pid; kills it by pid when it hangs. Returns its status or -1. */
static int
wait_child(pid_t pid)
{
	struct timespec pause = { 0, 10000000L };
	int status, waited_ms;

	for (waited_ms = 0; waited_ms < 30000; waited_ms += 10) {
		pid_t done = waitpid(pid, &status, WNOHANG);

		if (done == pid) {
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		nanosleep(&pause, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int
main(int argc, char **argv)
{
	int forks = argc > 1 ? atoi(argv[1]) : 20;
	int ok = 0, failed = 0, hung = 0, i;
	pthread_t threads[4];
	void *blas;
	double parent_error;

	if (argc < 3) {
		fprintf(stderr, "usage: stress_fork FORKS BLAS_LIBRARY\n");
		return 2;
	}
	blas = dlopen(argv[2], RTLD_NOW | RTLD_GLOBAL);
	/* RTLD_DEFAULT finds the preloaded shim's wrapper first, as numpy's calls do. */
	dgemm = (dgemm_fn)(uintptr_t)dlsym(RTLD_DEFAULT, "cblas_dgemm");
	if (blas == NULL || dgemm == NULL) {
		fprintf(stderr, "cannot load cblas_dgemm from %s: %s\n", argv[2], dlerror());
		return 2;
	}
	parent_error = multiply();
	for (i = 0; i < 4; i++) {
		pthread_create(&threads[i], NULL, churn, (void *)(uintptr_t)(i + 1));
	}
	for (i = 0; i < forks; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			_exit(child_main());
		}
		if (pid < 0) {
			failed++;
			continue;
		}
		status = wait_child(pid);
		if (status == 0) {
			ok++;
		} else if (status < 0) {
			hung++;
		} else {
			fprintf(stderr, "child %d exited with %d\n", (int)pid, status);
			failed++;
		}
	}
	atomic_store(&stop_churn, true);
	for (i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
	}
	printf("children_ok=%d\nchildren_failed=%d\nchildren_hung=%d\ndgemm_error=%g\n", ok,
	    failed, hung, parent_error);
	return failed == 0 && hung == 0 && parent_error < 1e-9 ? 0 : 1;
}
