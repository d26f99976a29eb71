"""Checks of the safeexec Python module, with and without the shim.

Usage: py_api_checks.py shim LAYOUT     (under the shim, SAFEEXEC_MEMORY_LIMIT=256M)
       py_api_checks.py degraded        (without the shim)
LAYOUT is "size=N,field=offset,..." for struct safeexec_status, as the C
compiler laid it out. Prints "api checks ok" and exits 0, or prints every
failed check and exits 1.
"""

import ctypes
import sys
import warnings

import numpy as np

import safeexec
from safeexec import _native

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def check_layout(layout):
    """Compare the ctypes mirror of struct safeexec_status with the C layout."""
    expected = dict(entry.split("=") for entry in layout.split(","))
    size = int(expected.pop("size"))
    check(ctypes.sizeof(_native.Status) == size,
          "ctypes Status has %d bytes, struct safeexec_status %d"
          % (ctypes.sizeof(_native.Status), size))
    for name, offset in expected.items():
        field = getattr(_native.Status, name, None)
        check(field is not None, "ctypes Status lacks the field %s" % name)
        if field is not None:
            check(field.offset == int(offset), "field %s at offset %d in ctypes, %s in C"
                  % (name, field.offset, offset))


def check_status_under_shim():
    status = safeexec.status()
    check(status["loaded"], "status()['loaded'] is false: %s" % status["reason"])
    check(status["shim_active"], "the shim is not active")
    check(status["limit_bytes"] == 256 * 2**20, "limit_bytes is %d, expected 256 MiB"
          % status["limit_bytes"])
    check(status["limit_source"] == "budget", "limit_source is %r" % status["limit_source"])
    check(status["headroom_bytes"] is not None
          and 0 < status["headroom_bytes"] < status["limit_bytes"],
          "headroom_bytes is %r" % status["headroom_bytes"])
    check(status["footprint_bytes"] > 0, "footprint_bytes is 0")
    check(safeexec.is_active(), "is_active() is false under the shim")


def check_throttle():
    result = safeexec.throttle(0.5)
    check(bool(result), "throttle(0.5) timed out on an idle machine: %r" % result)
    with safeexec.throttle(0.5) as entered:
        check(entered is not None, "throttle() as a context manager gave None")

    @safeexec.throttled(0.5)
    def double(value):
        return 2 * value

    check(double(21) == 42, "a throttled function returned the wrong value")


def check_execute():
    sizes = []

    def allocate(size_holder):
        sizes.append(size_holder[0])
        return float(np.ones(size_holder[0] // 8)[0])

    holder = [2**30]

    def halve(reduction):
        holder[0] //= 2
        return True

    value = safeexec.execute(allocate, holder, operation="py_api_checks_ones",
                             size=holder[0], retries=5, backoff=0.01, reduce=halve)
    check(value == 1.0, "execute returned %r" % value)
    check(sizes[0] == 2**30 and sizes[-1] <= 2**27,
          "execute tried the sizes %s; expected 1 GiB halved until it fit" % sizes)

    try:
        safeexec.execute(lambda: np.ones(2**30 // 8), retries=1, backoff=0.01)
        check(False, "execute of 1 GiB under a 256 MiB budget did not raise")
    except MemoryError:
        pass


def check_batch_failure_names_completed_items():
    sizes = [2**20, 2**20, 2**20, 2**31, 2**20]

    def work(chunk):
        return [float(np.ones(sizes[item] // 8)[0]) for item in chunk]

    try:
        safeexec.batch(len(sizes), work, initial_batch=5, retries=1, backoff=0.01)
        check(False, "batch with a 2 GiB item under a 256 MiB budget did not raise")
    except safeexec.BatchMemoryError as error:
        check(isinstance(error, MemoryError), "BatchMemoryError is not a MemoryError")
        check(error.completed == [0, 1, 2], "completed items are %r (batches %r)"
              % (error.completed, error.result.batch_sizes))
        check(error.failed_start == 3, "failed_start is %r" % error.failed_start)
        check("3 of 5 items" in str(error), "the message does not say 3 of 5: %s" % error)

    def broken(chunk):
        if 2 in chunk:
            raise ValueError("item 2 is bad")
        return list(chunk)

    try:
        safeexec.batch(4, broken, initial_batch=1, max_batch=1)
        check(False, "batch did not raise for a ValueError")
    except safeexec.BatchError as error:
        check(not isinstance(error, MemoryError), "a ValueError became a MemoryError")
        check(error.completed == [0, 1], "completed items are %r" % error.completed)
        check(isinstance(error.__cause__, ValueError), "the cause is %r" % error.__cause__)


def check_cleanup_after_refusal():
    calls = []
    callback = safeexec.register_cleanup(lambda: calls.append(1))
    safeexec.run_pending_cleanup()
    calls.clear()
    try:
        np.ones(2**31 // 8)
        check(False, "a 2 GiB array under a 256 MiB budget did not raise")
    except MemoryError:
        pass
    check(safeexec.run_pending_cleanup(), "no cleanup was pending after a refusal")
    check(calls == [1], "the cleanup callback ran %d times" % len(calls))
    check(not safeexec.run_pending_cleanup(), "the cleanup stayed pending")
    safeexec.unregister_cleanup(callback)
    safeexec.trace_mark("py_api_checks", "no trace file is set")


def expect_error(error_type, fragment, function, *args, **kwargs):
    """Check that function(*args, **kwargs) raises error_type with fragment in its message."""
    call = "%s(%s)" % (getattr(function, "__name__", "call"), ", ".join(
        [repr(arg) for arg in args] + ["%s=%r" % item for item in kwargs.items()]))
    try:
        function(*args, **kwargs)
    except error_type as error:
        check(fragment in str(error), "%s raised %s(%r), which lacks %r"
              % (call, error_type.__name__, str(error), fragment))
    except Exception as error:  # noqa: BLE001 - any other type is the failure reported
        check(False, "%s raised %s(%r), expected %s"
              % (call, type(error).__name__, str(error), error_type.__name__))
    else:
        check(False, "%s raised nothing, expected %s" % (call, error_type.__name__))


def check_argument_validation():
    calls = []

    def work(*args):
        calls.append(args)
        return list(args[0]) if args else None

    expect_error(ValueError, "retries", safeexec.execute, work, retries=-1)
    expect_error(TypeError, "retries", safeexec.execute, work, retries=1.5)
    expect_error(ValueError, "backoff", safeexec.execute, work, backoff=-0.1)
    expect_error(ValueError, "max_backoff", safeexec.execute, work, max_backoff=float("inf"))
    expect_error(ValueError, "wait_s", safeexec.execute, work, wait_s=float("nan"))
    check(calls == [], "execute ran fn %d times despite invalid arguments" % len(calls))
    check(safeexec.execute(work, retries=0) is None, "execute with retries=0 failed")
    calls.clear()

    expect_error(ValueError, "nan", safeexec.throttle, float("nan"))
    expect_error(ValueError, "inf", safeexec.throttle, float("inf"))
    expect_error(ValueError, "-1", safeexec.throttle, -1)
    expect_error(TypeError, "'x'", safeexec.throttle, "x")
    expect_error(TypeError, "None", safeexec.throttle, None)
    expect_error(ValueError, "max_wait_s", safeexec.throttled, -5)
    check(bool(safeexec.throttle(0)), "throttle(0) timed out")
    # A wait longer than safeexec_throttle's uint64 of milliseconds is cut to fit. It
    # returns at once on a safe machine, and check_throttle reports an unsafe one.
    if safeexec.throttle(0.5):
        check(bool(safeexec.throttle(1e30)), "throttle(1e30) timed out")

    expect_error(ValueError, "min_batch (10) must not exceed max_batch (2)",
                 safeexec.batch, 10, work, min_batch=10, max_batch=2)
    expect_error(ValueError, "min_batch", safeexec.batch, 10, work, min_batch=0)
    expect_error(TypeError, "min_batch", safeexec.batch, 10, work, min_batch=2.5)
    expect_error(ValueError, "max_batch", safeexec.batch, 10, work, max_batch=0)
    expect_error(ValueError, "initial_batch", safeexec.batch, 10, work, initial_batch=0)
    expect_error(ValueError, "initial_batch", safeexec.batch, 10, work, initial_batch=-3)
    expect_error(ValueError, "headroom_fraction", safeexec.batch, 10, work,
                 headroom_fraction=0)
    expect_error(ValueError, "headroom_fraction", safeexec.batch, 10, work,
                 headroom_fraction=1.5)
    expect_error(ValueError, "headroom_fraction", safeexec.batch, 10, work,
                 headroom_fraction=float("nan"))
    expect_error(ValueError, "item_bytes", safeexec.batch, 10, work, item_bytes=0)
    expect_error(ValueError, "item_bytes", safeexec.batch, 10, work, item_bytes=-8)
    expect_error(ValueError, "retries", safeexec.batch, 10, work, retries=-1)
    expect_error(ValueError, "backoff", safeexec.batch, 10, work, backoff=-1)
    expect_error(ValueError, "items_or_count", safeexec.batch, -1, work)
    check(calls == [], "batch ran fn %d times despite invalid arguments" % len(calls))

    outcome = safeexec.batch(10, work, min_batch=2, max_batch=2, headroom_fraction=1,
                             item_bytes=0.5, retries=0, backoff=0)
    check(outcome.batch_sizes == [2] * 5, "batch sizes with min = max = 2: %r"
          % outcome.batch_sizes)


def check_degraded():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = safeexec.status()
        safeexec.status()
    degraded = [w for w in caught if "degraded mode" in str(w.message)]
    check(len(degraded) == 1, "expected one degraded-mode warning, got %d" % len(degraded))
    check(not status["loaded"], "status()['loaded'] is true without the shim")
    check(status["headroom_bytes"] is None, "headroom_bytes is %r" % status["headroom_bytes"])
    check(status["memavailable_bytes"] > 0, "memavailable_bytes is 0")
    check(not safeexec.is_active(), "is_active() is true without the shim")
    check(bool(safeexec.throttle(0.1)), "throttle() failed without the shim")
    outcome = safeexec.batch(10, lambda chunk: [item * 2 for item in chunk])
    check(outcome.results == [item * 2 for item in range(10)],
          "degraded batch results: %r" % outcome.results)


def main():
    if sys.argv[1] == "shim":
        check_layout(sys.argv[2])
        check_status_under_shim()
        check_throttle()
        check_execute()
        check_batch_failure_names_completed_items()
        check_cleanup_after_refusal()
        check_argument_validation()
    else:
        check_degraded()
        check_argument_validation()
    if failures:
        for failure in failures:
            print("FAILED: " + failure)
        return 1
    print("api checks ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
