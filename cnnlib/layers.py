"""Layer classes: thin objects that hold parameters and call the pure functions.

Every layer has ``params`` and ``grads`` dicts (``'w'``, ``'b'``; empty for
layers without weights), ``forward(x)`` and ``backward(dout)``. The maths
lives in `cnnlib.conv`, `cnnlib.pool`, `cnnlib.linear`, ... ; a layer only
keeps the cache between the two calls. `cnnlib.model.Sequential` chains
layers into a model.

Taught in notebooks/07_training_a_cnn.ipynb.
"""

import numpy as np

from . import activations, conv, conv_transpose, linear, local, pool, upsample
from .shapes import (
    as_pair,
    check_array,
    check_dout,
    check_number,
    check_output_padding,
    check_positive_int,
    conv_output_size,
    conv_transpose_output_size,
    pool_output_size,
)

__all__ = [
    "Layer", "Conv2D", "ReLU", "MaxPool2D", "AvgPool2D", "Flatten", "Linear",
    "LocallyConnected2D", "Dropout", "ConvTranspose2D", "Upsample2D",
    "Sigmoid", "Unflatten",
]


def _dtype(dtype, func):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{func}: dtype must be float32 or float64, got {dtype}")
    return dtype


def _init(rng, shape, fan_in, fan_out, init, dtype, func):
    """Draw initial weights: He (default), Glorot, or a fixed std."""
    if init == "he":  # keeps activation variance through ReLU layers
        std = np.sqrt(2.0 / fan_in)
    elif init == "glorot":  # for a layer not followed by ReLU (the logits)
        std = np.sqrt(2.0 / (fan_in + fan_out))
    elif isinstance(init, (int, float)) and init >= 0:
        std = float(init)
    else:
        raise ValueError(
            f"{func}: init must be 'he', 'glorot' or a std >= 0, got {init!r}"
        )
    return (rng.standard_normal(shape) * std).astype(dtype)


class Layer:
    """Base class: no parameters, identity shape, train mode on."""

    training = True

    def __init__(self):
        self.params, self.grads, self.cache = {}, {}, None

    def forward(self, x):  # pragma: no cover - overridden
        """``x (N, ...) -> out (N, ...)``; keeps what backward needs."""
        raise NotImplementedError

    def backward(self, dout, need_dx=True):  # pragma: no cover - overridden
        """Fill ``grads`` from ``dout`` (shaped as out); return dx (or None
        if ``need_dx`` is False and the layer can skip it)."""
        raise NotImplementedError

    def output_shape(self, input_shape):
        """Shape of one example's output, e.g. ``(6, 28, 28)`` (no batch)."""
        return tuple(input_shape)

    def astype(self, dtype):
        """Convert the parameters to ``dtype`` (float32 or float64)."""
        self.dtype = _dtype(dtype, f"{type(self).__name__}.astype")
        for k in self.params:
            self.params[k] = self.params[k].astype(self.dtype)
        self.grads = {}
        return self

    def _check_input(self, x):
        name = f"{type(self).__name__}.forward"
        check_array(x, "x", name)
        dtype = getattr(self, "dtype", None)
        if self.params and x.dtype != dtype:
            raise TypeError(
                f"{name}: x is {x.dtype} but the layer's parameters are "
                f"{dtype}; use x.astype(np.{dtype}) or model.astype(np.{x.dtype})"
            )

    def _check_chw(self, x, channels):
        name = f"{type(self).__name__}.forward"
        check_array(x, "x", name, ndim=4, shape_doc="(N, C, H, W)")
        if x.shape[1] != channels:
            raise ValueError(
                f"{name}: x must have {channels} channels, got x of shape "
                f"{x.shape}"
            )

    def _cached(self):
        """The forward cache, or a clear error if there was no forward."""
        if self.cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward: no forward pass to go back "
                f"through; call forward(x) before backward(dout)"
            )
        return self.cache

    def _check_input_shape(self, input_shape, channels=None):
        """For `output_shape`: refuse what `forward` would refuse."""
        shape = tuple(input_shape)
        if len(shape) != 3 or channels not in (None, shape[0]):
            c = "C" if channels is None else channels
            raise ValueError(
                f"{type(self).__name__}: expects one example of shape "
                f"({c}, H, W), got input of shape {shape}"
            )
        return shape

    def __repr__(self):
        return f"{type(self).__name__}()"


class Conv2D(Layer):
    """2-D convolution (cross-correlation) layer, weights ``(F, C, KH, KW)``.

    Parameters
    ----------
    in_channels, out_channels : int
        C and F.
    kernel_size, stride, padding, dilation : int or (int, int)
    init : {'he', 'glorot'} or float
        He normal (std ``sqrt(2 / (C*KH*KW))``) suits a following ReLU.
    rng : numpy.random.Generator, optional
    seed : int, optional
        Used when ``rng`` is None.
    dtype : float32 (default) or float64

    Notes
    -----
    Forward: ``x (N, C, H, W) -> out (N, F, H_out, W_out)``, computed by
    `cnnlib.conv.conv2d_forward`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, dilation=1, init="he", rng=None, seed=None,
                 dtype=np.float32):
        super().__init__()
        f = "Conv2D"
        self.in_channels = check_positive_int(in_channels, "in_channels", f)
        self.out_channels = check_positive_int(out_channels, "out_channels", f)
        kh, kw = as_pair(kernel_size, "kernel_size", f)
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        as_pair(stride, "stride", f)
        as_pair(padding, "padding", f, minimum=0)
        as_pair(dilation, "dilation", f)
        self.kernel_size = kernel_size
        self.dtype = _dtype(dtype, f)
        rng = np.random.default_rng(seed) if rng is None else rng
        fan_in = self.in_channels * kh * kw
        self.params["w"] = _init(rng, (self.out_channels, self.in_channels, kh, kw),
                                 fan_in, self.out_channels * kh * kw, init,
                                 self.dtype, f)
        self.params["b"] = np.zeros(self.out_channels, self.dtype)

    def forward(self, x):
        self._check_input(x)
        self._check_chw(x, self.in_channels)
        out, self.cache = conv.conv2d_forward(
            x, self.params["w"], self.params["b"], stride=self.stride,
            padding=self.padding, dilation=self.dilation)
        return out

    def backward(self, dout, need_dx=True):
        # The first layer's dx is never used: skipping it saves a col2im.
        dx, dw, db = conv.conv2d_backward(dout, self._cached(), need_dx=need_dx)
        self.grads["w"], self.grads["b"] = dw, db
        return dx

    def output_shape(self, input_shape):
        _, h, w = self._check_input_shape(input_shape, self.in_channels)
        kh, kw = self.params["w"].shape[2:]
        ho, wo = conv_output_size((h, w), (kh, kw), self.stride, self.padding,
                                  self.dilation)
        return (self.out_channels, ho, wo)

    def __repr__(self):
        extra = "".join(
            f", {k}={getattr(self, k)!r}"
            for k, d in (("stride", 1), ("padding", 0), ("dilation", 1))
            if getattr(self, k) != d)
        return (f"Conv2D({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size!r}{extra})")


class ReLU(Layer):
    """Rectified linear unit, ``max(0, x)``; no parameters."""

    def forward(self, x):
        out, self.cache = activations.relu_forward(x)
        return out

    def backward(self, dout, need_dx=True):
        return activations.relu_backward(dout, self._cached())


class _Pool(Layer):
    _forward = _backward = None

    def __init__(self, size=2, stride=None, padding=0):
        super().__init__()
        f = type(self).__name__
        as_pair(size, "size", f)
        if stride is not None:
            as_pair(stride, "stride", f)
        as_pair(padding, "padding", f, minimum=0)
        self.size, self.padding = size, padding
        self.stride = size if stride is None else stride

    def forward(self, x):
        self._check_input(x)
        out, self.cache = type(self)._forward(
            x, size=self.size, stride=self.stride, padding=self.padding)
        return out

    def backward(self, dout, need_dx=True):
        return type(self)._backward(dout, self._cached())

    def output_shape(self, input_shape):
        c, h, w = self._check_input_shape(input_shape)
        ho, wo = pool_output_size((h, w), self.size, self.stride, self.padding)
        return (c, ho, wo)

    def __repr__(self):
        extra = "" if self.stride == self.size else f", stride={self.stride!r}"
        extra += f", padding={self.padding!r}" if self.padding else ""
        return f"{type(self).__name__}({self.size!r}{extra})"


class MaxPool2D(_Pool):
    """Max pooling over ``size`` windows (stride defaults to ``size``).

    Notes
    -----
    ``x (N, C, H, W) -> (N, C, H_out, W_out)`` by `cnnlib.pool`.
    """

    _forward = staticmethod(pool.maxpool2d_forward)
    _backward = staticmethod(pool.maxpool2d_backward)


class AvgPool2D(_Pool):
    """Average pooling over ``size`` windows (stride defaults to ``size``)."""

    _forward = staticmethod(pool.avgpool2d_forward)
    _backward = staticmethod(pool.avgpool2d_backward)


class Flatten(Layer):
    """``(N, C, H, W) -> (N, C*H*W)``, in C order (as PyTorch's flatten)."""

    def forward(self, x):
        out, self.cache = linear.flatten_forward(x)
        return out

    def backward(self, dout, need_dx=True):
        return linear.flatten_backward(dout, self._cached())

    def output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)


class Linear(Layer):
    """Fully connected layer, ``out = x @ w + b`` with ``w (D, M)``, ``b (M,)``.

    Parameters
    ----------
    in_features, out_features : int
        D and M. Inputs ``(N, ...)`` are flattened to ``(N, D)``.
    init : {'he', 'glorot'} or float
    rng, seed, dtype
        As in `Conv2D`.

    """

    def __init__(self, in_features, out_features, init="he", rng=None,
                 seed=None, dtype=np.float32):
        super().__init__()
        f = "Linear"
        self.in_features = check_positive_int(in_features, "in_features", f)
        self.out_features = check_positive_int(out_features, "out_features", f)
        self.dtype = _dtype(dtype, f)
        rng = np.random.default_rng(seed) if rng is None else rng
        d, m = self.in_features, self.out_features
        self.params["w"] = _init(rng, (d, m), d, m, init, self.dtype, f)
        self.params["b"] = np.zeros(m, self.dtype)

    def forward(self, x):
        self._check_input(x)
        d = int(np.prod(x.shape[1:])) if x.ndim >= 2 else -1
        if d != self.in_features:
            raise ValueError(
                f"Linear.forward: x must have {self.in_features} features per "
                f"example, got x of shape {x.shape}"
            )
        out, self.cache = linear.linear_forward(x, self.params["w"],
                                                self.params["b"])
        return out

    def backward(self, dout, need_dx=True):
        dx, dw, db = linear.linear_backward(dout, self._cached())
        self.grads["w"], self.grads["b"] = dw, db
        return dx

    def output_shape(self, input_shape):
        if int(np.prod(input_shape)) != self.in_features:
            raise ValueError(
                f"Linear: expects {self.in_features} input features, got "
                f"input of shape {tuple(input_shape)}"
            )
        return (self.out_features,)

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"


class LocallyConnected2D(Layer):
    """Convolution without weight sharing: each output position owns a kernel.

    Parameters
    ----------
    in_channels, out_channels : int
    input_size : int or (int, int)
        (H, W) of the input; the weights depend on the output grid.
    kernel_size, stride, padding : int or (int, int)
    init, rng, seed, dtype
        As in `Conv2D`.

    Notes
    -----
    ``w (H_out, W_out, F, C, KH, KW)``, ``b (F, H_out, W_out)``.
    """

    def __init__(self, in_channels, out_channels, input_size, kernel_size,
                 stride=1, padding=0, init="he", rng=None, seed=None,
                 dtype=np.float32):
        super().__init__()
        f = "LocallyConnected2D"
        self.in_channels = check_positive_int(in_channels, "in_channels", f)
        self.out_channels = check_positive_int(out_channels, "out_channels", f)
        self.input_size = as_pair(input_size, "input_size", f)
        kh, kw = as_pair(kernel_size, "kernel_size", f)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation = 1
        ho, wo = conv_output_size(self.input_size, (kh, kw), stride, padding)
        self.dtype = _dtype(dtype, f)
        rng = np.random.default_rng(seed) if rng is None else rng
        c, fo = self.in_channels, self.out_channels
        self.params["w"] = _init(rng, (ho, wo, fo, c, kh, kw), c * kh * kw,
                                 fo * kh * kw, init, self.dtype, f)
        self.params["b"] = np.zeros((fo, ho, wo), self.dtype)

    def forward(self, x):
        self._check_input(x)
        self._check_chw(x, self.in_channels)
        if x.shape[2:] != self.input_size:
            raise ValueError(
                f"LocallyConnected2D.forward: x must be {self.input_size[0]}x"
                f"{self.input_size[1]} (input_size), got x of shape {x.shape}"
            )
        out, self.cache = local.local2d_forward(
            x, self.params["w"], self.params["b"], stride=self.stride,
            padding=self.padding)
        return out

    def backward(self, dout, need_dx=True):
        dx, dw, db = local.local2d_backward(dout, self._cached())
        self.grads["w"], self.grads["b"] = dw, db
        return dx

    def output_shape(self, input_shape):
        _, h, w = self._check_input_shape(input_shape, self.in_channels)
        if (h, w) != self.input_size:
            raise ValueError(
                f"LocallyConnected2D: expects {self.input_size[0]}x"
                f"{self.input_size[1]} inputs (input_size), got input of shape "
                f"{tuple(input_shape)}"
            )
        return (self.out_channels,) + self.params["w"].shape[:2]

    def __repr__(self):
        return (f"LocallyConnected2D({self.in_channels}, {self.out_channels}, "
                f"input_size={self.input_size}, kernel_size={self.kernel_size!r})")


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p``.

    Kept units are scaled by ``1 / (1 - p)`` so that evaluation (``eval()``
    mode: the identity) sees the same expected activations.

    Parameters
    ----------
    p : float in [0, 1)
    rng, seed : as in `Conv2D`; draws the masks.
    """

    def __init__(self, p=0.5, rng=None, seed=None):
        super().__init__()
        self.p = check_number(p, "p", "Dropout", high=1.0)
        self.rng = np.random.default_rng(seed) if rng is None else rng

    def forward(self, x):
        check_array(x, "x", "Dropout.forward")
        if not self.training or self.p == 0:
            self.cache = (x.shape, x.dtype, None)  # the identity
            return x
        keep = self.rng.random(x.shape, dtype=x.dtype) >= self.p
        scale = keep * x.dtype.type(1 / (1 - self.p))
        self.cache = (x.shape, x.dtype, scale)
        return x * scale

    def backward(self, dout, need_dx=True):
        shape, dtype, scale = self._cached()
        check_dout(dout, shape, dtype, "Dropout.backward")
        return dout if scale is None else dout * scale

    def __repr__(self):
        return f"Dropout({self.p})"


# ------------------------------------------------ upsampling (notebook 08)



class ConvTranspose2D(Layer):
    """Transposed convolution layer, weights ``(C_in, F, KH, KW)``.

    Parameters
    ----------
    in_channels, out_channels : int
        C_in and F.
    kernel_size, stride, padding, output_padding, dilation : int or (int, int)
        As PyTorch's ``ConvTranspose2d``; ``output_padding`` must be smaller
        than ``stride`` or ``dilation``.
    init : {'he', 'glorot'} or float
        He normal with fan-in ``C_in*KH*KW / (sh*sw)``: with stride s each
        output pixel receives about ``KH*KW / s**2`` kernel taps per channel.
    rng, seed, dtype
        As in `Conv2D`.

    Notes
    -----
    Forward: ``x (N, C_in, H, W) -> out (N, F, H_out, W_out)`` with
    ``H_out = (H - 1)*stride - 2*padding + dilation*(KH - 1)
    + output_padding + 1``, computed by
    `cnnlib.conv_transpose.conv_transpose2d_forward`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1,
                 padding=0, output_padding=0, dilation=1, init="he", rng=None,
                 seed=None, dtype=np.float32):
        super().__init__()
        f = "ConvTranspose2D"
        self.in_channels = check_positive_int(in_channels, "in_channels", f)
        self.out_channels = check_positive_int(out_channels, "out_channels", f)
        kh, kw = as_pair(kernel_size, "kernel_size", f)
        sh, sw = as_pair(stride, "stride", f)
        as_pair(padding, "padding", f, minimum=0)
        check_output_padding(output_padding, (sh, sw),
                             as_pair(dilation, "dilation", f), f)
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.output_padding, self.dilation = output_padding, dilation
        self.dtype = _dtype(dtype, f)
        rng = np.random.default_rng(seed) if rng is None else rng
        c, fo = self.in_channels, self.out_channels
        self.params["w"] = _init(rng, (c, fo, kh, kw),
                                 max(1.0, c * kh * kw / (sh * sw)),
                                 fo * kh * kw, init, self.dtype, f)
        self.params["b"] = np.zeros(fo, self.dtype)

    def forward(self, x):
        self._check_input(x)
        self._check_chw(x, self.in_channels)
        out, self.cache = conv_transpose.conv_transpose2d_forward(
            x, self.params["w"], self.params["b"], stride=self.stride,
            padding=self.padding, output_padding=self.output_padding,
            dilation=self.dilation)
        return out

    def backward(self, dout, need_dx=True):
        dx, dw, db = conv_transpose.conv_transpose2d_backward(
            dout, self._cached())
        self.grads["w"], self.grads["b"] = dw, db
        return dx

    def output_shape(self, input_shape):
        _, h, w = self._check_input_shape(input_shape, self.in_channels)
        ho, wo = conv_transpose_output_size(
            (h, w), self.params["w"].shape[2:], self.stride, self.padding,
            self.output_padding, self.dilation)
        return (self.out_channels, ho, wo)

    def __repr__(self):
        extra = "".join(
            f", {k}={getattr(self, k)!r}"
            for k, d in (("stride", 1), ("padding", 0), ("output_padding", 0),
                         ("dilation", 1))
            if getattr(self, k) != d)
        return (f"ConvTranspose2D({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size!r}{extra})")


class Upsample2D(Layer):
    """Make a map ``scale`` times bigger by repeating pixels; no parameters.

    Parameters
    ----------
    scale : int or (int, int)
    mode : {'nearest'}
        The only mode: each pixel becomes a ``scale x scale`` block.

    Notes
    -----
    By `cnnlib.upsample.upsample_nearest_forward`.
    """

    def __init__(self, scale=2, mode="nearest"):
        super().__init__()
        as_pair(scale, "scale", "Upsample2D")
        if mode != "nearest":
            raise ValueError(
                f"Upsample2D: mode must be 'nearest', got {mode!r}")
        self.scale, self.mode = scale, mode

    def forward(self, x):
        self._check_input(x)
        out, self.cache = upsample.upsample_nearest_forward(x, self.scale)
        return out

    def backward(self, dout, need_dx=True):
        return upsample.upsample_nearest_backward(dout, self._cached())

    def output_shape(self, input_shape):
        c, h, w = self._check_input_shape(input_shape)
        sh, sw = as_pair(self.scale, "scale", "Upsample2D")
        return (c, h * sh, w * sw)

    def __repr__(self):
        return f"Upsample2D({self.scale!r})"


class Sigmoid(Layer):
    """Logistic sigmoid ``1 / (1 + exp(-x))``; no parameters.

    Notes
    -----
    Squashes a decoder's output into [0, 1], pixel brightness. By
    `cnnlib.activations.sigmoid_forward`.
    """

    def forward(self, x):
        out, self.cache = activations.sigmoid_forward(x)
        return out

    def backward(self, dout, need_dx=True):
        return activations.sigmoid_backward(dout, self._cached())


class Unflatten(Layer):
    """``(N, D) -> (N, *shape)``: the inverse of `Flatten`, e.g. after a
    decoder's first `Linear`.

    Parameters
    ----------
    shape : tuple of int
        One example's shape, e.g. ``(32, 7, 7)``; its product must be D.
    """

    def __init__(self, shape):
        super().__init__()
        if not isinstance(shape, (tuple, list)) or not shape:
            raise ValueError(f"Unflatten: shape must be a tuple of positive "
                             f"ints, got {shape!r}")
        self.shape = tuple(check_positive_int(s, "shape", "Unflatten") for s in shape)

    def forward(self, x):
        check_array(x, "x", "Unflatten.forward", ndim=2, shape_doc="(N, D)")
        if x.shape[1] != int(np.prod(self.shape)):
            raise ValueError(
                f"Unflatten.forward: x must have D = {int(np.prod(self.shape))}"
                f" features to make shape {self.shape}, got x of shape "
                f"{x.shape}")
        self.cache = x.shape
        return x.reshape(x.shape[0], *self.shape)

    def backward(self, dout, need_dx=True):
        return dout.reshape(self._cached())

    def output_shape(self, input_shape):
        if int(np.prod(input_shape)) != int(np.prod(self.shape)):
            raise ValueError(
                f"Unflatten: expects {int(np.prod(self.shape))} input "
                f"features, got input of shape {tuple(input_shape)}")
        return self.shape

    def __repr__(self):
        return f"Unflatten({self.shape})"
