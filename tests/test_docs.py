"""The documentation site (issue 19, point 1): ``mkdocs build --strict`` passes, and what
makes it fail really does.

- The real site builds (what ``make docs`` runs), with an API page per subpackage and the
  benchmarks page filled from every ``benchmarks/results/*.md`` with its pictures.
- A broken link, a broken cross-reference to an API object, and an undocumented public
  object each fail the build (docs/hooks/api_coverage.py for the last).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")  # in the [docs] extra, which [test] includes
griffe = pytest.importorskip("griffe")
yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _hook(name: str):
    spec = importlib.util.spec_from_file_location(f"docs_hook_{name}", ROOT / "docs" / "hooks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = mkdocs_build(ROOT / "mkdocs.yml", out)
    assert done.returncode == 0, done.stderr[-6000:]
    return out


def test_the_site_builds_strict_with_the_reference_and_benchmarks(site):
    reference = (site / "reference" / "agents" / "index.html").read_text(encoding="utf-8")
    for name in ("groundup.agents.make", "groundup.agents.dqn.DQN", "learning_rate"):
        assert name in reference
    assert "fit_transform" in (site / "reference" / "unsupervised" / "index.html").read_text(encoding="utf-8")
    bench = (site / "benchmarks" / "index.html").read_text(encoding="utf-8")
    for results in RESULTS.glob("*.md"):
        assert f"benchmarks/results/{results.name}" in bench, f"{results.name} is missing from the benchmarks page"
    pictures = sorted(p.name for p in RESULTS.glob("*.png"))
    assert pictures and all((site / "benchmarks" / "results" / name).is_file() for name in pictures)
    assert all(f'src="results/{name}"' in bench for name in pictures if name in bench), "a picture link does not point at the copied file"
    assert sum(f"results/{name}" in bench for name in pictures) >= 5


@pytest.fixture()
def small_config(tmp_path) -> Path:
    """mkdocs.yml's settings (strictness, link validation, mkdocstrings) on a one-page site."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    _hook("api_coverage").lay_out_source_tree()
    python = config["plugins"][1]["mkdocstrings"]["handlers"]["python"]
    python["paths"] = [str(ROOT / p) for p in python["paths"]]
    python["options"]["extensions"] = [str(ROOT / e) if ".py" in e else e for e in python["options"]["extensions"]]
    for key in ("hooks", "nav", "exclude_docs"):
        config.pop(key)
    config["docs_dir"] = str(tmp_path / "docs")
    (tmp_path / "docs").mkdir()
    path = tmp_path / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("page, error", [
    ("See [the agents][groundup.agents.make].", None),
    ("See [the guide](guides/nowhere.md).", "nowhere.md"),
    ("See [the agents][groundup.agents.no_such_function].", "no_such_function"),
])
def test_strict_build_fails_on_a_broken_link_or_cross_reference(small_config, tmp_path, page, error):
    # the page renders one object, so that cross-references have something to resolve against
    rendered = "::: groundup.agents\n    options:\n      members: [make]\n"
    (tmp_path / "docs" / "index.md").write_text(f"# Test\n\n{page}\n\n{rendered}", encoding="utf-8")
    done = mkdocs_build(small_config, tmp_path / "site")
    if error is None:
        assert done.returncode == 0, done.stderr[-3000:]
    else:
        assert done.returncode != 0 and error in done.stderr, done.stderr[-3000:]


def test_the_coverage_check_finds_undocumented_and_unrendered_objects(tmp_path):
    coverage = _hook("api_coverage")
    pkg = tmp_path / "src" / "fakepkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""A package."""\n')
    (pkg / "sub" / "__init__.py").write_text(
        '"""Sub."""\n__all__ = ["Documented", "bare", "Hidden"]\n\n'
        'class Documented:\n    """Has one."""\n\n    def method(self):\n        pass\n\n'
        '    def _private(self):\n        pass\n\n'
        'def bare():\n    pass\n\n'
        'class Hidden:\n    """Documented, but on no page."""\n')
    docs = tmp_path / "docs"
    (docs / "reference").mkdir(parents=True)
    (docs / "reference" / "sub.md").write_text("# Sub\n\n::: fakepkg.sub\n    options:\n      members: [Documented, bare]\n")
    package = griffe.load("fakepkg", search_paths=[tmp_path / "src"], try_relative_path=False)
    undocumented, unrendered = coverage.check(package, docs, public_packages=("fakepkg.sub",))
    assert undocumented == ["fakepkg.sub.Documented.method", "fakepkg.sub.bare"]
    assert unrendered == ["fakepkg.sub.Hidden"]


def test_the_real_reference_covers_every_export():
    coverage = _hook("api_coverage")
    coverage.lay_out_source_tree()
    package = griffe.load("groundup", search_paths=[coverage.SOURCE_TREE], try_relative_path=False,
                          extensions=griffe.load_extensions("griffe_inherited_docstrings"), resolve_aliases=True,
                          resolve_external=False)
    undocumented, unrendered = coverage.check(package)
    assert (undocumented, unrendered) == ([], [])
    # the check looked at something: the reference renders every agent and estimator class
    assert len(coverage.directives()) >= 15


def test_restructuredtext_habits_become_markdown():
    roles = _hook("sphinx_roles")
    assert roles.plain("see :class:`RBM` and :func:`~groundup.torch_utils.make_optimizer`.") == \
        "see `RBM` and `make_optimizer`."
    text = "Two ways::\n\n    a = 1\n    b = 2\n\nAfter.\n\n>>> x = 1\n>>> x\n1\n\nEnd."
    assert roles.fence_literal_blocks(text) == (
        "Two ways:\n\n```python\na = 1\nb = 2\n```\n\nAfter.\n\n```pycon\n>>> x = 1\n>>> x\n1\n```\n\nEnd.")


def test_import_groundup_loads_no_documentation_library():
    code = ("import sys, groundup, groundup.agents, groundup.nlp, groundup.unsupervised, groundup.experiments; "
            "print(sorted(m for m in ('mkdocs', 'mkdocstrings', 'griffe', 'material', 'playwright', 'mktestdocs') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"
