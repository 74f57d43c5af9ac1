"""How long nbgrader takes to autograde one student's whole course, on one core.

Usage::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_grading.py [--rounds 3]

Builds a throw-away nbgrader course with notebooks 01-07 and one student who
hands in the instructor's solutions, then times ``nbgrader autograde`` for
that student, pinned to one CPU core, with two configurations in paired
rounds:

- before: nbgrader's defaults as TEACHING.md used to give them (every cell
  run, nbclient imitating Output widgets);
- after: the course's tools/nbgrader_config.py (only the cells grading
  needs, no widget imitation, hence no stalls).

It prints the wall time and the CPU time (the grader and its kernels) of
each run and the medians. On a shared machine wall time varies with the
load; CPU time much less. Both configurations grade the same: the script
checks that the scores agree.
"""

import argparse
import csv
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402
import test_classroom as cr  # noqa: E402

BEFORE = """c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "cnn"
c.Execute.timeout = 600
"""


def env():
    path = os.pathsep.join([str(Path(sys.executable).parent),
                            os.environ.get("PATH", "")])
    return dict(os.environ, OPENBLAS_NUM_THREADS="1", MPLBACKEND="agg",
                PATH=path)


def nbgrader(root, *args, core=None):
    """Run nbgrader; return (wall seconds, CPU seconds of it and its kernels)."""
    def pin():
        if core is not None:
            os.sched_setaffinity(0, {core})

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root,
                            env=env(), capture_output=True, text=True,
                            preexec_fn=pin)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        sys.exit(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def course(folder, config):
    root = folder / config
    (root / "source" / "a").mkdir(parents=True)
    for path in cr.course_notebooks():
        shutil.copy(path, root / "source" / "a" / path.name)
    text = (ROOT / "tools" / "nbgrader_config.py").read_text() \
        if config == "after" else BEFORE.format(root=str(root))
    (root / "nbgrader_config.py").write_text(text)
    nbgrader(root, "generate_assignment", "a", "--create", "--force")
    hand_in = root / "submitted" / "student" / "a"
    hand_in.mkdir(parents=True)
    for path in sorted((root / "release" / "a").glob("*.ipynb")):
        solved = cr.insert_solutions(
            nbformat.read(path, as_version=4),
            nbformat.read(root / "source" / "a" / path.name, as_version=4))
        nbformat.write(solved, hand_in / path.name)
    return root


def score(root):
    nbgrader(root, "export")
    with open(root / "grades.csv", newline="") as f:
        return [float(r["score"]) for r in csv.DictReader(f)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--core", type=int, default=0,
                        help="the CPU core to pin the grader to")
    args = parser.parse_args()
    times = {"before": [], "after": []}
    with tempfile.TemporaryDirectory(prefix="bench_grading") as tmp:
        roots = {c: course(Path(tmp), c) for c in times}
        for r in range(args.rounds):
            for config, root in roots.items():
                wall, cpu = nbgrader(root, "autograde", "a", "--force",
                                     core=args.core)
                times[config].append((wall, cpu))
                print(f"round {r + 1} {config:6}: {wall:6.1f} s wall, "
                      f"{cpu:6.1f} s CPU", flush=True)
        scores = {c: score(root) for c, root in roots.items()}
    if scores["before"] != scores["after"]:
        sys.exit(f"the two configurations grade differently: {scores}")
    print(f"\nper student, whole course 01-07, one core, median of "
          f"{args.rounds} paired rounds (score {scores['after'][0]:g} in both):")
    for config, runs in times.items():
        print(f"  {config:6}: {statistics.median(w for w, _ in runs):6.1f} s wall, "
              f"{statistics.median(c for _, c in runs):6.1f} s CPU")
    ratio = statistics.median(b[1] / a[1] for b, a in zip(times["before"],
                                                           times["after"]))
    print(f"  CPU time before / after: {ratio:.1f}x")


if __name__ == "__main__":
    main()
