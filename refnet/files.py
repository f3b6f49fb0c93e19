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
import ctypes
import errno
import functools
import hashlib
import os
import shutil
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
    if "\0" in path:
        raise ValueError(
            f"{name}: a file path cannot hold a NUL byte, got {path[:80]!r}"
        )
    longest = max(len(os.fsencode(part)) for part in path.split(os.sep))
    if longest > _name_max(path):
        raise ValueError(
            f"{name}: a file or folder name of {longest} bytes, longer than the "
            f"{_name_max(path)} this file system allows, in {path[:80]!r}..."
        )
    return path


def _name_max(path: str) -> int:
    """The longest file name the file system of ``path``'s nearest folder allows."""
    folder = os.path.dirname(os.path.abspath(path))
    while folder and not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    try:
        return os.pathconf(folder or os.sep, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def atomic_write(path, write, name: str = "path") -> None:
    """Call ``write(fh)`` on a temporary binary file, then rename it over ``path``.

    The temporary file lives in the target's folder (so the rename is atomic on one file
    system), is fsynced before the rename, and is removed if anything fails. On Linux it
    is unnamed while it is written (O_TMPFILE): a process killed mid-save leaves nothing
    behind. Elsewhere it is named ``.NAME.PID.*.tmp``, and the next save to the same
    target removes those of processes no longer alive. A symlink at ``path`` is
    replaced, not followed. The new file gets the old file's permissions, or the usual
    ``0o666 & ~umask`` for a new one.
    """
    path = check_path(path, name)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(
            f"{name}: {path!r} is a directory, expected a file path"
        )
    mode = _mode_of(path, name)
    _sweep_stale(folder, os.path.basename(path))
    fd, tmp = _open_temporary(folder, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb", closefd=False) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if tmp is None:
            os.fchmod(fd, mode)
            # link the unnamed file into the folder, then rename it over the target
            tmp = _named_copy(fd, folder, os.path.basename(path))
        else:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    finally:
        os.close(fd)
    # make the rename itself durable
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _mode_of(path: str, name: str) -> int:
    """The permissions the new file gets: the old file's, or 0o666 & ~umask."""
    try:
        st = os.stat(path, follow_symlinks=False)
    except FileNotFoundError:
        return 0o666 & ~_umask()
    # a device (/dev/full), a pipe or a socket is never replaced by a file
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise ValueError(
            f"{name}: {path!r} is not a regular file (a device, pipe or socket); "
            "refusing to replace it"
        )
    return stat.S_IMODE(st.st_mode)


def _open_temporary(folder: str, base: str) -> tuple[int, str | None]:
    """(fd, None) for an unnamed file in ``folder`` (Linux's O_TMPFILE), else (fd,
    name) of a named one, ``.BASE.PID.*.tmp``."""
    flag = getattr(os, "O_TMPFILE", 0)
    if flag and os.path.isdir("/proc/self/fd") and _libc() is not None:
        try:
            return os.open(folder, flag | os.O_RDWR, 0o600), None
        except OSError:
            # a file system without O_TMPFILE support: a named file instead
            pass
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f"{_stem(base)}{os.getpid()}.", suffix=".tmp"
    )
    return fd, tmp


def _named_copy(fd: int, folder: str, base: str) -> str:
    """A name in ``folder`` for the unnamed file ``fd``: linked where the kernel allows
    it, else its bytes copied into a named temporary file (fsynced)."""
    tmp = _temporary_name(folder, base)
    try:
        _link_unnamed(fd, tmp)
        return tmp
    except OSError:
        pass
    out, tmp = tempfile.mkstemp(
        dir=folder, prefix=f"{_stem(base)}{os.getpid()}.", suffix=".tmp"
    )
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        with os.fdopen(out, "wb") as dst, os.fdopen(os.dup(fd), "rb") as src:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.chmod(tmp, stat.S_IMODE(os.fstat(fd).st_mode))
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _link_unnamed(fd: int, dest: str) -> None:
    """Give the O_TMPFILE file ``fd`` the name ``dest``: linkat(2) with
    AT_SYMLINK_FOLLOW on /proc/self/fd/FD (os.link cannot ask the kernel to follow it)."""
    libc = _libc()
    source = f"/proc/self/fd/{fd}".encode()
    ok = libc is not None and (
        libc.linkat(_AT_FDCWD, source, _AT_FDCWD, os.fsencode(dest), _AT_SYMLINK_FOLLOW)
        == 0
    )
    if not ok:
        err = ctypes.get_errno() if libc is not None else errno.ENOSYS
        raise OSError(err, f"linkat: {os.strerror(err)}", dest)


_AT_FDCWD, _AT_SYMLINK_FOLLOW = -100, 0x400


@functools.cache
def _libc():
    """The C library, for linkat(2); None where it cannot be loaded."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _stem(base: str) -> str:
    """ ".BASE." for the temporary files of target BASE; a name too long to take the
    PID and a random suffix within NAME_MAX is replaced by a digest of it, the same for
    every save to that target (so the sweep finds its files)."""
    if len(os.fsencode(base)) <= 200:
        return f".{base}."
    return f".{hashlib.sha256(os.fsencode(base)).hexdigest()[:16]}."


def _temporary_name(folder: str, base: str) -> str:
    name = f"{_stem(base)}{os.getpid()}.{os.urandom(6).hex()}.tmp"
    return os.path.join(folder, name)


def _sweep_stale(folder: str, base: str) -> None:
    """Remove ``.BASE.PID.*.tmp`` files left by a save to the same target whose process
    is gone (killed mid-save where O_TMPFILE is not available)."""
    prefix = _stem(base)
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            rest = entry.name[len(prefix) :]
            if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
                continue
            pid = rest.split(".", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


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
    """Bytes this process can still allocate, or None where unknown: the least of the
    machine's MemAvailable, the address space left under RLIMIT_AS, and what the
    cgroup (a container, a CI runner, a notebook server) still allows (memory.max -
    memory.current)."""
    limits = [
        x for x in (_mem_available(), _rlimit_left(), _cgroup_left()) if x is not None
    ]
    return min(limits) if limits else None


def _mem_available() -> int | None:
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


def _rlimit_left() -> int | None:
    """RLIMIT_AS's soft limit minus this process's virtual size (VmSize)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/status") as fh:
            size = next(int(x.split()[1]) * 1024 for x in fh if x.startswith("VmSize:"))
        return max(soft - size, 0)
    except (ImportError, OSError, ValueError, StopIteration, AttributeError):
        return None


def _cgroup_left(root: str = "/sys/fs/cgroup", proc: str = "/proc/self/cgroup"):
    """What this process's cgroup still allows, in bytes, or None: memory.max -
    memory.current (cgroup v2), or memory.limit_in_bytes - memory.usage_in_bytes (v1)."""
    try:
        with open(proc) as fh:
            lines = [x.strip().split(":", 2) for x in fh if x.count(":") >= 2]
    except OSError:
        return None
    v2 = [rel for _, ctrl, rel in lines if ctrl == ""]
    v1 = [rel for _, ctrl, rel in lines if "memory" in ctrl.split(",")]
    candidates = (
        [
            (os.path.join(root, rel.lstrip("/")), "memory.max", "memory.current")
            for rel in v2
        ]
        + [(os.path.join(root, "memory", rel.lstrip("/")), *_V1) for rel in v1]
        + [(os.path.join(root, "memory"), *_V1)]
    )
    for folder, limit, usage in candidates:
        left = _limit_left(folder, limit, usage)
        if left is not None:
            return left
    return None


_V1 = ("memory.limit_in_bytes", "memory.usage_in_bytes")


def _limit_left(folder: str, limit: str, usage: str) -> int | None:
    try:
        with open(os.path.join(folder, limit)) as fh:
            top = fh.read().strip()
        if top == "max" or int(top) >= 1 << 62:
            return None
        with open(os.path.join(folder, usage)) as fh:
            return max(int(top) - int(fh.read().strip()), 0)
    except (OSError, ValueError):
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
        # bytes the members read so far declare, and store: bounded as a whole too
        self._declared = self._packed = 0

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
            self._check_total(key, n_bytes, packed)
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

    def _check_total(self, key: str, n_bytes: int, packed: int) -> None:
        """Bound the members read so far as a whole, as each one is: many members just
        under RATIO_FREE_BYTES of zeros each are a zip bomb too, and every array read
        stays alive in the caller."""
        self._declared += n_bytes
        self._packed += packed
        declared, stored = self._declared, self._packed
        if declared > RATIO_FREE_BYTES and declared > MAX_RATIO * stored:
            raise self.error(
                f"{key}: with it the members declare {_human(declared)} stored in "
                f"{_human(stored)}, a compression ratio over {MAX_RATIO} that real "
                "weights or images do not reach (a zip bomb?)"
            )
        check_memory(declared, f"{key} of shape and the members before it", self.path)

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
