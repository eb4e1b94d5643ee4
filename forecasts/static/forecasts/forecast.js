// Progressive enhancement for the forecast form: a slider and a live percentage that stay in
// step with the number field. Without JavaScript the number field alone does the job.
(function () {
  "use strict";
  function enhance(root) {
    const input = root.querySelector("[data-probability-input]");
    const slider = root.querySelector("[data-probability-slider]");
    const readout = root.querySelector("[data-probability-readout]");
    if (!input || !slider || !readout || input.dataset.enhanced) return;
    input.dataset.enhanced = "1";

    function show(value) {
      const p = Number.parseFloat(value);
      readout.textContent = Number.isFinite(p) && p > 0 && p < 1 ? (p * 100).toFixed(1) + "%" : "—";
    }

    slider.hidden = false;
    const start = Number.parseFloat(input.value);
    if (Number.isFinite(start) && start > 0 && start < 1) {
      slider.value = String(Math.round(start * 1000));
    } else if (input.value === "" && !document.getElementById("probability-errors")) {
      input.value = "0.5";
    }
    show(input.value);

    slider.addEventListener("input", function () {
      input.value = (Number(slider.value) / 1000).toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
      show(input.value);
    });
    input.addEventListener("input", function () {
      const p = Number.parseFloat(input.value);
      if (Number.isFinite(p) && p > 0 && p < 1) slider.value = String(Math.round(p * 1000));
      show(input.value);
    });
  }

  enhance(document);
  // A form swapped in by htmx (the answer to a forecast) is enhanced in its turn.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
