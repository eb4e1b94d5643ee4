// Progressive enhancement for the trade form: a live preview of the cost and the new price as
// the user types, from the server's own quote (the same pricing as the trade). Without
// JavaScript the Preview button renders the same sentence on the page.
(function () {
  "use strict";
  const form = document.querySelector("form.trade-form[data-quote-url]");
  if (!form) return;
  const output = form.querySelector("[data-quote]");
  const warning = form.querySelector("[data-quote-warning]");
  const size = form.querySelector("[data-trade-size]");
  let timer = null;
  let latest = 0;

  function chosen(name) {
    const input = form.querySelector("input[name=" + name + "]:checked");
    return input ? input.value : "";
  }

  // A sale is given in shares: the other two sizes are offered for buying only.
  function syncSizeBy() {
    const selling = chosen("action") === "sell";
    form.querySelectorAll("[data-size-by]").forEach(function (label) {
      const input = label.querySelector("input");
      const onlyBuy = label.dataset.sizeBy !== "shares";
      input.disabled = selling && onlyBuy;
      label.classList.toggle("disabled", input.disabled);
      if (input.disabled && input.checked) {
        form.querySelector("[data-size-by=shares] input").checked = true;
      }
    });
  }

  async function refresh() {
    const ticket = ++latest;
    if (size.value.trim() === "") {
      output.textContent = "";
      warning.textContent = "";
      return;
    }
    const params = new URLSearchParams({
      outcome: chosen("outcome"),
      action: chosen("action"),
      size_by: chosen("size_by"),
      size: size.value,
    });
    let body;
    try {
      const response = await fetch(form.dataset.quoteUrl + "?" + params.toString(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      body = await response.json();
    } catch (error) {
      return; // the Preview button still works
    }
    if (ticket !== latest) return; // a newer request answers instead
    output.textContent = body.ok ? body.summary : body.message;
    output.classList.toggle("invalid", !body.ok);
    warning.textContent = body.ok ? body.warning : "";
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 250);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", function () {
    syncSizeBy();
    schedule();
  });
  syncSizeBy();
  if (size.value.trim() !== "" && output.textContent.trim() === "") schedule();
})();
