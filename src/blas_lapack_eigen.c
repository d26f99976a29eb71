/*
 * Wrappers for the LAPACK drivers behind numpy.linalg's eigh, eig, svd and
 * lstsq: ?syevd (real) and ?heevd (complex), ?geev, ?gesdd and ?gelsd. The
 * real and complex forms of geev, gesdd and gelsd take different arguments
 * (complex ones add rwork). Character arguments are followed by gfortran's
 * hidden lengths. When the real routine is missing, *info is set to
 * BLAS_INFO_UNRESOLVED.
 */
#include <stddef.h>
#include <stdint.h>

#include "blas.h"

#define LAPACK_UNRESOLVED (*info = BLAS_INFO_UNRESOLVED)

#define SYEVD(NAME, INT, FACTOR)                                                     \
	BLAS_WRAPPER(NAME,                                                           \
	    (const char *jobz, const char *uplo, const INT *n, void *a, const INT *lda, \
	        void *w, void *work, const INT *lwork, INT *iwork, const INT *liwork, \
	        INT *info, size_t jobz_length, size_t uplo_length),                  \
	    (jobz, uplo, n, a, lda, w, work, lwork, iwork, liwork, info, jobz_length, \
	        uplo_length),                                                        \
	    BLAS_WORKSPACE_QUERY(lwork) || BLAS_WORKSPACE_QUERY(liwork) ? 0.0        \
	        : (FACTOR) * blas_flops_syevd(*n, *jobz),                            \
	    LAPACK_UNRESOLVED)

#define HEEVD(NAME, INT, FACTOR)                                                     \
	BLAS_WRAPPER(NAME,                                                           \
	    (const char *jobz, const char *uplo, const INT *n, void *a, const INT *lda, \
	        void *w, void *work, const INT *lwork, void *rwork, const INT *lrwork, \
	        INT *iwork, const INT *liwork, INT *info, size_t jobz_length,        \
	        size_t uplo_length),                                                 \
	    (jobz, uplo, n, a, lda, w, work, lwork, rwork, lrwork, iwork, liwork, info, \
	        jobz_length, uplo_length),                                           \
	    BLAS_WORKSPACE_QUERY(lwork) || BLAS_WORKSPACE_QUERY(lrwork)              \
	        || BLAS_WORKSPACE_QUERY(liwork) ? 0.0                                \
	        : (FACTOR) * blas_flops_syevd(*n, *jobz),                            \
	    LAPACK_UNRESOLVED)

#define GEEV_REAL(NAME, INT, FACTOR)                                                 \
	BLAS_WRAPPER(NAME,                                                           \
	    (const char *jobvl, const char *jobvr, const INT *n, void *a, const INT *lda, \
	        void *wr, void *wi, void *vl, const INT *ldvl, void *vr, const INT *ldvr, \
	        void *work, const INT *lwork, INT *info, size_t jobvl_length,        \
	        size_t jobvr_length),                                                \
	    (jobvl, jobvr, n, a, lda, wr, wi, vl, ldvl, vr, ldvr, work, lwork, info, \
	        jobvl_length, jobvr_length),                                         \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0 : (FACTOR) * blas_flops_geev(*n),      \
	    LAPACK_UNRESOLVED)

#define GEEV_COMPLEX(NAME, INT, FACTOR)                                              \
	BLAS_WRAPPER(NAME,                                                           \
	    (const char *jobvl, const char *jobvr, const INT *n, void *a, const INT *lda, \
	        void *w, void *vl, const INT *ldvl, void *vr, const INT *ldvr,       \
	        void *work, const INT *lwork, void *rwork, INT *info,                \
	        size_t jobvl_length, size_t jobvr_length),                           \
	    (jobvl, jobvr, n, a, lda, w, vl, ldvl, vr, ldvr, work, lwork, rwork, info, \
	        jobvl_length, jobvr_length),                                         \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0 : (FACTOR) * blas_flops_geev(*n),      \
	    LAPACK_UNRESOLVED)

#define GESDD_REAL(NAME, INT, FACTOR)                                                \
	BLAS_WRAPPER(NAME,                                                           \
	    (const char *jobz, const INT *m, const INT *n, void *a, const INT *lda,  \
	        void *s, void *u, const INT *ldu, void *vt, const INT *ldvt,         \
	        void *work, const INT *lwork, INT *iwork, INT *info,                 \
	        size_t jobz_length),                                                 \
	    (jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info,      \
	        jobz_length),                                                        \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0                                        \
	        : (FACTOR) * blas_flops_gesdd(*m, *n, *jobz),                        \
	    LAPACK_UNRESOLVED)

#define GESDD_COMPLEX(NAME, INT, FACTOR)                                             \
	BLAS_WRAPPER(NAME,                                                           \
	    (const char *jobz, const INT *m, const INT *n, void *a, const INT *lda,  \
	        void *s, void *u, const INT *ldu, void *vt, const INT *ldvt,         \
	        void *work, const INT *lwork, void *rwork, INT *iwork, INT *info,    \
	        size_t jobz_length),                                                 \
	    (jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, rwork, iwork, info, \
	        jobz_length),                                                        \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0                                        \
	        : (FACTOR) * blas_flops_gesdd(*m, *n, *jobz),                        \
	    LAPACK_UNRESOLVED)

#define GELSD_REAL(NAME, INT, FACTOR)                                                \
	BLAS_WRAPPER(NAME,                                                           \
	    (const INT *m, const INT *n, const INT *nrhs, void *a, const INT *lda,   \
	        void *b, const INT *ldb, void *s, const void *rcond, INT *rank,      \
	        void *work, const INT *lwork, INT *iwork, INT *info),                \
	    (m, n, nrhs, a, lda, b, ldb, s, rcond, rank, work, lwork, iwork, info),  \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0                                        \
	        : (FACTOR) * blas_flops_gelsd(*m, *n, *nrhs),                        \
	    LAPACK_UNRESOLVED)

#define GELSD_COMPLEX(NAME, INT, FACTOR)                                             \
	BLAS_WRAPPER(NAME,                                                           \
	    (const INT *m, const INT *n, const INT *nrhs, void *a, const INT *lda,   \
	        void *b, const INT *ldb, void *s, const void *rcond, INT *rank,      \
	        void *work, const INT *lwork, void *rwork, INT *iwork, INT *info),   \
	    (m, n, nrhs, a, lda, b, ldb, s, rcond, rank, work, lwork, rwork, iwork,  \
	        info),                                                               \
	    BLAS_WORKSPACE_QUERY(lwork) ? 0.0                                        \
	        : (FACTOR) * blas_flops_gelsd(*m, *n, *nrhs),                        \
	    LAPACK_UNRESOLVED)

BLAS_FORTRAN_SPELLINGS(SYEVD, ssyevd, 1.0)
BLAS_FORTRAN_SPELLINGS(SYEVD, dsyevd, 1.0)
BLAS_FORTRAN_SPELLINGS(HEEVD, cheevd, BLAS_COMPLEX_FACTOR)
BLAS_FORTRAN_SPELLINGS(HEEVD, zheevd, BLAS_COMPLEX_FACTOR)

BLAS_FORTRAN_SPELLINGS(GEEV_REAL, sgeev, 1.0)
BLAS_FORTRAN_SPELLINGS(GEEV_REAL, dgeev, 1.0)
BLAS_FORTRAN_SPELLINGS(GEEV_COMPLEX, cgeev, BLAS_COMPLEX_FACTOR)
BLAS_FORTRAN_SPELLINGS(GEEV_COMPLEX, zgeev, BLAS_COMPLEX_FACTOR)

BLAS_FORTRAN_SPELLINGS(GESDD_REAL, sgesdd, 1.0)
BLAS_FORTRAN_SPELLINGS(GESDD_REAL, dgesdd, 1.0)
BLAS_FORTRAN_SPELLINGS(GESDD_COMPLEX, cgesdd, BLAS_COMPLEX_FACTOR)
BLAS_FORTRAN_SPELLINGS(GESDD_COMPLEX, zgesdd, BLAS_COMPLEX_FACTOR)

BLAS_FORTRAN_SPELLINGS(GELSD_REAL, sgelsd, 1.0)
BLAS_FORTRAN_SPELLINGS(GELSD_REAL, dgelsd, 1.0)
BLAS_FORTRAN_SPELLINGS(GELSD_COMPLEX, cgelsd, BLAS_COMPLEX_FACTOR)
BLAS_FORTRAN_SPELLINGS(GELSD_COMPLEX, zgelsd, BLAS_COMPLEX_FACTOR)
