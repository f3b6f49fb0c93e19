"""crosscheck/grading/transport.py: a tree of numbers and arrays there and back as JSON
plus an npz, never a pickle; anything else refused with where it sits.

Expected values are the trees written by hand here, compared element by element with
their types and dtypes; the refused files are built by hand with zipfile and numpy's
own npy writer.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile

import numpy as np
import pytest

from crosscheck.grading import transport
from crosscheck.grading.transport import TransportError, decode, encode, read, write

MB = 2**20


def same(a, b) -> bool:
    """Equal as trees, with the same container types, array dtypes and shapes."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return (
            a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        )
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def test_same_can_tell_a_tuple_from_a_list_and_float32_from_float64():
    assert not same((1,), [1])
    assert not same(np.zeros(2, np.float32), np.zeros(2))
    assert same({"a": [np.nan]}, {"a": [np.nan]})


TREES = {
    "cs231n pair": (
        0.25,
        {"W1": np.arange(6.0).reshape(2, 3), "b1": np.zeros(3, np.float32)},
    ),
    "list of grads": [np.ones((3, 2), np.float32), np.array([1, 2], np.int64)],
    "nested dicts": {"grads": {"dW1": np.eye(2)}, "loss": 1.5, "deltas": [None, True]},
    "non-finite floats": [math.nan, math.inf, -math.inf, 0.1, 7, "text", None, False],
    "non-finite arrays": np.array([np.nan, np.inf, -np.inf], np.float32),
    "other dtypes": [
        np.array([True, False]),
        np.arange(4, dtype=np.uint8),
        np.array([1 + 2j]),
        np.zeros((0, 3), np.float16),
        np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    ],
}


@pytest.mark.parametrize("name", TREES)
def test_a_tree_round_trips(name):
    skeleton, arrays = encode(TREES[name], MB)
    skeleton = json.loads(json.dumps(skeleton, allow_nan=False))  # strict JSON
    assert same(decode(skeleton, arrays), TREES[name])


@pytest.mark.parametrize("name", TREES)
def test_a_tree_round_trips_through_files(tmp_path, name):
    write(tmp_path / "0", TREES[name], MB)
    assert sorted(os.listdir(tmp_path)) == ["0.json", "0.npz"]  # no temporary left
    tree, error = read(tmp_path / "0", MB)
    assert error is None and same(tree, TREES[name])


def test_a_numpy_scalar_comes_back_as_a_0d_array_of_its_dtype():
    back = decode(*encode([np.float32(1.5), np.int32(-2), np.bool_(True)], MB))
    assert [(a.shape, a.dtype) for a in back] == [
        ((), np.dtype("float32")),
        ((), np.dtype("int32")),
        ((), np.dtype("bool")),
    ]
    assert back[0] == 1.5 and back[1] == -2 and back[2]


def test_python_numbers_keep_their_type():
    back = decode(*encode([1, 1.0, True], MB))
    assert [type(x) for x in back] == [int, float, bool]


def test_the_arrays_are_copies():
    a = np.zeros(3)
    _, arrays = encode([a], MB)
    a[0] = 5.0
    assert arrays["a0"][0] == 0.0


class Tensor:  # a stand-in for torch.Tensor
    pass


@pytest.mark.parametrize(
    "tree, message",
    [
        ((0.5, {"W1": Tensor()}), f"returned[1]['W1'] is a {__name__}.Tensor; "),
        ({"W1": np.array([None, 1])}, "returned['W1'] is an array of dtype object"),
        ([np.array(["a"])], "returned[0] is an array of dtype <U1"),
        ({1: np.zeros(2)}, "returned has the key 1 of type int; expected str keys"),
        ({1.5, 2.5}, "returned is a set"),
    ],
)
def test_what_cannot_be_sent_is_named_with_its_place(tree, message):
    with pytest.raises(TransportError) as err:
        encode(tree, MB)
    assert str(err.value).startswith(message)


def test_a_tree_deeper_than_the_limit_is_refused():
    ok, deep = [1], [1]
    for _ in range(transport.MAX_DEPTH - 1):
        ok = [ok]
    for _ in range(transport.MAX_DEPTH):
        deep = [deep]
    assert same(decode(*encode(ok, MB)), ok)  # 32 deep: sent
    with pytest.raises(TransportError, match="nested more than 32 deep"):
        encode(deep, MB)
    looped = []
    looped.append(looped)
    with pytest.raises(TransportError, match="nested more than 32 deep"):
        encode(looped, MB)


def test_arrays_over_the_byte_bound_are_refused():
    encode(np.zeros(100), 800)  # exactly 800 bytes
    with pytest.raises(TransportError, match="holds 808 bytes of arrays, more than"):
        encode([np.zeros(100), np.zeros(1)], 800)


@pytest.mark.parametrize("bad", [-1, 1.5, None, True])
def test_max_bytes_must_be_an_int(bad):
    with pytest.raises(ValueError, match="max_bytes: expected an int >= 0"):
        encode([], bad)


def test_a_malformed_skeleton_is_refused():
    for skeleton in (
        {"tree": 1},
        {"transport": 1, "tree": {"array": "a0"}},  # the array is missing
        {"transport": 1, "tree": {"list": [1], "dict": {}}},
        {"transport": 1, "tree": {"pickle": "..."}},
        {"transport": 1, "tree": math.nan},
    ):
        with pytest.raises(TransportError):
            decode(skeleton, {})


def npy_bytes(array, allow_pickle=False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def hand_made(tmp_path, members: dict, tree=None):
    """STEM.json pointing at a0 and an npz holding ``members`` (name -> npy bytes)."""
    stem = tmp_path / "0"
    with zipfile.ZipFile(f"{stem}.npz", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    skeleton = {"transport": 1, "tree": tree or {"array": "a0"}}
    (tmp_path / "0.json").write_text(json.dumps(skeleton))
    return stem


def test_an_npz_holding_a_pickled_object_array_is_refused(tmp_path):
    evil = np.array([{"payload": 1}, None], dtype=object)
    stem = hand_made(tmp_path, {"a0.npy": npy_bytes(evil, allow_pickle=True)})
    tree, error = read(stem, MB)
    assert tree is None
    assert error == (
        "0.npz: 'a0' is an array of dtype object; expected numbers or bools (an "
        "object array is never loaded)"
    )


def test_an_npz_declaring_more_bytes_than_allowed_is_refused_before_loading(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)}
    )
    stem = hand_made(tmp_path, {"a0.npy": b"\x93NUMPY\x01\x00" + header.getvalue()[8:]})
    tree, error = read(stem, MB)
    assert error == (
        f"0.npz declares {8 * 10**9} bytes of arrays, more than the {MB} allowed"
    )


def test_files_over_the_bound_missing_or_broken_are_sentences(tmp_path):
    write(tmp_path / "big", np.zeros(1000), 8000)
    tree, error = read(tmp_path / "big", 7999)
    assert error == "big.npz declares 8000 bytes of arrays, more than the 7999 allowed"
    assert read(tmp_path / "none", MB) == (None, "none.json is missing")
    (tmp_path / "bad.json").write_text("{not json")
    write(tmp_path / "ok", [], MB)
    os.replace(tmp_path / "ok.npz", tmp_path / "bad.npz")
    tree, error = read(tmp_path / "bad", MB)
    assert tree is None and error.startswith("bad: unreadable (JSONDecodeError: ")
    (tmp_path / "huge.json").write_text(" " * (MB + 70_000))
    (tmp_path / "huge.npz").write_bytes(b"")
    assert read(tmp_path / "huge", MB)[1] == (
        f"huge.json is {MB + 70_000} bytes, more than the {MB} allowed"
    )


def test_write_refuses_what_encode_refuses_and_leaves_no_file(tmp_path):
    with pytest.raises(TransportError, match="is a set"):
        write(tmp_path / "0", {"W1": {1}}, MB)
    assert os.listdir(tmp_path) == []
