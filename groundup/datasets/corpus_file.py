"""The ``corpus_file=`` reader of the embedding models: a plain-text file, one sentence per
line, tokens separated by whitespace, read as a stream of bytes and checked as it goes.

What gensim's ``LineSentence`` does, with clear errors where gensim would train on garbage:

- the file is read line by line through a buffered binary stream (``.gz`` and ``.bz2``
  are decompressed on the fly), so only one line is ever held as a string;
- a line longer than ``max_sentence_length`` tokens (10,000, gensim's
  ``MAX_WORDS_IN_BATCH``) is split into consecutive sentences of at most that many
  tokens, as gensim's ``LineSentence`` splits it;
- a missing file, an empty file (no token at all) and a binary file (a NUL byte, which no
  text has) raise ``ValueError``/``FileNotFoundError`` naming the file, and for binary
  data the line and byte offset where it starts;
- **non-UTF-8 bytes are an error**, not replaced: ``CorpusFileError`` names the file,
  the line and the byte offset of the first bad byte. Replacing them silently would add
  tokens that are not in the text (and split words) without the user knowing; a file
  in another encoding should be converted first (``iconv -f latin1 -t utf-8``) or read
  with ``encoding=`` set to that encoding, which this reader accepts.
"""

from __future__ import annotations

import bz2
import gzip
import io
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MAX_SENTENCE_LENGTH", "CorpusFile", "CorpusFileError"]

MAX_SENTENCE_LENGTH = 10_000  # gensim's MAX_WORDS_IN_BATCH: longer lines are split


class CorpusFileError(ValueError):
    """A corpus file that cannot be read as text: the message names the file, the line
    and the byte offset where the problem starts."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        super().__init__(f"corpus_file {str(path)!r}: {reason}")


class CorpusFile:
    """Sentences from ``path``, one per line, split on whitespace; see the module
    docstring for what is checked. Each ``iter()`` reads the file afresh.

    ``tokens_read`` and ``lines_read`` count what the last complete pass saw.
    """

    def __init__(
        self, path: str | os.PathLike, *, max_sentence_length: int = MAX_SENTENCE_LENGTH, encoding: str = "utf-8"
    ) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"corpus_file {str(path)!r} does not exist; pass a text file, one sentence per line")
        if not self.path.is_file():
            raise ValueError(f"corpus_file {str(path)!r} is not a regular file (a directory?); pass a text file")
        if int(max_sentence_length) < 1:
            raise ValueError(f"max_sentence_length must be a positive integer; got {max_sentence_length!r}")
        self.max_sentence_length = int(max_sentence_length)
        self.encoding = encoding
        self.tokens_read = 0
        self.lines_read = 0

    def _open(self) -> io.BufferedIOBase:
        if self.path.suffix == ".gz":
            return gzip.open(self.path, "rb")
        if self.path.suffix == ".bz2":
            return bz2.open(self.path, "rb")
        return open(self.path, "rb", buffering=1 << 20)

    def __iter__(self) -> Iterator[list[str]]:
        offset, tokens = 0, 0
        n = self.max_sentence_length
        line_no = 0
        with self._open() as fh:
            try:
                for line_no, raw in enumerate(fh, start=1):
                    nul = raw.find(b"\x00")
                    if nul >= 0:
                        raise CorpusFileError(
                            self.path, f"line {line_no} (byte {offset + nul}) holds a NUL byte: this is "
                            "binary data, not text; corpus_file needs plain text, one sentence per line")
                    try:
                        words = raw.decode(self.encoding).split()
                    except UnicodeDecodeError as exc:
                        raise CorpusFileError(
                            self.path, f"line {line_no} (byte {offset + exc.start}) is not valid {self.encoding}: "
                            f"{raw[exc.start:exc.start + 4]!r}...; convert the file to UTF-8 (iconv) or pass its encoding"
                        ) from None
                    offset += len(raw)
                    tokens += len(words)
                    for start in range(0, len(words), n):  # gensim's LineSentence splits long lines
                        yield words[start : start + n]
            except (OSError, EOFError) as exc:  # a truncated or corrupt .gz/.bz2
                raise CorpusFileError(self.path, f"cannot be read past line {line_no} (byte {offset}): {exc}") from None
        if tokens == 0:
            raise CorpusFileError(
                self.path, f"the file holds no tokens ({offset} bytes in {line_no} lines); it is empty or blank")
        self.tokens_read, self.lines_read = tokens, line_no

    def __repr__(self) -> str:
        return f"CorpusFile({str(self.path)!r})"
