"""Optimizers (SGD with momentum, Adam) and learning-rate schedules.

An optimizer updates parameters in place from their gradients::

    opt = Adam(lr=1e-3)
    model.backward(dlogits, need_dx=False)
    opt.step(model)            # or opt.step(params_dict, grads_dict)

Its state (velocities, moments) is keyed by the parameter names of
`cnnlib.model.Sequential.params` (``'0.w'``, ...). A schedule is a function
``lr = schedule(t)`` of the epochs done so far ``t`` (a float: 2.5 is half
way through the third epoch); `cnnlib.train.fit` sets ``opt.lr`` from it
before every step.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import math

import numpy as np

from .shapes import check_number

__all__ = ["Optimizer", "SGD", "Adam", "constant", "step_decay", "cosine"]


class Optimizer:
    """Base class: holds ``lr``, the step count ``t`` and per-name state."""

    def __init__(self, lr, weight_decay=0.0):
        name = type(self).__name__
        self.lr = check_number(lr, "lr", name, low_open=True)
        self.weight_decay = check_number(weight_decay, "weight_decay", name)
        self.t = 0
        self.state = {}

    @property
    def lr(self):
        """The learning rate; a schedule may change it, never below 0."""
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_number(value, "lr", type(self).__name__)

    def step(self, params, grads=None):
        """Update every parameter in place from its gradient.

        Parameters
        ----------
        params : Sequential or dict of str -> ndarray
            A model (its ``params()`` and ``grads()`` are used) or a dict of
            arrays to update in place.
        grads : dict of str -> ndarray, optional
            Needed when ``params`` is a dict; same names and shapes.

        Raises
        ------
        ValueError
            A gradient is missing, mis-shaped or not finite; nothing is
            updated then.
        """
        name = type(self).__name__
        if grads is None:
            if not hasattr(params, "grads"):
                raise TypeError(
                    f"{name}.step: pass a model, or params and grads dicts; "
                    f"got {type(params).__name__} and no grads"
                )
            params, grads = params.params(), params.grads()
        missing = [k for k in params if k not in grads or grads[k] is None]
        if missing:
            raise ValueError(
                f"{name}.step: no gradient for {missing}; call backward() "
                f"before step()"
            )
        _check_gradients(params, grads, name)  # all, before any update
        self.t += 1
        for k, p in params.items():
            g = grads[k]
            if self.weight_decay:
                g = g + p.dtype.type(self.weight_decay) * p  # L2 penalty
            self._update(k, p, g)

    def _update(self, key, p, g):  # pragma: no cover - overridden
        raise NotImplementedError


def _check_gradients(params, grads, func):
    for k, p in params.items():
        if grads[k].shape != p.shape:
            raise ValueError(
                f"{func}.step: gradient {k!r} has shape {grads[k].shape}, the "
                f"parameter {p.shape}"
            )
    # One sum over everything is cheap and finite unless a NaN or inf (or an
    # overflow) is there; only then look at each gradient.
    with np.errstate(over="ignore", invalid="ignore"):
        total = sum(float(np.add.reduce(grads[k], axis=None)) for k in params)
    if math.isfinite(total):
        return
    for k in params:
        g = grads[k]
        if not np.isfinite(g).all():
            raise ValueError(
                f"{func}.step: gradient {k!r} must be finite, got "
                f"{g[~np.isfinite(g)][0]}; nothing was updated (a learning "
                f"rate too large makes the numbers overflow)"
            )


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

    Parameters
    ----------
    lr : float
    momentum : float in [0, 1)
    weight_decay : float
        L2 penalty ``weight_decay * p`` added to every gradient.
    nesterov : bool

    Notes
    -----
    As in PyTorch: ``v = momentum * v + g``, then ``p -= lr * v`` (or
    ``p -= lr * (g + momentum * v)`` with Nesterov). The first step has
    ``v = g``.
    """

    def __init__(self, lr=0.01, momentum=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(lr, weight_decay)
        self.momentum = check_number(momentum, "momentum", "SGD", high=1.0)
        if nesterov and not self.momentum:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)

    def _update(self, key, p, g):
        lr = p.dtype.type(self.lr)
        if not self.momentum:
            p -= lr * g
            return
        v = self.state.get(key)
        if v is None:
            v = self.state[key] = g.astype(p.dtype, copy=True)
        else:
            v *= p.dtype.type(self.momentum)
            v += g
        p -= lr * (g + p.dtype.type(self.momentum) * v if self.nesterov else v)


class Adam(Optimizer):
    """Adam: per-parameter step sizes from running gradient moments.

    Parameters
    ----------
    lr : float
    betas : (float, float)
        Decay rates of the first and second moment averages.
    eps : float
        Added to the root of the second moment (avoids division by 0).
    weight_decay : float
        L2 penalty added to the gradient (as ``torch.optim.Adam``).

    Notes
    -----
    ``m = b1*m + (1-b1)*g``; ``v = b2*v + (1-b2)*g**2``;
    ``p -= lr * (m / (1-b1**t)) / (sqrt(v / (1-b2**t)) + eps)``.
    Kingma and Ba (2015).
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(lr, weight_decay)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"Adam: betas must be a pair, got {betas!r}")
        self.betas = tuple(check_number(b, "betas", "Adam", high=1.0) for b in betas)
        self.eps = check_number(eps, "eps", "Adam", low_open=True)

    def _update(self, key, p, g):
        b1, b2 = self.betas
        if key not in self.state:  # m, v and a scratch buffer
            self.state[key] = (np.zeros_like(p), np.zeros_like(p),
                               np.empty_like(p))
        m, v, tmp = self.state[key]
        t = p.dtype.type
        # m += (1-b1)(g - m) is b1*m + (1-b1)*g; in place, with one scratch
        # buffer, so a step allocates nothing (it runs every batch).
        np.subtract(g, m, out=tmp)
        tmp *= t(1 - b1)
        m += tmp
        np.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= t(1 - b2)
        v += tmp
        # Fold both bias corrections into one scalar step size and eps.
        c2 = math.sqrt(1 - b2**self.t)
        step = self.lr * c2 / (1 - b1**self.t)
        np.sqrt(v, out=tmp)
        tmp += t(self.eps * c2)
        np.divide(m, tmp, out=tmp)
        tmp *= t(step)
        p -= tmp


# ---------------------------------------------------------------- schedules


def constant(lr):
    """Schedule ``t -> lr``."""
    lr = check_number(lr, "lr", "constant", low_open=True)
    return lambda t: lr


def step_decay(lr, step=1, gamma=0.5):
    """Schedule: multiply ``lr`` by ``gamma`` every ``step`` epochs.

    ``lr(t) = lr * gamma ** floor(t / step)``.
    """
    lr = check_number(lr, "lr", "step_decay", low_open=True)
    step = check_number(step, "step", "step_decay", low_open=True)
    gamma = check_number(gamma, "gamma", "step_decay", low_open=True)
    return lambda t: lr * gamma ** math.floor(t / step + 1e-9)


def cosine(lr, epochs, lr_min=0.0, warmup=0.0):
    """Schedule: linear warm-up, then a half cosine from ``lr`` to ``lr_min``.

    Parameters
    ----------
    lr : float
        Peak learning rate.
    epochs : float
        Length of the whole schedule (warm-up included).
    lr_min : float
    warmup : float
        Epochs of linear increase from ``lr / 10`` at the start.
    """
    f = "cosine"
    lr = check_number(lr, "lr", f, low_open=True)
    epochs = check_number(epochs, "epochs", f, low_open=True)
    lr_min = check_number(lr_min, "lr_min", f)
    warmup = check_number(warmup, "warmup", f, high=epochs)

    def schedule(t):
        if t < warmup:
            return lr * (0.1 + 0.9 * t / warmup)
        frac = min(1.0, (t - warmup) / (epochs - warmup))
        return lr_min + (lr - lr_min) * 0.5 * (1 + math.cos(math.pi * frac))

    return schedule
