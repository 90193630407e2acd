// A print button for pages that offer one (hidden without JavaScript: the browser menu prints too).
document.querySelectorAll("[data-print-row]").forEach(function (row) { row.hidden = false; });
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
