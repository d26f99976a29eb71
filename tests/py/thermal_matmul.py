"""Multiply two 1000x1000 matrices once (about 2e9 floating-point operations).

The thermal pause test runs this with the shim preloaded and a pinned
temperature file: the product waits at the BLAS gate point while the file
reads above the limit.
"""
import hashlib

import numpy as np

SIZE = 1000


def main():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((SIZE, SIZE))
    b = rng.standard_normal((SIZE, SIZE))
    print("start", flush=True)
    product = a @ b
    print("done", hashlib.sha256(product.tobytes()).hexdigest(), flush=True)


if __name__ == "__main__":
    main()
