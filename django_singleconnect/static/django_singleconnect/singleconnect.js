/* The pages of django-singleconnect, enhanced: each works without this script.

   - A button with data-countdown="ID" stays disabled while the element ID counts down its
     data-seconds (it shows them as m:ss); then the element goes and the button works.

   A static file loaded with `defer`, no inline code and no eval: a strict Content Security
   Policy (script-src 'self') lets it run. */
(function () {
  "use strict";

  var CLOCK = /\d+:\d\d/;

  function clock(seconds) {
    var rest = seconds % 60;
    return Math.floor(seconds / 60) + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function countDown(button) {
    var line = document.getElementById(button.getAttribute("data-countdown"));
    var seconds = line ? parseInt(line.getAttribute("data-seconds"), 10) : NaN;
    if (!(seconds > 0)) {
      return;
    }
    var end = performance.now() + seconds * 1000;
    button.disabled = true;
    button.setAttribute("data-counting", "");
    // A live region read out every second would drown everything else.
    line.setAttribute("aria-live", "off");
    (function tick() {
      var left = Math.ceil((end - performance.now()) / 1000);
      if (left > 0) {
        line.textContent = line.textContent.replace(CLOCK, clock(left));
        window.setTimeout(tick, 250);
        return;
      }
      line.hidden = true;
      button.removeAttribute("data-counting");
      button.disabled = false;
    })();
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-countdown]"), countDown);
})();
