"""Time cnnlib's conv and pool kernels (forward + backward), against PyTorch.

Run from the repository root::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_kernels.py
    .venv/bin/python benchmarks/bench_kernels.py --threads 2 --repeats 9

Batch 64, float32. Each timing is the median over ``--repeats`` rounds of a
loop of ``--loops`` forward+backward steps; cnnlib and torch rounds
alternate, so a busy machine slows both alike. The ratio column is cnnlib
time / torch time (below 1: cnnlib is faster). Torch columns are skipped
when torch is not installed; pool rows when cnnlib.pool is missing.
"""

from kernel_args import blas_text, parse_args, torch_text

ARGS, THREADS = parse_args(__doc__, repeats=7, loops=5)

import time  # noqa: E402

import numpy as np  # noqa: E402

from cnnlib.conv import (  # noqa: E402
    conv2d_backward,
    conv2d_backward_naive,
    conv2d_forward,
    conv2d_forward_naive,
)

try:
    from cnnlib import pool
except ImportError:
    pool = None
try:
    import torch
    import torch.nn.functional as TF

    torch.set_num_threads(THREADS)
except ImportError:
    torch = None

# (name, C, F, K, H, padding): the LeNet-style and VGG-style layers.
CONV_LAYERS = [
    ("conv 1->6 5x5 28x28 p2", 1, 6, 5, 28, 2),
    ("conv 6->16 5x5 14x14", 6, 16, 5, 14, 0),
    ("conv 1->32 3x3 28x28 p1", 1, 32, 3, 28, 1),
    ("conv 32->64 3x3 14x14 p1", 32, 64, 3, 14, 1),
]
POOL_SHAPES = [(6, 28), (32, 28)]


def median_time(step, repeats, loops):
    """Median seconds per call of ``step()`` over ``repeats`` rounds."""
    step()  # warm-up: allocations, lazy imports
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(loops):
            step()
        times.append((time.perf_counter() - t0) / loops)
    return float(np.median(times))


def interleaved(steps, repeats, loops):
    """Median wall and CPU seconds per call of each step function.

    Rounds of the steps alternate. CPU time (this process only) is much
    less disturbed than wall time when other programs share the cores.
    """
    for step in steps:
        step()
    wall = [[] for _ in steps]
    cpu = [[] for _ in steps]
    for _ in range(repeats):
        for i, step in enumerate(steps):
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(loops):
                step()
            wall[i].append((time.perf_counter() - t0) / loops)
            cpu[i].append((time.process_time() - c0) / loops)
    return ([float(np.median(t)) for t in wall],
            [float(np.median(t)) for t in cpu])


def conv_steps(C, F, K, H, padding, batch, rng, need_dx=True):
    x = rng.standard_normal((batch, C, H, H)).astype(np.float32)
    w = (rng.standard_normal((F, C, K, K)) * 0.1).astype(np.float32)
    b = np.zeros(F, dtype=np.float32)
    out, _ = conv2d_forward(x, w, b, padding=padding)
    dout = rng.standard_normal(out.shape).astype(np.float32)

    def ours():
        _, cache = conv2d_forward(x, w, b, padding=padding)
        return conv2d_backward(dout, cache, need_dx=need_dx)

    steps = [ours]
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(need_dx)
        tw = torch.from_numpy(w).requires_grad_()
        tb = torch.from_numpy(b).requires_grad_()
        tdout = torch.from_numpy(dout)
        wrt = (tx, tw, tb) if need_dx else (tw, tb)

        def theirs():
            o = TF.conv2d(tx, tw, tb, padding=padding)
            return torch.autograd.grad(o, wrt, tdout)

        steps.append(theirs)
    return steps


def pool_steps(kind, C, H, batch, rng):
    x = rng.standard_normal((batch, C, H, H)).astype(np.float32)
    fwd = getattr(pool, f"{kind}pool2d_forward")
    bwd = getattr(pool, f"{kind}pool2d_backward")
    out, _ = fwd(x, 2)
    dout = rng.standard_normal(out.shape).astype(np.float32)

    def ours():
        _, cache = fwd(x, 2)
        return bwd(dout, cache)

    steps = [ours]
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_()
        tdout = torch.from_numpy(dout)
        tfwd = TF.max_pool2d if kind == "max" else TF.avg_pool2d

        def theirs():
            return torch.autograd.grad(tfwd(tx, 2), (tx,), tdout)

        steps.append(theirs)
    return steps


def naive_speedup(rng):
    """Loops vs vectorised on a small batch: N=2, 1->4 3x3 on 28x28."""
    x = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    w = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    b = np.zeros(4, dtype=np.float32)
    dout = np.ones((2, 4, 26, 26), dtype=np.float32)

    def naive():
        return conv2d_backward_naive(dout, conv2d_forward_naive(x, w, b)[1])

    def fast():
        return conv2d_backward(dout, conv2d_forward(x, w, b)[1])

    return median_time(naive, 3, 1), median_time(fast, 7, 20)


def main():
    rng = np.random.default_rng(0)
    batch, reps, loops = ARGS.batch, ARGS.repeats, ARGS.loops
    print(f"numpy {np.__version__}, torch "
          f"{torch.__version__ if torch else 'not installed'}, "
          f"threads {THREADS}, batch {batch}, float32, fwd+bwd, "
          f"median of {reps} x {loops}")
    print(f"NumPy's BLAS: {blas_text()}; heap: {ARGS.heap}")
    if torch is not None:
        print(torch_text(torch))
    head = f"{'kernel':30s} {'cnnlib ms':>10s} {'cpu ms':>8s}"
    if torch is not None:
        head += (f" {'torch ms':>9s} {'cpu ms':>8s} {'ratio':>6s}"
                 f" {'cpu ratio':>9s}")
    print(head)
    print("-" * len(head))
    rows = []
    for name, C, F, K, H, p in CONV_LAYERS:
        rows.append((name, conv_steps(C, F, K, H, p, batch, rng)))
    for name, C, F, K, H, p in CONV_LAYERS:
        if C == 1:  # a first layer: no gradient for the images needed
            rows.append((name.replace("conv", "no dx"),
                         conv_steps(C, F, K, H, p, batch, rng, need_dx=False)))
    if pool is None:
        print("(cnnlib.pool not importable: pool rows skipped)")
    else:
        for C, H in POOL_SHAPES:
            for kind in ("max", "avg"):
                rows.append((f"{kind}pool 2x2 ({batch},{C},{H},{H})",
                             pool_steps(kind, C, H, batch, rng)))
        # LeNet's second pool (its input comes from the 6->16 conv).
        rows.append((f"maxpool 2x2 ({batch},16,10,10)",
                     pool_steps("max", 16, 10, batch, rng)))
    for name, steps in rows:
        wall, cpu = interleaved(steps, reps, loops)
        line = f"{name:30s} {wall[0] * 1e3:10.2f} {cpu[0] * 1e3:8.2f}"
        if len(wall) == 2:
            line += (f" {wall[1] * 1e3:9.2f} {cpu[1] * 1e3:8.2f}"
                     f" {wall[0] / wall[1]:6.2f} {cpu[0] / cpu[1]:9.2f}")
        print(line, flush=True)
    t_naive, t_fast = naive_speedup(rng)
    print(f"\nnaive vs fast, N=2, conv 1->4 3x3 on 28x28, fwd+bwd: "
          f"naive {t_naive * 1e3:.1f} ms, fast {t_fast * 1e3:.3f} ms, "
          f"speed-up {t_naive / t_fast:.0f}x")


if __name__ == "__main__":
    main()
