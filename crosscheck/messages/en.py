"""The English sentences: message id -> ``str.format`` template (see __init__.py).

Ids are grouped by where they are said: ``cite.*`` and ``chapter.*`` the chapter a
sentence cites, ``diag.*`` the diagnosis of a failing row (crosscheck/mine/diagnose.py),
``check.*`` check_backprop's other sentences (crosscheck/mine/check.py), ``returned.*``
what it says of fn's return value (crosscheck/mine/returned.py), ``report.*`` the verdict
lines under a table (crosscheck/report.py), ``mine.*`` crosscheck mine's lines,
``grade.*`` crosscheck grade's sentences (crosscheck/grading/).
"""

MESSAGES = {
    # -- where a sentence's quantity is derived (diagnose.sentence, diagnose.cite)
    "cite.sentence": "{name} ({label}, {where}): {text}",
    "cite.chapter": 'chapter {number} "{title}"',
    "cite.section": ', section "{section}"',
    "cite.site": ", {url}",
    "chapter.notation": "Notation and shapes",
    "chapter.activations": "Activations and their derivatives",
    "chapter.losses": "Losses",
    "chapter.backprop": "Backpropagation",
    "chapter.check_your_own": "Check your own backprop",
    "section.bp5": "What refnet adds for it",
    # -- the hypotheses of diagnose.py, by row
    "diag.mixup_at_a": (
        "f' is evaluated at a[{l}] instead of z[{l}]: {act}'(a) where {act}'(z) "
        "belongs (a formula in z, given a)"
    ),
    "diag.mixup_a_form": (
        "{act}' is computed as {at_z}: the formula {in_a} applied to z instead of to "
        "a = {act}(z) ({af})"
    ),
    "diag.elu_at_z": "z + 1 for z <= 0",
    "diag.bp1_no_fprime": (
        "the f_L'(z[L]) factor of BP1 is missing: delta{l} = dL/da[L] without the "
        "{act} derivative"
    ),
    "diag.softmax_diagonal": (
        "softmax's Jacobian is taken as its diagonal, delta = g * a (1 - a); use the "
        "Jacobian product a * (g - sum(g * a)) (SM1)"
    ),
    "diag.ls2_no_softmax": (
        "the softmax is missing from the cross-entropy's delta: you have (z - y) "
        "where (softmax(z) - y) belongs (LS2)"
    ),
    "diag.bp2_no_fprime": (
        "the f'(z[{l}]) factor of BP2 is missing: delta{l} = delta{up} @ W{up}.T "
        "without the {act} derivative"
    ),
    "diag.relu_at_0": (
        "relu'(0) is taken as 1 (only entries with z == 0 differ); TensorFlow and "
        "refnet use relu'(0) = 0 (AF4)"
    ),
    "diag.wrong_layer_fprime": (
        "the derivative of the wrong layer is used: f_{l}' evaluated at layer {up}'s "
        "z/a instead of layer {l}'s"
    ),
    "diag.W_not_transposed": (
        "W{up} is not transposed: delta{up} @ W{up} where delta{up} @ W{up}.T belongs"
    ),
    "diag.stale_W": (
        "delta{l} uses an updated W{up} (W - eta dW with eta = {eta:.3g}): the "
        "weights were changed before BP2 used them; compute every gradient first, "
        "then update"
    ),
    "diag.located_own": "; {row} matched, so the factor is in the line that computes {what}",
    "diag.located_layer": "; {row} matched, so it enters at layer {l}",
    "diag.place_own": "the line that computes {what}",
    "diag.place_layer": "layer {l}'s backward step",
    "diag.size_times_n": "is n = {n} times the reference",
    "diag.mean_missing_in": (
        "your {what} {size} while {row} matched: the 1/n of the mean is missing from "
        "{place}"
    ),
    "diag.mean_missing_in_delta": (
        "your {what} {size}, but your loss matched, averaged over the batch: the 1/n "
        "of the mean is missing from the output delta; divide delta{L} by n{line}"
    ),
    "diag.cost_sums": (
        "your {what} equals the reference times n = {n}: your cost sums over the "
        "batch; use reduction='sum' or divide by n"
    ),
    "diag.size_divided_by_n": "is the reference divided by n = {n}",
    "diag.extra_1_over_n_in": (
        "your {what} {size} while {row} matched: {place} has a 1/n the summed cost "
        "does not"
    ),
    "diag.extra_1_over_n_in_delta": (
        "your {what} {size}, but your loss matched, summed over the batch: the output "
        "delta has a 1/n the summed cost does not; drop it from delta{L}"
    ),
    "diag.cost_averages": (
        "your {what} equals the reference divided by n = {n}: your cost averages over "
        "the batch; use reduction='mean' or drop the 1/n"
    ),
    "diag.scale_size": (
        "your {what} equals the reference times {factor:g} (k = {k} outputs)"
    ),
    "diag.scale_in": "{size} while {row} matched: the factor is in {place}",
    "diag.scale_in_delta": (
        "{size}, but your loss matched, in the mse_scale='{ours}' form: your output "
        "delta differentiates the mse_scale='{scale}' form; delta{L} must be the "
        "derivative of the cost your loss computes"
    ),
    "diag.scale_convention": (
        "{size}: your per-example cost is the mse_scale='{scale}' form; pass "
        "mse_scale='{scale}'"
    ),
    "diag.half": (
        "your {what} is half the reference: the 2 from differentiating the square, "
        "d(a - y)^2/da = 2 (a - y), is missing (LS1){at}"
    ),
    "diag.twice": (
        "your {what} is twice the reference: a factor 2 too many (the cost has a 1/2 "
        "your derivative ignores){at}"
    ),
    "diag.sign": (
        "your {what} has the opposite sign: dL/dtheta, not -dL/dtheta (the minus "
        "belongs in the update w - eta dw){at}"
    ),
    "diag.constant_inverse": (
        "your {what} is 1/{q} of the reference: a constant 1/{q} of your own, which "
        "no convention explains{at}"
    ),
    "diag.constant_negative_inverse": (
        "your {what} is -1/{q} times the reference: a constant -1/{q} of your own, "
        "which no convention explains{at}"
    ),
    "diag.constant_whole": (
        "your {what} is {s} times the reference: a constant {s} of your own, which no "
        "convention explains{at}"
    ),
    "diag.constant_any": (
        "your {what} equals the reference times {s:.7g}, a constant factor no known "
        "mistake or convention explains{at}"
    ),
    "diag.no_decay": "no decay",
    "diag.decay_if_assigned": (
        "if the assignment's decay is {l2:.4g} * sum(W^2), your code's is "
        "{ratio:.4g} times it (the derivative of l2 * sum(W^2) is 2 l2 W); if yours "
        "is the one intended, "
    ),
    "diag.decay_if_asked": "if the assignment asks for it, ",
    "diag.decay_in_code": (
        "your {name} holds an L2 term the check was not told of: your decay is "
        "{total:.4g} * sum(W^2) in the cost ({told} given); {which}pass --l2 "
        "{total:.4g} (l2 * sum(W^2)), or --l2 {twice:.4g} --l2-form half_sum "
        "(l2/2 * sum(W^2))"
    ),
    "diag.output_is_z": "your output is z[{L}], before the activation: a[L] = f_L(z[L])",
    "diag.loss_without_l2": "your loss leaves out the L2 term {term} (LS6)",
    "diag.W1_not_transposed": (
        "W1 is not transposed: dX = delta1 @ W1 where delta1 @ W1.T belongs"
    ),
    "diag.bp4_z_for_a": "BP4 uses z[{k}] where a[{k}] belongs: dW{l} = a[{k}].T @ delta{l}",
    "diag.bp4_wrong_a": "BP4 uses the wrong layer's activation a[{l}] where a[{k}] belongs",
    "diag.dW_transposed": (
        "dW{l} is transposed: dW = a[l-1].T @ delta[l], not delta[l].T @ a[l-1]"
    ),
    "diag.dW_without_l2": "the L2 term {term} is missing from dW (LS6)",
    "diag.db_first_example": (
        "db{l} is delta{l} of the first example only: sum delta over the batch"
    ),
    "diag.db_mean": "db{l} is the mean over the batch of delta{l}; BP3 sums it",
    "diag.carried": "{text} (BP4/BP3 carry it into {name})",
    "diag.nonfinite": (
        "your values contain NaN or inf (an overflow: exp of a large z, log(0), or a "
        "division by zero)"
    ),
    "diag.shape": "your {what} has shape {got}, expected {want}",
    "diag.no_pattern": (
        "your {what} differs from the reference by up to {err:.3g} ({rel:.2g} of its "
        "largest entry) with no pattern crosscheck recognises; compare it entry by "
        "entry with the reference"
    ),
    # -- check_backprop's other sentences (crosscheck/mine/check.py)
    "check.what": (
        "while checking fn(weights, X, Y) with weights {container} shapes {shapes}, "
        "X {X}, Y {Y} in the {convention} convention (if your code lays them out "
        "otherwise, pass convention= or the overrides)"
    ),
    "check.fn_raised": "fn raised {error}: {exc}",
    "check.fn_raised_traceback": "your function raised an exception:\n{traceback}",
    "check.unreadable": "fn returned something unreadable: {exc}",
    "check.returned": "fn returned {type}: {exc}",
    "check.all_match": "every quantity you returned matches refnet's ({n} rows: {names})",
    "check.later_rows": (
        "rows after it also differ ({names}): fix the first one and check again"
    ),
    "check.kink_pinned": (
        "note: {entries} lie within rounding of a kink (relu, leaky_relu) and your "
        "code's rounding put them on the other side of 0; the reference was "
        "evaluated on your side of it (chapter 7, 'How close is close enough'). "
        "relu'(0) = 1 (z >= 0) would look the same there: check with another X to "
        "rule it out"
    ),
    "check.kink_near": (
        "note: {entries} lie within rounding of a kink (relu, leaky_relu), where "
        "another summation order may pick the other side: if only rows below that "
        "layer differ, by O(1), this is why; try another X"
    ),
    "check.kink_more": " and {k} more",
    "check.dtype_float32": (
        "a float64 constant or array mixed into float32 work, such as np.zeros(shape) "
        "or np.eye(k) without dtype="
    ),
    "check.dtype_float64": "a cast to float32 or lower somewhere in float64 work",
    "check.dtype": (
        "your {name} has dtype {got}, expected {want}: something in your code changes "
        "the dtype ({how}); "
        "keep every array in {dtype}"
    ),
    "check.no_diagnosis": "differs from the reference (no diagnosis: {error})",
    "check.in_place": (
        "your function changed {what} in place: gradients must be computed from the "
        "weights as given, all of them before any update"
    ),
    "check.in_place_weights": "weights {key}",
    "check.reference_ok": (
        "the reference itself: refnet matches {who} on this network and batch ({n} "
        "quantities, worst err/tol {worst:.2g})"
    ),
    "check.reference_disagrees": (
        "the reference itself DISAGREES with {who} (first at {first}): do not trust "
        "this check; please report it\n{table}"
    ),
    "check.loss_not_number": "your loss is {type}, expected a number",
    "check.diagnosis_head": "diagnosis:",
    # -- what fn returned (crosscheck/mine/returned.py)
    "returned.grads_keys": "grads: a dict needs the keys {want} (or d{first}, ...), got {got}",
    "returned.count": "expected {n} gradients [{names}], got {got}",
    "returned.items": "{n} items",
    "returned.pair_reversed": (
        "you returned (grads, loss); CS231n's order is (loss, grads): read as "
        "(grads, loss)"
    ),
    "returned.not_gradients": (
        "expected a list [dW1, db1, ...] or a dict of gradients, got {type}"
    ),
    "returned.deltas": "deltas: expected a list of {L} arrays (first layer first)",
    "returned.ignored": (
        "ignored what crosscheck cannot place: {keys} (it compares loss, output, "
        "dA<l>, dZ<l> or deltas, the gradients and dX)"
    ),
    "returned.not_array": "your {name} is not an array ({exc})",
    "returned.dtype": "your {name} has dtype {dtype}, expected real numbers",
    "returned.hint_db": (
        ": one row per example, not summed over the batch (BP3 sums delta over it)"
    ),
    "returned.hint_dW": (
        ": the transpose; dW = a[l-1].T @ delta[l] in rows (delta[l] @ a[l-1].T in "
        "columns), or pass weights_layout='{other}' if W is stored that way"
    ),
    "returned.hint_transpose": (
        ": the transpose (rows against columns? see the samples override)"
    ),
    "returned.shape": (
        "your {name} has shape {got}; expected {want} in the {convention} "
        "convention{hint}"
    ),
    # -- the verdict lines under a table (crosscheck/report.py)
    "report.pass": "PASS: {n} quantities agree",
    "report.crash": (
        "CRASH: {name}: its process died, so nothing was compared with it (the row's "
        "note says how)"
    ),
    "report.nonfinite": (
        "NONFINITE: both sides hold NaN or inf from {name} on; nothing was compared "
        "there (overflow in the inputs or weights?)"
    ),
    "list.and": " and ",
    "list.comma": ", ",
    "report.fail": "FAIL: first mismatch at {name}",
    "report.odd_one_out": "odd one out: {parties}",
    "report.odd_party": "{party} ({k} of {n} rows, first {first})",
    "report.note": "note: {note}",
    # -- crosscheck mine (crosscheck/mine/child.py, cli.py)
    "mine.mismatch_at": "MISMATCH at {name}: {sentence}",
    "mine.count": "{ok} of {n} match",
    "mine.reference_unchecked": "the reference itself could not be checked: {cause}",
    # -- crosscheck grade (crosscheck/grading/)
    "grade.not_returned": "{quantity} was not returned",
    "grade.after_first": "after {first}, the first failing row: {sentence}",
    "grade.rubric_warning": (
        "every student lost points first at {first}: check the rubric (layout, "
        "activations, loss, convention) before the students' code"
    ),
    "grade.student_count": "{n} student: {parts}",
    "grade.students_count": "{n} students: {parts}",
    "grade.full_mark": "{n} full mark",
    "grade.full_marks": "{n} full marks",
    "grade.partial": "{n} partial",
    "grade.no_points": "{n} with no points",
    "grade.error": "{n} error",
    "grade.errors": "{n} errors",
    "grade.list_separator": ", ",
    "grade.mean": "; mean {mean:.1f}/{top}",
    "grade.warning": "warning: {text}",
    "grade.not_graded": "not graded: {names}",
    "grade.error_line": "error: {error}",
    "grade.lost": "-{points} {names}: {why}",
    "grade.all_match": "every quantity matches ({earned})",
    "grade.points": "{score} points: {status}",
    "grade.first_failing_row": "first failing row: {where}",
    # -- crosscheck grade's report.html (crosscheck/grading/html.py)
    "html.student": "{n} student",
    "html.students": "{n} students",
    "html.bar": "{who} scored {range}",
    "html.x_axis": "score (out of {max})",
    "html.y_axis": "students",
    "html.histogram": "Score histogram",
    "html.no_diagnosis": "No diagnosis: every student matches.",
    "html.hidden": "hidden",
    "html.practice": "practice",
    "html.drawn": "drawn per run",
    "html.cases": "Cases",
    "html.case_count": "{n} cases ({practice} practice, {hidden} hidden)",
    "html.function": "function {name}",
    "html.convention": "convention {name}",
    "html.workers": " with {n} workers",
    "html.kept": " ({n} kept from an earlier run)",
    "html.graded_in": "graded in {seconds:.1f} s{earlier}{workers}",
    "html.check_first": "Check before you publish these grades:",
    "html.scores": "Scores",
    "html.common": "Most common diagnoses",
    "html.students_heading": "Students",
    "html.characters": "{n} characters",
    "html.characters_cut": "{n} characters, middle cut",
    "html.not_shown": (
        "[... {n} characters not shown here; the student's JSON result holds all that "
        "was captured ...]"
    ),
    "html.hidden_mark": "(hidden)",
    "html.lost": "Lost points:",
    "html.earned": "Earned: {text}",
    "html.sandbox": "Sandbox: {text}",
    "html.first_failing_row": "First failing row:",
    "html.error": "Error:",
    "html.notes": "Notes:",
    "html.back": "back to the class",
}
