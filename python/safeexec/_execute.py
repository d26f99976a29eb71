"""throttle() and execute(): wait for a safe machine, run work with retries."""

import functools
import time

from . import _checks
from . import _memory
from . import _runtime

# safeexec_throttle takes a uint64_t of milliseconds.
_MAX_WAIT_MS = 2**64 - 1


class ThrottleResult:
    """The outcome of a throttle() wait: true when it is safe to go on.

    Also a context manager, so ``with safeexec.throttle(60): work()`` waits
    before the block runs. The block runs even when the wait timed out.
    """

    def __init__(self, safe, waited_s):
        self.safe = safe
        self.waited_s = waited_s

    def __bool__(self):
        return self.safe

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def __repr__(self):
        return "ThrottleResult(safe=%r, waited_s=%.3f)" % (self.safe, self.waited_s)


def _wait(max_wait_s):
    _checks.seconds("max_wait_s", max_wait_s)
    binding = _runtime.native()
    start = time.monotonic()
    if not binding.loaded:
        _runtime.warn_degraded_once()
        return ThrottleResult(True, 0.0)
    rc = binding.throttle(min(_MAX_WAIT_MS, int(max_wait_s * 1000)))
    return ThrottleResult(rc == 0, time.monotonic() - start)


def throttle(max_wait_s=60.0):
    """Wait until the machine is cool, idle and has memory headroom.

    Blocks at most about ``max_wait_s`` seconds (see safeexec_throttle in
    include/safeexec.h for the conditions) and returns a ThrottleResult,
    which is true when it is safe and false when the wait timed out. The
    result is also a context manager. Given a function instead of a number,
    as in ``@safeexec.throttle``, returns a wrapper that waits up to 60 s
    before every call. throttled(max_wait_s) sets another limit.

    Raises TypeError when max_wait_s is neither a number nor callable, and
    ValueError when it is negative, infinite or NaN.
    """
    if callable(max_wait_s):
        return throttled(60.0)(max_wait_s)
    return _wait(max_wait_s)


class throttled:
    """Decorator and context manager that waits like throttle() on each use.

    ``@safeexec.throttled(30)`` waits before every call of the function;
    ``with safeexec.throttled(30) as result:`` waits on entry.
    """

    def __init__(self, max_wait_s=60.0):
        self.max_wait_s = _checks.seconds("max_wait_s", max_wait_s)
        self.result = None

    def __enter__(self):
        self.result = _wait(self.max_wait_s)
        return self.result

    def __exit__(self, *exc_info):
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            _wait(self.max_wait_s)
            return function(*args, **kwargs)
        return wrapper


def _params_of(size):
    if size is None:
        return ()
    if isinstance(size, (int, float)):
        return (float(size),)
    return tuple(float(value) for value in size)


def _headroom_bytes():
    current = _runtime.status()
    _runtime.run_pending_cleanup(current)
    headroom = current["headroom_bytes"]
    return headroom if headroom is not None else current["memavailable_bytes"]


def _make_room(predicted, reduce, reductions, wait_s, operation):
    """Clean up, reduce and wait until predicted bytes fit; returns the reduction count.

    Raises MemoryError when the prediction still does not fit after wait_s.
    """
    if predicted <= _headroom_bytes():
        return reductions
    _runtime.run_cleanup("before %s" % operation)
    deadline = time.monotonic() + wait_s
    delay_s = 0.05
    while predicted > _headroom_bytes():
        if reduce is not None and reduce(reductions + 1) is not False:
            return reductions + 1
        if time.monotonic() >= deadline:
            raise MemoryError("safeexec did not run %s: it is predicted to "
                              "need %d MB but only %d MB are free below the limit"
                              % (operation, predicted // 2**20,
                                 _headroom_bytes() // 2**20))
        time.sleep(delay_s)
        delay_s = min(delay_s * 2, 1.0)
    return reductions


def execute(fn, *args, operation=None, size=None, predicted_bytes=None, retries=3,
            backoff=0.1, max_backoff=5.0, reduce=None, wait_s=5.0, **kwargs):
    """Run ``fn(*args, **kwargs)`` with memory prediction, cleanup and retries.

    ``operation`` names the kind of work (e.g. "svd") for the shim's history
    of peak memory, and ``size`` (a number or up to 4 numbers) its size, so
    that the next call of the same kind predicts its peak. ``predicted_bytes``
    is the caller's own estimate and wins over the history. When the
    prediction exceeds the headroom, execute() runs the cleanup, calls
    ``reduce(n)`` and waits up to ``wait_s`` seconds, then raises
    MemoryError without running fn. ``reduce(n)``, with n counting from 1,
    makes the next attempt need less memory and returns False when nothing
    is left to reduce.

    A MemoryError from fn makes execute() run gc.collect(), the registered
    cleanup callbacks and the shim's hooks, call reduce if given, wait
    ``backoff`` seconds (doubling up to ``max_backoff``) and try again, up
    to ``retries`` retries. Other exceptions propagate at once. Returns what
    fn returned; the last MemoryError propagates when every attempt failed.

    Raises TypeError or ValueError before running fn when ``retries`` is not
    an int >= 0, or ``backoff``, ``max_backoff`` or ``wait_s`` is not a
    finite number of seconds >= 0.
    """
    _checks.count("retries", retries, 0)
    _checks.seconds("backoff", backoff)
    _checks.seconds("max_backoff", max_backoff)
    _checks.seconds("wait_s", wait_s)
    name = operation or getattr(fn, "__name__", "work")
    params = _params_of(size)
    binding = _runtime.native()
    reductions = 0
    delay_s = backoff

    for attempt in range(retries + 1):
        predicted = predicted_bytes or 0
        if not predicted and binding.loaded and operation and params:
            predicted = binding.predict(operation, params)
        if predicted:
            reductions = _make_room(predicted, reduce, reductions, wait_s, name)
        else:
            _runtime.run_pending_cleanup()

        meter = _memory.PeakMeter()
        meter.start()
        try:
            result = fn(*args, **kwargs)
        except MemoryError:
            if attempt == retries:
                _runtime.trace_mark("execute_failed", "%s,attempts=%d" % (name, attempt + 1))
                raise
            failed = True
        else:
            failed = False

        if failed:
            # Outside the except block, so fn's frames and arrays are freed first.
            _runtime.trace_mark("execute_retry", "%s,attempt=%d" % (name, attempt + 1))
            _runtime.run_cleanup("after a MemoryError in %s" % name)
            if reduce is not None:
                if reduce(reductions + 1) is False:
                    raise MemoryError("%s ran out of memory and reduce() has nothing "
                                      "left to reduce" % name)
                reductions += 1
            time.sleep(delay_s)
            delay_s = min(delay_s * 2, max_backoff)
            continue
        if binding.loaded and operation and params:
            binding.record(operation, params, meter.growth_bytes())
        return result
    raise AssertionError("unreachable: the last attempt returns or raises")
