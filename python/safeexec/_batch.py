"""batch(): process items in batches sized to the memory that is left.

The executor is plain Python on top of status() and MemoryError, so the
caller's function runs in the caller's thread with no C frames around it.
"""

import math
import time

from . import _checks
from . import _memory
from . import _runtime


class Batch:
    """One finished batch, as given to the checkpoint callable.

    ``index`` counts finished batches from 1. ``start`` and ``stop`` are
    positions in the item sequence, stop excluded. ``items`` and
    ``results`` are this batch's items and fn's results for them.
    """

    __slots__ = ("index", "start", "stop", "items", "results")

    def __init__(self, index, start, stop, items, results):
        self.index = index
        self.start = start
        self.stop = stop
        self.items = items
        self.results = results

    @property
    def size(self):
        return self.stop - self.start

    def __repr__(self):
        return "Batch(index=%d, start=%d, stop=%d)" % (self.index, self.start, self.stop)


class BatchResult:
    """Outcome of batch(): the results in item order and the batch history.

    ``batch_sizes`` lists the sizes of the finished batches in order.
    ``reductions`` counts the times a batch was cut after a MemoryError, and
    ``memory_errors`` the MemoryErrors caught. ``item_bytes`` is the
    per-item memory estimate used at the end (0 when unknown).
    """

    def __init__(self):
        self.results = []
        self.batch_sizes = []
        self.reductions = 0
        self.memory_errors = 0
        self.item_bytes = 0
        self.elapsed_s = 0.0

    @property
    def items_done(self):
        return len(self.results)


class BatchError(Exception):
    """batch() stopped before every item was processed.

    ``completed`` lists the processed items, which are always the first
    ``completed_count`` items in order. ``result`` is the BatchResult so
    far with their results, and ``failed_start`` the position of the first
    item not processed. The original exception is the ``__cause__``.
    """

    def __init__(self, message, completed, result, failed_start, total):
        super().__init__(message)
        self.completed = completed
        self.completed_count = len(completed)
        self.result = result
        self.failed_start = failed_start
        self.total = total


class BatchMemoryError(BatchError, MemoryError):
    """batch() stopped because a batch of min_batch items still raised MemoryError."""


class _Sizer:
    """Chooses batch sizes from the headroom and a per-item memory estimate."""

    def __init__(self, total, initial_batch, min_batch, max_batch, item_bytes,
                 headroom_fraction):
        self.min_batch = min_batch
        self.max_batch = max(min_batch, max_batch or total or 1)
        self.initial_batch = initial_batch
        self.hint_bytes = math.ceil(item_bytes) if item_bytes is not None else 0
        self.headroom_fraction = headroom_fraction
        self.measured_batch = 0      # size of the largest measured batch
        self.measured_bytes = 0      # its peak growth per item
        self.last_ok = 0             # size of the last finished batch
        self.failed_size = None      # smallest size that raised MemoryError
        self.forced = None           # size to use next, after a reduction

    def estimate(self):
        return self.measured_bytes or self.hint_bytes

    def _clamp(self, size):
        return max(self.min_batch, min(self.max_batch, int(size)))

    def _from_headroom(self):
        current = _runtime.status()
        _runtime.run_pending_cleanup(current)
        headroom = current["headroom_bytes"]
        if headroom is None:
            headroom = current["memavailable_bytes"]
        else:
            # Freed memory that the shim's allocator keeps resident is reused
            # by the next batch without growing the footprint.
            headroom += current.get("retained_bytes", 0)
        if not headroom:
            return None
        return int(headroom * self.headroom_fraction) // self.estimate()

    def next_size(self, remaining):
        if self.forced is not None:
            size = self.forced
        elif self.last_ok == 0 and self.initial_batch:
            size = self.initial_batch
        elif self.estimate() > 0:
            size = self._from_headroom()
            if size is None:
                size = self.last_ok * 2 if self.last_ok else self.min_batch
            elif self.last_ok:
                size = min(size, self.last_ok * 2)
        else:
            # No estimate yet: probe with a small batch, then measure.
            size = self.last_ok * 2 if self.last_ok else self.min_batch
        if self.failed_size is not None and self.forced is None:
            size = min(size, max(self.min_batch, self.failed_size - 1))
        return min(self._clamp(size), remaining)

    def reduce(self, size):
        """Record a MemoryError at size; returns the smaller size, or None at min_batch."""
        self.failed_size = size if self.failed_size is None else min(self.failed_size, size)
        if size <= self.min_batch:
            self.forced = self.min_batch
            return None
        self.forced = max(self.min_batch, size // 2)
        return self.forced

    def finished(self, size, growth_bytes):
        self.forced = None
        self.last_ok = size
        if growth_bytes > 0 and size >= self.measured_batch:
            self.measured_batch = size
            self.measured_bytes = max(1, growth_bytes // size)


def _retained_bytes():
    """Return the freed memory the shim's allocator keeps resident (0 without the shim)."""
    if not _runtime.native().loaded:
        return 0
    return _runtime.status().get("retained_bytes", 0)


def _describe_stop(done, total, size, cause):
    finished = "positions 0-%d are done" % (done - 1) if done else "none is done"
    return ("batch processing stopped after %d of %d items (%s): the batch of %d item%s "
            "starting at position %d failed with %s: %s"
            % (done, total, finished, size, "" if size == 1 else "s", done,
               type(cause).__name__, cause))


def _check_batch_arguments(items_or_count, initial_batch, min_batch, max_batch, item_bytes,
                           headroom_fraction, retries, backoff):
    if isinstance(items_or_count, int) and not isinstance(items_or_count, bool):
        _checks.count("items_or_count", items_or_count, 0)
    _checks.count("min_batch", min_batch, 1)
    if max_batch is not None:
        _checks.count("max_batch", max_batch, 1)
        if min_batch > max_batch:
            raise ValueError("min_batch (%d) must not exceed max_batch (%d)"
                             % (min_batch, max_batch))
    if initial_batch is not None:
        _checks.count("initial_batch", initial_batch, 1)
    if item_bytes is not None:
        _checks.positive("item_bytes", item_bytes)
    _checks.fraction("headroom_fraction", headroom_fraction)
    _checks.count("retries", retries, 0)
    _checks.seconds("backoff", backoff)


def batch(items_or_count, fn, checkpoint=None, progress=None, initial_batch=None,
          min_batch=1, max_batch=None, item_bytes=None, headroom_fraction=0.7,
          retries=3, backoff=0.5):
    """Process items in batches whose size follows the memory left.

    ``items_or_count`` is a sequence of items or a count n (the items are
    then range(n)). ``fn(batch_items)`` processes one batch and returns a
    sequence with one result per item (or None). Each item is processed in
    exactly one successful batch, in order.

    Batch size: the first batch has ``initial_batch`` items if given.
    Otherwise the size is the headroom (from status(), or MemAvailable
    without the shim) times ``headroom_fraction``, divided by the per-item
    memory. The per-item memory is ``item_bytes`` until a batch was
    measured (peak resident set growth per item), and the measurement after
    that. Without either, a batch of ``min_batch`` items runs first to
    measure. Sizes stay within
    ``min_batch`` and ``max_batch``, grow at most twofold per batch, and stay
    below a size that raised MemoryError.

    A MemoryError in fn runs the cleanup (gc.collect(), the register_cleanup
    callables, the shim's hooks) and retries the same items in a batch of
    half the size. At ``min_batch`` items it retries ``retries`` times with
    ``backoff`` seconds between tries (doubling), then raises
    BatchMemoryError. Any other exception from fn raises BatchError at once.
    Both record which items completed.

    After each finished batch, ``checkpoint(Batch)`` and then
    ``progress(items_done, items_total)`` are called. Batch boundaries and
    reductions are marked in the shim's trace file.

    Returns a BatchResult. Raises TypeError or ValueError before running fn
    for invalid arguments: counts that are not ints, ``min_batch``,
    ``max_batch`` or ``initial_batch`` below 1, ``min_batch`` above
    ``max_batch``, ``item_bytes`` <= 0, ``headroom_fraction`` outside
    (0, 1], ``retries`` < 0 or ``backoff`` < 0.
    """
    _check_batch_arguments(items_or_count, initial_batch, min_batch, max_batch, item_bytes,
                           headroom_fraction, retries, backoff)
    items = range(items_or_count) if isinstance(items_or_count, int) else list(items_or_count)
    total = len(items)
    result = BatchResult()
    sizer = _Sizer(total, initial_batch, min_batch, max_batch, item_bytes, headroom_fraction)
    if not _runtime.native().loaded:
        _runtime.warn_degraded_once()
    started = time.monotonic()
    position = 0
    failures_at_min = 0
    meter = _memory.PeakMeter()

    while position < total:
        size = sizer.next_size(total - position)
        chunk = items[position:position + size]
        index = len(result.batch_sizes) + 1
        _runtime.trace_mark("batch_start", "index=%d,start=%d,size=%d"
                            % (index, position, size))
        retained_at_start = _retained_bytes()
        meter.start()
        try:
            outputs = fn(chunk)
        except MemoryError as error:
            result.memory_errors += 1
            smaller = sizer.reduce(size)
            failures_at_min = failures_at_min + 1 if smaller is None else 0
            if failures_at_min > retries:
                _runtime.trace_mark("batch_failed", "start=%d,size=%d" % (position, size))
                result.elapsed_s = time.monotonic() - started
                result.item_bytes = sizer.estimate()
                raise BatchMemoryError(
                    _describe_stop(position, total, size, error),
                    list(items[:position]), result, position, total) from error
            memory_failed = True
        except Exception as error:
            _runtime.trace_mark("batch_failed", "start=%d,size=%d" % (position, size))
            result.elapsed_s = time.monotonic() - started
            result.item_bytes = sizer.estimate()
            raise BatchError(_describe_stop(position, total, size, error),
                             list(items[:position]), result, position, total) from error
        else:
            memory_failed = False

        if memory_failed:
            # Outside the except block: the traceback, and with it fn's
            # partial arrays, is gone, so the cleanup can free them.
            _runtime.run_cleanup("after a MemoryError in a batch of %d items" % size)
            if smaller is not None:
                result.reductions += 1
                _runtime.trace_mark("batch_reduce", "start=%d,from=%d,to=%d"
                                    % (position, size, smaller))
            else:
                time.sleep(backoff * 2 ** (failures_at_min - 1))
            continue

        outputs = [None] * len(chunk) if outputs is None else list(outputs)
        if len(outputs) != len(chunk):
            raise ValueError("the batch function returned %d results for %d items"
                             % (len(outputs), len(chunk)))
        # Memory the allocator kept from earlier batches is reused without
        # growing the resident set, so it counts as this batch's growth too.
        sizer.finished(len(chunk), meter.growth_bytes() + retained_at_start)
        failures_at_min = 0
        result.results.extend(outputs)
        result.batch_sizes.append(len(chunk))
        position += len(chunk)
        _runtime.trace_mark("batch_end", "index=%d,done=%d,total=%d,item_bytes=%d"
                            % (index, position, total, sizer.estimate()))
        if checkpoint is not None:
            checkpoint(Batch(index, position - len(chunk), position, chunk, outputs))
        if progress is not None:
            progress(position, total)

    result.elapsed_s = time.monotonic() - started
    result.item_bytes = sizer.estimate()
    return result
