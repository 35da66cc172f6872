"""groundup.nlp: word embeddings, RNN taggers and recursive networks over sentiment trees.

How the estimators here follow scikit-learn and gensim: docs/architecture.md, "Estimators".
"""

__all__: list[str] = []

from groundup.nlp._estimator import EarlyStoppingWarning, NoLearningWarning  # noqa: E402
from groundup.nlp.recursive_nn import RecursiveNN  # noqa: E402
from groundup.nlp.rntn import RNTN  # noqa: E402
from groundup.nlp.tagger import RNNTagger  # noqa: E402
from groundup.nlp.tagger_ensemble import TaggerEnsemble, fit_taggers  # noqa: E402

__all__ += ["EarlyStoppingWarning", "NoLearningWarning", "RNNTagger", "TaggerEnsemble", "fit_taggers", "RecursiveNN", "RNTN"]
from groundup.nlp.glove import GloVe  # noqa: E402
from groundup.nlp.word2vec import Word2Vec  # noqa: E402

__all__ += ["GloVe", "Word2Vec"]
