"""TensorBoard as a learner opens it: a real server, a real headless browser, the default tab.

Two versions of one course notebook (the second with a slip) are verified into one logdir, as a
learner who fixes or breaks something between two runs would do. TensorBoard serves that logdir
on loopback; Debian's chromium-headless-shell renders its default tab (Time Series) through a small
proxy that adds one script to the page. The script reads what the browser laid out: the order of
the card groups, the first card's title and the runs in its legend, and for each name in the run
selector whether its text fits on one line inside the visible column (the selector clips a long
name, or wraps it at '-'). The server's Custom Scalars data is checked too: each experiment's
cost chart reads its own runs only. Without chromium-headless-shell (`apt-get install chromium-headless-shell`,
as .ci/run does) the test says so and is skipped.
"""

import http.server
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace

import pytest

import verify
from verify import Config

CHROMIUM = shutil.which("chromium-headless-shell") or "/usr/bin/chromium-headless-shell"
NOTEBOOK = "Building_your_Deep_Neural_Network_Step_by_Step.ipynb"  # the course's own (long) name
EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
WINDOW = "1280,800"  # a laptop's browser window
DEADLINE = 60  # seconds for the server, then for the browser: generous on a loaded 2-core machine

# Runs in the page once TensorBoard has rendered, and writes what it measured into the DOM, where
# --dump-dom finds it. A name is whole when its text is one line and lies inside every ancestor that
# clips it (the selector's panes), inside its own cell, and
# drawn on top at both ends (the selector's next column covers a name that runs past its cell).
MEASURE = r"""
<script>
(function () {
  function clipped(el) {
    var right = Infinity, left = -Infinity;
    for (var a = el; a && a.nodeType === 1; a = a.parentElement) {
      var style = getComputedStyle(a);
      if (style.overflowX !== "visible" || style.overflow !== "visible") {
        var r = a.getBoundingClientRect();
        right = Math.min(right, r.left + a.clientLeft + a.clientWidth);
        left = Math.max(left, r.left);
      }
    }
    return [left, right];
  }
  function measure() {
    var out = {groups: [], cards: [], legend: [], runs: []};
    document.querySelectorAll("metrics-card-groups .group-title").forEach(function (e) {
      out.groups.push(e.textContent.trim());
    });
    document.querySelectorAll("metrics-card-groups tb-truncated-path.tag").forEach(function (e) {
      out.cards.push(e.getAttribute("title"));
    });
    var first = document.querySelector("metrics-card-groups scalar-card-component");
    if (first) {
      first.querySelectorAll("tb-data-table-content-cell .cell").forEach(function (e) {
        var text = e.textContent.trim();
        if (text) out.legend.push(text);
      });
    }
    document.querySelectorAll("runs-selector tb-data-table-content-row .table-column-run .cell").forEach(function (e) {
      var range = document.createRange();
      range.selectNodeContents(e);
      var text = range.getBoundingClientRect(), lines = range.getClientRects().length, clip = clipped(e);
      var cell = e.closest("tb-data-table-content-cell").getBoundingClientRect();
      // what is drawn on top at the ends of the name: the name's own cell, or a neighbour covering it
      var y = (text.top + text.bottom) / 2;
      var ends = [text.left + 1, text.right - 1].map(function (x) {
        var top = document.elementFromPoint(x, y);
        return top && (top === e || e.contains(top)) ? "name" : top ? top.tagName.toLowerCase() + "." + top.className : "none";
      });
      out.runs.push({name: e.textContent.trim(), lines: lines, left: text.left, right: text.right,
                     clipLeft: Math.max(clip[0], cell.left), clipRight: Math.min(clip[1], cell.right),
                     endsOnTop: ends});
    });
    var pre = document.getElementById("measured");
    if (!pre) {
      pre = document.createElement("pre");
      pre.id = "measured";
      pre.style.display = "none";
      document.body.appendChild(pre);
    }
    pre.textContent = JSON.stringify(out);
  }
  setInterval(measure, 250);
})();
</script>
"""

pytestmark = [
    pytest.mark.end_to_end,
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason="chromium-headless-shell is not installed (apt-get install chromium-headless-shell)",
    ),
]


def course_runs(logdir) -> list:
    """The course's notebook verified under its own name: as shipped, then with the slip, twice
    (the longest names: the second run of the same code gets _2)."""
    reports = []
    for folder, example in (
        ("first", "course_network.ipynb"),
        ("second", "course_slip.ipynb"),
        ("second", "course_slip.ipynb"),
    ):
        os.makedirs(logdir / ".." / folder, exist_ok=True)
        path = os.path.normpath(str(logdir / ".." / folder / NOTEBOOK))
        shutil.copy(os.path.join(EXAMPLES, example), path)
        config = replace(
            Config(arch=(3, 4, 4, 1), impl=path, logdir=str(logdir), progress=False),
            iterations=20,
            examples=64,
            gradcheck=False,
        )
        reports.append(verify.run(config))
    return reports


class Server:
    """`tensorboard --logdir` on 127.0.0.1 with a port the OS picks; stopped and waited for on exit."""

    def __init__(self, logdir, tmp_path):
        exe = os.path.join(os.path.dirname(sys.executable), "tensorboard")
        env = {**os.environ, "TMPDIR": str(tmp_path)}  # its .tensorboard-info file goes here
        self.proc = subprocess.Popen(
            [exe, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", "0", "--reload_interval", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=lambda: [self.lines.put(line) for line in self.proc.stderr], daemon=True)
        self.reader.start()

    def port(self, deadline: float) -> int:
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                assert self.proc.poll() is None, "tensorboard exited: " + "".join(seen)
                continue
            seen.append(line)
            match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
            if match:
                return int(match.group(1))
        raise AssertionError("tensorboard printed no address: " + "".join(seen))

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
        self.reader.join(timeout=15)
        self.proc.stderr.close()


def wait_for_scalars(port: int, runs: list, deadline: float) -> None:
    """Until the server serves the cost of every run: a 200 from /data/runs alone comes before the data."""
    tags = {}
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugin/scalars/tags", timeout=10) as response:
                tags = json.loads(response.read())
        except urllib.error.URLError:  # not answering yet
            tags = {}
        if all("cost" in tags.get(run, {}) for run in runs):
            return
        time.sleep(0.2)
    raise AssertionError(f"no cost for {runs} in {tags}")


def served_custom_scalars(port: int, runs: list) -> dict:
    """experiment -> the tags its "cost: numpy and torch" chart matches, over every run the server has
    (TensorBoard asks each run for a chart's regex: only the experiment's own diff run may answer)."""

    def get(path, **query):
        url = f"http://127.0.0.1:{port}{path}?" + urllib.parse.urlencode(query)
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    matched = {}
    for category in get("/data/plugin/custom_scalars/layout")["category"]:
        (chart,) = [chart for chart in category["chart"] if chart["title"] == "cost: numpy and torch"]
        (regex,) = chart["multiline"]["tag"]
        matched[category["title"]] = {
            tag
            for run in runs
            for tag in get("/data/plugin/custom_scalars/scalars", run=run, tag=regex)["tag_to_events"]
        }
    return matched


def proxy(port: int) -> http.server.ThreadingHTTPServer:
    """A loopback server that forwards every request to TensorBoard, and adds MEASURE to its page
    (without TensorBoard's Content-Security-Policy, which forbids a script written into the page)."""

    class Forward(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.forward(None)

        def do_POST(self):
            self.forward(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def forward(self, body):
            headers = {"Content-Type": self.headers["Content-Type"]} if self.headers.get("Content-Type") else {}
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{self.path}", data=body, headers=headers, method=self.command
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status, kind, data = response.status, response.headers.get("Content-Type", ""), response.read()
            except urllib.error.HTTPError as error:
                status, kind, data = error.code, error.headers.get("Content-Type", ""), error.read()
            if self.path in ("/", "/index.html") and kind.startswith("text/html"):
                data = data.replace(b"</body>", MEASURE.encode() + b"</body>")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def rendered(url: str, tmp_path, *extra: str) -> subprocess.CompletedProcess:
    """chromium-headless-shell on url, offline but for loopback, with its own profile folder."""
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [
        CHROMIUM,
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW}",
        "--virtual-time-budget=20000",
        *extra,
        url,
    ]
    return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=DEADLINE)


def measured(dom: str) -> dict:
    match = re.search(r'<pre id="measured"[^>]*>(.*?)</pre>', dom, re.S)
    assert match, "the page was not measured: " + dom[-2000:]
    return json.loads(
        match.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    )


def test_the_default_tab_shows_both_curves_first_and_whole_run_names(tmp_path):
    logdir = tmp_path / "runs"
    reports = course_runs(logdir)
    assert [report.verdict for report in reports] == ["pass", "fail", "fail"]
    experiments = [os.path.basename(report.run_dir) for report in reports]
    # the notebook's name cut at a word, and 3 hex digits of its code: the two versions differ by
    # more than their time; the same code again gets _2
    assert re.fullmatch(r"Building_[0-9a-f]{3}", experiments[0]), experiments
    assert experiments[1] != experiments[0] and re.fullmatch(r"Building_[0-9a-f]{3}", experiments[1]), experiments
    assert experiments[2] == experiments[1] + "_2"
    runs = sorted(f"{e}/{side}" for e in experiments for side in ("numpy", "torch", "diff"))

    server = Server(logdir, tmp_path)
    forward = None
    try:
        port = server.port(time.monotonic() + DEADLINE)
        wait_for_scalars(port, [run for run in runs if not run.endswith("/diff")], time.monotonic() + DEADLINE)
        layouts = served_custom_scalars(port, runs)
        forward = proxy(port)
        page = rendered(f"http://127.0.0.1:{forward.server_address[1]}/", tmp_path, "--dump-dom")
        assert page.returncode == 0, page.stderr[-2000:]
        seen = measured(page.stdout)
    finally:
        if forward is not None:
            forward.shutdown()
            forward.server_close()
        server.stop()
    assert not server.reader.is_alive()

    # the first group and its first card: cost, with the notebook's run and torch's overlaid
    assert seen["groups"][0] == "cost" and seen["cards"][0] == "cost", seen
    for experiment in experiments:
        assert {f"{experiment}/numpy", f"{experiment}/torch"} <= set(seen["legend"]), seen["legend"]
    # the custom-scalars copies come after every other group, and no group is named after an experiment
    assert seen["groups"][-1] == "~custom_scalars", seen["groups"]
    assert not set(seen["groups"]) & set(experiments)

    # the Custom Scalars tab: a section per experiment, whose cost chart draws its own two runs' costs only
    assert sorted(layouts) == sorted(experiments)
    for experiment, matched in layouts.items():
        assert matched == {f"~custom_scalars/{experiment}/cost/{side}" for side in ("numpy", "torch")}, (
            experiment,
            matched,
        )

    # every run in the selector, whole: one line, inside the visible column
    assert sorted(run["name"] for run in seen["runs"]) == runs
    for run in seen["runs"]:
        assert run["lines"] == 1, run
        assert run["clipLeft"] - 0.5 <= run["left"] and run["right"] <= run["clipRight"] + 0.5, run
        assert run["endsOnTop"] == ["name", "name"], run
