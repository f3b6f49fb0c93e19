// Typeset the math that pymdownx.arithmatex (generic mode) leaves in
// <span class="arithmatex">\(...\)</span> and <div class="arithmatex">\[...\]</div>,
// with the KaTeX files vendored next to this script (no network).
function refnetTypeset(root) {
  root.querySelectorAll(".arithmatex").forEach(function (el) {
    var tex = el.textContent.trim();
    var display = tex.startsWith("\\[");
    tex = tex.replace(/^\\[\[(]/, "").replace(/\\[\])]$/, "");
    katex.render(tex, el, { displayMode: display, throwOnError: false });
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(function () { refnetTypeset(document); });
} else {
  document.addEventListener("DOMContentLoaded", function () { refnetTypeset(document); });
}
