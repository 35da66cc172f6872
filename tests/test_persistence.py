import json
import os
import pickle
import struct

import numpy as np
import pytest
import torch

from groundup import persistence
from groundup.persistence import ModelFileError


def _save(tmp_path, name="m.safetensors", **meta):
    path = tmp_path / name
    persistence.save(path, {"w": np.arange(6.0).reshape(2, 3), "b": torch.ones(3), "flag": np.array([True, False])},
                     {"class": "thing", "hyper": {"gamma": 0.9}, **meta})
    return path


def test_round_trip_keeps_arrays_dtypes_and_metadata(tmp_path):
    path = _save(tmp_path)
    tensors, meta = persistence.load(path, expected_class="thing")
    np.testing.assert_array_equal(tensors["w"], np.arange(6.0).reshape(2, 3))
    assert tensors["b"].dtype == np.float32 and tensors["flag"].dtype == np.bool_
    assert meta["hyper"] == {"gamma": 0.9}
    assert meta["format_version"] == persistence.FORMAT_VERSION
    assert meta["groundup_version"]


def test_numpy_scalars_in_metadata_become_json(tmp_path):
    path = tmp_path / "s.safetensors"
    persistence.save(path, {}, {"class": "x", "n": np.int64(3), "f": np.float32(0.5)})
    assert persistence.read_metadata(path)["n"] == 3


def test_metadata_needs_a_class(tmp_path):
    with pytest.raises(ValueError, match="'class'"):
        persistence.save(tmp_path / "a.safetensors", {}, {"hyper": 1})


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(TypeError, match="tensor 'x'"):
        persistence.save(tmp_path / "a.safetensors", {"x": np.array(["a"], dtype=object)}, {"class": "x"})


def test_truncated_file_is_rejected_with_path_and_reason(tmp_path):
    path = _save(tmp_path)
    data = path.read_bytes()
    for cut in (4, 20, len(data) - 3):
        bad = tmp_path / f"cut{cut}.safetensors"
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError) as info:
            persistence.load(bad)
        assert str(bad) in str(info.value)


def test_tampered_tensor_bytes_fail_the_checksum(tmp_path):
    path = _save(tmp_path)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum"):
        persistence.load(path)


def test_tampered_metadata_fails_the_checksum(tmp_path):
    path = _save(tmp_path)
    data = path.read_bytes()
    assert b"0.9" in data
    path.write_bytes(data.replace(b"0.9", b"0.1", 1))
    with pytest.raises(ModelFileError, match="checksum"):
        persistence.load(path)


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/groundup_pwned",))


def test_pickle_files_are_refused_and_never_executed(tmp_path):
    marker = "/tmp/groundup_pwned"
    if os.path.exists(marker):
        os.remove(marker)
    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(_Boom()))
    with pytest.raises(ModelFileError, match="pickle"):
        persistence.load(path)
    zipped = tmp_path / "torch.safetensors"
    torch.save({"x": torch.ones(1)}, zipped)
    with pytest.raises(ModelFileError, match="zip"):
        persistence.load(zipped)
    assert not os.path.exists(marker)


def test_foreign_safetensors_without_groundup_metadata(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "plain.safetensors"
    save_file({"x": np.ones(2)}, str(path))
    with pytest.raises(ModelFileError, match="not written by groundup"):
        persistence.load(path)


def test_newer_format_and_wrong_class_are_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(persistence, "FORMAT_VERSION", persistence.FORMAT_VERSION + 1)
    path = _save(tmp_path)
    monkeypatch.undo()
    with pytest.raises(ModelFileError, match="newer"):
        persistence.load(path)
    path = _save(tmp_path, "ok.safetensors")
    with pytest.raises(ModelFileError, match="'other' was expected"):
        persistence.load(path, expected_class="other")


def test_a_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = _save(tmp_path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        persistence.save(path, {"w": np.zeros(3)}, {"class": "thing"})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_missing_file_and_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError):
        persistence.load(tmp_path / "nope.safetensors")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        persistence.save(tmp_path / "no" / "dir.safetensors", {}, {"class": "x"})


def test_header_length_past_end(tmp_path):
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", 10_000) + json.dumps({}).encode())
    with pytest.raises(ModelFileError, match="past the end"):
        persistence.load(path)


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back afterwards."""
    old = os.umask(0o022)
    try:
        yield os.umask
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)], ids=["umask022", "umask077", "umask002"])
def test_a_saved_model_gets_the_permissions_of_any_new_file(tmp_path, umask, mask, expected):
    umask(mask)
    path = _save(tmp_path)
    assert path.stat().st_mode & 0o7777 == expected
    persistence.load(path, expected_class="thing")  # and it is still a good model file


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_atomic_write_bytes_gives_new_files_normal_permissions(tmp_path, umask):
    umask(0o022)
    persistence.atomic_write_bytes(tmp_path / "results.json", b"{}")
    assert (tmp_path / "results.json").stat().st_mode & 0o7777 == 0o644


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_overwriting_keeps_the_existing_files_permissions(tmp_path, umask):
    umask(0o022)
    path = _save(tmp_path)
    path.chmod(0o640)
    umask(0o077)  # the umask applies to new files only
    persistence.save(path, {"w": np.zeros(3)}, {"class": "thing"})
    assert path.stat().st_mode & 0o7777 == 0o640
    assert persistence.load(path)[0]["w"].shape == (3,)
    path.chmod(0o444)  # a read-only file is replaced (the folder is writable) and stays read-only
    persistence.save(path, {"w": np.zeros(4)}, {"class": "thing"})
    assert path.stat().st_mode & 0o7777 == 0o444
    assert persistence.load(path)[0]["w"].shape == (4,)


def test_an_exception_mid_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = _save(tmp_path)
    before = path.read_bytes()

    def broken_fsync(fd):
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="I/O error"):
        persistence.save(path, {"w": np.zeros(3)}, {"class": "thing"})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def test_the_temporary_file_never_follows_a_planted_symlink(tmp_path, monkeypatch):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    names = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(persistence.secrets, "token_hex", lambda n: next(names))
    (tmp_path / ".m.safetensors.aaaa.tmp").symlink_to(victim)
    path = _save(tmp_path)
    assert victim.read_bytes() == b"keep"
    assert persistence.load(path, expected_class="thing")[1]["hyper"] == {"gamma": 0.9}
    assert not (tmp_path / ".m.safetensors.bbbb.tmp").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)], ids=["umask022", "umask077"])
def test_agent_checkpoints_get_normal_permissions(tmp_path, umask, mask, expected):
    import gymnasium as gym

    from groundup import agents

    umask(mask)
    agent = agents.make("dqn", gym.make("CartPole-v1"), learning_starts=100, buffer_size=500, batch_size=16,
                        net_arch=[8], seed=0)
    ckpt = tmp_path / "run.safetensors"
    agent.learn(240, checkpoint_every=100, checkpoint_path=ckpt)
    assert ckpt.stat().st_mode & 0o7777 == expected
    agent.save(tmp_path / "final.safetensors")
    assert (tmp_path / "final.safetensors").stat().st_mode & 0o7777 == expected
