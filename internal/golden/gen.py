#!/usr/bin/python3
"""Golden-value generator for myelin's numerical tests.

Run from the repository root (Python is a generator dependency only; Go tests
and CI never run it, they read the committed JSON):

    /usr/bin/python3 internal/golden/gen.py            # writes testdata/golden/*.json
    /usr/bin/python3 internal/golden/gen.py --out DIR  # writes elsewhere

Generated with PyTorch 1.13 (Debian package python3-torch, torch.__version__
"1.13.0a0") and NumPy 1.24; the torch version actually used is recorded in every
file. Everything is computed in torch.float64 with fixed seeds, so a rerun with
the same torch version reproduces the files byte for byte.

JSON convention (read by internal/golden/golden.go):

  * a tensor is {"shape": [d0, d1, ...], "data": [flat row-major numbers]};
    a scalar quantity (a loss, a norm) is a plain JSON number;
  * a sequence of tensors (one per step) is a JSON list of tensors;
  * each file is {"generator": "internal/golden/gen.py", "torch": <version>,
    "cases": [{"name": ..., "kind": ..., ...fields...}, ...]};
  * every case records the hyperparameters it was computed with, and "note"
    fields (strings) say which convention (Keras or PyTorch) a field follows.

Layouts follow Keras: a Dense kernel W has shape (in, out) and y = x @ W + b;
BatchNormalization normalises over axis 0 of an (N, C) input.

Files and cases (field names are listed in each builder below):

  batchnorm.json     training forward/backward; running statistics in the Keras
                     (momentum 0.99, biased variance) and PyTorch (momentum 0.1,
                     unbiased variance) conventions; inference on a fresh batch.
  softmax_ce.json    softmax cross-entropy from logits (one-hot and integer
                     targets), Keras categorical cross-entropy on probabilities,
                     binary cross-entropy (probabilities and logits), MSE.
  optimizers.json    Adam (PyTorch and Keras forms), SGD (plain, momentum,
                     Nesterov; PyTorch and Keras forms), RMSprop (PyTorch and
                     Keras forms; centered with tiny gradients), gradient
                     clipping.
  dense.json         x @ W + b followed by linear/relu/sigmoid/tanh/softmax.
  optimizers2.json   issue 13: AdamW, Adam with AMSGrad, Nadam (Keras 3 and
                     torch 1.13 forms), Adagrad, weight decay on SGD and
                     Adagrad (PyTorch and Keras forms).
  losses2.json       issue 13: mean absolute error, Huber, KL divergence
                     (Keras's clipping), values and gradients.
  norm.json          issue 13: layer normalization over the last axis and
                     group normalization with channels last (Keras's layout;
                     torch's group_norm runs on the channels-first transpose),
                     forward and gradients.
  regularizers.json  issue 13: Keras's L1, L2 and L1L2 weight penalties
                     (l1*sum|w| + l2*sum w^2, no 1/2) and their gradients.
  conv2d.json        issue 12: Conv2D (NHWC, Keras kernel layout, valid and
                     TensorFlow-same padding, strides, dilation, 1x1) with
                     linear/relu/tanh; max, average (padding not counted) and
                     global average pooling; values and gradients.
"""

import argparse
import json
import math
import os
import sys

import torch

torch.set_default_dtype(torch.float64)
DT = torch.float64
GENERATOR = "internal/golden/gen.py"


# ---------------------------------------------------------------- helpers

def T(t):
    """A tensor as the JSON object {"shape": [...], "data": [...]}."""
    t = torch.as_tensor(t).detach().to(DT).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def Ts(ts):
    """A list of tensors."""
    return [T(t) for t in ts]


def F(x):
    """A scalar as a JSON number."""
    return float(torch.as_tensor(x).item())


def gen(seed):
    g = torch.Generator().manual_seed(seed)
    return g


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=DT)


def rand(g, *shape):
    return torch.rand(*shape, generator=g, dtype=DT)


def maxdiff(a, b):
    return max(float((x - y).abs().max()) for x, y in zip(a, b))


def write(outdir, name, cases):
    doc = {"generator": GENERATOR, "torch": torch.__version__, "cases": cases}
    path = os.path.join(outdir, name + ".json")
    with open(path, "w") as f:
        # Python's float repr is the shortest string that round-trips, so the
        # float64 values are exact.
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", path, len(cases), "cases", file=sys.stderr)


# ---------------------------------------------------------------- batchnorm

def batchnorm_cases():
    """Fields per case (kind "batchnorm"):

    hyperparameters: n, c, eps (1e-3, training forward and Keras inference),
      momentum_keras (0.99), momentum_torch (0.1), eps_torch (1e-5, PyTorch
      inference), momentum_torch_for_keras (0.01, the torch momentum that
      corresponds to Keras's 0.99)
    training step: x (n,c), gamma (c), beta (c), batch_mean (c),
      batch_var (c, biased), y (n,c), dy (n,c), dx (n,c), dgamma (c), dbeta (c)
      -- loss = sum(y * dy), gradients by autograd
    running statistics, 3 steps on batches x_steps[0..2] (each (n,c)):
      moving_mean_keras, moving_variance_keras: lists of 3 tensors (c), the
        state after each step, Keras: moving = 0.99*moving + 0.01*batch_stat
        with the BIASED batch variance, init mean 0, variance 1;
      running_mean_torch, running_var_torch: lists of 3 tensors (c), what
        torch.nn.BatchNorm1d(momentum=0.1) stores after each step (UNBIASED
        batch variance n/(n-1) * biased);
    inference on a fresh batch x_infer (n,c) with the final state:
      y_infer_keras (eps), y_infer_torch (eps_torch), and dy_infer (n,c) with
      dx_infer_keras = dy_infer * gamma / sqrt(moving_variance + eps)
      (inference mode has no cross-sample terms).
    """
    cases = []
    eps, eps_t = 1e-3, 1e-5
    mk, mt = 0.99, 0.1
    for i, (n, c) in enumerate([(2, 3), (5, 1), (7, 5), (32, 64)]):
        g = gen(1000 + i)
        x = (randn(g, n, c) * 2.0 + 0.5).requires_grad_(True)
        gamma = (1.0 + 0.5 * randn(g, c)).requires_grad_(True)
        beta = (0.5 * randn(g, c)).requires_grad_(True)
        dy = randn(g, n, c)
        y = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True, eps=eps)
        (y * dy).sum().backward()

        # Independent closed-form check of the autograd result (REFERENCE.md 5.2).
        with torch.no_grad():
            mu = x.mean(0)
            var = x.var(0, unbiased=False)
            xhat = (x - mu) / torch.sqrt(var + eps)
            y_hand = gamma * xhat + beta
            dbeta = dy.sum(0)
            dgamma = (dy * xhat).sum(0)
            dx_hand = gamma / torch.sqrt(var + eps) * (dy - dbeta / n - xhat * dgamma / n)
            assert torch.allclose(y, y_hand, rtol=1e-12, atol=1e-12)
            assert torch.allclose(x.grad, dx_hand, rtol=1e-10, atol=1e-12)
            assert torch.allclose(gamma.grad, dgamma, rtol=1e-12, atol=1e-12)
            assert torch.allclose(beta.grad, dbeta, rtol=1e-12, atol=1e-12)

        # Running statistics.
        xs = [randn(g, n, c) * (1.0 + 0.5 * k) + 0.3 * (k + 1) for k in range(3)]
        bn_t = torch.nn.BatchNorm1d(c, eps=eps_t, momentum=mt)
        bn_k = torch.nn.BatchNorm1d(c, eps=eps, momentum=1.0 - mk)  # torch 0.01 == Keras 0.99
        with torch.no_grad():
            for bn in (bn_t, bn_k):
                bn.weight.copy_(gamma)
                bn.bias.copy_(beta)
        bn_t.train()
        bn_k.train()
        mm_k, mv_k = torch.zeros(c), torch.ones(c)
        rm_t_hand, rv_t_hand = torch.zeros(c), torch.ones(c)
        seq = {k: [] for k in ("mmk", "mvk", "rmt", "rvt")}
        with torch.no_grad():
            for xb in xs:
                bn_t(xb)
                yk = bn_k(xb)
                bm = xb.mean(0)
                bv = xb.var(0, unbiased=False)
                # The Keras convention, by hand in float64.
                mm_k = mk * mm_k + (1.0 - mk) * bm
                mv_k = mk * mv_k + (1.0 - mk) * bv
                # The PyTorch convention by hand, to check our reading of torch.
                rm_t_hand = (1.0 - mt) * rm_t_hand + mt * bm
                rv_t_hand = (1.0 - mt) * rv_t_hand + mt * bv * n / (n - 1)
                assert torch.allclose(bn_t.running_mean, rm_t_hand, rtol=1e-12, atol=1e-14)
                assert torch.allclose(bn_t.running_var, rv_t_hand, rtol=1e-12, atol=1e-14)
                # torch with momentum 0.01 has the Keras mean exactly; its
                # variance is the Keras one with each batch variance rescaled by
                # n/(n-1): undo that to cross-check the hand-computed series.
                assert torch.allclose(bn_k.running_mean, mm_k, rtol=1e-12, atol=1e-14)
                # Training output normalises with the batch statistics (biased var).
                assert torch.allclose(yk, gamma.detach() * (xb - bm) / torch.sqrt(bv + eps) + beta.detach(), atol=1e-12)
                seq["mmk"].append(mm_k.clone())
                seq["mvk"].append(mv_k.clone())
                seq["rmt"].append(bn_t.running_mean.clone())
                seq["rvt"].append(bn_t.running_var.clone())
            # Cross-check of the Keras variance series through torch (see above).
            mv_via_torch = torch.ones(c)
            for xb in xs:
                bv_unbiased = xb.var(0, unbiased=True)
                mv_via_torch = mk * mv_via_torch + (1.0 - mk) * bv_unbiased * (n - 1) / n
            assert torch.allclose(mv_via_torch, mv_k, rtol=1e-12)

            x_inf = randn(g, n, c) * 1.5 + 0.4
            dy_inf = randn(g, n, c)
            y_inf_k = gamma * (x_inf - mm_k) / torch.sqrt(mv_k + eps) + beta
            bn_t.eval()
            y_inf_t = bn_t(x_inf)
            y_inf_t_hand = gamma * (x_inf - bn_t.running_mean) / torch.sqrt(bn_t.running_var + eps_t) + beta
            assert torch.allclose(y_inf_t, y_inf_t_hand, rtol=1e-12, atol=1e-12)
            dx_inf_k = dy_inf * gamma / torch.sqrt(mv_k + eps)

        cases.append({
            "name": "bn_%dx%d" % (n, c),
            "kind": "batchnorm",
            "note": ("Training forward normalises with the batch mean and the biased batch variance, eps=eps. "
                     "moving_*_keras: Keras convention (moving = momentum_keras*moving + (1-momentum_keras)*stat, "
                     "biased variance; equals torch momentum_torch_for_keras with each batch variance multiplied by (n-1)/n), "
                     "computed by hand in float64. running_*_torch: torch.nn.BatchNorm1d(momentum=momentum_torch) "
                     "as torch stores it (unbiased variance). Inference: y_infer_keras uses eps, y_infer_torch eps_torch."),
            "n": n, "c": c,
            "eps": eps, "eps_torch": eps_t,
            "momentum_keras": mk, "momentum_torch": mt, "momentum_torch_for_keras": 1.0 - mk,
            "x": T(x), "gamma": T(gamma), "beta": T(beta),
            "batch_mean": T(x.detach().mean(0)), "batch_var": T(x.detach().var(0, unbiased=False)),
            "y": T(y), "dy": T(dy),
            "dx": T(x.grad), "dgamma": T(gamma.grad), "dbeta": T(beta.grad),
            "x_steps": Ts(xs),
            "moving_mean_keras": Ts(seq["mmk"]), "moving_variance_keras": Ts(seq["mvk"]),
            "running_mean_torch": Ts(seq["rmt"]), "running_var_torch": Ts(seq["rvt"]),
            "x_infer": T(x_inf),
            "y_infer_keras": T(y_inf_k), "y_infer_torch": T(y_inf_t),
            "dy_infer": T(dy_inf), "dx_infer_keras": T(dx_inf_k),
        })
    return cases


# ---------------------------------------------------------------- losses

KERAS_EPS = 1e-7  # keras.backend.epsilon()


def softmax_ce_cases():
    """Fields per case (kind "losses"); all losses are means over the batch.

    inputs: n, c, logits (n,c), targets_onehot (n,c), targets_int (n) (class
      indices stored as float64 numbers), probs (n,c) (input of the
      probability-based categorical losses: softmax(logits), except in case
      "unnormalized_probs_4x3" where each row is scaled by probs_row_scale),
      bce_targets (n,c) (0/1), bce_probs (n,c) = sigmoid(logits),
      mse_targets (n,c); clip_eps = 1e-7.
    softmax (n,c) = softmax(logits).
    ce_logits_loss, ce_logits_grad (n,c): softmax cross-entropy from logits,
      mean over samples (torch.nn.functional.cross_entropy; identical for
      one-hot and integer targets), gradient w.r.t. logits.
    cce_keras_loss, cce_keras_grad (n,c): Keras categorical_crossentropy on
      probabilities exactly as Keras 3 computes it: p / sum(p, axis=-1), then
      clip to [1e-7, 1-1e-7], then -sum(t*log(p)), mean over samples; gradient
      w.r.t. probs (clip passes no gradient outside the interval).
    cce_clip_loss, cce_clip_grad (n,c): the same without the renormalisation
      (clip then -sum(t*log(p))) -- equal to cce_keras_* when rows of probs
      sum to 1 and no entry is clipped.
    bce_keras_loss, bce_keras_grad (n,c): Keras binary_crossentropy on
      probabilities: clip bce_probs to [1e-7, 1-1e-7], then
      -(t*log(p) + (1-t)*log(1-p)), mean over all elements; gradient w.r.t.
      bce_probs.
    bce_logits_loss, bce_logits_grad (n,c): binary cross-entropy from logits
      (stable form, torch binary_cross_entropy_with_logits), mean over all
      elements, gradient w.r.t. logits.
    mse_loss, mse_grad (n,c): mean((logits - mse_targets)^2) over all
      elements, gradient w.r.t. logits.
    """
    F_ = torch.nn.functional
    cases = []
    specs = [
        ("ce_1x2", 1, 2, 1.0, None),
        ("ce_4x3", 4, 3, 1.0, None),
        ("ce_32x10", 32, 10, 2.0, None),
        ("large_logits_4x3", 4, 3, None, None),
        ("large_logits_32x10", 32, 10, 50.0, None),
        ("unnormalized_probs_4x3", 4, 3, 1.0, [0.5, 1.3, 2.0, 0.9]),
    ]
    for i, (name, n, c, scale, row_scale) in enumerate(specs):
        g = gen(2000 + i)
        if scale is None:
            # Hand-written extreme logits: +-50 with mixed signs, ties and a
            # correct / wrong confident prediction.
            logits = torch.tensor([[50.0, -50.0, 0.0],
                                   [-50.0, 50.0, 50.0],
                                   [50.0, 49.0, -50.0],
                                   [-50.0, -50.0, -50.0]])
            tint = torch.tensor([0, 0, 1, 2])
        else:
            logits = randn(g, n, c) * scale
            tint = torch.randint(0, c, (n,), generator=g)
            if name.startswith("large"):
                logits = logits.clamp(-50.0, 50.0)
        tone = F_.one_hot(tint, c).to(DT)

        lg = logits.clone().requires_grad_(True)
        ce = F_.cross_entropy(lg, tint)
        ce.backward()
        lg2 = logits.clone().requires_grad_(True)
        ce2 = -(tone * F_.log_softmax(lg2, dim=-1)).sum(-1).mean()
        ce2.backward()
        assert abs(ce.item() - ce2.item()) < 1e-12 and torch.allclose(lg.grad, lg2.grad, atol=1e-15)
        sm = torch.softmax(logits, -1)
        assert torch.allclose(lg.grad, (sm - tone) / n, atol=1e-15)

        probs = sm.clone()
        if row_scale is not None:
            probs = probs * torch.tensor(row_scale).reshape(n, 1)
        p1 = probs.clone().requires_grad_(True)
        pn = p1 / p1.sum(-1, keepdim=True)
        pn = torch.clip(pn, KERAS_EPS, 1.0 - KERAS_EPS)
        cce = -(tone * torch.log(pn)).sum(-1).mean()
        cce.backward()
        p2 = probs.clone().requires_grad_(True)
        cce2 = -(tone * torch.log(torch.clip(p2, KERAS_EPS, 1.0 - KERAS_EPS))).sum(-1).mean()
        cce2.backward()

        bt = (rand(g, n, c) < 0.5).to(DT)
        bp = torch.sigmoid(logits)
        p3 = bp.clone().requires_grad_(True)
        pc = torch.clip(p3, KERAS_EPS, 1.0 - KERAS_EPS)
        bce = -(bt * torch.log(pc) + (1.0 - bt) * torch.log(1.0 - pc)).mean()
        bce.backward()
        # Keras's torch backend calls F.binary_cross_entropy after the clip.
        p3b = bp.clone().requires_grad_(True)
        bceb = F_.binary_cross_entropy(torch.clip(p3b, KERAS_EPS, 1.0 - KERAS_EPS), bt)
        assert abs(bce.item() - bceb.item()) < 1e-12
        lg3 = logits.clone().requires_grad_(True)
        bcel = F_.binary_cross_entropy_with_logits(lg3, bt)
        bcel.backward()

        mt = randn(g, n, c)
        lg4 = logits.clone().requires_grad_(True)
        mse = F_.mse_loss(lg4, mt)
        mse.backward()

        cases.append({
            "name": name, "kind": "losses", "n": n, "c": c,
            "clip_eps": KERAS_EPS, "reduction": "mean",
            "note": ("cce_keras_*: Keras 3 categorical_crossentropy(from_logits=False): p/sum(p,-1), clip [clip_eps, 1-clip_eps], "
                     "-sum(t*log p), mean over samples. cce_clip_*: clip only (no renormalisation). "
                     "bce_keras_*: clip then -(t log p + (1-t) log(1-p)), mean over all elements. "
                     "Gradients of clipped entries are 0."),
            "probs_from": "softmax(logits)" if row_scale is None else "softmax(logits) * probs_row_scale[row]",
            "probs_row_scale": T(torch.tensor(row_scale if row_scale is not None else [1.0] * n)),
            "logits": T(logits), "targets_onehot": T(tone), "targets_int": T(tint.to(DT)),
            "softmax": T(sm),
            "ce_logits_loss": F(ce), "ce_logits_grad": T(lg.grad),
            "probs": T(probs),
            "cce_keras_loss": F(cce), "cce_keras_grad": T(p1.grad),
            "cce_clip_loss": F(cce2), "cce_clip_grad": T(p2.grad),
            "bce_targets": T(bt), "bce_probs": T(bp),
            "bce_keras_loss": F(bce), "bce_keras_grad": T(p3.grad),
            "bce_logits_loss": F(bcel), "bce_logits_grad": T(lg3.grad),
            "mse_targets": T(mt), "mse_loss": F(mse), "mse_grad": T(lg4.grad),
        })
    return cases


# ---------------------------------------------------------------- optimizers

def torch_series(opt_ctor, w0, grads):
    w = torch.nn.Parameter(w0.clone())
    opt = opt_ctor([w])
    out = []
    for gr in grads:
        opt.zero_grad()
        w.grad = gr.clone()
        opt.step()
        out.append(w.detach().clone())
    return out


def keras_adam(w0, grads, lr, b1, b2, eps):
    w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
    out = []
    for t, gr in enumerate(grads, start=1):
        alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
        m = m + (gr - m) * (1.0 - b1)
        v = v + (gr * gr - v) * (1.0 - b2)
        w = w - m * alpha / (torch.sqrt(v) + eps)
        out.append(w.clone())
    return out


def hand_torch_adam(w0, grads, lr, b1, b2, eps):
    w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
    out = []
    for t, gr in enumerate(grads, start=1):
        m = b1 * m + (1.0 - b1) * gr
        v = b2 * v + (1.0 - b2) * gr * gr
        mhat = m / (1.0 - b1 ** t)
        vhat = v / (1.0 - b2 ** t)
        w = w - lr * mhat / (torch.sqrt(vhat) + eps)
        out.append(w.clone())
    return out


def keras_sgd(w0, grads, lr, momentum, nesterov):
    w, m = w0.clone(), torch.zeros_like(w0)
    out = []
    for gr in grads:
        if momentum == 0.0:
            w = w - gr * lr
        else:
            m = -gr * lr + m * momentum
            if nesterov:
                w = w - gr * lr + m * momentum
            else:
                w = w + m
        out.append(w.clone())
    return out


def keras_rmsprop(w0, grads, lr, rho, eps):
    # Keras 3 (keras/src/optimizers/rmsprop.py, centered=False, momentum=0):
    # epsilon is added INSIDE the square root.
    w, v = w0.clone(), torch.zeros_like(w0)
    out = []
    for gr in grads:
        v = rho * v + (1.0 - rho) * gr * gr
        w = w - lr * gr / torch.sqrt(v + eps)
        out.append(w.clone())
    return out


def rmsprop_eps_outside(w0, grads, lr, rho, eps):
    # The form w -= lr*g/(sqrt(v)+eps) (epsilon outside the root).
    w, v = w0.clone(), torch.zeros_like(w0)
    out = []
    for gr in grads:
        v = rho * v + (1.0 - rho) * gr * gr
        w = w - lr * gr / (torch.sqrt(v) + eps)
        out.append(w.clone())
    return out


def optimizer_cases():
    """Fields per optimizer case (kind "optimizer"):

    optimizer ("adam" | "sgd" | "rmsprop"), form ("torch" | "keras" |
    "eps_outside_sqrt"), lr, and as applicable beta1, beta2, eps, momentum,
    nesterov (0 or 1), rho; w0 (3,4); grads: list of 5 tensors (3,4) (g1..g5);
    params: list of 5 tensors (3,4), the parameter after steps 1..5;
    note (string). Some cases carry max_abs_diff_vs_torch, the largest
    difference between this series and the corresponding torch series.
    The centered RMSprop cases (issue 11) have w0 and grads of shape (2,4)
    instead, and add centered (1) and momentum; float64_only (1) marks a
    case whose values float32 cannot reproduce.

    Fields of the clipping cases (kind "clip"):
    grads: list of two tensors ((3,4) and (5)); max_norm; clip_value;
    global_norm (sqrt of the sum of squares over both tensors);
    norms: per-tensor L2 norms (list of two numbers as a tensor of shape (2));
    clip_global_norm_torch (list): torch.nn.utils.clip_grad_norm_ result,
      g * min(1, max_norm/(global_norm+1e-6));
    clip_global_norm_keras (list): Keras global_clipnorm,
      g * max_norm / max(global_norm, max_norm);
    clipnorm_torch (list): clip_grad_norm_ applied to each tensor separately;
    clipnorm_keras (list): Keras clipnorm, per tensor g*max_norm/max(norm, max_norm);
    clipvalue (list): torch.nn.utils.clip_grad_value_ (= Keras clipvalue),
      each entry clamped to [-clip_value, clip_value].
    """
    g = gen(3000)
    w0 = randn(g, 3, 4)
    grads = [randn(g, 3, 4) * (0.5 + 0.25 * k) for k in range(5)]
    # A few small gradient entries make eps matter in Adam/RMSprop.
    grads[0][0, 0] = 1e-6
    grads[1][0, 0] = -2e-6
    grads[2][1, 1] = 0.0
    base = {"w0": T(w0), "grads": Ts(grads)}
    cases = []

    def add(name, fields, params):
        c = {"name": name, "kind": "optimizer"}
        c.update(fields)
        c.update(base)
        c["params"] = Ts(params)
        cases.append(c)

    b1, b2 = 0.9, 0.999
    for lr in (1e-3, 0.1):
        for eps in (1e-7, 1e-8):
            tser = torch_series(lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps), w0, grads)
            hser = hand_torch_adam(w0, grads, lr, b1, b2, eps)
            assert maxdiff(tser, hser) < 1e-13, maxdiff(tser, hser)
            kser = keras_adam(w0, grads, lr, b1, b2, eps)
            hp = {"optimizer": "adam", "lr": lr, "beta1": b1, "beta2": b2, "eps": eps}
            add("adam_torch_lr%g_eps%g" % (lr, eps),
                dict(hp, form="torch", note="torch.optim.Adam: w -= lr * mhat / (sqrt(vhat) + eps), mhat=m/(1-b1^t), vhat=v/(1-b2^t)"),
                tser)
            add("adam_keras_lr%g_eps%g" % (lr, eps),
                dict(hp, form="keras", max_abs_diff_vs_torch=maxdiff(kser, tser),
                     note="Keras Adam (epsilon-hat form), by hand: alpha = lr*sqrt(1-b2^t)/(1-b1^t); m += (g-m)*(1-b1); v += (g^2-v)*(1-b2); w -= alpha*m/(sqrt(v)+eps)"),
                kser)

    lr = 0.1
    for mom, nest in ((0.0, False), (0.9, False), (0.9, True)):
        tser = torch_series(lambda p: torch.optim.SGD(p, lr=lr, momentum=mom, nesterov=nest), w0, grads)
        kser = keras_sgd(w0, grads, lr, mom, nest)
        d = maxdiff(kser, tser)
        assert d < 1e-13, d
        kind = "plain" if mom == 0 else ("nesterov" if nest else "momentum")
        hp = {"optimizer": "sgd", "lr": lr, "momentum": mom, "nesterov": 1 if nest else 0}
        add("sgd_%s_torch" % kind,
            dict(hp, form="torch", note="torch.optim.SGD: buf = momentum*buf + g (buf=g at step 1); w -= lr*buf, or lr*(g + momentum*buf) with nesterov"),
            tser)
        add("sgd_%s_keras" % kind,
            dict(hp, form="keras", max_abs_diff_vs_torch=d,
                 note="Keras SGD by hand: m = momentum*m - lr*g; w += m, or w += momentum*m - lr*g with nesterov. "
                      "Equivalent to torch for a constant learning rate (m = -lr*buf); checked numerically (max_abs_diff_vs_torch)."),
            kser)

    rho, eps = 0.9, 1e-7
    for lr in (0.01, 1e-3):
        tser = torch_series(lambda p: torch.optim.RMSprop(p, lr=lr, alpha=rho, eps=eps), w0, grads)
        oser = rmsprop_eps_outside(w0, grads, lr, rho, eps)
        kser = keras_rmsprop(w0, grads, lr, rho, eps)
        d_out = maxdiff(oser, tser)
        assert d_out < 1e-13, d_out
        hp = {"optimizer": "rmsprop", "lr": lr, "rho": rho, "eps": eps}
        add("rmsprop_torch_lr%g" % lr,
            dict(hp, form="torch", note="torch.optim.RMSprop(alpha=rho, momentum=0, centered=False): v = rho*v + (1-rho)*g^2; w -= lr*g/(sqrt(v)+eps)"),
            tser)
        add("rmsprop_eps_outside_lr%g" % lr,
            dict(hp, form="eps_outside_sqrt", max_abs_diff_vs_torch=d_out,
                 note="By hand: v = rho*v + (1-rho)*g^2; w -= lr*g/(sqrt(v)+eps). Identical to torch's RMSprop (checked)."),
            oser)
        add("rmsprop_keras_lr%g" % lr,
            dict(hp, form="keras", max_abs_diff_vs_torch=maxdiff(kser, tser),
                 note="Keras 3 RMSprop by hand (keras/src/optimizers/rmsprop.py): v = rho*v + (1-rho)*g^2; w -= lr*g/sqrt(v+eps) "
                      "-- epsilon INSIDE the root, so it differs from torch where |g| is tiny (grads[0][0,0], grads[1][0,0])."),
            kser)

    # Centered RMSprop with tiny gradients (issue 11): elements whose
    # gradient has been tiny since the first step, where v and a^2 fall below
    # float32's smallest normal number (2^-126) while the parameter is float64.
    # torch.optim.RMSprop(centered=True) stays finite; each gradient element
    # is constant over the five steps, and w0 is zero so that the parameters
    # are the accumulated updates themselves (a relative comparison then
    # sees an update of 1e-14 as clearly as one of 1).
    tiny = torch.tensor([[1e-20, -1e-20, 1e-37, 3e-19], [-1e-30, 1e-25, 0.0, 0.5]])
    tw0 = torch.zeros_like(tiny)
    tgrads = [tiny.clone() for _ in range(5)]
    tbase = {"w0": T(tw0), "grads": Ts(tgrads)}
    for name, mom, eps, f64 in (("rmsprop_centered_tiny_torch", 0.0, 1e-8, False),
                                ("rmsprop_centered_momentum_tiny_torch", 0.9, 1e-8, False),
                                ("rmsprop_centered_tiny_eps1e-30_torch", 0.0, 1e-30, True)):
        lr = 0.01
        tser = torch_series(lambda p: torch.optim.RMSprop(p, lr=lr, alpha=rho, eps=eps, momentum=mom, centered=True), tw0, tgrads)
        assert all(bool(torch.isfinite(x).all()) for x in tser), name
        c = {"name": name, "kind": "optimizer", "optimizer": "rmsprop", "form": "torch",
             "lr": lr, "rho": rho, "eps": eps, "momentum": mom, "centered": 1,
             "note": "torch.optim.RMSprop(alpha=rho, centered=True): v = rho*v + (1-rho)*g^2; a = rho*a + (1-rho)*g; "
                     "u = g/(sqrt(v - a^2) + eps); w -= lr*u, or buf = momentum*buf + u; w -= lr*buf. "
                     "Gradients of 1e-37 to 3e-19 put v and a^2 below 2^-126 (issue 11)."}
        if f64:
            c["float64_only"] = 1
            c["note"] += (" With eps 1e-30 the centered root, not eps, sets the update, which float32 cannot"
                          " represent (v underflows or is flushed to zero): compare in float64 only.")
        c.update(tbase)
        c["params"] = Ts(tser)
        cases.append(c)

    # Clipping.
    for name, max_norm, clip_value in (("clip_active", 1.0, 0.5), ("clip_inactive", 100.0, 10.0)):
        gc = gen(3100)
        gl = [randn(gc, 3, 4), randn(gc, 5) * 2.0]
        norms = torch.stack([x.norm() for x in gl])
        gn = float(torch.sqrt(sum((x * x).sum() for x in gl)))

        def with_grads(ts):
            ps = [torch.nn.Parameter(torch.zeros_like(x)) for x in ts]
            for p, x in zip(ps, ts):
                p.grad = x.clone()
            return ps

        ps = with_grads(gl)
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        assert abs(float(total) - gn) < 1e-12
        glob_t = [p.grad.clone() for p in ps]
        glob_k = [x * max_norm / max(gn, max_norm) for x in gl]
        per_t = []
        for x in gl:
            (p,) = with_grads([x])
            torch.nn.utils.clip_grad_norm_([p], max_norm)
            per_t.append(p.grad.clone())
        per_k = [x * max_norm / max(float(x.norm()), max_norm) for x in gl]
        ps = with_grads(gl)
        torch.nn.utils.clip_grad_value_(ps, clip_value)
        cv = [p.grad.clone() for p in ps]
        assert maxdiff(cv, [x.clamp(-clip_value, clip_value) for x in gl]) == 0.0
        cases.append({
            "name": name, "kind": "clip",
            "note": ("torch clip_grad_norm_ scales by min(1, max_norm/(norm+1e-6)); Keras (global_clipnorm / clipnorm) "
                     "by max_norm/max(norm, max_norm): they differ by a relative ~1e-6/norm when clipping is active."),
            "max_norm": max_norm, "clip_value": clip_value,
            "grads": Ts(gl), "global_norm": gn, "norms": T(norms),
            "clip_global_norm_torch": Ts(glob_t), "clip_global_norm_keras": Ts(glob_k),
            "clipnorm_torch": Ts(per_t), "clipnorm_keras": Ts(per_k),
            "clipvalue": Ts(cv),
        })
    return cases


# ---------------------------------------------------------------- optimizers2 (issue 13)

def keras_decay(w, lr, wd):
    # Keras 3 (keras/src/optimizers/base_optimizer.py _apply_weight_decay):
    # variable.assign(variable - variable * wd * lr), before the update.
    return w - w * wd * lr


def keras_adam_full(w0, grads, lr, b1, b2, eps, wd=0.0, amsgrad=False, torch_eps=False):
    # Keras 3 Adam (keras/src/optimizers/adam.py) with weight decay and
    # amsgrad, by hand; torch_eps moves eps outside the bias-corrected root.
    w, m, v, vh = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0), torch.zeros_like(w0)
    out = []
    for t, gr in enumerate(grads, start=1):
        if wd:
            w = keras_decay(w, lr, wd)
        m = m + (gr - m) * (1.0 - b1)
        v = v + (gr * gr - v) * (1.0 - b2)
        vv = v
        if amsgrad:
            vh = torch.maximum(vh, v)
            vv = vh
        if torch_eps:
            w = w - lr / (1.0 - b1 ** t) * m / (torch.sqrt(vv / (1.0 - b2 ** t)) + eps)
        else:
            alpha = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
            w = w - m * alpha / (torch.sqrt(vv) + eps)
        out.append(w.clone())
    return out


def keras_nadam(w0, grads, lr, b1, b2, eps):
    # Keras 3 Nadam (keras/src/optimizers/nadam.py), by hand: the product
    # u_product is multiplied by u_t once per step before the update.
    w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
    uprod = 1.0
    out = []
    for t, gr in enumerate(grads, start=1):
        uprod = uprod * (b1 * (1.0 - 0.5 * 0.96 ** t))
        u_t = b1 * (1.0 - 0.5 * 0.96 ** t)
        u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        uprod1 = uprod * u_t1
        m = m + (gr - m) * (1.0 - b1)
        v = v + (gr * gr - v) * (1.0 - b2)
        mhat = u_t1 * m / (1.0 - uprod1) + (1.0 - u_t) * gr / (1.0 - uprod)
        vhat = v / (1.0 - b2 ** t)
        w = w - mhat * lr / (torch.sqrt(vhat) + eps)
        out.append(w.clone())
    return out


def torch113_nadam(w0, grads, lr, b1, b2, eps, psi):
    # torch 1.13's NAdam (torch/optim/nadam.py _single_tensor_nadam) by hand,
    # including its mu_product_next = mu_product * mu * mu_next.
    w, m, v = w0.clone(), torch.zeros_like(w0), torch.zeros_like(w0)
    mp = 1.0
    out = []
    for t, gr in enumerate(grads, start=1):
        mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
        mu1 = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
        mp = mp * mu
        mpn = mp * mu * mu1
        m = b1 * m + (1.0 - b1) * gr
        v = b2 * v + (1.0 - b2) * gr * gr
        denom = torch.sqrt(v / (1.0 - b2 ** t)) + eps
        w = w - lr * (1.0 - mu) / (1.0 - mp) * gr / denom
        w = w - lr * mu1 / (1.0 - mpn) * m / denom
        out.append(w.clone())
    return out


def keras_adagrad(w0, grads, lr, init, eps, wd=0.0, torch_eps=False):
    # Keras 3 Adagrad (keras/src/optimizers/adagrad.py), by hand.
    w, a = w0.clone(), torch.full_like(w0, init)
    out = []
    for gr in grads:
        if wd:
            w = keras_decay(w, lr, wd)
        a = a + gr * gr
        if torch_eps:
            w = w - lr * gr / (torch.sqrt(a) + eps)
        else:
            w = w - lr * gr / torch.sqrt(a + eps)
        out.append(w.clone())
    return out


def keras_sgd_wd(w0, grads, lr, momentum, wd):
    w, m = w0.clone(), torch.zeros_like(w0)
    out = []
    for gr in grads:
        w = keras_decay(w, lr, wd)
        m = -gr * lr + m * momentum
        w = w + m
        out.append(w.clone())
    return out


def optimizer2_cases():
    """Issue 13's optimizers: the fields of optimizers.json's optimizer
    cases (optimizer, form, lr, beta1, beta2, eps, w0, grads, params, note),
    with optimizer "adamw" | "adam" | "nadam" | "adagrad" | "sgd" and, as
    applicable, weight_decay, amsgrad (0 or 1), initial_accumulator_value,
    momentum, momentum_decay (torch NAdam's psi). w0 (3,4); grads: 8
    tensors (3,4) whose scale falls from step to step, so that AMSGrad's
    running maximum of v differs from v; params after each step. Every
    parameter is named "w" in the Go tests, so it decays.

    The form "torch113" (nadam only) is torch 1.13's NAdam, which matches
    no other form: see keras_nadam and torch113_nadam."""
    g = gen(5000)
    w0 = randn(g, 3, 4)
    grads = [randn(g, 3, 4) * (2.0 - 0.25 * k) for k in range(8)]
    grads[0][0, 0] = 1e-6
    grads[3][1, 1] = 0.0
    base = {"w0": T(w0), "grads": Ts(grads)}
    cases = []

    def add(name, fields, params):
        c = {"name": name, "kind": "optimizer"}
        c.update(fields)
        c.update(base)
        c["params"] = Ts(params)
        cases.append(c)

    b1, b2 = 0.9, 0.99
    lr, wd, eps = 0.01, 0.1, 1e-7
    hp = {"optimizer": "adamw", "lr": lr, "beta1": b1, "beta2": b2, "eps": eps, "weight_decay": wd}
    tser = torch_series(lambda p: torch.optim.AdamW(p, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd), w0, grads)
    hser = keras_adam_full(w0, grads, lr, b1, b2, eps, wd=wd, torch_eps=True)
    assert maxdiff(tser, hser) < 1e-13, maxdiff(tser, hser)
    add("adamw_torch", dict(hp, form="torch",
        note="torch.optim.AdamW: w *= 1 - lr*wd; then Adam with eps outside sqrt(vhat). Keras's decay w -= w*wd*lr is the same (checked by hand to 1e-13)."),
        tser)
    kser = keras_adam_full(w0, grads, lr, b1, b2, eps, wd=wd)
    add("adamw_keras", dict(hp, form="keras", max_abs_diff_vs_torch=maxdiff(kser, tser),
        note="Keras 3 AdamW by hand: w -= w*wd*lr; then Keras Adam (epsilon-hat form)."), kser)

    hp = {"optimizer": "adam", "lr": lr, "beta1": b1, "beta2": b2, "eps": eps, "amsgrad": 1}
    tser = torch_series(lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps, amsgrad=True), w0, grads)
    plain = torch_series(lambda p: torch.optim.Adam(p, lr=lr, betas=(b1, b2), eps=eps), w0, grads)
    assert maxdiff(tser, plain) > 1e-4, maxdiff(tser, plain)  # the maximum matters
    hser = keras_adam_full(w0, grads, lr, b1, b2, eps, amsgrad=True, torch_eps=True)
    assert maxdiff(tser, hser) < 1e-13, maxdiff(tser, hser)
    add("adam_amsgrad_torch", dict(hp, form="torch",
        note="torch.optim.Adam(amsgrad=True): vmax = max(vmax, v); w -= lr/(1-b1^t) * m/(sqrt(vmax/(1-b2^t)) + eps)"), tser)
    kser = keras_adam_full(w0, grads, lr, b1, b2, eps, amsgrad=True)
    add("adam_amsgrad_keras", dict(hp, form="keras", max_abs_diff_vs_torch=maxdiff(kser, tser),
        note="Keras 3 Adam(amsgrad=True) by hand: v_hat = max(v_hat, v); w -= alpha*m/(sqrt(v_hat)+eps)"), kser)

    hp = {"optimizer": "nadam", "lr": lr, "beta1": b1, "beta2": b2, "eps": eps}
    kser = keras_nadam(w0, grads, lr, b1, b2, eps)
    tser = torch_series(lambda p: torch.optim.NAdam(p, lr=lr, betas=(b1, b2), eps=eps, momentum_decay=1.0), w0, grads)
    hser = torch113_nadam(w0, grads, lr, b1, b2, eps, 1.0)
    assert maxdiff(tser, hser) < 1e-13, maxdiff(tser, hser)
    add("nadam_keras", dict(hp, form="keras", max_abs_diff_vs_torch=maxdiff(kser, tser),
        note="Keras 3 Nadam by hand: u_t = b1*(1-0.5*0.96^t); P_t = u_1*...*u_t; m_hat = u_{t+1}*m/(1-P_t*u_{t+1}) + (1-u_t)*g/(1-P_t); "
             "w -= lr*m_hat/(sqrt(v/(1-b2^t)) + eps). Equal to current torch NAdam with momentum_decay=1; not to torch 1.13's."), kser)
    add("nadam_torch113", dict(hp, form="torch113", momentum_decay=1.0,
        note="torch 1.13 torch.optim.NAdam(momentum_decay=1): as Keras 3 but with mu_product_next = mu_product*mu*mu_next "
             "(mu_t multiplied in twice; fixed in later torch)."), tser)

    init = 0.1
    hp = {"optimizer": "adagrad", "lr": 0.1, "initial_accumulator_value": init, "eps": eps}
    tser = torch_series(lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=init, eps=eps), w0, grads)
    hser = keras_adagrad(w0, grads, 0.1, init, eps, torch_eps=True)
    assert maxdiff(tser, hser) < 1e-13, maxdiff(tser, hser)
    add("adagrad_torch", dict(hp, form="torch",
        note="torch.optim.Adagrad(lr_decay=0): a += g^2; w -= lr*g/(sqrt(a)+eps)"), tser)
    kser = keras_adagrad(w0, grads, 0.1, init, eps)
    add("adagrad_keras", dict(hp, form="keras", max_abs_diff_vs_torch=maxdiff(kser, tser),
        note="Keras 3 Adagrad by hand: a += g^2; w -= lr*g/sqrt(a+eps)"), kser)
    kser = keras_adagrad(w0, grads, 0.1, init, eps, wd=0.05)
    add("adagrad_wd_keras", dict(hp, form="keras", weight_decay=0.05,
        note="Keras 3 Adagrad with weight_decay by hand: w -= w*wd*lr; then the update."), kser)

    # Plain SGD: torch's coupled L2 (g + wd*w) equals Keras's decoupled decay.
    tser = torch_series(lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.2), w0, grads)
    hp = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.0, "nesterov": 0, "weight_decay": 0.2}
    add("sgd_wd_torch", dict(hp, form="torch",
        note="torch.optim.SGD(weight_decay): w -= lr*(g + wd*w), which for plain SGD is Keras's w -= w*wd*lr; w -= lr*g"), tser)
    kser = keras_sgd_wd(w0, grads, 0.1, 0.9, 0.2)
    add("sgd_momentum_wd_keras", dict(hp, form="keras", momentum=0.9,
        note="Keras SGD(momentum=0.9, weight_decay) by hand: w -= w*wd*lr; m = momentum*m - lr*g; w += m"), kser)
    return cases


# ---------------------------------------------------------------- losses2 (issue 13)

def loss2_cases():
    """Fields per case (kind "loss"): loss (Keras name), pred (4,3),
    target (4,3), value (the mean loss, a number), grad (4,3) = d value /
    d pred by autograd, note; delta for huber.

    mean_absolute_error: F.l1_loss (reduction "mean"); the differences avoid
    0, where |x| has a kink. huber: F.huber_loss(delta) with elements on
    both sides of delta. kl_divergence: Keras's clip(t, 1e-7, 1) and
    clip(p, 1e-7, 1), then F.kl_div(log p, t, reduction="batchmean") =
    sum(t*(log t - log p))/rows; the clipping is applied in torch before the
    call, and the target row with a 0 exercises it."""
    g = gen(6000)
    cases = []
    pred = randn(g, 4, 3)
    target = randn(g, 4, 3)
    assert float((pred - target).abs().min()) > 1e-3
    for name, fn, extra in (
        ("mean_absolute_error", lambda p: torch.nn.functional.l1_loss(p, target), {}),
        ("huber", lambda p: torch.nn.functional.huber_loss(p, target, delta=1.0), {"delta": 1.0}),
        ("huber", lambda p: torch.nn.functional.huber_loss(p, target, delta=0.5), {"delta": 0.5}),
    ):
        d = (pred - target).abs()
        if "delta" in extra:
            assert float((d - extra["delta"]).abs().min()) > 1e-3
            assert bool((d < extra["delta"]).any()) and bool((d > extra["delta"]).any())
        p = pred.clone().requires_grad_(True)
        v = fn(p)
        v.backward()
        c = {"name": name + "".join("_delta%g" % x for x in extra.values()), "kind": "loss", "loss": name,
             "note": "torch.nn.functional.%s, reduction mean" % ("l1_loss" if name == "mean_absolute_error" else "huber_loss"),
             "pred": T(pred), "target": T(target), "value": F(v), "grad": T(p.grad)}
        c.update(extra)
        cases.append(c)
    probs = torch.softmax(randn(g, 4, 3), dim=-1)
    tdist = torch.softmax(randn(g, 4, 3) * 2, dim=-1)
    tdist[2] = torch.tensor([0.0, 0.3, 0.7])
    p = probs.clone().requires_grad_(True)
    tc = tdist.clamp(KERAS_EPS, 1.0)
    v = torch.nn.functional.kl_div(torch.log(p.clamp(KERAS_EPS, 1.0)), tc, reduction="batchmean")
    v.backward()
    cases.append({"name": "kl_divergence", "kind": "loss", "loss": "kl_divergence",
                  "note": "Keras kl_divergence: t = clip(target, 1e-7, 1), p = clip(pred, 1e-7, 1), sum(t*log(t/p)) over the last "
                          "axis, mean over rows; as torch kl_div(log p, t, reduction='batchmean') on the clipped values.",
                  "pred": T(probs), "target": T(tdist), "value": F(v), "grad": T(p.grad)})
    return cases


# ---------------------------------------------------------------- dense

def dense_cases():
    """Fields per case (kind "dense"): activation ("linear" | "relu" |
    "sigmoid" | "tanh" | "softmax", softmax over the last axis); x (4,3),
    w (3,2) (Keras kernel layout (in, out)), b (2), z = x@w + b (4,2),
    y = activation(z) (4,2), r (4,2) random projection; loss = sum(y*r);
    dx (4,3), dw (3,2), db (2) by autograd."""
    g = gen(4000)
    x = randn(g, 4, 3)
    w = randn(g, 3, 2) * 0.8
    b = randn(g, 2) * 0.3
    r = randn(g, 4, 2)
    z = x @ w + b
    assert float(z.abs().min()) > 1e-3  # relu's kink is not hit
    acts = {
        "linear": lambda t: t,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda t: torch.softmax(t, dim=-1),
    }
    cases = []
    for name, fn in acts.items():
        xv = x.clone().requires_grad_(True)
        wv = w.clone().requires_grad_(True)
        bv = b.clone().requires_grad_(True)
        y = fn(xv @ wv + bv)
        (y * r).sum().backward()
        cases.append({
            "name": "dense_" + name, "kind": "dense", "activation": name,
            "note": "y = activation(x @ w + b), w in Keras layout (in, out); loss = sum(y * r); gradients by autograd.",
            "x": T(x), "w": T(w), "b": T(b), "r": T(r),
            "z": T(z), "y": T(y),
            "dx": T(xv.grad), "dw": T(wv.grad), "db": T(bv.grad),
        })
    return cases


# ---------------------------------------------------------------- norms

def to_channels_first(x):
    """(N, ..., C) -> (N, C, ...): torch's group_norm layout."""
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def norm_cases():
    """Fields per case. Kind "layernorm": x, gamma, beta (C), r (shape of
    x), eps; y = layer_norm(x, (C,), gamma, beta, eps) over the last axis;
    loss = sum(y*r); dx, dgamma, dbeta by autograd. Kind "groupnorm": the
    same fields plus groups; x is channels last (N, ..., C) as in Keras,
    y = group_norm of x's channels-first transpose, transposed back."""
    g = gen(5000)
    cases = []
    for shape in [(4, 5), (2, 3, 6), (2, 3, 2, 4)]:
        c = shape[-1]
        x = randn(g, *shape) * 1.5 + 0.5
        gamma, beta, r = randn(g, c), randn(g, c), randn(g, *shape)
        for eps in [1e-3, 1e-5]:
            xv, gv, bv = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
            y = torch.nn.functional.layer_norm(xv, (c,), gv, bv, eps)
            (y * r).sum().backward()
            cases.append({
                "name": "layernorm_%s_eps%g" % ("x".join(map(str, shape)), eps), "kind": "layernorm",
                "note": "y = torch.nn.functional.layer_norm(x, (C,), gamma, beta, eps): Keras LayerNormalization(axis=-1); loss = sum(y * r).",
                "eps": eps, "x": T(x), "gamma": T(gamma), "beta": T(beta), "r": T(r),
                "y": T(y), "dx": T(xv.grad), "dgamma": T(gv.grad), "dbeta": T(bv.grad),
            })
    for shape, groups in [((3, 8), 4), ((2, 5, 6), 3), ((2, 3, 4, 6), 2), ((2, 2, 3, 4), 4), ((2, 3, 2, 4), 1)]:
        c = shape[-1]
        x = randn(g, *shape) * 1.5 + 0.5
        gamma, beta, r = randn(g, c), randn(g, c), randn(g, *shape)
        eps = 1e-3
        xv, gv, bv = (t.clone().requires_grad_(True) for t in (x, gamma, beta))
        yt = torch.nn.functional.group_norm(to_channels_first(xv), groups, gv, bv, eps)
        y = yt.permute(0, *range(2, yt.dim()), 1)  # back to channels last
        (y * r).sum().backward()
        cases.append({
            "name": "groupnorm_%s_g%d" % ("x".join(map(str, shape)), groups), "kind": "groupnorm",
            "note": "x channels last (Keras GroupNormalization(axis=-1)); y = group_norm(x transposed to channels first, groups, gamma, beta, eps) transposed back; loss = sum(y * r).",
            "groups": groups, "eps": eps, "x": T(x), "gamma": T(gamma), "beta": T(beta), "r": T(r),
            "y": T(y), "dx": T(xv.grad), "dgamma": T(gv.grad), "dbeta": T(bv.grad),
        })
    return cases


# ---------------------------------------------------------------- conv2d

def tf_pads(n, k, s, d, padding):
    """TensorFlow's padding along one axis: (out, before, after). "same"
    gives ceil(n/s) outputs and puts the odd pixel after (bottom/right)."""
    span = (k - 1) * d + 1
    if padding == "valid":
        return (n - span) // s + 1, 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + span - n, 0)
    return out, total // 2, total - total // 2


def nhwc_pad(x, kh, kw, sh, sw, dh, dw, padding, value=0.0):
    """x (N,C,H,W) padded as TensorFlow pads it, explicitly (F.pad's order is
    left, right, top, bottom), since PyTorch's own padding is symmetric."""
    _, pt, pb = tf_pads(x.shape[2], kh, sh, dh, padding)
    _, pl, pr = tf_pads(x.shape[3], kw, sw, dw, padding)
    return torch.nn.functional.pad(x, (pl, pr, pt, pb), value=value)


def conv2d_cases():
    """Fields per case (kind "conv2d"): x (n,h,w,c) channels last (NHWC),
    w (kh,kw,c,f) Keras's kernel layout, b (f), strides [sh,sw],
    dilation [dh,dw], padding ("valid" | "same", TensorFlow's), activation
    ("linear" | "relu" | "tanh"), r (like y) random projection;
    y = activation(conv(x, w) + b) (n,oh,ow,f); loss = sum(y*r);
    dx, dw, db by autograd.

    PyTorch computes in NCHW with OIHW weights: x is permuted to NCHW, w to
    (f,c,kh,kw), the input padded explicitly with F.pad (the odd pixel of
    "same" at the bottom and right), and y permuted back. For stride 1 the
    generator also checks F.conv2d(padding="same"), which pads the same way.
    """
    F_ = torch.nn.functional
    specs = [
        # name, (n,h,w,c), (kh,kw,f), strides, dilation, padding, activation
        ("valid_3x3", (2, 6, 5, 3), (3, 3, 4), (1, 1), (1, 1), "valid", "linear"),
        ("same_3x3_relu", (2, 5, 6, 2), (3, 3, 3), (1, 1), (1, 1), "same", "relu"),
        ("same_2x2_odd_pad", (2, 6, 6, 2), (2, 2, 3), (1, 1), (1, 1), "same", "linear"),
        ("valid_stride2_odd", (2, 7, 6, 3), (3, 2, 2), (2, 2), (1, 1), "valid", "tanh"),
        ("same_stride2_odd", (2, 7, 8, 2), (3, 3, 2), (2, 2), (1, 1), "same", "linear"),
        ("same_stride_2x3", (1, 8, 7, 2), (3, 3, 3), (2, 3), (1, 1), "same", "linear"),
        ("valid_dilation2", (1, 7, 7, 2), (3, 3, 2), (1, 1), (2, 2), "valid", "linear"),
        ("same_dilation2", (2, 7, 6, 2), (3, 2, 2), (1, 1), (2, 2), "same", "tanh"),
        ("valid_1x1", (2, 3, 5, 4), (1, 1, 3), (1, 1), (1, 1), "valid", "linear"),
        ("same_1x1_stride2", (2, 5, 5, 3), (1, 1, 2), (2, 2), (1, 1), "same", "linear"),
    ]
    acts = {"linear": lambda t: t, "relu": torch.relu, "tanh": torch.tanh}
    g = gen(5000)
    cases = []
    for name, (n, h, w_, c), (kh, kw, f), (sh, sw), (dh, dw), padding, act in specs:
        x = randn(g, n, h, w_, c)
        w = randn(g, kh, kw, c, f) * 0.5
        b = randn(g, f) * 0.3
        xv, wv, bv = (t.clone().requires_grad_(True) for t in (x, w, b))
        xn = nhwc_pad(xv.permute(0, 3, 1, 2), kh, kw, sh, sw, dh, dw, padding)
        z = F_.conv2d(xn, wv.permute(3, 2, 0, 1), bv, stride=(sh, sw), dilation=(dh, dw))
        if (sh, sw) == (1, 1):
            ref = F_.conv2d(x.permute(0, 3, 1, 2), w.permute(3, 2, 0, 1), b, dilation=(dh, dw), padding=padding)
            assert torch.allclose(z, ref), name
        oh, _, _ = tf_pads(h, kh, sh, dh, padding)
        ow, _, _ = tf_pads(w_, kw, sw, dw, padding)
        assert tuple(z.shape) == (n, f, oh, ow), (name, z.shape)
        if act == "relu":
            assert float(z.abs().min()) > 1e-6, name  # off relu's kink
        y = acts[act](z).permute(0, 2, 3, 1)
        r = randn(g, *y.shape)
        (y * r).sum().backward()
        cases.append({
            "name": name, "kind": "conv2d",
            "note": "NHWC input, Keras kernel (kh,kw,c,f); TensorFlow same padding (odd pixel bottom/right); loss = sum(y*r).",
            "x": T(x), "w": T(w), "b": T(b), "r": T(r), "y": T(y),
            "dx": T(xv.grad), "dw": T(wv.grad), "db": T(bv.grad),
            "strides": T(torch.tensor([sh, sw])), "dilation": T(torch.tensor([dh, dw])),
            "padding": padding, "activation": act,
        })
    return cases


def regularizer_cases():
    """Fields per case (kind "penalty"): class_name ("L1" | "L2" | "L1L2"),
    l1, l2, w (3,4), value = l1*sum|w| + l2*sum(w^2) (Keras's
    regularizers: no 1/2 on the square), dw by autograd."""
    g = gen(6000)
    w = randn(g, 3, 4)
    cases = []
    for name, l1, l2 in [("L1", 0.01, 0.0), ("L2", 0.0, 0.01), ("L1L2", 0.03, 0.2)]:
        wv = w.clone().requires_grad_(True)
        v = l1 * wv.abs().sum() + l2 * (wv * wv).sum()
        v.backward()
        cases.append({
            "name": "penalty_" + name, "kind": "penalty", "class_name": name,
            "note": "Keras regularizer: l1*sum(|w|) + l2*sum(w**2); gradient by autograd.",
            "l1": l1, "l2": l2, "w": T(w), "value": F(v), "dw": T(wv.grad),
        })
    return cases


def pool2d_cases():
    """Fields per case (kind "pool2d"): pool ("max" | "avg" | "global_avg"),
    x (n,h,w,c) NHWC, pool_size [ph,pw], strides [sh,sw], padding ("valid" |
    "same"), r (like y); y (n,oh,ow,c), or (n,c) for global_avg;
    loss = sum(y*r); dx by autograd.

    Keras's conventions, built from PyTorch pieces: "same" pads as TensorFlow
    does (F.pad, odd pixel at the end); max pooling pads with -inf, so padding
    never wins; average pooling divides by the number of image pixels in each
    window (padding excluded): the zero-padded window sum over the padded
    count of ones.
    """
    F_ = torch.nn.functional
    specs = [
        # name, pool, (n,h,w,c), pool_size, strides, padding
        ("max_2x2", "max", (2, 4, 4, 3), (2, 2), (2, 2), "valid"),
        ("max_2x2_odd_valid", "max", (2, 5, 7, 2), (2, 2), (2, 2), "valid"),
        ("max_2x2_odd_same", "max", (2, 5, 7, 2), (2, 2), (2, 2), "same"),
        ("max_3x3_stride1_same", "max", (1, 6, 5, 2), (3, 3), (1, 1), "same"),
        ("avg_2x2", "avg", (2, 4, 6, 3), (2, 2), (2, 2), "valid"),
        ("avg_2x2_odd_same", "avg", (2, 5, 7, 2), (2, 2), (2, 2), "same"),
        ("avg_3x3_stride1_same", "avg", (1, 6, 5, 2), (3, 3), (1, 1), "same"),
        ("avg_3x2_stride_2x1_valid", "avg", (2, 7, 6, 1), (3, 2), (2, 1), "valid"),
        ("global_avg", "global_avg", (2, 5, 3, 4), (5, 3), (1, 1), "valid"),
    ]
    g = gen(5100)
    cases = []
    for name, pool, (n, h, w_, c), (ph, pw), (sh, sw), padding in specs:
        x = randn(g, n, h, w_, c)
        xv = x.clone().requires_grad_(True)
        xn = xv.permute(0, 3, 1, 2)
        if pool == "max":
            y = F_.max_pool2d(nhwc_pad(xn, ph, pw, sh, sw, 1, 1, padding, value=-math.inf), (ph, pw), (sh, sw))
        elif pool == "avg":
            ones = torch.ones_like(xn)
            num = F_.avg_pool2d(nhwc_pad(xn, ph, pw, sh, sw, 1, 1, padding), (ph, pw), (sh, sw))
            den = F_.avg_pool2d(nhwc_pad(ones, ph, pw, sh, sw, 1, 1, padding), (ph, pw), (sh, sw))
            y = num / den
        else:
            y = xn.mean(dim=(2, 3), keepdim=True)
        y = y.permute(0, 2, 3, 1)
        if pool == "global_avg":
            y = y.reshape(n, c)
        r = randn(g, *y.shape)
        (y * r).sum().backward()
        cases.append({
            "name": name, "kind": "pool2d", "pool": pool,
            "note": "NHWC; Keras/TensorFlow same padding; max ignores padding, avg excludes it from the count; loss = sum(y*r).",
            "x": T(x), "r": T(r), "y": T(y), "dx": T(xv.grad),
            "pool_size": T(torch.tensor([ph, pw])), "strides": T(torch.tensor([sh, sw])), "padding": padding,
        })
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "..", "testdata", "golden"))
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    write(out, "batchnorm", batchnorm_cases())
    write(out, "softmax_ce", softmax_ce_cases())
    write(out, "optimizers", optimizer_cases())
    write(out, "dense", dense_cases())
    write(out, "optimizers2", optimizer2_cases())
    write(out, "losses2", loss2_cases())
    write(out, "norm", norm_cases())
    write(out, "regularizers", regularizer_cases())
    write(out, "conv2d", conv2d_cases() + pool2d_cases())


if __name__ == "__main__":
    main()
