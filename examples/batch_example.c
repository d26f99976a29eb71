/*
 * Squares the rows of a matrix in batches that fit the memory left and the
 * L3 cache, keeping each finished batch. Build and run:
 *   cc batch_example.c $(pkg-config --cflags --libs safeexec) -o batch_example
 *   SAFEEXEC_LOG_LEVEL=info ./batch_example
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <safeexec.h>

#define ROWS 4000
#define COLUMNS 1024
#define ROW_BYTES (COLUMNS * sizeof(double))

struct job {
	double *input;
	double *output;
	size_t batches_saved;
};

/* Works on a scratch copy so that a batch that runs out of memory changes nothing. */
static int
square_batch(uint64_t first, uint64_t count, void *arg)
{
	struct job *job = arg;
	double *scratch = malloc(count * ROW_BYTES);
	const double *input = job->input + first * COLUMNS;

	if (scratch == NULL) {
		return ENOMEM;
	}
	for (uint64_t i = 0; i < count * COLUMNS; i++) {
		scratch[i] = input[i] * input[i];
	}
	memcpy(job->output + first * COLUMNS, scratch, count * ROW_BYTES);
	free(scratch);
	return 0;
}

/* Called after every finished batch: a real program would write it to disk. */
static int
save_batch(uint64_t first, uint64_t count, void *arg)
{
	struct job *job = arg;

	(void)first;
	(void)count;
	job->batches_saved++;
	return 0;
}

int
main(void)
{
	struct safeexec_batch_options options;
	struct safeexec_batch_result result;
	struct safeexec_status status;
	struct job job = { 0 };
	int error;

	safeexec_init();
	safeexec_status(&status);
	printf("memory limit %llu MB (%s), headroom %llu MB\n",
	    (unsigned long long)(status.limit_bytes >> 20), status.limit_source,
	    (unsigned long long)(status.headroom_bytes >> 20));

	job.input = malloc(ROWS * ROW_BYTES);
	job.output = malloc(ROWS * ROW_BYTES);
	if (job.input == NULL || job.output == NULL) {
		fprintf(stderr, "batch_example: out of memory for %d rows\n", ROWS);
		return 1;
	}
	for (size_t i = 0; i < (size_t)ROWS * COLUMNS; i++) {
		job.input[i] = (double)(i % 1000);
	}

	safeexec_batch_options_init(&options);
	snprintf(options.operation, sizeof(options.operation), "square");
	options.item_bytes = ROW_BYTES;                  /* scratch memory per row */
	options.item_working_set_bytes = 3 * ROW_BYTES;  /* input, scratch and output rows */
	options.checkpoint = save_batch;
	options.checkpoint_arg = &job;

	error = safeexec_batch(ROWS, square_batch, &job, &options, &result);
	printf("%s\n", result.message);
	printf("batches %llu, saved %zu, first batch %llu items, L3 cache %llu KiB\n",
	    (unsigned long long)result.batches, job.batches_saved,
	    (unsigned long long)result.first_batch_size,
	    (unsigned long long)(result.l3_cache_bytes >> 10));
	if (error == 0 && job.output[ROWS * COLUMNS - 1] != 999.0 * 999.0) {
		fprintf(stderr, "batch_example: wrong result in the last row\n");
		error = EIO;
	}

	free(job.input);
	free(job.output);
	safeexec_shutdown();
	return error == 0 ? 0 : 1;
}
