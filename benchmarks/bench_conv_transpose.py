"""Time cnnlib's transposed convolution (forward + backward) against PyTorch.

Run from the repository root::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_conv_transpose.py
    .venv/bin/python benchmarks/bench_conv_transpose.py --repeats 15 --isa avx2

The layers are the decoder layers of notebook 08's autoencoder (and two
harder ones), batch 64, float32, with every gradient (dx, dw, db) as in
training. Each figure is the median over ``--repeats`` paired rounds of
``--loops`` steps: a cnnlib round and a torch round alternate, and the ratio
is taken per round before the median, so a busy machine slows both alike.
The ratio column is cnnlib time / torch time (below 1: cnnlib is faster).
Needs torch for the comparison (``.venv/bin/pip install torch==2.13.0``);
without it only cnnlib's times are printed. The first lines say which
vector kernels each library ran (``--isa``) and how the heap was set
(``--default-heap``); both are explained in `kernel_args`.

Measured 2026-12-05 on the 2-vCPU build machine (AMD EPYC, AVX-512), quiet,
torch 2.13.0 CPU, one thread, ``--repeats 15``; ratio cnnlib / torch as
the script prints it (the geometric mean from unrounded ratios). "as set":
each library with the machine's settings. The machine's environment sets
``OPENBLAS_CORETYPE=Haswell``, which gives NumPy 256-bit (AVX2) kernels
while torch uses 512-bit ones; ``--isa`` gives both libraries the same::

    layer                       as set   --isa avx2   --isa avx512
    decoder 1: 32->16, 7->14     1.21       1.03          1.15
    decoder 2: 16->1, 14->28     0.59       0.46          0.53
    wider: 64->32, 14->28        2.04       1.34          1.51
    4x4 kernel: 32->16, 7->14    1.59       1.12          1.18
    geometric mean               1.24       0.92          1.02

    cnnlib ms (torch ms), --isa avx512: decoder 1 1.04 (0.91), decoder 2
    0.55 (1.03), wider 14.3 (9.6), 4x4 1.57 (1.34)

With the same vector instructions, both autoencoder layers are within the
1.2x target, and so is the 4x4 kernel; the wider layer is not.

Before this round of work (commit 3d9bdff, measured the same day, same
three columns): decoder 1 1.62 / 1.14 / 1.27, 4x4 kernel 1.82 / 1.26 /
1.36. What changed: the forward pass paints with the batch innermost
(`cnnlib.conv.paint_back`), so each add moves runs of N*C numbers instead
of C; the backward no longer repeats the forward's checks.

Where the wider layer's time goes (``--isa avx512``): its three matrix
products (forward, dx, dw) of 460 MFLOP each take about 8 ms when timed
alone, against torch's whole 9.6 ms. The rest is the im2col copy of dout
and the strided adds; oneDNN convolves directly and needs neither.

With ``--default-heap``, glibc gave memory back to the system between
steps, and decoder 1 took 2.8-3.2 ms instead of 1.0-1.5 (see `kernel_args`).
"""

from kernel_args import blas_text, parse_args, torch_text

ARGS, THREADS = parse_args(__doc__, repeats=9, loops=10)

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from cnnlib.conv_transpose import (  # noqa: E402
    conv_transpose2d_backward,
    conv_transpose2d_forward,
)

try:
    import torch
    import torch.nn.functional as TF

    torch.set_num_threads(THREADS)
except ImportError:
    torch = None

# (name, C_in, F, H_in, kernel, stride, padding, output_padding)
LAYERS = [
    ("decoder 1: 32->16, 7->14", 32, 16, 7, 3, 2, 1, 1),
    ("decoder 2: 16->1, 14->28", 16, 1, 14, 3, 2, 1, 1),
    ("wider: 64->32, 14->28", 64, 32, 14, 3, 2, 1, 1),
    ("4x4 kernel: 32->16, 7->14", 32, 16, 7, 4, 2, 1, 0),
]


def cnnlib_step(x, w, b, cfg, dout):
    out, cache = conv_transpose2d_forward(x, w, b, **cfg)
    return conv_transpose2d_backward(dout, cache)


def torch_step(x, w, b, cfg, dout):
    for t in (x, w, b):
        t.grad = None
    out = TF.conv_transpose2d(x, w, b, **cfg)
    out.backward(dout)


def timed(step, args, loops):
    t0 = time.perf_counter()
    for _ in range(loops):
        step(*args)
    return (time.perf_counter() - t0) / loops


def main():
    rng = np.random.default_rng(0)
    print(f"batch {ARGS.batch}, float32, {THREADS} thread(s); median of "
          f"{ARGS.repeats} paired rounds of {ARGS.loops} forward+backward steps")
    print(f"NumPy's BLAS: {blas_text()}; heap: {ARGS.heap}")
    if torch is not None:
        print(torch_text(torch))
    print(f"{'layer':28s} {'cnnlib ms':>10s} {'torch ms':>10s} {'ratio':>7s}")
    ratios = []
    for name, C, F, H, k, s, p, op in LAYERS:
        cfg = dict(stride=s, padding=p, output_padding=op)
        x = rng.standard_normal((ARGS.batch, C, H, H)).astype(np.float32)
        w = (rng.standard_normal((C, F, k, k)) * 0.1).astype(np.float32)
        b = np.zeros(F, np.float32)
        out, _ = conv_transpose2d_forward(x, w, b, **cfg)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        ours = (x, w, b, cfg, dout)
        if torch is not None:
            theirs = tuple(torch.tensor(a, requires_grad=True) for a in (x, w, b))
            theirs += (cfg, torch.tensor(dout))
            timed(torch_step, theirs, 2)
        timed(cnnlib_step, ours, 2)  # warm up
        mine, base, pair = [], [], []
        for _ in range(ARGS.repeats):
            mine.append(timed(cnnlib_step, ours, ARGS.loops))
            if torch is not None:
                base.append(timed(torch_step, theirs, ARGS.loops))
                pair.append(mine[-1] / base[-1])
        row = f"{name:28s} {1e3 * statistics.median(mine):10.2f}"
        if torch is not None:
            ratios.append(statistics.median(pair))
            row += f" {1e3 * statistics.median(base):10.2f} {ratios[-1]:7.2f}"
        print(row)
    if ratios:
        geo = float(np.exp(np.mean(np.log(ratios))))
        print(f"{'geometric mean ratio':28s} {'':10s} {'':10s} {geo:7.2f}")


if __name__ == "__main__":
    main()
