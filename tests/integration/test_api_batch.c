/*
 * safeexec_batch in real processes linked with -lsafeexec: batches that
 * shrink under a memory budget, exactly-once processing, checkpoints,
 * partial results, cache-aware sizing, progress and trace records.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_scenario.h"
#include "safeexec.h"

#define MIB (1024ULL * 1024)

#define ITEMS_MAX 1000
#define CHECKPOINTS_MAX 256

/* ------------------------------------------------------------ scenarios */

struct run {
	uint64_t item_bytes;            /* memory each item allocates and touches */
	uint64_t fail_item;             /* a batch containing it fails with EIO; UINT64_MAX never */
	int cancel_after;               /* checkpoint stops after this many batches; 0 never */
	int processed[ITEMS_MAX];
	uint64_t checkpoint_first[CHECKPOINTS_MAX];
	uint64_t checkpoint_count[CHECKPOINTS_MAX];
	int checkpoints;
	int progress_calls;
	uint64_t last_progress_done;
};

/* All or nothing: one block for the whole batch, so an ENOMEM changes nothing. */
static int
process_items(uint64_t first, uint64_t count, void *arg)
{
	struct run *run = arg;
	char *block = NULL;
	uint64_t i;

	if (run->fail_item >= first && run->fail_item < first + count) {
		return EIO;
	}
	if (run->item_bytes > 0) {
		block = malloc(count * run->item_bytes);
		if (block == NULL) {
			return ENOMEM;
		}
		touch_pages(block, count * run->item_bytes);
	}
	for (i = first; i < first + count && i < ITEMS_MAX; i++) {
		run->processed[i]++;
	}
	free(block);
	return 0;
}

static int
save_checkpoint(uint64_t first, uint64_t count, void *arg)
{
	struct run *run = arg;

	if (run->checkpoints < CHECKPOINTS_MAX) {
		run->checkpoint_first[run->checkpoints] = first;
		run->checkpoint_count[run->checkpoints] = count;
	}
	run->checkpoints++;
	return run->cancel_after > 0 && run->checkpoints >= run->cancel_after;
}

static void
count_progress(uint64_t batch_index, uint64_t batches_estimated, uint64_t items_done,
    uint64_t items_total, void *arg)
{
	struct run *run = arg;

	(void)batch_index;
	(void)batches_estimated;
	(void)items_total;
	run->progress_calls++;
	run->last_progress_done = items_done;
}

/*
 * Prints how often items were processed, whether the checkpoints cover
 * items 0 .. completed - 1 in order without gaps, and the result.
 */
static void
print_run(const struct run *run, uint64_t items, const struct safeexec_batch_result *result)
{
	uint64_t next = 0, i;
	int once = 0, twice = 0, contiguous = 1, c;

	for (i = 0; i < items; i++) {
		once += run->processed[i] == 1;
		twice += run->processed[i] > 1;
	}
	for (c = 0; c < run->checkpoints && c < CHECKPOINTS_MAX; c++) {
		contiguous = contiguous && run->checkpoint_first[c] == next;
		next = run->checkpoint_first[c] + run->checkpoint_count[c];
	}
	printf("error=%d\ncompleted=%llu\nfirst_failed=%llu\nbatches=%llu\nfailed_batches=%llu\n"
	    "reductions=%llu\nfirst_batch=%llu\nsmallest_batch=%llu\ncache_bound=%llu\n"
	    "l3=%llu\nitem_bytes=%llu\nprocessed_once=%d\nprocessed_twice=%d\n"
	    "checkpoints=%d\ncheckpoints_contiguous=%d\ncheckpoint_end=%llu\n"
	    "progress_calls=%d\nmessage=%s\n", result->error,
	    (unsigned long long)result->items_completed,
	    (unsigned long long)result->first_failed_item,
	    (unsigned long long)result->batches, (unsigned long long)result->failed_batches,
	    (unsigned long long)result->reductions,
	    (unsigned long long)result->first_batch_size,
	    (unsigned long long)result->smallest_batch_size,
	    (unsigned long long)result->cache_bound_items,
	    (unsigned long long)result->l3_cache_bytes,
	    (unsigned long long)result->item_bytes, once, twice, run->checkpoints, contiguous,
	    (unsigned long long)next, run->progress_calls, result->message);
}

static struct run run_state;

static int
scenario_batch(const char *name)
{
	struct safeexec_batch_options options;
	struct safeexec_batch_result result;
	struct run *run = &run_state;
	uint64_t items = 96;

	safeexec_batch_options_init(&options);
	run->fail_item = UINT64_MAX;
	options.checkpoint = save_checkpoint;
	options.checkpoint_arg = run;
	options.progress = count_progress;
	options.progress_arg = run;
	options.backoff_initial_ms = 10;
	if (strcmp(name, "shrink") == 0) {
		/* 64 items of 8 MiB (512 MiB) under a 256 MiB budget. */
		run->item_bytes = 8 * MIB;
		options.batch_size = 64;
	} else if (strcmp(name, "hint") == 0) {
		run->item_bytes = 8 * MIB;
		items = 40;
		options.item_bytes = 8 * MIB;
	} else if (strcmp(name, "partial") == 0) {
		items = 100;
		run->fail_item = 50;
		options.batch_size = 10;
		options.max_attempts = 2;
	} else if (strcmp(name, "cancel") == 0) {
		items = 100;
		run->cancel_after = 2;
		options.batch_size = 10;
	} else if (strcmp(name, "cache") == 0) {
		items = 10;
		options.item_working_set_bytes = 4 * MIB;
	} else if (strcmp(name, "trace") == 0) {
		items = 30;
		options.batch_size = 10;
		snprintf(options.operation, sizeof(options.operation), "traced");
		safeexec_trace_mark("phase", "train");
	}
	safeexec_batch(items, process_items, run, &options, &result);
	print_run(run, items, &result);
	return 0;
}

static int
scenario_main(const char *name)
{
	return scenario_batch(name);
}

/* ---------------------------------------------------------------- tests */

#define OUT(key) api_output_value(result.out, key)

START_TEST(batch_shrinks_under_budget)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=256M",
	    "SAFEEXEC_STALL_TIMEOUT=100ms", "SAFEEXEC_LOG_LEVEL=info", NULL };
	run_result_t result;

	api_scenario_run("shrink", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	ck_assert_int_eq((int)OUT("completed"), 96);
	ck_assert_int_eq((int)OUT("first_failed"), 96);
	ck_assert_int_eq((int)OUT("processed_once"), 96);
	ck_assert_int_eq((int)OUT("processed_twice"), 0);
	/* 64 and 32 items cannot fit 256 MiB, so at least two halvings. */
	ck_assert_int_ge((int)OUT("reductions"), 2);
	ck_assert_int_ge((int)OUT("failed_batches"), 2);
	ck_assert_int_eq((int)OUT("first_batch"), 64);
	ck_assert_int_le((int)OUT("smallest_batch"), 16);
	ck_assert_int_eq((int)OUT("checkpoints"), (int)OUT("batches"));
	ck_assert_int_eq((int)OUT("checkpoints_contiguous"), 1);
	ck_assert_int_eq((int)OUT("checkpoint_end"), 96);
	ck_assert_int_eq((int)OUT("progress_calls"),
	    (int)OUT("batches") + (int)OUT("failed_batches"));
	ck_assert_double_ge(OUT("item_bytes"), 8.0 * MIB);
	ck_assert_ptr_nonnull(strstr(result.err, "Processing batch 1/2 (0/96 items)"));
	ck_assert_ptr_nonnull(strstr(result.err, "batch size reduced from 64 to 32 items"));
	test_run_free(&result);
}
END_TEST

START_TEST(batch_sized_from_item_bytes)
{
	char *env[] = { API_CALM_ENV, "SAFEEXEC_MEMORY_LIMIT=256M", NULL };
	run_result_t result;

	api_scenario_run("hint", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	ck_assert_int_eq((int)OUT("processed_once"), 40);
	/* 0.8 x (256 MiB - 25.6 MiB margin - the process) / 8 MiB: about 22 items. */
	ck_assert_int_ge((int)OUT("first_batch"), 12);
	ck_assert_int_le((int)OUT("first_batch"), 23);
	ck_assert_int_eq((int)OUT("failed_batches"), 0);
	test_run_free(&result);
}
END_TEST

START_TEST(batch_failure_keeps_completed_prefix)
{
	char *env[] = { API_CALM_ENV, NULL };
	run_result_t result;

	api_scenario_run("partial", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), EIO);
	ck_assert_int_eq((int)OUT("completed"), 50);
	ck_assert_int_eq((int)OUT("first_failed"), 50);
	ck_assert_int_eq((int)OUT("processed_once"), 50);
	ck_assert_int_eq((int)OUT("checkpoints"), 5);
	ck_assert_int_eq((int)OUT("checkpoints_contiguous"), 1);
	ck_assert_int_eq((int)OUT("checkpoint_end"), 50);
	ck_assert_int_eq((int)OUT("failed_batches"), 2);
	ck_assert_ptr_nonnull(strstr(result.out, "message=stopped at item 50 of 100"));
	test_run_free(&result);
}
END_TEST

START_TEST(batch_checkpoint_can_stop)
{
	char *env[] = { API_CALM_ENV, NULL };
	run_result_t result;

	api_scenario_run("cancel", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), ECANCELED);
	ck_assert_int_eq((int)OUT("completed"), 20);
	ck_assert_int_eq((int)OUT("first_failed"), 20);
	ck_assert_int_eq((int)OUT("processed_once"), 20);
	ck_assert_int_eq((int)OUT("checkpoints"), 2);
	test_run_free(&result);
}
END_TEST

START_TEST(batch_bounded_by_l3_cache)
{
	char *dir = test_make_temp_dir(), root[700];
	char *env[] = { API_CALM_ENV, root, NULL };
	run_result_t result;

	test_write_file(dir, "devices/system/cpu/cpu0/cache/index3/size", "16384K\n");
	snprintf(root, sizeof(root), "SAFEEXEC_SYSFS_ROOT=%s", dir);
	api_scenario_run("cache", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	ck_assert_double_eq(OUT("l3"), 16.0 * MIB);
	ck_assert_int_eq((int)OUT("cache_bound"), 4);
	ck_assert_int_eq((int)OUT("first_batch"), 4);
	ck_assert_int_eq((int)OUT("batches"), 3);
	ck_assert_int_eq((int)OUT("processed_once"), 10);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

START_TEST(batch_and_marks_in_trace)
{
	char *dir = test_make_temp_dir(), setting[700], path[600], *trace;
	char *env[] = { API_CALM_ENV, setting, NULL };
	run_result_t result;

	snprintf(path, sizeof(path), "%s/trace.txt", dir);
	snprintf(setting, sizeof(setting), "SAFEEXEC_TRACE_FILE=%s", path);
	api_scenario_run("trace", NULL, env, &result);
	ck_assert_int_eq((int)OUT("error"), 0);
	trace = test_read_file(path);
	ck_assert_msg(trace != NULL, "no trace file at %s", path);
	ck_assert_ptr_nonnull(strstr(trace, "name=mark "));
	ck_assert_ptr_nonnull(strstr(trace, "detail=phase:train\n"));
	ck_assert_ptr_nonnull(strstr(trace, "name=batch "));
	ck_assert_ptr_nonnull(strstr(trace, "detail=3/3,items=20/30,size=10,op=traced\n"));
	free(trace);
	test_run_free(&result);
	test_remove_tree(dir);
	free(dir);
}
END_TEST

static Suite *
api_batch_suite(void)
{
	Suite *suite = suite_create("api_batch");
	TCase *memory = tcase_create("memory");
	TCase *results = tcase_create("results");
	TCase *records = tcase_create("records");

	tcase_add_test(memory, batch_shrinks_under_budget);
	tcase_add_test(memory, batch_sized_from_item_bytes);
	tcase_add_test(memory, batch_bounded_by_l3_cache);
	tcase_add_test(results, batch_failure_keeps_completed_prefix);
	tcase_add_test(results, batch_checkpoint_can_stop);
	tcase_add_test(records, batch_and_marks_in_trace);
	suite_add_tcase(suite, memory);
	suite_add_tcase(suite, results);
	suite_add_tcase(suite, records);
	return suite;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--scenario") == 0) {
		return scenario_main(argv[2]);
	}
	return test_run_suite(api_batch_suite());
}
