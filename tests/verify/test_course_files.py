"""The course's own files, as a learner has them: notebooks and their "Download as .py" export that
import matplotlib and h5py, and helper files beside them (tests/verify/course_files/) that import
plotting and data libraries at their top. Where those libraries are missing (blocked here by a
finder, so the tests hold on a machine that has them), they never stop verification; a graded
function that really calls one is one line naming it, exit 2.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import QUIET, assert_usage_error, run_cli
from test_notebook import functions_of, write_notebook

import verify
from verify.errors import MissingPackageError
from verify.impl import load_module, standins
from verify.impl.loading import cell_label

pytestmark = pytest.mark.usefixtures("forget_loaded_modules")

REPO = Path(__file__).resolve().parents[2]
COURSE = REPO / "examples" / "course_network.py"
HELPERS = Path(__file__).parent / "course_files"
HELPER_FUNCTIONS = ("def sigmoid(", "def relu(", "def sigmoid_backward(", "def relu_backward(")

# The first code cell of the course's week-4 "Building your Deep Neural Network: Step by Step", as shipped.
OPENING_CELL = """import numpy as np
import h5py
import matplotlib.pyplot as plt
from testCases import *
from dnn_utils import sigmoid, sigmoid_backward, relu, relu_backward
from public_tests import *

%matplotlib inline
plt.rcParams['figure.figsize'] = (5.0, 4.0) # set default size of plots
plt.rcParams['image.interpolation'] = 'nearest'
plt.rcParams['image.cmap'] = 'gray'

%load_ext autoreload
%autoreload 2

np.random.seed(1)
"""
# The same cell in Jupyter's "Download as .py" export.
EXPORTED_OPENING = (
    OPENING_CELL.replace("%matplotlib inline", "get_ipython().run_line_magic('matplotlib', 'inline')")
    .replace("%load_ext autoreload", "get_ipython().run_line_magic('load_ext', 'autoreload')")
    .replace("%autoreload 2", "get_ipython().run_line_magic('autoreload', '2')")
)
TEST_CELL = """t_X, t_parameters = L_model_forward_test_case_2hidden()
t_AL, t_caches = L_model_forward(t_X, t_parameters)
print("AL = " + str(t_AL))
L_model_forward_test(L_model_forward)
"""

# The course's week-4 "Deep Neural Network for Image Classification: Application" (v3, beside dnn_app_utils_v3.py),
# cell by cell as Jupyter ran it: its top-level code loads the cat pictures, trains for 2,500 iterations and plots.
APPLICATION = [
    (
        1,
        """import time
import numpy as np
import h5py
import matplotlib.pyplot as plt
import scipy
from PIL import Image
from scipy import ndimage
from dnn_app_utils_v3 import *

get_ipython().run_line_magic('matplotlib', 'inline')
plt.rcParams['figure.figsize'] = (5.0, 4.0) # set default size of plots
plt.rcParams['image.interpolation'] = 'nearest'
plt.rcParams['image.cmap'] = 'gray'

get_ipython().run_line_magic('load_ext', 'autoreload')
get_ipython().run_line_magic('autoreload', '2')

np.random.seed(1)""",
    ),
    (2, "train_x_orig, train_y, test_x_orig, test_y, classes = load_data()"),
    (
        3,
        """# Example of a picture
index = 10
plt.imshow(train_x_orig[index])
print ("y = " + str(train_y[0,index]) + ". It's a " + classes[train_y[0,index]].decode("utf-8") +  " picture.")""",
    ),
    (
        5,
        """# Reshape the training and test examples
train_x_flatten = train_x_orig.reshape(train_x_orig.shape[0], -1).T   # The "-1" makes reshape flatten the remaining dimensions
test_x_flatten = test_x_orig.reshape(test_x_orig.shape[0], -1).T

# Standardize data to have feature values between 0 and 1.
train_x = train_x_flatten/255.
test_x = test_x_flatten/255.

print ("train_x's shape: " + str(train_x.shape))
print ("test_x's shape: " + str(test_x.shape))""",
    ),
    (
        6,
        """### CONSTANTS DEFINING THE MODEL ####
n_x = 12288     # num_px * num_px * 3
n_h = 7
n_y = 1
layers_dims = (n_x, n_h, n_y)""",
    ),
    (
        11,
        """### CONSTANTS ###
layers_dims = [12288, 20, 7, 5, 1] #  4-layer model""",
    ),
    (
        12,
        """# GRADED FUNCTION: L_layer_model

def L_layer_model(X, Y, layers_dims, learning_rate = 0.0075, num_iterations = 3000, print_cost=False):#lr was 0.009
    np.random.seed(1)
    costs = []                         # keep track of cost

    # Parameters initialization. (≈ 1 line of code)
    ### START CODE HERE ###
    parameters = initialize_parameters_deep(layers_dims)
    ### END CODE HERE ###

    # Loop (gradient descent)
    for i in range(0, num_iterations):

        # Forward propagation: [LINEAR -> RELU]*(L-1) -> LINEAR -> SIGMOID.
        AL, caches = L_model_forward(X, parameters)

        # Compute cost.
        cost = compute_cost(AL, Y)

        # Backward propagation.
        grads = L_model_backward(AL, Y, caches)

        # Update parameters.
        parameters = update_parameters(parameters, grads, learning_rate)

        # Print the cost every 100 training example
        if print_cost and i % 100 == 0:
            print ("Cost after iteration %i: %f" %(i, cost))
        if print_cost and i % 100 == 0:
            costs.append(cost)

    # plot the cost
    plt.plot(np.squeeze(costs))
    plt.ylabel('cost')
    plt.xlabel('iterations (per hundreds)')
    plt.title("Learning rate =" + str(learning_rate))
    plt.show()

    return parameters""",
    ),
    (13, "parameters = L_layer_model(train_x, train_y, layers_dims, num_iterations = 2500, print_cost = True)"),
    (14, "pred_train = predict(train_x, train_y, parameters)"),
    (None, "print_mislabeled_images(classes, test_x, test_y, pred_test)"),  # never run: Jupyter shows In [ ]
]


def application_export(folder: Path) -> Path:
    """The application notebook through File > Download as > Python (.py), as nbconvert writes it: a header,
    markdown as comments, and `# In[k]:` above each code cell, beside the course's dnn_app_utils_v3.py."""
    shutil.copy(HELPERS / "dnn_app_utils_v3.py", folder / "dnn_app_utils_v3.py")
    body = "".join(
        f"# In[{' ' if count is None else count}]:\n\n\n{source}\n\n\n# A markdown cell, as a comment.\n\n"
        for count, source in APPLICATION
    )
    path = folder / "Deep_Neural_Network_Application.py"
    path.write_text(
        "#!/usr/bin/env python\n# coding: utf-8\n\n# # Deep Neural Network for Image Classification: "
        "Application\n\n" + body
    )
    return path


def graded_functions() -> list[str]:
    """The week-4 graded functions (the course's helpers come from dnn_utils.py)."""
    return [f for f in functions_of(COURSE.read_text()) if not f.startswith(HELPER_FUNCTIONS)]


def course_folder(tmp_path: Path) -> Path:
    for helper in HELPERS.glob("*.py"):
        shutil.copy(helper, tmp_path / helper.name)
    return tmp_path


def course_notebook(tmp_path: Path) -> Path:
    """The course's notebook, run in Jupyter: a markdown title, the opening cell [1], a cell per graded
    function [2], [3], ... and a test cell."""
    functions = graded_functions()
    path = write_notebook(
        course_folder(tmp_path) / "Building_your_Deep_Neural_Network_Step_by_Step.ipynb",
        ("markdown", "# Building your Deep Neural Network: Step by Step\n"),
        ("code", OPENING_CELL),
        *(("code", f) for f in functions),
        ("code", TEST_CELL),
    )
    notebook = json.loads(path.read_text())
    for count, cell in enumerate([c for c in notebook["cells"] if c["cell_type"] == "code"], start=1):
        cell["execution_count"] = count
    path.write_text(json.dumps(notebook))
    return path


def course_export(tmp_path: Path) -> Path:
    """The same notebook through Jupyter's File > Download as > Python (.py)."""
    cells = [EXPORTED_OPENING, *graded_functions(), TEST_CELL]
    body = "".join(f"# In[{n}]:\n\n\n{cell}\n\n" for n, cell in enumerate(cells, start=1))
    path = course_folder(tmp_path) / "Building_your_Deep_Neural_Network_Step_by_Step.py"
    path.write_text(
        "#!/usr/bin/env python\n# coding: utf-8\n\n# # Building your Deep Neural Network: Step by Step\n\n" + body
    )
    return path


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def quick_run(path: Path):
    return verify.run(verify.Config(arch=(3, 4, 4, 1), impl=str(path), iterations=5, examples=32, **QUIET))


@pytest.mark.end_to_end
def test_the_course_notebook_verifies_without_matplotlib_and_h5py(tmp_path, block):
    block("matplotlib", "h5py", "termcolor")
    report = quick_run(course_notebook(tmp_path))
    assert report.verdict == "pass"
    loading = [note for note in report.notes if "is not installed" in note]
    assert loading == [
        "h5py is not installed, so its import was skipped (cell [1], line 2)",
        "matplotlib is not installed, so its imports were skipped (cell [1], line 3; dnn_utils.py, line 4) and so was "
        "what uses it: cell [1], lines 8-11 (%matplotlib inline; plt.rcParams['figure.figsize'] = (5.0, 4.0) "
        "# set default size of plots; ...)",
        "termcolor is not installed, so its import was skipped (public_tests.py, line 4)",
    ]
    assert "matplotlib" not in sys.modules  # the stand-ins were for loading only


@pytest.mark.end_to_end
def test_a_training_loop_that_plots_its_costs_runs_and_the_plot_is_noted(tmp_path, block):
    block("matplotlib", "h5py", "termcolor")
    path = course_notebook(tmp_path)
    notebook = json.loads(path.read_text())
    plot = "    plt.plot(np.squeeze(costs))\n    plt.ylabel('cost')\n    plt.show()\n"
    for cell in notebook["cells"]:  # the course's L_layer_model (v3) plots its costs before it returns
        if "".join(cell["source"]).startswith("def L_layer_model("):
            source = "".join(cell["source"]).replace(
                "    return parameters, costs", plot + "    return parameters, costs"
            )
            cell["source"] = source.splitlines(True)
            count, line = cell["execution_count"], source.splitlines().index("    plt.plot(np.squeeze(costs))") + 1
    path.write_text(json.dumps(notebook))
    report = quick_run(path)
    loop = next(check for check in report.checks if check.name == "loop L_layer_model")
    assert report.verdict == "pass" and loop.ok and not loop.skipped  # the loop ran, whole, plot and all
    (note,) = [note for note in report.notes if note.startswith("matplotlib")]
    assert note.endswith(
        f"cell [1], lines 8-11; cell [{count}], lines {line}-{line + 2} (%matplotlib inline; "
        "plt.rcParams['figure.figsize'] = (5.0, 4.0) # set default size of plots; ...)"
    )


@pytest.mark.parametrize("isolate", [(), ("--isolate",)], ids=["in-process", "isolated"])
def test_a_notebook_copied_without_its_helper_file_is_one_line_exit_2(tmp_path, block, capsys, isolate):
    """Its graded functions call sigmoid and relu, which the opening cell imports from dnn_utils: the setup's to
    fix, not a slip in linear_activation_forward."""
    block("matplotlib", "h5py", "termcolor")
    path = course_notebook(tmp_path)
    (tmp_path / "dnn_utils.py").unlink()
    argv = ("--arch", "3,4,4,1", "--impl", str(path), "--iterations", "2", "--no-tensorboard", "-q", *isolate)
    line = assert_usage_error(*run_cli(capsys, *argv))
    assert line == (
        f"verify: error: {path.name}'s linear_activation_forward uses sigmoid, which it imports from dnn_utils, "
        "which is not in its folder (cell [1], line 5: No module named 'dnn_utils'): put the course's helper file "
        "dnn_utils.py beside it"
    )


@pytest.mark.end_to_end
def test_the_download_as_py_export_is_loaded_as_the_notebook_it_came_from(tmp_path, block):
    block("matplotlib", "h5py", "termcolor")
    (tmp_path / "nb").mkdir()
    (tmp_path / "py").mkdir()
    notebook, export = quick_run(course_notebook(tmp_path / "nb")), quick_run(course_export(tmp_path / "py"))
    assert notebook.verdict == export.verdict == "pass"
    # the same cells, named alike, the same lines skipped: the export's magic is the notebook's %matplotlib inline
    magic = "get_ipython().run_line_magic('matplotlib', 'inline')"
    assert [note.replace("%matplotlib inline", magic) for note in notebook.notes] == export.notes
    assert export.notes[1].endswith(
        f"cell [1], lines 8-11 ({magic}; plt.rcParams['figure.figsize'] = (5.0, 4.0) # set default size of plots; ...)"
    )
    # its test cell did not run while loading (the import of termcolor alone is noted)
    assert export.notes[2] == "termcolor is not installed, so its import was skipped (public_tests.py, line 4)"


@pytest.mark.end_to_end
def test_the_application_export_loads_nothing_trains_nothing_and_verifies(tmp_path, block, capsys):
    block("matplotlib", "h5py", "scipy", "PIL", "termcolor")
    path = application_export(tmp_path)
    module = load_module(str(path))
    assert capsys.readouterr() == ("", "")  # nothing printed: no picture's label, no "Cost after iteration 0"
    assert not hasattr(module, "train_x_orig") and not hasattr(module, "parameters")  # load_data never ran
    assert (
        module.layers_dims == [12288, 20, 7, 5, 1] and module.L_layer_model.__code__.co_filename == f"{path}/cell [12]"
    )
    report = verify.run(verify.Config(impl=str(path), iterations=2, examples=32, gradcheck=False, **QUIET))
    assert report.verdict == "pass"
    assert (report.config.arch, report.config.arch_from) == ((12288, 20, 7, 5, 1), f"layers_dims in {path.name}")
    loop = next(check for check in report.checks if check.name == "loop L_layer_model")
    assert loop.ok and not loop.skipped  # the notebook's own loop ran, its plot skipped
    assert [note for note in report.notes if "installed" in note] == [
        "h5py is not installed, so its imports were skipped (cell [1], line 3; dnn_app_utils_v3.py, line 6)",
        "matplotlib is not installed, so its imports were skipped (cell [1], line 4; dnn_app_utils_v3.py, line 5) and so "
        "was what uses it: cell [1], lines 10-13; cell [12], lines 34-38 (get_ipython().run_line_magic('matplotlib', "
        "'inline'); plt.rcParams['figure.figsize'] = (5.0, 4.0) # set default size of plots; ...)",
        "scipy is not installed, so its imports were skipped (cell [1], lines 5, 7)",
        "PIL is not installed, so its import was skipped (cell [1], line 6)",
    ]


@pytest.mark.parametrize("magic", ["time", "capture"])
def test_an_exports_cell_magic_cell_is_the_notebooks_cell_its_definition_verified(tmp_path, block, magic):
    """nbconvert writes a cell that begins with %%time as one get_ipython().run_cell_magic('time', '', '<the cell>'):
    the graded function in it is the learner's, verified as the notebook's (not left out as a call, which let a
    helper file's function of that name be verified in its place)."""
    block("matplotlib", "h5py", "termcolor")
    path = course_export(tmp_path)
    original = next(f for f in graded_functions() if f.startswith("def linear_backward("))
    slip = original.replace("    dW = (1 / m) * np.dot(dZ, A_prev.T)\n", "    dW = np.dot(dZ, A_prev.T)\n")
    assert slip != original
    text = path.read_text().replace(original, "")
    path.write_text(text + f"# In[40]:\n\n\nget_ipython().run_cell_magic({magic!r}, '', {slip!r})\n")
    assert "\ndef linear_backward(" not in path.read_text()  # only in the magic's string
    report = quick_run(path)
    (unit,) = [u for u in report.functions if u.function == "linear_backward"]
    assert report.verdict == "fail" and unit.status == "FAIL" and "a missing 1/m" in unit.hint
    assert load_module(str(path)).linear_backward.__code__.co_filename == f"{path}/cell [40]"
    # a cell magic whose text is not Python (%%bash, %%writefile) is left out, as in the notebook
    path.write_text(
        path.read_text().replace(f"run_cell_magic({magic!r}, '', {slip!r})", "run_cell_magic('bash', '', 'def f(:\\n')")
    )
    path.write_text(path.read_text() + f"# In[41]:\n\n\n{original}\n")
    assert quick_run(path).verdict == "pass"


def test_an_exports_cells_are_its_in_markers_named_as_jupyter_showed_them(tmp_path):
    from verify.impl.loading import is_export, notebook_definitions

    path = application_export(tmp_path)
    cells = notebook_definitions(str(path))
    assert [cell.label for cell in cells] == [
        "cell [1]",
        "cell [2]",
        "cell [3]",
        "cell [5]",
        "cell [6]",
        "cell [11]",
        "cell [12]",
        "cell [13]",
        "cell [14]",
        "code cell 10",
    ]
    assert (
        cells[5].text
        == "### CONSTANTS ###\nlayers_dims = [12288, 20, 7, 5, 1] #  4-layer model\n\n\n# A markdown cell, as a comment.\n"
    )
    # kept: cell [1]'s 8 imports and 3 rcParams (skipped later), `index = 10`, n_x, n_h, n_y and layers_dims = (n_x,
    # n_h, n_y), cell [11]'s layers_dims, the loop
    assert [len(cell.statements) for cell in cells] == [11, 0, 1, 0, 4, 1, 1, 0, 0, 0]
    assert cells[0].magics == [(10, "matplotlib"), (15, "load_ext"), (16, "autoreload")]
    # only a line that is exactly a marker makes an export; code above the first marker is a cell of its own
    plain = tmp_path / "plain.py"
    plain.write_text("import numpy as np\n# In[3]: is what Jupyter shows\nx = np.ones(3)  # In[1]:\n")
    assert not is_export(str(plain))
    edited = tmp_path / "edited.py"
    edited.write_text("# coding: utf-8\nimport numpy as np\n\n# In[ ]:\n\n\nA = np.ones(2)\n\n\n# In[4]:\n\n\nB = 2\n")
    assert is_export(str(edited))
    assert [(c.label, len(c.statements)) for c in notebook_definitions(str(edited))] == [
        ("before code cell 1", 1),
        ("code cell 1", 0),
        ("cell [4]", 1),
    ]


def test_helper_files_that_import_data_libraries_load(tmp_path, block):
    block("matplotlib", "sklearn", "scipy", "PIL")
    path = course_folder(tmp_path) / "my_planar.py"
    path.write_text("import numpy as np\nfrom planar_utils import sigmoid, load_extra_datasets\n")
    module = load_module(str(path))
    assert module.sigmoid(np.zeros((1, 1)))[0, 0] == 0.5  # the helper's own numpy function, for real
    notes = getattr(module, verify.impl.NOTES)
    assert [note.split(",")[0] for note in notes] == [
        f"{name} is not installed" for name in ("matplotlib", "sklearn", "scipy", "PIL")
    ]
    first = line_of(path.parent / "planar_utils.py", "import sklearn")
    assert (
        f"(planar_utils.py, lines {first}-{first + 2})" in notes[1]
    )  # sklearn, sklearn.datasets, sklearn.linear_model
    line = line_of(path.parent / "planar_utils.py", "make_circles")
    with pytest.raises(
        MissingPackageError,
        match=rf"^`load_extra_datasets` \(planar_utils.py, line {line}\) needs sklearn, "
        r"which is not installed: pip install scikit-learn$",
    ):
        module.load_extra_datasets()  # the stand-in never hides a real need once loading is over


@pytest.mark.end_to_end
def test_a_graded_function_that_needs_a_missing_library_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    # sitecustomize runs before `python -m verify`: scipy is unimportable there, installed or not.
    (blocker / "sitecustomize.py").write_text(
        "import sys\n\n\nclass Blocked:\n    def find_spec(self, fullname, path, target=None):\n"
        "        if fullname.partition('.')[0] == 'scipy':\n            raise ModuleNotFoundError(fullname)\n\n\n"
        "sys.meta_path.insert(0, Blocked())\n"
    )
    functions = [
        f.replace("    return 1 / (1 + np.exp(-Z)), Z\n", "    return scipy.special.expit(Z), Z\n")
        for f in functions_of(COURSE.read_text())
    ]
    path = tmp_path / "needs_scipy.py"
    path.write_text("import numpy as np\nimport scipy.special\n\n\n" + "\n\n".join(functions))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), str(REPO)])}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "verify",
            "--arch",
            "3,4,4,1",
            "--impl",
            str(path),
            "--no-tensorboard",
            "--iterations",
            "3",
            "--examples",
            "16",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    line = line_of(path, "scipy.special.expit(Z)")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.splitlines() == [
        f"verify: error: `sigmoid` (needs_scipy.py, line {line}) needs scipy, which is not installed: pip install scipy"
    ]


def test_a_library_that_is_installed_imports_for_real(tmp_path, monkeypatch):
    monkeypatch.setitem(standins.OPTIONAL, "numpy", "numpy")  # were numpy optional, it is still installed
    path = tmp_path / "real.py"
    path.write_text("import numpy as np\nimport numpy.linalg\n\n\ndef norm(x):\n    return np.linalg.norm(x)\n")
    module = load_module(str(path))
    assert module.np is np and module.norm(np.array([3.0, 4.0])) == 5.0
    assert getattr(module, verify.impl.NOTES, []) == []
    assert not any(isinstance(finder, standins._Finder) for finder in sys.meta_path)


@pytest.mark.parametrize(
    "cell, number, label",
    [
        ({"execution_count": 7}, 3, "cell [7]"),  # as Jupyter shows a cell that ran
        ({"execution_count": None}, 3, "code cell 3"),  # never ran: its place among the code cells
        ({}, 1, "code cell 1"),
    ],
)
def test_a_cell_is_named_as_jupyter_shows_it(cell, number, label):
    assert cell_label(cell, number) == label


def test_two_cells_that_show_the_same_count_are_named_by_their_place(tmp_path):
    from verify.impl.loading import notebook_definitions

    path = write_notebook(
        tmp_path / "restarted.ipynb",
        ("code", "import numpy as np\n"),
        ("markdown", "# after a restart\n"),
        ("code", "A = 1\n"),
        ("code", "B = 2\n"),
    )
    notebook = json.loads(path.read_text())
    for cell, count in zip([c for c in notebook["cells"] if c["cell_type"] == "code"], (1, 2, 1)):
        cell["execution_count"] = count
    path.write_text(json.dumps(notebook))
    assert [cell.label for cell in notebook_definitions(str(path))] == ["code cell 1", "cell [2]", "code cell 3"]


@pytest.mark.end_to_end
def test_cells_are_named_by_their_count_in_errors_and_tracebacks(tmp_path):
    functions = [f.replace("dA_prev = np.dot(W.T, dZ)", "dA_prev = np.dot(W, dZ)") for f in graded_functions()]
    path = course_notebook(tmp_path)
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith("def linear_backward("):
            cell["source"] = [f for f in functions if f.startswith("def linear_backward(")]
            count = cell["execution_count"]
    path.write_text(json.dumps(notebook))
    report = quick_run(path)
    trace = report.first_divergence.traceback
    slip = next(f for f in functions if f.startswith("def linear_backward("))
    line = 1 + slip.splitlines().index("    dA_prev = np.dot(W, dZ)")
    # the notebook by its name (it lies outside the working directory), then the cell as Jupyter shows it
    assert trace[-1] == f"{path.name}/cell [{count}]:{line} in linear_backward,  dA_prev = np.dot(W, dZ)"

    notebook["cells"].insert(
        2,
        {
            "cell_type": "code",
            "execution_count": 40,
            "metadata": {},
            "outputs": [],
            "source": ["X_SCALE = 1.0\n", "@not_defined\n", "def f():\n", "    pass\n"],
        },
    )
    path.write_text(json.dumps(notebook))
    with pytest.raises(verify.UsageError, match=r": cell \[40\], line 3 raised NameError: name 'not_defined'"):
        load_module(str(path))


@pytest.mark.end_to_end
def test_an_exports_traceback_names_the_file_and_the_cell(tmp_path):
    path = course_export(tmp_path)
    path.write_text(path.read_text().replace("dA_prev = np.dot(W.T, dZ)", "dA_prev = np.dot(W, dZ)"))
    cell = 1 + next(n for n, f in enumerate(graded_functions(), start=1) if f.startswith("def linear_backward("))
    line = line_of(path, "dA_prev = np.dot(W, dZ)") - line_of(path, f"# In[{cell}]:") - 2  # nbconvert's 2 blank lines
    trace = quick_run(path).first_divergence.traceback
    assert trace[-1] == f"{path.name}/cell [{cell}]:{line} in linear_backward,  dA_prev = np.dot(W, dZ)"
    sources = verify.telling.report.function_sources(load_module(str(path)), ["linear_backward"])
    assert sources == {"linear_backward": f"{path.name}, cell [{cell}], line 1"}  # the fix line's "defined in"


def test_what_only_shows_is_skipped_even_in_a_check_and_computing_with_it_is_refused(tmp_path, block):
    block("matplotlib")
    path = tmp_path / "shows.py"
    path.write_text(
        "import numpy as np\nimport matplotlib.pyplot as plt\n\ndisplay(np.zeros(2))\n\n\n"
        "def relu(Z):\n    plt.plot(Z)\n    plt.show()\n    return np.maximum(0, Z), Z\n\n\n"
        "def scaled(Z):\n    return Z * plt.gca().get_alpha()\n"
    )
    module = load_module(str(path))
    notes = getattr(module, verify.impl.NOTES)
    assert notes == [
        "matplotlib is not installed, so its import was skipped (shows.py, line 2)",
        "display() exists only inside Jupyter, so what uses it was skipped: shows.py, line 4 (display(np.zeros(2)))",
    ]
    assert module.relu(np.array([[-1.0, 2.0]]))[0].tolist() == [[0.0, 2.0]]  # a plot in a checked function: skipped
    assert notes[0] == (
        "matplotlib is not installed, so its import was skipped (shows.py, line 2) and so was what uses "
        "it: shows.py, lines 8-9 (plt.plot(Z); plt.show())"
    )  # ... and noted, in the module's notes
    with pytest.raises(
        MissingPackageError,
        match=r"^`scaled` \(shows.py, line 14\) needs matplotlib, which is not "
        r"installed: pip install matplotlib$",
    ):
        module.scaled(np.ones((1, 2)))  # its value was needed


def test_data_a_missing_library_would_load_is_named_where_it_stops_loading(tmp_path, block):
    block("h5py")
    path = tmp_path / "loads_data.py"
    path.write_text(
        "import h5py\n\n\ndef load_data():\n    f = h5py.File('datasets/train.h5', 'r')\n"
        "    return f['train_set_x'][:], f['train_set_y'][:]\n\n\ntrain_x, train_y = load_data()[0]\n"
    )
    with pytest.raises(verify.UsageError) as raised:
        load_module(str(path))
    assert str(raised.value) == (
        f"--impl {path}: importing it raised TypeError at line 9: `h5py.File(...)[...][...]` "
        "has no value here: h5py is not installed (pip install h5py)"
    )


def test_a_py_whose_top_level_fails_after_a_stand_in_names_the_missing_library(tmp_path, block):
    block("matplotlib", "h5py")
    shutil.copy(HELPERS / "dnn_app_utils_v3.py", tmp_path / "dnn_app_utils_v3.py")
    path = tmp_path / "my_application.py"  # the application's code, written as a plain .py (no cell markers)
    path.write_text(
        "import numpy as np\nfrom dnn_app_utils_v3 import *\n\n"
        "train_x_orig, train_y, test_x_orig, test_y, classes = load_data()\n"
    )
    with pytest.raises(verify.UsageError) as raised:
        load_module(str(path))
    opened = line_of(tmp_path / "dnn_app_utils_v3.py", "h5py.File('datasets/train_catvnoncat.h5'")
    assert str(raised.value) == (
        f"--impl {path}: importing it raised IndexError at line 4: tuple index out of range "
        f"(h5py is not installed, and dnn_app_utils_v3.py, line {opened} used it: pip install h5py)"
    )


def test_a_coloured_print_prints_its_text_and_another_stand_in_prints_nothing(tmp_path, block, capsys):
    block("termcolor", "matplotlib")
    course_folder(tmp_path)
    path = tmp_path / "runs_its_test.py"  # a .py that runs the course's test at its top, as a learner's script may
    path.write_text(
        "import numpy as np\nimport matplotlib.pyplot as plt\nfrom public_tests import L_model_forward_test\n"
        "from termcolor import cprint\n"
        + "\n\n".join(functions_of(COURSE.read_text()))
        + "\n\nL_model_forward_test(L_model_forward)\ncprint('done', 'blue', end='!\\n')\nprint(plt.gca())\n"
    )
    notes = getattr(load_module(str(path)), verify.impl.NOTES)
    assert capsys.readouterr() == ("", "All tests passed.\ndone!\n")  # on stderr; print(plt.gca()) printed nothing
    assert notes[0] == (
        "matplotlib is not installed, so its import was skipped (runs_its_test.py, line 2) and so was what "
        f"uses it: runs_its_test.py, line {line_of(path, 'print(plt.gca())')} (print(plt.gca()))"
    )
    assert notes[1] == (
        "termcolor is not installed, so its imports were skipped (public_tests.py, line 4; runs_its_test.py, "
        "line 4); what it colours was printed without colour: public_tests.py, line 13; runs_its_test.py, "
        f'line {line_of(path, "cprint(")} (print(colored("All tests passed.", "green")); '
        "cprint('done', 'blue', end='!\\n'))"
    )


def test_a_cells_python_keeps_its_lines_without_its_magics(tmp_path):
    from verify.impl.loading import notebook_definitions

    (cell,) = notebook_definitions(str(write_notebook(tmp_path / "opening.ipynb", ("code", OPENING_CELL))))
    assert cell.label == "code cell 1" and cell.text == OPENING_CELL
    assert cell.magics == [(8, "matplotlib"), (13, "load_ext"), (14, "autoreload")]
    lines = cell[1].splitlines()  # the Python source, line for line (what tracebacks and the size reader see)
    assert len(lines) == len(OPENING_CELL.splitlines()) and lines[7] == "" and lines[8].startswith("plt.rcParams")


def test_ipython_help_and_captured_output_lines_are_left_out_as_jupyter_runs_them(tmp_path):
    """A learner's scratch cell: help (`?`), a shell command's output captured in a name: not Python, yet Jupyter
    runs the cell; every other line is kept as written."""
    from verify.impl.loading import notebook_definitions

    scratch_cell = (
        "np.random.randn?\n?np.dot\nnp.dot??\nfiles = !ls\nt = %timeit -o np.ones(3)\n"
        "x = 3 if files != 2 else 4\nd = {'why?': 1}\ndef f(a=1):\n    return a % 2\n"
    )
    (cell,) = notebook_definitions(str(write_notebook(tmp_path / "scratch.ipynb", ("code", scratch_cell))))
    assert cell.source.splitlines() == ["", "", "", "", "", *scratch_cell.splitlines()[5:]]
