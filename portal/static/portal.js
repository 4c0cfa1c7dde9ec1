/* Label each list cell with its column header (the phone layout shows it before the value). */
(function () {
  document.querySelectorAll("table.model-list").forEach(function (table) {
    var labels = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.replace(/\s+/g, " ").trim();
    });
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (td, i) {
        if (!td.hasAttribute("data-label")) { td.setAttribute("data-label", labels[i] || ""); }
      });
    });
  });
})();
