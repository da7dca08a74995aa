package dev

import (
	"html/template"
	"net/http"
)

// accountPageHTML is a stand-in for an account area on another site that
// embeds the portal. It is served on a second origin (localhost vs
// 127.0.0.1), so the browser treats the frame as cross-site.
var accountPageHTML = template.Must(template.New("account").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example account area (embeds mfaportal)</title>
<script src="/account.js" defer></script>
</head>
<body>
<h1>Example account area</h1>
<p>This page is on another site. The frame below is the portal's embed mode.</p>
<iframe id="mfaportal" data-origin="{{.PortalOrigin}}" src="{{.PortalOrigin}}/embed/factors" title="Sign-in methods" width="640" height="480"></iframe>
<h2>Messages from the portal</h2>
<ol id="messages"></ol>
</body>
</html>
`))

// accountPageScript sizes the frame and lists the portal's messages, taking
// only those from the portal's origin and from the frame itself.
const accountPageScript = `(function () {
  "use strict";
  var frame = document.getElementById("mfaportal");
  var origin = frame.getAttribute("data-origin");
  var list = document.getElementById("messages");
  window.addEventListener("message", function (ev) {
    if (ev.origin !== origin || ev.source !== frame.contentWindow) { return; }
    var msg = ev.data || {};
    if (msg.type === "mfaportal:height" && typeof msg.height === "number") {
      frame.style.height = msg.height + "px";
    }
    var item = document.createElement("li");
    item.textContent = JSON.stringify(msg);
    list.appendChild(item);
  });
})();
`

// accountPage serves the sample account area that frames portalOrigin.
func accountPage(portalOrigin string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; frame-src "+portalOrigin)
		_ = accountPageHTML.Execute(w, struct{ PortalOrigin string }{portalOrigin})
	})
	mux.HandleFunc("GET /account.js", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write([]byte(accountPageScript))
	})
	return mux
}
