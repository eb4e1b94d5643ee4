// Progressive enhancement for the numeric and date forecast form: as the quantiles change, the
// page asks the server for the distribution they make (the CDF the forecast would be, from the
// same code that stores it) and draws its density and its CDF. Without JavaScript the inputs
// alone do the job.
(function () {
  "use strict";
  function enhance(root) {
    const form = root.querySelector("[data-quantiles-form]");
    if (!form || form.dataset.enhanced || !window.fetch || !window.URLSearchParams) return;
    form.dataset.enhanced = "1";
    const figure = form.querySelector("[data-distribution-preview]");
    const svg = form.querySelector("[data-preview-chart]");
    const status = form.querySelector("[data-preview-status]");
    const inputs = Array.from(form.querySelectorAll("[data-quantile-input]"));
    const url = form.getAttribute("data-preview-url");
    if (!figure || !svg || !status || !inputs.length || !url) return;

    const NS = "http://www.w3.org/2000/svg";
    const DEBOUNCE_MS = 250;
    const STEPS = 200; // the CDF's 201 points make 200 buckets inside the range
    // The drawing's frame, in the SVG's own units (viewBox 420 x 250).
    const LEFT = 50;
    const RIGHT = 370;
    const DENSITY = { top: 14, bottom: 118 };
    const CDF = { top: 142, bottom: 208 };
    const AXIS_Y = 224;
    const BAR_WIDTH = 22;

    function x(position) {
      return LEFT + (RIGHT - LEFT) * Math.min(1, Math.max(0, position));
    }

    function element(name, attributes, text) {
      const node = document.createElementNS(NS, name);
      Object.keys(attributes).forEach(function (key) {
        node.setAttribute(key, String(attributes[key]));
      });
      if (text !== undefined) node.textContent = text;
      svg.appendChild(node);
      return node;
    }

    function percent(p) {
      return p === 0 || p >= 0.1 ? (p * 100).toFixed(0) + "%" : (p * 100).toFixed(1) + "%";
    }

    function points(xs, ys) {
      return xs.map(function (v, i) { return v.toFixed(2) + "," + ys[i].toFixed(2); }).join(" L");
    }

    function frame(axis) {
      svg.textContent = "";
      [DENSITY, CDF].forEach(function (panel) {
        element("line", { x1: LEFT, x2: RIGHT, y1: panel.bottom, y2: panel.bottom, class: "axis" });
      });
      axis.forEach(function (tick, i) {
        const at = x(tick.position);
        element("line", { x1: at, x2: at, y1: DENSITY.top, y2: CDF.bottom, class: "grid" });
        const anchor = i === 0 ? "start" : i === axis.length - 1 ? "end" : "middle";
        element("text", { x: at, y: AXIS_Y + 8, "text-anchor": anchor, class: "tick" }, tick.label);
      });
      [0, 0.5, 1].forEach(function (level) {
        const y = CDF.bottom - (CDF.bottom - CDF.top) * level;
        element("line", { x1: LEFT, x2: RIGHT, y1: y, y2: y, class: "grid" });
        element("text", { x: LEFT - 4, y: y + 3.5, "text-anchor": "end", class: "tick" }, percent(level));
      });
      element("text", { x: LEFT, y: DENSITY.top - 4, class: "panel-title" }, "Density");
      element("text", { x: LEFT, y: CDF.top - 5, class: "panel-title" }, "Chance of at most");
    }

    // The chance beyond an open bound: a bar outside the range, its height the chance (the
    // panel's height is 100%), labelled.
    function outsideBar(mass, side) {
      const left = side === "below" ? LEFT - 8 - BAR_WIDTH : RIGHT + 8;
      const height = (DENSITY.bottom - DENSITY.top) * mass;
      element("rect", {
        x: left, y: DENSITY.bottom - height, width: BAR_WIDTH, height: Math.max(height, 0.5),
        class: "outside", id: "preview-" + side,
      });
      const middle = left + BAR_WIDTH / 2;
      element("text", { x: middle, y: DENSITY.bottom - height - 3, "text-anchor": "middle", class: "tick" }, percent(mass));
      element("text", { x: middle, y: DENSITY.bottom + 10, "text-anchor": "middle", class: "tick" }, side);
    }

    function draw(body) {
      const cdf = body.cdf;
      frame(body.axis);
      // Density: each bucket's mass over its width, drawn at the bucket's middle.
      const masses = [];
      for (let j = 1; j <= STEPS; j += 1) masses.push(cdf[j] - cdf[j - 1]);
      const peak = Math.max.apply(null, masses);
      const height = (DENSITY.bottom - DENSITY.top) * 0.92;
      const xs = [x(0)];
      const ys = [DENSITY.bottom];
      masses.forEach(function (m, k) {
        xs.push(x((k + 0.5) / STEPS));
        ys.push(DENSITY.bottom - (peak > 0 ? (m / peak) * height : 0));
      });
      xs.push(x(1));
      ys.push(DENSITY.bottom);
      element("path", { d: "M" + points(xs, ys) + " Z", class: "density", id: "preview-density" });
      if (body.open_lower_bound) outsideBar(cdf[0], "below");
      if (body.open_upper_bound) outsideBar(1 - cdf[STEPS], "above");
      // CDF, linear between its points as the server takes it.
      const cx = cdf.map(function (_, j) { return x(j / STEPS); });
      const cy = cdf.map(function (f) { return CDF.bottom - (CDF.bottom - CDF.top) * f; });
      element("path", { d: "M" + points(cx, cy), class: "cdf", id: "preview-cdf" });
      body.quantiles.forEach(function (q) {
        element("circle", {
          cx: x(q.position), cy: CDF.bottom - (CDF.bottom - CDF.top) * q.level, r: 3,
          class: "quantile-point",
        });
      });
      svg.setAttribute("data-buckets", String(masses.length));
      svg.classList.remove("empty");
      figure.setAttribute("data-state", "drawn");
      status.textContent = "Median " + body.summary.median + "; 80% between " + body.summary.low +
        " and " + body.summary.high + ".";
    }

    function wait(message, state) {
      svg.textContent = "";
      svg.classList.add("empty");
      svg.removeAttribute("data-buckets");
      figure.setAttribute("data-state", state);
      status.textContent = message;
    }

    function refused(body) {
      const errors = (body && body.errors) || {};
      const messages = [];
      Object.keys(errors).forEach(function (field) {
        const input = inputs.find(function (i) { return i.getAttribute("data-quantile-input") === field; });
        const label = input && form.querySelector('label[for="' + input.id + '"]');
        (errors[field] || []).forEach(function (m) {
          messages.push((label ? label.textContent + ": " : "") + m);
        });
      });
      wait(messages.join(" ") || "These quantiles make no distribution.", "refused");
    }

    let timer = null;
    let asked = 0;

    function preview() {
      const params = new URLSearchParams();
      inputs.forEach(function (input) {
        const value = input.value.trim();
        if (value) params.set(input.getAttribute("data-quantile-input"), value);
      });
      if (Array.from(params.keys()).length < 2) {
        wait("Give at least two percentiles to see your distribution.", "waiting");
        return;
      }
      asked += 1;
      const mine = asked;
      fetch(url + "?" + params.toString(), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (answer) {
          if (mine !== asked) return; // a later request is on its way
          if (answer.ok) draw(answer.body);
          else refused(answer.body);
        })
        .catch(function () {
          if (mine === asked) wait("The preview is unavailable just now; the form still works.", "error");
        });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(preview, DEBOUNCE_MS);
    }

    inputs.forEach(function (input) {
      input.addEventListener("input", schedule);
      input.addEventListener("change", schedule);
    });
    figure.hidden = false;
    preview();
  }

  enhance(document);
  // A form swapped in by htmx (the answer to a forecast) is enhanced in its turn.
  document.addEventListener("htmx:load", function (event) { enhance(event.target); });
})();
