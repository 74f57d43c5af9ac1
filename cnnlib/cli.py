"""The command line: ``python -m cnnlib.train`` trains a CNN on MNIST.

``--help`` lists the options; ``--data-dir DIR`` uses the full MNIST IDX
files instead of the shipped digits. Bad arguments or data, and a run that
diverges, give a one-line error on stderr and exit status 2. Ctrl-C stops
training; with ``--save`` the model trained so far is saved, and the exit
status is 130.
"""

import argparse
import os
import signal
import sys
import threading

import numpy as np

from .augment import random_affine
from .callbacks import Callback
from .checkpoint import check_save_path, save
from .data import load_mnist
from .model import lenet5, tiny_cnn
from .optim import Adam, cosine
from .shapes import check_number, check_positive_int
from .train import TrainingDiverged, evaluate, fit

__all__ = ["main"]

MODELS = {"lenet5": lenet5, "tiny": tiny_cnn}
IMAGE_SHAPE, CLASSES = (1, 28, 28), 10  # what both models take and give


class _Parser(argparse.ArgumentParser):
    """argparse, but every error is one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {' '.join(str(message).split())}\n")


def _arg(kind, check, **limits):
    """An argparse type: ``kind(text)``, then a `cnnlib.shapes` check."""

    def convert(text):
        value = kind(text)  # a ValueError: argparse says "invalid int value"
        try:
            return kind(check(value, "value", "arg", **limits))
        except ValueError as err:  # "arg: value must be ..." -> "must be ..."
            raise argparse.ArgumentTypeError(
                str(err).partition("arg: value ")[2]) from None

    convert.__name__ = kind.__name__
    return convert


def _parser():
    p = _Parser(prog="python -m cnnlib.train",
                description="Train a CNN on MNIST and print its test accuracy.")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder with the four MNIST IDX files (default: "
                        "the 5,000 digits shipped in data/)")
    p.add_argument("--model", choices=list(MODELS), default="lenet5")
    p.add_argument("--epochs", type=_arg(int, check_positive_int),
                   help="default 20 on the shipped digits, 8 on full MNIST")
    p.add_argument("--batch-size", type=_arg(int, check_positive_int), default=64)
    p.add_argument("--lr", type=_arg(float, check_number, low_open=True),
                   help="peak learning rate of Adam, which decays along a "
                        "cosine (default 3e-3 shipped, 2e-3 full)")
    p.add_argument("--augment", action=argparse.BooleanOptionalAction,
                   default=True, help="random_affine on the training digits "
                                      "(default: on)")
    p.add_argument("--seed", type=_arg(int, check_number, low=0), default=0)
    p.add_argument("--save", metavar="PATH", help="write a checkpoint (.npz)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars")
    return p


class _StepCounter(Callback):
    """Counts finished steps, so an interrupted run can say what it saved."""

    steps = epochs = 0

    def on_batch_end(self, step, logs):
        self.steps = step

    def on_epoch_end(self, epoch, logs):
        self.epochs = epoch + 1


def _load(parser, source):
    """Training and test digits, refused in one line if a model cannot use them."""
    try:
        X, y = load_mnist(source, "train", dtype=np.float32, normalize=True)
        Xt, yt = load_mnist(source, "test", dtype=np.float32, normalize=True)
    except (OSError, ValueError) as err:
        parser.error(err)
    for split, images, labels in (("training", X, y), ("test", Xt, yt)):
        if images.shape[1:] != IMAGE_SHAPE or len(images) == 0:
            parser.error(f"--data-dir: the {split} images have shape "
                         f"{images.shape}; the models need at least one image "
                         f"of shape {IMAGE_SHAPE}")
        if labels.min() < 0 or labels.max() >= CLASSES:
            parser.error(f"--data-dir: the {split} labels go from "
                         f"{labels.min()} to {labels.max()}; the models need "
                         f"digits 0-{CLASSES - 1}")
    return X, y, Xt, yt


def _save_now(model, path, prog):
    """Save, with Ctrl-C held off until the file is complete; True if saved."""
    hold = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if hold else None
    try:
        save(model, path)
        return True
    except (OSError, ValueError, TypeError) as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return False
    finally:
        if hold and previous is not None:
            signal.signal(signal.SIGINT, previous)


def main(argv=None):
    """Entry point of ``python -m cnnlib.train``; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    prog = parser.prog
    source = "subset" if args.data_dir is None else args.data_dir
    if args.data_dir is not None and not os.path.isdir(args.data_dir):
        parser.error(f"--data-dir: {args.data_dir} is not a directory")
    if args.save:
        try:  # before training: a model must not be trained for nothing
            check_save_path(args.save)
        except (OSError, ValueError, TypeError) as err:
            parser.error(f"--save: {err}")
    model, counter, phase = None, _StepCounter(), "before training"
    try:
        X, y, Xt, yt = _load(parser, source)
        # Defaults measured in benchmarks/train_mnist.py: 97.6-98.0% on the
        # shipped digits in ~15 s of CPU, 99.1-99.4% on full MNIST in 40-80 s.
        small = source == "subset"
        epochs = args.epochs or (20 if small else 8)
        lr = args.lr or (3e-3 if small else 2e-3)
        model = MODELS[args.model](seed=args.seed)
        print(f"{args.model}: {model.num_params():,} parameters; {len(X):,} "
              f"training and {len(Xt):,} test digits; {epochs} epochs, Adam lr "
              f"{lr}{', augmented' if args.augment else ''}", flush=True)
        phase = "during training"
        history = fit(model, X, y, epochs=epochs, batch_size=args.batch_size,
                      optimizer=Adam(lr), seed=args.seed,
                      lr_schedule=cosine(lr, epochs),
                      augment=random_affine() if args.augment else None,
                      progress=not args.no_progress, callbacks=[counter])
        phase = "during the final evaluation"
        _, acc = evaluate(model, Xt, yt)
        print(f"test accuracy: {acc:.2%} ({len(Xt):,} digits); training took "
              f"{sum(history['time']):.1f} s", flush=True)
        if args.save:
            phase = "while saving"
            if not _save_now(model, args.save, prog):
                return 1
            print(f"saved {args.save}")
    except TrainingDiverged as err:
        # nothing saved: an existing checkpoint stays as it was
        parser.error(f"{err}; the peak was --lr {lr:g}")
    except KeyboardInterrupt:
        return _interrupted(model, counter, phase, args.save, prog)
    return 0


def _interrupted(model, counter, phase, path, prog):
    """Ctrl-C: save what was trained (if ``--save``), say so, exit 130."""
    epochs = f"{counter.epochs} full epoch{'' if counter.epochs == 1 else 's'}"
    done = f"after {counter.steps:,} training steps ({epochs})"
    if model is None or counter.steps == 0:
        message = f"interrupted {phase}; nothing was trained, nothing saved"
    elif not path:
        message = f"interrupted {phase}, {done}; not saved (no --save)"
    elif _save_now(model, path, prog):
        message = f"interrupted {phase}; saved the model {done} to {path}"
    else:
        message = f"interrupted {phase}, {done}; saving failed"
    print(f"{prog}: {message}", file=sys.stderr)
    return 130
