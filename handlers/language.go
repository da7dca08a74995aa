package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"mfaportal/i18n"
)

// langCookieName remembers a language chosen with ?lang= (a helpdesk link,
// say), so the next pages and the next sign-in stay in it.
const langCookieName = "__Host-mfaportal-lang"

// withLanguage chooses the request's language (lang parameter, then the
// cookie, then Accept-Language, then English) and puts its printer in the
// request's context, where handlers and templates find it. It runs before
// anything can fail, so error pages are in the chosen language too.
func (p *portal) withLanguage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		cookie := ""
		if ck, err := r.Cookie(langCookieName); err == nil {
			cookie = ck.Value
		}
		tag, fromParam := p.catalog.Negotiate(c.QueryParam("lang"), cookie, r.Header.Get("Accept-Language"))
		if fromParam && tag.String() != cookie {
			c.SetCookie(&http.Cookie{
				Name: langCookieName, Value: tag.String(), Path: "/",
				MaxAge: int(365 * 24 * time.Hour / time.Second), Secure: true, HttpOnly: true,
				SameSite: http.SameSiteLaxMode,
			})
		}
		c.SetRequest(r.WithContext(i18n.WithPrinter(r.Context(), p.catalog.Printer(tag))))
		return next(c)
	}
}

// tr is the request's printer. Outside withLanguage (a handler called on
// its own in a test), it is the default language's.
func (p *portal) tr(c echo.Context) *i18n.Printer {
	if pr := i18n.FromContext(c.Request().Context()); pr != nil {
		return pr
	}
	cat := p.catalog
	if cat == nil { // a bare &portal{} in a test
		cat = i18n.New()
	}
	return cat.Printer(cat.Default())
}
