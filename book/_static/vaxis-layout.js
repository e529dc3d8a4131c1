// vaxis: measure what would scroll sideways in the page column (the book's tables, e.g. the scoreboard, and the rule
// blocks) and record it on <body> for the site check (vaxis.publish.sitecheck reads data-vaxis-*). Changes nothing.
(function () {
  function outsideOutputs(el) { return !el.closest(".cell_output"); }
  function check() {
    var column = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
    var right = column.getBoundingClientRect().right + 1;
    var bad = [];
    var tables = Array.prototype.filter.call(document.querySelectorAll("main table:not(.dataframe)"), outsideOutputs);
    var rules = document.querySelectorAll("main div.vaxis-rule");
    tables.forEach(function (t, i) {
      var box = t.closest(".pst-scrollable-table-container") || t.parentElement;
      var w = Math.round(t.getBoundingClientRect().width);
      if (t.getBoundingClientRect().right > right || box.scrollWidth > box.clientWidth + 1) {
        bad.push("table " + (i + 1) + " (" + w + " px wide, column ends at " + Math.round(right) + " px)");
      }
    });
    Array.prototype.forEach.call(rules, function (r, i) {
      var box = r.closest(".output") || r;
      if (r.getBoundingClientRect().right > right || r.scrollWidth > r.clientWidth + 1 ||
          box.scrollWidth > box.clientWidth + 1) {
        bad.push("rule block " + (i + 1) + " (" + r.scrollWidth + " px of content in " + r.clientWidth + " px)");
      }
    });
    document.body.setAttribute("data-vaxis-layout", tables.length + " tables, " + rules.length + " rules");
    document.body.setAttribute("data-vaxis-rules", String(rules.length));
    document.body.setAttribute("data-vaxis-overflow", bad.join("; "));
  }
  window.addEventListener("load", function () { check(); setTimeout(check, 1500); });
})();
