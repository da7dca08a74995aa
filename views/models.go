// Package views renders the portal's pages with templ. Handlers build the
// small view-model structs below; templates only display them.
package views

import "time"

// Page is what every page's layout needs.
type Page struct {
	// Lang is the page's language (BCP 47), for <html lang>.
	Lang      string
	Title     string
	User      *User // nil when signed out
	CSRFToken string
	RequestID string
	Flash     *Flash
	// AssetVersion busts caches of /static files when they change.
	AssetVersion string
	// Embed renders the page for an iframe: no portal header, and the
	// script reports height and events to the parent.
	Embed bool
	// ParentOrigins are the origins allowed to frame the page (space
	// separated): the only targets the script posts messages to.
	ParentOrigins string
	// EmbedEvent is what just happened, for the parent page
	// ("factor-removed", "recovery-code-regenerated", "signed-out").
	EmbedEvent string
}

// User is the signed-in user as the header shows them.
type User struct {
	Name string
	// SessionEnds is when the /mfa/ token, and so the secure session, ends.
	SessionEnds time.Time
	// MinutesLeft is SessionEnds rounded up to whole minutes from the render time.
	MinutesLeft int
	// SecondsLeft lets the page count down from when it loaded, on the
	// browser's own clock, whatever that clock says the time is.
	SecondsLeft int
}

// FlashKind styles a one-time message.
type FlashKind string

const (
	FlashSuccess FlashKind = "success"
	FlashInfo    FlashKind = "info"
)

// Flash is a one-time message shown at the top of a page.
type Flash struct {
	Kind FlashKind
	Text string
}

// Icon names a factor icon.
type Icon string

const (
	IconApp         Icon = "app"
	IconGuardian    Icon = "guardian"
	IconPhone       Icon = "phone"
	IconEmail       Icon = "email"
	IconRecovery    Icon = "recovery"
	IconSecurityKey Icon = "security-key"
	IconPasskey     Icon = "passkey"
	IconOther       Icon = "other"
)

// Factor is one line of the factors page.
type Factor struct {
	Icon   Icon
	Label  string // "Guardian app (push notifications and one-time codes)"
	Detail string // optional second line, e.g. the device name
	// DeleteURL is the confirmation page; empty when the factor cannot be removed here.
	DeleteURL string
	// Note explains why there is no remove button, or what else there is to do.
	Note string
	// ActionURL and ActionText offer a non-destructive next step (e.g. a new recovery code).
	ActionURL  string
	ActionText string
	TestID     string
	// Name is the user's own label for it, quoted ("“Work phone”"); "" when none.
	Name string
	// Dates reads "Added 3 March 2025 · Last used 2 days ago"; DatesExact
	// is the exact times, for a tooltip and screen readers.
	Added      *Moment
	LastUsed   *Moment
	NeverUsed  bool
	DetailsURL string // the details page (rename, phone channel); "" when nothing to change
}

// Moment is a date shown in words, with the exact time in a <time>.
type Moment struct {
	Text     string // "3 March 2025", "2 days ago"
	Datetime string // RFC 3339, for <time datetime>
	Exact    string // "3 March 2025, 14:32 UTC"
}

// FactorsPage is GET /factors.
type FactorsPage struct {
	Page
	Factors []Factor
	// Partial: the Management API's details could not be loaded; the list
	// is the MFA API's alone, and nothing is offered to remove or rename.
	Partial bool
	// NoRecoveryCode offers to make one: the user has none.
	NoRecoveryCode bool
}

// MethodPage is GET /factors/{id}: one method's details, its name and a
// phone's preferred channel.
type MethodPage struct {
	Page
	Factor    Factor
	ActionURL string // where the forms post (the page's own path)
	// Renamable offers the name field; NameValue is what it holds and
	// NameError why the last try was refused ("" when none).
	Renamable bool
	NameValue string
	NameError string
	// Channels offers the preferred channel of a phone with both.
	Channels     []ChannelOption
	ChannelError string
	DeleteURL    string
}

// ChannelOption is one radio button of a phone's preferred channel.
type ChannelOption struct {
	Value   string // "sms" or "voice"
	Label   string
	Checked bool
}

// DeletePage is GET /factors/{id}/delete: the confirmation.
type DeletePage struct {
	Page
	Factor  Factor
	Removes []string // everything that goes, the factor and its twin
	// Together explains why several things go at once ("the same phone number").
	Together  string
	ActionURL string
	IsLast    bool
}

// RecoveryPage is GET /recovery-code.
type RecoveryPage struct {
	Page
	HasRecoveryCode bool
	RegenNonce      string
}

// RecoveryCodePage shows a freshly generated recovery code, once.
type RecoveryCodePage struct {
	Page
	Code string
	// CodeChunks is Code in groups of four, easier to copy by hand.
	CodeChunks []string
	// First: the code came with the user's first method; there is no
	// previous one to speak of.
	First bool
}

// AddMethodPage offers the kinds of method the portal can add.
type AddMethodPage struct {
	Page
	// What the tenant lets users add; SecurityKeys are only mentioned.
	App, Guardian, Phone, Email, SecurityKeys bool
}

// AddAppPage is the authenticator-app enrolment: its start, or its QR
// code, secret and first-code form.
type AddAppPage struct {
	Page
	// QRCodeSVG is the otpauth URI drawn by QRCodeSVG: markup made here
	// from Auth0's URI, never text from a request.
	QRCodeSVG    string
	Secret       string
	SecretChunks []string
	Nonce        string // the confirmation form's one-time token
	CodeError    string // why the last code was not accepted, in the reader's language
}

// AddPhonePage is the phone enrolment: the number, or the code sent to it.
type AddPhonePage struct {
	Page
	Regions []Region
	Region  string // the chosen country code
	Number  string // as typed, when it comes back with an error
	Channel string // sms or voice
	// SMS and Voice are the channels the tenant has on.
	SMS, Voice bool
	Error      string // why the number or the code was not accepted
	// The code step.
	Step   string // the method's page: /add/phone or /add/email
	SentTo string // the masked number or address
	Nonce  string
	Notice string // e.g. when a new code can be asked for
}

// Region is one country of the phone form's list.
type Region struct {
	Code, Name, Dial string
}

// ErrorPage is every error the portal shows.
type ErrorPage struct {
	Page
	Status  int
	Heading string
	Message string
	// ActionURL/ActionText is the one thing the user can do next.
	ActionURL  string
	ActionText string
}

// SignedOutPage is shown after sign-out.
type SignedOutPage struct {
	Page
}

// EmbedSignInPage is GET /embed/login: sign-in from inside an iframe.
type EmbedSignInPage struct {
	Page
	// ReturnPath is the framed page to show once signed in.
	ReturnPath string
	// NewTabURL is the same page at top level, for when neither the popup
	// nor storage access can bring the sign-in back to the frame.
	NewTabURL string
}

// PopupDonePage is GET /embed/popup-done: the end of sign-in in the popup,
// which hands a one-time code to the iframe that opened it.
type PopupDonePage struct {
	Page
	Code string
	// Binding names the iframe's pre-session: the key under which the code
	// waits in localStorage when the popup has lost its opener.
	Binding string
}
