"""A conv layer's filters as TensorBoard images: the grid's layout and scale, and the three images and scalar written."""

import io

import numpy as np
import pytest
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator as ea

from verify.telling.tb_filters import filter_grid, log_filters


def expected_shape(f: int, rows: int, cols: int) -> tuple[int, int, int]:
    side = f * max(1, 24 // f)  # a tile: f weights of 24 // f pixels each
    return rows * (side + 1) + 1, cols * (side + 1) + 1, 3


@pytest.mark.parametrize(
    ("f", "n_C_prev", "n_C", "rows", "cols"),
    [
        (3, 8, 16, 16, 8),  # grey: a row per filter, a column per input channel
        (5, 1, 4, 4, 1),
        (3, 3, 8, 1, 8),  # RGB: a tile per filter, rows of 8
        (4, 3, 10, 2, 8),  # 10 RGB filters: two rows, the second part empty
        (30, 2, 1, 1, 2),  # larger than 24: one pixel a weight
    ],
)
def test_the_grid_has_a_tile_per_filter_and_input_channel(f, n_C_prev, n_C, rows, cols):
    W = np.random.default_rng(0).standard_normal((f, f, n_C_prev, n_C))
    grid = filter_grid(W)
    assert grid.shape == expected_shape(f, rows, cols)
    assert grid.min() >= 0 and grid.max() <= 1


def test_a_one_hot_filter_lights_exactly_its_upscaled_block():
    W = np.zeros((3, 3, 2, 2))
    W[2, 1, 1, 0] = -0.3  # filter 0, input channel 1, row 2, column 1: the rest of its tile is larger
    W[..., 1] = np.random.default_rng(1).standard_normal((3, 3, 2))
    grid = filter_grid(-W)  # negated: the one entry becomes the tile's maximum, every other entry its minimum
    k, side = 8, 3 * 8 + 1  # 3 x 3 weights drawn 8 times larger, a 1-pixel border
    tile = grid[1 : 1 + 24, 1 + side : 1 + side + 24]  # row 0 (filter 0), column 1 (input channel 1)
    lit = np.zeros((24, 24, 3), dtype=bool)
    lit[2 * k : 3 * k, 1 * k : 2 * k] = True
    assert np.array_equal(tile == 1.0, lit) and np.all(tile[~lit] == 0.0)
    assert np.all(grid[1 : 1 + 24, 1 : 1 + 24] == 0.5)  # filter 0's input channel 0 is constant: mid-grey


def test_an_rgb_filter_keeps_its_colour():
    W = np.zeros((3, 3, 3, 1))
    W[0, 2, 0, 0] = 1.0  # red at the weight of row 0, column 2
    grid = filter_grid(W)
    assert grid[1, 1 + 16].tolist() == [1.0, 0.0, 0.0]  # its 8 x 8 block, after the 1-pixel border
    assert grid[1 + 16, 1].tolist() == [0.0, 0.0, 0.0] and grid[1, 1].tolist() == [0.0, 0.0, 0.0]


def test_a_shared_scale_keeps_tiles_comparable_and_zero_black():
    D = np.zeros((3, 3, 1, 2))
    D[0, 0, 0, 0], D[0, 0, 0, 1] = 2.0, 1.0
    grid = filter_grid(D, scale=2.0)
    assert grid[1, 1, 0] == 1.0 and grid[1 + 25, 1, 0] == 0.5  # filter 1's peak is half filter 0's
    assert not filter_grid(np.zeros((3, 3, 4, 5)), scale=0.0).any()


def test_wrong_weights_are_refused():
    with pytest.raises(ValueError, match="f, f, n_C_prev, n_C"):
        filter_grid(np.zeros((3, 2, 1, 1)))


def images(path) -> ea.EventAccumulator:
    acc = ea.EventAccumulator(str(path), size_guidance=ea.STORE_EVERYTHING_SIZE_GUIDANCE)
    acc.Reload()
    return acc


def decoded(acc, tag) -> np.ndarray:
    (event,) = acc.Images(tag)
    return np.asarray(Image.open(io.BytesIO(event.encoded_image_string)))


def test_three_images_and_the_difference_scale_are_written(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    W_ref = np.random.default_rng(2).standard_normal((3, 3, 4, 6))
    W_impl = W_ref.copy()
    W_impl[1, 1, 2, 5] += 0.25
    W_same = np.random.default_rng(3).standard_normal((5, 5, 3, 2))
    writer = SummaryWriter(str(tmp_path))
    log_filters(writer, "filters", 1, W_impl, W_ref, 7)
    log_filters(writer, "filters", 2, W_same, W_same.copy(), 7)
    writer.close()
    acc = images(tmp_path)
    sides = ("impl", "torch", "difference")
    assert sorted(acc.Tags()["images"]) == sorted(f"filters/conv{l}/{s}" for l in (1, 2) for s in sides)
    for side in sides:
        event = acc.Images(f"filters/conv1/{side}")[0]
        assert (event.step, event.height, event.width) == (7, *expected_shape(3, 6, 4)[:2])
    (largest,) = acc.Scalars("filters/conv1/difference_max")
    assert largest.step == 7 and largest.value == pytest.approx(0.25)
    difference = decoded(acc, "filters/conv1/difference")
    assert difference.max() == 255 and np.count_nonzero(difference[..., 0]) == 8 * 8  # one lit block
    assert not decoded(acc, "filters/conv2/difference").any()  # equal weights: all black
    assert acc.Scalars("filters/conv2/difference_max")[0].value == 0.0
    assert decoded(acc, "filters/conv2/impl").shape == expected_shape(5, 1, 2)


def test_weights_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="conv3"):
        log_filters(None, "filters", 3, np.zeros((3, 3, 1, 2)), np.zeros((3, 3, 1, 3)), 0)
