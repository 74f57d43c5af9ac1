"""Looking inside a trained CNN: what excites a unit, what a decision rests on.

- `feature_maps`: the output of one layer for a batch of images.
- `unit_field`: the input region one unit of a layer sees (its receptive
  field, from `cnnlib.shapes.receptive_field`).
- `top_patches`: the input patches that excite one channel of a layer most,
  one per image: what that unit has learned to detect.
- `covered_predictions`, `occlusion_map`: cover a square of the image,
  everywhere in turn, and measure how much the probability of the class
  drops: which pixels the decision rests on.
- `show_patches`, `show_occlusion`, `show_filters`: draw them without relying
  on hue (grey levels, brightness, line styles).
- `TRAINED_LENET5_PATH`: the shipped LeNet-5 checkpoint (``data/README.md``
  says how it was trained).

Taught in notebooks/07_training_a_cnn.ipynb.
"""

from pathlib import Path
from typing import NamedTuple

import numpy as np

from .losses import softmax
from .shapes import check_positive_int, receptive_field

__all__ = ["TRAINED_LENET5_PATH", "feature_maps", "unit_field", "TopPatches",
           "top_patches", "covered_predictions", "occlusion_map",
           "show_patches", "show_occlusion", "show_filters"]

#: LeNet-5 trained on 55,000 MNIST digits (not the shipped 5,000).
TRAINED_LENET5_PATH = (Path(__file__).resolve().parent / "datasets"
                       / "lenet5_mnist.npz")


def _check_images(X, func):
    X = np.asarray(X)
    if X.ndim != 4 or not np.issubdtype(X.dtype, np.floating):
        raise ValueError(f"{func}: X must be a float array (N, C, H, W), got "
                         f"{X.dtype} shape {X.shape}")
    return X


def _check_layer(model, layer, func):
    n = len(model)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) \
            or not -n <= layer < n:
        raise ValueError(f"{func}: layer must be an index from {-n} to "
                         f"{n - 1} of the model's {n} layers, got {layer!r}")
    return int(layer) % n


def feature_maps(model, X, layer, batch_size=256):
    """Output of ``model[layer]`` for every image, in evaluation mode.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (N, C, H, W), float
    layer : int
        Index into the model; -1 is the last layer (the logits).
    batch_size : int

    Returns
    -------
    ndarray, shape (N, ...)
        ``(N, F, H', W')`` for a convolution or pooling layer.
    """
    func = "feature_maps"
    X = _check_images(X, func)
    layer = _check_layer(model, layer, func)
    batch_size = check_positive_int(batch_size, "batch_size", func)
    modes = [getattr(m, "training", False) for m in model]
    model.eval()
    try:
        parts = []
        for i in range(0, len(X), batch_size):
            a = X[i:i + batch_size].astype(model.dtype, copy=False)
            for m in model.layers[:layer + 1]:
                a = m.forward(a)
            parts.append(a)
    finally:
        for m, mode in zip(model, modes):
            m.training = mode
    return np.concatenate(parts)


def unit_field(model, layer):
    """Receptive field of the units of ``model[layer]``, in input pixels.

    Returns
    -------
    cnnlib.shapes.ReceptiveField
        ``size`` (pixels per side), ``jump`` (pixels between neighbouring
        units) and ``start`` (centre of unit 0; negative if it lies in the
        padding). Layers without a window (ReLU) change nothing.
    """
    layer = _check_layer(model, layer, "unit_field")
    # conv layers name their window kernel_size, pool layers size
    spatial = [m for m in model.layers[:layer + 1]
               if hasattr(m, "kernel_size") or hasattr(m, "size")]
    if not spatial:
        return receptive_field([(1, 1)])[-1]
    return receptive_field(spatial)[-1]


class TopPatches(NamedTuple):
    """Result of `top_patches`; all arrays have length k along axis 0."""

    patches: np.ndarray  # (k, C, size, size); NaN where the field leaves the image
    values: np.ndarray   # (k,) the unit's activation
    image: np.ndarray    # (k,) index into X
    row: np.ndarray      # (k,) the unit's position in the layer's map
    col: np.ndarray
    top: np.ndarray      # (k,) input pixel of the patch's top-left corner
    left: np.ndarray
    size: int            # field size in pixels


def top_patches(model, X, layer, channel, k=12):
    """The input patches that excite one channel of a layer most.

    Every image contributes at most one patch, at the position where the
    channel responds most strongly, so the k patches come from k different
    images.

    Parameters
    ----------
    model : Sequential
    X : ndarray, shape (N, C, H, W), float
    layer : int
        A convolution, activation or pooling layer of ``model``.
    channel : int
        Channel (filter) of that layer's output.
    k : int
        Number of patches (at most N).

    Returns
    -------
    TopPatches
        Strongest first. A patch is the unit's whole receptive field; pixels
        of the field that lie outside the image (in the padding) are NaN.
    """
    func = "top_patches"
    X = _check_images(X, func)
    maps = feature_maps(model, X, layer)
    if maps.ndim != 4:
        raise ValueError(f"{func}: layer {layer} gives shape {maps.shape[1:]}"
                         f" per image; choose a layer with (F, H, W) maps")
    n_ch = maps.shape[1]
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) \
            or not 0 <= channel < n_ch:
        raise ValueError(f"{func}: channel must be an int from 0 to "
                         f"{n_ch - 1}, got {channel!r}")
    k = check_positive_int(k, "k", func)
    if k > len(X):
        raise ValueError(f"{func}: k must be at most the {len(X)} images, "
                         f"got {k}")
    m = maps[:, channel].reshape(len(X), -1)
    best = m.argmax(axis=1)                  # strongest position per image
    value = m[np.arange(len(X)), best]
    order = np.argsort(-value, kind="stable")[:k]
    rows, cols = np.unravel_index(best[order], maps.shape[2:])
    rf = unit_field(model, layer)
    half = (rf.size - 1) / 2
    tops = np.rint(rf.start + rows * rf.jump - half).astype(int)
    lefts = np.rint(rf.start + cols * rf.jump - half).astype(int)
    _, C, H, W = X.shape
    patches = np.full((k, C, rf.size, rf.size), np.nan)
    for p, (n, t, left) in enumerate(zip(order, tops, lefts)):
        r0, r1 = max(t, 0), min(t + rf.size, H)
        c0, c1 = max(left, 0), min(left + rf.size, W)
        patches[p, :, r0 - t:r1 - t, c0 - left:c1 - left] = X[n, :, r0:r1, c0:c1]
    return TopPatches(patches, value[order], order, rows, cols, tops, lefts,
                      rf.size)


def covered_predictions(model, image, patch=8, stride=2, fill=None,
                        func="covered_predictions"):
    """Classify an image with a square covered, for every position of it.

    A ``patch`` x ``patch`` square of ``fill`` slides over the image with
    ``stride`` (positions that do not fit are dropped, as in pooling).

    Parameters
    ----------
    model : Sequential
        Maps images to logits.
    image : ndarray, shape (C, H, W), float
    patch, stride : int
    fill : float, optional
        Value of the cover; default the image's minimum (its background).

    Returns
    -------
    corners : ndarray, shape (S, 2), int
        Top row and left column of each covering square.
    probs : ndarray, shape (S, K)
        Class probabilities with that square covered.
    base : ndarray, shape (K,)
        Class probabilities of the uncovered image.
    """
    x = _check_images(np.asarray(image)[None], func)[0]
    _, H, W = x.shape
    patch = check_positive_int(patch, "patch", func)
    stride = check_positive_int(stride, "stride", func)
    if patch > min(H, W):
        raise ValueError(f"{func}: patch {patch} does not fit the {H}x{W} "
                         f"image")
    fill = float(x.min()) if fill is None else float(fill)
    corners = np.array([(t, left) for t in range(0, H - patch + 1, stride)
                        for left in range(0, W - patch + 1, stride)])
    covered = np.repeat(x[None], len(corners) + 1, axis=0)
    for i, (t, left) in enumerate(corners):
        covered[i + 1, :, t:t + patch, left:left + patch] = fill
    probs = softmax(feature_maps(model, covered, -1).astype(np.float64))
    return corners, probs[1:], probs[0]


def occlusion_map(model, image, label, patch=8, stride=2, fill=None):
    """How much covering each part of an image lowers one class's probability.

    Parameters
    ----------
    model, image, patch, stride, fill
        As in `covered_predictions`.
    label : int
        The class whose probability is watched.

    Returns
    -------
    drop : ndarray, shape (H, W)
        For each pixel, the mean over the squares that cover it of
        ``p(label | image) - p(label | covered image)``: large where
        covering hurts, negative where covering *helps* the class; NaN for
        pixels no square covers.
    base : float
        ``p(label | image)``.
    """
    func = "occlusion_map"
    corners, probs, base = covered_predictions(model, image, patch, stride,
                                               fill, func)
    if not (isinstance(label, (int, np.integer)) and 0 <= label < len(base)):
        raise ValueError(f"{func}: label must be a class from 0 to "
                         f"{len(base) - 1}, got {label!r}")
    patch = int(patch)
    H, W = np.asarray(image).shape[1:]
    total, count = np.zeros((H, W)), np.zeros((H, W))
    for (t, left), p in zip(corners, probs[:, label]):
        total[t:t + patch, left:left + patch] += base[label] - p
        count[t:t + patch, left:left + patch] += 1
    return np.where(count > 0, total / np.maximum(count, 1), np.nan), float(base[label])


def show_patches(result, fig, ncols=6, title=None, values=True):
    """Draw `top_patches` in grey (ink white), each with its activation.

    Pixels outside the image are drawn in a hatched mid-grey, so the edge of
    the image is visible without colour.

    Parameters
    ----------
    result : TopPatches
    fig : matplotlib Figure or SubFigure
    ncols : int
    title : str, optional
    values : bool
        Write each patch's activation above it.

    Returns
    -------
    fig : matplotlib Figure
    """
    k = len(result.values)
    nrows = -(-k // ncols)
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, wspace=0.08,
                        top=0.78 if (title or values) else 0.98)
    finite = result.patches[np.isfinite(result.patches)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0, 1)
    for ax, p, v in zip(axes, result.patches, result.values):
        ax.set_facecolor("0.55")
        ax.imshow(p[0], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
        if np.isnan(p[0]).any():
            ax.add_patch(_hatch(p[0].shape))
        if values:
            ax.set_title(f"{v:.1f}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[k:]:
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def _hatch(shape):
    from matplotlib.patches import Rectangle
    return Rectangle((-0.5, -0.5), shape[1], shape[0], fill=False, hatch="///",
                     ec="0.75", lw=0, zorder=0)


def show_occlusion(image, drop, ax, vmax=None, title=None):
    """Draw an occlusion map: the probability drop as brightness (black: no
    drop), with the digit's outline as a grey contour on top.

    Negative drops (covering that *helps* the class) are drawn as 0.

    Returns
    -------
    AxesImage, for a colour bar.
    """
    d = np.clip(np.nan_to_num(np.asarray(drop, dtype=float)), 0, None)
    vmax = max(float(d.max()), 1e-3) if vmax is None else vmax
    im = ax.imshow(d, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
    x = np.asarray(image)[0]
    ax.contour(x, levels=[(float(x.min()) + float(x.max())) / 2], colors="0.6",
               linewidths=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return im


def show_filters(w, axes, vmax=None, titles=None):
    """Draw 2-D filters in grey: white positive, black negative, mid-grey 0.

    The sign is carried by brightness, not hue, and one symmetric scale is
    shared, so filters are comparable. A filter is white where it wants ink
    (MNIST ink is bright).

    Parameters
    ----------
    w : ndarray, shape (M, KH, KW)
    axes : sequence of M matplotlib Axes
    vmax : float, optional
        Scale limit (default: the largest absolute weight).
    titles : list of str, optional

    Returns
    -------
    AxesImage of the last filter, for a colour bar.
    """
    w = np.asarray(w)
    if vmax is None:
        vmax = float(np.abs(w).max()) or 1.0
    im = None
    for i, (ax, f) in enumerate(zip(axes, w)):
        im = ax.imshow(f, cmap="gray", vmin=-vmax, vmax=vmax, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        if titles:
            ax.set_title(titles[i], fontsize=8)
    return im
