"""A local Ray for the engine tests, started once and stopped after them."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the driver resolves "tests.experiments.run_functions:..." too
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="module")
def local_ray():
    """The engine's own local Ray (all cores); shut down after the module."""
    pytest.importorskip("ray")
    from groundup import experiments

    old = os.getcwd()
    os.chdir(ROOT)  # workers import tests.experiments.run_functions from here
    experiments.connect(None, code_paths=[str(ROOT)])
    yield
    experiments.shutdown()
    os.chdir(old)
