"""Mutation testing: does the test suite catch plausible one-line bugs?

Each mutant below is a (file, old, new, why) edit: ``old`` must occur exactly once in
``file``. The driver copies the tracked tree to a temporary folder (the working tree is
never touched), applies one mutant at a time there, and runs the test suite with ``-x``;
the mutant is *killed* when a test fails, and *survives* when the whole suite passes. A
survivor is a hole in the tests: add the test that kills it (and keep the mutant here).

    python tools/mutate.py                 # every mutant, 2 at a time
    python tools/mutate.py --list          # the mutants, numbered
    python tools/mutate.py -k losses 7 12  # mutants whose file or id matches, or by number
    python tools/mutate.py --jobs 1 --pytest-args "tests -q"

Exit status 0 when every mutant selected is killed, 1 when one survives, 2 for a mutant
whose ``old`` text no longer matches its file (the code moved on: update the mutant).
A run of all of them takes about 1-2 hours on 2 cores (the suite has grown); it is not part of CI.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    file: str
    old: str
    new: str
    why: str


M = Mutant
MUTANTS = [
    # --- activations: f and f' --------------------------------------------------------
    M(
        "refnet/activations.py",
        "    return a * (1 - a)\n",
        "    return a * (1 + a)\n",
        "sigmoid' sign",
    ),
    M(
        "refnet/activations.py",
        "    a2 = np.multiply(a, a, out=out)",
        "    a2 = np.multiply(a, 1, out=out)",
        "tanh' = 1 - a",
    ),
    M(
        "refnet/activations.py",
        "    return (z > 0).astype(z.dtype)",
        "    return (z >= 0).astype(z.dtype)",
        "relu'(0) = 1",
    ),
    M(
        "refnet/activations.py",
        "LEAKY_RELU_SLOPE = 0.2 ",
        "LEAKY_RELU_SLOPE = 0.3 ",
        "Keras 2's slope",
    ),
    M(
        "refnet/activations.py",
        "        return np.maximum(z > 0, _const(z, slope))  # max(1, slope) or max(0, slope)",
        "        return np.maximum(z >= 0, _const(z, slope))  # max(1, slope) or max(0, slope)",
        "leaky_relu'(0) = 1",
    ),
    M(
        "refnet/activations.py",
        "    return np.fmin(a + 1, _const(z, 1))",
        "    return np.fmin(a, _const(z, 1))",
        "elu' = a",
    ),
    M(
        "refnet/activations.py",
        "    return np.maximum(z, _const(z, 0)) + np.log1p(np.exp(-np.abs(z)))",
        "    return np.maximum(z, _const(z, 0)) + np.log1p(np.exp(-z))",
        "softplus overflow form",
    ),
    M(
        "refnet/activations.py",
        "    return 1 / (d * d)",
        "    return 1 / d",
        "softsign' missing square",
    ),
    M(
        "refnet/activations.py",
        "    return s * (1 + z * (1 - s))",
        "    return s * (1 + z * s)",
        "silu' wrong term",
    ),
    M(
        "refnet/activations.py",
        "    return _std_normal_cdf(z) + z * phi",
        "    return _std_normal_cdf(z) + phi",
        "gelu' missing z",
    ),
    M(
        "refnet/activations.py",
        "    du = _const(z, _GELU_C) * (1 + _const(z, 3 * 0.044715) * z * z)",
        "    du = _const(z, _GELU_C) * (1 + _const(z, 0.044715) * z * z)",
        "gelu_tanh' missing 3",
    ),
    M(
        "refnet/activations.py",
        "    e = np.exp(z - z.max(axis=-1, keepdims=True))",
        "    e = np.exp(z)",
        "softmax without the max shift",
    ),
    M(
        "refnet/activations.py",
        "    return a * (g - (g * a).sum(axis=-1, keepdims=True))",
        "    return a * (g - (g * a).sum(axis=0, keepdims=True))",
        "softmax JVP summed over the batch",
    ),
    M(
        "refnet/activations.py",
        "    return a * (g - (g * a).sum(axis=-1, keepdims=True))",
        "    return a * g",
        "softmax JVP as if elementwise",
    ),
    M(
        "refnet/activations.py",
        "        return g\n",
        "        return g.copy() * 2\n",
        "linear vjp doubled",
    ),
    M(
        "refnet/activations.py",
        "    if not _takes_cached_output(df):",
        "    if False:",
        "register passes a to a ufunc (W4)",
    ),
    # --- losses -----------------------------------------------------------------------
    M(
        "refnet/losses.py",
        "    return (a - y) * a.dtype.type(2 / a.size)",
        "    return (a - y) * a.dtype.type(2 / a.shape[0])",
        "mse grad over n only",
    ),
    M(
        "refnet/losses.py",
        "    return (a - y) * a.dtype.type(2 / a.size)",
        "    return (a - y) * a.dtype.type(1 / a.size)",
        "mse grad missing 2",
    ),
    M(
        "refnet/losses.py",
        "    return float(np.mean(r * r))",
        "    return float(np.sum(r * r))",
        "mse summed",
    ),
    M(
        "refnet/losses.py",
        "    return (p - y) * z.dtype.type(1 / z.shape[0])",
        "    return (p - y)",
        "softmax CE grad not averaged",
    ),
    M("refnet/losses.py", "    grad -= y\n", "    grad += y\n", "fused delta sign"),
    M(
        "refnet/losses.py",
        "    return _minus_y_log_p(y, log_p) / z.shape[0]",
        "    return _minus_y_log_p(y, log_p)",
        "softmax CE value summed",
    ),
    M(
        "refnet/losses.py",
        "    return (g - (g * a_over_s).sum(axis=-1, keepdims=True)) / s",
        "    return g - (g * a_over_s).sum(axis=-1, keepdims=True)",
        "categorical CE grad missing 1/s",
    ),
    M(
        "refnet/losses.py",
        "    inside = (p >= eps) & (p <= 1 - eps)",
        "    inside = p > 0",
        "clip gradient passed everywhere",
    ),
    M(
        "refnet/losses.py",
        "    return (sigmoid(z) - y) * z.dtype.type(1 / z.size)",
        "    return (sigmoid(z) - y) * z.dtype.type(1 / z.shape[0])",
        "binary CE grad over n only",
    ),
    M(
        "refnet/losses.py",
        "    per_entry = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))",
        "    per_entry = np.maximum(z, 0) - z * y + np.log1p(np.exp(-z))",
        "binary CE unstable form",
    ),
    M(
        "refnet/losses.py",
        "            grad *= grad.dtype.type(n)\n",
        "",
        "sum reduction's grad not scaled",
    ),
    M(
        "refnet/losses.py",
        "    if (Y < 0).any() or (Y > 1).any():",
        "    if (Y < 0).any():",
        "binary targets > 1 accepted",
    ),
    M(
        "refnet/losses.py",
        "        if n and (Y.min() < 0 or Y.max() >= k):",
        "        if n and (Y.min() < 0 or Y.max() > k):",
        "class id k accepted",
    ),
    # --- layers, params, validation ----------------------------------------------------
    M(
        "refnet/layers.py",
        "    r = math.sqrt(6 / (fan_in + fan_out))",
        "    r = math.sqrt(6 / fan_in)",
        "glorot_uniform as he_uniform",
    ),
    M(
        "refnet/layers.py",
        "    r = math.sqrt(6 / fan_in)\n",
        "    r = math.sqrt(3 / fan_in)\n",
        "he_uniform limit",
    ),
    M(
        "refnet/params.py",
        "    return sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))",
        "    return sum(n_in * n_out + n_in for n_in, n_out in zip(sizes, sizes[1:]))",
        "PC1 bias count",
    ),
    M(
        "refnet/validation.py",
        "    if X.shape[0] == 0:",
        "    if False:",
        "empty batch accepted",
    ),
    M(
        "refnet/validation.py",
        "    if not np.isfinite(X).all():",
        "    if np.isnan(X).all():",
        "NaN/inf inputs accepted",
    ),
    M(
        "refnet/validation.py",
        '    if os.path.isdir(path):\n        raise ValueError(f"{name}: expected a file path, got the folder',
        '    if False:\n        raise ValueError(f"{name}: expected a file path, got the folder',
        "output folder accepted (S5)",
    ),
    M(
        "refnet/validation.py",
        "    if isinstance(seed, numbers.Integral) and seed < 0:",
        "    if False:",
        "negative seed unnamed (C3)",
    ),
    # --- files: atomic writes and bounded reads ---------------------------------------------
    M(
        "refnet/saving.py",
        "    atomic_write(path, lambda fh: np.savez(fh, **arrays))",
        "    np.savez(path, **arrays)",
        "non-atomic save (S1)",
    ),
    M("refnet/files.py", "            os.fsync(fh.fileno())\n", "", "no fsync"),
    M(
        "refnet/files.py",
        "            data = fh.read(n_bytes + 1)",
        "            data = fh.read()",
        "unbounded read (S2)",
    ),
    M(
        "refnet/files.py",
        "            if n_bytes > RATIO_FREE_BYTES and n_bytes > MAX_RATIO * packed:",
        "            if False:",
        "no zip-bomb ratio cap (S2)",
    ),
    M(
        "refnet/saving.py",
        "    unexpected = npz.keys - set(HEADER_KEYS) - set(optional) - set(expected)",
        "    unexpected = set()",
        "extra members accepted (S2)",
    ),
    M(
        "refnet/datasets.py",
        "            blob = fh.read(size + 1)",
        "            blob = fh.read()",
        "IDX read unbounded (S2)",
    ),
    M(
        "refnet/datasets.py",
        "    except (OSError, EOFError, zlib.error) as err:",
        "    except (OSError, EOFError) as err:",
        "zlib.error escapes (C2)",
    ),
    M(
        "refnet/datasets.py",
        "        X = x.reshape(x.shape[0], -1).astype(dtype) / dtype.type(255)",
        "        X = x.reshape(x.shape[0], -1).astype(dtype) / dtype.type(256)",
        "pixels / 256",
    ),
    # --- gradcheck ----------------------------------------------------------------------------
    M(
        "refnet/gradcheck.py",
        "            num[k] = (values[0] - values[1]) / (2 * h)",
        "            num[k] = (values[0] - values[1]) / h",
        "central difference over h",
    ),
    M(
        "refnet/gradcheck.py",
        '        max_entries = check_size(max_entries, "max_entries")',
        "        pass",
        "max_entries=0 passes anything (W5)",
    ),
    # --- crosscheck ---------------------------------------------------------------------------
    M(
        "crosscheck/tolerance.py",
        "    bound = atol + rtol * m\n",
        "    bound = atol + 10 * rtol * m\n",
        "tolerance 10x loose",
    ),
    M(
        "crosscheck/tolerance.py",
        '            verdict="NONFINITE" if same else "FAIL",',
        '            verdict="ok" if same else "FAIL",',
        "NaN on both sides passes (W1)",
    ),
    M(
        "crosscheck/tolerance.py",
        "    ratio = max(float(elem.max()) if elem.size else 0.0, norm_ratio)",
        "    ratio = float(elem.max()) if elem.size else 0.0",
        "normwise test dropped",
    ),
    M(
        "crosscheck/report.py",
        "        return all(row.ok for row in self.rows)",
        "        return any(row.ok for row in self.rows)",
        "report ok if any row passes",
    ),
    M(
        "crosscheck/training_report.py",
        "            if name not in self.worst or row.ratio > self.worst[name][1].ratio:",
        "            if name not in self.worst or row.ratio < self.worst[name][1].ratio:",
        "training report keeps the best step",
    ),
    M(
        "crosscheck/kinks.py",
        "        mask = ((z_ref > 0) != (z_tf > 0)) & (np.abs(z_ref - z_tf) <= bound)",
        "        mask = (z_ref > 0) != (z_tf > 0)",
        "kink pin not limited to rounding",
    ),
    M(
        "crosscheck/frameworks/tf/oracle.py",
        "                a = tf.identity(a)  # drop Keras' logits shortcut: the loss sees a",
        "                pass",
        "Keras' logits shortcut kept",
    ),
    M(
        "crosscheck/matrix.py",
        "    hidden = list(HIDDEN)",
        '    hidden = [name for name in HIDDEN if name != "elu"]',
        "matrix drops an activation",
    ),
]

# Mutants of code that changes often (network.py's backprop, the optimizers) are listed
# separately so a rewrite there shows up as "no longer matches" in one place.
MUTANTS += [
    M(
        "refnet/network.py",
        "            dW[l] = np.matmul(inputs[l].T, delta, out=dW[l])  # a.T @ delta BP4, BP7",
        "            dW[l] = np.matmul(activations[l + 1].T, delta, out=dW[l]) if activations[l + 1].shape == inputs[l].shape else np.matmul(inputs[l].T, delta, out=dW[l])",
        "BP4 with the layer's own a where shapes allow",
    ),
    M(
        "refnet/network.py",
        "                g = np.matmul(delta, layer.W.T, out=deltas[l - 1])",
        "                g = np.matmul(delta, layer.W.T if layer.W.shape[0] != layer.W.shape[1] else layer.W, out=deltas[l - 1])",
        "BP2 without the transpose on square W",
    ),
    M(
        "refnet/network.py",
        "                dW[l] += W.dtype.type(2 * l2) * W",
        "                dW[l] += W.dtype.type(l2) * W",
        "L2 gradient missing its 2 (LS6)",
    ),
    M(
        "refnet/optimizers.py",
        "        m *= t(self.momentum)  # m' = momentum m - lr g",
        "        pass  # m' = momentum m - lr g",
        "momentum never decays",
    ),
    M(
        "refnet/optimizers.py",
        "        dm *= t(1 - self.beta_1)",
        "        dm *= t(self.beta_1)",
        "Adam's beta_1 swapped",
    ),
    M(
        "refnet/optimizers.py",
        "        inc /= np.sqrt(D, out=D)  # inc = lr g / sqrt(D)",
        "        inc /= D  # inc = lr g / sqrt(D)",
        "RMSprop without the square root",
    ),
    M(
        "refnet/training.py",
        "        if not math.isfinite(res.loss):",
        "        if False:",
        "divergence unnoticed (W2)",
    ),
    M(
        "refnet/training.py",
        "            self.replay(state, order, k - 1, epoch)",
        "            self.replay(state, order, k, epoch)",
        "restore one step too far (the broken one)",
    ),
    M(
        "refnet/optimizers.py",
        "                    h.shape == w.shape and np.array_equal(h, w)\n",
        "                    h.shape == w.shape\n",
        "a same-shape network adopts the state (W8)",
    ),
    M(
        "refnet/validation.py",
        "    except (RuntimeError, TypeError) as err:",
        "    except TypeError as err:",
        "a torch tensor that requires grad escapes as RuntimeError (C7)",
    ),
]

# Issue 11: the second oracle, the odd one out, the tutorials' Keras models.
MUTANTS += [
    M(
        "refnet/validation.py",
        "        X = X.reshape(X.shape[0], n_in)  # row-major, as keras.layers.Flatten  FL1",
        '        X = X.reshape(X.shape[0], n_in, order="F")  # row-major, as keras.layers.Flatten  FL1',
        "Flatten column-major (FL1)",
    ),
    M(
        "refnet/network.py",
        "            if layer.b is not None:  # sum of rows                          BP3",
        "            if layer.b is not None and l > 0:  # sum of rows                          BP3",
        "db1 never computed",
    ),
    M(
        "crosscheck/report.py",
        "        if not any(ok(p, q) for q in rest) and all(",
        "        if not all(ok(p, q) for q in rest) and all(",
        "odd one out when it disagrees with any one party",
    ),
    M(
        "crosscheck/frameworks/torch/oracle.py",
        '    value = rows.sum() if reduction == "sum" else rows.sum() / rows.shape[0]',
        '    value = rows.sum() if reduction == "sum" else rows.mean() * (1 + 1e-6)',
        "torch oracle's mean off by 1e-6",
    ),
    M(
        "crosscheck/frameworks/torch/bridge.py",
        "                act = torch.nn.LeakyReLU(negative_slope=float(slope))",
        "                act = torch.nn.LeakyReLU()",
        "torch's default slope 0.01 for leaky_relu(SLOPE)",
    ),
    M(
        "crosscheck/frameworks/torch/training.py",
        '            eps = eps / math.sqrt(1 - c["beta_2"] ** t)',
        '            eps = eps * math.sqrt(1 - c["beta_2"] ** t)',
        "Adam's epsilon converted the wrong way",
    ),
    M(
        "crosscheck/frameworks/tf/models.py",
        '    if r.chain.steps:\n        raise _unsupported(i, layer, "after a Dense layer")',
        '    if False:\n        raise _unsupported(i, layer, "after a Dense layer")',
        "a Flatten after a Dense accepted",
    ),
    M(
        "crosscheck/mine/check.py",
        "        if X is not None or not kinks:",
        "        if True:",
        "a drawn batch near a kink kept",
    ),
    # issue 21's ten plausible bugs that once passed the whole suite
    M(
        "crosscheck/mine/reference.py",
        "HYPOTHESIS_C = 1000.0",
        "HYPOTHESIS_C = 10.0",
        "the diagnosis's hypothesis tolerance 100 times tighter",
    ),
    M(
        "refnet/training.py",
        "        return _hits(self.predicted[:stop], self.labels, order)",
        "        return _hits(self.predicted[:stop], self.labels, None)",
        "fit's accuracy scores a shuffled epoch against unshuffled labels",
    ),
    M(
        "refnet/training.py",
        "            self.replay(kept[0], kept[1], n_steps - 1, epoch - 1)",
        "            self.replay(kept[0], kept[1], n_steps, epoch - 1)",
        "a divergence at an epoch's first step restores the broken weights",
    ),
    M(
        "refnet/files.py",
        '        order = "F" if fortran else "C"',
        '        order = "C"',
        "a Fortran-ordered npz member read as C-ordered",
    ),
    M(
        "refnet/files.py",
        "    fd, tmp = _open_temporary(folder, os.path.basename(path))",
        "    fd, tmp = _open_temporary(tempfile.gettempdir(), os.path.basename(path))",
        "atomic_write's temporary file in the system temp folder",
    ),
    M(
        "refnet/saving.py",
        "_SMALL = 1 << 16",
        "_SMALL = 8 << 16",
        "the header members' byte limit 8 times too large",
    ),
    M(
        "crosscheck/training_report.py",
        "    return policy_rtol(dtype, n, depth) * math.sqrt(steps)",
        "    return policy_rtol(dtype, n, depth) * steps",
        "the training tolerance grows with steps, not sqrt(steps)",
    ),
    M(
        "crosscheck/mine/reference.py",
        '        return -y / a / (n if conv.reduction == "mean" else 1)',
        "        return -y / a / n",
        "check_backprop's probability-CE dL/da divided by n under reduction='sum'",
    ),
    M(
        "crosscheck/mine/reference.py",
        '    scale = c * (n if conv.reduction == "sum" else 1)',
        "    scale = c",
        "check_backprop's TOL1 magnitudes not scaled by n under reduction='sum'",
    ),
    M(
        "crosscheck/mine/check.py",
        "    return compare(net, X, Y, loss_obj, l2=conv.l2_eff / ref.c, dX=True)",
        "    return compare(net, X, Y, loss_obj, l2=conv.l2, dX=True)",
        "check_backprop's reference check given another l2 than the user's",
    ),
    M(
        "refnet/files.py",
        '    if flag and os.path.isdir("/proc/self/fd") and _libc() is not None:',
        "    if False:",
        "a save's temporary file named from the start (no O_TMPFILE)",
    ),
    M(
        "refnet/files.py",
        "            if pid.isdigit() and not _alive(int(pid)):",
        "            if False:",
        "stale temporaries of dead saves never swept",
    ),
    M(
        "refnet/validation.py",
        "    if isinstance(x, np.ma.MaskedArray):",
        "    if False:",
        "masked arrays used with their masked values",
    ),
    M(
        "refnet/files.py",
        "        if declared > RATIO_FREE_BYTES and declared > MAX_RATIO * stored:",
        "        if False:",
        "an npz's members not bounded as a whole",
    ),
    M(
        "refnet/files.py",
        "        x for x in (_mem_available(), _rlimit_left(), _cgroup_left()) if x is not None",
        "        x for x in (_mem_available(),) if x is not None",
        "free memory ignores RLIMIT_AS and the cgroup",
    ),
    M(
        "crosscheck/tolerance.py",
        '    if theirs.shape == ours.shape and compare_tensor("probe", theirs, ours, rtol).ok:',
        "    if True:",
        "a conversion never checked against the model's own output",
    ),
    M(
        "crosscheck/frameworks/tf/files.py",
        "    if depth > MAX_DEPTH:",
        "    if False:",
        "a deeply nested Keras config accepted",
    ),
    M(
        "crosscheck/kinks.py",
        "                near &= scale > 0",
        "                near &= scale >= 0",
        "z exactly at a kink from zero terms pinned",
    ),
    M(
        "crosscheck/mine/check.py",
        "            if score[0] == 0:",
        "            if False:",
        "a user's X at a kink never pinned",
    ),
    M(
        "crosscheck/mine/check.py",
        '        and conv.reduction == "mean"\n',
        '        and conv.reduction == "sum"\n',
        "per-example intermediates not rescaled by 1/n",
    ),
    M(
        "crosscheck/mine/conventions.py",
        '        return dict(zip(names, out)) if self.container == "dict" else out',
        "        return out",
        "the dict container handed a list",
    ),
    M(
        "crosscheck/mine/returned.py",
        '        elif m and m[1] == "Z" and 1 <= l <= L:',
        '        elif m and m[1] == "Z" and 1 <= l < L:',
        "dZ of the output layer ignored",
    ),
    M(
        "crosscheck/mine/reference.py",
        "        return ref.delta[-1] / (a * (1 - a))",
        "        return ref.delta[-1]",
        "dA[L] of a fused sigmoid taken as delta[L]",
    ),
    M(
        "refnet/network.py",
        "            value = self._add_l2(value, l2)",
        "            pass",
        "val_loss without the L2 penalty",
    ),
]

# Issue 19: the new losses, schedules and dropout (appended: earlier numbers stay).
MUTANTS += [
    M(
        "refnet/losses.py",
        "    return np.where(m >= 0, -s, a.dtype.type(0)) * a.dtype.type(1 / a.size)",
        "    return np.where(m > 0, -s, a.dtype.type(0)) * a.dtype.type(1 / a.size)",
        "hinge's kink takes the inactive side (LS8)",
    ),
    M(
        "refnet/losses.py",
        "    d_neg = (1 - y) * ties / ties.sum(axis=-1, keepdims=True)",
        "    d_neg = (1 - y) * ties",
        "categorical hinge's tied maxima not split (LS10)",
    ),
    M(
        "refnet/network.py",
        "                    g *= masks[l - 1]  # through a~ = m * a: dL/da = m * dL/da~ BP6",
        "                    pass  # through a~ = m * a: dL/da = m * dL/da~ BP6",
        "delta not sent through the dropout mask (BP6)",
    ),
    M(
        "refnet/optimizers.py",
        "        t_1 = float(pct * T) - 1",
        "        t_1 = float(pct * T)",
        "1cycle's peak one step late (LR3)",
    ),
]


def _copy_tree(dest: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, files):
        src = ROOT / os.fsdecode(name)
        if src.is_file():
            target = dest / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)


def run_one(
    index: int, mutant: Mutant, pytest_args: list[str]
) -> tuple[int, str, float, str]:
    """(index, "killed" | "SURVIVED" | "STALE", seconds, detail) for one mutant."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="refnet-mutant-") as tmp:
        dest = Path(tmp)
        _copy_tree(dest)
        path = dest / mutant.file
        text = path.read_text()
        if text.count(mutant.old) != 1:
            return index, "STALE", 0.0, f"{text.count(mutant.old)} matches of old text"
        path.write_text(text.replace(mutant.old, mutant.new))
        env = dict(os.environ, PYTHONPATH=str(dest), PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                *pytest_args,
            ],
            cwd=dest,
            env=env,
            capture_output=True,
            text=True,
        )
    seconds = time.perf_counter() - start
    lines = proc.stdout.strip().splitlines()
    failed = next(
        (ln for ln in lines if ln.startswith("FAILED")), lines[-1] if lines else ""
    )
    if proc.returncode == 0:
        return index, "SURVIVED", seconds, ""
    return index, "killed", seconds, failed[:110]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "select", nargs="*", type=int, help="mutant numbers (see --list)"
    )
    parser.add_argument(
        "-k", default="", help="only mutants whose file or reason contains this"
    )
    parser.add_argument(
        "--list", action="store_true", help="print the mutants and exit"
    )
    parser.add_argument(
        "--jobs", type=int, default=2, help="mutants run at once (default 2)"
    )
    parser.add_argument(
        "--pytest-args",
        default="",
        help="passed to pytest (default: the project's testpaths)",
    )
    args = parser.parse_args(argv)
    chosen = [
        (i, m)
        for i, m in enumerate(MUTANTS, start=1)
        if (not args.select or i in args.select)
        and (args.k in m.file or args.k in m.why)
    ]
    if args.list:  # with a check that each old text still matches exactly once
        for i, m in chosen:
            count = (ROOT / m.file).read_text().count(m.old)
            stale = "" if count == 1 else f"  STALE: {count} matches"
            print(f"{i:3d}  {m.file:<26} {m.why}{stale}")
        return 0
    results = []
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [
            pool.submit(run_one, i, m, shlex.split(args.pytest_args)) for i, m in chosen
        ]
        for future in concurrent.futures.as_completed(futures):
            i, status, seconds, detail = future.result()
            m = MUTANTS[i - 1]
            print(
                f"{i:3d} {status:<8} {seconds:5.0f} s  {m.file:<26} {m.why}  {detail}",
                flush=True,
            )
            results.append(status)
    killed = results.count("killed")
    print(f"{killed} of {len(results)} mutants killed", end="")
    print(f"; {results.count('SURVIVED')} survived; {results.count('STALE')} stale")
    if "STALE" in results:
        return 2
    return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
