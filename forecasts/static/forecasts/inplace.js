// Forms that answer in place with htmx (marked data-inplace): a refusal comes back with status
// 400 and is swapped in all the same, so its errors stand beside the fields; then the first
// error is scrolled into view and its field focused. Without JavaScript the forms post and
// the page comes back whole.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (event) {
    const from = event.detail.requestConfig.elt; // the form that asked
    if (event.detail.xhr.status === 400 && from.closest && from.closest("[data-inplace]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Asking before a form with data-confirm-choice sends the choice it names (the input's
  // label): "Resolve as “NO”?".
  document.addEventListener("htmx:confirm", function (event) {
    const form = event.target;
    const field = form.getAttribute && form.getAttribute("data-confirm-choice");
    if (!field) return;
    const checked = form.querySelector("input[name=" + field + "]:checked");
    if (!checked) return; // the server names the missing choice
    const label = checked.closest("label");
    const text = label ? label.textContent.trim() : checked.value;
    event.preventDefault();
    if (window.confirm(form.getAttribute("data-confirm-question").replace("%s", text))) {
      event.detail.issueRequest(true);
    }
  });

  // After a panel marked data-inplace-answer is swapped in: its first error in view, and the
  // field it names (its id is "<field name>-errors") focused; else what was done in view.
  document.addEventListener("htmx:afterSettle", function (event) {
    const swapped = event.target;
    if (!swapped.matches || !swapped.matches("[data-inplace-answer]")) return;
    const error = swapped.querySelector(".errors");
    if (error) {
      error.scrollIntoView({ block: "center" });
      const name = error.id ? error.id.replace(/-errors$/, "") : "";
      const field = name ? swapped.querySelector("[name='" + name + "']") : null;
      if (field) field.focus({ preventScroll: true });
      return;
    }
    const notice = swapped.querySelector("[data-notice]");
    if (notice) notice.scrollIntoView({ block: "nearest" });
  });
})();
