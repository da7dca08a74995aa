// Progressive enhancement only: every action works without this file.
(function () {
  "use strict";

  // Copy button for the recovery code. Shown only when the script runs.
  // A new recovery code is shown once. Browsers may keep a page in their
  // back/forward cache even with Cache-Control: no-store: wipe the code when
  // the page is left, and reload if it comes back from that cache (the
  // server then says the code was shown).
  var newCode = document.getElementById("recovery-code");
  if (newCode) {
    window.addEventListener("pagehide", function () {
      newCode.textContent = "";
      document.querySelectorAll("[data-copy-value]").forEach(function (b) { b.removeAttribute("data-copy-value"); });
    });
    window.addEventListener("pageshow", function (ev) { if (ev.persisted) { location.reload(); } });
  }

  document.querySelectorAll("[data-copy-value]").forEach(function (button) {
    button.hidden = false;
    button.parentElement.hidden = false; // the row, hidden without script
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
        until.hidden = false;
      } catch (e) { /* no clock time: the minutes left say enough */ }
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
      // The content's own height, so the frame shrinks as well as grows:
      // scrollHeight never falls below the frame's current height.
      var sendHeight = function () {
        var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
        if (h !== lastHeight) { lastHeight = h; post({ type: "mfaportal:height", height: h }); }
      };
      sendHeight();
      if (window.ResizeObserver) { new ResizeObserver(sendHeight).observe(document.documentElement); }
      var event = embed.getAttribute("data-embed-event");
      if (event) { post({ type: "mfaportal:event", event: event }); }
    }
  }

  // Sign-in from the iframe: Universal Login refuses frames, so it runs in a
  // popup, which hands back a one-time code, bound to this frame's
  // pre-session. The code arrives by message, accepted only from the popup
  // this page opened and only from our own origin; or, when the popup lost
  // its opener, from our first-party localStorage, which the browser lets
  // this frame read only once it grants storage access.
  // Where the popup leaves a code for a frame it lost, and for how long (the
  // code's own lifetime on the server).
  var handoffKeyPrefix = "mfaportal-handoff:", handoffLifetimeMs = 60000;
  var popupButton = document.querySelector("[data-popup-login]");
  if (popupButton) {
    var status = document.querySelector("[data-popup-status]");
    var say = function (attr) { if (status) { status.textContent = attr ? status.getAttribute(attr) : ""; } };
    var continueButton = document.querySelector("[data-storage-access]");
    var newTabLink = document.querySelector("[data-new-tab]");
    // Nothing more can happen in the frame: the new tab is the way on.
    var onlyNewTab = function () {
      continueButton.hidden = true;
      popupButton.classList.replace("primary", "secondary");
      newTabLink.classList.replace("secondary", "primary");
      say("data-lost-no-access");
    };
    var returnTo = popupButton.getAttribute("data-return") || "/embed/factors";
    var popup = null, pre = null, storage = null, redeeming = false, lost = false, closedTicks = 0, watch = null;

    var redeem = function (code) {
      if (redeeming) { return; }
      redeeming = true;
      var body = new URLSearchParams();
      body.set("code", code);
      fetch("/embed/handoff", { method: "POST", body: body, credentials: "same-origin" }).then(function (res) {
        if (res.ok) { clearInterval(watch); location.assign(returnTo); return; }
        redeeming = false;
        say("data-failed");
      }, function () { redeeming = false; say("data-failed"); });
    };
    window.addEventListener("message", function (ev) {
      if (ev.origin !== location.origin || !popup || ev.source !== popup) { return; }
      var data = ev.data || {};
      if (data.type !== "mfaportal-handoff" || typeof data.code !== "string") { return; }
      redeem(data.code);
    });

    // The storage access path: the popup left the code under our
    // pre-session's name; take it once, and remove it.
    var readStoredCode = function () {
      if (!storage || !pre || redeeming) { return; }
      var key = handoffKeyPrefix + pre;
      var stored = null;
      try { stored = JSON.parse(storage.localStorage.getItem(key) || "null"); } catch (e) { /* unreadable: ignore */ }
      if (stored && typeof stored.code === "string") {
        storage.localStorage.removeItem(key);
        redeem(stored.code);
      }
    };
    var askStorageAccess = function () {
      return document.requestStorageAccess({ localStorage: true }).then(function (handle) {
        // Browsers without storage handles (they grant cookies and storage
        // to the frame itself) give nothing back: use our own storage.
        storage = handle && handle.localStorage ? handle : { localStorage: window.localStorage };
        readStoredCode();
      });
    };
    // Granted earlier (or by policy): no click needed to use it.
    var useGrantedStorageAccess = function () {
      if (!document.requestStorageAccess || !navigator.permissions) { return; }
      navigator.permissions.query({ name: "storage-access" }).then(function (perm) {
        if (perm.state === "granted") { askStorageAccess().catch(function () { /* not granted after all */ }); }
      }, function () { /* this browser cannot tell */ });
    };
    // A popup we cannot see any more (closed, or cut off by the sign-in
    // page's opener policy) while no code came: say what the person can do.
    var showLost = function () {
      lost = true;
      if (document.requestStorageAccess && !storage) {
        // One main action at a time: Continue, with Sign in as the retry.
        popupButton.classList.replace("primary", "secondary");
        continueButton.hidden = false;
        say("data-lost");
      } else if (!storage) {
        onlyNewTab();
      }
    };
    var watchPopup = function () {
      clearInterval(watch);
      watch = setInterval(function () {
        readStoredCode();
        if (redeeming || lost || !popup) { return; }
        // Two ticks in a row, so a message sent just before closing wins.
        closedTicks = popup.closed ? closedTicks + 1 : 0;
        if (closedTicks >= 2) { showLost(); }
      }, 500);
    };

    continueButton.addEventListener("click", function () {
      askStorageAccess().then(function () {
        if (redeeming) { return; }
        say("data-waiting");
        // The code lives a minute: past that, nothing will come this way.
        setTimeout(function () {
          if (!redeeming) { onlyNewTab(); }
        }, handoffLifetimeMs);
      }, onlyNewTab);
    });
    popupButton.hidden = false;
    popupButton.addEventListener("click", function () {
      // Open first, in the click, so the popup blocker sees a user gesture.
      popup = window.open("about:blank", "mfaportal-signin", "popup,width=480,height=640");
      if (!popup) { say("data-blocked"); return; }
      // A new try: back to the page's first state.
      lost = false;
      closedTicks = 0;
      continueButton.hidden = true;
      popupButton.classList.replace("secondary", "primary");
      newTabLink.classList.replace("primary", "secondary");
      say(null);
      fetch("/embed/pre-session", { method: "POST", credentials: "same-origin" }).then(function (res) {
        if (!res.ok) { throw new Error("pre-session"); }
        return res.json();
      }).then(function (j) {
        pre = j.pre;
        popup.location.href = j.popup;
        useGrantedStorageAccess();
        watchPopup();
      }, function () { popup.close(); popup = null; say("data-failed"); });
    });
  }

  // The Guardian step: ask, politely, whether the phone approved, so the
  // person need not press the button. Each check is the button's own form
  // (its one-time token and CSRF token), sent by fetch: approved, the
  // server redirects and we follow; not yet, its page comes back with a
  // fresh form, whose token we take; anything else, its words replace the
  // page's main part, and polling stops. Every 5 s for a minute, then every
  // 10 s, only while the page is visible, for at most the association's 5
  // minutes; after that, the button.
  var poll = document.querySelector("form[data-poll]");
  if (poll && window.fetch && window.DOMParser) {
    var pollStatus = document.querySelector("[data-poll-status]");
    var started = Date.now();
    var polling = false;
    var schedule = function () {
      var age = Date.now() - started;
      if (age > 5 * 60 * 1000) { if (pollStatus) { pollStatus.textContent = pollStatus.getAttribute("data-stopped"); } return; }
      setTimeout(check, age < 60 * 1000 ? 5000 : 10000);
    };
    var check = function () {
      if (polling) { return; }
      if (document.visibilityState !== "visible") { schedule(); return; }
      polling = true;
      fetch(poll.action, { method: "POST", body: new URLSearchParams(new FormData(poll)), credentials: "same-origin", redirect: "follow", headers: { "Mfaportal-Poll": "1" } }).then(function (res) {
        if (res.redirected) { location.assign(res.url); return null; }
        return res.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var next = doc.querySelector("form[data-poll] input[name=enrol_nonce]");
          if (res.ok && next) {
            poll.querySelector("input[name=enrol_nonce]").value = next.value;
            polling = false;
            schedule();
            return null;
          }
          var main = doc.querySelector("main");
          if (main) { document.querySelector("main").replaceWith(main); document.title = doc.title; }
          return null;
        });
      }).catch(function () {
        // Offline or the portal unreachable: the button still works.
        polling = false;
        schedule();
      });
    };
    poll.addEventListener("submit", function () { polling = true; });
    if (pollStatus) { pollStatus.textContent = pollStatus.getAttribute("data-waiting"); }
    schedule();
  }

  // The popup's last page: hand the code to the iframe that opened us (our
  // own origin only) and close. Without an opener, leave the code where the
  // iframe can read it with storage access: our localStorage, under the
  // pre-session's name, for a minute at most (the code's own lifetime).
  var handoff = document.querySelector("[data-handoff-code]");
  if (handoff) {
    var code = handoff.getAttribute("data-handoff-code");
    if (window.opener) {
      window.opener.postMessage({ type: "mfaportal-handoff", code: code }, location.origin);
    } else {
      try {
        var now = Date.now();
        for (var i = localStorage.length - 1; i >= 0; i--) {
          var k = localStorage.key(i);
          if (k && k.indexOf(handoffKeyPrefix) === 0) {
            var old = null;
            try { old = JSON.parse(localStorage.getItem(k)); } catch (e) { /* drop it */ }
            if (!old || !(now - old.at < handoffLifetimeMs)) { localStorage.removeItem(k); }
          }
        }
        localStorage.setItem(handoffKeyPrefix + handoff.getAttribute("data-handoff-pre"), JSON.stringify({ code: code, at: now }));
      } catch (e) { /* no storage: the iframe offers a new tab */ }
    }
    // Only the popup closes itself (by its opener or the name it was opened
    // with); a page opened some other way stays and says what to do.
    if (window.opener || window.name === "mfaportal-signin") { window.close(); }
  }
})();
