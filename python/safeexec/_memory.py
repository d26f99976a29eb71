"""Memory readings of this process from /proc, used with or without the shim."""

import os

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def rss_bytes():
    """Return the resident set size of this process in bytes, or 0 if unreadable."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES
    except (OSError, ValueError, IndexError):
        return 0


def meminfo_bytes():
    """Return (MemTotal, MemAvailable) in bytes; 0 for a value that is missing."""
    total = available = 0
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                fields = line.split()
                if fields[0] == "MemTotal:":
                    total = int(fields[1]) * 1024
                elif fields[0] == "MemAvailable:":
                    available = int(fields[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return total, available


class PeakMeter:
    """Measures the peak resident set of a stretch of code.

    Writing 5 to /proc/self/clear_refs resets the kernel's high-water mark
    (VmHWM, Linux 4.0 and later), so the mark read afterwards is the peak of
    this stretch. Where the reset is not allowed, the peak is the larger of
    the resident sets at the start and the end, which misses memory freed
    before the end.
    """

    def __init__(self):
        self.start_bytes = 0
        self.reset_worked = False

    def start(self):
        self.start_bytes = rss_bytes()
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
                clear_refs.write("5")
            self.reset_worked = True
        except OSError:
            self.reset_worked = False

    def peak_bytes(self):
        """Return the peak resident set since start(), in bytes."""
        end_bytes = rss_bytes()
        if self.reset_worked:
            high_water = _read_vm_hwm()
            if high_water > 0:
                return max(high_water, end_bytes)
        return max(self.start_bytes, end_bytes)

    def growth_bytes(self):
        """Return how far the peak rose above the resident set at start()."""
        return max(0, self.peak_bytes() - self.start_bytes)


def _read_vm_hwm():
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
