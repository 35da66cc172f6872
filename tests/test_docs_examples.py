"""Examples that cannot rot (issue 19, point 2): every ```python block of README.md and of
the guides under docs/ runs, through mktestdocs, in an empty folder.

mktestdocs finds the blocks (``grab_code_blocks``) and runs each with ``exec`` under
``__name__ == "__main__"`` (its ``python`` executor), so a block is tested exactly as a user
pastes it: there is no substitution table. A block whose budget is smaller than the real
one says so on the page ("the benchmark: 200_000"). Blocks that take more than a few
seconds on a 2-core machine are marked ``slow`` (``SLOW`` below), so ``make test-fast``
skips them and ``make test`` runs them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

mktestdocs = pytest.importorskip("mktestdocs")  # in the [test] extra
from mktestdocs.__main__ import exec_python  # noqa: E402  (mktestdocs' executor for python blocks)

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

# (page, block number from 1) -> why it is slow; every entry must name a block that exists
SLOW: dict[tuple[str, int], str] = {
    ("docs/getting-started.md", 3): "an autoencoder trained for 30 epochs in a pipeline",
    ("docs/guides/rl-deep.md", 1): "three deep agents, a checkpoint and a resume",
    ("docs/guides/embeddings.md", 1): "Word2Vec and three GloVe solvers on a quarter of PTB",
    ("docs/guides/taggers.md", 3): "two tagger processes started side by side",
    ("docs/guides/experiments.md", 1): "starts a local Ray",
}


def blocks() -> list:
    params = []
    for page in PAGES:
        name = page.relative_to(ROOT).as_posix()
        for i, code in enumerate(mktestdocs.grab_code_blocks(page.read_text(encoding="utf-8"), lang="python"), 1):
            marks = [pytest.mark.slow] if (name, i) in SLOW else []
            params.append(pytest.param(name, i, code, id=f"{name}-{i}", marks=marks))
    return params


BLOCKS = blocks()


def test_the_pages_have_examples_and_the_slow_table_names_real_blocks():
    by_page = {}
    for p in BLOCKS:
        by_page[p.values[0]] = by_page.get(p.values[0], 0) + 1
    assert by_page.get("README.md", 0) >= 6          # one per family
    guides = [n for n in by_page if n.startswith("docs/guides/")]
    assert len(guides) >= 6, guides
    assert set(SLOW) <= {(p.values[0], p.values[1]) for p in BLOCKS}


def test_a_failing_block_fails(tmp_path, monkeypatch):
    # the runner below is not vacuous: a block that raises makes the test fail
    monkeypatch.chdir(tmp_path)
    [code] = mktestdocs.grab_code_blocks("text\n\n```python\nx = 1\nassert x == 2, 'caught'\n```\n", lang="python")
    with pytest.raises(AssertionError, match="caught"):
        exec_python(code)


@pytest.mark.parametrize("page, number, code", BLOCKS)
def test_python_block_runs(page, number, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                 # blocks write their model files here
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("RAY_DISABLE_IMPORT_WARNING", "1")
    exec_python(code)
