"""The benchmarks' shared command line: where outputs go, and that only an explicit full
run may rewrite the tracked tables."""

from __future__ import annotations

import subprocess

import pytest

from benchmarks import common


@pytest.mark.parametrize("mode", ["smoke", "quick", "full"])
def test_outputs_go_to_an_ignored_folder_unless_update_results(mode):
    args = common.parse_args("bandits", "test", [f"--{mode}"])
    assert args.out == common.OUTPUT / mode
    assert args.store == common.OUTPUT / "store" / "bandits"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(args.out / "bandits.md")], cwd=common.ROOT)
    assert ignored.returncode == 0, f"{args.out} is not ignored by git"


@pytest.mark.parametrize("flag", ["--update-results", "--update-readme"])
def test_update_results_writes_the_results_folder_in_full_mode(flag):
    # --update-readme is the flag's old name, kept so the commands in the results' footers still run
    args = common.parse_args("bandits", "test", [flag])
    assert args.mode == "full" and args.out == common.RESULTS and args.update_results


@pytest.mark.parametrize("argv, message", [
    (["--quick", "--update-results"], "only for the full mode, not --quick"),
    (["--smoke", "--update-results"], "only for the full mode, not --smoke"),
    (["--update-results", "--out", "/tmp/elsewhere"], "leave --out out"),
    (["--smoke", "--quick"], "not allowed with argument"),
    (["--seeds", "3-1"], "--seeds"),
])
def test_bad_flags_are_refused_with_the_reason(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        common.parse_args("bandits", "test", argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, command", [
    (["--smoke"], "python -m benchmarks.bandits --smoke"),
    (["--update-results"], "python -m benchmarks.bandits --update-results"),
    (["--only", "deep:cartpole,deep:acrobot", "--seeds", "0-2", "--update-results"],
     "python -m benchmarks.bandits --only deep:cartpole,deep:acrobot --seeds 0,1,2 --update-results"),
])
def test_the_footer_names_the_command_with_the_flags_that_chose_the_runs(argv, command):
    assert common.command_line(common.parse_args("bandits", "test", argv)) == command
