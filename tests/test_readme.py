"""What a new user reads first is true and its links work (issue 20 items 5-6, issue 19).

- Every link and picture in README.md, in docs/**/*.md and in benchmarks/results/*.md
  points to a file that exists (relative to the markdown file), and every in-page anchor to
  a heading. (The built site's own links are checked by ``mkdocs build --strict``, in
  tests/test_docs.py.)
- The README is a front page: at most 10,000 characters, the two set-up commands first, and
  a headline table whose every number appears in the benchmarks/results/ file its row cites.

The README's and the guides' ```python blocks run in tests/test_docs_examples.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
GENERATED_PAGE = DOCS / "benchmarks.md"  # completed by docs/hooks/benchmarks_page.py when the site is built
MARKDOWN_FILES = [README, *sorted(DOCS.rglob("*.md")), *sorted((ROOT / "benchmarks" / "results").glob("*.md"))]

# ---------------------------------------------------------------------------------------------
# links and pictures

FENCED = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`+[^`\n]*`+")
# [text](target "title") and ![alt](target); the text may hold one level of brackets
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\]\(\s*<?([^\s)>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)
HTML_LINK = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def prose(text: str) -> str:
    """The markdown without its code (fenced blocks and inline code spans)."""
    return INLINE_CODE.sub("", FENCED.sub("", text))


def link_targets(text: str) -> list[str]:
    body = prose(text)
    return [m.group(1) for pattern in (INLINE_LINK, REFERENCE_LINK, HTML_LINK) for m in pattern.finditer(body)]


def anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens,
    repeats numbered -1, -2, ..."""
    seen: dict[str, int] = {}
    out = set()
    for m in HEADING.finditer(prose(text)):
        title = re.sub(r"[`*_]|<[^>]+>", "", m.group(1)).strip().lower()
        slug = re.sub(r"[^\w\- ]", "", title).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def broken_links(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    broken = []
    for target in link_targets(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not dest.exists():
            broken.append(f"{target} (no file {dest.relative_to(ROOT) if dest.is_relative_to(ROOT) else dest})")
        elif dest == GENERATED_PAGE:
            continue  # its sections come from benchmarks/results/ at build time: mkdocs --strict checks these anchors
        elif anchor and dest.suffix == ".md" and unquote(anchor).lower() not in anchors(dest.read_text(encoding="utf-8")):
            broken.append(f"{target} (no heading with anchor #{anchor} in {dest.name})")
    return broken


def test_link_extraction_finds_links_and_skips_code():
    text = (
        "See ![a plot](pics/a.png) and [the guide](docs/guide.md#set-up), "
        "[x [y]](<b.md>) and <img src=\"d.png\">.\n\n[ref]: e.md\n\n"
        "`![not](code.png)`\n\n```python\nx = [1](2)\n```\n"
    )
    assert link_targets(text) == ["pics/a.png", "docs/guide.md#set-up", "b.md", "e.md", "d.png"]
    assert anchors("# groundup\n## Set-up: make & pip\n## Set-up: make & pip\n") == {
        "groundup", "set-up-make--pip", "set-up-make--pip-1"}


def test_the_link_check_has_links_to_check():
    # the check below is not vacuous: the results tables show their pictures, the README
    # links the guides and the results, the guides link the benchmarks page
    results = ROOT / "benchmarks" / "results"
    pictures = [t for p in results.glob("*.md") for t in link_targets(p.read_text(encoding="utf-8")) if t.endswith(".png")]
    assert len(pictures) >= 5
    readme = link_targets(README.read_text(encoding="utf-8"))
    assert sum(t.startswith("docs/guides/") for t in readme) >= 6
    assert sum(t.startswith("benchmarks/results/") for t in readme) >= 5
    assert any("benchmarks.md" in t for p in (DOCS / "guides").glob("*.md") for t in link_targets(p.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


# ---------------------------------------------------------------------------------------------
# the README as a front page

README_LIMIT = 10_000
NUMBER = re.compile(r"-?\d+(?:,\d{3})*(?:\.\d+)?%?")


def test_readme_is_a_front_page():
    text = README.read_text(encoding="utf-8")
    assert len(text) <= README_LIMIT, f"README.md has {len(text)} characters; the limit is {README_LIMIT}: move detail into docs/"
    first_block = re.search(r"```sh\n(.*?)```", text, re.DOTALL)
    assert first_block and text.index(first_block.group(0)) < text.index("\n## ")
    assert re.findall(r"^make (\w+)", first_block.group(1), re.MULTILINE) == ["demo", "test"]


def headline_rows(text: str) -> list[dict[str, str]]:
    """The rows of the README's "Headline results" table, as {column: cell}."""
    section = text.split("## Headline results", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split("|")))) for line in lines[2:]]


def numbers(cell: str) -> list[str]:
    return [n for n in NUMBER.findall(cell) if not re.fullmatch(r"\d{1,3}", n)]  # "5/5", "784-500" parts stay out


HEADLINE_FAMILIES = {"tabular RL", "bandits", "deep RL", "word embeddings", "taggers", "sentiment trees",
                     "unsupervised", "experiments"}


def test_headline_table_has_one_row_per_family_and_cites_a_results_file():
    rows = headline_rows(README.read_text(encoding="utf-8"))
    assert {r["family"] for r in rows} == HEADLINE_FAMILIES
    for row in rows:
        assert re.fullmatch(r"\[\w+\]\(benchmarks/results/\w+\.md\)", row["source"]), row


@pytest.mark.parametrize("row", headline_rows(README.read_text(encoding="utf-8")), ids=lambda r: f"{r['family']}: {r['task'][:30]}")
def test_headline_numbers_appear_in_the_results_file_they_cite(row):
    source = ROOT / re.search(r"\((benchmarks/results/\w+\.md)\)", row["source"]).group(1)
    results = source.read_text(encoding="utf-8")
    cited = numbers(row["groundup"]) + numbers(row["baseline"])
    assert cited, f"no number to check in {row}"
    missing = [n for n in cited if not re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", results)]
    assert missing == [], f"{source.name} does not hold {missing} (README row {row['family']}: {row['task']})"


def test_headline_check_catches_a_number_the_results_do_not_hold():
    row = {"family": "x", "task": "t", "groundup": "0.7341", "baseline": "0.744", "source": "[rl_tabular](benchmarks/results/rl_tabular.md)"}
    with pytest.raises(AssertionError, match="0.7341"):
        test_headline_numbers_appear_in_the_results_file_they_cite(row)
