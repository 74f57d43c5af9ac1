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
- Output size, computed in one place, ``cnnlib.shapes`` (floor: positions
  that do not fit are dropped)::

      H_out = (H + 2*padding - dilation*(KH - 1) - 1) // stride + 1

- What deep learning calls "convolution" is cross-correlation (the kernel is
  not flipped). ``cnnlib.conv.correlate2d`` and ``cnnlib.conv.convolve2d``
  show the difference.
- Every public function takes float32 or float64 arrays and returns the same
  dtype, NCHW in and out; a faster internal memory layout (``conv`` works
  channels-last) stays inside the module that uses it.
- Bad input raises ``ValueError`` or ``TypeError`` naming the function, the
  argument, what was expected and what came. A convolution or pooling
  whose arrays would exceed ``cnnlib.shapes.MAX_ARRAY_BYTES`` (4 GiB) is
  refused before anything is allocated.
- Importing cnnlib does no work: no seeding, no plotting style, no data.

Vocabulary (the same word means the same thing in every module)
----------------------------------------------------------------
- arrays: ``x, w, b, out, dout, dx, dw, db``; ``dw`` is always the weight
  gradient. ``cache`` is a named tuple (``ConvCache``, ``MaxPoolCache``,
  ...) made by ``op_forward`` and read by ``op_backward``; print it to see
  what the backward pass keeps.
- sizes: ``N`` samples, ``C`` input channels, ``F`` filters (output
  channels), input ``(H, W)``, kernel or pool window ``(KH, KW)``, output
  ``(H_out, W_out)``; stride ``(sh, sw)``, padding ``(ph, pw)``, dilation
  ``(dil_h, dil_w)``.
- arguments: ``input_size`` is the input's length H (or ``(H, W)``);
  ``kernel`` is a conv kernel's size; ``size`` is a pooling window's size
  (``maxpool2d_forward(x, size=2)``, ``pool_output_size(26, size=2)``);
  ``stride``, ``padding`` and ``dilation`` as above. Layer classes name
  the conv kernel as PyTorch does: ``Conv2D(C, F, kernel_size=3)``.

Modules, in the order the notebooks teach them:

- numbers: ``shapes`` (sizes, receptive fields, argument checks),
  ``local`` (dense vs locally connected vs conv), ``conv``,
  ``activations``, ``pool``, ``linear``, ``losses``, ``gradcheck``;
- networks: ``layers``, ``model`` (``Sequential``, ``lenet5``,
  ``tiny_cnn``), ``optim``, ``train`` (the training loop),
  ``callbacks`` (progress bar, live plot), ``augment``, ``checkpoint``,
  ``cli`` (``python -m cnnlib.train``), ``inspect_model`` (what a trained
  network learned: top patches, occlusion), ``threads`` (a fair share of
  BLAS threads when many kernels share a machine);
- upsampling: ``conv_transpose`` (transposed convolution, the adjoint of
  ``conv``), ``upsample`` (nearest upsampling), ``autoencoder``;
- data: ``data`` (shipped MNIST digits in ``cnnlib/datasets``, IDX files,
  a sample photograph);
- teaching: ``kernels`` (named 3x3 kernels), ``plotting`` (a package of
  figure helpers), ``widgets`` (one explorer module per topic), ``checks``
  (exercise feedback), ``grading`` and ``autograde`` (checks a student
  cannot rebind; the cells nbgrader runs), ``environment`` (the setup
  check).
"""

__version__ = "0.1.0"
