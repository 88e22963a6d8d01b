/* The pages of django-singleconnect, enhanced: each works without this script.

   - A button with data-countdown="ID" stays disabled while the element ID counts down its
     data-seconds (it shows them as m:ss); then the element goes and the button works.
   - A form sent once is not sent again: its button is disabled, marked aria-busy and shows
     its data-busy-label ("Checking…") until the next page arrives.

   A static file loaded with `defer`, no inline code and no eval: a strict Content Security
   Policy (script-src 'self') lets it run. */
(function () {
  "use strict";

  var CLOCK = /\d+:\d\d/;
  var sent = false;

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
      if (!button.hasAttribute("aria-busy")) {
        button.disabled = false;
      }
    })();
  }

  function busy(button) {
    button.setAttribute("aria-busy", "true");
    button.disabled = true;
    var label = button.getAttribute("data-busy-label");
    if (label) {
      button.setAttribute("data-label", button.textContent);
      button.textContent = label;
    }
  }

  function idle(button) {
    button.removeAttribute("aria-busy");
    if (button.hasAttribute("data-label")) {
      button.textContent = button.getAttribute("data-label");
      button.removeAttribute("data-label");
    }
    button.disabled = button.hasAttribute("data-counting");
  }

  document.addEventListener("submit", function (event) {
    if (sent) {
      event.preventDefault();
      return;
    }
    sent = true;
    var button = event.submitter || event.target.querySelector("button[type=submit]");
    if (button) {
      // After this event: a button disabled now would leave its name and value out.
      window.setTimeout(function () { busy(button); }, 0);
    }
  });

  // Back to this page from the history: it may be sent again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      sent = false;
      Array.prototype.forEach.call(document.querySelectorAll("button[aria-busy]"), idle);
    }
  });

  Array.prototype.forEach.call(document.querySelectorAll("button[data-countdown]"), countDown);
})();
