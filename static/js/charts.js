// Draws every Plotly figure whose JSON sits in <script type="application/json" data-chart-for="...">.
// The figure JSON is built on the server; no inline script is needed, so a strict CSP holds.
(function () {
  "use strict";
  function draw(root) {
    if (!window.Plotly) { return; }
    root.querySelectorAll("script[data-chart-for]").forEach(function (node) {
      var name = node.getAttribute("data-chart-for");
      var target = node.parentElement.querySelector('[data-chart="' + name + '"]');
      if (!target) { return; }
      var figure;
      try { figure = JSON.parse(node.textContent); } catch (e) { return; }
      window.Plotly.react(target, figure.data, figure.layout,
        { displayModeBar: false, responsive: true, locale: document.documentElement.lang });
      target.setAttribute("data-drawn", "true");
    });
  }
  function start() {
    if (window.htmx) {
      window.htmx.onLoad(function (element) { draw(element.querySelectorAll ? element : document); });
    } else {
      draw(document);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
