// django-rq job lists: "select all" and row highlighting for the action checkboxes. The form itself
// works without script. (Replaces django-rq's inline jQuery call: strict CSP.)
document.addEventListener("DOMContentLoaded", function () {
  var toggle = document.getElementById("action-toggle");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input.action-select"));
  function mark(box) { box.closest("tr").classList.toggle("selected", box.checked); }
  boxes.forEach(function (box) { box.addEventListener("change", function () { mark(box); }); });
  if (toggle) {
    toggle.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = toggle.checked; mark(box); });
    });
  }
});
