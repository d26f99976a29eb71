/*
 * Fuzzes predictor_load_file with the text of a history file
 * (SAFEEXEC_HISTORY_FILE), then predicts from what it loaded. The input's
 * first word, when it has one, and "matmul" are the operations predicted.
 */
#include <errno.h>
#include <math.h>

#include "api_predictor.h"
#include "fuzz_support.h"
#include "log.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_configure(LOG_LEVEL_ERROR, "");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const double params[] = { 1000, 1000, 0, 0 };
	char path[64], operation[SAFEEXEC_OPERATION_MAX] = "x";
	prediction_t prediction;
	size_t length = 0;
	int loaded;

	while (length < size && length < sizeof(operation) - 1 && data[length] != ' '
	    && data[length] != '\n' && data[length] != '\0') {
		operation[length] = (char)data[length];
		length++;
	}
	if (length > 0) {
		operation[length] = '\0';
	}

	predictor_reset();
	fuzz_file_with(data, size, path, sizeof(path));
	/* A file whose first line is not the history header is rejected with -EEXIST. */
	loaded = predictor_load_file(path);
	if (loaded < 0 && loaded != -EEXIST) {
		__builtin_trap();
	}
	predictor_predict(operation, params, 2, &prediction);
	if (prediction.method == PREDICTION_NONE && prediction.samples != 0) {
		__builtin_trap();
	}
	predictor_predict("matmul", params, 2, &prediction);
	if (prediction.method == PREDICTION_NONE && prediction.samples != 0) {
		__builtin_trap();
	}
	return 0;
}
