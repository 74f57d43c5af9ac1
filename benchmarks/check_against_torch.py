#!/usr/bin/env python3
"""cnnlib's conv and pool kernels against PyTorch's, on random configurations.

    pip install torch==2.13.0          # benchmarks only, never a course need
    python benchmarks/check_against_torch.py [--trials 200]

A fourth, optional check on top of the test suite's three (loop versions,
numerical gradients, SciPy): forward and backward in float64 against
``torch.nn.functional`` over random shapes, strides, paddings, dilations,
overlapping pools and tied maxima (both libraries send a tied max's gradient
to the first maximum). Prints the largest relative error per operation and
exits 1 if any exceeds 1e-10. It lives here, not in tests/, because torch is
not a dependency of the course.
"""

import argparse
import sys

import numpy as np

from cnnlib.conv import conv2d_backward, conv2d_forward
from cnnlib.gradcheck import rel_error
from cnnlib.pool import (
    avgpool2d_backward,
    avgpool2d_forward,
    maxpool2d_backward,
    maxpool2d_forward,
)

TOLERANCE = 1e-10


def conv_case(rng, torch, F):
    n, c, f = rng.integers(1, 4, size=3)
    kh, kw = rng.integers(1, 5, size=2)
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    pad = tuple(int(p) for p in rng.integers(0, 3, size=2))
    dil = tuple(int(d) for d in rng.integers(1, 3, size=2))
    h = int(dil[0] * (kh - 1) + 1 + rng.integers(0, 6))
    w = int(dil[1] * (kw - 1) + 1 + rng.integers(0, 6))
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((f, c, kh, kw))
    b = rng.standard_normal(f)
    out, cache = conv2d_forward(x, wt, b, stride, pad, dil)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
    tout = F.conv2d(tx, tw, tb, stride=stride, padding=pad, dilation=dil)
    tout.backward(torch.tensor(dout))
    pairs = [(out, tout), (dx, tx.grad), (dw, tw.grad), (db, tb.grad)]
    return max(rel_error(a, t.detach().numpy()) for a, t in pairs)


def pool_case(rng, torch, F, kind):
    n, c = rng.integers(1, 4, size=2)
    size = tuple(int(s) for s in rng.integers(1, 4, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    pad = tuple(int(rng.integers(0, k // 2 + 1)) for k in size)
    h, w = (int(k + rng.integers(0, 6)) for k in size)
    if rng.random() < 0.5:  # many ties: small integers
        x = rng.integers(0, 3, size=(n, c, h, w)).astype(np.float64)
    else:
        x = rng.standard_normal((n, c, h, w))
    fwd, bwd, tfn = ((maxpool2d_forward, maxpool2d_backward, F.max_pool2d)
                     if kind == "max" else
                     (avgpool2d_forward, avgpool2d_backward, F.avg_pool2d))
    out, cache = fwd(x, size, stride, pad)
    dout = rng.standard_normal(out.shape)
    dx = bwd(dout, cache)
    tx = torch.tensor(x, requires_grad=True)
    tout = tfn(tx, size, stride, pad)
    tout.backward(torch.tensor(dout))
    return max(rel_error(out, tout.detach().numpy()),
               rel_error(dx, tx.grad.numpy()))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        print("torch is not installed: pip install torch==2.13.0")
        return 2
    rng = np.random.default_rng(args.seed)
    worst = {"conv2d": 0.0, "max pool": 0.0, "avg pool": 0.0}
    for _ in range(args.trials):
        worst["conv2d"] = max(worst["conv2d"], conv_case(rng, torch, F))
        worst["max pool"] = max(worst["max pool"], pool_case(rng, torch, F, "max"))
        worst["avg pool"] = max(worst["avg pool"], pool_case(rng, torch, F, "avg"))
    print(f"torch {torch.__version__}, {args.trials} random configurations each")
    for name, err in worst.items():
        verdict = "ok" if err < TOLERANCE else "MISMATCH"
        print(f"{name:9s} largest rel_error {err:.1e}  {verdict}")
    return 0 if max(worst.values()) < TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
