/*
 * `alloc_fork FORKS`: four threads allocate and free without pause while the
 * main thread forks FORKS children. Each child allocates and frees in two
 * threads of its own (so locks inherited mid-operation would deadlock it) and
 * exits 0. Prints "ok" and exits 0 when every child exited 0 in time.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static atomic_bool stop_workers;

static void *
churn(void *arg)
{
	unsigned state = (unsigned)(size_t)arg;

	(void)arg;
	while (!atomic_load(&stop_workers)) {
		size_t size;
		char *p;

		state = state * 1103515245u + 12345u;
		size = (state >> 8) % 3 == 0 ? ((state >> 12) % 4 + 1) << 20 : (state >> 8) % 2000 + 1;
		p = malloc(size);
		if (p != NULL) {
			memset(p, 1, size < 4096 ? size : 4096);
		}
		free(p);
	}
	return NULL;
}

static int
child_work(void)
{
	pthread_t thread;
	int i;

	atomic_store(&stop_workers, false);
	pthread_create(&thread, NULL, churn, (void *)7);
	for (i = 0; i < 2000; i++) {
		char *p = malloc((size_t)(i % 50) * 100 + (i % 10 == 0 ? 2 << 20 : 1));

		if (p == NULL) {
			return 3;
		}
		p[0] = 1;
		free(p);
	}
	atomic_store(&stop_workers, true);
	pthread_join(thread, NULL);
	return 0;
}

int
main(int argc, char **argv)
{
	int forks = argc > 1 ? atoi(argv[1]) : 50, i, bad = 0;
	pthread_t threads[4];

	for (i = 0; i < 4; i++) {
		pthread_create(&threads[i], NULL, churn, (void *)(size_t)(i + 1));
	}
	for (i = 0; i < forks; i++) {
		pid_t pid = fork();
		int status = 0, waited_ms = 0;

		if (pid == 0) {
			_exit(child_work());
		}
		if (pid < 0) {
			perror("fork");
			bad++;
			continue;
		}
		/* A child stuck on an inherited lock is killed after 20 s and counted. */
		while (waitpid(pid, &status, WNOHANG) == 0) {
			usleep(1000);
			if (++waited_ms > 20000) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				break;
			}
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			bad++;
		}
	}
	atomic_store(&stop_workers, true);
	for (i = 0; i < 4; i++) {
		pthread_join(threads[i], NULL);
	}
	printf("children=%d bad=%d\n", forks, bad);
	if (bad == 0) {
		printf("ok\n");
	}
	return bad == 0 ? 0 : 1;
}
