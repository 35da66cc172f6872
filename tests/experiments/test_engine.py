"""The experiments engine against a real Ray (no mocks): grids, the store, resume,
failures, killed workers and drivers, clusters, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from groundup import experiments
from groundup.experiments import RunFailedWarning, run_key, sweep

pytest.importorskip("ray")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

F = "tests.experiments.run_functions"
ROOT = Path(__file__).resolve().parents[2]


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_local_grid_stores_each_run_once_and_a_second_call_runs_nothing(local_ray, tmp_path):
    log = tmp_path / "log.txt"
    params = {"x": [1, 2, 3], "log": [str(log)]}
    result = sweep(f"{F}:square", params, seeds=[0, 1], store=tmp_path / "store", progress_bar=False)
    assert result.executed == 6 and not result.failed
    assert [(r["params"]["x"], r["seed"]) for r in result.records] == [(x, s) for x in (1, 2, 3) for s in (0, 1)]
    assert [r["metrics"]["value"] for r in result.records] == [x * x + s for x in (1, 2, 3) for s in (0, 1)]
    files = sorted((tmp_path / "store").glob("*.json"))
    assert len(files) == 6
    assert {f.stem for f in files} == {run_key(f"{F}:square", {"x": x, "log": str(log)}, s) for x in (1, 2, 3) for s in (0, 1)}
    for r in result.records:
        assert r["status"] == "ok" and r["error"] is None and r["seconds"] >= 0
        assert isinstance(r["node_id"], str) and len(r["node_id"]) > 20 and r["hostname"]
    assert len(_lines(log)) == 6
    again = sweep(f"{F}:square", params, seeds=[0, 1], store=tmp_path / "store", progress_bar=False)
    assert again.executed == 0 and len(_lines(log)) == 6
    assert [r["metrics"] for r in again.records] == [r["metrics"] for r in result.records]
    # a larger grid runs only the new cells; fresh=True reruns everything
    more = sweep(f"{F}:square", params, seeds=[0, 1, 2], store=tmp_path / "store", progress_bar=False)
    assert more.executed == 3 and len(_lines(log)) == 9
    fresh = sweep(f"{F}:square", params, seeds=[0], store=tmp_path / "store", fresh=True, progress_bar=False)
    assert fresh.executed == 3 and len(_lines(log)) == 12
    assert len(list((tmp_path / "store").glob("*.json"))) == 9


def test_serial_backend_gives_the_same_records(local_ray, tmp_path):
    a = sweep(f"{F}:square", {"x": [2, 5]}, [3], store=tmp_path / "a", progress_bar=False)
    b = sweep(f"{F}:square", {"x": [2, 5]}, [3], store=tmp_path / "b", backend="serial", progress_bar=False)
    assert [r["metrics"] for r in a.records] == [r["metrics"] for r in b.records]
    assert [r["key"] for r in a.records] == [r["key"] for r in b.records]
    assert all(r["node_id"] is None for r in b.records)


def test_a_run_gets_its_cpus_as_torch_threads_and_the_serial_driver_keeps_its_own(local_ray, tmp_path):
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    on_ray = sweep(f"{F}:threads", None, [0], store=tmp_path / "a", num_cpus=2, progress_bar=False)
    serial = sweep(f"{F}:threads", None, [0], store=tmp_path / "b", num_cpus=1, backend="serial",
                   progress_bar=False)
    assert on_ray.records[0]["metrics"] == {"threads": 2}
    assert serial.records[0]["metrics"] == {"threads": 1}
    after = torch.get_num_threads()
    torch.set_num_threads(before)
    assert after == 2


def test_a_raising_run_is_recorded_with_its_traceback_and_the_rest_go_on(local_ray, tmp_path):
    with pytest.warns(RunFailedWarning, match="1 of 3 runs failed"):
        result = sweep(f"{F}:raises", {"x": [1, 2, 3]}, [0], store=tmp_path, progress_bar=False)
    by_x = {r["params"]["x"]: r for r in result.records}
    assert by_x[1]["status"] == by_x[3]["status"] == "ok"
    failed = by_x[2]
    assert failed["status"] == "failed" and failed["metrics"] is None
    assert "Traceback" in failed["error"] and "RuntimeError: run x=2 seed=0 broke on purpose" in failed["error"]
    assert "run_functions.py" in failed["error"]
    stored = json.loads((tmp_path / f"{failed['key']}.json").read_text())
    assert stored["status"] == "failed" and "broke on purpose" in stored["error"]
    assert result.failed == [failed]
    # the next call runs the failed one again (failures may be transient), not the others
    with pytest.warns(RunFailedWarning):
        again = sweep(f"{F}:raises", {"x": [1, 2, 3]}, [0], store=tmp_path, progress_bar=False)
    assert again.executed == 1


def test_non_json_metrics_fail_the_run_with_a_clear_message(local_ray, tmp_path):
    with pytest.warns(RunFailedWarning):
        result = sweep(f"{F}:not_json", None, [0], store=tmp_path, progress_bar=False)
    error = result.records[0]["error"]
    assert "TypeError" in error and "the run's metrics['value'] has type object" in error and "JSON" in error


def test_a_worker_killed_mid_run_is_retried_and_recorded_once(local_ray, tmp_path):
    log, markers = tmp_path / "log.txt", tmp_path / "markers"
    markers.mkdir()
    result = sweep(f"{F}:killed_once", {"marker_dir": [str(markers)], "log": [str(log)]}, [0, 1, 2],
                   store=tmp_path / "store", max_retries=2, progress_bar=False)
    assert not result.failed
    assert [r["metrics"]["value"] for r in result.records] == [0, 1, 2]
    starts = _lines(log)
    assert len(starts) == 6  # every seed ran twice: killed, then retried by Ray
    assert len({line.split()[2] for line in starts}) >= 2  # the retry ran in a new worker process
    assert len(list((tmp_path / "store").glob("*.json"))) == 3


def test_a_killed_worker_without_retries_is_recorded_as_failed(local_ray, tmp_path):
    markers = tmp_path / "markers"
    markers.mkdir()
    with pytest.warns(RunFailedWarning):
        result = sweep(f"{F}:killed_once", {"marker_dir": [str(markers)], "log": [str(tmp_path / "log")]}, [0],
                       store=tmp_path / "store", max_retries=0, progress_bar=False)
    assert result.records[0]["status"] == "failed" and "died" in result.records[0]["error"].lower()


DRIVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from groundup.experiments import sweep
    r = sweep("tests.experiments.run_functions:square", {{"x": list(range(6)), "log": [{log!r}], "sleep": [1.0]}},
              [0], store={store!r}, progress_bar=False)
    print("executed", r.executed)
""")


@pytest.mark.slow
def test_a_driver_killed_mid_sweep_resumes_with_only_the_missing_runs(tmp_path):
    experiments.shutdown()  # the drivers below start their own local Ray
    log, store = tmp_path / "log.txt", tmp_path / "store"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER.format(root=str(ROOT), log=str(log), store=str(store)))
    proc = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while len(list(store.glob("*.json"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and everything it started
    proc.wait()
    done_before = {p.stem for p in store.glob("*.json")}
    assert 2 <= len(done_before) < 6, "the driver should have been killed half-way"
    again = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"executed {6 - len(done_before)}" in again.stdout
    assert len(list(store.glob("*.json"))) == 6
    xs_run_after = [int(line.split()[0]) for line in _lines(log)][-(6 - len(done_before)):]
    keys_after = {run_key("tests.experiments.run_functions:square", {"x": x, "log": str(log), "sleep": 1.0}, 0)
                  for x in xs_run_after}
    assert not keys_after & done_before  # nothing that had finished ran again


@pytest.mark.slow
def test_a_two_node_cluster_runs_the_sweep_on_both_nodes(tmp_path):
    from ray.cluster_utils import Cluster

    experiments.shutdown()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        result = sweep(f"{F}:where", {"sleep": [1.5]}, list(range(4)), store=tmp_path, address=cluster.address,
                       progress_bar=False)
        assert not result.failed
        assert len({r["node_id"] for r in result.records}) == 2
    finally:
        experiments.shutdown()
        cluster.shutdown()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(function="no.such.module:f"), ValueError, "cannot import module 'no.such.module'"),
        (dict(function=f"{F}:nope"), ValueError, "has no attribute 'nope'"),
        (dict(function="square"), ValueError, "not of the form 'package.module:function'"),
        (dict(params={"x": 3}), TypeError, r"params\['x'\] must be a list of values to sweep, got int 3"),
        (dict(params={"x": []}), ValueError, r"params\['x'\] is an empty list"),
        (dict(params=[1, 2]), TypeError, "params must be a dict"),
        (dict(seeds=[]), ValueError, "seeds is empty"),
        (dict(seeds=[0, -1]), TypeError, "non-negative integers"),
        (dict(backend="threads"), ValueError, "backend must be one of"),
        (dict(num_cpus=-1), ValueError, "num_cpus must be a number >= 0"),
    ],
)
def test_bad_input_gets_a_clear_error_before_anything_runs(tmp_path, kwargs, error, match):
    call = dict(function=f"{F}:square", params={"x": [1]}, seeds=[0])
    call.update(kwargs)
    with pytest.raises(error, match=match):
        sweep(call.pop("function"), call.pop("params"), call.pop("seeds"), store=tmp_path / "s", progress_bar=False,
              **call)
    assert not list((tmp_path / "s").glob("*.json")) if (tmp_path / "s").exists() else True


def test_an_address_where_nothing_listens_fails_fast(tmp_path):
    import socket

    experiments.shutdown()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(experiments.ClusterConnectionError, match=f"no Ray cluster at '127.0.0.1:{port}'"):
        sweep(f"{F}:square", {"x": [1]}, [0], store=tmp_path, address=f"127.0.0.1:{port}", progress_bar=False)
    assert time.monotonic() - start < 30
    with pytest.raises(ValueError, match="is not 'auto', 'host:port'"):
        sweep(f"{F}:square", {"x": [1]}, [0], store=tmp_path, address="nowhere", progress_bar=False)


def test_a_store_path_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        sweep(f"{F}:square", {"x": [1]}, [0], store=f, backend="serial", progress_bar=False)


def test_train_and_evaluate_trains_a_registered_agent(tmp_path):
    result = sweep(experiments.train_and_evaluate, {"agent": ["value-iteration", "q-learning"], "env": ["FrozenLake-v1"],
                                                     "timesteps": [20_000], "eval_episodes": [200]},
                   [0], store=tmp_path, backend="serial", progress_bar=False)
    vi, q = (r["metrics"] for r in result.records)
    assert 0.65 <= vi["mean_return"] <= 0.85  # the optimum under the 100-step limit is 0.74
    assert q["timesteps"] == 20_000 and q["steps_per_second"] > 0 and q["episodes"] > 100
    assert len(q["curve"]) >= 10 and q["curve"][-1][0] == pytest.approx(20_000, rel=0.05)


def test_importing_groundup_and_the_engine_imports_neither_ray_nor_optuna_nor_a_family():
    code = ("import sys, groundup, groundup.experiments, groundup.cli; "
            "print(sorted(m for m in ('ray', 'optuna', 'groundup.agents', 'groundup.nlp', 'groundup.unsupervised') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_parse_seeds_reads_ranges_and_lists():
    import argparse

    from groundup.experiments.engine import parse_seeds

    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,3,5") == [0, 3, 5]
    assert parse_seeds("2-3,7") == [2, 3, 7]
    for bad in ("", "a", "4-2", "-1", "1,,2"):
        with pytest.raises(argparse.ArgumentTypeError, match="seeds must look like"):
            parse_seeds(bad)
