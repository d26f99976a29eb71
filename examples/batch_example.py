# Runs 200 trials in batches that fit a 300 MB budget. Run it with:
#   safeexec --memory-limit 300M -- /usr/bin/python3 examples/batch_example.py
import numpy as np

import safeexec


def work(chunk):
    # Each trial needs a 4 MiB array, so all 200 at once would need 800 MiB.
    trials = np.ones((len(chunk), 512, 1024))
    return list(trials.sum(axis=(1, 2)) * np.array(chunk))


saved = []
outcome = safeexec.batch(200, work, initial_batch=200, checkpoint=saved.append)
print("results:", len(outcome.results), "batch sizes:", outcome.batch_sizes)
print("checkpoints:", len(saved), "memory errors:", outcome.memory_errors)
