"""Griffe extension: the reStructuredText habits of the docstrings render in Markdown.

The docstrings are numpydoc, written with two reStructuredText habits that Markdown lacks
and mkdocstrings would print verbatim. This extension (listed in mkdocs.yml) rewrites them
before rendering, leaving the source as it is:

- Sphinx roles (``:class:`RBM```, ``:func:`~groundup.torch_utils.make_optimizer```)
  become inline code: the target as written, or its last part after Sphinx's ``~``;
- a literal block (a paragraph ending in ``::`` and the indented lines after it) and a
  doctest (lines starting with ``>>>``) become fenced code blocks.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(~?)([^`]+)`")


def plain(text: str) -> str:
    """``text`` with every Sphinx role replaced by inline code."""
    return ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", text)


def fence_literal_blocks(text: str) -> str:
    """Indented blocks after a ``::`` paragraph, and ``>>>`` sessions, as fenced code."""
    lines, out, i = text.split("\n"), [], 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::") and not line.lstrip().startswith(">>>"):
            out.append(line.rstrip()[:-1])  # "text::" -> "text:"
            i += 1
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            while block and not block[0].strip():
                block.pop(0)
            indent = min((len(b) - len(b.lstrip()) for b in block if b.strip()), default=0)
            out += ["", "```python", *(b[indent:] for b in block), "```", ""]
            continue
        if line.lstrip().startswith(">>>"):
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            out += ["```pycon", *block, "```"]
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


class SphinxRoles(griffe.Extension):
    """Rewrites the roles of every docstring griffe loads."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = fence_literal_blocks(plain(obj.docstring.value))
