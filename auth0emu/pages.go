package auth0emu

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageNames are the emulator's HTML pages; each is templates/<name>.html
// rendered inside templates/layout.html.
var pageNames = []string{"login", "mfa", "recovery_new", "error", "logged_out", "outbox"}

// pageSet holds the parsed pages.
type pageSet struct{ pages map[string]*template.Template }

func newPageSet() (*pageSet, error) {
	ps := &pageSet{pages: map[string]*template.Template{}}
	for _, name := range pageNames {
		tpl, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("auth0emu: parse page %s: %w", name, err)
		}
		ps.pages[name] = tpl
	}
	return ps, nil
}

// pageData is what every page template receives.
type pageData struct {
	Lang string
	T    map[string]string
	Page any
}

// loginPage is the view model of the password page.
type loginPage struct {
	State, Email, Error string
}

// mfaPage is the view model of the challenge page and of the page that
// shows a rotated recovery code.
type mfaPage struct {
	State, Method, Error string
	Methods              []methodLink
	TOTPSecret           string // otp: the seeded secret, so a developer can compute the code
	TOTPCode             string // otp: the code an authenticator app would show now
	EmulatorTime         int64  // the tenant clock, for computing TOTP codes under a fake clock
	PushDevice           string
	RecoveryCode         string // the current code, shown because this is an emulator
	SentCode             string // sms/voice/email: the code that would have been sent
	Destination          string
	NewRecoveryCode      string
}

func (p mfaPage) template() string {
	if p.NewRecoveryCode != "" {
		return "recovery_new"
	}
	return "mfa"
}

// methodLink offers another challenge method.
type methodLink struct {
	Method, Label, URL string
	Current            bool
}

// outboxPage lists unconfirmed enrolments with what a real tenant would
// have sent.
type outboxPage struct{ Enrolments []PendingEnrolment }

// errorPage is the view model of the error page.
type errorPage struct{ Code, Description string }

// renderPage writes a full HTML page with the headers Universal Login sends
// (no framing, no caching).
func (t *Tenant) renderPage(w http.ResponseWriter, r *http.Request, status int, name, locale string, data any) {
	var buf bytes.Buffer
	if err := t.pages.pages[name].ExecuteTemplate(&buf, "layout", pageData{Lang: locale, T: translations[locale], Page: data}); err != nil {
		t.log.Error("render page", "page", name, "err", err)
		http.Error(w, "emulator page failed to render", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "deny")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (t *Tenant) renderError(w http.ResponseWriter, r *http.Request, status int, code, description string) {
	t.renderErrorLocale(w, r, status, localeFrom(r.URL.Query().Get("ui_locales")), code, description)
}

func (t *Tenant) renderErrorLocale(w http.ResponseWriter, r *http.Request, status int, locale, code, description string) {
	t.renderPage(w, r, status, "error", locale, errorPage{Code: code, Description: description})
}

// localeFrom picks the first supported locale of a ui_locales value.
func localeFrom(uiLocales string) string {
	for _, l := range strings.Fields(uiLocales) {
		base, _, _ := strings.Cut(strings.ToLower(l), "-")
		if _, ok := translations[base]; ok {
			return base
		}
	}
	return "en"
}

func tr(locale, key string) string {
	if s, ok := translations[locale][key]; ok {
		return s
	}
	return translations["en"][key]
}

// translations of the page texts; ui_locales picks one.
var translations = map[string]map[string]string{
	"en": {
		"banner":               "Emulated Auth0 tenant for development and testing. This is not Auth0: never enter real credentials here.",
		"emulator":             "Auth0 emulator",
		"login_title":          "Sign in",
		"login_intro":          "Sign in to continue to the application.",
		"email":                "Email address",
		"password":             "Password",
		"continue":             "Continue",
		"wrong_credentials":    "Wrong email or password.",
		"mfa_title":            "Verify your identity",
		"other_methods":        "Try another method",
		"code":                 "Enter the code",
		"wrong_code":           "The code you entered is invalid.",
		"method_otp":           "Authenticator app (one-time code)",
		"method_push":          "Push notification",
		"method_sms":           "Text message (SMS)",
		"method_voice":         "Voice call",
		"method_email":         "Email",
		"method_recovery-code": "Recovery code",
		"otp_prompt":           "Enter the 6-digit code from your authenticator app.",
		"otp_hint":             "Emulator: this user's TOTP secret is",
		"otp_code_hint":        "Emulator: an authenticator app would show this code now (it changes every 30 seconds):",
		"push_prompt":          "We sent a notification to your device. Approve it to continue.",
		"push_hint":            "Emulator: no notification is sent; use the buttons below as the device would.",
		"approve":              "Approve on device",
		"deny":                 "Deny",
		"oob_prompt":           "Enter the code we sent to",
		"oob_hint":             "Emulator: nothing was sent. The code is",
		"recovery_prompt":      "Enter your recovery code.",
		"recovery_hint":        "Emulator: this user's current recovery code is",
		"recovery_new_title":   "Save your new recovery code",
		"recovery_new_intro":   "Your recovery code was used and has been replaced. Write this new code down now: it will not be shown again.",
		"error_title":          "Something went wrong",
		"outbox_title":         "Emulator: messages it would have sent",
		"outbox_intro":         "Nothing leaves this machine. Codes for new phone and email methods appear here, and new Guardian enrolments wait here for the device's answer. Reload to see new ones.",
		"outbox_empty":         "No enrolment is waiting.",
		"outbox_code":          "Code:",
		"outbox_device":        "Device name",
		"outbox_channel_otp":   "Authenticator app",
		"outbox_channel_sms":   "Text message",
		"outbox_channel_voice": "Voice call",
		"outbox_channel_email": "Email",
		"outbox_channel_auth0": "Guardian app",
		"logged_out_title":     "You are signed out",
		"logged_out_intro":     "Your session at the emulated tenant has ended.",
	},
	"fr": {
		"banner":               "Tenant Auth0 émulé pour le développement et les tests. Ce n'est pas Auth0 : n'y saisissez jamais de vrais identifiants.",
		"emulator":             "Émulateur Auth0",
		"login_title":          "Connexion",
		"login_intro":          "Connectez-vous pour continuer vers l'application.",
		"email":                "Adresse e-mail",
		"password":             "Mot de passe",
		"continue":             "Continuer",
		"wrong_credentials":    "E-mail ou mot de passe incorrect.",
		"mfa_title":            "Vérifiez votre identité",
		"other_methods":        "Essayer une autre méthode",
		"code":                 "Saisissez le code",
		"wrong_code":           "Le code saisi n'est pas valide.",
		"method_otp":           "Application d'authentification (code à usage unique)",
		"method_push":          "Notification push",
		"method_sms":           "SMS",
		"method_voice":         "Appel vocal",
		"method_email":         "E-mail",
		"method_recovery-code": "Code de récupération",
		"otp_prompt":           "Saisissez le code à 6 chiffres de votre application d'authentification.",
		"otp_hint":             "Émulateur : le secret TOTP de cet utilisateur est",
		"otp_code_hint":        "Émulateur : une application d'authentification afficherait maintenant ce code (il change toutes les 30 secondes) :",
		"push_prompt":          "Nous avons envoyé une notification à votre appareil. Approuvez-la pour continuer.",
		"push_hint":            "Émulateur : aucune notification n'est envoyée ; utilisez les boutons ci-dessous comme le ferait l'appareil.",
		"approve":              "Approuver sur l'appareil",
		"deny":                 "Refuser",
		"oob_prompt":           "Saisissez le code envoyé à",
		"oob_hint":             "Émulateur : rien n'a été envoyé. Le code est",
		"recovery_prompt":      "Saisissez votre code de récupération.",
		"recovery_hint":        "Émulateur : le code de récupération actuel de cet utilisateur est",
		"recovery_new_title":   "Enregistrez votre nouveau code de récupération",
		"recovery_new_intro":   "Votre code de récupération a été utilisé et remplacé. Notez ce nouveau code maintenant : il ne sera plus affiché.",
		"error_title":          "Une erreur s'est produite",
		"outbox_title":         "Émulateur : messages qu'il aurait envoyés",
		"outbox_intro":         "Rien ne quitte cette machine. Les codes des nouvelles méthodes par téléphone et e-mail s'affichent ici, et les nouvelles inscriptions Guardian y attendent la réponse de l'appareil. Rechargez pour voir les nouveaux.",
		"outbox_empty":         "Aucune inscription en attente.",
		"outbox_code":          "Code :",
		"outbox_device":        "Nom de l'appareil",
		"outbox_channel_otp":   "Application d'authentification",
		"outbox_channel_sms":   "SMS",
		"outbox_channel_voice": "Appel vocal",
		"outbox_channel_email": "E-mail",
		"outbox_channel_auth0": "Application Guardian",
		"logged_out_title":     "Vous êtes déconnecté",
		"logged_out_intro":     "Votre session sur le tenant émulé est terminée.",
	},
}
