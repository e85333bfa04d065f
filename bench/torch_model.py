#!/usr/bin/python3
"""PyTorch peer of myelin's founding model and of examples/cnn.json, for ratio tables.

The model is the Keras program
    Dense(64, relu) -> BatchNormalization -> Dense(64, relu) -> BatchNormalization
    -> Dense(10, softmax), Adam, categorical cross-entropy, accuracy, on MNIST
written in PyTorch with Keras's settings:
    Linear(784,64)+ReLU -> BatchNorm1d(64, eps=1e-3, momentum=0.01)
    -> Linear(64,64)+ReLU -> BatchNorm1d(64, eps=1e-3, momentum=0.01) -> Linear(64,10)
    CrossEntropyLoss on logits (= softmax + categorical cross-entropy),
    Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-7) (PyTorch's Adam form),
    Linear weights glorot_uniform and zero biases like Keras (--init torch for
    PyTorch's default init), float32, pixels / 255.

--model cnn builds examples/cnn.json instead (Keras: Reshape(28,28,1) -> Conv2D(32,3x3,valid)
-> BN -> ReLU -> MaxPool 2 -> Conv2D(64,3x3,valid) -> BN -> ReLU -> MaxPool 2 -> Flatten
-> Dense(10, softmax); Adam lr 2e-3, whose cosine decay is left out here, as on myelin's side of
bench/compare: it changes no step's work):
    Conv2d(1,32,3) -> BatchNorm2d(32, eps=1e-3, momentum=0.01) -> ReLU -> MaxPool2d(2)
    -> Conv2d(32,64,3) -> BatchNorm2d(64, ...) -> ReLU -> MaxPool2d(2) -> Flatten -> Linear(1600,10),
    the same loss, optimizer and init (glorot_uniform also for the convolutions' kernels).
Flatten takes PyTorch's (C,H,W) order where Keras takes (H,W,C): a fixed permutation of
the Dense weights, the same arithmetic. --memory-format channels_last moves the model
and its inputs to torch.channels_last (NHWC in memory; oneDNN's preferred layout).

MNIST is read from data/mnist/files/*.gz (IDX format) under the repository root.

Run with /usr/bin/python3 (the Debian interpreter that has torch). Threads: the
caller chooses OpenBLAS's threads through the environment and torch's with
--threads; run each of the settings and take the peer's best:
    OPENBLAS_NUM_THREADS=1 ... --threads 1     (1x1)
    OPENBLAS_NUM_THREADS=1 ... --threads 2     (2x1, usually the best 2-thread setting)
    OPENBLAS_NUM_THREADS=2 ... --threads 2     (2x2, oversubscribes 2 cores)
OPENBLAS_CORETYPE defaults to SkylakeX (see bench/README.md); OPENBLAS_NUM_THREADS
defaults to 1 when unset. Set MALLOC_MMAP_THRESHOLD_=33554432 and
MALLOC_TRIM_THRESHOLD_=1073741824 as bench/compare does: without them glibc returns
every freed activation to the kernel and the next step page-faults it back, which
made the CNN's training step 3x slower here.

Modes (each prints one JSON object on stdout, with peak_rss_mb: this process's peak resident
set in MiB, getrusage's ru_maxrss / 1024; ddp adds peak_rss_children_mb, the largest rank's.
On exec Linux folds the RSS high-water mark of the memory a process leaves into its ru_maxrss,
so a parent that starts this script with vfork (Go's os/exec does) adds its own peak:
bench/compare measures RSS through a small go-between for that reason):
  --mode train --epochs E [--batch 32]   full shuffled epochs, then test accuracy/loss
  --mode train --steps N [--warmup W] [--evaluate]
                                         N timed training steps after W untimed ones (then
                                         test accuracy/loss with --evaluate)
  --mode infer [--batch 1000] [--samples N]
                                         eval-mode inference on the test set (its first N
                                         images), no_grad
  --mode latency [--runs R]              single-sample predict latency, median in us
  --mode ddp --steps N [--batch 64] [--ranks 2]
                                         DistributedDataParallel on --ranks processes (gloo, one
                                         thread each), each on its part of a global batch of
                                         --batch; rank 0 times N steps after --warmup ones.
                                         BatchNorm1d stays per rank: PyTorch's SyncBatchNorm
                                         needs CUDA.
Examples:
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_model.py --mode train --epochs 5 --threads 1
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_model.py --mode train --steps 2000 --batch 128
  /usr/bin/python3 bench/torch_model.py --model cnn --memory-format channels_last --mode train --steps 300 --batch 64
"""

import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no bench/__pycache__ in the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peerenv  # noqa: E402  (must precede numpy/torch)

ap = argparse.ArgumentParser(description="PyTorch peer benchmark: the founding model or examples/cnn.json")
ap.add_argument("--mode", choices=["train", "infer", "latency", "ddp"], default="train")
ap.add_argument("--model", choices=["founding", "cnn"], default="founding",
                help="founding: the Dense model; cnn: examples/cnn.json")
ap.add_argument("--memory-format", choices=["nchw", "channels_last"], default="nchw",
                help="cnn: the layout of the model's weights and inputs")
ap.add_argument("--ranks", type=int, default=2, help="ddp: processes (DistributedDataParallel, gloo, one thread each)")
ap.add_argument("--batch", type=int, default=None, help="batch size (train 32, infer 1000)")
ap.add_argument("--epochs", type=int, default=None, help="train: number of full epochs")
ap.add_argument("--steps", type=int, default=None, help="train: number of timed steps (instead of --epochs)")
ap.add_argument("--warmup", type=int, default=100, help="train --steps / latency: untimed warm-up iterations")
ap.add_argument("--repeats", type=int, default=5, help="infer: timed passes over the test set (median)")
ap.add_argument("--samples", type=int, default=None, help="infer: pass over the first N test images (default: all)")
ap.add_argument("--evaluate", action="store_true",
                help="train --steps: evaluate on the test set at batch 1000 afterwards, as --epochs does")
ap.add_argument("--runs", type=int, default=2000, help="latency: timed single-sample predictions")
ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--init", choices=["keras", "torch"], default="keras",
                help="Linear init: keras = glorot_uniform weights, zero biases; torch = PyTorch default")
ap.add_argument("--flush-denormal", action="store_true",
                help="torch.set_flush_denormal(True) (off by default: PyTorch's default behaviour)")
ap.add_argument("--data", default=None, help="directory with the MNIST .gz files")
args = ap.parse_args()
LR = 2e-3 if args.model == "cnn" else 1e-3  # examples/cnn.json's, examples/founding.json's
if args.model != "cnn" and args.memory_format != "nchw":
    ap.error("--memory-format applies to --model cnn")
if args.samples is not None and args.samples < 1:
    ap.error("--samples must be at least 1")

blas_threads_source = peerenv.setup_env()

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    magic = int.from_bytes(b[0:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08:
        raise ValueError("%s: not an unsigned-byte IDX file (magic %#x)" % (path, magic))
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load_mnist(d, train=True):
    """Returns (xtr, ytr, xte, yte) as tensors; xtr and ytr are None unless train."""
    def p(name):
        return os.path.join(d, name)

    def images(name):
        return torch.from_numpy(read_idx(p(name)).reshape(-1, 784).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(read_idx(p(name)).astype(np.int64))

    xtr = images("train-images-idx3-ubyte.gz") if train else None
    ytr = labels("train-labels-idx1-ubyte.gz") if train else None
    return xtr, ytr, images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz")


def build_model(init):
    bn = dict(eps=1e-3, momentum=0.01)  # Keras BatchNormalization(momentum=0.99, epsilon=1e-3)
    if args.model == "cnn":
        return build_cnn(init, bn)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.BatchNorm1d(64, **bn),
        torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.BatchNorm1d(64, **bn),
        torch.nn.Linear(64, 10),
    )
    if init == "keras":
        for m in model:
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.xavier_uniform_(m.weight)  # = glorot_uniform
                torch.nn.init.zeros_(m.bias)
    return model


def build_cnn(init, bn):
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 3), torch.nn.BatchNorm2d(32, **bn), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3), torch.nn.BatchNorm2d(64, **bn), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(1600, 10),
    )
    if init == "keras":
        for m in model:
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                torch.nn.init.xavier_uniform_(m.weight)  # = glorot_uniform (fans include the kernel's area)
                torch.nn.init.zeros_(m.bias)
    if args.memory_format == "channels_last":
        model = model.to(memory_format=torch.channels_last)
    return model


def shape_inputs(x):
    """The model's input layout: (n, 784) rows for the founding model,
    (n, 1, 28, 28) images in --memory-format for the CNN."""
    if x is None or args.model != "cnn":
        return x
    x = x.reshape(-1, 1, 28, 28)
    if args.memory_format == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def first_conv_layout(model, x):
    """The memory layout PyTorch chose for the first convolution's output
    (what --memory-format is meant to control), or None for the founding model."""
    if args.model != "cnn":
        return None
    with torch.no_grad():
        y = model[0](x[:2])
    if y.is_contiguous(memory_format=torch.channels_last):
        return "channels_last"
    return "nchw" if y.is_contiguous() else "other"


def peak_rss_mb(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024  # Linux: KiB


def evaluate(model, x, y, batch=1000):
    model.eval()
    loss_fn = torch.nn.CrossEntropyLoss(reduction="sum")
    correct, total_loss = 0, 0.0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            out = model(x[i:i + batch])
            total_loss += float(loss_fn(out, y[i:i + batch]))
            correct += int((out.argmax(1) == y[i:i + batch]).sum())
    return correct / x.shape[0], total_loss / x.shape[0]


def ddp_rank(rank, world, init_file, out_file):
    """One process of --mode ddp: trains its rows of each global batch."""
    import torch.distributed as dist
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank, world_size=world)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)  # the same permutation on every rank
    xtr, ytr, _, _ = load_mnist(args.data or os.path.join(ROOT, "data", "mnist", "files"))
    xtr = shape_inputs(xtr)
    model = torch.nn.parallel.DistributedDataParallel(build_model(args.init))
    opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch, n = args.batch or 64, xtr.shape[0]
    lo, hi = rank * batch // world, (rank + 1) * batch // world

    def batches():
        while True:
            perm = torch.randperm(n, generator=gen)
            for i in range(0, n - batch + 1, batch):
                idx = perm[i:i + batch][lo:hi]
                yield xtr[idx], ytr[idx]

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()  # DDP all-reduces the gradients (their mean) here
        opt.step()
        return loss

    model.train()
    it = batches()
    for _ in range(args.warmup):
        step(*next(it))
    dist.barrier()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step(*next(it))
    dist.barrier()
    dt = time.perf_counter() - t0
    if rank == 0:
        with open(out_file, "w") as f:
            json.dump({"train_seconds": dt, "samples_per_sec": args.steps * batch / dt,
                       "ms_per_step": 1e3 * dt / args.steps, "last_loss": float(loss)}, f)
    dist.destroy_process_group()


def main_ddp(res):
    import tempfile
    import torch.multiprocessing as mp
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "result.json")
        mp.spawn(ddp_rank, args=(args.ranks, os.path.join(d, "init"), out), nprocs=args.ranks, join=True)
        with open(out) as f:
            res.update(json.load(f))
    res.update(ranks=args.ranks, batch=args.batch or 64, steps=args.steps, warmup_steps=args.warmup,
               threads_per_rank=1, backend="gloo", batchnorm="per rank (SyncBatchNorm needs CUDA)",
               peak_rss_mb=peak_rss_mb(), peak_rss_children_mb=peak_rss_mb(resource.RUSAGE_CHILDREN))
    print(json.dumps(res))


def main():
    torch.set_num_threads(args.threads)
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    if args.mode == "ddp":
        if args.steps is None:
            ap.error("--mode ddp needs --steps")
        return main_ddp({"peer": "pytorch-ddp", "mode": "ddp", "model": args.model, "torch_version": torch.__version__,
                         "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "init": args.init, "seed": args.seed})
    xtr, ytr, xte, yte = load_mnist(args.data or os.path.join(ROOT, "data", "mnist", "files"),
                                    train=args.mode == "train")  # infer/latency need the test set only
    xtr, xte = shape_inputs(xtr), shape_inputs(xte)
    model = build_model(args.init)

    res = {
        "peer": "pytorch", "mode": args.mode, "model": args.model,
        "torch_version": torch.__version__, "numpy_version": np.__version__,
        "threads": torch.get_num_threads(),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "openblas_num_threads_source": blas_threads_source,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "flush_denormal": bool(args.flush_denormal), "init": args.init, "seed": args.seed,
        "malloc_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_"),
        "malloc_trim_threshold": os.environ.get("MALLOC_TRIM_THRESHOLD_"),
    }
    if args.model == "cnn":
        res.update(memory_format=args.memory_format, first_conv_output=first_conv_layout(model, xte))

    if args.mode == "train":
        batch = args.batch or 32
        opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-7)
        loss_fn = torch.nn.CrossEntropyLoss()
        n = xtr.shape[0]

        def batches():
            while True:  # Keras fit: reshuffle every epoch, keep the last partial batch
                perm = torch.randperm(n, generator=gen)
                for i in range(0, n, batch):
                    idx = perm[i:i + batch]
                    yield xtr[idx], ytr[idx]

        def step(xb, yb):
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            return loss

        model.train()
        res["batch"] = batch
        if args.steps is not None:
            it = batches()
            for _ in range(args.warmup):
                step(*next(it))
            t0 = time.perf_counter()
            for _ in range(args.steps):
                loss = step(*next(it))
            dt = time.perf_counter() - t0
            res.update(steps=args.steps, warmup_steps=args.warmup, train_seconds=dt,
                       samples_per_sec=args.steps * batch / dt, ms_per_step=1e3 * dt / args.steps,
                       last_loss=float(loss))
            if args.evaluate:
                res["test_accuracy"], res["test_loss"] = evaluate(model, xte, yte)
        else:
            epochs = args.epochs if args.epochs is not None else 5
            steps_per_epoch = (n + batch - 1) // batch
            it = batches()
            epoch_seconds = []
            t0 = time.perf_counter()
            for _ in range(epochs):
                te = time.perf_counter()
                for _ in range(steps_per_epoch):
                    loss = step(*next(it))
                epoch_seconds.append(time.perf_counter() - te)
            dt = time.perf_counter() - t0
            acc, tl = evaluate(model, xte, yte)
            res.update(epochs=epochs, steps=epochs * steps_per_epoch, train_seconds=dt,
                       epoch_seconds=epoch_seconds, samples_per_sec=epochs * n / dt,
                       last_loss=float(loss), test_accuracy=acc, test_loss=tl)

    elif args.mode == "infer":
        batch = args.batch or 1000
        model.eval()
        if args.samples is not None:
            xte = xte[:args.samples]
        chunks = [xte[i:i + batch] for i in range(0, xte.shape[0], batch)]
        with torch.no_grad():
            def one_pass():
                for xb in chunks:
                    torch.softmax(model(xb), dim=1)  # Keras predict returns probabilities
            one_pass()  # warm-up
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                one_pass()
                times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        res.update(batch=batch, repeats=args.repeats, samples_per_pass=xte.shape[0],
                   seconds_per_pass_median=med, samples_per_sec=xte.shape[0] / med,
                   samples_per_sec_all=[xte.shape[0] / t for t in times])

    else:  # latency
        model.eval()
        samples = [xte[i:i + 1].clone() for i in range(100)]
        with torch.no_grad():
            for i in range(args.warmup):
                torch.softmax(model(samples[i % 100]), dim=1)
            ns = []
            for i in range(args.runs):
                xb = samples[i % 100]
                t0 = time.perf_counter_ns()
                torch.softmax(model(xb), dim=1)
                ns.append(time.perf_counter_ns() - t0)
        ns.sort()
        q = lambda f: ns[min(len(ns) - 1, int(f * len(ns)))] / 1e3  # noqa: E731
        res.update(batch=1, runs=args.runs, warmup=args.warmup,
                   latency_us_median=statistics.median(ns) / 1e3, latency_us_p10=q(0.10), latency_us_p90=q(0.90))

    res["blas"] = peerenv.blas_info()
    res["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(res))


if __name__ == "__main__":
    main()
