"""The benchmarks' shared command line: where outputs go, and that only an explicit full
run may rewrite the tracked tables."""

from __future__ import annotations

import subprocess

import pytest

from benchmarks import common


@pytest.mark.parametrize("mode", ["smoke", "quick", "full"])
def test_outputs_go_to_an_ignored_folder_unless_update_readme(mode):
    args = common.parse_args("bandits", "test", [f"--{mode}"])
    assert args.out == common.OUTPUT / mode
    assert args.store == common.OUTPUT / "store" / "bandits"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(args.out / "bandits.md")], cwd=common.ROOT)
    assert ignored.returncode == 0, f"{args.out} is not ignored by git"


def test_update_readme_writes_the_results_folder_in_full_mode():
    args = common.parse_args("bandits", "test", ["--update-readme"])
    assert args.mode == "full" and args.out == common.RESULTS


@pytest.mark.parametrize("argv, message", [
    (["--quick", "--update-readme"], "only for the full mode, not --quick"),
    (["--smoke", "--update-readme"], "only for the full mode, not --smoke"),
    (["--update-readme", "--out", "/tmp/elsewhere"], "leave --out out"),
    (["--smoke", "--quick"], "not allowed with argument"),
    (["--seeds", "3-1"], "--seeds"),
])
def test_bad_flags_are_refused_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        common.parse_args("bandits", "test", argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
