// Progressive enhancement for the multiple-choice forecast form: a slider and a live
// percentage per option, the running sum, and "Normalise", which rescales the numbers to add
// up to 1 only when asked: the server refuses a sum off 1 rather than rescaling it. Without
// JavaScript the number fields alone do the job.
(function () {
  "use strict";
  function enhance(root) {
    const form = root.querySelector("[data-options-form]");
    if (!form || form.dataset.enhanced) return;
    form.dataset.enhanced = "1";
    const rows = Array.from(form.querySelectorAll("[data-option-row]")).map(function (row) {
      return {
        input: row.querySelector("[data-option-input]"),
        slider: row.querySelector("[data-option-slider]"),
        readout: row.querySelector("[data-option-readout]"),
      };
    });
    const sumLine = form.querySelector("[data-sum-line]");
    const sum = form.querySelector("[data-probability-sum]");
    const off = form.querySelector("[data-sum-off]");
    const normalise = form.querySelector("[data-normalise]");
    if (!rows.length || !sumLine || !sum || !off || !normalise) return;
    const STEPS = 1000; // the sliders' and the numbers' grid: 0.001
    // The server's tolerance on the sum.
    const TOLERANCE = 1e-6;

    function value(row) {
      const p = Number.parseFloat(row.input.value);
      return Number.isFinite(p) ? p : NaN;
    }

    function decimal(steps) {
      return (steps / STEPS).toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
    }

    function percent(p) {
      return (p * 100).toFixed(1) + "%";
    }

    function show() {
      let added = 0;
      let complete = true;
      rows.forEach(function (row) {
        const p = value(row);
        const inRange = p > 0 && p < 1;
        row.readout.textContent = inRange ? percent(p) : "—";
        if (inRange) row.slider.value = String(Math.round(p * STEPS));
        if (Number.isFinite(p)) added += p;
        else complete = false;
      });
      sum.textContent = complete ? percent(added) : "—";
      const wrong = !complete || Math.abs(added - 1) > TOLERANCE;
      off.hidden = !wrong;
      sumLine.classList.toggle("off", wrong);
    }

    function total(values) {
      return values.reduce(function (a, b) { return a + b; }, 0);
    }

    // Whole thousandths in proportion to ``weights``, adding up to STEPS, at least one each:
    // rounded down, then the largest remainders get what is left (so a vector already adding
    // up to 1 on the grid stays as it is), and an option raised to the minimum is paid for by
    // the largest.
    function apportion(weights) {
      const whole = total(weights);
      const exact = weights.map(function (w) {
        // The nudge keeps 0.3 / 0.9999999999999999 from rounding down to 299.
        return (whole > 0 ? (w / whole) * STEPS : STEPS / weights.length) + 1e-9;
      });
      const steps = exact.map(function (x) { return Math.max(1, Math.floor(x)); });
      const order = exact
        .map(function (x, i) { return [x - Math.floor(x), i]; })
        .sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
      let left = STEPS - total(steps);
      for (let k = 0; left > 0; k = (k + 1) % order.length, left -= 1) steps[order[k][1]] += 1;
      while (left < 0) {
        steps[steps.indexOf(Math.max.apply(null, steps))] -= 1;
        left += 1;
      }
      return steps;
    }

    function fill(steps) {
      rows.forEach(function (row, i) { row.input.value = decimal(steps[i]); });
      show();
    }

    rows.forEach(function (row) {
      row.slider.hidden = false;
      row.slider.addEventListener("input", function () {
        row.input.value = decimal(Number(row.slider.value));
        show();
      });
      row.input.addEventListener("input", show);
    });
    normalise.addEventListener("click", function () {
      fill(apportion(rows.map(function (row) {
        const p = value(row);
        return p > 0 ? p : 0;
      })));
    });
    sumLine.hidden = false;
    const empty = rows.every(function (row) { return row.input.value === ""; });
    if (empty && !document.getElementById("probabilities-errors")) {
      fill(apportion(rows.map(function () { return 1; })));
    } else {
      show();
    }
  }

  enhance(document);
  // A form swapped in by htmx (the answer to a forecast) is enhanced in its turn.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
