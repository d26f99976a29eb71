"""Times repeated (a * 2 + 1).sum() on 4-million-element arrays; prints ns per iteration.

Each iteration makes two 32 MB temporaries, so the allocator's handling of
large freed blocks dominates. Used by scripts/bench.
"""
import time

import numpy as np

ITERATIONS = 200

a = np.arange(4_000_000, dtype=np.float64)
start = time.perf_counter_ns()
total = 0.0
for _ in range(ITERATIONS):
    total += (a * 2 + 1).sum()
elapsed = time.perf_counter_ns() - start
print(f"{elapsed / ITERATIONS:.2f}")
