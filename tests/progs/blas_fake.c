/*
 * libsxfakeblas.so: a stand-in BLAS/LAPACK for the forwarding tests. Every
 * exported spelling computes its result with plain loops and records its own
 * name and the hidden Fortran length it received, so a test can tell which
 * definition a call reached and with which arguments. Column-major only,
 * like Fortran.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FAKE_EXPORT __attribute__((visibility("default")))

enum { CBLAS_ROW_MAJOR = 101, CBLAS_COL_MAJOR = 102, CBLAS_NO_TRANS = 111 };

static char fake_last_name[64];
static int64_t fake_last_hidden_length = -1;
static int fake_threads = 16;

FAKE_EXPORT const char *
fake_blas_last_name(void)
{
	return fake_last_name;
}

FAKE_EXPORT int64_t
fake_blas_last_hidden_length(void)
{
	return fake_last_hidden_length;
}

static void
fake_record(const char *name, int64_t hidden_length)
{
	snprintf(fake_last_name, sizeof(fake_last_name), "%s", name);
	fake_last_hidden_length = hidden_length;
}

/* C = alpha op(A) op(B) + beta C, column-major; op is 'N' or 'T'. */
static void
fake_gemm(char transa, char transb, int64_t m, int64_t n, int64_t k, double alpha,
    const double *a, int64_t lda, const double *b, int64_t ldb, double beta, double *c,
    int64_t ldc)
{
	int64_t i, j, l;

	for (j = 0; j < n; j++) {
		for (i = 0; i < m; i++) {
			double sum = 0.0;

			for (l = 0; l < k; l++) {
				double left = transa == 'N' ? a[i + l * lda] : a[l + i * lda];
				double right = transb == 'N' ? b[l + j * ldb] : b[j + l * ldb];

				sum += left * right;
			}
			c[i + j * ldc] = alpha * sum + beta * c[i + j * ldc];
		}
	}
}

#define FAKE_GEMM_FORTRAN(NAME, INT)                                                 \
	FAKE_EXPORT void NAME(const char *transa, const char *transb, const INT *m,  \
	    const INT *n, const INT *k, const double *alpha, const double *a,        \
	    const INT *lda, const double *b, const INT *ldb, const double *beta,     \
	    double *c, const INT *ldc, size_t transa_length, size_t transb_length)   \
	{                                                                            \
		(void)transb_length;                                                 \
		fake_record(#NAME, (int64_t)transa_length);                          \
		fake_gemm(*transa, *transb, *m, *n, *k, *alpha, a, *lda, b, *ldb,    \
		    *beta, c, *ldc);                                                 \
	}

/* Row-major C is column-major C^T = op(B)^T op(A)^T: swap the operands. */
#define FAKE_GEMM_CBLAS(NAME, INT)                                                   \
	FAKE_EXPORT void NAME(int order, int transa, int transb, INT m, INT n, INT k, \
	    double alpha, const double *a, INT lda, const double *b, INT ldb,        \
	    double beta, double *c, INT ldc)                                         \
	{                                                                            \
		char op_a = transa == CBLAS_NO_TRANS ? 'N' : 'T';                    \
		char op_b = transb == CBLAS_NO_TRANS ? 'N' : 'T';                    \
                                                                                     \
		fake_record(#NAME, -1);                                              \
		if (order == CBLAS_COL_MAJOR) {                                      \
			fake_gemm(op_a, op_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); \
		} else if (order == CBLAS_ROW_MAJOR) {                               \
			fake_gemm(op_b, op_a, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc); \
		}                                                                    \
	}

FAKE_GEMM_FORTRAN(dgemm_, int32_t)
FAKE_GEMM_FORTRAN(dgemm_64_, int64_t)
FAKE_GEMM_FORTRAN(scipy_dgemm_, int32_t)
FAKE_GEMM_FORTRAN(scipy_dgemm_64_, int64_t)
FAKE_GEMM_CBLAS(cblas_dgemm, int32_t)
FAKE_GEMM_CBLAS(cblas_dgemm64_, int64_t)
FAKE_GEMM_CBLAS(scipy_cblas_dgemm, int32_t)
FAKE_GEMM_CBLAS(scipy_cblas_dgemm64_, int64_t)

/* Solves A X = B by Gaussian elimination with partial pivoting; ipiv is 1-based. */
static int64_t
fake_gesv(int64_t n, int64_t nrhs, double *a, int64_t lda, int64_t *pivots, double *b,
    int64_t ldb)
{
	int64_t i, j, col, row;

	for (col = 0; col < n; col++) {
		int64_t pivot = col;

		for (row = col + 1; row < n; row++) {
			if (fabs(a[row + col * lda]) > fabs(a[pivot + col * lda])) {
				pivot = row;
			}
		}
		if (a[pivot + col * lda] == 0.0) {
			return col + 1;
		}
		pivots[col] = pivot + 1;
		for (j = 0; j < n; j++) {
			double swap = a[col + j * lda];

			a[col + j * lda] = a[pivot + j * lda];
			a[pivot + j * lda] = swap;
		}
		for (j = 0; j < nrhs; j++) {
			double swap = b[col + j * ldb];

			b[col + j * ldb] = b[pivot + j * ldb];
			b[pivot + j * ldb] = swap;
		}
		for (row = col + 1; row < n; row++) {
			double factor = a[row + col * lda] / a[col + col * lda];

			a[row + col * lda] = factor;
			for (j = col + 1; j < n; j++) {
				a[row + j * lda] -= factor * a[col + j * lda];
			}
			for (j = 0; j < nrhs; j++) {
				b[row + j * ldb] -= factor * b[col + j * ldb];
			}
		}
	}
	for (j = 0; j < nrhs; j++) {
		for (i = n - 1; i >= 0; i--) {
			double sum = b[i + j * ldb];

			for (col = i + 1; col < n; col++) {
				sum -= a[i + col * lda] * b[col + j * ldb];
			}
			b[i + j * ldb] = sum / a[i + i * lda];
		}
	}
	return 0;
}

#define FAKE_GESV(NAME, INT)                                                         \
	FAKE_EXPORT void NAME(const INT *n, const INT *nrhs, double *a, const INT *lda, \
	    INT *ipiv, double *b, const INT *ldb, INT *info)                         \
	{                                                                            \
		int64_t pivots[16];                                                  \
		int64_t i;                                                           \
                                                                                     \
		fake_record(#NAME, -1);                                              \
		if (*n > 16) {                                                       \
			*info = -1;                                                  \
			return;                                                      \
		}                                                                    \
		*info = (INT)fake_gesv(*n, *nrhs, a, *lda, pivots, b, *ldb);         \
		for (i = 0; i < *n; i++) {                                           \
			ipiv[i] = (INT)pivots[i];                                    \
		}                                                                    \
	}

FAKE_GESV(dgesv_, int32_t)
FAKE_GESV(dgesv_64_, int64_t)
FAKE_GESV(scipy_dgesv_, int32_t)
FAKE_GESV(scipy_dgesv_64_, int64_t)

/* Cholesky factor in the lower ('L') or upper triangle; records uplo's hidden length. */
#define FAKE_POTRF(NAME, INT)                                                        \
	FAKE_EXPORT void NAME(const char *uplo, const INT *n, double *a, const INT *lda, \
	    INT *info, size_t uplo_length)                                           \
	{                                                                            \
		int64_t i, j, l, size = *n, stride = *lda;                           \
		int lower = *uplo == 'L';                                            \
                                                                                     \
		fake_record(#NAME, (int64_t)uplo_length);                            \
		*info = 0;                                                           \
		for (j = 0; j < size; j++) {                                         \
			double diagonal = a[j + j * stride];                         \
                                                                                     \
			for (l = 0; l < j; l++) {                                    \
				double v = lower ? a[j + l * stride] : a[l + j * stride]; \
				diagonal -= v * v;                                   \
			}                                                            \
			if (diagonal <= 0.0) {                                       \
				*info = (INT)(j + 1);                                \
				return;                                              \
			}                                                            \
			a[j + j * stride] = sqrt(diagonal);                          \
			for (i = j + 1; i < size; i++) {                             \
				double *target = lower ? &a[i + j * stride] : &a[j + i * stride]; \
                                                                                     \
				for (l = 0; l < j; l++) {                            \
					*target -= (lower ? a[i + l * stride] * a[j + l * stride] \
					    : a[l + i * stride] * a[l + j * stride]); \
				}                                                    \
				*target /= a[j + j * stride];                        \
			}                                                            \
		}                                                                    \
	}

FAKE_POTRF(dpotrf_, int32_t)
FAKE_POTRF(dpotrf_64_, int64_t)

/* OpenBLAS's thread control, so the tests can watch the shim clamp and restore it. */
FAKE_EXPORT void
openblas_set_num_threads(int threads)
{
	fake_threads = threads;
}

FAKE_EXPORT int
openblas_get_num_threads(void)
{
	return fake_threads;
}
