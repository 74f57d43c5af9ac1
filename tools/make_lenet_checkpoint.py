"""Train the LeNet-5 that notebook 07 inspects; write cnnlib/datasets/lenet5_mnist.npz.

Usage (from the repository's top folder; about 1-3 minutes on one core)::

    OPENBLAS_NUM_THREADS=1 python tools/make_lenet_checkpoint.py \\
        --mnist-dir ../shared/data/mnist [--out cnnlib/datasets/lenet5_mnist.npz]

What it does, and why:

- Trains `cnnlib.model.lenet5` on the official MNIST **training** set
  *minus* the 5,000 digits of the shipped subset (their MNIST indices are in
  ``cnnlib/datasets/mnist_5k.npz``, key ``mnist_train_index``): 55,000 digits. So every
  shipped digit, training or test part, is new to this network, and the
  notebook can measure it honestly on them.
- Starts the first convolution at one tenth of its usual random weights.
  Its weight gradient is a sum of input patches (notebook 06), so training
  only *adds* digit-like patterns to the filters and nothing removes the
  random start; started small, the trained filters show what training put
  there, not what the random number generator did.
- 10 epochs, batch 64, Adam (peak learning rate 0.002, cosine decay), the
  `random_affine()` augmentation of notebook 07, seed 0. Prints the test
  accuracy on the official 10,000 test digits and on the 1,000 shipped test
  digits, and the SHA-256 of the file.

`cnnlib.checkpoint.save` writes plain arrays (no pickles); load with
``load(lenet5, path)``.
"""

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cnnlib.augment import random_affine  # noqa: E402
from cnnlib.checkpoint import save  # noqa: E402
from cnnlib.data import SUBSET_PATH, load_mnist  # noqa: E402
from cnnlib.model import lenet5  # noqa: E402
from cnnlib.optim import Adam, cosine  # noqa: E402
from cnnlib.train import evaluate, fit  # noqa: E402

EPOCHS, LR, BATCH, SEED, CONV1_SCALE = 10, 2e-3, 64, 0, 0.1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mnist-dir", required=True,
                        help="folder with the four official MNIST IDX files")
    parser.add_argument("--out", default=str(
        ROOT / "cnnlib" / "datasets" / "lenet5_mnist.npz"))
    args = parser.parse_args(argv)

    X, y = load_mnist(args.mnist_dir, "train", dtype=np.float32, normalize=True)
    with np.load(SUBSET_PATH) as npz:
        shipped = npz["mnist_train_index"]
    if (shipped < 0).any():
        sys.exit("make_lenet_checkpoint: the shipped subset lacks MNIST indices")
    keep = np.setdiff1d(np.arange(len(y)), shipped)
    X, y = X[keep], y[keep]
    X_test, y_test = load_mnist(args.mnist_dir, "test", dtype=np.float32,
                                normalize=True)
    X_sub, y_sub = load_mnist("subset", "test", dtype=np.float32, normalize=True)

    model = lenet5(seed=SEED)
    model[0].params["w"] *= np.float32(CONV1_SCALE)
    print(f"training on {len(y):,} MNIST training digits (the 5,000 shipped "
          f"ones left out), {EPOCHS} epochs", flush=True)
    start = time.perf_counter()
    fit(model, X, y, epochs=EPOCHS, batch_size=BATCH, optimizer=Adam(LR),
        lr_schedule=cosine(LR, EPOCHS), seed=SEED, augment=random_affine(),
        progress=False)
    took = time.perf_counter() - start
    acc_test = evaluate(model, X_test, y_test)[1]
    acc_sub = evaluate(model, X_sub, y_sub)[1]
    save(model, args.out)
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
    print(f"trained in {took:.0f} s; test accuracy {acc_test:.2%} (official "
          f"10,000), {acc_sub:.1%} (shipped 1,000)")
    print(f"wrote {args.out}: {Path(args.out).stat().st_size:,} bytes, "
          f"SHA-256 {digest}")


if __name__ == "__main__":
    main()
