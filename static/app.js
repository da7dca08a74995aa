// Progressive enhancement only: every action works without this file.
(function () {
  "use strict";

  // Copy button for the recovery code. Shown only when the script runs.
  document.querySelectorAll("[data-copy-value]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var status = button.parentElement.querySelector(".copy-status");
      var value = button.getAttribute("data-copy-value");
      var done = function (text) { if (status) { status.textContent = text; } };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(value).then(
          function () { done("Copied."); },
          function () { done("Couldn't copy. Select the code and copy it by hand."); });
      } else {
        done("Couldn't copy. Select the code and copy it by hand.");
      }
    });
  });

  // Keep "Secure session: N minutes left" honest while the page stays open.
  var session = document.querySelector("[data-ends]");
  if (session) {
    // Count down from page load on the browser's clock: comparing the
    // server's absolute end time with a skewed browser clock would lie.
    var ends = Date.now() + parseInt(session.getAttribute("data-seconds-left"), 10) * 1000;
    var minutes = session.querySelector(".session-min");
    var tick = function () {
      var left = Math.ceil((ends - Date.now()) / 60000);
      if (left <= 0) {
        session.textContent = "Secure session ended: your next action will ask you to sign in again";
        session.classList.add("ended");
        return;
      }
      minutes.textContent = left === 1 ? "1 minute" : left + " minutes";
      setTimeout(tick, 15000);
    };
    tick();
  }
})();
