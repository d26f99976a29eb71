"""Process-wide state of the module: the shim binding, status and cleanup.

The shim's cleanup hooks run inside some thread's malloc, where calling into
the interpreter could deadlock or corrupt it. So this module registers no
Python hook with the shim. Instead it watches the shim's count of cleanup
runs, a plain counter in C read through safeexec_status. When the count
went up, it runs gc.collect() and the callables given to register_cleanup()
at the next safe point: the boundaries of execute() and of each batch.
"""

import gc
import math
import threading
import warnings

from . import _memory
from ._native import Native

UINT64_MAX = 2**64 - 1

_lock = threading.Lock()
_native = None
_warned = False
_cleanup_callbacks = []
_cleanup_runs_seen = 0


def native():
    """Return the Native binding, created on first use."""
    global _native
    with _lock:
        if _native is None:
            _native = Native()
        return _native


def warn_degraded_once():
    """Warn once per process that the shim is absent, with the reason."""
    global _warned
    binding = native()
    if binding.loaded or _warned:
        return
    _warned = True
    warnings.warn("safeexec runs in degraded mode: %s. status() reports no limit, "
                  "throttle() does not wait, and batch() adapts to MemoryError and "
                  "MemAvailable only." % binding.reason, RuntimeWarning, stacklevel=3)


def _degraded_status(binding):
    total, available = _memory.meminfo_bytes()
    rss = _memory.rss_bytes()
    return {
        "loaded": False,
        "library": None,
        "reason": binding.reason,
        "shim_active": False,
        "healthy": True,
        "unhealthy_reason": "",
        "limit_bytes": 0,
        "limit_source": "none",
        "limit_detail": "",
        "usage_bytes": rss,
        "margin_bytes": 0,
        "headroom_bytes": None,
        "retained_bytes": 0,
        "footprint_bytes": rss,
        "peak_footprint_bytes": rss,
        "memtotal_bytes": total,
        "memavailable_bytes": available,
        "psi_memory_some_avg10": math.nan,
        "psi_memory_threshold": math.nan,
        "psi_cpu_some_avg10": math.nan,
        "cpu_limit_percent": 0.0,
        "temperature_celsius": math.nan,
        "thermal_limit_celsius": math.nan,
        "temperature_source": "",
        "large_requests": 0,
        "stalls": 0,
        "stall_ms": 0,
        "refusals": 0,
        "cleanup_runs": 0,
        "blas_calls": 0,
        "blas_gated": 0,
        "paused_ms": 0,
        "thermal_pauses": 0,
        "cpu_pauses": 0,
    }


def status():
    """Return the shim's current readings and counters as a dict.

    The keys are the fields of struct safeexec_status (include/safeexec.h)
    plus ``loaded`` (the shim is in this process), ``library`` (its path)
    and ``reason`` (why it is not loaded). ``headroom_bytes`` is None when
    no limit applies or the shim is not loaded. Without the shim, the
    memory fields come from /proc and the counters are 0.
    """
    binding = native()
    if not binding.loaded:
        warn_degraded_once()
        return _degraded_status(binding)
    result = binding.status()
    result["loaded"] = True
    result["library"] = binding.path
    result["reason"] = ""
    if result["headroom_bytes"] == UINT64_MAX or result["limit_bytes"] == 0:
        result["headroom_bytes"] = None
    return result


def is_active():
    """Return True when the shim is loaded and enabled in this process."""
    binding = native()
    return binding.loaded and binding.status()["shim_active"]


def trace_mark(event, detail=""):
    """Append a mark to the shim's trace file (SAFEEXEC_TRACE_FILE), if any.

    ``event`` names the mark, e.g. "batch_start"; ``detail`` is free text
    whose spaces the trace turns into underscores. Does nothing without the
    shim or without a trace file.
    """
    binding = native()
    if binding.loaded:
        binding.trace_mark(event, detail)


def register_cleanup(callback):
    """Run ``callback()`` at the next safe point after the shim ran its cleanup hooks.

    Safe points are the boundaries of execute() and batch(), and every
    retry after a MemoryError. The callback runs in the thread that reached
    the safe point, after gc.collect(). Returns the callback, so this also
    works as a decorator.
    """
    with _lock:
        _cleanup_callbacks.append(callback)
    return callback


def unregister_cleanup(callback):
    """Remove a callback given to register_cleanup; a missing one is ignored."""
    with _lock:
        if callback in _cleanup_callbacks:
            _cleanup_callbacks.remove(callback)


def run_cleanup(reason):
    """Free what the interpreter and the shim can: gc, callbacks, the shim's hooks.

    Called after a MemoryError, where the interpreter is in a safe state.
    Returns the bytes the shim's hooks reported releasing (0 without shim).
    """
    _run_python_cleanup()
    binding = native()
    if binding.loaded:
        return binding.cleanup_run(reason)
    return 0


def run_pending_cleanup(current_status=None):
    """Run gc.collect() and the cleanup callbacks if the shim ran cleanup since the last check.

    ``current_status`` may be a status() dict read just before, to save a
    second reading. Returns True when the cleanup ran.
    """
    global _cleanup_runs_seen
    if current_status is None:
        if not native().loaded:
            return False
        current_status = status()
    runs = current_status.get("cleanup_runs", 0)
    with _lock:
        pending = runs > _cleanup_runs_seen
        _cleanup_runs_seen = max(runs, _cleanup_runs_seen)
    if pending:
        _run_python_cleanup()
    return pending


def _run_python_cleanup():
    gc.collect()
    with _lock:
        callbacks = list(_cleanup_callbacks)
    for callback in callbacks:
        callback()
