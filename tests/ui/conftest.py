"""Fixtures for the browser tests: a JupyterLab server and a headless chromium.

Needs Debian's chromium and the Python Playwright package (no npm, and never
``playwright install``: it downloads a second browser)::

    apt-get install -y chromium
    .venv/bin/pip install playwright

Without them the tests skip, or fail when the environment variable CI is set.
Environment: ``CNNLIB_CHROMIUM`` (browser path, default /usr/bin/chromium),
``CNNLIB_UI_NOTEBOOKS`` (folder of notebooks to run, default notebooks/).
Results: screenshots in build/ui-screenshots/, timings in build/ui-timings.json
(both printed at the end of the run; results of separate runs are merged).

The files (run one at a time on a busy machine, with ``-k``):

- test_jupyterlab.py: every notebook, Run All, every control of every
  explorer, the file unchanged (1280x900);
- test_explorers.py: every explorer at 1024x700 with the file browser open
  (slider tracks, cut text, accessible names, errors replace figures,
  keyboard only, latency per explorer), on a generated notebook (gallery.py);
- test_reopen.py: JupyterLab with the project's jupyter/overrides.json:
  opening a committed notebook leaves it unchanged; run, save, close, reopen
  shows the saved figures;
- test_mathjax.py: no MathJax error in any notebook.
"""

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = Path(os.environ.get("CNNLIB_UI_NOTEBOOKS", REPO / "notebooks"))
CHROMIUM = os.environ.get("CNNLIB_CHROMIUM", "/usr/bin/chromium")
BUILD = REPO / "build"
SCREENSHOTS = BUILD / "ui-screenshots"
TIMINGS_FILE = BUILD / "ui-timings.json"
INSTALL = (
    "apt-get update && apt-get install -y chromium && "
    ".venv/bin/pip install playwright   (never `playwright install`; the "
    "tests drive /usr/bin/chromium)"
)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
# JupyterLab settings for the test server: no news pop-up, no autosave (so
# running a notebook never rewrites the file), and every cell kept in the DOM
# (the default windowing detaches cells scrolled out of view).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings":
        {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none"},
}

TIMINGS = {"server_start_s": None, "notebooks": {}}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "ui: drives JupyterLab in a headless browser (slow, minutes)"
    )


def missing_tools():
    """What is missing to run the browser tests ('' if nothing)."""
    missing = []
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Python package playwright")
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        missing.append(f"chromium at {CHROMIUM}")
    return " and ".join(missing)


def require_tools():
    missing = missing_tools()
    if missing:
        msg = f"browser tests need {missing}; install with: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(msg, pytrace=False)
        pytest.skip(msg)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A JupyterLab server in its own process group, on 127.0.0.1."""

    def __init__(self, root_dir, workdir, lab_settings=None,
                 app_settings_dir=None, stock=False):
        """``lab_settings``: user settings (default `LAB_SETTINGS`);
        ``app_settings_dir``: a folder with an ``overrides.json`` (the
        environment defaults, as `make lab` installs them); ``stock``: no
        command-line switches for news and update checks (as `make lab`)."""
        self.root_dir = Path(root_dir)
        self.port = _free_port()
        self.token = uuid.uuid4().hex
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(workdir) / "jupyterlab.log"
        settings = Path(workdir) / "settings"
        settings.mkdir(parents=True, exist_ok=True)
        lab_settings = LAB_SETTINGS if lab_settings is None else lab_settings
        for name, value in lab_settings.items():
            path = settings / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        env = dict(
            os.environ,
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(Path(workdir) / "workspaces"),
            JUPYTER_CONFIG_DIR=str(Path(workdir) / "config"),
            JUPYTER_RUNTIME_DIR=str(Path(workdir) / "runtime"),
            IPYTHONDIR=str(Path(workdir) / "ipython"),
            OPENBLAS_NUM_THREADS="1",
        )
        cmd = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0",
            f"--ServerApp.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--allow-root",
            # Opening a notebook writes a checkpoint copy: keep it out of
            # the repository (an absolute path overrides the per-folder one).
            f"--FileCheckpoints.checkpoint_dir={Path(workdir) / 'checkpoints'}",
        ]
        if not stock:
            cmd += ["--LabApp.news_url=None", "--LabApp.check_for_updates_class"
                    "=jupyterlab.NeverCheckForUpdate"]
        if app_settings_dir is not None:
            cmd.append(f"--LabApp.app_settings_dir={app_settings_dir}")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            cmd, cwd=self.root_dir, env=env, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )

    def api(self, path, method="GET"):
        req = urllib.request.Request(
            f"{self.url}/api/{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(
            f"JupyterLab did not start within {timeout} s (exit code "
            f"{self.proc.poll()}); log tail:\n{self.log_tail()}"
        )

    def log_tail(self, n=40):
        if not self._log.closed:
            self._log.flush()
        return "\n".join(self.log_path.read_text().splitlines()[-n:])

    def shutdown_kernels(self):
        """Stop every session's kernel (keeps the 2-core machine quiet)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def stop(self):
        try:
            self.api("shutdown", method="POST")  # also stops all kernels
            self.proc.wait(timeout=15)
        except (OSError, subprocess.TimeoutExpired):
            pass
        # Our own process group: the server and any kernel it left behind.
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()


@pytest.fixture(scope="module")
def lab_server():
    require_tools()
    with tempfile.TemporaryDirectory(prefix="cnnlib-ui-") as workdir:
        t0 = time.perf_counter()
        server = LabServer(NOTEBOOKS, workdir)
        try:
            server.wait_ready()
            TIMINGS["server_start_s"] = round(time.perf_counter() - t0, 2)
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def ui_timings():
    """Filled by the tests; written to build/ui-timings.json at the end."""
    return TIMINGS


@pytest.fixture(scope="session")
def ui_screenshots():
    """build/ui-screenshots/ (each test first deletes its notebook's old ones)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="module")
def browser():
    require_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                               headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when == "call":
        item.ui_failed = outcome.get_result().failed


@pytest.fixture
def lab_page(request, browser, lab_server):
    """A fresh browser context and page; kernels are stopped afterwards.

    If the test fails, the whole page is saved as
    build/ui-screenshots/FAILED__<test id>.png to show what went wrong.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        yield page
    finally:
        if getattr(request.node, "ui_failed", False) and not page.is_closed():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            safe = "".join(c if c.isalnum() or c in "._-" else "_"
                           for c in request.node.name)
            shot = SCREENSHOTS / f"FAILED__{safe}.png"
            try:
                page.screenshot(path=str(shot), full_page=True)
                print(f"\npage at failure: {shot}")
            except Exception as err:  # a broken page must not hide the failure
                print(f"\ncould not save {shot}: {err}")
        context.close()
        lab_server.shutdown_kernels()


def pytest_terminal_summary(terminalreporter):
    if set(TIMINGS) == {"server_start_s", "notebooks"} and not TIMINGS[
            "notebooks"] and TIMINGS["server_start_s"] is None:
        return
    BUILD.mkdir(exist_ok=True)
    # one test at a time on a busy machine: keep earlier runs' results
    saved = {}
    if TIMINGS_FILE.is_file():
        try:
            saved = json.loads(TIMINGS_FILE.read_text())
        except ValueError:
            saved = {}
    for key, value in TIMINGS.items():
        if isinstance(value, dict) and isinstance(saved.get(key), dict):
            saved[key].update(value)
        elif value is not None:
            saved[key] = value
    TIMINGS_FILE.write_text(json.dumps(saved, indent=2) + "\n")
    tr = terminalreporter
    tr.section("JupyterLab browser timings")
    tr.write_line(f"server start: {TIMINGS['server_start_s']} s")
    for name, t in TIMINGS["notebooks"].items():
        tr.write_line(
            f"{name}: page {t.get('open_s')} s, run all {t.get('run_all_s')} s"
        )
        for ex in t.get("explorers", []):
            tr.write_line(
                f"    explorer {ex['index']}: {ex['controls']} controls, median "
                f"control-to-figure {ex['median_latency_s']} s, "
                f"screenshot {ex['screenshot']}"
            )
    for name, row in TIMINGS.get("explorer_latency", {}).items():
        tr.write_line(f"latency {name}: median {row['median_s']} s "
                      f"(target {row['target_s']} s)")
    tr.write_line(f"timings: {TIMINGS_FILE}; screenshots: {SCREENSHOTS}")
