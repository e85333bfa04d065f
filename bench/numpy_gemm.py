#!/usr/bin/python3
"""float32 GEMM throughput of NumPy (OpenBLAS sgemm), the BLAS peer for ratio tables.

Prints one JSON object per line (JSON Lines) on stdout:
  {"peer": "numpy", "shape": "128x784*784x64", "op": "NN", "m":, "k":, "n":,
   "gflops": <median>, "gflops_all": [...], "seconds_per_call": <median>,
   "calls_per_repeat":, "repeats":, "threads":, "openblas_coretype":, "numpy_version":}
GFLOP/s = 2*m*n*k / seconds per call. C = A @ B with out= (no allocation);
op "TN" is A.T @ B with A stored (k, m) C-contiguous, "NT" is A @ B.T with B
stored (n, k): NumPy hands the transposed views to sgemm without copying.

Shapes: squares 64..1024, and the founding model's products at batch 32 and 128:
forward x.W (b x 784 . 784 x 64, b x 64 . 64 x 64, b x 64 . 64 x 10), the weight
gradient x^T.dy (784 x 32 . 32 x 64, "TN") and the input gradient dy.W^T
(32 x 64 . 64 x 784, "NT"). For the smallest products the ~1 us Python/NumPy
call overhead is part of the figure (as it is for any NumPy user).

Run:  /usr/bin/python3 bench/numpy_gemm.py --threads 1 [--repeats 7] [--min-time 0.05]
      [--spec NN:128:784:64,TN:784:128:64]   (bench/compare passes its own list this way)
--threads sets OPENBLAS_NUM_THREADS before NumPy loads OpenBLAS (default: the
environment's value, else 1). OPENBLAS_CORETYPE defaults to SkylakeX.
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerenv  # noqa: E402  (must precede numpy)

ap = argparse.ArgumentParser(description="NumPy float32 GEMM GFLOP/s")
ap.add_argument("--threads", type=int, default=None, help="OPENBLAS_NUM_THREADS (default: env, else 1)")
ap.add_argument("--repeats", type=int, default=7, help="timed repeats per shape (median reported)")
ap.add_argument("--min-time", type=float, default=0.05, help="seconds per repeat (sets calls per repeat)")
ap.add_argument("--only", default=None, help="comma-separated shape names to run")
ap.add_argument("--spec", default=None,
                help="comma-separated OP:M:K:N products to run instead of the built-in list (OP is NN, TN or NT)")
ap.add_argument("--info", action="store_true", help="also print one line with the BLAS in use")
args = ap.parse_args()
source = peerenv.setup_env(args.threads)

import numpy as np  # noqa: E402

# (name, op, m, k, n): C(m,n) = op(A)(m,k) . op(B)(k,n)
SHAPES = [(f"{s}x{s}*{s}x{s}", "NN", s, s, s) for s in (64, 128, 256, 512, 1024)] + [
    ("32x784*784x64", "NN", 32, 784, 64),
    ("128x784*784x64", "NN", 128, 784, 64),
    ("32x64*64x64", "NN", 32, 64, 64),
    ("128x64*64x64", "NN", 128, 64, 64),
    ("32x64*64x10", "NN", 32, 64, 10),
    ("784x32*32x64 (AT.B)", "TN", 784, 32, 64),
    ("32x64*64x784 (A.BT)", "NT", 32, 64, 784),
]


def parse_spec(spec):
    shapes = []
    for item in spec.split(","):
        op, m, k, n = item.strip().split(":")
        if op not in ("NN", "TN", "NT"):
            raise SystemExit("numpy_gemm.py: --spec %r: op must be NN, TN or NT" % item)
        m, k, n = int(m), int(k), int(n)
        suffix = {"NN": "", "TN": " (AT.B)", "NT": " (A.BT)"}[op]
        shapes.append((f"{m}x{k}*{k}x{n}{suffix}", op, m, k, n))
    return shapes


def operands(op, m, k, n, rng):
    if op == "NN":
        a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
        return a.astype(np.float32), b.astype(np.float32), lambda a, b: (a, b)
    if op == "TN":
        a, b = rng.standard_normal((k, m)), rng.standard_normal((k, n))
        return a.astype(np.float32), b.astype(np.float32), lambda a, b: (a.T, b)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((n, k))
    return a.astype(np.float32), b.astype(np.float32), lambda a, b: (a, b.T)


def bench(op, m, k, n):
    rng = np.random.default_rng(0)
    a, b, view = operands(op, m, k, n, rng)
    av, bv = view(a, b)
    c = np.empty((m, n), dtype=np.float32)
    mm = np.matmul
    mm(av, bv, out=c)
    # Calibrate: enough calls that one repeat lasts about min_time.
    calls = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(calls):
            mm(av, bv, out=c)
        dt = time.perf_counter() - t0
        if dt >= args.min_time / 4 or calls >= 1 << 22:
            break
        calls *= 4
    calls = max(1, int(calls * args.min_time / max(dt, 1e-9)))
    per_call = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            mm(av, bv, out=c)
        per_call.append((time.perf_counter() - t0) / calls)
    flops = 2.0 * m * n * k
    med = statistics.median(per_call)
    return {"gflops": flops / med / 1e9, "gflops_all": [round(flops / t / 1e9, 3) for t in per_call],
            "seconds_per_call": med, "calls_per_repeat": calls}


def main():
    only = set(s.strip() for s in args.only.split(",")) if args.only else None
    common = {"peer": "numpy", "numpy_version": np.__version__,
              "threads": int(os.environ["OPENBLAS_NUM_THREADS"]), "threads_source": source,
              "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "repeats": args.repeats}
    if args.info:
        print(json.dumps(dict(common, blas=peerenv.blas_info())), flush=True)
    for name, op, m, k, n in (parse_spec(args.spec) if args.spec else SHAPES):
        if only and name not in only and name.split(" ")[0] not in only:
            continue
        r = {"shape": name, "op": op, "m": m, "k": k, "n": n}
        r.update(bench(op, m, k, n))
        r.update(common)
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
