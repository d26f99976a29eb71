/*
 * `stress_signal deadline|release`: the main thread holds 300 MiB (every
 * page touched) and a worker thread asks for 200 MiB more, which a
 * SAFEEXEC_MEMORY_LIMIT of 512M makes stall in the governor. While it
 * stalls, the main thread sends the worker SIGUSR1 every 20 ms; the handler
 * (installed without SA_RESTART) only counts. In "deadline" mode nothing is
 * freed, so the request must end at the stall timeout with NULL and ENOMEM;
 * in "release" mode the main thread frees its block after 500 ms, so the
 * request must succeed with errno unchanged. Prints result (granted or
 * refused), errno, seconds (how long malloc took) and signals (handler runs
 * during the call). Exits 0 when the outcome matches the mode.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HELD_BYTES ((size_t)300 << 20)
#define REQUEST_BYTES ((size_t)200 << 20)

static volatile sig_atomic_t handler_runs;
static atomic_bool worker_done;
static void *granted;
static int granted_errno;
static double malloc_seconds;

static void
on_sigusr1(int signal_number)
{
	(void)signal_number;
	handler_runs++;
}

static double
now_seconds(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void *
worker(void *unused)
{
	double start = now_seconds();

	(void)unused;
	errno = 0;
	granted = malloc(REQUEST_BYTES);
	granted_errno = errno;
	malloc_seconds = now_seconds() - start;
	if (granted != NULL) {
		memset(granted, 7, REQUEST_BYTES);
	}
	atomic_store(&worker_done, true);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct sigaction action;
	struct timespec tick = { 0, 20000000L };
	bool release = argc > 1 && strcmp(argv[1], "release") == 0;
	double start;
	char *held;
	pthread_t thread;
	int signals_before;

	if (argc < 2 || (!release && strcmp(argv[1], "deadline") != 0)) {
		fprintf(stderr, "usage: stress_signal deadline|release\n");
		return 2;
	}
	memset(&action, 0, sizeof(action));
	action.sa_handler = on_sigusr1;
	sigemptyset(&action.sa_mask);
	action.sa_flags = 0;
	sigaction(SIGUSR1, &action, NULL);

	held = malloc(HELD_BYTES);
	if (held == NULL) {
		fprintf(stderr, "the 300 MiB block was refused\n");
		return 2;
	}
	memset(held, 1, HELD_BYTES);

	signals_before = handler_runs;
	start = now_seconds();
	pthread_create(&thread, NULL, worker, NULL);
	while (!atomic_load(&worker_done)) {
		nanosleep(&tick, NULL);
		if (release && held != NULL && now_seconds() - start > 0.5) {
			free(held);
			held = NULL;
		}
		if (!atomic_load(&worker_done)) {
			pthread_kill(thread, SIGUSR1);
		}
	}
	pthread_join(thread, NULL);

	printf("result=%s\nerrno=%d\nseconds=%.3f\nsignals=%d\n",
	    granted != NULL ? "granted" : "refused", granted_errno, malloc_seconds,
	    (int)(handler_runs - signals_before));
	free(granted);
	free(held);
	if (release) {
		return granted != NULL && granted_errno == 0 ? 0 : 1;
	}
	return granted == NULL && granted_errno == ENOMEM ? 0 : 1;
}
