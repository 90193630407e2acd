// Draws every Plotly figure built on the server. The figure JSON sits in the chart element's
// data-figure attribute (htmx drops <script> tags from swapped fragments, attributes survive),
// or in a <script type="application/json" data-chart-for="NAME"> beside a [data-chart="NAME"].
// No inline script is needed, so the strict CSP holds. Plotly itself (the heaviest file of the
// site) is fetched only when a chart is on the page: its address is this script's data-plotly.
(function () {
  "use strict";
  var me = document.currentScript;
  var plotlySrc = me ? me.getAttribute("data-plotly") : null;
  var waiting = null;
  function withPlotly(then) {
    if (window.Plotly) { then(); return; }
    if (!plotlySrc) { return; }
    if (waiting) { waiting.push(then); return; }
    waiting = [then];
    var script = document.createElement("script");
    script.src = plotlySrc;
    script.onload = function () {
      var queued = waiting;
      waiting = null;
      queued.forEach(function (run) { run(); });
    };
    document.head.appendChild(script);
  }
  function plot(target, json) {
    var figure;
    try { figure = JSON.parse(json); } catch (e) { return; }
    window.Plotly.react(target, figure.data, figure.layout,
      { displayModeBar: false, responsive: true, locale: document.documentElement.lang });
    target.setAttribute("data-drawn", "true");
  }
  function charts(root) {
    var scope = root.querySelectorAll ? root : document;
    var found = [];
    if (scope.matches && scope.matches("[data-figure]")) { found.push([scope, scope.getAttribute("data-figure")]); }
    scope.querySelectorAll("[data-figure]").forEach(function (target) {
      found.push([target, target.getAttribute("data-figure")]);
    });
    scope.querySelectorAll("script[data-chart-for]").forEach(function (node) {
      var target = node.parentElement.querySelector('[data-chart="' + node.getAttribute("data-chart-for") + '"]');
      if (target) { found.push([target, node.textContent]); }
    });
    return found;
  }
  function draw(root) {
    var found = charts(root);
    if (!found.length) { return; }
    withPlotly(function () {
      found.forEach(function (pair) { if (pair[0].isConnected) { plot(pair[0], pair[1]); } });
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
