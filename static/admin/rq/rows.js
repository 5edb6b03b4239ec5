// Job detail: a result row opens its result (django-rq used inline onclick handlers; strict CSP).
document.addEventListener("click", function (event) {
  if (event.target.closest("a")) { return; }
  var row = event.target.closest("tr[data-href]");
  if (row) { window.location = row.getAttribute("data-href"); }
});
