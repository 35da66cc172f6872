"""Save and load anything groundup learns: one ``.safetensors`` file per model.

The arrays go in the safetensors body; everything else (the class id, hyper-parameters,
spaces, counters, the groundup version, a format version) goes in the header's metadata
as one JSON document, guarded by a SHA-256 over the JSON and every array's bytes.

Why this format: safetensors is a plain header plus raw bytes, so loading never executes
code from the file (a pickle would). Files are written to a temporary name beside the
target and renamed over it, so a crash mid-write leaves the previous file intact; a new
file gets the permissions any new file gets (``0o666 & ~umask``), an overwritten one keeps
its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from groundup._version import __version__

__all__ = ["FORMAT_VERSION", "ModelFileError", "SaveLoadMixin", "StateError", "save", "load", "read_metadata",
           "atomic_write_bytes", "load_module_state"]

FORMAT_VERSION = 1
_META_KEY = "groundup"
_SUM_KEY = "groundup_sha256"


class ModelFileError(ValueError):
    """A model file that cannot be trusted: truncated, tampered, foreign, or too new."""

    def __init__(self, path: str | os.PathLike, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot load model file {self.path!r}: {reason}")


def _to_numpy(name: str, value: Any) -> np.ndarray:
    try:
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype == torch.bfloat16:
                value = value.float()
            return np.ascontiguousarray(value.numpy())
    except ImportError:  # pragma: no cover - torch is a required dependency
        pass
    arr = np.asarray(value)
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"tensor {name!r} has dtype {arr.dtype}; only numeric and boolean arrays can be saved")
    return np.ascontiguousarray(arr)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"metadata value {obj!r} of type {type(obj).__name__} is not JSON-serialisable")


def _digest(meta_json: str, arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256(meta_json.encode("utf-8"))
    for name in sorted(arrays):
        arr = arrays[name]
        h.update(f"\0{name}\0{arr.dtype.str}\0{arr.shape}\0".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def _new_file_mode(path: Path) -> int | None:
    """The permission bits the file at ``path`` should end with.

    A file that already exists keeps its mode (what editors and ``cp`` do, so a model
    file someone made group-readable, or read-only, stays so after it is overwritten).
    Otherwise ``None`` is returned and the file is created the way any new file is:
    with mode ``0o666``, which the kernel narrows by the process umask (and the folder's
    default ACL, where there is one).
    """
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return stat.S_IMODE(st.st_mode) & 0o777  # never copy set-uid/set-gid/sticky bits


_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0) \
    | getattr(os, "O_CLOEXEC", 0)


def _create_temp(directory: Path, name: str) -> tuple[int, str]:
    """Create a fresh temporary file beside the target, mode ``0o666`` before the umask.

    ``tempfile.mkstemp`` always creates mode ``0o600``, so every saved file used to end
    up readable by its owner only. Rather than read the umask and ``chmod`` afterwards
    (reading it portably means ``os.umask`` set-and-restore, which is process-wide and
    races with other threads creating files), the file is created with ``0o666`` and the
    kernel applies the umask at creation, exactly as for any other new file. ``O_EXCL``
    and ``O_NOFOLLOW`` keep mkstemp's safety: an existing name or a planted symlink is
    never opened.
    """
    for _ in range(100):
        tmp = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, _TMP_FLAGS, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {str(directory)!r}")  # pragma: no cover


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (never half a file).

    The temporary file is written, flushed and fsync'd, then renamed over ``path`` with
    ``os.replace``, so readers see either the old file or the new one. Permissions: a new
    file gets ``0o666 & ~umask`` (``0o644`` under the usual umask 022), like any file a
    program creates; a file that already exists keeps its permission bits.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"cannot write {str(path)!r}: folder {str(directory)!r} does not exist")
    keep_mode = _new_file_mode(path)
    fd, tmp = _create_temp(directory, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            if keep_mode is not None:
                if hasattr(os, "fchmod"):
                    os.fchmod(fh.fileno(), keep_mode)
                else:  # pragma: no cover - Windows before Python 3.13
                    os.chmod(tmp, keep_mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable; not possible on every platform
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def save(path: str | os.PathLike, tensors: Mapping[str, Any], metadata: Mapping[str, Any]) -> Path:
    """Write ``tensors`` (name -> array or tensor) and ``metadata`` to ``path`` atomically.

    ``metadata`` must hold a ``"class"`` entry (the id that :func:`load` checks) and only
    JSON-serialisable values (NumPy scalars are converted). Returns the path written.
    """
    from safetensors.numpy import save as st_save

    if "class" not in metadata or not isinstance(metadata["class"], str):
        raise ValueError("metadata must contain a 'class' string naming what is saved")
    arrays = {str(k): _to_numpy(str(k), v) for k, v in tensors.items()}
    doc = dict(metadata)
    doc["format_version"] = FORMAT_VERSION
    doc["groundup_version"] = __version__
    meta_json = json.dumps(doc, default=_json_default, sort_keys=True, allow_nan=True)
    header = {_META_KEY: meta_json, _SUM_KEY: _digest(meta_json, arrays)}
    data = st_save(arrays, metadata=header)
    atomic_write_bytes(path, data)
    return Path(path)


def _sniff(path: str, head: bytes) -> str | None:
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "it is a Python pickle (groundup never unpickles model files)"
    if head[:2] == b"PK":
        return "it is a zip archive, such as torch.save writes (groundup never unpickles model files)"
    return None


def _read(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    from safetensors.numpy import load as st_load

    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"model file {str(p)!r} does not exist")
    data = p.read_bytes()
    if len(data) < 8:
        raise ModelFileError(p, f"the file is {len(data)} bytes long, too short to be a safetensors file (truncated?)")
    header_len = int.from_bytes(data[:8], "little")
    if header_len <= 0 or 8 + header_len > len(data) or data[8:9] != b"{":
        foreign = _sniff(str(p), data[:8])
        if foreign:
            raise ModelFileError(p, f"not a safetensors file: {foreign}")
        raise ModelFileError(p, "the safetensors header runs past the end of the file or is not JSON (truncated or corrupt)")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(p, f"the safetensors header is not valid JSON ({exc})") from None
    meta_strings = header.get("__metadata__") or {}
    if _META_KEY not in meta_strings or _SUM_KEY not in meta_strings:
        raise ModelFileError(p, "the file has no groundup metadata; it was not written by groundup.persistence.save")
    try:
        arrays = st_load(data)
    except Exception as exc:  # safetensors raises its own error types
        raise ModelFileError(p, f"the tensor data is invalid ({exc}); the file is truncated or corrupt") from None
    meta_json = meta_strings[_META_KEY]
    if _digest(meta_json, arrays) != meta_strings[_SUM_KEY]:
        raise ModelFileError(p, "the checksum does not match its contents; the file was modified or corrupted")
    try:
        meta = json.loads(meta_json)
    except json.JSONDecodeError as exc:
        raise ModelFileError(p, f"the groundup metadata is not valid JSON ({exc})") from None
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(p, "the metadata has no format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            p,
            f"it uses format version {version}, newer than this groundup ({__version__}) reads "
            f"(up to {FORMAT_VERSION}); upgrade groundup",
        )
    return arrays, meta


def load(
    path: str | os.PathLike, expected_class: str | Iterable[str] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a file written by :func:`save`: ``(tensors, metadata)``.

    Raises :class:`ModelFileError` (a ``ValueError``) for a truncated, tampered, foreign,
    pickle-bearing or newer-format file, or one whose ``class`` is not ``expected_class``.
    Nothing in the file is ever executed.
    """
    arrays, meta = _read(path)
    if expected_class is not None:
        allowed = {expected_class} if isinstance(expected_class, str) else set(expected_class)
        if meta.get("class") not in allowed:
            raise ModelFileError(
                path, f"it holds a {meta.get('class')!r}, but a {' or '.join(sorted(map(repr, allowed)))} was expected"
            )
    return arrays, meta


def read_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """Only the (verified) metadata of a model file."""
    return _read(path)[1]


# -- the protocol every saveable object follows ------------------------------------------
class StateError(ValueError):
    """The arrays and metadata of a file do not make a model of the class reading it (a
    missing entry, weights of the wrong shape, an old layout no longer read). Raised by
    ``_set_state`` and ``_upgrade_state``; :meth:`SaveLoadMixin.load` turns it into a
    :class:`ModelFileError` that names the path."""


def load_module_state(module: Any, tensors: Mapping[str, np.ndarray]) -> None:
    """Load ``tensors`` into the torch ``module`` (strictly: same names, same shapes), or
    raise :class:`StateError` saying what does not fit."""
    import torch

    try:
        module.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in tensors.items()})
    except RuntimeError as exc:
        raise StateError(f"the weights do not fit the saved hyper-parameters ({exc})") from None


M = TypeVar("M", bound="SaveLoadMixin")


class SaveLoadMixin:
    """``save(path)`` and ``load(path)``, written once for every model, on :func:`save`
    and :func:`load`. A class sets ``_class_id`` (the id its files carry) and writes the
    one pair of the protocol:

    - ``_get_state() -> (tensors, metadata)``: what it learned: arrays (NumPy or torch)
      and JSON-ready metadata. Raises ``NotFittedError`` when there is nothing to save.
    - ``_set_state(tensors, metadata)``: restore that into a model that
      :meth:`_new_for_state` built from the file's hyper-parameters.

    A file holds ``_header()`` (by default ``{"params": get_params(deep=False)}``), the
    state's metadata and the class id. Three hooks cover what differs between families:
    ``_header`` (what rebuilding an unfitted twin needs), ``_new_for_state`` (build that
    twin; by default ``cls(**params)`` on the requested device) and ``_upgrade_state``
    (turn an older file's layout into the current one, or refuse it by raising
    :class:`StateError` naming the version).
    """

    _class_id: ClassVar[str] = ""
    #: The device ``load`` uses when none is given: ``None`` keeps the one saved in the
    #: hyper-parameters; "auto" picks the loading machine's (for files meant to be portable).
    _load_device: ClassVar[str | None] = None

    def _get_state(self) -> tuple[dict[str, Any], dict[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _set_state(self, tensors: dict[str, np.ndarray], metadata: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def _header(self) -> dict[str, Any]:
        """What rebuilding an unfitted twin needs: the hyper-parameters."""
        return {"params": self.get_params(deep=False)}  # type: ignore[attr-defined]

    @classmethod
    def _new_for_state(cls: type[M], metadata: dict[str, Any], device: Any) -> M:
        """An unfitted model with the saved hyper-parameters, on ``device`` (None: the
        saved one). JSON has no tuples, so lists come back as tuples (layer sizes, and
        the values of a dict such as optimizer_kwargs: Adam's betas)."""

        def untuple(value: Any) -> Any:
            return tuple(value) if isinstance(value, list) else value

        params = {k: {kk: untuple(vv) for kk, vv in v.items()} if isinstance(v, dict) else untuple(v)
                  for k, v in metadata["params"].items()}
        if device is not None:
            params["device"] = str(device)
        return cls(**params)

    @classmethod
    def _upgrade_state(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        """The metadata of an older file in the current layout.

        A file written before a constructor parameter existed lacks it; it gets the value
        that describes how the file's model was trained: what :meth:`_params_before` says
        the model did before the parameter existed, else the parameter's default (the
        model family is scikit-learn-style: ``cls()`` builds it with its defaults). A family
        whose layout changed extends this (and calls it)."""
        params = metadata.get("params")
        if not isinstance(params, dict):
            return metadata
        defaults = cls().get_params(deep=False)  # an unfitted model's parameters, as a file holds them
        missing = {k: v for k, v in defaults.items() if k not in params}
        if not missing:
            return metadata
        before = cls._params_before(params)
        missing.update({k: before[k] for k in missing if k in before})
        return {**metadata, "params": {**params, **missing}}

    @classmethod
    def _params_before(cls, params: dict[str, Any]) -> dict[str, Any]:
        """For a file whose saved parameters are ``params``: the behaviour, as parameter
        values, of each parameter added since whose default differs from what the model
        did before it existed (the others take their defaults)."""
        return {}

    def _file_state(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Everything :meth:`save` writes but the class id (a container, such as an
        ensemble, writes its members' with it)."""
        header = self._header()  # first: a family's header may check that the model is fitted
        tensors, metadata = self._get_state()
        return tensors, {**header, **metadata}

    @classmethod
    def _from_file_state(cls: type[M], tensors: dict[str, np.ndarray], metadata: dict[str, Any], device: Any) -> M:
        """The model that :meth:`_file_state` described."""
        metadata = cls._upgrade_state(metadata)
        model = cls._new_for_state(metadata, device)
        model._set_state(tensors, metadata)
        return model

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model to ``path``: one ``.safetensors`` file, written
        atomically (see :func:`save`). Returns the path."""
        tensors, metadata = self._file_state()
        return save(path, tensors, {**metadata, "class": self._class_id})

    @classmethod
    def load(cls: type[M], path: str | os.PathLike, *, device: str | None = None) -> M:
        """Read a model written by :meth:`save`; ``device`` overrides the saved one.

        Raises :class:`ModelFileError` for a file of another class, a truncated or
        tampered file, one from a newer format, or one whose contents do not make a model
        of this class. Nothing in the file is ever executed.
        """
        tensors, metadata = load(path, expected_class=cls._class_id)
        try:
            return cls._from_file_state(tensors, metadata, device if device is not None else cls._load_device)
        except KeyError as exc:
            raise ModelFileError(path, f"it lacks the entry {exc}") from None
        except StateError as exc:
            raise ModelFileError(path, str(exc)) from None
