/* Rampart: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function boxes(formId) {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][name="ids"][form="' + formId + '"]')
    );
  }

  function updateSelection(formId) {
    var all = boxes(formId);
    var chosen = all.filter(function (box) { return box.checked; }).length;
    document.querySelectorAll('[data-selected-count="' + formId + '"]').forEach(function (out) {
      out.textContent = chosen === 1 ? "1 finding selected" : chosen + " findings selected";
    });
    document.querySelectorAll('input[data-select-all="' + formId + '"]').forEach(function (master) {
      master.checked = all.length > 0 && chosen === all.length;
      master.indeterminate = chosen > 0 && chosen < all.length;
    });
  }

  // Only the fields an action needs: reason for risk/false positive, a date for risk, a person for assign.
  function showFieldsFor(select) {
    var form = select.form;
    if (!form) { return; }
    form.querySelectorAll("[data-show-for]").forEach(function (field) {
      var wanted = field.getAttribute("data-show-for").split(" ");
      field.hidden = wanted.indexOf(select.value) === -1;
    });
  }

  // Cluster form: the connection fields of the chosen mode; "Test connection" for live modes only.
  function showMode(select) {
    var mode = select.value;
    document.querySelectorAll("[data-modes]").forEach(function (part) {
      part.hidden = part.getAttribute("data-modes").split(" ").indexOf(mode) === -1;
    });
  }

  // A phone shows the sections in one row that scrolls: fade its end while more is hidden there.
  function hintMoreSections(nav) {
    nav.classList.toggle("more", nav.scrollLeft + nav.clientWidth < nav.scrollWidth - 4);
  }

  function enhance(root) {
    // A line chart wider than a phone scrolls inside its figure: start at its newest end.
    root.querySelectorAll(".chart-figure").forEach(function (figure) {
      figure.scrollLeft = figure.scrollWidth;
    });
    root.querySelectorAll("select[data-action-switch]").forEach(showFieldsFor);
    root.querySelectorAll("select[data-mode-switch]").forEach(showMode);
    root.querySelectorAll("input[data-select-all]").forEach(function (master) {
      updateSelection(master.getAttribute("data-select-all"));
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("input[data-select-all]")) {
      var formId = target.getAttribute("data-select-all");
      boxes(formId).forEach(function (box) { box.checked = target.checked; });
      updateSelection(formId);
    } else if (target.matches('input[type="checkbox"][name="ids"][form]')) {
      updateSelection(target.getAttribute("form"));
    } else if (target.matches("select[data-action-switch]")) {
      showFieldsFor(target);
    } else if (target.matches("select[data-mode-switch]")) {
      showMode(target);
    }
  });

  // Filters: leave the empty fields out of the request, so that the URL a filter change pushes
  // (the one people share) says what is filtered and nothing else.
  document.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    if (!data || event.detail.verb !== "get") { return; }
    var keys = [];
    data.forEach(function (value, key) { if (keys.indexOf(key) === -1) { keys.push(key); } });
    keys.forEach(function (key) {
      var kept = data.getAll(key).filter(function (value) { return value !== ""; });
      data.delete(key);
      kept.forEach(function (value) { data.append(key, value); });
    });
  });

  // Irreversible buttons ask first (revoking a token or an exception). A form that takes long
  // (an upload scanned in the same request) says so and cannot be sent twice.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { event.preventDefault(); return; }
    var busy = form.getAttribute && form.getAttribute("data-busy");
    if (busy && !event.defaultPrevented) {
      form.querySelectorAll('button[type="submit"]').forEach(function (button) {
        button.disabled = true;
        button.textContent = busy;
      });
    }
  });

  // Findings filters on a phone: "All filters" shows the fields beyond the search, or hides them.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("button[data-toggle-filters]");
    if (!toggle) { return; }
    var open = toggle.form.classList.toggle("show-all");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // A secret shown once: a button copies it, and says so (the field stays selectable by hand).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) { return; }
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) { return; }
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
    } else {
      field.select();
      if (document.execCommand("copy")) { done(); }
    }
  });

  // Focus survives a swap. The button pressed is often replaced along with its row or card, and
  // focus would fall back to the top of the page: keyboard and screen-reader users continue from
  // what came back instead, its message first (a row's "Finding acknowledged.").
  var focusWasIn = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.target;
    focusWasIn = target && target.id && target.contains(document.activeElement) ? target.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    var id = focusWasIn;
    focusWasIn = null;
    var active = document.activeElement;
    if (!id || (active && active !== document.body && document.contains(active))) { return; }
    var swapped = document.getElementById(id);
    if (!swapped) { return; }
    var place = swapped.querySelector('[role="status"], [role="alert"]') || swapped;
    if (!place.hasAttribute("tabindex")) { place.setAttribute("tabindex", "-1"); }
    place.focus();
  });

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    var nav = document.querySelector(".topbar nav");
    if (!nav) { return; }
    var current = nav.querySelector('[aria-current="page"]');
    if (current) { nav.scrollLeft = Math.max(0, current.offsetLeft - nav.clientWidth / 2); }
    hintMoreSections(nav);
    nav.addEventListener("scroll", function () { hintMoreSections(nav); }, { passive: true });
    window.addEventListener("resize", function () { hintMoreSections(nav); });
  });
  document.addEventListener("htmx:afterSettle", function (event) { enhance(event.target); });
})();
