/* Entry of a wrapped BLAS/LAPACK call, and the work estimates; see blas.h. */
#include "blas.h"
#include "gate.h"
#include "options.h"

SX_TLS unsigned blas_depth;

void
blas_call_enter_outermost(const char *name, double flops)
{
	gate_count_blas_call();
	if (options.disable || !(flops > options.blas_min_flops)) {
		return;
	}
	gate_pass(GATE_POINT_BLAS, name);
	blas_threads_update(gate_over_limit());
}

/* Dimensions come from the caller; negative ones (an invalid call) count as 0. */
static double
blas_dimension(int64_t value)
{
	return value > 0 ? (double)value : 0.0;
}

static double
blas_min(double a, double b)
{
	return a < b ? a : b;
}

static double
blas_max(double a, double b)
{
	return a > b ? a : b;
}

static bool
blas_wants_vectors(char job)
{
	return job != 'N' && job != 'n';
}

double
blas_flops_gemm(int64_t m, int64_t n, int64_t k)
{
	return 2.0 * blas_dimension(m) * blas_dimension(n) * blas_dimension(k);
}

double
blas_flops_getrf(int64_t m, int64_t n)
{
	double rows = blas_dimension(m), columns = blas_dimension(n);
	double steps = blas_min(rows, columns);

	/* 2/3 n^3 when square. */
	return 2.0 * (rows * columns * steps - (rows + columns) * steps * steps / 2.0
	    + steps * steps * steps / 3.0);
}

double
blas_flops_getri(int64_t n)
{
	double size = blas_dimension(n);

	return 4.0 / 3.0 * size * size * size;
}

double
blas_flops_gesv(int64_t n, int64_t nrhs)
{
	double size = blas_dimension(n);

	return blas_flops_getrf(n, n) + 2.0 * size * size * blas_dimension(nrhs);
}

double
blas_flops_potrf(int64_t n)
{
	double size = blas_dimension(n);

	return size * size * size / 3.0;
}

double
blas_flops_geqrf(int64_t m, int64_t n)
{
	double rows = blas_dimension(m), columns = blas_dimension(n);
	double steps = blas_min(rows, columns);

	/* 4/3 n^3 when square. */
	return 2.0 * rows * columns * steps - (rows + columns) * steps * steps
	    + 2.0 / 3.0 * steps * steps * steps;
}

double
blas_flops_syevd(int64_t n, char jobz)
{
	double size = blas_dimension(n);

	/* Tridiagonal reduction 4/3 n^3; the eigenvectors bring it to about 9 n^3. */
	return (blas_wants_vectors(jobz) ? 9.0 : 4.0 / 3.0) * size * size * size;
}

double
blas_flops_geev(int64_t n)
{
	double size = blas_dimension(n);

	/* Estimate with both eigenvector sets; eigenvalues alone take about 10 n^3. */
	return 25.0 * size * size * size;
}

double
blas_flops_gesdd(int64_t m, int64_t n, char jobz)
{
	double rows = blas_dimension(m), columns = blas_dimension(n);
	double small = blas_min(rows, columns), large = blas_max(rows, columns);

	/* Estimate: 22 n^3 for a square matrix with vectors, bidiagonalisation alone without. */
	if (blas_wants_vectors(jobz)) {
		return 22.0 * large * small * small;
	}
	return 4.0 * large * small * small - 4.0 / 3.0 * small * small * small;
}

double
blas_flops_gelsd(int64_t m, int64_t n, int64_t nrhs)
{
	double rows = blas_dimension(m), columns = blas_dimension(n);
	double small = blas_min(rows, columns), large = blas_max(rows, columns);

	/* Estimate: a bidiagonalisation, the divide-and-conquer SVD, and applying it to B. */
	return 4.0 * large * small * small + 8.0 * small * small * small
	    + 4.0 * large * small * blas_dimension(nrhs);
}
