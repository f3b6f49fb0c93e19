// Mark the code blocks that are tables (a line that is a rule of dashes under a header,
// as crosscheck prints them): refnet.css lets them scroll with their columns aligned,
// and wraps every other block's long lines.
function refnetMarkTables(root) {
  root.querySelectorAll(".highlight").forEach(function (block) {
    var code = block.querySelector("pre > code");
    if (code && /^-{20,}\s*$/m.test(code.textContent)) block.classList.add("refnet-table");
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(function () { refnetMarkTables(document); });
} else {
  document.addEventListener("DOMContentLoaded", function () { refnetMarkTables(document); });
}
