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

/* Inline edits in lists send the version of the row they were read at (optimistic locking is
   required); after a save the row's cells carry the next version. Runs after Flask-Admin's
   form.js has set the cells up. */
window.addEventListener("load", function () {
  if (!window.jQuery || !jQuery.fn.editable) { return; }
  jQuery("[data-role^='x-editable'][data-version]").each(function () {
    var el = jQuery(this), editable = el.data("editable");
    if (!editable) { return; }
    var base = editable.options.params;
    el.editable("option", "params", function (params) {
      var out = typeof base === "function" ? base.call(this, params) : jQuery.extend({}, params);
      out.version = el.attr("data-version");
      return out;
    });
    el.on("save", function () {
      jQuery("[data-role^='x-editable'][data-pk='" + el.attr("data-pk") + "'][data-version]")
        .each(function () {
          this.setAttribute("data-version", String(Number(this.getAttribute("data-version")) + 1));
        });
    });
  });
});
