// Draws every Plotly figure built on the server. The figure JSON sits in the chart element's
// data-figure attribute (htmx drops <script> tags from swapped fragments, attributes survive),
// or in a <script type="application/json" data-chart-for="NAME"> beside a [data-chart="NAME"].
// No inline script is needed, so the strict CSP holds.
// A page that may have no chart at first (the calculator before a result) names the Plotly bundle
// in this script's data-plotly instead of loading it: the 1.2 MB bundle is fetched with the first chart.
(function () {
  "use strict";
  var self = document.currentScript;
  var plotlySrc = self && self.getAttribute("data-plotly");
  var waiting = [];
  var loading = false;

  function withPlotly(callback) {
    if (window.Plotly) { callback(); return; }
    if (!plotlySrc) { return; }
    waiting.push(callback);
    if (loading) { return; }
    loading = true;
    var script = document.createElement("script");
    script.src = plotlySrc;
    script.onload = function () { waiting.splice(0).forEach(function (run) { run(); }); };
    document.head.appendChild(script);
  }
  function plot(target, json) {
    var figure;
    if (!target.isConnected) { return; }  // replaced by a live update while Plotly was loading
    try { figure = JSON.parse(json); } catch (e) { return; }
    window.Plotly.react(target, figure.data, figure.layout,
      { displayModeBar: false, responsive: true, locale: document.documentElement.lang });
    target.setAttribute("data-drawn", "true");
  }
  function draw(root) {
    var scope = root.querySelectorAll ? root : document;
    var own = scope.matches && scope.matches("[data-figure]");
    if (!own && !scope.querySelector("[data-figure], script[data-chart-for]")) { return; }
    withPlotly(function () {
      if (own) { plot(scope, scope.getAttribute("data-figure")); }
      scope.querySelectorAll("[data-figure]").forEach(function (target) {
        plot(target, target.getAttribute("data-figure"));
      });
      scope.querySelectorAll("script[data-chart-for]").forEach(function (node) {
        var target = node.parentElement.querySelector('[data-chart="' + node.getAttribute("data-chart-for") + '"]');
        if (target) { plot(target, node.textContent); }
      });
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
