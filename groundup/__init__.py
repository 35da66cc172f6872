"""groundup: reinforcement learning, NLP and unsupervised deep learning from the ground up.

Importing groundup registers its Gymnasium environments (``groundup/GridWorld-v0`` and
friends). The families are sub-packages: ``groundup.agents``, ``groundup.envs``,
``groundup.nlp``, ``groundup.unsupervised``. How the parts fit together:
docs/architecture.md.
"""

from groundup._version import __version__
from groundup import envs as _envs  # noqa: F401  (registers the environments)

__all__ = ["__version__"]
