"""safeexec.batch() with numpy arrays under a memory budget.

Run under the shim with SAFEEXEC_MEMORY_LIMIT=192M. 64 items of 6 MiB each:
the first batch (all 64, 384 MiB) and the second (32, 192 MiB) cannot fit
below 192 MiB minus the margin, so the executor must cut the batch at least
twice. Prints "scenario ok ..." and exits 0, or prints what failed and
exits 1.
"""

import json
import sys

import numpy as np

import safeexec

ITEMS = 64
ITEM_BYTES = 6 * 2**20
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def work(chunk):
    block = np.ones((len(chunk), ITEM_BYTES // 8))
    block *= np.arange(1, len(chunk) + 1)[:, None]
    return [int(item) * 1000 + int(block[row, 0]) for row, item in enumerate(chunk)]


checkpoints = []
progress_calls = []
outcome = safeexec.batch(
    ITEMS, work, initial_batch=ITEMS, item_bytes=ITEM_BYTES, backoff=0.01,
    checkpoint=lambda batch: checkpoints.append((batch.index, batch.start, batch.stop,
                                                 list(batch.items), list(batch.results))),
    progress=lambda done, total: progress_calls.append((done, total)))

expected = []
for index, start, stop, items, results in checkpoints:
    expected.extend(item * 1000 + row + 1 for row, item in enumerate(items))

seen = [item for _, _, _, items, _ in checkpoints for item in items]
check(seen == list(range(ITEMS)),
      "checkpointed items are not 0..%d exactly once: %s" % (ITEMS - 1, seen))
check([stop - start for _, start, stop, _, _ in checkpoints] == outcome.batch_sizes,
      "checkpoint calls %s do not match the batches %s"
      % ([(start, stop) for _, start, stop, _, _ in checkpoints], outcome.batch_sizes))
check([index for index, _, _, _, _ in checkpoints] == list(range(1, len(checkpoints) + 1)),
      "checkpoint indexes are not 1..n")
check(all(stop == next_start for (_, _, stop, _, _), (_, next_start, _, _, _)
          in zip(checkpoints, checkpoints[1:])), "batches are not contiguous")
check(outcome.results == expected, "results are not in item order or are wrong")
check(len(outcome.results) == ITEMS, "got %d results for %d items"
      % (len(outcome.results), ITEMS))
check(outcome.reductions >= 2, "expected at least 2 reductions, got %d (batches %s)"
      % (outcome.reductions, outcome.batch_sizes))
check(outcome.memory_errors >= outcome.reductions, "fewer MemoryErrors than reductions")
check(max(outcome.batch_sizes) <= ITEMS // 4,
      "a batch of %d items fit under the budget" % max(outcome.batch_sizes))
check(progress_calls and progress_calls[-1] == (ITEMS, ITEMS),
      "the last progress call was %s" % (progress_calls[-1:],))

status = safeexec.status()
check(status["loaded"], "the shim is not loaded: %s" % status["reason"])
check(status["refusals"] >= 2, "the shim counted %d refusals" % status["refusals"])
check(status["cleanup_runs"] >= 1, "no cleanup ran")

if failures:
    for failure in failures:
        print("FAILED: " + failure)
    sys.exit(1)
print("scenario ok " + json.dumps({"batch_sizes": outcome.batch_sizes,
                                   "reductions": outcome.reductions,
                                   "refusals": status["refusals"]}))
