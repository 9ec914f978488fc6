"""The paths that keep a verified step cheap judge as the plain ones would: a large pair compared on its own
agrees with the concatenated pass, entry for entry; an update is lent the gradients no check reads again (dA0, as
large as X) and handed copies of those the checks read; free-running pairs the two sides' arrays by name; what a
step reuses from the step before (free-running's gaps, the parameters' sizes) gives the report measuring it again
gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

import verify
import verify.runner
from verify import Config
from verify.checking.training_free import _gaps, _largest_each
from verify.judging import tolerance
from verify.judging.agreement import ALONE, BLOCK, _agreement, agreement
from verify.judging.tolerance import largest, underflow

COURSE = Path(__file__).resolve().parents[2] / "examples" / "course_network.py"
RUN = ("--arch", "3,4,4,1", "--examples", "40", "--no-tensorboard")


def _pairs(dtype, rng) -> list:
    b, small = rng.standard_normal(ALONE + 7).astype(dtype), rng.standard_normal(5).astype(dtype)
    infinite = b.copy()
    infinite[3] = np.inf
    nan = b.copy()
    nan[5] = np.nan
    blocks = rng.standard_normal((3, BLOCK - 1)).astype(dtype)  # read in blocks: its largest gap and entry in the last
    blocks[2, -2] = 9.0
    off = blocks + np.asarray(1e-9, dtype)
    off[2, -1] += 1
    late_nan = off.copy()
    late_nan[-1, -3] = np.nan
    return [
        (off, blocks),  # large, read a block at a time
        (np.asfortranarray(off), blocks),  # large, one side not in C order
        (late_nan, blocks),  # large, a nan in its last block
        (b.tolist(), b),  # large, one side not an array
        (b + np.asarray(1e-9, dtype), b),  # large, near
        (small + np.asarray(1e-9, dtype), small),  # small, among the large
        (b * 1.5, b),  # large, far
        (infinite, b),  # large, one side infinite
        (nan, nan),  # large, nan on both sides
        (b.reshape(-1, 1), b.reshape(1, -1)),  # large, shapes that differ
        (np.float64(0.25), np.float64(0.5)),  # a cost
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_pair_judged_alone_gives_the_stats_of_the_concatenated_pass(dtype):
    pairs = _pairs(dtype, np.random.default_rng(0))
    scales = [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1e300, 1.0, 1.0, 0.5]
    floors = [0.0, 0.0, 0.0, 0.0, 0.0, 1e-12, 0.0, 0.0, 0.0, 0.0, 1e-3]
    fast = agreement(pairs, scales, 1e-6, floors)
    plain = [_agreement([(a, b)], [s], 1e-6, [f + underflow(a, b)])[0] for (a, b), s, f in zip(pairs, scales, floors)]
    for got, want in zip(fast, plain, strict=True):
        fields = [(g.max_abs, g.scale, g.tolerance, g.size, g.overflow, g.shape) for g in (got, want)]
        assert repr(fields[0]) == repr(fields[1])  # (nan where both are nan)
    assert fast[0].max_abs == pytest.approx(1.0, rel=1e-6) and fast[0].size == 9.0 and not fast[0].agrees
    assert fast[1].max_abs == fast[0].max_abs and not fast[2].agrees
    assert fast[4].agrees and fast[5].agrees and not fast[6].agrees and not fast[9].agrees


def _learner(tmp_path: Path, extra: str) -> str:
    path = tmp_path / "learner.py"
    path.write_text(COURSE.read_text() + "\n\n" + extra)
    return str(path)


LENDING = """
_backward, _update, _last = L_model_backward, update_parameters, {}
def L_model_backward(AL, Y, caches):
    _last.clear()
    _last.update(_backward(AL, Y, caches))
    return dict(_last)
def update_parameters(params, grads, learning_rate):
    updated = _update(params, grads, learning_rate)
    if "dA0" in grads:  # (the unit check hands dW and db alone)
        with open(SEEN, "a") as out:
            out.write(f"{grads['dA0'] is _last['dA0']} {grads['dW1'] is _last['dW1']}\\n")
        grads["dA0"][...] = np.nan  # what no check reads again
    grads["dW1"][...] = 0.0  # what lockstep compares: its own copy was written, not the verifier's
    return updated
"""


def test_an_update_is_lent_dA0_and_handed_its_own_copy_of_each_parameter_gradient(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(verify.runner, "loop_driver", lambda *args: None)  # the adapter's calls, then the loop's
    seen = tmp_path / "seen.txt"
    learner = _learner(tmp_path, f"SEEN = {str(seen)!r}\n" + LENDING)
    code, out, err = run_cli(capsys, *RUN, "--iterations", "4", "--impl", learner)
    assert code == 0 and out.startswith("VERDICT: PASS"), out + err
    # lockstep's 4 updates (the loop check's, which calls its own functions, hand its own arrays: "True True")
    lines = seen.read_text().splitlines()
    assert lines.count("True False") == 4 and all(line.startswith("True") for line in lines), lines


def test_free_running_pairs_the_arrays_by_name_whatever_order_each_side_holds_them():
    rng = np.random.default_rng(1)
    torch_side = {
        "W1": rng.standard_normal((4, 3)),
        "b1": rng.standard_normal((4, 1)),
        "W2": rng.standard_normal((1, 4)),
    }
    mine = {key: torch_side[key] + 1e-3 * (i + 1) for i, key in enumerate(torch_side)}
    reordered = {key: mine[key] for key in ("W2", "b1", "W1")}  # 12 + 4 + 4 entries, as 4 + 4 + 12
    assert np.allclose(_gaps(reordered, torch_side, list(torch_side)), [1e-3, 2e-3, 3e-3], rtol=1e-9)
    assert _largest_each(reordered).tolist() == [largest(reordered[k]) for k in ("W2", "b1", "W1")]


def test_an_entrywise_row_that_agrees_exactly_is_judged_by_its_finest_entry():
    """W3 of the Adam notebook: a dead entry (its gradient 0 at every step, so a huge per-entry scale) beside a live
    one; both sides equal to the bit. The row was judged by entry 0, the dead one, and called unresolved."""
    b = np.array([[0.0, 0.01]])
    (same,) = agreement([(b.copy(), b)], [np.array([[3e5, 1e-2]])], 1e-7)
    assert same.agrees and same.resolved and same.tolerance == pytest.approx(1e-9)
    (moved,) = agreement([(b + [[0.0, 1e-18]], b)], [np.array([[3e5, 1e-2]])], 1e-7)
    assert moved.resolved and moved.tolerance == same.tolerance  # as when rounding moved the live entry
    (off,) = agreement([(b + [[0.0, 1e-6]], b)], [np.array([[3e5, 1e-2]])], 1e-7)
    assert not off.agrees


def _plain_paths(monkeypatch) -> None:
    """Every measurement a step reuses, measured again instead: the free-running gaps before a step, the
    parameters' sizes under the update's floors, a large pair's gap over the whole pair at once."""
    from verify.checking import training_free, training_lockstep
    from verify.judging import agreement as agreement_module

    def gaps_before(self, i, impl_before, torch_before, keys):
        return _gaps(impl_before, torch_before, keys)

    def update_floors(params, dtype, sizes=None):
        return tolerance.update_floors(params, dtype)

    def gap_and_size(a, b):
        diff = np.subtract(a, b)
        return float(np.abs(diff).max()), largest(b)

    monkeypatch.setattr(training_free._FreeRunning, "_gaps_before", gaps_before)
    monkeypatch.setattr(training_lockstep, "update_floors", update_floors)
    monkeypatch.setattr(agreement_module, "_gap_and_size", gap_and_size)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_what_a_step_reuses_gives_the_report_measuring_it_again_gives(monkeypatch, dtype):
    """200 x 100 weights: a large pair read in blocks; 30 iterations: free-running's gaps carried over 29 times."""
    config = Config(arch=(200, 100, 1), examples=60, iterations=30, dtype=dtype, tensorboard=False, progress=False)
    reused = verify.run(config).as_dict()
    _plain_paths(monkeypatch)
    measured = verify.run(config).as_dict()
    reused.pop("seconds", None), measured.pop("seconds", None)
    assert reused["verdict"] == "pass" and reused == measured
