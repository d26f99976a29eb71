"""Writes trace events for test_trace: a mark, a refused allocation, a forked child.

Run under the shim with SAFEEXEC_TRACE_FILE and SAFEEXEC_MEMORY_LIMIT=256M.
Prints "parent=<pid> child=<pid>" so the test can find each process's records.
"""

import os
import time

import numpy as np

import safeexec

safeexec.trace_mark("phase", "start run")
try:
    np.ones(2**31 // 8)
    print("no MemoryError for 2 GiB under a 256 MiB budget")
except MemoryError:
    pass
time.sleep(0.5)

child = os.fork()
if child == 0:
    # The sampler thread did not survive the fork; this mark restarts it.
    safeexec.trace_mark("child", "forked")
    time.sleep(0.45)
    os._exit(0)
os.waitpid(child, 0)
safeexec.trace_mark("phase", "done")
print("parent=%d child=%d" % (os.getpid(), child))
