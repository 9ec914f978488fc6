"""The learner's CI: verify.testing.assert_agrees, and the pytest plugin's verify_impl fixture, run by pytest
itself (pytester) as a learner's own test file would be."""

import importlib.util
import re
from importlib.metadata import distributions
from pathlib import Path

import pytest
from conftest import COURSE, EXAMPLES, REPO, edited

from verify.testing import assert_agrees

pytest_plugins = ["pytester"]

QUICK = {"arch": (3, 4, 4, 1), "iterations": 3, "examples": 32, "progress": False}
SLIPS = {  # the slip, planted in a copy of the course's network: (old, new, function, words of its hint)
    "db without 1/m": (
        "db = (1 / m) * np.sum(dZ, axis=1, keepdims=True)",
        "db = np.sum(dZ, axis=1, keepdims=True)",
        "linear_backward",
        "a missing 1/m",
    ),
    "relu'(0) = 1": ("dZ[activation_cache <= 0] = 0", "dZ[activation_cache < 0] = 0", "relu_backward", "exactly 0"),
}


def slipped(folder: Path, slip: str, name: str = "my_network.py") -> Path:
    old, new, _, _ = SLIPS[slip]
    return edited(folder, COURSE, (old, new), name=name)


@pytest.mark.end_to_end
def test_a_correct_implementation_passes_and_returns_its_report():
    report = assert_agrees(COURSE, **QUICK)
    assert report.verdict == "pass" and report.implementation == "course_network.py"
    assert report.run_dir is None  # no TensorBoard logs unless asked


@pytest.mark.parametrize("slip", SLIPS)
@pytest.mark.end_to_end
def test_a_slip_fails_with_the_short_form_naming_the_function_and_its_hint(tmp_path, slip):
    path = slipped(tmp_path, slip)
    with pytest.raises(AssertionError) as failure:
        assert_agrees(path, **QUICK)
    message = str(failure.value)
    _, _, function, hint = SLIPS[slip]
    lines = message.splitlines()
    assert lines[0] == "VERDICT: FAIL" and lines[1].startswith(f"fix `{function}`")
    assert hint in message and "first divergence: " in message
    assert len(lines) <= 10


@pytest.mark.end_to_end
def test_a_module_object_and_lists_are_taken():
    spec = importlib.util.spec_from_file_location("course_network_for_testing", COURSE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = assert_agrees(module, **{**QUICK, "arch": [3, 4, 4, 1]})
    assert report.ok and report.config.arch == (3, 4, 4, 1) and report.implementation == "course_network_for_testing"


def test_an_option_that_is_not_a_config_field_is_named():
    with pytest.raises(TypeError, match=r"unknown option 'lr'; the options are Config's fields: .*learning_rate"):
        assert_agrees(COURSE, lr=0.01)


def test_installing_the_package_registers_the_plugin():
    # pytest loads the pytest11 entry points of every installed distribution (a stale nn_verify.egg-info in the
    # checkout may shadow the installed metadata for importlib.metadata.entry_points, not for pytest)
    plugins = {
        (e.name, e.value)
        for d in distributions()
        if d.metadata["Name"] == "nn-verify"
        for e in d.entry_points
        if e.group == "pytest11"
    }
    assert plugins == {("nn_verify", "verify.pytest_plugin")}


@pytest.mark.end_to_end
def test_the_fixture_passes_a_correct_file_and_fails_a_slip_with_the_function_and_hint(pytester):
    pytester.path.joinpath("right.py").write_text(COURSE.read_text())
    slipped(pytester.path, "relu'(0) = 1", "slipped.py")
    pytester.makepyfile(
        test_learner="""
        from pathlib import Path

        HERE = Path(__file__).parent
        QUICK = dict(arch=(3, 4, 4, 1), iterations=3, examples=32, progress=False)

        def test_right(verify_impl):
            assert verify_impl(HERE / "right.py", **QUICK).ok

        def test_slipped(verify_impl):
            verify_impl(HERE / "slipped.py", **QUICK)
    """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "AssertionError: VERDICT: FAIL" in output
    assert "fix `relu_backward`: its dZ differs (it differs only where Z is exactly 0" in output


def _readme_block(title: str, language: str) -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)
    return block


@pytest.mark.end_to_end
def test_the_readme_ci_example_passes_and_catches_a_slip(pytester):
    """The README's test file, as written, beside a correct my_network.py, then beside one with a slip."""
    example = _readme_block("Your own CI", "py")
    pytester.path.joinpath("my_network.py").write_text(COURSE.read_text())
    pytester.makepyfile(test_my_network=example)
    pytester.runpytest().assert_outcomes(passed=2)
    slipped(pytester.path, "db without 1/m")
    result = pytester.runpytest()
    result.assert_outcomes(failed=2)
    # one failure report per test (the short summary repeats the message in full where the CI variable is set)
    assert (
        sum(line.startswith("E ") and "fix `linear_backward`: its db differs" in line for line in result.stdout.lines)
        == 2
    )
    shown = [line for line in _readme_block("Your own CI", "text").splitlines() if line.startswith("E ")]
    assert len(shown) == 4 and all(line in result.stdout.lines for line in shown)  # the README shows this run


def test_the_readme_workflow_is_the_example_file():
    assert _readme_block("Your own CI", "yaml") == (EXAMPLES / "github-actions-verify.yml").read_text()
