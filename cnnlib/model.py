"""Models: `Sequential` chains layers; `lenet5` and `tiny_cnn` build two.

`Sequential` runs the layers of `cnnlib.layers` one after another and names
their parameters ``'<layer index>.<name>'`` (``'0.w'``, ``'0.b'``, ``'3.w'``,
...), the names that `cnnlib.optim` and `cnnlib.checkpoint` use.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import numpy as np

from .layers import Conv2D, Flatten, Linear, MaxPool2D, ReLU

__all__ = ["Sequential", "lenet5", "tiny_cnn"]


class Sequential:
    """Layers applied one after another; parameters named ``'<i>.<name>'``.

    Parameters
    ----------
    *layers : Layer

    Examples
    --------
    >>> model = Sequential(Conv2D(1, 4, 3, seed=0), ReLU(), Flatten(),
    ...                    Linear(4 * 26 * 26, 10, seed=1))
    >>> [name for name in model.params()]
    ['0.w', '0.b', '3.w', '3.b']
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not hasattr(layer, "forward") or not hasattr(layer, "backward"):
                raise TypeError(
                    f"Sequential: layers[{i}] must be a layer with forward and "
                    f"backward, got {layer!r}"
                )
        self.layers = list(layers)
        self._ran_forward = False

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    @property
    def dtype(self):
        """The parameters' dtype (float32 unless `astype` changed it)."""
        for p in self.params().values():
            return p.dtype
        return np.dtype(np.float32)

    def forward(self, x):
        """Run ``x (N, C, H, W)`` through every layer; returns the last output."""
        for layer in self.layers:
            x = layer.forward(x)
        self._ran_forward = True
        return x

    __call__ = forward

    def backward(self, dout, need_dx=True):
        """Backpropagate ``dout`` (gradient of the loss w.r.t. the output).

        Fills every layer's ``grads``. Returns dx, the gradient w.r.t. the
        input, or None if ``need_dx`` is False (training never needs it, and
        the first convolution then skips its most expensive part).
        """
        if not getattr(self, "_ran_forward", False):
            raise RuntimeError("Sequential.backward: no forward pass to go back "
                               "through; call forward(x) before backward(dout)")
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, need_dx=need_dx or i > 0)
        return dout if need_dx else None

    def params(self):
        """``{'0.w': array, '0.b': array, ...}``: the live arrays, in order."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.params.items()}

    def grads(self):
        """Gradients from the last `backward`, named as in `params`."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.grads.items()}

    def num_params(self):
        return int(sum(p.size for p in self.params().values()))

    def train(self, mode=True):
        """Set training mode (Dropout active); returns the model."""
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self):
        """Set evaluation mode (Dropout off); returns the model."""
        return self.train(False)

    def astype(self, dtype):
        """Convert all parameters to float32 or float64, in place."""
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def summary(self, input_shape=(1, 28, 28), file=None):
        """Print and return a table of output shapes and parameter counts.

        Parameters
        ----------
        input_shape : tuple
            One example's shape ``(C, H, W)``, without the batch axis.
        file : file-like, optional
            Where to print (default stdout); ``False`` prints nothing.

        Returns
        -------
        str
            The table, also printed.
        """
        rows, shape = [], tuple(input_shape)
        for i, layer in enumerate(self.layers):
            try:
                shape = layer.output_shape(shape)
            except ValueError as err:  # what forward would refuse too
                raise ValueError(f"Sequential.summary: layer {i} ({layer!r}) "
                                 f"cannot take input {shape}: {err}") from None
            n = sum(p.size for p in layer.params.values())
            rows.append((f"{i}", repr(layer), str(shape), f"{n:,}"))
        head = ("#", "layer", "output shape", "params")
        widths = [max(len(r[j]) for r in rows + [head]) for j in range(4)]

        def line(r):
            return "  ".join(
                c.rjust(w) if j == 3 else c.ljust(w)
                for j, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

        rule = "-" * len(line(("",) * 3 + ("x" * widths[3],)))
        text = "\n".join(
            [line(head), rule, line(("", "input", str(tuple(input_shape)), ""))]
            + [line(r) for r in rows]
            + [rule, f"total parameters: {self.num_params():,}"])
        if file is not False:
            print(text, file=file)
        return text

    def __repr__(self):
        inner = "".join(f"\n  {layer!r}," for layer in self.layers)
        return f"Sequential({inner}\n)"


def lenet5(seed=0, dtype=np.float32):
    """LeNet-5 for 28x28 digits, with ReLU and max pooling (61,706 params).

    conv5x5(6, pad 2) - ReLU - pool2 - conv5x5(16) - ReLU - pool2 -
    fc120 - ReLU - fc84 - ReLU - fc10. Output: logits ``(N, 10)``.

    Notes
    -----
    LeCun et al. (1998) used tanh-like units and subsampling; ReLU and max
    pooling train faster. Hidden layers start with He initialisation; the
    logits layer starts small (std 0.01), so the first predictions are
    nearly uniform and the initial loss is close to log(10).
    """
    rng = np.random.default_rng(seed)
    kw = dict(rng=rng, dtype=dtype)
    return Sequential(
        Conv2D(1, 6, 5, padding=2, **kw), ReLU(), MaxPool2D(2),
        Conv2D(6, 16, 5, **kw), ReLU(), MaxPool2D(2),
        Flatten(), Linear(16 * 5 * 5, 120, **kw), ReLU(),
        Linear(120, 84, **kw), ReLU(), Linear(84, 10, init=0.01, **kw))


def tiny_cnn(seed=0, dtype=np.float32):
    """A small fast CNN for notebooks (5,258 params).

    conv3x3(8) - ReLU - pool2 - conv3x3(16) - ReLU - pool2 - fc10 on 28x28.
    """
    rng = np.random.default_rng(seed)
    kw = dict(rng=rng, dtype=dtype)
    return Sequential(
        Conv2D(1, 8, 3, **kw), ReLU(), MaxPool2D(2),
        Conv2D(8, 16, 3, **kw), ReLU(), MaxPool2D(2),
        Flatten(), Linear(16 * 5 * 5, 10, init=0.01, **kw))
