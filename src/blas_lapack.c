/*
 * Wrappers for the LAPACK factorizations and solvers behind numpy.linalg's
 * det, solve, inv, cholesky and qr: ?getrf, ?getri, ?gesv, ?potrf, ?geqrf.
 * When the real routine is missing, *info is set to BLAS_INFO_UNRESOLVED.
 */
#include <stddef.h>
#include <stdint.h>

#include "blas.h"

#define LAPACK_UNRESOLVED (*info = BLAS_INFO_UNRESOLVED)

#define GETRF(NAME, INT, FACTOR)                                                     \
	BLAS_WRAPPER(NAME,                                                           \
	    (const INT *m, const INT *n, void *a, const INT *lda, INT *ipiv, INT *info), \
	    (m, n, a, lda, ipiv, info),                                              \
	    (FACTOR) * blas_flops_getrf(*m, *n), LAPACK_UNRESOLVED)

#define GETRI(NAME, INT, FACTOR)                                                     \
	BLAS_WRAPPER(NAME,                                                           \
	    (const INT *n, void *a, const INT *lda, const INT *ipiv, void *work,     \
	        const INT *lwork, INT *info),                                        \
	    (n, a, lda, ipiv, work, lwork, info),                                    \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0 : (FACTOR) * blas_flops_getri(*n),     \
	    LAPACK_UNRESOLVED)

#define GESV(NAME, INT, FACTOR)                                                      \
	BLAS_WRAPPER(NAME,                                                           \
	    (const INT *n, const INT *nrhs, void *a, const INT *lda, INT *ipiv,      \
	        void *b, const INT *ldb, INT *info),                                 \
	    (n, nrhs, a, lda, ipiv, b, ldb, info),                                   \
	    (FACTOR) * blas_flops_gesv(*n, *nrhs), LAPACK_UNRESOLVED)

/* uplo is a Fortran character: gfortran passes its length after the last argument. */
#define POTRF(NAME, INT, FACTOR)                                                     \
	BLAS_WRAPPER(NAME,                                                           \
	    (const char *uplo, const INT *n, void *a, const INT *lda, INT *info,     \
	        size_t uplo_length),                                                 \
	    (uplo, n, a, lda, info, uplo_length),                                    \
	    (FACTOR) * blas_flops_potrf(*n), LAPACK_UNRESOLVED)

#define GEQRF(NAME, INT, FACTOR)                                                     \
	BLAS_WRAPPER(NAME,                                                           \
	    (const INT *m, const INT *n, void *a, const INT *lda, void *tau,         \
	        void *work, const INT *lwork, INT *info),                            \
	    (m, n, a, lda, tau, work, lwork, info),                                  \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0 : (FACTOR) * blas_flops_geqrf(*m, *n), \
	    LAPACK_UNRESOLVED)

/* Every spelling of one routine in the four precisions. */
#define LAPACK_ALL_PRECISIONS(ROUTINE, NAME)                                         \
	BLAS_FORTRAN_SPELLINGS(ROUTINE, s##NAME, 1.0)                                \
	BLAS_FORTRAN_SPELLINGS(ROUTINE, d##NAME, 1.0)                                \
	BLAS_FORTRAN_SPELLINGS(ROUTINE, c##NAME, BLAS_COMPLEX_FACTOR)                \
	BLAS_FORTRAN_SPELLINGS(ROUTINE, z##NAME, BLAS_COMPLEX_FACTOR)

LAPACK_ALL_PRECISIONS(GETRF, getrf)
LAPACK_ALL_PRECISIONS(GETRI, getri)
LAPACK_ALL_PRECISIONS(GESV, gesv)
LAPACK_ALL_PRECISIONS(POTRF, potrf)
LAPACK_ALL_PRECISIONS(GEQRF, geqrf)
