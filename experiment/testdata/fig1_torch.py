#!/usr/bin/python3
"""PyTorch reproduction of `myelin experiment fig1`, to check the reference.

Ioffe & Szegedy (2015) Figure 1 as myelin runs it: MNIST (data/mnist/files),
784 -> [Linear(100) -> (BatchNorm1d(100)) -> sigmoid] x3 -> Linear(10),
weights N(0, 0.01^2), biases 0, cross-entropy on the logits, plain SGD at
learning rate 1.0, shuffled mini-batches of 60, test accuracy on the 10,000
test images in eval mode (BN with its running statistics; PyTorch defaults:
momentum 0.1, eps 1e-5). Prints one JSON object: for each seed and network,
the test accuracy at each checkpoint.

  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 experiment/testdata/fig1_torch.py --steps 10000 --seeds 1 2 3
"""

import argparse
import gzip
import json
import os
import struct

os.environ.setdefault("OPENBLAS_CORETYPE", "SkylakeX")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def idx(name):
    with gzip.open(os.path.join(ROOT, "data", "mnist", "files", name + ".gz"), "rb") as f:
        b = f.read()
    ndim = b[3]
    dims = struct.unpack(">" + "I" * ndim, b[4:4 + 4 * ndim])
    t = torch.frombuffer(bytearray(b[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def net(bn):
    layers, n = [], 784
    for _ in range(3):
        layers.append(torch.nn.Linear(n, 100))
        if bn:
            layers.append(torch.nn.BatchNorm1d(100))
        layers.append(torch.nn.Sigmoid())
        n = 100
    layers.append(torch.nn.Linear(n, 10))
    m = torch.nn.Sequential(*layers)
    for l in m:
        if isinstance(l, torch.nn.Linear):
            torch.nn.init.normal_(l.weight, 0.0, 0.01)
            torch.nn.init.zeros_(l.bias)
    return m


def run(bn, seed, steps, checkpoints, x, y, tx, ty):
    torch.manual_seed(seed)
    m = net(bn)
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    loss_fn = torch.nn.CrossEntropyLoss()
    out, step = {}, 0
    g = torch.Generator().manual_seed(seed)
    while step < steps:
        perm = torch.randperm(x.shape[0], generator=g)
        for i in range(0, x.shape[0] - 59, 60):
            b = perm[i:i + 60]
            m.train()
            opt.zero_grad()
            loss_fn(m(x[b]), y[b]).backward()
            opt.step()
            step += 1
            if step in checkpoints:
                m.eval()
                with torch.no_grad():
                    out[step] = (m(tx).argmax(1) == ty).float().mean().item()
            if step >= steps:
                break
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1])
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    x = idx("train-images-idx3-ubyte").reshape(-1, 784).float() / 255
    y = idx("train-labels-idx1-ubyte").long()
    tx = idx("t10k-images-idx3-ubyte").reshape(-1, 784).float() / 255
    ty = idx("t10k-labels-idx1-ubyte").long()
    cps = {s for s in (500, 1000, 2000, 5000, 10000, 20000, 50000) if s <= a.steps} | {a.steps}
    res = {}
    for seed in a.seeds:
        for bn in (False, True):
            res[f"seed{seed}/{'batchnorm' if bn else 'plain'}"] = run(bn, seed, a.steps, cps, x, y, tx, ty)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
