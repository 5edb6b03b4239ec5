/* HockeyHub: small behaviours the strict CSP allows (no inline scripts, no eval). */
(function () {
  "use strict";

  var TOAST_MS = 8000;

  function toast(message, kind) {
    var area = document.getElementById("toasts");
    if (!area) return;
    var item = document.createElement("div");
    item.className = "toast toast--" + (kind || "error");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    var text = document.createElement("span");
    text.className = "toast__text";
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast__close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    close.addEventListener("click", function () { item.remove(); });
    item.appendChild(text);
    item.appendChild(close);
    area.appendChild(item);
    window.setTimeout(function () { item.remove(); }, TOAST_MS);
  }
  window.hhToast = toast;

  // Pull a readable message out of an error response: JSON {message|error|detail}, short text, or status.
  function errorMessage(xhr) {
    var fallback = "Request failed (" + xhr.status + (xhr.statusText ? " " + xhr.statusText : "") + ").";
    var body = xhr.responseText || "";
    var type = xhr.getResponseHeader("Content-Type") || "";
    if (type.indexOf("application/json") !== -1) {
      try {
        var data = JSON.parse(body);
        var err = data.error || data;
        if (typeof err === "string") return err;
        return err.message || data.detail || fallback;
      } catch (e) { return fallback; }
    }
    if (type.indexOf("text/plain") !== -1 && body && body.length < 300) return body;
    if (xhr.status === 403) return "You are not allowed to do that.";
    if (xhr.status === 404) return "Not found — it may have been removed.";
    if (xhr.status >= 500) return "Something went wrong on the server. Please try again.";
    return fallback;
  }

  document.addEventListener("htmx:responseError", function (evt) {
    toast(errorMessage(evt.detail.xhr), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast("Could not reach the server — check your connection and try again.", "error");
  });
  document.addEventListener("htmx:timeout", function () {
    toast("The server took too long to answer.", "error");
  });

  // Server-sent toasts: HX-Trigger: {"toast": {"message": "...", "kind": "success"}}
  document.addEventListener("toast", function (evt) {
    var d = evt.detail || {};
    toast(d.message || d.value || "", d.kind || "info");
  });

  // <select data-autosubmit> submits its form on change (the team switcher).
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (el && el.matches && el.matches("[data-autosubmit]") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    }
  });

  // Dialogs: [data-dialog-open="id"] opens, [data-dialog-close] closes; content swapped into a
  // <dialog data-open-on-swap> opens it as a modal.
  document.addEventListener("click", function (evt) {
    var opener = evt.target.closest && evt.target.closest("[data-dialog-open]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (dialog && dialog.showModal && !dialog.open) dialog.showModal();
      return;
    }
    var closer = evt.target.closest && evt.target.closest("[data-dialog-close]");
    if (closer) {
      var parent = closer.closest("dialog");
      if (parent) parent.close();
    }
  });
  document.addEventListener("htmx:afterSwap", function (evt) {
    var target = evt.detail.target;
    var dialog = target && (target.matches("dialog") ? target : target.closest("dialog"));
    if (dialog && dialog.hasAttribute("data-open-on-swap") && !dialog.open && dialog.showModal) {
      dialog.showModal();
    }
  });

  // Messages rendered by Django fade after a while, like toasts.
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("messages");
    if (list) window.setTimeout(function () { list.classList.add("messages--faded"); }, TOAST_MS);
  });

  // Workouts list: shift-click selects a range of rows; the header box selects the page. The
  // selection form posts once on the resulting "change" (htmx, hx-trigger="change").
  var lastRow = null;
  document.addEventListener("click", function (evt) {
    var box = evt.target;
    if (!box || !box.matches) return;
    if (box.matches("input[data-select-row]")) {
      var boxes = Array.prototype.slice.call(
        box.closest("table").querySelectorAll("input[data-select-row]"));
      if (evt.shiftKey && lastRow && boxes.indexOf(lastRow) !== -1) {
        var a = boxes.indexOf(lastRow), b = boxes.indexOf(box);
        var lo = Math.min(a, b), hi = Math.max(a, b);
        for (var i = lo; i <= hi; i++) boxes[i].checked = box.checked;
      }
      lastRow = box;
      markRows(box.closest("table"));
    } else if (box.matches("input[data-select-page]")) {
      var table = box.closest("table");
      table.querySelectorAll("input[data-select-row]").forEach(function (el) { el.checked = box.checked; });
      markRows(table);
    }
  });
  function markRows(table) {
    if (!table) return;
    table.querySelectorAll("input[data-select-row]").forEach(function (el) {
      var row = el.closest("tr");
      if (row) row.classList.toggle("is-selected", el.checked);
    });
  }

  // Notices (batch finished): the close button removes the notice.
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest && evt.target.closest("[data-dismiss]");
    if (btn) {
      var notice = btn.closest("[data-notice]");
      if (notice) notice.remove();
    }
  });
})();
