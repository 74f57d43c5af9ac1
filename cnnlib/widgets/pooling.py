"""Explorers for pooling and for the receptive field of a layer stack.

- `render_pooling` / `explore_pooling`: max or average pooling of a feature
  map with any window and stride, and how much the pooled map changes when
  the input shifts by a few pixels (measured).
- `render_receptive_field` / `explore_receptive_field`: stack conv and pool
  layers and see the input region one output unit sees, with the numbers
  from `cnnlib.shapes.receptive_field`.

Taught in notebooks/05_pooling_and_downsampling.ipynb.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..conv import correlate2d
from ..kernels import KERNELS, get_kernel
from ..pool import avgpool2d_forward, maxpool2d_forward
from ..shapes import conv_output_size, pool_output_size, receptive_field
from .base import DPI, explorer

__all__ = [
    "shift_image",
    "relative_change",
    "pool_map",
    "pooling_shift_change",
    "render_pooling",
    "explore_pooling",
    "stack_geometry",
    "render_receptive_field",
    "explore_receptive_field",
]


def shift_image(image, dx=0, dy=0):
    """Move an image ``dx`` pixels right and ``dy`` down, filling with zeros.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    dx, dy : int
        Shifts; negative values move left / up.

    Returns
    -------
    ndarray, shape (H, W)
    """
    out = np.zeros_like(image)
    h, w = image.shape
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src = image[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    out[max(0, dy) : max(0, dy) + src.shape[0],
        max(0, dx) : max(0, dx) + src.shape[1]] = src
    return out


def relative_change(a, b):
    """``||a - b|| / ||a||``: 0 means unchanged, about 1.4 means unrelated.
    """
    norm = float(np.linalg.norm(a))
    return float(np.linalg.norm(a - b)) / norm if norm else 0.0


def pool_map(fmap, size=2, stride=None, mode="max"):
    """Pool one 2-D map with `cnnlib.pool`.

    Parameters
    ----------
    fmap : ndarray, shape (H, W)
    size, stride : int
        Window and step (stride defaults to size).
    mode : {'max', 'avg', 'none'}
        'none' returns the map unchanged (for comparisons).

    Returns
    -------
    ndarray, shape (H_out, W_out)
    """
    if mode == "none":
        return fmap
    if mode not in ("max", "avg"):
        raise ValueError(
            f"pool_map: mode must be 'max', 'avg' or 'none', got {mode!r}"
        )
    forward = maxpool2d_forward if mode == "max" else avgpool2d_forward
    out, _ = forward(fmap[None, None], size=size, stride=stride)
    return out[0, 0]


def pooling_shift_change(image, shift, size=2, stride=None, mode="max",
                         kernel="vertical edge"):
    """How much a pooled edge map changes when the input moves right.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    shift : int
        Pixels to move the image right before filtering.
    size, stride, mode :
        As in `pool_map`.
    kernel : str or ndarray, shape (KH, KW)
        A name from `cnnlib.kernels.KERNELS` or an array.

    Returns
    -------
    dict with ``fmap``, ``fmap_shifted`` (ReLU of the edge map, before
    pooling), ``pooled``, ``pooled_shifted`` and the relative changes
    ``raw_change`` and ``pooled_change`` (see `relative_change`).
    """
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(
            f"pooling_shift_change: image must be 2-D (H, W), got shape "
            f"{x.shape}"
        )
    if isinstance(kernel, str):
        k = get_kernel(kernel, "pooling_shift_change")
    else:
        k = np.asarray(kernel, dtype=np.float64)
    f0 = np.maximum(correlate2d(x, k, mode="valid"), 0)
    f1 = np.maximum(correlate2d(shift_image(x, int(shift)), k, mode="valid"),
                    0)
    p0 = pool_map(f0, size, stride, mode)
    p1 = pool_map(f1, size, stride, mode)
    return {"fmap": f0, "fmap_shifted": f1, "pooled": p0,
            "pooled_shifted": p1, "raw_change": relative_change(f0, f1),
            "pooled_change": relative_change(p0, p1)}


def _windows(ax, cell, size, stride, n_cols, color="#ffb000"):
    """Outline the pooling window of output ``cell`` and its right neighbour.

    Drawn where the pooled map is strongest, so the reader sees the windows
    the shifted response moves between.
    """
    i, j = cell
    for jj in (j, j + 1):
        if jj * stride + size <= n_cols:
            ax.add_patch(Rectangle((jj * stride - 0.5, i * stride - 0.5), size,
                                   size, fill=False, ec=color, lw=1.5,
                                   ls="-" if jj == j else "--"))


def _show(ax, img, title, vmax):
    ax.imshow(img, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=8.5)
    # Hidden axes (frame kept) are skipped when drawing: much faster than
    # empty tick lists, and a redraw is what a student waits for.
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)


def render_pooling(image, size=2, stride=2, mode="max", shift=1,
                   kernel="vertical edge"):
    """A feature map pooled, before and after shifting the input.

    Parameters
    ----------
    image : ndarray, shape (H, W)
    size, stride : int
        Pooling window and step.
    mode : {'max', 'avg'}
    shift : int
        Pixels the input is moved right.
    kernel : str or ndarray
        Edge kernel that makes the feature map (followed by a ReLU).

    Returns
    -------
    matplotlib.figure.Figure
        Feature map and shifted feature map (the window of the strongest
        pooled unit outlined, its right neighbour dashed), both pooled maps;
        the title gives the measured relative changes.
    """
    r = pooling_shift_change(image, shift, size, stride, mode, kernel)
    f0, p0 = r["fmap"], r["pooled"]
    fig = Figure(figsize=(6.0, 2.7), dpi=DPI)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.62,
                        wspace=0.12)
    axes = fig.subplots(1, 4)
    vmax = float(max(f0.max(), r["fmap_shifted"].max())) or 1.0
    h, w = f0.shape
    cell = np.unravel_index(np.argmax(p0), p0.shape)
    _show(axes[0], f0, f"feature map {h}x{w}", vmax)
    _show(axes[1], r["fmap_shifted"], f"input {shift} px right",
          vmax)
    for ax in axes[:2]:
        _windows(ax, cell, size, stride, w)
    pv = float(max(p0.max(), r["pooled_shifted"].max())) or 1.0
    ph, pw = p0.shape
    _show(axes[2], p0, f"{mode} pool {size}x{size}/{stride}\n-> {ph}x{pw}",
          pv)
    _show(axes[3], r["pooled_shifted"], "pooled,\nshifted input", pv)
    for ax in axes[2:]:
        ax.add_patch(Rectangle((cell[1] - 0.5, cell[0] - 0.5), 1, 1,
                               fill=False, ec="#ffb000", lw=1.5))
    fig.suptitle(
        f"shift {shift} px: feature map changes {r['raw_change']:.0%}, "
        f"pooled map changes {r['pooled_change']:.0%}\n(window of the "
        "strongest pooled unit solid,\nits right neighbour dashed)",
        fontsize=9)
    return fig


def explore_pooling(image):
    """Live `render_pooling`: window, stride, max/avg and the input shift.
    """
    import ipywidgets as w

    return explorer(
        lambda **v: render_pooling(image, **v),
        {"size": w.IntSlider(value=2, min=1, max=5, description="window",
                             tooltip="window: pooling window height = width"),
         "stride": w.IntSlider(value=2, min=1, max=5, description="stride",
                               tooltip="stride: step between windows"),
         "mode": w.ToggleButtons(options=["max", "avg"], value="max",
                                 description="pooling",
                                 tooltip="pooling: max or average",
                                 style={"button_width": "auto"},
                                 layout={"width": "auto"}),
         "shift": w.IntSlider(value=1, min=0, max=4, description="shift",
                              tooltip="shift: pixels the input moves right"),
         "kernel": w.Dropdown(options=list(KERNELS), value="vertical edge",
                              description="kernel",
                              tooltip="kernel that makes the feature map")},
        title="Pooling and small shifts", columns=3,
    )


def stack_geometry(layers, size=28):
    """Output size and receptive field after each layer of a stack.

    Parameters
    ----------
    layers : list of (kind, kernel, stride)
        ``kind`` is 'conv' or 'pool'; no padding. Items with kind 'none'
        are skipped.
    size : int
        Input height (= width).

    Returns
    -------
    list of dict with keys ``kind, kernel, stride, out, rf, jump, start``
        One per (non-skipped) layer; ``out`` is the output height.
    """
    rows, spec, out = [], [], size
    for i, layer in enumerate(layers):
        if len(layer) != 3:
            raise ValueError(
                f"stack_geometry: layers[{i}] must be (kind, kernel, stride), "
                f"got {layer!r}")
        kind, k, s = layer
        if kind == "none":
            continue
        if kind not in ("conv", "pool"):
            raise ValueError(
                f"stack_geometry: layers[{i}] kind must be 'conv', 'pool' or "
                f"'none', got {kind!r}")
        size_of = conv_output_size if kind == "conv" else pool_output_size
        try:
            new_out = size_of(out, k, s)
        except ValueError:
            raise ValueError(
                f"stack_geometry: layer {i + 1} ({kind} {k}x{k}, stride {s}) "
                f"does not fit its {out}x{out} input") from None
        out = new_out
        spec.append((k, s))
        rf = receptive_field(spec)[-1]
        rows.append({"kind": kind, "kernel": k, "stride": s, "out": out,
                     "rf": rf.size, "jump": rf.jump, "start": rf.start})
    return rows


def render_receptive_field(image, layers):
    """The input region seen by the centre output unit of a layer stack.

    Parameters
    ----------
    image : ndarray, shape (H, H)
    layers : list of (kind, kernel, stride)
        As in `stack_geometry`.

    Returns
    -------
    matplotlib.figure.Figure
        The image with the field of the centre unit (solid) and of its right
        neighbour (dashed, one jump away), and a table per layer.
    """
    x = np.asarray(image, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] != x.shape[1]:
        raise ValueError(
            f"render_receptive_field: image must be square 2-D (H, H), got "
            f"shape {x.shape}")
    rows = stack_geometry(layers, x.shape[0])
    fig = Figure(figsize=(6.0, 3.0), dpi=DPI)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.85,
                        wspace=0.05)
    ax, tab = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.1]})
    ax.imshow(x, cmap="gray", interpolation="nearest")  # ink white
    # Hidden axes (frame kept) are skipped when drawing: much faster than
    # empty tick lists, and a redraw is what a student waits for.
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)
    n = x.shape[0]
    lines = ["layer            out    field  jump"]
    lines.append(f"input         {n:3d}x{n:<3d}    1     1")
    for r in rows:
        name = f"{r['kind']} {r['kernel']}x{r['kernel']} /{r['stride']}"
        lines.append(f"{name:<13} {r['out']:3d}x{r['out']:<3d}  "
                     f"{r['rf']:3d}   {r['jump']:3d}")
    if rows:
        last = rows[-1]
        unit = (last["out"] - 1) // 2
        centre = last["start"] + unit * last["jump"]
        half = (last["rf"] - 1) / 2
        ax.add_patch(Rectangle((centre - half - 0.5, centre - half - 0.5),
                               last["rf"], last["rf"], fill=False,
                               ec="C3", lw=2.5))
        if last["out"] > 1:
            c2 = centre + last["jump"]
            ax.add_patch(Rectangle((c2 - half - 0.5, centre - half - 0.5),
                                   last["rf"], last["rf"], fill=False,
                                   ec="#56b4e9", lw=1.8, ls="--"))
        ax.plot([centre], [centre], "o", color="C3", ms=4)
        ax.set_title(f"field of unit ({unit}, {unit}): {last['rf']}x"
                     f"{last['rf']} px (solid);\nits right neighbour's "
                     "(dashed)", fontsize=8.5)
    else:
        ax.set_title("no layers: each unit sees 1 pixel", fontsize=9)
    ax.set_xlim(-0.5 - 4, n - 0.5 + 4)
    ax.set_ylim(n - 0.5 + 4, -0.5 - 4)
    tab.axis("off")
    tab.text(0, 1, "\n".join(lines), family="monospace", fontsize=9,
             va="top", transform=tab.transAxes)
    return fig


def explore_receptive_field(image):
    """Live `render_receptive_field`: up to four conv/pool layers.
    """
    import ipywidgets as w

    default = [("conv", 3, 1), ("pool", 2, 2), ("conv", 3, 1), ("pool", 2, 2)]
    controls = {}
    for i, (kind, k, s) in enumerate(default, start=1):
        kind_box = w.Dropdown(options=["conv", "pool", "none"], value=kind,
                              description=f"layer {i}",
                              tooltip=f"layer {i}: conv, pool or none",
                              layout={"width": "170px"})
        sliders = (w.IntSlider(value=k, min=1, max=7, description="kernel",
                               tooltip=f"kernel: window size of layer {i}"),
                   w.IntSlider(value=s, min=1, max=3, description="stride",
                               tooltip=f"stride: step of layer {i}"))

        def follow_kind(change, sliders=sliders):
            # a layer set to "none" has no kernel or stride to change
            for slider in sliders:
                slider.disabled = change["new"] == "none"

        kind_box.observe(follow_kind, names="value")
        controls[f"kind{i}"] = kind_box
        controls[f"k{i}"], controls[f"s{i}"] = sliders

    def render(**v):
        layers = [(v[f"kind{i}"], v[f"k{i}"], v[f"s{i}"]) for i in range(1, 5)]
        return render_receptive_field(image, layers)

    return explorer(render, controls, title="Receptive field of a stack",
                    columns=3)
