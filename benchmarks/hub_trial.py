#!/usr/bin/env python
"""A real JupyterHub on this machine: students train notebook 07's LeNet-5 at once.

Usage::

    .venv/bin/python benchmarks/hub_trial.py                 # 4 students
    .venv/bin/python benchmarks/hub_trial.py --students 8 --epochs 3 \\
        --modes default one auto --rounds 2 --json /tmp/hub.json

What it starts, all on 127.0.0.1 and all stopped at the end (or after
``--timeout`` seconds, whatever happens):

- a virtual environment of its own (not the project's) with ``jupyterhub``,
  ``jupyterlab``, the kernel and the ``cnnlib`` wheel built from this
  repository (``--venv DIR`` reuses one);
- ``configurable-http-proxy`` from npm, installed into a temporary folder
  (``--chp PATH`` reuses one);
- JupyterHub with the dummy authenticator and ``SimpleLocalProcessSpawner``
  (every student a hub user with a home folder under the trial's folder).

Each round and mode starts one single-user server per student through the
hub's REST API, opens a kernel in each (the server's REST API, through the
proxy, as a browser would), and sends every kernel notebook 07's setup cell,
then, once every kernel has run it, the training at the same moment over the
kernel websocket: LeNet-5 on the 4,000 shipped digits, batch 64, Adam 3e-3
with a cosine schedule, random affine augmentation, ``--epochs`` epochs
(the notebook trains 15). The modes differ only in each kernel's BLAS
threads:

- ``default``: what a hub does without configuration: OpenBLAS starts one
  thread per core in every kernel;
- ``one``: ``OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=MKL_NUM_THREADS=1`` in
  ``c.Spawner.environment``: the hub runs TEACHING.md's configuration
  (``RECIPE``) as written;
- ``auto``: no variables, the kernel calls
  ``cnnlib.threads.limit_blas_threads()`` in its setup (what the course does
  by itself).

Measured per student: the training time inside the kernel, the kernel's
peak resident memory (``VmHWM``) and the single-user server's resident
memory, found by the ``JUPYTERHUB_USER`` in each process's environment. The
load average before each run is printed: the machine is shared.
"""

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from build_wheel import build_wheel  # noqa: E402  (tools/ is not a package)

MODES = ("default", "one", "auto")

# TEACHING.md's recipe, exactly as written there (tests/test_install.py
# checks that the two agree); the trial takes the variables out again for
# the modes other than "one".
RECIPE = """
c.Spawner.environment = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = "1G"
"""

NOTEBOOK = REPO / "notebooks" / "07_training_a_cnn.ipynb"

# Sent to every kernel after notebook 07's own setup cell: its model and
# training cell, shortened. "default" puts back OpenBLAS's own choice (one
# thread per core) in case the setup cell already limited the threads.
TRAINING = """
import json, os, time
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits
if {mode!r} == "default":
    threadpool_limits(limits=len(os.sched_getaffinity(0)), user_api="blas")
from cnnlib.augment import random_affine
from cnnlib.data import load_mnist
from cnnlib.layers import Conv2D, Flatten, Linear, MaxPool2D, ReLU
from cnnlib.model import Sequential
from cnnlib.optim import Adam, cosine
from cnnlib.train import evaluate, fit
if {mode!r} == "auto":
    from cnnlib.threads import limit_blas_threads
    limit_blas_threads()
X_train, y_train = load_mnist("subset", "train", dtype=np.float32, normalize=True)
X_test, y_test = load_mnist("subset", "test", dtype=np.float32, normalize=True)
model = Sequential(
    Conv2D(1, 6, kernel_size=5, padding=2, seed=1), ReLU(), MaxPool2D(2),
    Conv2D(6, 16, kernel_size=5, seed=2), ReLU(), MaxPool2D(2), Flatten(),
    Linear(16 * 5 * 5, 120, seed=3), ReLU(), Linear(120, 84, seed=4), ReLU(),
    Linear(84, 10, init=0.01, seed=5))
EPOCHS, LR = {epochs}, 3e-3
start = time.perf_counter()
fit(model, X_train, y_train, epochs=EPOCHS, batch_size=64, optimizer=Adam(LR),
    lr_schedule=cosine(LR, EPOCHS), seed=0,
    augment=random_affine(rotate=10, scale=0.1, shift=2), progress=False)
seconds = time.perf_counter() - start
print("RESULT " + json.dumps({{
    "seconds": seconds, "accuracy": float(evaluate(model, X_test, y_test)[1]),
    "pid": os.getpid(),
    "blas_threads": max(i["num_threads"] for i in threadpool_info()
                        if i["user_api"] == "blas")}}))
"""

HUB_CONFIG = """
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.db_url = "sqlite:///{work}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{work}/jupyterhub_cookie_secret"
c.JupyterHub.pid_file = "{work}/jupyterhub.pid"
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = set({students!r})
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{work}/home/{{username}}"
c.Spawner.ip = "127.0.0.1"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.JupyterHub.services = [{{"name": "trial", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{
    "name": "trial", "services": ["trial"],
    "scopes": ["admin:users", "admin:servers", "access:servers"]}}]
c.JupyterHub.cleanup_servers = True
{recipe}
# The trial's marker, to find (and in the end stop) every process it started.
c.Spawner.environment["HUB_TRIAL_ID"] = {trial_id!r}
c.Spawner.args = ["--allow-root"]  # this machine runs everything as root


def apply_user_options(spawner, user_options):
    # The recipe's one BLAS thread only in mode "one".
    env = dict(spawner.environment)
    if user_options.get("mode") != "one":
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                     "MKL_NUM_THREADS"):
            env.pop(name, None)
    spawner.environment = env


c.Spawner.apply_user_options = apply_user_options
"""


class Deadline(Exception):
    pass


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(cmd, **kw):
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def prepare_venv(venv, work):
    if (venv / "bin" / "jupyterhub").exists():
        log(f"reusing {venv}")
        return
    log(f"creating {venv} (jupyterhub, jupyterlab, cnnlib wheel)")
    wheel = build_wheel(work)
    sh([sys.executable, "-m", "venv", venv])
    sh([venv / "bin" / "python", "-m", "pip", "install", "-q", "jupyterhub",
        "jupyterlab", "ipykernel>=6.29,<7", "threadpoolctl>=3.1",
        str(wheel)])


def prepare_chp(folder):
    chp = folder / "node_modules" / ".bin" / "configurable-http-proxy"
    if not chp.exists():
        log("npm install configurable-http-proxy")
        folder.mkdir(parents=True, exist_ok=True)
        sh(["npm", "install", "--prefix", folder, "--no-audit", "--no-fund",
            "--silent", "configurable-http-proxy"])
    return chp


def trial_pids(trial_id):
    """Every process whose environment carries this trial's marker."""
    marker = f"HUB_TRIAL_ID={trial_id}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def proc_memory(pid):
    """(peak RSS, RSS, PSS) in MB of one process."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    kb = {k: int(fields[k].split()[0]) for k in ("VmHWM", "VmRSS")}
    pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
    return kb["VmHWM"] / 1024, kb["VmRSS"] / 1024, pss / 1024


def hub_memory(hub_pid, trial_id):
    """Resident MB of the hub and its proxy (the trial's non-user processes)."""
    total = proc_memory(hub_pid)[1]
    for pid in trial_pids(trial_id):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"configurable-http-proxy" in argv:
                total += proc_memory(pid)[1]
        except OSError:
            pass
    return total


def user_processes(trial_id):
    """{user: {"server": pid, "kernels": [pid, ...]}} for the trial's users."""
    found = {}
    for pid in trial_pids(trial_id):
        try:
            env = dict(item.split(b"=", 1) for item in Path(
                f"/proc/{pid}/environ").read_bytes().split(b"\0") if b"=" in item)
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        user = env.get(b"JUPYTERHUB_USER", b"").decode()
        if not user:
            continue
        slot = found.setdefault(user, {"server": None, "kernels": []})
        if any(b"ipykernel_launcher" in a for a in argv):
            slot["kernels"].append(pid)
        elif any(a.endswith(b"jupyterhub-singleuser") for a in argv):
            slot["server"] = pid
    return found


class Hub:
    def __init__(self, url, token, deadline):
        self.url, self.token, self.deadline = url, token, deadline
        self.http = AsyncHTTPClient()

    def left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Deadline("the trial ran out of time (--timeout)")
        return left

    async def call(self, method, path, body=None, ok=(200, 201, 202, 204)):
        req = HTTPRequest(
            self.url + path, method=method,
            headers={"Authorization": f"token {self.token}"},
            body=None if body is None and method != "POST" else json.dumps(
                body or {}),
            request_timeout=min(60, self.left()))
        resp = await self.http.fetch(req, raise_error=False)
        if resp.code not in ok:
            raise RuntimeError(f"{method} {path}: HTTP {resp.code} {resp.body!r}")
        return json.loads(resp.body) if resp.body else None

    async def wait_up(self):
        while True:
            try:
                await self.call("GET", "/hub/api/")
                return
            except (OSError, RuntimeError):
                self.left()
                await asyncio.sleep(0.5)

    async def start_server(self, user, mode):
        await self.call("POST", f"/hub/api/users/{user}/server",
                        {"mode": mode})
        while True:
            info = await self.call("GET", f"/hub/api/users/{user}")
            server = info.get("servers", {}).get("")
            if server is None:
                raise RuntimeError(f"{user}'s server did not start: see hub.log")
            if server.get("ready"):
                return
            self.left()
            await asyncio.sleep(0.5)

    async def stop_server(self, user):
        await self.call("DELETE", f"/hub/api/users/{user}/server")
        while True:
            info = await self.call("GET", f"/hub/api/users/{user}")
            if not info.get("servers"):
                return
            self.left()
            await asyncio.sleep(0.5)

    async def run_code(self, user, setup, code, ready, go):
        """Start a kernel in ``user``'s server, run ``setup``, wait for
        ``go``, run ``code``; return its printed output."""
        kernel = await self.call("POST", f"/user/{user}/api/kernels",
                                 {"name": "python3"})
        ws_url = (self.url.replace("http", "ws", 1)
                  + f"/user/{user}/api/kernels/{kernel['id']}/channels")
        ws = await websocket_connect(HTTPRequest(
            ws_url, headers={"Authorization": f"token {self.token}"},
            request_timeout=min(60, self.left())))
        session = uuid.uuid4().hex
        await self._execute(ws, session, setup)
        ready.append(user)
        await go.wait()
        out = await self._execute(ws, session, code)
        ws.close()
        return out

    async def _execute(self, ws, session, code):
        msg_id = uuid.uuid4().hex
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "trial",
                       "session": session, "msg_type": "execute_request",
                       "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False,
                        "stop_on_error": True}}))
        text, error, idle, replied = [], None, False, False
        while not (idle and replied):
            raw = await asyncio.wait_for(ws.read_message(), timeout=self.left())
            if raw is None:
                raise RuntimeError("kernel websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                text.append(msg["content"]["text"])
            elif kind == "error":
                error = f"{msg['content']['ename']}: {msg['content']['evalue']}"
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
            elif kind == "execute_reply":
                replied = True
        if error:
            raise RuntimeError(f"kernel error: {error}")
        return "".join(text)


async def run_mode(hub, students, mode, epochs, trial_id):
    load = Path("/proc/loadavg").read_text().split()[:3]
    log(f"mode {mode}: starting {len(students)} servers (load {' '.join(load)})")
    await asyncio.gather(*(hub.start_server(u, mode) for u in students))
    setup, code = setup_cell(), TRAINING.format(mode=mode, epochs=epochs)
    go, ready = asyncio.Event(), []
    tasks = [asyncio.ensure_future(hub.run_code(u, setup, code, ready, go))
             for u in students]
    # Every kernel has run the setup cell before anyone starts training.
    while len(ready) < len(students):
        for task in tasks:
            if task.done() and task.exception():
                raise task.exception()
        hub.left()
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # let start-up work settle
    log(f"mode {mode}: training in {len(students)} kernels at once")
    wall = time.monotonic()
    go.set()
    outputs = await asyncio.gather(*tasks)
    wall = time.monotonic() - wall
    procs = user_processes(trial_id)
    rows = []
    for user, out in zip(students, outputs):
        result = json.loads(out.split("RESULT ", 1)[1])
        kernel_peak, _, kernel_pss = proc_memory(result["pid"])
        _, server_rss, server_pss = proc_memory(procs[user]["server"])
        rows.append({"user": user, **result, "kernel_peak_mb": kernel_peak,
                     "kernel_pss_mb": kernel_pss, "server_rss_mb": server_rss,
                     "server_pss_mb": server_pss})
    await asyncio.gather(*(hub.stop_server(u) for u in students))
    return {"mode": mode, "load_before": load, "wall_s": wall, "students": rows}


def setup_cell():
    """Notebook 07's first code cell: its imports, as a student runs them."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    return "".join(next(c for c in cells if c["cell_type"] == "code")["source"])


def summary(run):
    rows = run["students"]
    med = statistics.median
    return (f"{run['mode']:<8} {len(rows):>3} {rows[0]['blas_threads']:>7} "
            f"{med(r['seconds'] for r in rows):>9.1f} {run['wall_s']:>7.1f} "
            f"{med(r['kernel_peak_mb'] for r in rows):>8.0f} "
            f"{med(r['server_rss_mb'] for r in rows):>8.0f} "
            f"{med(r['kernel_peak_mb'] + r['server_rss_mb'] for r in rows):>8.0f} "
            f"{med(r['accuracy'] for r in rows):>6.1%}  "
            f"{' '.join(run['load_before'])}")


async def trial(args, work, venv, chp, trial_id):
    token = secrets.token_hex(16)
    port, hub_port, api_port = free_ports(3)
    students = [f"student{i + 1}" for i in range(args.students)]
    config = work / "jupyterhub_config.py"
    config.write_text(HUB_CONFIG.format(
        port=port, hub_port=hub_port, proxy_api_port=api_port, chp=str(chp),
        work=work, students=students,
        singleuser=str(venv / "bin" / "jupyterhub-singleuser"), token=token,
        trial_id=trial_id, recipe=RECIPE))
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.endswith(
               "_NUM_THREADS")}
    env.update(HUB_TRIAL_ID=trial_id,
               PATH=f"{venv / 'bin'}:{env.get('PATH', '')}")
    log(f"JupyterHub on http://127.0.0.1:{port} (log: {work / 'hub.log'})")
    with open(work / "hub.log", "w") as hub_log:
        hub = subprocess.Popen(
            [venv / "bin" / "jupyterhub", "-f", config], cwd=work, env=env,
            stdout=hub_log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        client = Hub(f"http://127.0.0.1:{port}", token,
                     time.monotonic() + args.timeout)
        await client.wait_up()
        for user in students:
            await client.call("POST", f"/hub/api/users/{user}", ok=(201, 409))
        runs = []
        for _ in range(args.rounds):
            for mode in args.modes:
                runs.append(await run_mode(client, students, mode, args.epochs,
                                           trial_id))
                print(summary(runs[-1]), flush=True)
        log(f"the hub itself: {hub_memory(hub.pid, trial_id):.0f} MB resident "
            "(JupyterHub + configurable-http-proxy)")
        return runs
    finally:
        stop(hub, trial_id)


def stop(hub, trial_id):
    """Stop the hub (it stops the proxy and servers), then any straggler."""
    if hub.poll() is None:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    for _ in range(2):
        pids = trial_pids(trial_id)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not pids:
            break
        time.sleep(1)
    if hub.poll() is None:
        hub.kill()
        hub.wait()
    left = trial_pids(trial_id)
    log("stopped everything" if not left else f"could not stop {left}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=4)
    ap.add_argument("--epochs", type=int, default=3,
                    help="training epochs per student (notebook 07: 15)")
    ap.add_argument("--modes", nargs="+", choices=MODES,
                    default=["default", "one", "auto"])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=900,
                    help="seconds for the whole trial, setup excluded")
    ap.add_argument("--venv", type=Path, help="reuse this hub environment")
    ap.add_argument("--chp", type=Path,
                    help="folder with node_modules/.bin/configurable-http-proxy")
    ap.add_argument("--json", type=Path, help="write the measurements here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the trial folder (logs, homes)")
    args = ap.parse_args(argv)
    if not Path("/proc/self/environ").exists():
        sys.exit("hub_trial: needs Linux (/proc) to find and measure processes")

    work = Path(tempfile.mkdtemp(prefix="hub_trial_"))
    trial_id = uuid.uuid4().hex
    try:
        venv = (args.venv or work / "venv").resolve()
        prepare_venv(venv, work)
        chp = prepare_chp((args.chp or work / "chp").resolve())
        print(f"{'mode':<8} {'n':>3} {'threads':>7} {'train s':>9} {'wall s':>7} "
              f"{'kernel':>8} {'server':>8} {'both MB':>8} {'acc':>6}  "
              "load before", flush=True)
        runs = asyncio.run(trial(args, work, venv, chp, trial_id))
        report(runs, args)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            log(f"removing {work}")
            shutil.rmtree(work, ignore_errors=True)


def report(runs, args):
    """Median training time per mode, as a ratio to one thread per kernel."""
    times = {}
    for r in runs:
        times.setdefault(r["mode"], []).append(
            statistics.median(s["seconds"] for s in r["students"]))
    for mode, values in times.items():
        line = f"{mode}: median training {statistics.median(values):.1f} s"
        if "one" in times:
            ratio = statistics.median(values) / statistics.median(times["one"])
            line += f", {ratio:.2f}x the one-thread time"
        print(line, flush=True)
    if args.json:
        args.json.write_text(json.dumps({
            "students": args.students, "epochs": args.epochs,
            "cores": len(os.sched_getaffinity(0)), "runs": runs}, indent=1))

if __name__ == "__main__":
    main()
