"""Print a digest of numpy results that go through BLAS and LAPACK.

Run with and without the shim preloaded: the digests must be identical.
The matrices are large enough that dot, inv and solve are estimated above
blas_min_flops (1e8 by default), so those calls pass the shim's BLAS gate
point.
"""
import hashlib
import sys

import numpy as np

SIZE = 500


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def main():
    rng = np.random.default_rng(20240601)
    a = rng.standard_normal((SIZE, SIZE))
    b = rng.standard_normal((SIZE, SIZE))
    results = {
        "dot": np.dot(a, b),
        "inv": np.linalg.inv(a),
        "solve": np.linalg.solve(a, b),
        "det": np.array([np.linalg.det(a)]),
        "cholesky": np.linalg.cholesky(a @ a.T + SIZE * np.eye(SIZE)),
        "eigh": np.linalg.eigh(a + a.T)[0],
        "svd": np.linalg.svd(a, compute_uv=False),
        "qr": np.linalg.qr(a)[1],
        "complex_dot": (a + 1j * b) @ (b - 1j * a),
    }
    for name, value in results.items():
        print(f"{name} {digest(value)}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
