"""The command line: ``python -m cnnlib.train`` trains a CNN on MNIST.

``--help`` lists the options; ``--data-dir DIR`` uses the full MNIST IDX
files instead of the shipped digits. Bad arguments or data give a one-line
error on stderr and exit status 2.
"""

import argparse
import math
import os
import sys

import numpy as np

from .augment import random_affine
from .checkpoint import is_checkpoint, save
from .data import load_mnist
from .model import lenet5, tiny_cnn
from .optim import Adam, cosine
from .train import evaluate, fit

__all__ = ["main"]

MODELS = {"lenet5": lenet5, "tiny": tiny_cnn}


class _Parser(argparse.ArgumentParser):
    """argparse, but every error is one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _parser():
    p = _Parser(prog="python -m cnnlib.train",
                description="Train a CNN on MNIST and print its test accuracy.")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the four MNIST IDX files (default: "
                        "the 5,000 digits shipped in data/)")
    p.add_argument("--model", choices=list(MODELS), default="lenet5")
    p.add_argument("--epochs", type=_arg(int),
                   help="default 20 on the shipped digits, 8 on full MNIST")
    p.add_argument("--batch-size", type=_arg(int), default=64)
    p.add_argument("--lr", type=_arg(float),
                   help="peak learning rate of Adam, which decays along a "
                        "cosine (default 3e-3 shipped, 2e-3 full)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction,
                   default=True, help="random_affine on the training digits "
                                      "(default: on)")
    p.add_argument("--seed", type=_arg(int, positive=False), default=0)
    p.add_argument("--workers", type=_arg(int), default=1,
                   help="worker processes, one core each, that split every "
                        "batch (default 1: train in this process)")
    p.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars")
    return p


def _arg(kind, positive=True):
    """An argparse type: a finite int/float, > 0 (or >= 0 if not positive)."""
    rule = "a positive" if positive else "a non-negative"

    def convert(text):
        try:
            v = kind(text)
        except ValueError:
            v = None
        if v is None or not math.isfinite(v) or v < 0 or (positive and v == 0):
            raise argparse.ArgumentTypeError(
                f"must be {rule} {kind.__name__}, got {text!r}")
        return v

    return convert


def main(argv=None):
    """Entry point of ``python -m cnnlib.train``; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    source = "subset" if args.data_dir is None else args.data_dir
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        parser.error(f"--data-dir: {args.data_dir} is not a directory")
    if args.save:
        folder = os.path.dirname(os.path.abspath(args.save))
        if not os.path.isdir(folder):
            parser.error(f"--save: directory {folder} does not exist")
        if os.path.exists(args.save) and not is_checkpoint(args.save):
            parser.error(f"--save: {args.save} exists and is not a cnnlib "
                         f"checkpoint; not overwriting it")
    try:
        X, y = load_mnist(source, "train", dtype=np.float32, normalize=True)
        Xt, yt = load_mnist(source, "test", dtype=np.float32, normalize=True)
    except (OSError, ValueError) as err:
        parser.error(" ".join(str(err).split()))
    # Defaults measured in benchmarks/train_mnist.py: 97.6-98.0% on the
    # shipped digits in ~15 s of CPU, 99.2-99.4% on full MNIST in ~80 s.
    small = source == "subset"
    epochs = args.epochs or (20 if small else 8)
    lr = args.lr or (3e-3 if small else 2e-3)
    augment = args.augment
    model = MODELS[args.model](seed=args.seed)
    print(f"{args.model}: {model.num_params():,} parameters; {len(X):,} "
          f"training and {len(Xt):,} test digits; {epochs} epochs, Adam lr {lr}"
          f"{', augmented' if augment else ''}", flush=True)
    try:
        history = fit(model, X, y, epochs=epochs, batch_size=args.batch_size,
                      optimizer=Adam(lr), seed=args.seed,
                      lr_schedule=cosine(lr, epochs),
                      augment=random_affine() if augment else None,
                      progress=not args.no_progress, workers=args.workers)
    except KeyboardInterrupt:
        print(f"{parser.prog}: interrupted", file=sys.stderr)
        return 130
    _, acc = evaluate(model, Xt, yt)
    print(f"test accuracy: {acc:.2%} ({len(Xt):,} digits); training took "
          f"{sum(history['time']):.1f} s")
    if args.save:
        try:
            save(model, args.save)
        except (OSError, ValueError) as err:
            print(f"{parser.prog}: error: {err}", file=sys.stderr)
            return 1
        print(f"saved {args.save}")
    return 0
