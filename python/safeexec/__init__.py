"""safeexec for Python: use the libsafeexec shim from numpy code.

Run the program under the shim (``safeexec -- python3 script.py`` or
``LD_PRELOAD=libsafeexec.so``); this package finds the loaded shim through
ctypes and needs no build step. Under the shim a large allocation that would
cross the memory limit fails with MemoryError instead of the kernel killing
the process, and this package turns that into smaller batches and retries:

    import safeexec

    def work(chunk):                   # chunk: a slice of the items
        return [simulate(item) for item in chunk]

    outcome = safeexec.batch(items, work, checkpoint=save)
    print(outcome.batch_sizes, safeexec.status()["refusals"])

Without the shim the package still works in a degraded mode: status()
reports no limit, throttle() does not wait, and batch() sizes batches from
MemAvailable and reacts to MemoryError. It warns once when that happens.
"""

from ._batch import Batch, BatchError, BatchMemoryError, BatchResult, batch
from ._execute import ThrottleResult, execute, throttle, throttled
from ._runtime import (is_active, register_cleanup, run_pending_cleanup, status,
                       trace_mark, unregister_cleanup)

__all__ = [
    "Batch",
    "BatchError",
    "BatchMemoryError",
    "BatchResult",
    "ThrottleResult",
    "batch",
    "execute",
    "is_active",
    "register_cleanup",
    "run_pending_cleanup",
    "status",
    "throttle",
    "throttled",
    "trace_mark",
    "unregister_cleanup",
]

__version__ = "0.1.0"
