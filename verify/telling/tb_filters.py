"""A conv layer's filters as TensorBoard images: the implementation's, torch's, and their difference.

The grid (filter_grid): the course's W (f, f, n_C_prev, n_C) as one HWC image, float32 in [0, 1], 3 channels.
- n_C_prev == 3: each filter is one RGB tile (input channel k drives colour k), the filters in rows of COLUMNS.
- otherwise: each input channel of each filter is a grey tile, one row of tiles per filter (row c is filter c,
  column k its input channel k), so a row reads as one filter across its inputs.
- Each weight becomes a square block of max(1, TILE_PIXELS // f) pixels (nearest neighbour: a 3 x 3 filter is
  drawn 8 times larger, 24 x 24 pixels), so a small kernel's pattern is visible; tiles are 1 black pixel apart
  and from the edge.
- Scale: by default each tile is stretched to its own range, (w - min) / (max - min) over the tile (an RGB
  tile's three channels together, so its colours keep their balance; a constant tile is mid-grey), so every
  filter's pattern shows whatever its size. With `scale`, every tile is w / scale on one shared scale, clipped
  to [0, 1]: the difference image uses it, so equal weights are black and a brighter block is a larger gap.
"""

from __future__ import annotations

import math

import numpy as np

TILE_PIXELS = 24  # a tile is about this many pixels wide: a weight is a block of TILE_PIXELS // f pixels
COLUMNS = 8  # RGB filters per row of the grid
BORDER = 1  # black pixels between tiles and around the grid


def _tiles(W: np.ndarray) -> tuple[np.ndarray, int, int]:
    """(tiles (rows, cols, f, f, channels), rows, cols): one RGB tile per filter, or one grey tile per filter and
    input channel, in the grid's order (empty cells zero)."""
    f, _, n_C_prev, n_C = W.shape
    if n_C_prev == 3:
        rows, cols = math.ceil(n_C / COLUMNS), min(n_C, COLUMNS)
        tiles = np.zeros((rows * cols, f, f, 3))
        tiles[:n_C] = W.transpose(3, 0, 1, 2)  # (n_C, f, f, 3)
        return tiles.reshape(rows, cols, f, f, 3), rows, cols
    return W.transpose(3, 2, 0, 1)[..., None], n_C, n_C_prev  # (n_C, n_C_prev, f, f, 1)


def _normalised(tiles: np.ndarray, scale: float | None) -> np.ndarray:
    """Each tile over its own range (scale None), or every tile / scale, clipped to [0, 1]."""
    if scale is not None:
        return np.zeros_like(tiles) if scale <= 0 else np.clip(tiles / scale, 0.0, 1.0)
    low = tiles.min(axis=(2, 3, 4), keepdims=True)
    span = tiles.max(axis=(2, 3, 4), keepdims=True) - low
    flat = span == 0
    return np.where(flat, 0.5, (tiles - low) / np.where(flat, 1.0, span))


def filter_grid(W: np.ndarray, scale: float | None = None) -> np.ndarray:
    """The course's conv weights W (f, f, n_C_prev, n_C) as one image (H, W, 3), float32 in [0, 1], laid out and
    scaled as the module's docstring says; H = rows (f k + 1) + 1 for k = max(1, TILE_PIXELS // f), the same for
    the width with the columns."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 4 or W.shape[0] != W.shape[1] or min(W.shape) < 1:
        raise ValueError(f"conv weights must be (f, f, n_C_prev, n_C), got {W.shape}")
    f = W.shape[0]
    k = max(1, TILE_PIXELS // f)
    tiles, rows, cols = _tiles(W)
    tiles = _normalised(tiles, scale).repeat(k, axis=2).repeat(k, axis=3)  # nearest neighbour: k x k blocks
    side = f * k + BORDER
    grid = np.zeros((rows * side + BORDER, cols * side + BORDER, 3), dtype=np.float32)
    for r in range(rows):
        for c in range(cols):
            top, left = r * side + BORDER, c * side + BORDER
            grid[top : top + f * k, left : left + f * k] = tiles[r, c]  # a grey tile broadcasts to 3 channels
    return grid


def log_filters(writer, tag_prefix: str, l: int, W_impl: np.ndarray, W_ref: np.ndarray, step: int) -> None:
    """Three images of conv layer l's filters, `<tag_prefix>/conv<l>/impl`, `.../torch` (each tile on its own
    range) and `.../difference` (|W_impl - W_ref| on one scale for every tile: zero is black), and that scale,
    the largest |W_impl - W_ref|, as the scalar `.../difference_max`. writer: a torch SummaryWriter."""
    W_impl, W_ref = np.asarray(W_impl, dtype=np.float64), np.asarray(W_ref, dtype=np.float64)
    if W_impl.shape != W_ref.shape:
        raise ValueError(f"conv{l}: the implementation's W is {W_impl.shape} but torch's is {W_ref.shape}")
    difference = np.abs(W_impl - W_ref)
    largest = float(np.max(difference))  # nan or inf if a side diverged: drawn as what clip makes of it
    tag = f"{tag_prefix}/conv{l}"
    writer.add_image(f"{tag}/impl", filter_grid(W_impl), step, dataformats="HWC")
    writer.add_image(f"{tag}/torch", filter_grid(W_ref), step, dataformats="HWC")
    writer.add_image(f"{tag}/difference", filter_grid(difference, scale=largest), step, dataformats="HWC")
    writer.add_scalar(f"{tag}/difference_max", largest, step)
