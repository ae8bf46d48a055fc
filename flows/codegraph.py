"""The code part of a task's cache key, from the modules the task actually imports.

A hand-kept list of paths drifts from the code (it missed ``flows/loading.py``, where the
ingest bodies live). Instead, the project's import graph is walked with :mod:`ast`:

- in the task's own module, only the task function counts: its decorators, signature and body,
  the module-level functions, classes and constants it names (recursively), and the modules
  it imports (at the top of the module, for the names it uses, or inside the function);
- every project module reached from there counts whole (source bytes), with everything it
  imports anywhere in its file (module level or inside functions, ``importlib.import_module``
  of a literal name included), and its parent packages' ``__init__``. Lazy attributes of a
  package (a module-level ``__getattr__``, PEP 562, and any module a string names, as in a
  table of lazy attributes) count only for an importer that asks for a name the package does
  not define itself, or that imports the whole module;
- the package data (templates, tables: ``.csv``, ``.toml``, ``.j2``...) of every top-level
  package reached.

Only the project packages (``analysis``, ``flows``, ``reports``) are followed; third-party code
is pinned by the installed versions, not by this digest. Editing a module changes the key of
every task that imports it, directly or not, and of no other task.
"""

from __future__ import annotations

import ast
import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PACKAGES = ("analysis", "flows", "reports")
DATA_SUFFIXES = frozenset({".csv", ".toml", ".j2", ".html", ".css", ".json", ".yml", ".yaml"})
REPO_ROOT = Path(__file__).resolve().parents[1]
_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def module_path(name: str, root: Path = REPO_ROOT) -> Path | None:
    """The source file of project module ``name`` under ``root`` (None: not a project module)."""
    parts = name.split(".")
    if parts[0] not in PACKAGES:
        return None
    base = root.joinpath(*parts)
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.is_file():
            return p
    return None


@dataclass
class _Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    eager: set[tuple[str, bool]] = field(default_factory=set)  # (module, needs its lazy names)
    lazy: set[tuple[str, bool]] = field(default_factory=set)  # imports in ``__getattr__``
    defined: set[str] = field(default_factory=set)  # names bound at module level
    bound: dict[str, set[tuple[str, bool]]] = field(default_factory=dict)  # name -> its imports


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _resolve(node: ast.Import | ast.ImportFrom, mod: _Module, root: Path) -> list[tuple]:
    """(bound name or None, [(module, lazy needed)]) for each alias of an import statement."""
    out = []
    if isinstance(node, ast.Import):
        for alias in node.names:
            mods = [(p, False) for p in _parents(alias.name)] + [(alias.name, True)]
            bound = alias.asname or alias.name.split(".")[0]
            out.append((bound, mods))
        return out
    if node.level:
        pkg = mod.name if mod.is_package else mod.name.rpartition(".")[0]
        for _ in range(node.level - 1):
            pkg = pkg.rpartition(".")[0]
        base = f"{pkg}.{node.module}" if node.module else pkg
    else:
        base = node.module or ""
    parents = [(p, False) for p in _parents(base)]
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        if module_path(sub, root) is not None:
            mods = [*parents, (base, False), (sub, True)]
        else:
            mods = [*parents, (base, ("*", alias.name))]
        out.append((alias.asname or alias.name, mods))
    return out


def _module_named(node: ast.AST, root: Path) -> str | None:
    """A string constant that names a project module (``"analysis.ingest.reader"``): counted
    as an import of it, since code imports modules by name too (``importlib.import_module``,
    lazy attribute tables)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        name = node.value
        # "a.b" (a bare package name is more often a folder name than an import)
        if name.split(".")[0] in PACKAGES and "." in name and _MODULE_NAME.fullmatch(name):
            if module_path(name, root) is not None:
                return name
    return None


def _called(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _is_getattr(node: ast.stmt) -> bool:
    return isinstance(node, ast.FunctionDef) and node.name == "__getattr__"


def _load(name: str, root: Path) -> _Module | None:
    path = module_path(name, root)
    if path is None:
        return None
    st = path.stat()
    return _parse(name, path, st.st_mtime_ns, st.st_size, root)


@cache
def _parse(name: str, path: Path, mtime_ns: int, size: int, root: Path) -> _Module:
    # cached on (path, mtime, size): parsed once per process unless the file changes
    mod = _Module(name, path, ast.parse(path.read_bytes(), str(path)), path.name == "__init__.py")
    for stmt in mod.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            mod.defined.add(stmt.name)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            mod.defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        in_def = isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        target = mod.lazy if _is_getattr(stmt) else mod.eager
        by_call = {
            id(n.args[0])
            for n in ast.walk(stmt)
            if isinstance(n, ast.Call) and n.args and _called(n) in ("import_module", "__import__")
        }
        for node in ast.walk(stmt):
            if named := _module_named(node, root):
                # importlib.import_module("a.b") runs with the code around it; any other string
                # naming a module (a table of lazy attributes) counts like a lazy attribute
                (target if id(node) in by_call else mod.lazy).add((named, True))
            if isinstance(node, ast.Import | ast.ImportFrom):
                for bound, mods in _resolve(node, mod, root):
                    target.update(mods)
                    if not in_def:  # a module-level import (also under if/try) binds a name
                        mod.defined.add(bound)
                        mod.bound.setdefault(bound, set()).update(mods)
    return mod


def _needs_lazy(flag, module: _Module) -> bool:
    if isinstance(flag, tuple):  # ("*", name): from module import name
        return flag[1] not in module.defined
    return bool(flag)


def import_closure(roots: set[tuple[str, object]], root: Path = REPO_ROOT) -> set[str]:
    """Every project module reached from ``roots`` ((module, lazy flag) pairs)."""
    seen: dict[str, bool] = {}
    todo = list(roots)
    while todo:
        name, flag = todo.pop()
        mod = _load(name, root)
        if mod is None:
            continue
        lazy = _needs_lazy(flag, mod)
        if name in seen and (seen[name] or not lazy):
            continue
        first = name not in seen
        seen[name] = seen.get(name, False) or lazy
        if first:
            todo.extend((p, False) for p in _parents(name))
            todo.extend(mod.eager)
        if lazy:
            todo.extend(mod.lazy)
    return set(seen)


def _function_roots(module: str, name: str, root: Path) -> tuple[list[ast.AST], set]:
    """The module-level nodes function ``name`` of ``module`` depends on, and its imports."""
    mod = _load(module, root)
    if mod is None:
        raise ValueError(f"{module} is not a project module under {root}")
    top: dict[str, ast.stmt] = {}
    for stmt in mod.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            top[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        top[n.id] = stmt
    if name not in top:
        raise ValueError(f"{module} has no module-level {name}")
    nodes: list[ast.AST] = []
    # its parent packages run too (the module itself counts by the nodes above, not whole)
    imports: set = {(p, False) for p in _parents(module)}
    todo = [top[name]]
    while todo:
        node = todo.pop()
        if any(node is n for n in nodes):
            continue
        nodes.append(node)
        for sub in ast.walk(node):
            if named := _module_named(sub, root):
                imports.add((named, True))
            if isinstance(sub, ast.Import | ast.ImportFrom):
                for _bound, mods in _resolve(sub, mod, root):
                    imports.update(mods)
            elif isinstance(sub, ast.Name):
                if sub.id in top:
                    todo.append(top[sub.id])
                if sub.id in mod.bound:
                    imports.update(mod.bound[sub.id])
    return nodes, imports


def code_digest(module: str, name: str, root: Path = REPO_ROOT) -> str:
    """Digest of the code function ``module.name`` runs (see the module docstring)."""
    nodes, imports = _function_roots(module, name, root)
    closure = import_closure(imports, root) - {module}
    h = hashlib.sha256()
    for node in sorted(nodes, key=lambda n: n.lineno):
        h.update(ast.dump(node).encode())
    for m in sorted(closure):
        path = module_path(m, root)
        h.update(f"\0{m}\0".encode())
        h.update(path.read_bytes())
    for pkg in sorted({m.split(".")[0] for m in closure | {module}}):
        for p in sorted((root / pkg).rglob("*")):
            if p.suffix in DATA_SUFFIXES and p.is_file() and "__pycache__" not in p.parts:
                h.update(f"\0{p.relative_to(root)}\0".encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


def task_imports(module: str, name: str, root: Path = REPO_ROOT) -> set[str]:
    """The project modules function ``module.name`` imports, directly or not (not ``module``)."""
    _nodes, imports = _function_roots(module, name, root)
    return import_closure(imports, root) - {module}


_DIGEST_LOCK = threading.Lock()


def task_code_digest(module: str, name: str) -> str:
    """:func:`code_digest` of function ``module.name``, computed once per process (the code a
    process runs does not change while it runs), one thread at a time."""
    with _DIGEST_LOCK:
        return _task_code_digest(module, name)


@cache
def _task_code_digest(module: str, name: str) -> str:
    return code_digest(module, name)
