/*
 * libsxblascaller.so: plays the part of a numpy extension module. It is
 * linked against libsxfakeblas.so and dlopen'ed with RTLD_LOCAL by
 * blas_host, so its BLAS library sits in a local scope, where the shim's
 * wrappers must find the real routines. blas_caller_run calls every
 * spelling, checks each result and which definition was reached, and prints
 * one "ok NAME" or "FAIL NAME: why" line per check.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CALLER_EXPORT __attribute__((visibility("default")))

enum { CBLAS_ROW_MAJOR = 101, CBLAS_COL_MAJOR = 102, CBLAS_NO_TRANS = 111 };

/* Hidden lengths passed for character arguments: unusual values, so forwarding shows. */
#define TRANS_LENGTH 3
#define UPLO_LENGTH 5

const char *fake_blas_last_name(void);
int64_t fake_blas_last_hidden_length(void);
void openblas_set_num_threads(int threads);
int openblas_get_num_threads(void);

#define DECLARE_GEMM_FORTRAN(NAME, INT)                                              \
	void NAME(const char *, const char *, const INT *, const INT *, const INT *, \
	    const double *, const double *, const INT *, const double *, const INT *, \
	    const double *, double *, const INT *, size_t, size_t);
#define DECLARE_GEMM_CBLAS(NAME, INT)                                                \
	void NAME(int, int, int, INT, INT, INT, double, const double *, INT,         \
	    const double *, INT, double, double *, INT);
#define DECLARE_GESV(NAME, INT)                                                      \
	void NAME(const INT *, const INT *, double *, const INT *, INT *, double *,  \
	    const INT *, INT *);
#define DECLARE_POTRF(NAME, INT)                                                     \
	void NAME(const char *, const INT *, double *, const INT *, INT *, size_t);

DECLARE_GEMM_FORTRAN(dgemm_, int32_t)
DECLARE_GEMM_FORTRAN(dgemm_64_, int64_t)
DECLARE_GEMM_FORTRAN(scipy_dgemm_, int32_t)
DECLARE_GEMM_FORTRAN(scipy_dgemm_64_, int64_t)
DECLARE_GEMM_CBLAS(cblas_dgemm, int32_t)
DECLARE_GEMM_CBLAS(cblas_dgemm64_, int64_t)
DECLARE_GEMM_CBLAS(scipy_cblas_dgemm, int32_t)
DECLARE_GEMM_CBLAS(scipy_cblas_dgemm64_, int64_t)
DECLARE_GESV(dgesv_, int32_t)
DECLARE_GESV(dgesv_64_, int64_t)
DECLARE_GESV(scipy_dgesv_, int32_t)
DECLARE_GESV(scipy_dgesv_64_, int64_t)
DECLARE_POTRF(dpotrf_, int32_t)
DECLARE_POTRF(dpotrf_64_, int64_t)

/* No library defines dgetrf_: without the shim the weak reference is NULL. */
void dgetrf_(const int32_t *, const int32_t *, double *, const int32_t *, int32_t *,
    int32_t *) __attribute__((weak));

/* A (2x3) times B (3x2), column-major, and the product. */
static const double matrix_a[6] = { 1, 4, 2, 5, 3, 6 };
static const double matrix_b[6] = { 7, 9, 11, 8, 10, 12 };
static const double product[4] = { 58, 139, 64, 154 };
/* The same matrices row-major. */
static const double matrix_a_rows[6] = { 1, 2, 3, 4, 5, 6 };
static const double matrix_b_rows[6] = { 7, 8, 9, 10, 11, 12 };
static const double product_rows[4] = { 58, 64, 139, 154 };

static int failures;

static void
report(const char *name, const char *problem)
{
	if (problem == NULL) {
		printf("ok %s\n", name);
	} else {
		printf("FAIL %s: %s\n", name, problem);
		failures++;
	}
}

/* Checks the result and that the call reached the fake's own definition of name. */
static void
check_call(const char *name, const double *got, const double *expected, size_t count,
    int64_t hidden_length)
{
	size_t i;

	if (strcmp(fake_blas_last_name(), name) != 0) {
		report(name, "reached another definition");
		return;
	}
	if (fake_blas_last_hidden_length() != hidden_length) {
		report(name, "hidden length argument not forwarded");
		return;
	}
	for (i = 0; i < count; i++) {
		if (fabs(got[i] - expected[i]) > 1e-12) {
			report(name, "wrong result");
			return;
		}
	}
	report(name, NULL);
}

#define RUN_GEMM_FORTRAN(NAME, INT)                                                  \
	do {                                                                         \
		INT m = 2, n = 2, k = 3, lda = 2, ldb = 3, ldc = 2;                  \
		double alpha = 1.0, beta = 0.0, c[4] = { -1, -1, -1, -1 };           \
                                                                                     \
		NAME("N", "N", &m, &n, &k, &alpha, matrix_a, &lda, matrix_b, &ldb,   \
		    &beta, c, &ldc, TRANS_LENGTH, TRANS_LENGTH);                     \
		check_call(#NAME, c, product, 4, TRANS_LENGTH);                      \
	} while (0)

#define RUN_GEMM_CBLAS(NAME, ORDER, A, B, EXPECTED, LDA, LDB)                        \
	do {                                                                         \
		double c[4] = { -1, -1, -1, -1 };                                    \
                                                                                     \
		NAME(ORDER, CBLAS_NO_TRANS, CBLAS_NO_TRANS, 2, 2, 3, 1.0, A, LDA, B, LDB, \
		    0.0, c, 2);                                                      \
		check_call(#NAME, c, EXPECTED, 4, -1);                               \
	} while (0)

/* 2x + y = 3, x + 3y = 5. */
#define RUN_GESV(NAME, INT)                                                          \
	do {                                                                         \
		INT n = 2, nrhs = 1, lda = 2, ldb = 2, ipiv[2], info = -99;          \
		double a[4] = { 2, 1, 1, 3 }, b[2] = { 3, 5 };                       \
		const double expected[2] = { 0.8, 1.4 };                             \
                                                                                     \
		NAME(&n, &nrhs, a, &lda, ipiv, b, &ldb, &info);                      \
		if (info != 0) {                                                     \
			report(#NAME, "info is not 0");                              \
		} else {                                                             \
			check_call(#NAME, b, expected, 2, -1);                       \
		}                                                                    \
	} while (0)

/* [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt 2]]. */
#define RUN_POTRF(NAME, INT)                                                         \
	do {                                                                         \
		INT n = 2, lda = 2, info = -99;                                      \
		double a[4] = { 4, 2, 2, 3 };                                        \
		double expected[4] = { 2, 1, 2, sqrt(2.0) };                         \
                                                                                     \
		NAME("L", &n, a, &lda, &info, UPLO_LENGTH);                          \
		if (info != 0) {                                                     \
			report(#NAME, "info is not 0");                              \
		} else {                                                             \
			check_call(#NAME, a, expected, 4, UPLO_LENGTH);              \
		}                                                                    \
	} while (0)

static void
run_forwarding(void)
{
	RUN_GEMM_FORTRAN(dgemm_, int32_t);
	RUN_GEMM_FORTRAN(dgemm_64_, int64_t);
	RUN_GEMM_FORTRAN(scipy_dgemm_, int32_t);
	RUN_GEMM_FORTRAN(scipy_dgemm_64_, int64_t);
	RUN_GEMM_CBLAS(cblas_dgemm, CBLAS_COL_MAJOR, matrix_a, matrix_b, product, 2, 3);
	RUN_GEMM_CBLAS(cblas_dgemm64_, CBLAS_COL_MAJOR, matrix_a, matrix_b, product, 2, 3);
	RUN_GEMM_CBLAS(scipy_cblas_dgemm, CBLAS_ROW_MAJOR, matrix_a_rows, matrix_b_rows,
	    product_rows, 3, 2);
	RUN_GEMM_CBLAS(scipy_cblas_dgemm64_, CBLAS_ROW_MAJOR, matrix_a_rows, matrix_b_rows,
	    product_rows, 3, 2);
	RUN_GESV(dgesv_, int32_t);
	RUN_GESV(dgesv_64_, int64_t);
	RUN_GESV(scipy_dgesv_, int32_t);
	RUN_GESV(scipy_dgesv_64_, int64_t);
	RUN_POTRF(dpotrf_, int32_t);
	RUN_POTRF(dpotrf_64_, int64_t);
}

/* Prints what a call to a routine that no library defines does. */
static void
run_missing(void)
{
	int32_t m = 2, n = 2, lda = 2, ipiv[2] = { 0, 0 }, info = 7;
	double a[4] = { 1, 2, 3, 4 };

	if (dgetrf_ == NULL) {
		printf("dgetrf_ absent\n");
		return;
	}
	dgetrf_(&m, &n, a, &lda, ipiv, &info);
	printf("dgetrf_ info %d, matrix %s\n", (int)info,
	    a[0] == 1 && a[1] == 2 && a[2] == 3 && a[3] == 4 ? "untouched" : "changed");
}

static void
write_temperature(const char *path, const char *millidegrees)
{
	char staging[4096];
	FILE *file;

	snprintf(staging, sizeof(staging), "%s.new", path);
	file = fopen(staging, "w");
	if (file != NULL) {
		fprintf(file, "%s\n", millidegrees);
		fclose(file);
		rename(staging, path);
	}
}

/*
 * With the temperature file above the limit, a gated call clamps the
 * library's threads; after the file cools, the next gated call restores them.
 */
static void
run_thread_clamp(const char *temp_path)
{
	struct timespec delay = { 0, 100 * 1000000L };

	printf("threads before %d\n", openblas_get_num_threads());
	RUN_GEMM_FORTRAN(dgemm_, int32_t);
	printf("threads while hot %d\n", openblas_get_num_threads());
	write_temperature(temp_path, "70000");
	nanosleep(&delay, NULL);
	RUN_GEMM_FORTRAN(dgemm_, int32_t);
	printf("threads after cooling %d\n", openblas_get_num_threads());
}

/* Runs the checks; temp_path (may be NULL) enables the thread clamp check. Returns failures. */
CALLER_EXPORT int
blas_caller_run(const char *temp_path)
{
	failures = 0;
	if (temp_path != NULL) {
		run_thread_clamp(temp_path);
		return failures;
	}
	run_forwarding();
	run_missing();
	fflush(stdout);
	return failures;
}
