"""Named 3x3 kernels: one vocabulary for the whole course.

Every notebook and explorer takes its hand-made kernels from here, so a name
means the same numbers everywhere.

Sign convention (stated once, kept for every edge kernel): an edge kernel is
a derivative estimate. Its response is **positive where the image gets
brighter** going right (``vertical edge``, ``Sobel x``), going down
(``horizontal edge``, ``Sobel y``) or going down-right (``diagonal edge``),
and negative where it gets darker. Images in the course draw ink bright
(MNIST's 1.0 is white), so on a digit the *left* side of a vertical stroke is
positive and its *right* side negative; the kernel's negative finds the
other side.

Kernels are applied as cnnlib applies every kernel: by cross-correlation
(`cnnlib.conv.correlate2d`), not flipped.

>>> KERNELS["vertical edge"]
array([[-1.,  0.,  1.],
       [-1.,  0.,  1.],
       [-1.,  0.,  1.]])
>>> sorted(KERNELS) == sorted(KERNEL_TEXT)
True

Taught in notebooks/02_convolution.ipynb.
"""

import numpy as np

__all__ = ["KERNELS", "KERNEL_TEXT", "get_kernel"]


def _k(rows):
    return np.array(rows, dtype=np.float64)


KERNELS = {
    "identity": _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "vertical edge": _k([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "horizontal edge": _k([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "diagonal edge": _k([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]]),
    "Sobel x": _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "Sobel y": _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "sharpen": _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box blur": np.full((3, 3), 1 / 9),
    "Gaussian blur": _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16,
}

# Each kernel as the kernel editor shows it (fractions kept for the blurs).
KERNEL_TEXT = {
    name: "\n".join(" ".join(f"{v:g}" for v in row) for row in k)
    for name, k in KERNELS.items()
}
KERNEL_TEXT["box blur"] = "1/9 1/9 1/9\n1/9 1/9 1/9\n1/9 1/9 1/9"
KERNEL_TEXT["Gaussian blur"] = "1/16 2/16 1/16\n2/16 4/16 2/16\n1/16 2/16 1/16"


def get_kernel(name, func="get_kernel"):
    """Return a copy of the named kernel, shape (3, 3), float64.

    Parameters
    ----------
    name : str
        A key of `KERNELS`.

    Raises
    ------
    ValueError
        ``name`` is not a key of `KERNELS`; the message lists the names.
    """
    if not isinstance(name, str) or name not in KERNELS:
        raise ValueError(f"{func}: kernel must be one of {list(KERNELS)}, "
                         f"got {name!r}")
    return KERNELS[name].copy()
