"""MkDocs hook: the benchmarks page is built from ``benchmarks/results/`` at build time.

The benchmarks write only ``benchmarks/results/NAME.md`` (a table and a footer naming the
command) and its pictures. ``docs/benchmarks.md`` holds the prose and the marker
``<!-- benchmark-results -->``; this hook puts every results file under that marker, one
section each (headings shifted under the section's), and adds the pictures to the site as
``benchmarks/results/*.png`` so the links the tables hold resolve, and are checked by
``mkdocs build --strict`` like any other link.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
MARKER = "<!-- benchmark-results -->"
PAGE = "benchmarks.md"

# the order and titles of the sections; a results file not named here comes after them,
# titled from its name, so a new benchmark appears without editing this hook
TITLES = {
    "bandits": "Bandits",
    "rl_tabular": "Tabular reinforcement learning",
    "rl_deep": "Deep reinforcement learning",
    "robustness": "Agents with their defaults",
    "embeddings": "Word embeddings",
    "taggers": "Taggers and sentiment trees",
    "taggers_robustness": "Taggers with their defaults",
    "unsupervised": "Unsupervised learning on MNIST",
    "unsupervised_robustness": "Unsupervised estimators with their defaults",
    "tsne_scaling": "t-SNE scaling",
    "training": "Training deep networks",
    "experiments": "The experiments engine",
}
HEADING = re.compile(r"^(#{1,6})(\s)", re.MULTILINE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def results_files() -> list[Path]:
    """The results tables in page order: those in ``TITLES`` first, then the rest by name."""
    found = {p.stem: p for p in RESULTS.glob("*.md")}
    order = [n for n in TITLES if n in found] + sorted(n for n in found if n not in TITLES)
    return [found[n] for n in order]


def section(path: Path) -> str:
    """One results file as a ``##`` section: its own headings are pushed below ``##`` and its
    picture links point at ``benchmarks/results/``."""
    text = path.read_text(encoding="utf-8")
    levels = [len(m.group(1)) for m in HEADING.finditer(FENCE.sub("", text))]
    shift = 3 - min(levels) if levels else 0
    if shift:
        text = HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + shift) + m.group(2), text)
    text = re.sub(r"\]\(([^)/:#]+\.(?:png|svg|jpg))\)", r"](benchmarks/results/\1)", text)
    # a results file linking another one links to that file's section on this page
    text = re.sub(r"\]\(([\w-]+)\.md\)", lambda m: f"](#{m.group(1).replace('_', '-')})", text)
    title = TITLES.get(path.stem, path.stem.replace("_", " ").capitalize())
    return f"## {title} {{ #{path.stem.replace('_', '-')} }}\n\n_From `benchmarks/results/{path.name}`._\n\n{text.strip()}\n"


def on_files(files: Files, config) -> Files:
    for picture in sorted(RESULTS.glob("*.png")):
        files.append(File(f"benchmarks/results/{picture.name}", str(ROOT), config["site_dir"],
                          config["use_directory_urls"]))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise ValueError(f"docs/{PAGE} has lost its marker {MARKER}: the results tables have nowhere to go")
    return markdown.replace(MARKER, "\n".join(section(p) for p in results_files()))
