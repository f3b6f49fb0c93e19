"""What a saved Keras file holds: the model, loaded safely, and the loss it was compiled with.

- :func:`load_keras_file`: a ``.keras`` (zip) or legacy ``.h5`` (HDF5) file, checked for
  its container first (a truncated or foreign file is a ValueError naming it, never
  Keras' "File not found"), then loaded with ``safe_mode=True`` held for the whole load.
- :func:`saved_loss`: the compiled loss as the file stores it, read without compiling.
- :func:`compiled_loss`: a Keras loss (name, object, function or saved config) as the
  refnet loss it is, with the form Y takes (int class ids or one-hot rows).
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from dataclasses import dataclass

from .imports import tf_and_keras

# ---------------------------------------------------------------------------------
# The compiled loss
# ---------------------------------------------------------------------------------

# Keras loss names (and the class names of loss objects) -> the Keras family
_FAMILIES = {
    "categorical_crossentropy": "categorical",
    "CategoricalCrossentropy": "categorical",
    "sparse_categorical_crossentropy": "sparse",
    "SparseCategoricalCrossentropy": "sparse",
    "mse": "mse",
    "mean_squared_error": "mse",
    "MeanSquaredError": "mse",
    "binary_crossentropy": "binary",
    "BinaryCrossentropy": "binary",
    # LS7-LS10: refnet's loss of the same name, no options to check
    "kl_divergence": "kl_divergence",
    "KLDivergence": "kl_divergence",
    "hinge": "hinge",
    "Hinge": "hinge",
    "squared_hinge": "squared_hinge",
    "SquaredHinge": "squared_hinge",
    "categorical_hinge": "categorical_hinge",
    "CategoricalHinge": "categorical_hinge",
}
# what make_data's Y becomes for them: probability/one-hot rows, or 0/1 / -1/+1 values
_SAME_NAME = {
    "kl_divergence": "rows",
    "hinge": "values",
    "squared_hinge": "values",
    "categorical_hinge": "rows",
}


@dataclass
class CompiledLoss:
    """The refnet loss for a model's compiled Keras loss, and how Y is to be drawn."""

    name: str  # refnet loss name
    labels: str  # "ids" (int class ids), "rows" (one-hot rows), or "values"
    source: str  # what the model was compiled with, for the report


def compiled_loss(loss) -> CompiledLoss | None:
    """The refnet loss for a compiled Keras loss; None for None (not compiled).

    ``loss`` is what ``model.compile(loss=...)`` took: a model (its ``.loss`` is read), a
    name, a ``keras.losses.Loss`` object, a loss function, or the loss's saved config
    (a dict, as ``.keras``/``.h5`` files store it; :func:`saved_loss`).

    categorical_crossentropy -> one-hot rows, sparse_categorical_crossentropy -> int
    class ids; from_logits=True -> softmax_cross_entropy (softmax fused, on the output
    as logits), False -> categorical_cross_entropy (on the output as probabilities);
    mse / mean_squared_error -> mse; binary_crossentropy with from_logits=True ->
    binary_cross_entropy; kl_divergence, hinge, squared_hinge and categorical_hinge ->
    refnet's loss of that name (LS7-LS10). Anything else is a ValueError that says so.
    """
    _, keras = tf_and_keras()
    if isinstance(loss, keras.Model):
        loss = getattr(loss, "loss", None)
    if loss is None:
        return None
    if isinstance(loss, (list, tuple)) or (
        isinstance(loss, dict) and "class_name" not in loss
    ):
        raise ValueError(
            f"compiled loss {loss!r}: one loss per output is not supported"
        )
    config = {}
    if isinstance(loss, str):
        key, shown = loss, repr(loss)
    elif isinstance(loss, dict):  # a saved config: {"class_name": ..., "config": ...}
        key = loss.get("class_name")
        config = loss.get("config")
        if key == "function" or isinstance(config, str):  # a saved loss function
            key, config = config, {}
        config = config if isinstance(config, dict) else {}
        shown = _shown(key, config)
    elif isinstance(loss, keras.losses.Loss):
        key = type(loss).__name__
        config = loss.get_config()
        if key not in _FAMILIES and callable(getattr(loss, "fn", None)):
            key = getattr(loss.fn, "__name__", key)  # a LossFunctionWrapper
        shown = _shown(key, config)
    elif callable(loss):
        key = getattr(loss, "__name__", repr(loss))
        shown = repr(key)  # a loss function
    else:
        key = shown = repr(loss)
    family = _FAMILIES.get(key)
    if family is None:
        raise ValueError(
            f"compiled loss {shown}: refnet has no counterpart; refnet checks "
            "categorical_crossentropy, sparse_categorical_crossentropy, mse, "
            "binary_crossentropy(from_logits=True), kl_divergence, hinge, "
            "squared_hinge and categorical_hinge"
        )
    from_logits = bool(config.get("from_logits", False))
    if config.get("label_smoothing", 0):
        raise ValueError(
            f"compiled loss {shown}: label_smoothing is not represented by refnet's loss"
        )
    if config.get("ignore_class") is not None:
        raise ValueError(
            f"compiled loss {shown}: ignore_class is not represented by refnet's loss"
        )
    reduction = config.get("reduction", "sum_over_batch_size")
    if reduction not in (None, "sum_over_batch_size", "auto"):
        raise ValueError(
            f"compiled loss {shown}: reduction {reduction!r}; refnet's loss compares "
            "with Keras' default 'sum_over_batch_size'"
        )
    if family == "mse":
        return CompiledLoss("mse", "values", shown)
    if family in _SAME_NAME:
        return CompiledLoss(family, _SAME_NAME[family], shown)
    if family == "binary":
        if not from_logits:
            raise ValueError(
                f"compiled loss {shown}: binary cross-entropy from probabilities (a "
                "sigmoid output) is not represented by refnet, whose "
                "binary_cross_entropy takes logits (from_logits=True on a linear output)"
            )
        return CompiledLoss("binary_cross_entropy", "values", shown)
    name = "softmax_cross_entropy" if from_logits else "categorical_cross_entropy"
    return CompiledLoss(name, "ids" if family == "sparse" else "rows", shown)


def _shown(key, config: dict) -> str:
    args = ", ".join(
        f"{k}={v!r}"
        for k, v in config.items()
        if k in ("from_logits", "reduction", "label_smoothing", "ignore_class")
        and v is not None
    )
    return f"{key}({args})"


# ---------------------------------------------------------------------------------
# The file
# ---------------------------------------------------------------------------------


MAX_CONFIG_BYTES = 64 << 20  # a model's config.json / training_config is a few KB
MAX_RATIO = 100  # float weights deflate to about 0.9 of their size; zeros to 0.001


def load_keras_file(path: str, name: str = "path"):
    """The model saved at ``path`` (``.keras`` zip or legacy ``.h5``), loaded with
    ``safe_mode=True`` passed explicitly and inside Keras' own safe-mode scope (no Lambda
    or arbitrary code is deserialized, even after an in-process
    ``keras.config.enable_unsafe_deserialization()``, which Keras 3.15 lets override the
    argument for ``.keras`` files) and ``compile=False`` (the compiled loss is read from
    the file by :func:`saved_loss`; nothing is rebuilt).

    A missing file, a folder, a file that is not a zip (``.keras``) or HDF5 (``.h5``)
    archive, a zip bomb (a member declared to inflate past ``MAX_CONFIG_BYTES`` that is a
    ``.json`` or compressed more than ``MAX_RATIO`` times: Keras reads each whole), or one
    Keras cannot read is a ValueError naming the file, on one line. So is a config
    nested deeper than ``MAX_DEPTH`` levels, or one declaring layers whose weights
    would not fit in memory (checked before Keras builds anything)."""
    path = _check_archive(path, name)
    _check_declared(_read_config(path, name), path, name)
    _, keras = tf_and_keras()
    try:
        with _safe_mode():
            return keras.saving.load_model(path, compile=False, safe_mode=True)
    except (OSError, KeyError, AttributeError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(
            f"{name}: {path!r} is not a readable Keras file ({type(err).__name__}: "
            f"{_first_line(err)})"
        ) from None
    except (ValueError, TypeError) as err:
        if "safe_mode" in str(err):  # a Lambda or other code: refused, never run
            raise ValueError(
                f"{name}: {path!r}: refused by Keras' safe mode: {_first_line(err)}"
            ) from None
        raise ValueError(
            f"{name}: {path!r} is not a readable Keras file ({type(err).__name__}: "
            f"{_first_line(err)})"
        ) from None


def _check_archive(path, name: str) -> str:
    """``path`` as a str, refused unless a .keras zip (without a bomb) or an .h5 file."""
    path = os.fsdecode(os.fspath(path))
    if not os.path.isfile(path):
        what = "a folder" if os.path.isdir(path) else "no such file"
        raise ValueError(
            f"{name}: expected a saved .keras or .h5 file, got {path!r}: {what}"
        )
    ext = os.path.splitext(path)[1]
    if ext.lower() in (".keras", ".h5", ".hdf5") and ext != ext.lower():
        raise ValueError(
            f"{name}: {path!r}: Keras reads only lowercase {ext.lower()!r} file names; "
            "rename the file"
        )
    if ext == ".keras":
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"{name}: {path!r} is not a readable Keras file (a .keras file is a zip "
                "archive; this one is truncated or not a zip)"
            )
        with zipfile.ZipFile(path) as archive:  # Keras inflates each member whole
            members = archive.infolist()
        for info in members:
            bomb = info.file_size > MAX_RATIO * max(info.compress_size, 1)
            if info.file_size > MAX_CONFIG_BYTES and (
                info.filename.endswith(".json") or bomb
            ):
                raise ValueError(
                    f"{name}: {path!r}: its {info.filename} inflates to {info.file_size} "
                    f"bytes from {info.compress_size} (a zip bomb; a model's config is a "
                    f"few kB and its weights barely compress)"
                )
    elif ext in (".h5", ".hdf5"):
        with open(path, "rb") as fh:
            if fh.read(8) != b"\x89HDF\r\n\x1a\n":
                raise ValueError(
                    f"{name}: {path!r} is not a readable Keras file (a .h5 file is HDF5; "
                    "this one has no HDF5 signature)"
                )
    else:
        raise ValueError(f"{name}: expected a .keras or .h5 file, got {path!r}")
    return path


MAX_DEPTH = 100  # nesting levels of a model's config (a real one has about ten)


def _read_config(path: str, name: str):
    """The model config a saved file declares, parsed, or a ValueError naming the file
    when it cannot be read or nests deeper than MAX_DEPTH (Keras would recurse)."""
    import json

    try:
        if path.endswith(".keras"):
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json")
        else:
            import h5py

            with h5py.File(path, "r") as fh:
                text = fh.attrs.get("model_config")
                if text is None:
                    return None
        config = json.loads(text)
    except RecursionError:
        raise ValueError(
            f"{name}: {path!r}: its model config nests deeper than Python can read "
            f"(a real one has about ten levels)"
        ) from None
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise ValueError(
            f"{name}: {path!r} is not a readable Keras file (its model config: "
            f"{type(err).__name__}: {_first_line(err)})"
        ) from None
    depth = _depth(config)
    if depth > MAX_DEPTH:
        raise ValueError(
            f"{name}: {path!r}: its model config nests {depth} levels deep, more than "
            f"{MAX_DEPTH} (a real one has about ten)"
        )
    return config


def _depth(value) -> int:
    """The nesting depth of a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, (dict, list)):
            stack += [(c, level + 1) for c in children if isinstance(c, (dict, list))]
    return deepest


def _check_declared(config, path: str, name: str) -> None:
    """Refuse a config whose declared layers would not fit in memory, before Keras
    builds them: each Dense's units times its input width (its build_config, or the
    previous layer's units), in its dtype, twice (the variable and its initial value)."""
    from refnet.files import check_memory

    n_bytes, width = 0, None
    for layer in _layers(config):
        conf, build = (_dict(layer.get(key)) for key in ("config", "build_config"))
        shape = build.get("input_shape") or conf.get("batch_shape")
        if isinstance(shape, list) and shape and isinstance(shape[-1], int):
            width = shape[-1]
        units = conf.get("units")
        if layer.get("class_name") == "Dense" and isinstance(units, int) and units > 0:
            itemsize = 8 if "float64" in str(conf.get("dtype")) else 4
            n_bytes += 2 * itemsize * units * ((width or 1) + 1)
            width = units
    check_memory(n_bytes, f"the layers {path!r} declares", name)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _layers(config) -> list:
    """The layer configs of a Sequential or Functional model config (nested models'
    layers included), in order."""
    if not isinstance(config, dict):
        return []
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    if not isinstance(layers, list):
        return [config]
    out = []
    for layer in layers:
        out += _layers(layer) if isinstance(layer, dict) else []
    return out


def _first_line(err: BaseException, limit: int = 300) -> str:
    """Keras' message on one line, without the full config it may append."""
    text = " ".join(
        str(err).split("Full object config:")[0].split("Full config:")[0].split()
    )
    return text if len(text) <= limit else text[: limit - 3] + "..."


def saved_loss(path: str, name: str = "path"):
    """The loss a saved model was compiled with, as stored (a name or a config dict), or
    None: ``compile_config["loss"]`` of a ``.keras`` file's config.json, or the
    ``training_config`` attribute of a ``.h5`` file. Read from the file, so nothing is
    compiled (no optimizer is rebuilt) and no code runs; ValueError naming the file."""
    import json

    path = os.fsdecode(os.fspath(path))
    try:
        if path.lower().endswith(".keras"):
            with zipfile.ZipFile(path) as archive:
                info = archive.getinfo("config.json")
                if info.file_size > MAX_CONFIG_BYTES:
                    raise ValueError(f"config.json of {info.file_size} bytes")
                config = json.loads(archive.read(info))
            compile_config = config.get("compile_config") or {}
        else:
            import h5py

            with h5py.File(path, "r") as fh:
                raw = fh.attrs.get("training_config")
            if raw is None:
                return None
            raw = raw.decode() if isinstance(raw, bytes) else str(raw)
            if len(raw) > MAX_CONFIG_BYTES:
                raise ValueError(f"training_config of {len(raw)} bytes")
            compile_config = json.loads(raw)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ValueError(
            f"{name}: {path!r}: cannot read the compiled loss ({type(err).__name__}: {err})"
        ) from None
    return compile_config.get("loss") if isinstance(compile_config, dict) else None


@contextlib.contextmanager
def _safe_mode():
    """Keras' global safe-mode flag held at True while loading (restored afterwards):
    ``load_model(safe_mode=True)`` alone yields to a global False for .keras files."""
    try:
        from keras.src.saving.serialization_lib import SafeModeScope
    except ImportError:  # pragma: no cover - another Keras layout: the argument only
        yield
        return
    with SafeModeScope(True):
        yield
