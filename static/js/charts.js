// Draws every Plotly figure built on the server. The figure JSON sits in the chart element's
// data-figure attribute (htmx drops <script> tags from swapped fragments, attributes survive),
// or in a <script type="application/json" data-chart-for="NAME"> beside a [data-chart="NAME"].
// No inline script is needed, so the strict CSP holds.
(function () {
  "use strict";
  function plot(target, json) {
    var figure;
    try { figure = JSON.parse(json); } catch (e) { return; }
    window.Plotly.react(target, figure.data, figure.layout,
      { displayModeBar: false, responsive: true, locale: document.documentElement.lang });
    target.setAttribute("data-drawn", "true");
  }
  function draw(root) {
    if (!window.Plotly) { return; }
    var scope = root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("[data-figure]")) { plot(scope, scope.getAttribute("data-figure")); }
    scope.querySelectorAll("[data-figure]").forEach(function (target) {
      plot(target, target.getAttribute("data-figure"));
    });
    scope.querySelectorAll("script[data-chart-for]").forEach(function (node) {
      var target = node.parentElement.querySelector('[data-chart="' + node.getAttribute("data-chart-for") + '"]');
      if (target) { plot(target, node.textContent); }
    });
  }
  function start() {
    if (window.htmx) {
      window.htmx.onLoad(draw);
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
