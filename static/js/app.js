/* HockeyHub: small behaviours the strict CSP allows (no inline scripts, no eval). */
(function () {
  "use strict";

  var TOAST_MS = 8000;
  // Styles that only make sense with this script (e.g. folding the repeat fields) hang off html.js.
  document.documentElement.classList.add("js");

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
      openDialog(dialog, evt.detail.requestConfig && evt.detail.requestConfig.elt);
    }
  });

  // Keyboard use of modal dialogs: remember what opened one, keep Tab inside it, and give focus back
  // to the opener when it closes (Escape, the close button or a submit) — or to the same operation's
  // button if the opener was re-rendered meanwhile.
  var FOCUSABLE = "a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), " +
    "select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex='-1'])";
  function openDialog(dialog, opener) {
    var active = document.activeElement;
    dialog.hhOpener = opener && opener !== document.body ? opener : active;
    dialog.hhOpenerOp = dialog.hhOpener && dialog.hhOpener.getAttribute &&
      dialog.hhOpener.getAttribute("data-op");
    dialog.showModal();
    var first = dialog.querySelector("[autofocus]") || focusables(dialog)[0];
    if (first) first.focus();
  }
  function focusables(root) {
    return Array.prototype.filter.call(root.querySelectorAll(FOCUSABLE), function (el) {
      return el.offsetParent !== null || el === document.activeElement;
    });
  }
  document.addEventListener("close", function (evt) {
    var dialog = evt.target;
    if (!dialog || !dialog.matches || !dialog.matches("dialog")) return;
    var back = dialog.hhOpener;
    if (!back || !back.isConnected) {
      back = dialog.hhOpenerOp ? document.querySelector('[data-op="' + dialog.hhOpenerOp + '"]') : null;
    }
    dialog.hhOpener = null;
    if (back && back.focus) back.focus();
  }, true);
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Tab") return;
    var dialog = document.querySelector("dialog[open]");
    if (!dialog) return;
    var items = focusables(dialog);
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    var inside = dialog.contains(document.activeElement);
    if (evt.shiftKey && (document.activeElement === first || !inside)) {
      evt.preventDefault();
      last.focus();
    } else if (!evt.shiftKey && (document.activeElement === last || !inside)) {
      evt.preventDefault();
      first.focus();
    }
  });

  // Messages rendered by Django fade after a while, like toasts.
  document.addEventListener("DOMContentLoaded", function () {
    var list = document.getElementById("messages");
    if (list) window.setTimeout(function () { list.classList.add("messages--faded"); }, TOAST_MS);
  });

  // Workouts list: shift-click selects a range of rows; the header box selects the page. The
  // selection form posts once on the resulting "change" (htmx, hx-trigger="change").
  // Shift+Space on a row's box does the same as shift-click (the click that Space fires may not
  // carry the modifier, so Shift is tracked from the key events too).
  var lastRow = null;
  var shiftDown = false;
  document.addEventListener("keydown", function (evt) { shiftDown = evt.shiftKey; }, true);
  document.addEventListener("keyup", function (evt) { shiftDown = evt.shiftKey; }, true);
  window.addEventListener("blur", function () { shiftDown = false; });
  document.addEventListener("click", function (evt) {
    var box = evt.target;
    if (!box || !box.matches) return;
    if (box.matches("input[data-select-row]")) {
      var boxes = Array.prototype.slice.call(
        box.closest("table").querySelectorAll("input[data-select-row]"));
      var shift = evt.shiftKey || (evt.detail === 0 && shiftDown);
      if (shift && lastRow && boxes.indexOf(lastRow) !== -1) {
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

  // Schedule: the repeat fields show only once "Repeat" is something other than "Does not repeat".
  document.addEventListener("change", function (evt) {
    var el = evt.target;
    if (!el || !el.matches || !el.matches("select[name=frequency]") || !el.form) return;
    var group = el.form.querySelector("[data-recurrence]");
    if (group) group.toggleAttribute("data-off", !el.value);
  });

  // A new dry run scrolls into view inside the dialog (focus stays where it was; the summary is
  // announced by the dialog's live region, filled out of band by the same response).
  document.addEventListener("htmx:afterSettle", function () {
    var dry = document.querySelector("#op-form [data-testid=dry-run]");
    if (!dry || dry.hhShown) return;
    dry.hhShown = true;
    var calm = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    dry.scrollIntoView({block: "start", behavior: calm ? "auto" : "smooth"});
  });

  // The notices poll names the notices already on the page (shown=…): seeing one does not mark it
  // seen on the server, so without this the next poll would add it again.
  document.addEventListener("htmx:configRequest", function (evt) {
    var area = evt.detail.elt;
    if (!area || area.id !== "notifications") return;
    var ids = Array.prototype.map.call(area.querySelectorAll("[data-notice]"), function (el) {
      return el.getAttribute("data-notice");
    });
    if (ids.length) evt.detail.parameters.shown = ids;
  });

  // Notices (batch finished) are dismissed by their own small form (htmx posts it and removes the
  // notice; without JavaScript it posts and comes back), so a notice counts as seen only then.
})();
