"""What a new user reads first works (issue 20, items 5 and 6).

- Every link and picture in README.md and in benchmarks/results/*.md points to a file that
  exists (relative to the markdown file), and every in-page anchor to a heading.
- Every ```python block of README.md runs on its own, each in a fresh Python process in an
  empty folder, with its budgets scaled down through the table ``SCALE_DOWN`` below. The
  blocks are extracted with ``mktestdocs``; they run in a subprocess rather than through
  ``mktestdocs.check_md_file`` (which ``exec``s them inside pytest) because one block starts
  worker processes with the "spawn" method, which re-import the script that started them.
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
MARKDOWN_FILES = [README, *sorted((ROOT / "benchmarks" / "results").glob("*.md"))]

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


def test_readme_links_its_benchmark_pictures():
    # the check below is not vacuous: the README's benchmark blocks show their pictures
    pictures = [t for t in link_targets(README.read_text(encoding="utf-8")) if t.endswith(".png")]
    assert len(pictures) >= 5
    assert all(t.startswith("benchmarks/results/") for t in pictures), pictures


@pytest.mark.parametrize("path", MARKDOWN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path):
    assert broken_links(path) == []


# ---------------------------------------------------------------------------------------------
# the README's python blocks

try:
    import mktestdocs  # in the [test] extra
except ImportError:  # the link tests above still run
    mktestdocs = None

# Budgets that would take minutes are scaled down before a block runs. Keys are the blocks'
# ids (the README section, then the block's number in it); values are (text in the block,
# what replaces it, why). Every entry must still match its block (see the test below), so an
# edited README cannot silently run its full budgets here.
SCALE_DOWN: dict[str, list[tuple[str, str, str]]] = {
    "rl-tabular-1": [
        ("total_timesteps=200_000", "total_timesteps=5_000", "200k steps take ~2 s; 5k show the same API"),
    ],
    "rl-deep-1": [
        ("sarsa.learn(n_episodes=500)", "sarsa.learn(n_episodes=2)", "500 Mountain Car episodes take ~3 s"),
        ("dqn.learn(50_000, checkpoint_every=10_000", "dqn.learn(2_000, checkpoint_every=1_000",
         "50k DQN steps take ~40 s; 2k still pass learning_starts=1000 and write a checkpoint"),
        (".learn(200_000)", ".learn(2_000)", "200k actor-critic steps take ~10 s"),
    ],
    "embeddings-1": [
        ('sentences = ptb("train")', 'sentences = list(ptb("train"))[:10_000]',
         "a quarter of PTB's 42k sentences ('monday' is still in the vocabulary)"),
        ("epochs=5", "epochs=1", "one epoch is enough to run the code"),
        ("epochs=15", "epochs=1", "one epoch"),
        ("epochs=12", "epochs=1", "one epoch"),
    ],
    # the taggers: a few hundred CoNLL sentences and one epoch, instead of 14k sentences and
    # ~20 epochs (6 to 13 minutes a tagger)
    "taggers-1": [
        ('(load_conll2003(split) for split in ("train", "valid", "test"))',
         '(load_conll2003(split)[:300] for split in ("train", "valid", "test"))', "300 sentences a split"),
        ("random_state=0, verbose=1)", "random_state=0, verbose=1, max_iter=1)", "one epoch"),
    ],
    "taggers-2": [
        ('load_conll2003("train"), load_conll2003("valid")',
         'load_conll2003("train")[:300], load_conll2003("valid")[:100]', "a few hundred sentences"),
        ('list(ptb("train"))', 'list(ptb("train"))[:2000]', "a slice of PTB is enough to train vectors"),
        ("epochs=10", "epochs=1", "one epoch"),
        ("use_ema=True, random_state=0)", "use_ema=True, random_state=0, max_iter=1)", "one epoch"),
    ],
    "taggers-3": [
        ('load_conll2003("train"), load_conll2003("valid")',
         'load_conll2003("train")[:300], load_conll2003("valid")[:100]', "a few hundred sentences"),
        ("max_iter=22", "max_iter=1", "one epoch per ensemble member"),
    ],
    "taggers-4": [
        ("make_sentiment_treebank(random_state=0)", "make_sentiment_treebank(300, 50, 50, 100, random_state=0)",
         "6,000 training trees take ~25 s"),
        ("RNTN(random_state=0)", "RNTN(random_state=0, max_iter=2)", "two epochs"),
    ],
    # 1,000 MNIST images and one epoch each, instead of 50,000 and 10-30 epochs (~10 minutes)
    "unsupervised-1": [
        ("X, y = mnist.X_train, mnist.y_train", "X, y = mnist.X_train[:1000], mnist.y_train[:1000]", "1,000 images"),
        ("[:5000]", "[:500]", "t-SNE of 5,000 points takes ~10 s"),
        ("TSNE(random_state=0)", "TSNE(random_state=0, max_iter=250)", "fewer t-SNE iterations"),
        ("n_iter=10", "n_iter=1", "one RBM epoch"),
        ("rbm.pseudo_likelihood(mnist.X_test)", "rbm.pseudo_likelihood(mnist.X_test[:200])",
         "the exact pseudo-likelihood of 10,000 images (784 flips each) takes ~30 s"),
        ("n_steps=1000", "n_steps=10", "fewer Gibbs steps"),
        ('("rbm", RBM())', '("rbm", RBM(64, n_iter=1))', "a small RBM, one epoch"),
        ("Autoencoder(30).fit(X)", "Autoencoder(30, max_iter=1).fit(X)", "one autoencoder epoch"),
        ("DBN().fit(X, y)", "DBN(pretrain_n_iter=1, max_iter=1).fit(X, y)", "one pretraining and one fine-tuning epoch"),
    ],
    "experiments-1": [
        ('"timesteps": [20_000]', '"timesteps": [2_000]', "fewer steps per run"),
        ("seeds=range(5)", "seeds=range(2)", "fewer runs"),
    ],
}

# Blocks that cannot run here, by id, with the reason (none today: no block may need the
# network).
SKIP: dict[str, str] = {}


def _readme_blocks() -> list[tuple[str, str]]:
    """(id, code) for each ```python block; the id is the README section it sits in and the
    block's number there."""
    if mktestdocs is None:
        return []
    text = README.read_text(encoding="utf-8")
    sections = [(m.start(), m.group(1)) for m in re.finditer(r"<!-- section:([\w-]+) -->", text)]
    blocks, counts, start = [], {}, 0
    for code in mktestdocs.grab_code_blocks(text, lang="python"):
        at = text.find(code, start)
        start = max(start, at)
        section = next((name for pos, name in reversed(sections) if pos < at), "top")
        counts[section] = counts.get(section, 0) + 1
        blocks.append((f"{section}-{counts[section]}", code))
    return blocks


BLOCKS = _readme_blocks()


def scaled_down(name: str, code: str) -> str:
    for old, new, _why in SCALE_DOWN.get(name, []):
        code = code.replace(old, new)
    return code


def test_readme_has_python_blocks_and_the_scale_down_table_matches_them():
    if mktestdocs is None:
        pytest.skip("mktestdocs is not installed: pip install -e '.[test]'")
    assert len(BLOCKS) >= 8
    codes = dict(BLOCKS)
    assert len(codes) == len(BLOCKS)
    assert set(SCALE_DOWN) | set(SKIP) <= set(codes), "SCALE_DOWN or SKIP name a block the README no longer has"
    stale = [(name, old) for name, entries in SCALE_DOWN.items() for old, _, _ in entries if old not in codes[name]]
    assert stale == [], "SCALE_DOWN entries that their README block no longer contains"


@pytest.mark.slow
@pytest.mark.parametrize("name, code", BLOCKS, ids=[name for name, _ in BLOCKS])
def test_readme_python_block_runs_on_its_own(name, code, tmp_path):
    if name in SKIP:
        pytest.skip(SKIP[name])
    script = tmp_path / "readme_block.py"
    script.write_text(scaled_down(name, code), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg",
           "RAY_DISABLE_IMPORT_WARNING": "1"}
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, f"README block {name} failed:\n{scaled_down(name, code)}\n--- stderr ---\n{done.stderr[-4000:]}"
