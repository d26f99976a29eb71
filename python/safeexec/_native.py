"""ctypes access to libsafeexec.so when it is already loaded in this process.

The module never loads the library itself: the shim must be in the process
from the start (LD_PRELOAD or the ``safeexec`` launcher) to own malloc, and
loading it later would mix two allocators. It is found in /proc/self/maps and
opened with RTLD_NOLOAD, which returns the loaded copy or fails.
"""

import ctypes
import os

# Sizes from include/safeexec.h (SAFEEXEC_API_VERSION 1).
API_VERSION = 1
TEXT_MAX = 256
OPERATION_MAX = 48
PARAMS_MAX = 4

LIBRARY_NAME = "libsafeexec.so"


class Status(ctypes.Structure):
    """struct safeexec_status, field for field."""

    _fields_ = [
        ("shim_active", ctypes.c_int),
        ("healthy", ctypes.c_int),
        ("unhealthy_reason", ctypes.c_char * TEXT_MAX),
        ("limit_bytes", ctypes.c_uint64),
        ("limit_source", ctypes.c_char * 32),
        ("limit_detail", ctypes.c_char * TEXT_MAX),
        ("usage_bytes", ctypes.c_uint64),
        ("margin_bytes", ctypes.c_uint64),
        ("headroom_bytes", ctypes.c_uint64),
        ("retained_bytes", ctypes.c_uint64),
        ("footprint_bytes", ctypes.c_uint64),
        ("peak_footprint_bytes", ctypes.c_uint64),
        ("memtotal_bytes", ctypes.c_uint64),
        ("memavailable_bytes", ctypes.c_uint64),
        ("psi_memory_some_avg10", ctypes.c_double),
        ("psi_memory_threshold", ctypes.c_double),
        ("psi_cpu_some_avg10", ctypes.c_double),
        ("cpu_limit_percent", ctypes.c_double),
        ("temperature_celsius", ctypes.c_double),
        ("thermal_limit_celsius", ctypes.c_double),
        ("temperature_source", ctypes.c_char * TEXT_MAX),
        ("large_requests", ctypes.c_uint64),
        ("stalls", ctypes.c_uint64),
        ("stall_ms", ctypes.c_uint64),
        ("refusals", ctypes.c_uint64),
        ("cleanup_runs", ctypes.c_uint64),
        ("blas_calls", ctypes.c_uint64),
        ("blas_gated", ctypes.c_uint64),
        ("paused_ms", ctypes.c_uint64),
        ("thermal_pauses", ctypes.c_uint64),
        ("cpu_pauses", ctypes.c_uint64),
    ]

    def to_dict(self):
        """Return the fields as a dict, text decoded and 0/1 flags as bools."""
        result = {}
        for name, _ in self._fields_:
            value = getattr(self, name)
            if isinstance(value, bytes):
                value = value.decode("utf-8", "replace")
            result[name] = value
        result["shim_active"] = bool(result["shim_active"])
        result["healthy"] = bool(result["healthy"])
        return result


def _find_loaded_path():
    """Return the path of the mapped libsafeexec.so, or None."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(None, 5)
                if len(fields) < 6:
                    continue
                path = fields[5].strip()
                base = os.path.basename(path)
                if base == LIBRARY_NAME or base.startswith(LIBRARY_NAME + "."):
                    return path
    except OSError:
        return None
    return None


def _declare(library):
    """Declare the argument and result types of the functions this package uses."""
    uint64 = ctypes.c_uint64
    signatures = {
        "safeexec_api_version": (ctypes.c_int, []),
        "safeexec_status": (ctypes.c_int, [ctypes.POINTER(Status)]),
        "safeexec_throttle": (ctypes.c_int, [uint64]),
        "safeexec_trace_mark": (None, [ctypes.c_char_p, ctypes.c_char_p]),
        "safeexec_cleanup_run": (uint64, [ctypes.c_char_p]),
        "safeexec_predict": (uint64, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_double),
                                      ctypes.c_int]),
        "safeexec_record": (ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(ctypes.c_double),
                                           ctypes.c_int, uint64]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(library, name)
        function.restype = restype
        function.argtypes = argtypes


class Native:
    """The loaded shim's API, or an empty stand-in when it is not loaded.

    ``library`` is None when the shim is not in this process or lacks the
    API, and ``reason`` then contains the cause.
    """

    def __init__(self):
        self.library = None
        self.path = None
        self.reason = ""
        path = _find_loaded_path()
        if path is None:
            self.reason = (LIBRARY_NAME + " is not loaded in this process; start the "
                           "program with the safeexec launcher or LD_PRELOAD")
            return
        try:
            library = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | ctypes.RTLD_GLOBAL)
            _declare(library)
            version = library.safeexec_api_version()
        except (OSError, AttributeError) as error:
            self.reason = "cannot use the API of %s: %s" % (path, error)
            return
        if version < API_VERSION:
            self.reason = ("%s has API version %d; this module needs %d"
                           % (path, version, API_VERSION))
            return
        self.library = library
        self.path = path

    @property
    def loaded(self):
        return self.library is not None

    def status(self):
        """Return the shim's safeexec_status as a dict (library loaded only)."""
        status = Status()
        error = self.library.safeexec_status(ctypes.byref(status))
        if error != 0:
            raise OSError(error, "safeexec_status failed: " + os.strerror(error))
        return status.to_dict()

    def throttle(self, max_wait_ms):
        """Return 0 when it is safe to go on, or ETIMEDOUT."""
        return self.library.safeexec_throttle(max_wait_ms)

    def trace_mark(self, event, detail):
        self.library.safeexec_trace_mark(_encode(event), _encode(detail))

    def cleanup_run(self, reason):
        return self.library.safeexec_cleanup_run(_encode(reason))

    def predict(self, operation, params):
        array = (ctypes.c_double * PARAMS_MAX)(*params[:PARAMS_MAX])
        count = min(len(params), PARAMS_MAX)
        return self.library.safeexec_predict(_encode(operation), array, count)

    def record(self, operation, params, peak_bytes):
        array = (ctypes.c_double * PARAMS_MAX)(*params[:PARAMS_MAX])
        count = min(len(params), PARAMS_MAX)
        return self.library.safeexec_record(_encode(operation), array, count, int(peak_bytes))


def _encode(text):
    if text is None:
        return None
    return str(text).encode("utf-8", "replace")
