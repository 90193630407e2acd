// The live calculator keeps the reader where they are. A live update answers with out-of-band swaps
// (templates/public/_live.html); when the result's structure changed it replaces the whole result,
// and the browser's scroll anchoring then loses its anchor with the old nodes and the page jumps
// (to the bottom, 1,464 px at 360 px wide). htmx gives focus back to the control with the same id;
// this puts that control back at the same height on the screen, and reopens the disclosures the
// reader had opened.
(function () {
  "use strict";
  var kept = null;

  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (!evt.detail.elt || evt.detail.elt.id !== "calculator") { return; }
    // The jump comes with a focused control inside the result, so that is the one to hold in
    // place; a tap that leaves the focus on <body> (Safari) did not move the page in our tests.
    var focused = document.activeElement;
    var anchor = focused && focused !== document.body && focused.id ? focused : null;
    kept = {
      id: anchor ? anchor.id : null,
      top: anchor ? anchor.getBoundingClientRect().top : 0,
      open: Array.prototype.map.call(document.querySelectorAll("#result details[id][open]"),
                                     function (details) { return details.id; }),
    };
  });

  document.addEventListener("htmx:afterSwap", function () {
    if (!kept) { return; }
    kept.open.forEach(function (id) {
      var details = document.getElementById(id);
      if (details && !details.open) { details.open = true; }
    });
    var anchor = kept.id && document.getElementById(kept.id);
    if (anchor) {
      var moved = anchor.getBoundingClientRect().top - kept.top;
      if (moved) { window.scrollBy({ top: moved, left: 0, behavior: "instant" }); }
    }
  });

  document.addEventListener("htmx:afterSettle", function () { kept = null; });

  // An out-of-band swap that would write exactly what is there already leaves the element alone.
  // Tapping the pay button right after typing blurs the field, its "change" sends the same form
  // again, and the answer (now back within the tap) replaced the button between touch and
  // release: the browser then saw no click. Unchanged figures also stay the same nodes.
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var target = evt.detail.target;
    var fragment = evt.detail.fragment;
    if (!target || !fragment) { return; }
    var holder = document.createElement("div");
    holder.appendChild(fragment.cloneNode(true));
    var whole = fragment.childNodes.length === 1 && fragment.firstChild.id === target.id;
    if (holder.innerHTML === (whole ? target.outerHTML : target.innerHTML)) {
      evt.detail.shouldSwap = false;
    }
  });
})();
