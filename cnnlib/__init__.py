"""cnnlib: convolutional neural networks from scratch in pure NumPy.

A small library written to be read next to the notebooks in ``notebooks/``.
Every operation is a pair of pure functions::

    out, cache = op_forward(x, ...)
    dx, ...    = op_backward(dout, cache)

with a readable loop version (``*_naive``) that the notebooks show and a fast
vectorised version that training uses; the tests prove that they agree.

Conventions (kept everywhere)
-----------------------------
- Layout is NCHW, as in PyTorch: input ``x (N, C, H, W)``, conv weights
  ``w (F, C, KH, KW)``, bias ``b (F,)``, output ``(N, F, H_out, W_out)``.
- ``padding`` counts zeros *per side*; ``stride``, ``padding`` and
  ``dilation`` are an int or an ``(h, w)`` pair; ``dilation=1`` is an
  ordinary kernel.
- Output size (floor: positions that do not fit are dropped)::

      H_out = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1

- What deep learning calls "convolution" is cross-correlation (the kernel is
  not flipped). ``cnnlib.conv.correlate2d`` and ``cnnlib.conv.convolve2d``
  show the difference.
- Every public function takes float32 or float64 arrays and returns the same
  dtype. Names: ``x, w, b, out, dout, dx, dw, db, cache`` and
  ``N, C, H, W, F, KH, KW``.
- Bad input raises ``ValueError`` or ``TypeError`` naming the function, the
  argument, what was expected and what came.
- Importing cnnlib does no work: no seeding, no plotting style, no data.

Modules, in the order the notebooks teach them:

- numbers: ``shapes`` (sizes, receptive fields, argument checks),
  ``local`` (dense vs locally connected vs conv), ``conv``,
  ``activations``, ``pool``, ``linear``, ``losses``, ``gradcheck``;
- networks: ``layers``, ``model`` (``Sequential``, ``lenet5``,
  ``tiny_cnn``), ``optim``, ``train``, ``parallel`` (a batch split across
  worker processes), ``callbacks`` (progress bar, live plot), ``augment``,
  ``checkpoint``, ``cli`` (``python -m cnnlib.train``);
- data: ``data`` (shipped MNIST digits, IDX files, a sample photograph);
- teaching: ``plotting`` (a package of figure helpers), ``widgets`` (one
  explorer module per topic), ``checks`` (exercise feedback),
  ``environment`` (the setup check).
"""

__version__ = "0.1.0"
