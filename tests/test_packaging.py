"""The built wheel maps agents/, envs/, nlp/, unsupervised/ into groundup.* and ships every module."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAPPING = {"groundup": "groundup", "agents": "groundup/agents", "envs": "groundup/envs", "nlp": "groundup/nlp",
           "unsupervised": "groundup/unsupervised"}


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    pytest.importorskip("setuptools")
    out_dir = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out_dir)], check=True, capture_output=True, timeout=300)
    (wheel,) = out_dir.glob("groundup-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_only_groundup_at_the_top_level(wheel_names):
    tops = {name.split("/")[0] for name in wheel_names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"groundup"}
    for forbidden in ("agents/__init__.py", "envs/__init__.py", "nlp/__init__.py", "unsupervised/__init__.py"):
        assert forbidden not in wheel_names


def test_every_source_module_is_in_the_wheel(wheel_names):
    missing = []
    for folder, target in MAPPING.items():
        for path in [*(ROOT / folder).rglob("*.py"), *(ROOT / folder).rglob("*.c")]:  # .c: kernels built on first use
            rel = path.relative_to(ROOT / folder).as_posix()
            if f"{target}/{rel}" not in wheel_names:
                missing.append(f"{folder}/{rel}")
    assert not missing, f"not packaged (add the sub-package to pyproject's packages list, a .c file to package-data): {missing}"


def test_console_script_is_declared(wheel_names):
    assert any(name.endswith("entry_points.txt") for name in wheel_names)
