"""MkDocs hook: an undocumented public object fails the build.

mkdocstrings renders what it is pointed at and stays silent about objects without a
docstring. This hook reads every ``::: identifier`` directive under ``docs/reference/``
(with its ``members:`` option, if any), loads the package with griffe, and fails the build
when

* an object the reference renders (a module's public members, a class and its public
  methods and properties defined on it) has no docstring (a method overriding a documented
  one inherits its docstring, as ``inspect.getdoc`` and the ``griffe_inherited_docstrings``
  extension of mkdocs.yml do), or
* a name exported by a subpackage's ``__all__`` (``PUBLIC_PACKAGES``) is rendered on no
  reference page, so a new export cannot slip out of the reference.

It runs once, before the build (``on_pre_build``), in about a second.

The repository installs ``agents/``, ``envs/``, ``nlp/`` and ``unsupervised/`` as
``groundup.*`` through ``package-dir``; griffe (and so mkdocstrings) finds packages by
their folders, so ``on_config`` first copies the installed tree into
``build/docs-src/groundup/``, the path mkdocs.yml gives mkdocstrings.
"""

from __future__ import annotations

import importlib
import re
import shutil
from pathlib import Path

import griffe

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
SOURCE_TREE = ROOT / "build" / "docs-src"
# installed name -> folder in the repository (pyproject.toml's [tool.setuptools.package-dir])
PACKAGE_DIRS = {"agents": "agents", "envs": "envs", "nlp": "nlp", "unsupervised": "unsupervised"}
PUBLIC_PACKAGES = ("groundup.agents", "groundup.envs", "groundup.nlp", "groundup.unsupervised",
                   "groundup.datasets", "groundup.experiments")
DIRECTIVE = re.compile(r"^::: ([\w.]+)[ \t]*\n((?:[ \t]+.*\n?)*)", re.MULTILINE)
MEMBERS = re.compile(r"^\s+members:\s*\[([^\]]*)\]", re.MULTILINE)


class UndocumentedObjectError(Exception):
    """Raised to stop ``mkdocs build`` when public objects lack docstrings."""


def directives(docs: Path = DOCS) -> list[tuple[str, list[str] | None]]:
    """(identifier, listed members or None) for every ``:::`` directive of the reference."""
    found = []
    for page in sorted((docs / "reference").glob("*.md")):
        for m in DIRECTIVE.finditer(page.read_text(encoding="utf-8")):
            listed = MEMBERS.search(m.group(2))
            found.append((m.group(1), [s.strip() for s in listed.group(1).split(",") if s.strip()] if listed else None))
    return found


def _public_members(module: griffe.Module) -> list[str]:
    if module.exports is not None:
        return [str(name) for name in module.exports]
    return [name for name, member in module.members.items()
            if not name.startswith("_") and not member.is_alias and not member.is_module]


def _missing(obj: griffe.Object, path: str) -> list[str]:
    """``path`` and its public methods and properties that have no docstring."""
    missing = [] if obj.docstring and obj.docstring.value.strip() else [path]
    if obj.is_class:
        for name, member in obj.members.items():
            if name.startswith("_") or member.is_alias or not (member.is_function or member.is_attribute and "property" in member.labels):
                continue
            if not (member.docstring and member.docstring.value.strip()):
                missing.append(f"{path}.{name}")
    return missing


def check(package: griffe.Module, docs: Path = DOCS,
          public_packages: tuple[str, ...] = PUBLIC_PACKAGES) -> tuple[list[str], list[str]]:
    """(undocumented objects, exports absent from the reference)."""
    undocumented: list[str] = []
    rendered: set[str] = set()
    for identifier, listed in directives(docs):
        obj = package.modules_collection[identifier] if identifier in package.modules_collection else None
        obj = obj or package[identifier.removeprefix(f"{package.path}.")]
        rendered.add(obj.path)
        names = listed if listed is not None else (_public_members(obj) if obj.is_module else [])
        if not obj.is_module:
            undocumented += _missing(obj, identifier)
            continue
        for name in names:
            member = obj[name]
            try:
                target = member.final_target if member.is_alias else member
            except griffe.AliasResolutionError:
                # made at import time (a module __getattr__, PEP 562): ask the live object
                rendered.add(f"{identifier}.{name}")
                if not (getattr(getattr(importlib.import_module(identifier), name), "__doc__", None) or "").strip():
                    undocumented.append(f"{identifier}.{name}")
                continue
            rendered.update({f"{identifier}.{name}", target.path})
            if target.is_attribute:  # constants are documented by the module's docstring
                continue
            undocumented += _missing(target, f"{identifier}.{name}")
    unrendered = []
    for name in public_packages:
        module = package[name.removeprefix(f"{package.path}.")]
        unrendered += [f"{name}.{member}" for member in _public_members(module)
                       if f"{name}.{member}" not in rendered]
    return sorted(set(undocumented)), unrendered


def lay_out_source_tree(root: Path = ROOT, tree: Path = SOURCE_TREE) -> Path:
    """``tree/groundup/``: a copy of the Python files of ``groundup/`` and of the
    sub-package folders, in the installed layout. Copies, not links: griffe resolves links
    and would look for the sub-packages beside the real ``groundup/``. Rebuilt on every call."""
    package = tree / "groundup"
    shutil.rmtree(package, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(root / "groundup", package, ignore=ignore)
    for name, folder in PACKAGE_DIRS.items():
        shutil.copytree(root / folder, package / name, ignore=ignore)
    return tree


def on_startup(command, dirty) -> None:
    # before any plugin's config event: mkdocstrings looks for the package while it is
    # configured, so on a fresh clone the tree must exist by then
    lay_out_source_tree()


def on_config(config):
    lay_out_source_tree()  # again for `mkdocs serve` rebuilds, which skip on_startup
    return config


def on_pre_build(config) -> None:
    package = griffe.load("groundup", search_paths=[SOURCE_TREE], try_relative_path=False,
                          extensions=griffe.load_extensions("griffe_inherited_docstrings"), docstring_parser="numpy", resolve_aliases=True,
                          resolve_external=False, force_inspection=False)
    undocumented, unrendered = check(package)
    problems = [f"no docstring: {p}" for p in undocumented] + [f"not in docs/reference/: {p}" for p in unrendered]
    if problems:
        raise UndocumentedObjectError("public objects without documentation:\n  " + "\n  ".join(problems))
