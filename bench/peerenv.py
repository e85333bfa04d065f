"""Shared set-up for the peer benchmark scripts in bench/ (no numpy/torch import here).

Import this module BEFORE numpy or torch: OpenBLAS reads OPENBLAS_CORETYPE and
OPENBLAS_NUM_THREADS once, when the library is loaded.
"""

import ctypes
import os
import platform


def setup_env(openblas_threads=None):
    """Select OpenBLAS's AVX-512 kernels and its thread count.

    OPENBLAS_CORETYPE defaults to SkylakeX: OpenBLAS 0.3.21 does not know this
    CPU (family 6, model 207) and otherwise falls back to Prescott kernels,
    5x slower (see /work/shared/BENCHMARKING.md, trap 2). A value already in
    the environment is kept.

    OPENBLAS_NUM_THREADS: openblas_threads if given, else the caller's
    environment, else 1 (OpenBLAS's own default is every core, which
    oversubscribes the machine when combined with torch's threads).
    Returns where the thread count came from: "argument", "env" or "default".
    """
    os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
    if openblas_threads is not None:
        os.environ["OPENBLAS_NUM_THREADS"] = str(openblas_threads)
        return "argument"
    if "OPENBLAS_NUM_THREADS" in os.environ:
        return "env"
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    return "default"


def blas_info():
    """Which BLAS is loaded in this process, read from /proc/self/maps, and,
    for OpenBLAS, its core name, build configuration and thread count as the
    library itself reports them (call after importing numpy/torch)."""
    info = {
        "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
        "openblas_num_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({l.split()[-1] for l in f if "blas" in l.lower() and "/" in l})
    except OSError:
        libs = []
    info["blas_libraries"] = libs
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            info["openblas_corename"] = lib.openblas_get_corename().decode()
            info["openblas_config"] = lib.openblas_get_config().decode()
            info["openblas_threads_in_use"] = int(lib.openblas_get_num_threads())
            break
        except (OSError, AttributeError):
            continue
    return info
