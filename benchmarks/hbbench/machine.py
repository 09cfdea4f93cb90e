"""The machine: what it is, its measured limits, and how busy other processes keep it."""
from __future__ import annotations

import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from .cases import DTYPES


def median(xs):
    return statistics.median(xs)


def log(*args):
    print(*args, file=sys.stderr, flush=True)


class CpuMonitor:
    """CPU used by *other* processes while a measurement ran, in cores: busy time of the whole
    machine (``/proc/stat``) minus this process's and its children's own CPU time, over the
    wall time. Near 0 on a quiet machine; 1 means another process kept a core busy."""

    def __init__(self):
        self.start = self._snap()

    @staticmethod
    def _snap():
        import resource
        busy = None
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            values = [int(v) for v in fields]
            busy = (sum(values[:8]) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            pass
        own = sum(getattr(resource.getrusage(who), f) for who in
                  (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for f in ("ru_utime", "ru_stime"))
        return time.perf_counter(), busy, own

    def foreign(self) -> float | None:
        wall1, busy1, own1 = self._snap()
        wall0, busy0, own0 = self.start
        if busy0 is None or busy1 is None or wall1 <= wall0:
            return None
        return max(0.0, ((busy1 - busy0) - (own1 - own0)) / (wall1 - wall0))


_ALL_CPUS = None


def pin_one_cpu() -> str:
    """Pin this process (and so every thread PyTorch, XLA, BLAS or numba may start) to one
    CPU: a thread-count setting alone does not hold XLA's CPU runtime to one core."""
    global _ALL_CPUS
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity)"
    _ALL_CPUS = os.sched_getaffinity(0)
    cpu = max(_ALL_CPUS)
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}"


def unpin():
    """Undo :func:`pin_one_cpu` before the subprocesses that must see every CPU (the 2-thread
    sweep, the CLI); they inherit the parent's affinity."""
    if _ALL_CPUS is not None:
        os.sched_setaffinity(0, _ALL_CPUS)


_WAITED = [0.0]


def wait_quiet(limit: float, threshold: float = 0.3, window: float = 2.0) -> None:
    """Wait (at most ``limit`` seconds) until other processes use less than ``threshold``
    cores over a ``window``-second sample, so a measurement does not share the CPU."""
    if limit <= 0:
        return
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        monitor = CpuMonitor()
        time.sleep(window)
        load = monitor.foreign()
        if load is None or load < threshold:
            break
        log(f"  waiting for a quiet CPU (other processes use {load:.2f} cores) …")
    _WAITED[0] += time.perf_counter() - t0


def waited() -> float:
    """Seconds :func:`wait_quiet` has spent waiting so far."""
    return _WAITED[0]


def describe() -> dict:
    """Date, CPU, SIMD flags, load average and software versions."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor() or "unknown"
    import numba
    try:
        load = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        load = ["?"] * 3
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "loadavg": " ".join(load),
            "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__,
            "platform": platform.platform()}
    try:
        flags = next(line for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("flags"))
        info["simd"] = " ".join(f for f in ("avx2", "fma", "avx512f") if f" {f}" in flags)
    except (OSError, StopIteration):
        pass
    return info


def measure_limits(quick: bool) -> dict:
    """Single-thread matmul FLOP/s per dtype and streaming ``b = a*s`` bytes/s, each the best
    of several repeats (a limit is what the machine can reach)."""
    out = {}
    size = 2000
    rng = np.random.default_rng(0)
    for dtype in DTYPES:
        a = rng.random((size, size)).astype(dtype)
        b = rng.random((size, size)).astype(dtype)
        a @ b
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            a @ b
            times.append(time.perf_counter() - t0)
        out[f"matmul_{dtype}"] = 2.0 * size ** 3 / min(times)
    elems = 64 * 2 ** 20 // 8
    a = np.full(elems, 1.5)
    b = np.empty_like(a)
    np.multiply(a, 0.5, out=b)
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        np.multiply(a, 0.5, out=b)
        times.append(time.perf_counter() - t0)
    out["stream"] = 16.0 * elems / min(times)
    # The FP divider: Adam's per-parameter m/(√v + ε) on an L2-resident array, seconds per
    # element per dtype: NumPy's three SIMD passes and one fused numba loop; the faster is
    # the floor.
    fused = _fused_divsqrt()
    for dtype in DTYPES:
        k = 40_000
        v = rng.random(k).astype(dtype)
        mm = rng.random(k).astype(dtype)
        o = np.empty_like(v)
        eps = np.dtype(dtype).type(1e-8)
        fused(mm, v, o, eps, 1)
        times, loop_times = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(200):
                np.sqrt(v, out=o)
                np.add(o, eps, out=o)
                np.divide(mm, o, out=o)
            times.append((time.perf_counter() - t0) / 200 / k)
            t0 = time.perf_counter()
            fused(mm, v, o, eps, 200)
            loop_times.append((time.perf_counter() - t0) / 200 / k)
        out[f"divsqrt_numpy_{dtype}"] = min(times)
        out[f"divsqrt_loop_{dtype}"] = min(loop_times)
        out[f"divsqrt_{dtype}"] = min(min(times), min(loop_times))
    return out


def _fused_divsqrt():
    """``o = m/(√v + ε)`` as one vectorised numba loop, ``reps`` times."""
    from numba import njit

    @njit(nogil=True, error_model="numpy")
    def loop(m, v, o, eps, reps):
        for _ in range(reps):
            for i in range(v.size):
                o[i] = m[i] / (np.sqrt(v[i]) + eps)

    return loop
