"""A tiny explorer that proves widgets work.

Taught in notebooks/00_setup_check.ipynb.
"""

import numpy as np
from matplotlib.figure import Figure

from .base import DPI, explorer

__all__ = ["render_wave", "explore_wave"]


def render_wave(frequency=1, kernel_size=1):
    """A sampled sine wave, and the same wave smoothed by a box kernel.

    Parameters
    ----------
    frequency : int, cycles over the plotted interval (1..10)
    kernel_size : int, width of the moving average in samples (1..31, odd)

    Returns
    -------
    matplotlib.figure.Figure
    """
    if not 1 <= frequency <= 20:
        raise ValueError(f"render_wave: frequency must be in 1..20, "
                         f"got {frequency}")
    if kernel_size < 1 or kernel_size % 2 == 0:
        raise ValueError(f"render_wave: kernel_size must be a positive odd "
                         f"int, got {kernel_size}")
    t = np.linspace(0, 1, 200)
    wave = np.sin(2 * np.pi * frequency * t)
    smooth = np.convolve(wave, np.ones(kernel_size) / kernel_size, mode="same")
    fig = Figure(figsize=(6, 2.4), dpi=DPI)
    ax = fig.subplots()
    ax.plot(t, wave, color="0.6", ls="--", label="signal (dashed)")
    ax.plot(t, smooth, color="C0", lw=2,
            label=f"moving average of {kernel_size} (solid)")
    ax.set(xlabel="time", ylabel="value", ylim=(-1.2, 1.2),
           title=f"frequency {frequency}")
    ax.legend(loc="upper right", fontsize=8)
    ax.tick_params(labelsize=8)
    fig.tight_layout()
    return fig


def explore_wave():
    """Two sliders; the picture must change as you drag them."""
    import ipywidgets as w

    return explorer(render_wave, {
        "frequency": w.IntSlider(value=1, min=1, max=10, description="frequency",
                                 tooltip="frequency: cycles of the wave"),
        "kernel_size": w.IntSlider(value=1, min=1, max=31, step=2,
                                   description="kernel",
                                   tooltip="kernel: width of the moving "
                                           "average"),
    })
