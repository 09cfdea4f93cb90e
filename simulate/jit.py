"""The one set of numba compile options every kernel of the simulator uses.

- ``cache=True``: compiled code is cached on disk next to the sources (or in
  ``NUMBA_CACHE_DIR``); numba's cache writes are atomic, so processes may share it.
- ``nogil=True``: kernels release the GIL.
- ``error_model="numpy"``: division by zero gives inf/NaN (caught as divergence) instead of
  raising, and the loops without Python's zero-check branch vectorise. Every function in a
  call chain must use the same model: numba compiles inlined code under the caller's, and
  the two round differently.
No fast-math flag is set: NaN and infinity must propagate for divergence detection, and
the optimiser updates must match their formulas to the last ulp.

Numba stamps a cached function with the hash of its own source file only, so a kernel
cached in one file keeps the old machine code of a kernel it calls from another file after
that file changes. For this package's functions the stamp is therefore the hash of every
source file of the package but the kernel-free ``UNSTAMPED`` ones (the ``PackageStamped…``
locators below): any edit of a kernel module invalidates them all.
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
from numba import njit, types
from numba.core import caching
from numba.extending import overload

PACKAGE = Path(__file__).resolve().parent


#: Sub-packages without numba kernels, left out of the stamp (editing them recompiles nothing).
UNSTAMPED = ("torch_optim",)


@functools.lru_cache(maxsize=1)
def package_stamp() -> str:
    """SHA-256 over the package's ``.py`` files (paths and contents), but ``UNSTAMPED``."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.relative_to(PACKAGE).parts[0] in UNSTAMPED:
            continue
        digest.update(str(path.relative_to(PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _package_stamped(base):
    class Locator(base):
        def get_source_stamp(self):
            return package_stamp()

        @classmethod
        def from_function(cls, py_func, py_file):
            if PACKAGE not in Path(py_file).resolve().parents:
                return None
            return super().from_function(py_func, py_file)

    Locator.__name__ = Locator.__qualname__ = f"PackageStamped{base.__name__}"
    return Locator


_LOCATORS = [_package_stamped(base) for base in (caching.UserProvidedCacheLocator,
                                                  caching.InTreeCacheLocator,
                                                  caching.UserWideCacheLocator)]
if not any(c.__name__.startswith("PackageStamped") for c in caching.CacheImpl._locator_classes):
    caching.CacheImpl._locator_classes[:0] = _LOCATORS

OPTIONS = dict(cache=True, nogil=True, error_model="numpy")


def kernel(function=None, **extra):
    """``@kernel`` or ``@kernel(inline="always", parallel=True, …)``: ``njit`` with OPTIONS."""
    if function is None:
        return lambda f: njit(**OPTIONS, **extra)(f)
    return njit(**OPTIONS)(function)


def scalar_like(array, value):
    """``value`` as a scalar of ``array``'s dtype (numba only): float32 kernels then compute
    in float32 rather than promoting every operation to float64."""


@overload(scalar_like)
def _scalar_like(array, value):
    if array.dtype == types.float32:
        return lambda array, value: np.float32(value)
    return lambda array, value: np.float64(value)
