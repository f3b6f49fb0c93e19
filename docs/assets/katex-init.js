// Typeset the math that pymdownx.arithmatex (generic mode) leaves in
// <span class="arithmatex">\(...\)</span> and <div class="arithmatex">\[...\]</div>,
// with the KaTeX files vendored next to this script (no network).
function refnetTypeset(root) {
  root.querySelectorAll(".arithmatex").forEach(function (el) {
    var tex = el.textContent.trim();
    var display = tex.startsWith("\\[");
    tex = tex.replace(/^\\[\[(]/, "").replace(/\\[\])]$/, "");
    katex.render(tex, el, { displayMode: display, throwOnError: false });
    // refnet.css centres a tagged equation with an invisible copy of its tag.
    var tag = el.querySelector(".katex-html > .tag");
    if (tag) tag.parentNode.setAttribute("data-tag", tag.textContent);
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(function () { refnetTypeset(document); });
} else {
  document.addEventListener("DOMContentLoaded", function () { refnetTypeset(document); });
}
