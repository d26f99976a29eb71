/*
 * Wrappers for general matrix multiplication: Fortran ?gemm_ and CBLAS
 * cblas_?gemm, each in the four spellings of blas.h. Data pointers are
 * forwarded untyped; only integer widths and by-value scalars shape the
 * calling convention.
 */
#include <stddef.h>
#include <stdint.h>

#include "blas.h"

/* Fortran: every argument by reference, then gfortran's hidden lengths of transa and transb. */
#define GEMM_FORTRAN_PARAMS(INT)                                                     \
	(const char *transa, const char *transb, const INT *m, const INT *n,         \
	    const INT *k, const void *alpha, const void *a, const INT *lda,          \
	    const void *b, const INT *ldb, const void *beta, void *c, const INT *ldc, \
	    size_t transa_length, size_t transb_length)
#define GEMM_FORTRAN_ARGS                                                            \
	(transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, transa_length, \
	    transb_length)

#define GEMM_FORTRAN(NAME, INT, FACTOR)                                              \
	BLAS_WRAPPER(NAME, GEMM_FORTRAN_PARAMS(INT), GEMM_FORTRAN_ARGS,              \
	    (FACTOR) * blas_flops_gemm(*m, *n, *k), (void)0)

/* CBLAS: enums and sizes by value; real alpha and beta by value, complex ones by pointer. */
#define GEMM_CBLAS_PARAMS(INT, SCALAR)                                               \
	(int order, int transa, int transb, INT m, INT n, INT k, SCALAR alpha,       \
	    const void *a, INT lda, const void *b, INT ldb, SCALAR beta, void *c,    \
	    INT ldc)
#define GEMM_CBLAS_ARGS (order, transa, transb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)

#define GEMM_CBLAS(NAME, INT, SCALAR, FACTOR)                                        \
	BLAS_WRAPPER(NAME, GEMM_CBLAS_PARAMS(INT, SCALAR), GEMM_CBLAS_ARGS,          \
	    (FACTOR) * blas_flops_gemm(m, n, k), (void)0)

/* The four spellings of one precision P (s, d, c or z). */
#define GEMM_ALL(P, SCALAR, FACTOR)                                                  \
	GEMM_FORTRAN(P##gemm_, int32_t, FACTOR)                                      \
	GEMM_FORTRAN(P##gemm_64_, int64_t, FACTOR)                                   \
	GEMM_FORTRAN(scipy_##P##gemm_, int32_t, FACTOR)                              \
	GEMM_FORTRAN(scipy_##P##gemm_64_, int64_t, FACTOR)                           \
	GEMM_CBLAS(cblas_##P##gemm, int32_t, SCALAR, FACTOR)                         \
	GEMM_CBLAS(cblas_##P##gemm64_, int64_t, SCALAR, FACTOR)                      \
	GEMM_CBLAS(scipy_cblas_##P##gemm, int32_t, SCALAR, FACTOR)                   \
	GEMM_CBLAS(scipy_cblas_##P##gemm64_, int64_t, SCALAR, FACTOR)

GEMM_ALL(s, float, 1.0)
GEMM_ALL(d, double, 1.0)
GEMM_ALL(c, const void *, BLAS_COMPLEX_FACTOR)
GEMM_ALL(z, const void *, BLAS_COMPLEX_FACTOR)
