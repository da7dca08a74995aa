// Progressive enhancement only: every action works without this file.
(function () {
  "use strict";

  // Copy button for the recovery code. Shown only when the script runs.
  document.querySelectorAll("[data-copy-value]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var status = button.parentElement.querySelector(".copy-status");
      var value = button.getAttribute("data-copy-value");
      // The words come from the page, in its language: this file has none.
      var done = function (attr) { if (status) { status.textContent = button.getAttribute(attr); } };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(value).then(
          function () { done("data-copied"); },
          function () { done("data-copy-failed"); });
      } else {
        done("data-copy-failed");
      }
    });
  });

  // Keep "Secure session: N minutes left" honest while the page stays open.
  // The words come from the page's data- attributes, in the page's language.
  var session = document.querySelector("[data-ends]");
  if (session) {
    // The server writes the end time in UTC; show it on the browser's own
    // clock, the way the page's language writes a time of day.
    var until = session.querySelector("time[data-until]");
    if (until && window.Intl && Intl.DateTimeFormat) {
      try {
        var at = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { hour: "numeric", minute: "2-digit" })
          .format(new Date(until.getAttribute("datetime")));
        until.textContent = until.getAttribute("data-until").replace("{time}", at);
      } catch (e) { /* keep the server's UTC time */ }
    }
    // Count down from page load on the browser's clock: comparing the
    // server's absolute end time with a skewed browser clock would lie.
    var ends = Date.now() + parseInt(session.getAttribute("data-seconds-left"), 10) * 1000;
    var minutes = session.querySelector(".session-min");
    var tick = function () {
      var left = Math.ceil((ends - Date.now()) / 60000);
      if (left <= 0) {
        session.textContent = session.getAttribute("data-ended");
        session.classList.add("ended");
        return;
      }
      minutes.textContent = left === 1 ? session.getAttribute("data-minute-one")
        : session.getAttribute("data-minutes-other").replace("{n}", left);
      setTimeout(tick, 15000);
    };
    tick();
  }
})();
