"""Files the user owns: atomic writes, and bounded reads of untrusted ``.npz`` archives.

- :func:`atomic_write`: the new content goes to a temporary file in the target's folder,
  is flushed and fsynced, and only then renamed over the target (``os.replace``), so a
  full disk, a kill or a Ctrl-C leaves either the old file or the new one, never half.
- :class:`NpzReader`: reads an ``.npz`` member by member, checks each ``.npy`` header
  (shape and dtype) against what the caller expects *before* reading its data, and never
  decompresses more than the header declares. A zip bomb or a header declaring a huge
  shape is a ``ValueError`` naming the file, not a ``MemoryError`` or an exhausted machine.
- :func:`check_memory`: refuse an allocation beyond the memory the machine has free.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import zipfile

import numpy as np

# Beyond this many bytes, a member (or a .gz file) may inflate at most MAX_RATIO times its
# stored size. Real data compresses a few times (MNIST's images about 5x); a stream of
# zeros deflates about 1000x, which is what a zip bomb is made of.
RATIO_FREE_BYTES = 64 << 20
MAX_RATIO = 100


def check_path(path, name: str = "path") -> str:
    """``path`` as a str: a str or os.PathLike only (an int would be taken as a file
    descriptor and closed, None is a mistake)."""
    if isinstance(path, bool) or not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(
            f"{name}: expected a file path (str or os.PathLike), got "
            f"{type(path).__name__} {path!r}"
        )
    path = os.fsdecode(os.fspath(path))
    if not path:
        raise ValueError(f"{name}: expected a file path, got an empty string")
    return path


def atomic_write(path, write, name: str = "path") -> None:
    """Call ``write(fh)`` on a temporary binary file, then rename it over ``path``.

    The temporary file lives in the target's folder (so the rename is atomic on one file
    system), is fsynced before the rename, and is removed if anything fails. A symlink at
    ``path`` is replaced, not followed. The new file gets the old file's permissions, or
    the usual ``0o666 & ~umask`` for a new one.
    """
    path = check_path(path, name)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{name}: {path!r} is a directory, expected a file path"
        )
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    else:  # a device (/dev/full), a pipe or a socket is never replaced by a file
        if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
            raise ValueError(
                f"{name}: {path!r} is not a regular file (a device, pipe or socket); "
                "refusing to replace it"
            )
        mode = stat.S_IMODE(st.st_mode)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
    )
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_json(path, payload, name: str = "path") -> None:
    """``payload`` as indented JSON at ``path``, atomically (:func:`atomic_write`)."""
    import json

    text = json.dumps(payload, indent=1).encode()
    atomic_write(path, lambda fh: fh.write(text), name)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def available_memory() -> int | None:
    """Bytes the machine can still hand out (MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(n_bytes: int, what: str, name: str) -> None:
    """Refuse ``n_bytes`` (for ``what``, blamed on ``name``) beyond the free memory."""
    free = available_memory()
    if free is not None and n_bytes > free:
        raise ValueError(
            f"{name}: {what} needs {_human(n_bytes)}, more than the {_human(free)} of "
            "memory available on this machine"
        )


def _human(n_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n_bytes < 1024 or unit == "TiB":
            if unit == "B":
                return f"{int(n_bytes)} B"
            return f"{n_bytes:.1f} {unit}" if n_bytes < 1e4 else f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024
    raise AssertionError  # unreachable


class NpzReader:
    """An ``.npz`` archive read one checked member at a time (allow_pickle is never on).

    Use::

        with NpzReader(path, "refnet model file") as npz:
            npz.keys                     # member names without ".npy"
            npz.header("W1")             # (shape, dtype) from the .npy header only
            npz.read("W1", shape=(3, 5), dtypes=["float64"])

    Every failure is a ``ValueError`` naming the file (``OSError`` and zip/zlib errors
    included).
    """

    def __init__(self, path: str, what: str):
        self.path, self.what = path, what
        try:
            self._zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile, ValueError, EOFError) as err:
            raise self.error(f"not a zip archive ({err})") from None
        names = self._zip.namelist()
        if not all(n.endswith(".npy") for n in names):
            self._zip.close()
            raise self.error(f"expected only .npy members, got {sorted(names)[:10]}")
        self.keys = {n[: -len(".npy")] for n in names}

    def __enter__(self) -> NpzReader:
        return self

    def __exit__(self, *exc) -> None:
        self._zip.close()

    def error(self, what: str) -> ValueError:
        return ValueError(f"{self.path}: not a {self.what} ({what})")

    def header(self, key: str) -> tuple[tuple[int, ...], np.dtype]:
        """The member's (shape, dtype) from its ``.npy`` header; its data is not read."""
        with self._open(key) as fh:
            shape, _, dtype = self._read_header(fh, key)
        return shape, dtype

    def read(self, key: str, shape=None, dtypes=None, max_bytes: int | None = None):
        """The member's array, after checking its header against ``shape`` (a tuple whose
        None entries match any length), ``dtypes`` (accepted dtype names or kinds) and
        ``max_bytes``. Never reads more than the header declares."""
        with self._open(key) as fh:
            got, fortran, dtype = self._read_header(fh, key)
            if shape is not None and (
                len(got) != len(shape)
                or any(s is not None and s != g for s, g in zip(shape, got))
            ):
                want = tuple("n" if s is None else s for s in shape)
                raise self.error(f"{key}: expected shape {want}, got {got}")
            if dtypes is not None and not (
                dtype.name in dtypes or dtype.kind in dtypes
            ):
                kinds = {"i": "int", "u": "unsigned int", "U": "str", "f": "float"}
                want = " or ".join(kinds.get(d, d) for d in dtypes)
                raise self.error(f"{key}: expected dtype {want}, got {dtype}")
            n_bytes = int(np.prod(got, dtype=object)) * dtype.itemsize
            if max_bytes is not None and n_bytes > max_bytes:
                raise self.error(
                    f"{key}: its header declares {got} of {dtype} ({_human(n_bytes)}), "
                    f"more than the {_human(max_bytes)} allowed"
                )
            packed = self._zip.getinfo(key + ".npy").compress_size
            if n_bytes > RATIO_FREE_BYTES and n_bytes > MAX_RATIO * packed:
                raise self.error(
                    f"{key}: its header declares {_human(n_bytes)} stored in "
                    f"{_human(packed)}, a compression ratio over {MAX_RATIO} that real "
                    "weights or images do not reach (a zip bomb?)"
                )
            check_memory(n_bytes, f"{key} of shape {got}", self.path)
            try:
                data = fh.read(n_bytes + 1)  # stops at what the header declared
            except (OSError, EOFError, zipfile.BadZipFile, ValueError) as err:
                raise self.error(f"{key}: cannot read its data ({err})") from None
            except Exception as err:  # zlib.error from a corrupt deflate stream
                raise self.error(f"{key}: corrupt data ({err})") from None
        if len(data) != n_bytes:
            raise self.error(
                f"{key}: its header declares {n_bytes} bytes of data, got "
                f"{'more' if len(data) > n_bytes else len(data)}"
            )
        order = "F" if fortran else "C"
        return np.frombuffer(data, dtype=dtype).reshape(got, order=order).copy()

    def _open(self, key: str):
        if key not in self.keys:
            raise self.error(f"missing {key!r}; found {sorted(self.keys)}")
        try:
            return self._zip.open(key + ".npy")
        except (OSError, zipfile.BadZipFile, ValueError, RuntimeError) as err:
            raise self.error(f"{key}: cannot open ({err})") from None

    def _read_header(self, fh, key: str):
        fmt = np.lib.format
        try:
            version = fmt.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = fmt.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = fmt.read_array_header_2_0(fh)
            else:
                raise ValueError(f".npy format version {version} (expected 1.0 or 2.0)")
        except Exception as err:  # ValueError, zlib.error, EOFError, BadZipFile...
            raise self.error(f"{key}: not a .npy header ({err})") from None
        if dtype.hasobject or dtype.kind not in "biuUf":
            raise self.error(f"{key}: unsupported dtype {dtype} (no pickled objects)")
        return tuple(int(s) for s in shape), fortran, dtype
