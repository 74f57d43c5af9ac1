"""Tests for cnnlib.autoencoder (model, losses, training loop)."""

import numpy as np
import pytest

from cnnlib.autoencoder import (
    add_noise,
    conv_autoencoder,
    decode,
    encode,
    reconstruction_loss,
    train_autoencoder,
)
from cnnlib.gradcheck import check_gradients


def test_shapes_and_parameters():
    enc, dec = conv_autoencoder(code_size=8, seed=0)
    x = np.zeros((3, 1, 28, 28), np.float32)
    codes = encode(enc, x)
    assert codes.shape == (3, 8) and codes.dtype == np.float32
    out = decode(dec, codes)
    assert out.shape == (3, 1, 28, 28)
    assert dec.summary((8,), file=False)  # every shape fits
    assert enc.num_params() == 160 + 4640 + (1568 * 8 + 8)


@pytest.mark.parametrize("loss", ["mse", "bce"])
def test_reconstruction_loss_gradient(loss):
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 1, 4, 4)) * 2
    t = rng.random(z.shape)
    _, dz = reconstruction_loss(z, t, loss)
    errors = check_gradients(lambda z: reconstruction_loss(z, t, loss),
                             lambda d, c: d * dz, [z], ["z"])
    assert errors["z"] < 1e-7
    with pytest.raises(ValueError, match="loss must be 'bce' or 'mse'"):
        reconstruction_loss(z, t, "l1")


def test_training_reduces_the_loss_and_is_seeded():
    rng = np.random.default_rng(1)
    X = np.zeros((64, 1, 28, 28), np.float32)
    for i in range(64):  # bright squares at random places
        r, c = rng.integers(0, 20, size=2)
        X[i, 0, r:r + 8, c:c + 8] = 1
    runs = []
    for _ in range(2):
        enc, dec = conv_autoencoder(code_size=4, seed=0)
        runs.append(train_autoencoder(enc, dec, X, epochs=4, batch_size=16,
                                      noise=0.1, progress=False))
    assert runs[0]["loss"] == runs[1]["loss"]
    assert runs[0]["loss"][-1] < 0.8 * runs[0]["loss"][0]
    with pytest.raises(ValueError, match="train_autoencoder: epochs"):
        train_autoencoder(enc, dec, X, epochs=0)


def test_add_noise_statistics():
    X = np.zeros((200, 1, 28, 28), np.float32)
    noisy = add_noise(X, 0.5, np.random.default_rng(2))
    assert noisy.dtype == np.float32
    assert abs(float(noisy.std()) - 0.5) < 0.01
