/* The cleanup hook registry; see cleanup.h for the rules a hook follows. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"

typedef struct {
	int id;              /* 0: free slot */
	int priority;
	cleanup_fn_t fn;
	void *arg;
	char name[CLEANUP_NAME_MAX];
} cleanup_hook_t;

/*
 * The lock guards the table only. cleanup_run_all copies the table under it
 * and runs the copy unlocked, so a hook may register or unregister hooks.
 */
static pthread_mutex_t cleanup_lock = PTHREAD_MUTEX_INITIALIZER;
static cleanup_hook_t cleanup_hooks[CLEANUP_HOOKS_MAX];
static int cleanup_next_id = 1;
static _Atomic uint64_t cleanup_runs;

int
cleanup_register(cleanup_fn_t fn, void *arg, int priority, const char *name)
{
	int id = -ENOSPC;
	size_t i;

	if (fn == NULL) {
		return -EINVAL;
	}

	pthread_mutex_lock(&cleanup_lock);
	for (i = 0; i < CLEANUP_HOOKS_MAX; i++) {
		if (cleanup_hooks[i].id != 0) {
			continue;
		}
		id = cleanup_next_id++;
		cleanup_hooks[i].id = id;
		cleanup_hooks[i].priority = priority;
		cleanup_hooks[i].fn = fn;
		cleanup_hooks[i].arg = arg;
		strncpy(cleanup_hooks[i].name, name != NULL ? name : "unnamed",
		    CLEANUP_NAME_MAX - 1);
		cleanup_hooks[i].name[CLEANUP_NAME_MAX - 1] = '\0';
		break;
	}
	pthread_mutex_unlock(&cleanup_lock);
	return id;
}

int
cleanup_unregister(int id)
{
	int result = -ENOENT;
	size_t i;

	pthread_mutex_lock(&cleanup_lock);
	for (i = 0; i < CLEANUP_HOOKS_MAX; i++) {
		if (id > 0 && cleanup_hooks[i].id == id) {
			memset(&cleanup_hooks[i], 0, sizeof(cleanup_hooks[i]));
			result = 0;
			break;
		}
	}
	pthread_mutex_unlock(&cleanup_lock);
	return result;
}

/* Copies the registered hooks into out, sorted by priority; returns the count. */
static size_t
cleanup_snapshot(cleanup_hook_t out[CLEANUP_HOOKS_MAX])
{
	size_t count = 0, i, j;

	pthread_mutex_lock(&cleanup_lock);
	for (i = 0; i < CLEANUP_HOOKS_MAX; i++) {
		if (cleanup_hooks[i].id != 0) {
			out[count++] = cleanup_hooks[i];
		}
	}
	pthread_mutex_unlock(&cleanup_lock);

	/* Insertion sort: stable, so equal priorities run in registration order. */
	for (i = 1; i < count; i++) {
		cleanup_hook_t hook = out[i];

		for (j = i; j > 0 && (out[j - 1].priority > hook.priority
		    || (out[j - 1].priority == hook.priority && out[j - 1].id > hook.id)); j--) {
			out[j] = out[j - 1];
		}
		out[j] = hook;
	}
	return count;
}

uint64_t
cleanup_run_all(const char *reason)
{
	cleanup_hook_t hooks[CLEANUP_HOOKS_MAX];
	size_t count = cleanup_snapshot(hooks), i;
	uint64_t total = 0;

	atomic_fetch_add(&cleanup_runs, 1);
	for (i = 0; i < count; i++) {
		size_t released = hooks[i].fn(hooks[i].arg);

		total += released;
		log_message(LOG_LEVEL_INFO, "cleanup hook '%s' (priority %d) released %llu "
		    "bytes (%s)", hooks[i].name, hooks[i].priority,
		    (unsigned long long)released, reason);
	}
	return total;
}

uint64_t
cleanup_run_count(void)
{
	return atomic_load(&cleanup_runs);
}

/* Fork handlers: the child must not inherit the table lock held by another thread. */
void
cleanup_fork_prepare(void)
{
	pthread_mutex_lock(&cleanup_lock);
}

void
cleanup_fork_parent(void)
{
	pthread_mutex_unlock(&cleanup_lock);
}

void
cleanup_fork_child(void)
{
	pthread_mutex_init(&cleanup_lock, NULL);
}
