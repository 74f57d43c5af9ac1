"""Pictures for the notebooks: images, kernels with their numbers, feature
maps, and tensors drawn as boxes. This module gathers them in one place;
each lives in a module of this package named for its concept:

- `base`: colour conventions, `show_image`, `show_signed`;
- `value_grids`: `show_values`, `show_kernel` (numbers in cells);
- `feature_maps`: `mosaic`, `show_mosaic`, `show_maps`;
- `tensor_boxes`: `show_tensor` (array shapes as 3-D boxes);
- `predictions`: probabilities, digit grids, confusion matrix (notebook 07);
- `cell_text`: many labels drawn as one fast artist.

Every function draws on a Matplotlib axes and returns it (or the figure).
Pass ``ax`` to draw into an existing figure; without it a new pyplot figure
is made, so a notebook cell can call one function and then ``plt.show()``.
Nothing here calls ``plt.show()`` or changes global style on import; a
notebook's setup cell may call `readable_figures()` (text >= 10 px).

Colour conventions kept in every notebook: grey for images and unsigned
values, a zero-centred red/blue map (red positive, blue negative, white
zero) with a colour bar for signed values such as kernels and feature maps.
"""

from .base import (
    READABLE_RC,
    SIGNED_CMAP,
    readable_figures,
    show_image,
    show_signed,
    symmetric_limit,
)
from .feature_maps import mosaic, show_maps, show_mosaic
from .predictions import (
    show_confusion_matrix,
    show_digits,
    show_digits_with_probabilities,
    show_layer_outputs,
    show_probabilities,
)
from .tensor_boxes import draw_box, show_tensor
from .value_grids import axis_numbers, cell_lines, show_kernel, show_values

__all__ = [
    "SIGNED_CMAP",
    "READABLE_RC",
    "readable_figures",
    "symmetric_limit",
    "show_image",
    "show_signed",
    "show_values",
    "cell_lines",
    "axis_numbers",
    "show_kernel",
    "mosaic",
    "show_mosaic",
    "show_maps",
    "draw_box",
    "show_tensor",
    "show_probabilities",
    "show_digits",
    "show_confusion_matrix",
    "show_layer_outputs",
    "show_digits_with_probabilities",
]
