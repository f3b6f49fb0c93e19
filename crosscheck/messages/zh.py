"""The Chinese sentences: the ids of en.py, each in Simplified Chinese (see __init__.py).

Terms follow the book's glossary (中英术语对照): 误差项 δ, 反向传播, 权重, 偏置,
激活函数, 损失函数, 加权输入, 批量, 容差, 参照框架. Row names (dW1, delta2), equation
labels (BP1-BP4, LS1, ...), code, flags and numbers stay as they are; so do the verdict
tokens that start a line (PASS, FAIL, MATCH, MISMATCH, ERROR), which scripts read.
"""

MESSAGES = {
    # -- 句子所说的量在哪一章推导
    "cite.sentence": "{name}（{label}，{where}）：{text}",
    "cite.chapter": "第 {number} 章“{title}”",
    "cite.section": "，“{section}”一节",
    "cite.site": "，{url}",
    "chapter.notation": "记号与形状",
    "chapter.activations": "激活函数及其导数",
    "chapter.losses": "损失函数",
    "chapter.backprop": "反向传播",
    "chapter.check_your_own": "检查你自己的反向传播",
    "section.bp5": "refnet 为此增加的功能",
    # -- diagnose.py 的各条假设
    "diag.mixup_at_a": (
        "f' 在 a[{l}] 处求值，而不是在 z[{l}] 处：该用 {act}'(z) 的地方用了 "
        "{act}'(a)（以 z 表示的公式被代入了 a）"
    ),
    "diag.mixup_a_form": (
        "{act}' 被算成了 {at_z}：公式 {in_a} 被用在 z 上，而它应当用在 "
        "a = {act}(z) 上（{af}）"
    ),
    "diag.elu_at_z": "z + 1（z <= 0 时）",
    "diag.bp1_no_fprime": (
        "BP1 中缺少因子 f_L'(z[L])：delta{l} = dL/da[L]，没有乘以 {act} 的导数"
    ),
    "diag.softmax_diagonal": (
        "softmax 的雅可比矩阵被当成了它的对角线，delta = g * a (1 - a)；"
        "应使用向量-雅可比积 a * (g - sum(g * a))（SM1）"
    ),
    "diag.ls2_no_softmax": (
        "交叉熵的误差项 δ 里缺少 softmax：该是 (softmax(z) - y) 的地方你写成了 "
        "(z - y)（LS2）"
    ),
    "diag.bp2_no_fprime": (
        "BP2 中缺少因子 f'(z[{l}])：delta{l} = delta{up} @ W{up}.T，没有乘以 {act} 的导数"
    ),
    "diag.relu_at_0": (
        "relu'(0) 被取为 1（只有 z == 0 的元素不同）；TensorFlow 和 refnet 取 "
        "relu'(0) = 0（AF4）"
    ),
    "diag.wrong_layer_fprime": (
        "用错了层的导数：f_{l}' 是在第 {up} 层的 z/a 处求值的，而不是在第 {l} 层的"
    ),
    "diag.W_not_transposed": (
        "W{up} 没有转置：该是 delta{up} @ W{up}.T 的地方写成了 delta{up} @ W{up}"
    ),
    "diag.stale_W": (
        "delta{l} 用的是已经更新过的 W{up}（W - eta dW，eta = {eta:.3g}）：权重在 BP2 "
        "用到之前就被改了；应先算出全部梯度，再更新"
    ),
    "diag.located_own": "；{row} 一致，所以这个因子出在计算 {what} 的那一行",
    "diag.located_layer": "；{row} 一致，所以它是在第 {l} 层引入的",
    "diag.place_own": "计算 {what} 的那一行",
    "diag.place_layer": "第 {l} 层的反向传播步骤",
    "diag.size_times_n": "是参照值的 n = {n} 倍",
    "diag.mean_missing_in": (
        "你的 {what} {size}，而 {row} 一致：{place}缺少取平均的 1/n"
    ),
    "diag.mean_missing_in_delta": (
        "你的 {what} {size}，但你的损失（对批量取平均）一致：输出层的误差项 δ "
        "缺少取平均的 1/n；把 delta{L} 除以 n{line}"
    ),
    "diag.cost_sums": (
        "你的 {what} 等于参照值乘以 n = {n}：你的损失函数对批量求和；请用 "
        "reduction='sum'，或者除以 n"
    ),
    "diag.size_divided_by_n": "是参照值除以 n = {n}",
    "diag.extra_1_over_n_in": (
        "你的 {what} {size}，而 {row} 一致：{place}多了一个 1/n，求和形式的损失函数中"
        "并没有这个 1/n"
    ),
    "diag.extra_1_over_n_in_delta": (
        "你的 {what} {size}，但你的损失（对批量求和）一致：输出层的误差项 δ 多了一个 "
        "1/n，而求和形式的损失函数并没有它；把它从 delta{L} 中去掉"
    ),
    "diag.cost_averages": (
        "你的 {what} 等于参照值除以 n = {n}：你的损失函数对批量取平均；请用 "
        "reduction='mean'，或者去掉 1/n"
    ),
    "diag.scale_size": "你的 {what} 等于参照值乘以 {factor:g}（k = {k} 个输出）",
    "diag.scale_in": "{size}，而 {row} 一致：这个因子出在{place}",
    "diag.scale_in_delta": (
        "{size}，但你的损失（mse_scale='{ours}' 形式）一致：你的输出层误差项 δ "
        "是对 mse_scale='{scale}' 形式求的导；delta{L} 必须是你的损失所计算的那个"
        "损失函数的导数"
    ),
    "diag.scale_convention": (
        "{size}：你的单个样本损失是 mse_scale='{scale}' 形式；请传入 "
        "mse_scale='{scale}'"
    ),
    "diag.half": (
        "你的 {what} 是参照值的一半：对平方求导得到的 2，d(a - y)^2/da = 2 (a - y)，"
        "被漏掉了（LS1）{at}"
    ),
    "diag.twice": (
        "你的 {what} 是参照值的两倍：多了一个因子 2（损失函数里有一个 1/2，"
        "你的导数忽略了它）{at}"
    ),
    "diag.sign": (
        "你的 {what} 符号相反：应为 dL/dtheta，而不是 -dL/dtheta（负号属于更新步骤 "
        "w - eta dw）{at}"
    ),
    "diag.constant_inverse": (
        "你的 {what} 是参照值的 1/{q}：这是你自己引入的常数 1/{q}，没有哪种约定能"
        "解释它{at}"
    ),
    "diag.constant_negative_inverse": (
        "你的 {what} 是参照值的 -1/{q} 倍：这是你自己引入的常数 -1/{q}，没有哪种约定"
        "能解释它{at}"
    ),
    "diag.constant_whole": (
        "你的 {what} 是参照值的 {s} 倍：这是你自己引入的常数 {s}，没有哪种约定能"
        "解释它{at}"
    ),
    "diag.constant_any": (
        "你的 {what} 等于参照值乘以 {s:.7g}，这个常数因子不是任何已知错误或约定"
        "所能解释的{at}"
    ),
    "diag.no_decay": "无权重衰减",
    "diag.decay_if_assigned": (
        "如果作业规定的权重衰减是 {l2:.4g} * sum(W^2)，那么你代码中的是它的 "
        "{ratio:.4g} 倍（l2 * sum(W^2) 的导数是 2 l2 W）；如果你的才是本意，"
    ),
    "diag.decay_if_asked": "如果作业要求有它，",
    "diag.decay_in_code": (
        "你的 {name} 含有一个检查时未被告知的 L2 项：损失函数中你的权重衰减是 "
        "{total:.4g} * sum(W^2)（检查时给定：{told}）；{which}请传入 --l2 "
        "{total:.4g}（l2 * sum(W^2)），或 --l2 {twice:.4g} --l2-form half_sum "
        "（l2/2 * sum(W^2)）"
    ),
    "diag.output_is_z": "你的输出是 z[{L}]，即激活函数之前的值：应为 a[L] = f_L(z[L])",
    "diag.loss_without_l2": "你的损失漏掉了 L2 项 {term}（LS6）",
    "diag.W1_not_transposed": (
        "W1 没有转置：该是 dX = delta1 @ W1.T 的地方写成了 delta1 @ W1"
    ),
    "diag.bp4_z_for_a": (
        "BP4 在该用 a[{k}] 的地方用了 z[{k}]：dW{l} = a[{k}].T @ delta{l}"
    ),
    "diag.bp4_wrong_a": "BP4 在该用 a[{k}] 的地方用了另一层的激活值 a[{l}]",
    "diag.dW_transposed": (
        "dW{l} 被转置了：dW = a[l-1].T @ delta[l]，而不是 delta[l].T @ a[l-1]"
    ),
    "diag.dW_without_l2": "dW 中缺少 L2 项 {term}（LS6）",
    "diag.db_first_example": "db{l} 只是第一个样本的 delta{l}：应对整个批量求和",
    "diag.db_mean": "db{l} 是 delta{l} 在批量上的平均；BP3 是对它求和",
    "diag.carried": "{text}（这个错误经 BP4/BP3 传到了 {name}）",
    "diag.nonfinite": (
        "你的值中含有 NaN 或 inf（溢出：对很大的 z 取 exp、log(0)，或除以零）"
    ),
    "diag.shape": "你的 {what} 形状是 {got}，应为 {want}",
    "diag.no_pattern": (
        "你的 {what} 与参照值最多相差 {err:.3g}（是其最大元素的 {rel:.2g}），"
        "crosscheck 认不出其中的规律；请逐个元素与参照值比较"
    ),
    # -- check_backprop 的其他句子
    "check.what": (
        "检查 fn(weights, X, Y) 时：weights 为 {container}，形状 {shapes}，"
        "X {X}，Y {Y}，采用 {convention} 约定（如果你的代码中的排布不同，请传入 "
        "convention= 或相应的覆盖参数）"
    ),
    "check.fn_raised": "fn 抛出了 {error}：{exc}",
    "check.fn_raised_traceback": "你的函数抛出了异常：\n{traceback}",
    "check.unreadable": "fn 的返回值无法读取：{exc}",
    "check.returned": "fn 返回了 {type}：{exc}",
    "check.all_match": "你返回的每个量都与 refnet 的一致（{n} 行：{names}）",
    "check.later_rows": "它之后的行也不一致（{names}）：先修正第一个，再检查一次",
    "check.kink_pinned": (
        "注：{entries} 与折点（relu、leaky_relu）的距离在舍入误差以内，你的代码的"
        "舍入把它们放到了 0 的另一侧；参照值已在你那一侧求值（第 7 章，“多接近才算"
        "足够接近”）。relu'(0) = 1（z >= 0）在那里看起来也一样：换一个 X 再检查，"
        "以排除这种可能"
    ),
    "check.kink_near": (
        "注：{entries} 与折点（relu、leaky_relu）的距离在舍入误差以内，换一种求和顺序"
        "就可能落到另一侧：如果只有该层以下的行不一致，且相差 O(1)，原因就在这里；"
        "换一个 X 试试"
    ),
    "check.kink_more": " 等另外 {k} 处",
    "check.dtype_float32": (
        "在 float32 计算中混入了 float64 的常数或数组，例如没有写 dtype= 的 "
        "np.zeros(shape) 或 np.eye(k)"
    ),
    "check.dtype_float64": "在 float64 计算中某处转换成了 float32 或更低的精度",
    "check.dtype": (
        "你的 {name} 的 dtype 是 {got}，应为 {want}：你的代码中有地方改变了 dtype"
        "（{how}）；"
        "请让每个数组都保持 {dtype}"
    ),
    "check.no_diagnosis": "与参照值不同（无法诊断：{error}）",
    "check.in_place": (
        "你的函数原地修改了 {what}：梯度必须用给定的权重计算，先算出全部梯度，"
        "再做任何更新"
    ),
    "check.in_place_weights": "权重 {key}",
    "check.reference_ok": (
        "参照值本身：在这个网络和批量上 refnet 与 {who} 一致（{n} 个量，最大 "
        "err/tol {worst:.2g}）"
    ),
    "check.reference_disagrees": (
        "参照值本身与 {who} 不一致（首个不一致出现在 {first}）：不要相信这次检查；"
        "请报告这个问题\n{table}"
    ),
    "check.loss_not_number": "你的损失是 {type}，应为一个数",
    "check.diagnosis_head": "诊断：",
    # -- fn 的返回值
    "returned.grads_keys": "grads：字典需要键 {want}（或 d{first}, ...），实际为 {got}",
    "returned.count": "应返回 {n} 个梯度 [{names}]，实际为 {got}",
    "returned.items": "{n} 项",
    "returned.pair_reversed": (
        "你返回的是 (grads, loss)；CS231n 的顺序是 (loss, grads)：已按 "
        "(grads, loss) 读取"
    ),
    "returned.not_gradients": "应为列表 [dW1, db1, ...] 或梯度字典，实际为 {type}",
    "returned.deltas": "deltas：应为 {L} 个数组的列表（第一层在前）",
    "returned.ignored": (
        "已忽略 crosscheck 无法对应的内容：{keys}（它比较 loss、output、dA<l>、"
        "dZ<l> 或 deltas、各梯度以及 dX）"
    ),
    "returned.not_array": "你的 {name} 不是数组（{exc}）",
    "returned.dtype": "你的 {name} 的 dtype 是 {dtype}，应为实数",
    "returned.hint_db": "：每个样本一行，没有对批量求和（BP3 对批量求 delta 的和）",
    "returned.hint_dW": (
        "：转置了；按行排布时 dW = a[l-1].T @ delta[l]（按列排布时为 "
        "delta[l] @ a[l-1].T），如果你的 W 就是这样存储的，请传入 "
        "weights_layout='{other}'"
    ),
    "returned.hint_transpose": "：转置了（行与列弄反了？见 samples 覆盖参数）",
    "returned.shape": (
        "你的 {name} 形状是 {got}；在 {convention} 约定下应为 {want}{hint}"
    ),
    # -- 表格下方的结论行
    "report.pass": "PASS：{n} 个量全部一致",
    "report.crash": (
        "CRASH：{name}：它的进程已终止，因此没有与它做任何比较（原因见该行的备注）"
    ),
    "report.nonfinite": (
        "NONFINITE：双方从 {name} 起都含有 NaN 或 inf；那里没有做任何比较"
        "（输入或权重溢出？）"
    ),
    "list.and": " 和 ",
    "list.comma": "、",
    "report.fail": "FAIL：首个不一致出现在 {name}",
    "report.odd_one_out": "唯一不一致的一方：{parties}",
    "report.odd_party": "{party}（{n} 行中有 {k} 行，首个为 {first}）",
    "report.note": "注：{note}",
    # -- crosscheck mine
    "mine.mismatch_at": "MISMATCH 首个不一致出现在 {name}：{sentence}",
    "mine.count": "{n} 个中有 {ok} 个一致",
    "mine.reference_unchecked": "无法检查参照值本身：{cause}",
    # -- crosscheck grade
    "grade.not_returned": "没有返回 {quantity}",
    "grade.after_first": "在首个不一致的行 {first} 之后：{sentence}",
    "grade.rubric_warning": (
        "每个学生都是在 {first} 处首先失分：请先检查评分标准（layout、activations、"
        "loss、convention），再检查学生的代码"
    ),
    "grade.student_count": "{n} 名学生：{parts}",
    "grade.students_count": "{n} 名学生：{parts}",
    "grade.full_mark": "{n} 人满分",
    "grade.full_marks": "{n} 人满分",
    "grade.partial": "{n} 人部分得分",
    "grade.no_points": "{n} 人未得分",
    "grade.error": "{n} 人出错",
    "grade.errors": "{n} 人出错",
    "grade.list_separator": "，",
    "grade.mean": "；平均 {mean:.1f}/{top}",
    "grade.warning": "警告：{text}",
    "grade.not_graded": "未评分：{names}",
    "grade.error_line": "错误：{error}",
    "grade.lost": "-{points} {names}：{why}",
    "grade.all_match": "每个量都一致（{earned}）",
    "grade.points": "{score} 分：{status}",
    "grade.first_failing_row": "首个不一致的行：{where}",
    # -- crosscheck grade 的 report.html
    "html.student": "{n} 名学生",
    "html.students": "{n} 名学生",
    "html.bar": "{who}得分在 {range}",
    "html.x_axis": "得分（满分 {max}）",
    "html.y_axis": "学生人数",
    "html.histogram": "得分分布直方图",
    "html.no_diagnosis": "没有诊断：每个学生都一致。",
    "html.hidden": "隐藏",
    "html.practice": "练习",
    "html.drawn": "每次运行时抽取",
    "html.cases": "用例",
    "html.case_count": "{n} 个用例（{practice} 个练习，{hidden} 个隐藏）",
    "html.function": "函数 {name}",
    "html.convention": "约定 {name}",
    "html.workers": "，{n} 个并行进程",
    "html.kept": "（{n} 个沿用上次运行的结果）",
    "html.graded_in": "评分用时 {seconds:.1f} 秒{earlier}{workers}",
    "html.check_first": "发布这些成绩之前请先检查：",
    "html.scores": "得分",
    "html.common": "最常见的诊断",
    "html.students_heading": "学生",
    "html.characters": "{n} 个字符",
    "html.characters_cut": "{n} 个字符，中间已截去",
    "html.not_shown": "[……此处有 {n} 个字符未显示；学生的 JSON 结果保存了捕获到的全部内容……]",
    "html.hidden_mark": "（隐藏）",
    "html.lost": "失分：",
    "html.earned": "得分项：{text}",
    "html.sandbox": "沙箱：{text}",
    "html.first_failing_row": "首个不一致的行：",
    "html.error": "错误：",
    "html.notes": "备注：",
    "html.back": "返回全班概览",
}
