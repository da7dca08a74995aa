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
  // Embedded in an account area (the /embed/ pages): tell the parent page
  // our height and what happened, only ever to an origin the server lists
  // as allowed to frame us, never to "*".
  var embed = document.body.classList.contains("embed") ? document.body : null;
  if (embed && window.parent !== window) {
    var allowed = (embed.getAttribute("data-embed-parents") || "").split(" ").filter(Boolean);
    var parentOrigin = function () {
      var candidates = [];
      if (location.ancestorOrigins && location.ancestorOrigins.length) {
        candidates.push(location.ancestorOrigins[0]);
      }
      try { if (document.referrer) { candidates.push(new URL(document.referrer).origin); } } catch (e) { /* none */ }
      try { candidates.push(sessionStorage.getItem("mfaportal-parent")); } catch (e) { /* none */ }
      if (allowed.length === 1) { candidates.push(allowed[0]); }
      for (var i = 0; i < candidates.length; i++) {
        if (candidates[i] && allowed.indexOf(candidates[i]) >= 0) { return candidates[i]; }
      }
      return null;
    }();
    if (parentOrigin) {
      try { sessionStorage.setItem("mfaportal-parent", parentOrigin); } catch (e) { /* not kept */ }
      var post = function (msg) { window.parent.postMessage(msg, parentOrigin); };
      var lastHeight = 0;
      var sendHeight = function () {
        var h = Math.ceil(document.documentElement.scrollHeight);
        if (h !== lastHeight) { lastHeight = h; post({ type: "mfaportal:height", height: h }); }
      };
      sendHeight();
      if (window.ResizeObserver) { new ResizeObserver(sendHeight).observe(document.documentElement); }
      var event = embed.getAttribute("data-embed-event");
      if (event) { post({ type: "mfaportal:event", event: event }); }
    }
  }

  // Sign-in from the iframe: Universal Login refuses frames, so it runs in a
  // popup, which hands back a one-time code. The code is accepted only from
  // the popup this page opened, on our own origin.
  var popupButton = document.querySelector("[data-popup-login]");
  if (popupButton) {
    var status = document.querySelector("[data-popup-status]");
    var say = function (attr) { if (status) { status.textContent = status.getAttribute(attr); } };
    var popup = null;
    window.addEventListener("message", function (ev) {
      if (ev.origin !== location.origin || !popup || ev.source !== popup) { return; }
      var data = ev.data || {};
      if (data.type !== "mfaportal-handoff" || typeof data.code !== "string") { return; }
      popup = null;
      var body = new URLSearchParams();
      body.set("code", data.code);
      fetch("/embed/handoff", { method: "POST", body: body, credentials: "same-origin" }).then(function (res) {
        if (res.ok) { location.assign("/embed/factors"); } else { say("data-failed"); }
      }, function () { say("data-failed"); });
    });
    popupButton.hidden = false;
    popupButton.addEventListener("click", function () {
      // Open first, in the click, so the popup blocker sees a user gesture.
      popup = window.open("about:blank", "mfaportal-signin", "popup,width=480,height=640");
      if (!popup) { say("data-blocked"); return; }
      fetch("/embed/pre-session", { method: "POST", credentials: "same-origin" }).then(function (res) {
        if (!res.ok) { throw new Error("pre-session"); }
        return res.json();
      }).then(function (j) {
        popup.location.href = j.popup;
      }, function () { popup.close(); popup = null; say("data-failed"); });
    });
  }

  // The popup's last page: hand the code to the iframe that opened us (our
  // own origin only) and close.
  var handoff = document.querySelector("[data-handoff-code]");
  if (handoff && window.opener) {
    window.opener.postMessage({ type: "mfaportal-handoff", code: handoff.getAttribute("data-handoff-code") }, location.origin);
    window.close();
  }
})();
