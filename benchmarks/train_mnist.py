"""Benchmark: training LeNet-5 on MNIST with cnnlib, against PyTorch on the CPU.

Measures (never asserts), each in a fresh subprocess so thread settings
and peak memory are clean:

1. step time (forward + backward + Adam step, LeNet-5, batch 64, float32:
   `cnnlib.train.train_step`) for cnnlib and torch at 1 and 2 threads
   (``OPENBLAS_NUM_THREADS`` for NumPy, ``torch.set_num_threads``),
   interleaved, ``--repeats`` rounds, medians of wall-clock and CPU time
   and of the per-round ratios;
2. full MNIST (``--data-dir``, the four IDX files): LeNet-5, batch 64,
   float32, Adam with a cosine schedule, at each of ``--train-threads``:
   test accuracy, training time, peak RSS (as ``/usr/bin/time -v`` reports
   it: the child's ``ru_maxrss``) and inference speed on the 10,000 test
   images;
3. the shipped 4,000/1,000 subset with the notebook model.

Usage::

    .venv/bin/python benchmarks/train_mnist.py
    .venv/bin/python benchmarks/train_mnist.py --only steps --repeats 7
    .venv/bin/python benchmarks/train_mnist.py --only full --train-threads 1,2

torch rows are skipped when torch is not installed (it is only a benchmark
dependency: ``pip install torch``, CPU build).

Measured 2026-12-05 on the 2-vCPU development machine (AMD EPYC, shared by
eight engineers' jobs; numpy 2.4 OpenBLAS, torch 2.13.0+cpu), load average
in brackets:

- step, median [range] of per-round ratios to torch:
  quiet (1.1), 7 rounds: 1 thread: cnnlib 4.83 ms, torch 4.62 ms, 1.09x
  [0.96, 1.13]. A second run of 5 rounds (1.8-2.6): 1 thread 4.77 vs
  4.09 ms, 1.17x [1.13, 1.20]; 2 threads: cnnlib 4.85 ms wall and 9.66 ms
  CPU (no gain: the second thread only waits), torch 3.11 ms, 1.58x.
  Busy (7-13), 7 rounds: 1 thread 33 vs 27 ms wall but 6.14 vs 6.05 ms
  CPU; 2 threads 422 ms vs 538 ms wall (both libraries' threads wait for
  cores that other jobs hold).
  The cnnlib child with the code before the plain-loop rewrite (one
  process through cnnlib.parallel), interleaved with this one, 3 rounds:
  4.75-4.91 ms before, 4.80-5.05 ms now (the finiteness checks of the
  gradients and weights; within run-to-run noise).
- full MNIST, 8 epochs, random_affine, seed 0: 1 thread 99.23% in 41.5 s
  (1.5; 464 s wall, 51 s CPU when busy at 12); 2 threads 99.13% in 138 s
  wall, 177 s CPU (2.5; 757 s wall, 331 s CPU at 5-18). Peak RSS
  301-316 MiB.
- inference: 28,000-29,000 test images/s on a quiet machine.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = next((p for p in (ROOT.parent / "shared" / "data" / "mnist",
                                 Path("/work/shared/data/mnist"))
                     if p.is_dir()), None)


# ---------------------------------------------------------------- children


def _lenet_torch():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def child_steps(lib, steps, batch):
    """Time ``steps`` training steps on random data; print JSON."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 4096)
    order = [rng.permutation(4096)[:batch] for _ in range(steps)]
    if lib == "torch":
        import torch

        torch.set_num_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))
        model = _lenet_torch()
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

        def step(i):
            opt.zero_grad()
            loss_fn(model(Xt[i]), yt[i]).backward()
            opt.step()

        order = [torch.from_numpy(i) for i in order]
    else:
        from cnnlib.model import lenet5
        from cnnlib.optim import Adam
        from cnnlib.train import train_step

        model, opt = lenet5(), Adam(1e-3)

        def step(i):  # exactly what fit runs for every batch
            train_step(model, X[i], y[i], opt)

    def cpu_time():
        return time.process_time()

    for i in order[:20]:  # warm-up: allocator, BLAS buffers
        step(i)
    wall, cpu = time.perf_counter(), cpu_time()
    for i in order:
        step(i)
    wall, cpu = time.perf_counter() - wall, cpu_time() - cpu
    print(json.dumps({"wall_ms": wall / steps * 1e3, "cpu_ms": cpu / steps * 1e3}))


def child_train(source, model_name, epochs, lr, batch, seed, augment):
    """Train, evaluate, time inference; print JSON."""
    import numpy as np

    from cnnlib.augment import random_affine
    from cnnlib.data import load_mnist
    from cnnlib.model import lenet5, tiny_cnn
    from cnnlib.optim import Adam, cosine
    from cnnlib.train import evaluate, fit, predict

    t0 = time.perf_counter()
    X, y = load_mnist(source, "train", dtype=np.float32, normalize=True)
    Xt, yt = load_mnist(source, "test", dtype=np.float32, normalize=True)
    load_s = time.perf_counter() - t0
    model = {"lenet5": lenet5, "tiny": tiny_cnn}[model_name](seed=seed)
    cpu = time.process_time()
    hist = fit(model, X, y, epochs=epochs, batch_size=batch, optimizer=Adam(lr),
               lr_schedule=cosine(lr, epochs), seed=seed, progress=False,
               augment=random_affine() if augment else None)
    cpu = time.process_time() - cpu
    _, acc = evaluate(model, Xt, yt)
    times, cpus = [], []
    for _ in range(3):
        t, c = time.perf_counter(), time.process_time()
        predict(model, Xt)
        times.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    print(json.dumps({
        "test_acc": acc, "train_s": sum(hist["time"]), "train_cpu_s": cpu,
        "epoch_s": hist["time"], "train_acc": hist["train_acc"][-1],
        "load_s": load_s, "infer_per_s": len(Xt) / statistics.median(times),
        "infer_per_cpu_s": len(Xt) / statistics.median(cpus),
        "n_train": len(X), "n_test": len(Xt)}))


# ---------------------------------------------------------------- parent


def run_child(args, threads):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads),
               OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([sys.executable, __file__, "--child", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # ru_maxrss of children is the largest so far (KiB on Linux): exact for a
    # child that peaks above all earlier ones, as the full run does.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result["peak_rss_mib"] = peak / 1024 if peak > before else None
    return result


def bench_steps(repeats, steps, threads_list):
    """Step time, cnnlib vs torch, at each thread count.

    A round runs every (threads, library) child once, back to back, so the
    two libraries see the same machine state; the ratio is taken within
    each round and the table gives its median and range over the rounds.
    On a shared virtual machine (steal time) the level moves by 10-20%
    between rounds while the paired ratio moves much less.
    """
    try:
        import torch  # noqa: F401

        libs = ["cnnlib", "torch"]
    except ImportError:
        libs = ["cnnlib"]
        print("torch not installed: torch rows skipped")
    print(f"\n== step time: LeNet-5, batch 64, float32, {steps} steps, "
          f"{repeats} rounds (each runs every row once, interleaved) ==")
    res = {(t, lib): [] for t in threads_list for lib in libs}
    for _ in range(repeats):
        for t in threads_list:
            for lib in libs:
                res[t, lib].append(run_child(["steps", lib, str(steps)], t))
    print(f"{'threads':>7}  {'library':8} {'wall ms':>8} {'cpu ms':>8}   "
          f"wall x torch: median [min, max] of per-round ratios")
    for t in threads_list:
        for lib in libs:
            rows = res[t, lib]
            wall = statistics.median(r["wall_ms"] for r in rows)
            cpu = statistics.median(r["cpu_ms"] for r in rows)
            ratio = ""
            if "torch" in libs:
                rs = [a["wall_ms"] / b["wall_ms"]
                      for a, b in zip(rows, res[t, "torch"], strict=True)]
                ratio = (f"{statistics.median(rs):.2f} "
                         f"[{min(rs):.2f}, {max(rs):.2f}]")
            print(f"{t:>7}  {lib:8} {wall:8.2f} {cpu:8.2f}   {ratio}",
                  flush=True)


def bench_train(source, label, model, epochs, lr, seed, augment, threads):
    r = run_child(["train", str(source), model, str(epochs), str(lr), "64",
                   str(seed), str(int(augment))], threads)
    rss = f"{r['peak_rss_mib']:.0f} MiB" if r["peak_rss_mib"] else "n/a"
    print(f"{label}: {model}, {r['n_train']:,} train / {r['n_test']:,} test, "
          f"{epochs} epochs, Adam lr {lr} cosine, seed {seed}"
          f"{', random_affine' if augment else ''}, {threads} BLAS thread(s): "
          f"test accuracy {r['test_acc']:.2%} (train {r['train_acc']:.2%}); "
          f"training {r['train_s']:.1f} s wall, {r['train_cpu_s']:.1f} s CPU; "
          f"inference {r['infer_per_s']:,.0f} images/s wall, "
          f"{r['infer_per_cpu_s']:,.0f} per CPU-second; peak RSS {rss}; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=DEFAULT_DATA, type=Path)
    p.add_argument("--only", choices=["steps", "full", "subset"], action="append")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--full-augment", type=int, default=1, choices=[0, 1])
    p.add_argument("--subset-model", default="lenet5", choices=["lenet5", "tiny"])
    p.add_argument("--subset-epochs", type=int, default=20)
    p.add_argument("--subset-lr", type=float, default=3e-3)
    p.add_argument("--subset-augment", type=int, default=1, choices=[0, 1])
    p.add_argument("--seeds", default="0")
    p.add_argument("--train-threads", default="1",
                   help="comma-separated BLAS thread counts for the training "
                        "runs")
    args = p.parse_args()
    parts = args.only or ["steps", "full", "subset"]
    threads = [int(t) for t in args.threads.split(",")]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f} (the machine may be shared: "
          f"CPU times are less affected than wall times)")
    if "steps" in parts:
        bench_steps(args.repeats, args.steps, threads)
    seeds = [int(s) for s in args.seeds.split(",")]
    train_threads = [int(t) for t in args.train_threads.split(",")]
    if "full" in parts:
        if args.data_dir is None or not Path(args.data_dir).is_dir():
            print("\nfull MNIST skipped: no --data-dir")
        else:
            print("\n== full MNIST ==")
            for seed in seeds:
                for t in train_threads:
                    bench_train(args.data_dir, "full", "lenet5", args.epochs,
                                args.lr, seed, bool(args.full_augment), t)
    if "subset" in parts:
        print("\n== shipped subset ==")
        for seed in seeds:
            for t in train_threads:
                bench_train("subset", "subset", args.subset_model,
                            args.subset_epochs, args.subset_lr, seed,
                            bool(args.subset_augment), t)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "steps":
            child_steps(rest[0], int(rest[1]), 64)
        else:
            src, name, ep, lr, batch, seed, aug = rest
            child_train(src, name, int(ep), float(lr), int(batch), int(seed),
                        bool(int(aug)))
    else:
        main()
