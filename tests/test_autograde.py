"""cnnlib.autograde: which cells of a notebook grading has to run."""

from cnnlib.autograde import cells_needed


def _nb(*sources, graded=()):
    cells = []
    for i, source in enumerate(sources):
        cell = {"cell_type": "code", "id": f"c{i}", "source": source,
                "metadata": {}, "outputs": [], "execution_count": None}
        if i in graded:
            cell["metadata"]["nbgrader"] = {"grade_id": f"g{i}", "grade": False,
                                            "solution": True, "locked": False}
        cells.append(cell)
    return {"cells": cells}


def test_cells_needed_keeps_imports_answers_and_what_they_read():
    nb = _nb(
        "import numpy as np\n%matplotlib inline",              # 0 imports
        "X = np.ones(3)",                                      # 1 read by 4
        "fig = plot(X)\nplt.show()",                           # 2 a figure
        "model = fit(X)",                                      # 3 training
        "def f(y):\n    return y + X.sum() + helper(y)",       # 4 answer
        "def helper(y):\n    return 2 * y",                   # 5 defined later
        "check(f(1))",                                         # 6 test
        graded=(4, 6))
    assert cells_needed(nb, nb) == [0, 1, 4, 5, 6]


def test_cells_needed_follows_chains_and_in_cell_order():
    nb = _nb("import numpy as np",
             "a = np.zeros(2)",
             "a[0] = 5",                   # changes a: needed too
             "b = a * 2\nfor i in range(3):\n    c = i",
             "t = 1\nu = t + b[0]",        # t bound before its use here
             "t = 99",                     # never needed
             graded=(4,))
    assert cells_needed(nb, nb) == [0, 1, 2, 3, 4]


def test_cells_needed_runs_student_cells_and_unparsable_ones():
    instructor = _nb("import numpy as np", "fig = 1", "answer = 0",
                     graded=(2,))
    submitted = _nb("import numpy as np", "fig = 2  # changed", "answer = 0",
                    "extra = 1  # added", "this is not python(",
                    graded=(2,))
    assert cells_needed(submitted, instructor) == [0, 1, 2, 3, 4]
    # without the instructor's copy, every cell counts as the student's
    assert cells_needed(instructor) == [0, 1, 2]
