"""Numpy workload for the shim's integration tests.

Prints one line per result, with float64 values as hex so that runs with and
without the shim can be compared bit for bit.
"""
import sys

import numpy as np


def main():
    rng = np.random.default_rng(12345)
    a = rng.standard_normal((300, 300))
    b = rng.standard_normal((300, 300))
    v = rng.standard_normal(300)

    print("matmul", (a @ b).sum().hex())
    print("dot", np.dot(a, v).sum().hex())
    print("inv", np.linalg.inv(a).sum().hex())
    print("solve", np.linalg.solve(a, v).sum().hex())
    print("det", np.linalg.det(a[:50, :50]).hex())

    big = np.arange(4_000_000, dtype=np.float64)
    print("large", ((big * 2 + 1).sum()).hex())
    zeros = np.zeros(2**25)
    zeros[::4096] = 1.0
    print("zeros", zeros.sum().hex())
    grown = []
    for i in range(50):
        grown.append(np.full(100_000 + i * 1000, float(i)))
    print("lists", sum(x.sum() for x in grown).hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
