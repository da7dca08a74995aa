package handlers

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"mfaportal/session"
	"mfaportal/views"
)

// page fills the layout's data for the current request.
func (p *portal) page(c echo.Context, title string, sess *session.Session) views.Page {
	pr := p.tr(c)
	pg := views.Page{Lang: pr.Lang(), Title: title, RequestID: requestID(c), AssetVersion: p.assetVer}
	if sess.SignedIn(p.now()) {
		left := sess.TokenExpiry.Sub(p.now())
		pg.User = &views.User{
			Name:        sess.Name,
			SessionEnds: sess.TokenExpiry,
			MinutesLeft: int((left + time.Minute - 1) / time.Minute),
			SecondsLeft: int(left / time.Second),
		}
		pg.CSRFToken = sess.CSRFToken
	}
	if isEmbed(c) {
		pg.Embed = true
		pg.ParentOrigins = p.parentOrigins()
	}
	return pg
}

// render writes a page inside the layout.
// The page is rendered into a buffer first: one write with a Content-Length
// (templ would otherwise flush mid-page), and a render error can still become
// an error page because nothing has been sent yet.
func (p *portal) render(c echo.Context, status int, pg views.Page, body templ.Component) error {
	buf, _ := p.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= 64<<10 {
			buf.Reset()
			p.buffers.Put(buf)
		}
	}()
	if err := views.Layout(pg, body).Render(c.Request().Context(), buf); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	c.Response().WriteHeader(status)
	_, err := c.Response().Write(buf.Bytes())
	return err
}

// parentOrigins are the origins a framed page may post messages to.
func (p *portal) parentOrigins() string { return strings.Join(p.ancestors, " ") }
