// Progressive enhancement for the trade form of a market panel: a live preview of the cost and
// the new price as the user types, from the server's own quote (the same pricing as the trade).
// Without JavaScript the Preview button renders the same sentence on the page. With htmx, a
// preview or a trade answers with the panel, swapped in place (see markets/views.py): each new
// panel's form is set up here, and what it says (the refusal, or what the trade did) is brought
// into view.
(function () {
  "use strict";

  function setUp(form) {
    if (form.dataset.tradeReady) return;
    form.dataset.tradeReady = "1";
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
  }

  function setUpWithin(root) {
    if (root.matches && root.matches("form.trade-form[data-quote-url]")) setUp(root);
    root.querySelectorAll("form.trade-form[data-quote-url]").forEach(setUp);
  }

  setUpWithin(document);

  // A panel swapped in by htmx: set its form up, and show what it says.
  document.addEventListener("htmx:load", function (event) {
    const panel = event.detail.elt;
    if (!(panel instanceof Element)) return;
    setUpWithin(panel);
    if (!panel.classList.contains("market-panel")) return;
    const said = panel.querySelector("[data-panel-said]");
    if (said) said.scrollIntoView({ block: "nearest" });
  });

  // A refused trade answers 400 with the panel saying why, beside the field: swap it in as
  // any answer (htmx leaves 4xx answers out by default).
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (
      event.detail.xhr.status === 400 &&
      target instanceof Element &&
      target.classList.contains("market-panel")
    ) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
