"""Graded test cells that trust nothing the student's notebook can change.

A test cell runs in the same kernel as the student's code, so anything the
notebook defined or patched before it is in reach: ``check_close = lambda
*a: None`` in a solution cell, ``cnnlib.checks.check_close = ...``, a
replaced ``fit``, or the library's own ``correlate2d`` called where the
exercise says "do not call it". A graded test cell therefore starts with::

    import importlib
    import cnnlib.grading
    grading = importlib.reload(cnnlib.grading)   # the file's code, not a patch
    ck = grading.fresh("cnnlib.checks")          # check_close & co., fresh

and then

- takes every checker and every reference from `fresh` modules, executed
  again from their files (a patch of the loaded ones changes nothing);
- computes the expected values itself, from data it makes itself;
- refuses the calls the exercise forbids with `refuse_calls`, which reads
  the student's function (its code and the helpers it calls), not its
  results.

What stays possible is code that attacks the grading machinery itself
(``importlib``, ``sys.modules``, NumPy); the nbgrader configuration in
``tools/nbgrader_config.py`` reports any solution cell that touches such
names, outside the kernel, where the notebook cannot interfere. See
TEACHING.md, "Adding an exercise".

Used by the test cells of every notebook's exercises and of
notebooks/assignments/A1_conv_layers_from_scratch.ipynb.
"""

import ast
import importlib
import inspect
import sys
import textwrap
import types

__all__ = ["fresh", "refuse_calls", "network_spec", "rebuild_network"]

# Names a graded function may not use: they reach code by a string, which
# no reading of the function can follow.
DYNAMIC = ("getattr", "eval", "exec", "compile", "__import__", "globals",
           "vars", "import_module", "__builtins__", "__dict__", "locals")


def fresh(*names):
    """Modules of ``cnnlib`` executed again from their files.

    Parameters
    ----------
    *names : str
        Module names, e.g. ``"cnnlib.checks"``, ``"cnnlib.conv"``.

    Returns
    -------
    module or tuple of modules
        New module objects that share nothing with the ``cnnlib`` the
        notebook imported (NumPy and other packages are shared), so
        rebinding or patching the notebook's copies does not reach them.
        The notebook's own imports are left exactly as they were.
    """
    for name in names:
        if name != "cnnlib" and not name.startswith("cnnlib."):
            raise ValueError(f"fresh: only cnnlib modules, got {name!r}")
    ours = [k for k in sys.modules if k == "cnnlib" or k.startswith("cnnlib.")]
    saved = {k: sys.modules.pop(k) for k in ours}
    try:
        modules = tuple(importlib.import_module(n) for n in names)
    finally:
        for k in [k for k in sys.modules
                  if k == "cnnlib" or k.startswith("cnnlib.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    return modules[0] if len(modules) == 1 else modules


class _Refused(AssertionError):
    """Raised (as the checks' CheckFailed is) when a rule is broken."""


def _fail(message, hint=None):
    # CheckFailed of a fresh cnnlib.checks, so the student sees the usual form
    checks = fresh("cnnlib.checks")
    raise checks.CheckFailed(message, hint)


def _code_names(code):
    """Every global, attribute and import name a code object uses, nested too."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _source_line(func, name):
    """``'line 3: return correlate2d(x, w)'`` where ``name`` appears, or ''."""
    try:
        lines, start = inspect.getsourcelines(func)
        tree = ast.parse(textwrap.dedent("".join(lines)))
    except (OSError, TypeError, SyntaxError):
        return ""
    for node in ast.walk(tree):
        found = (isinstance(node, ast.Name) and node.id == name) or (
            isinstance(node, ast.Attribute) and node.attr == name) or (
            isinstance(node, ast.alias) and name in (node.name, node.asname))
        if found and hasattr(node, "lineno"):
            text = lines[node.lineno - 1].strip()
            return f" (line {node.lineno}: {text})"
    return ""


def _owner(obj):
    """The module a function, class or module comes from ('' if unknown)."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return getattr(obj, "__module__", None) or ""


def refuse_calls(func, forbidden=(), modules=(), name=None, hint=None):
    """Fail unless ``func`` is the student's own code without forbidden calls.

    Reads the function (and every function of the notebook it calls, and
    its default arguments and closure) without running it.

    Parameters
    ----------
    func : function
        The student's function, defined with ``def`` or ``lambda`` in the
        notebook.
    forbidden : sequence of str
        Function names the exercise rules out, e.g. ``["correlate2d"]``;
        refused under any alias (``c = correlate2d``) and as an attribute
        (``cnnlib.conv.correlate2d``).
    modules : sequence of str
        Packages none of whose functions may be used, e.g. ``["cnnlib",
        "scipy"]`` (NumPy stays allowed unless named).
    name : str, optional
        What the function is called in the message (default its __name__).
    hint : str, optional

    Raises
    ------
    CheckFailed
        Naming the forbidden call and, when the source is available, the
        line that makes it.
    """
    if name is None:  # the name the notebook calls it by (a lambda has none)
        caller = inspect.currentframe().f_back.f_globals
        name = next((k for k, v in caller.items() if v is func and
                     not k.startswith("_")), getattr(func, "__name__", None))
    label = name or repr(func)
    if not isinstance(func, types.FunctionType):
        _fail(f"{label} must be a function you write with def, got "
              f"{type(func).__name__} {func!r}", hint)
    modules = tuple(modules)
    forbidden = set(forbidden)

    def banned_object(obj):
        owner = _owner(obj)
        if owner == "__main__":
            return None
        for m in modules:
            if owner == m or owner.startswith(m + "."):
                return f"{owner}.{getattr(obj, '__name__', '')}".rstrip(".")
        if getattr(obj, "__name__", None) in forbidden and callable(obj):
            return f"{owner}.{obj.__name__}".lstrip(".")
        return None

    seen = set()

    def visit(f, where):
        if f.__code__ in seen:
            return
        seen.add(f.__code__)
        if _owner(f) != "__main__":
            what = banned_object(f) or f"{_owner(f)}.{f.__name__}"
            _fail(f"{label}: {where} is {what}, not code you wrote; the "
                  "exercise asks you to write it yourself", hint)
        used = _code_names(f.__code__)
        for n in sorted(used & set(DYNAMIC)):
            _fail(f"{label}: uses {n}{_source_line(f, n)}; graded functions "
                  "may not look names up by string, so the grader can read "
                  "what they call", hint)
        for n in sorted(used & forbidden):
            _fail(f"{label}: calls {n}{_source_line(f, n)}, which this "
                  "exercise asks you not to use", hint)
        for n in sorted(used & set(modules)):
            _fail(f"{label}: uses {n}{_source_line(f, n)}; this exercise asks "
                  f"you not to use {', '.join(modules)}", hint)
        values = []
        for n in sorted(used):
            if n in f.__globals__:
                values.append((n, f.__globals__[n]))
        values += [("a default argument", v) for v in (f.__defaults__ or ())]
        values += [("a default argument", v)
                   for v in (f.__kwdefaults__ or {}).values()]
        for cell in f.__closure__ or ():
            try:
                values.append(("a variable it closes over", cell.cell_contents))
            except ValueError:  # an empty cell
                pass
        for n, obj in values:
            banned = banned_object(obj)
            if banned:
                _fail(f"{label}: {n} is {banned}{_source_line(f, n)}, which "
                      "this exercise asks you not to use", hint)
            if isinstance(obj, types.FunctionType) and _owner(obj) == "__main__":
                visit(obj, f"helper {obj.__name__}")
            elif isinstance(obj, type) and _owner(obj) == "__main__":
                for member in vars(obj).values():
                    if isinstance(member, types.FunctionType):
                        visit(member, f"method {member.__qualname__}")

    visit(func, "it")


# ------------------------------------------------ networks built by students

_LAYER_ARGS = {
    "Conv2D": ("in_channels", "out_channels", "kernel_size", "stride",
               "padding", "dilation"),
    "MaxPool2D": ("size", "stride", "padding"),
    "AvgPool2D": ("size", "stride", "padding"),
    "ReLU": (),
    "Flatten": (),
    "Linear": ("in_features", "out_features"),
}


def network_spec(model, allowed=tuple(_LAYER_ARGS)):
    """The architecture of a `Sequential` as ``[(layer name, kwargs), ...]``.

    Only the layer types and their sizes are read, never the student's
    weights or methods, so a network rebuilt from the spec by
    `rebuild_network` behaves as the library's layers do.

    Raises
    ------
    CheckFailed
        ``model`` is not a Sequential of ``allowed`` cnnlib layers.
    """
    layers = getattr(model, "layers", None)
    if type(model).__name__ != "Sequential" or not isinstance(layers, list):
        _fail(f"expected a cnnlib Sequential, got {type(model).__name__}")
    spec = []
    for i, layer in enumerate(layers):
        kind = type(layer).__name__
        if kind not in allowed or _owner(type(layer)) != "cnnlib.layers":
            _fail(f"layer {i} is {kind} from {_owner(type(layer)) or '?'}; "
                  f"use only {', '.join(allowed)} from cnnlib.layers")
        spec.append((kind, {a: getattr(layer, a) for a in _LAYER_ARGS[kind]}))
    return spec


def rebuild_network(spec, seed):
    """A fresh network with architecture ``spec`` and weights from ``seed``.

    Built from a `fresh` ``cnnlib.layers``; every layer with weights gets
    its own generator derived from ``seed``, so the result depends on the
    design and the seed, not on how the student seeded their layers.
    """
    layers_mod, model_mod = fresh("cnnlib.layers", "cnnlib.model")
    import numpy as np

    seeds = np.random.SeedSequence(seed).spawn(len(spec))
    built = []
    for (kind, kwargs), s in zip(spec, seeds):
        cls = getattr(layers_mod, kind)
        if kind in ("Conv2D", "Linear"):
            built.append(cls(**kwargs, rng=np.random.default_rng(s)))
        else:
            built.append(cls(**kwargs))
    return model_mod.Sequential(*built)
