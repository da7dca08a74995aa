package mfaapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// Enrolment sentinels, beside those in errors.go: the confirmation grants
// answer in ways the portal shows differently.
var (
	// ErrAuthorizationPending: the Guardian app has not answered yet; ask
	// again in a few seconds (Auth0: 400 authorization_pending).
	ErrAuthorizationPending = errors.New("mfaapi: authorization pending")
	// ErrAuthorizationDenied: the person denied the enrolment on the
	// device (Auth0: 400 access_denied).
	ErrAuthorizationDenied = errors.New("mfaapi: authorization denied")
	// ErrInvalidCode: the code is wrong, expired or already used, or the
	// association lapsed (Auth0: 403 invalid_grant or expired_token).
	ErrInvalidCode = errors.New("mfaapi: invalid code")
	// ErrFactorNotEnabled: the tenant has this factor switched off
	// (assumed: 400 unsupported_challenge_type, Auth0's word for a factor
	// it will not use; the recordings hold no such answer).
	ErrFactorNotEnabled = errors.New("mfaapi: factor not enabled")
)

// Channels of POST /mfa/associate. ChannelOTP is an authenticator app;
// the others are Auth0's oob_channels.
const (
	ChannelOTP      = "otp"
	ChannelSMS      = "sms"
	ChannelVoice    = "voice"
	ChannelEmail    = "email"
	ChannelGuardian = "auth0"
)

// Association is what POST /mfa/associate answers: for an app the secret
// and its otpauth URI, for Guardian the URI its app scans, for the others
// the oob_code the confirmation presents. RecoveryCodes come with the
// user's first enrolment only, and must be shown once.
type Association struct {
	AuthenticatorType string   `json:"authenticator_type"`
	Secret            string   `json:"secret,omitempty"`
	BarcodeURI        string   `json:"barcode_uri,omitempty"`
	BindingMethod     string   `json:"binding_method,omitempty"`
	RecoveryCodes     []string `json:"recovery_codes,omitempty"`
	OOBChannel        string   `json:"oob_channel,omitempty"`
	OOBCode           string   `json:"oob_code,omitempty"`
}

// Associate starts enrolling a method for the token's user (scope
// enroll). phoneNumber (E.164) is for sms and voice, email for email. It is
// never retried: a lost answer is ErrOutcomeUnknown, and what it may have
// left is an inactive entry that Auth0 keeps out of challenges.
func (c *Enroller) Associate(ctx context.Context, accessToken, channel, phoneNumber, email string) (Association, error) {
	const op = "associate authenticator"
	if accessToken == "" {
		return Association{}, &APIError{Op: op, Err: ErrUnauthorized, detail: "no access token"}
	}
	req := map[string]any{"authenticator_types": []string{"oob"}, "oob_channels": []string{channel}}
	switch channel {
	case ChannelOTP:
		req = map[string]any{"authenticator_types": []string{"otp"}}
	case ChannelSMS, ChannelVoice:
		req["phone_number"] = phoneNumber
	case ChannelEmail:
		req["email"] = email
	case ChannelGuardian:
	default:
		return Association{}, &APIError{Op: op, Err: ErrBadRequest, detail: "unknown channel"}
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Association{}, &APIError{Op: op, Err: ErrBadRequest, detail: "encoding request"}
	}
	ans, err := c.do(ctx, call{
		op: op, method: http.MethodPost, route: "/mfa/associate", path: "/mfa/associate",
		body: body, bearer: accessToken,
		// An error text that echoes the number or address must not carry
		// it into logs.
		secrets: []string{phoneNumber, email},
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == "unsupported_challenge_type" {
		apiErr.Err = ErrFactorNotEnabled
	}
	if err != nil {
		return Association{}, err
	}
	var a Association
	if err := decodeJSON(ans, &a); err != nil {
		return Association{}, &APIError{Op: op, Status: ans.status, Err: ErrOutcomeUnknown, detail: "unreadable answer"}
	}
	if a.AuthenticatorType == "" || (channel == ChannelOTP && a.Secret == "") || (channel != ChannelOTP && a.OOBCode == "") {
		return Association{}, &APIError{Op: op, Status: ans.status, Err: ErrOutcomeUnknown, detail: "answer lacks what the confirmation needs"}
	}
	return a, nil
}

// Enroller adds methods for the session's user: Associate with the user's
// /mfa/ token, then ConfirmOTP or ConfirmOOB with the mfa-otp and mfa-oob
// grants at /oauth/token, as the portal's own application (its client
// credentials) with that token as mfa_token.
type Enroller struct {
	caller
	clientID, clientSecret string
	secretInForm           bool
}

// EnrollerOption changes how an Enroller authenticates.
type EnrollerOption func(*Enroller)

// WithClientSecretPost sends the client secret in the form
// (client_secret_post), as Auth0's SDKs do, for an application set up so;
// the default is client_secret_basic, as the portal's sign-in uses.
func WithClientSecretPost() EnrollerOption { return func(e *Enroller) { e.secretInForm = true } }

// NewEnroller returns an Enroller for the tenant and the portal's
// application.
func NewEnroller(tenantURL, clientID, clientSecret string, eopts []EnrollerOption, opts ...Option) (*Enroller, error) {
	cl, err := newCaller(tenantURL, opts)
	if err != nil {
		return nil, err
	}
	if clientID == "" {
		return nil, errors.New("mfaapi: NewEnroller needs the application's client id")
	}
	e := &Enroller{caller: cl, clientID: clientID, clientSecret: clientSecret}
	for _, o := range eopts {
		o(e)
	}
	return e, nil
}

// ConfirmOTP confirms an authenticator-app association with its first code.
// accessToken is the user's /mfa/ token, which serves as mfa_token.
func (c *Enroller) ConfirmOTP(ctx context.Context, accessToken, otp string) error {
	return c.grant(ctx, "confirm authenticator app", accessToken, url.Values{
		"grant_type": {"http://auth0.com/oauth/grant-type/mfa-otp"}, "otp": {otp}})
}

// ConfirmOOB confirms an sms, voice, email or Guardian association:
// bindingCode is the code the person received ("" for Guardian, whose
// pending answer is ErrAuthorizationPending).
func (c *Enroller) ConfirmOOB(ctx context.Context, accessToken, oobCode, bindingCode string) error {
	form := url.Values{"grant_type": {"http://auth0.com/oauth/grant-type/mfa-oob"}, "oob_code": {oobCode}}
	if bindingCode != "" {
		form.Set("binding_code", bindingCode)
	}
	return c.grant(ctx, "confirm out-of-band method", accessToken, form)
}

// grant runs one confirmation. It is never retried (a code is single use);
// a lost answer is ErrOutcomeUnknown: the method may be active now.
func (c *Enroller) grant(ctx context.Context, op, accessToken string, form url.Values) error {
	if accessToken == "" {
		return &APIError{Op: op, Err: ErrUnauthorized, detail: "no access token"}
	}
	cl := call{
		op: op, method: http.MethodPost, route: "/oauth/token", path: "/oauth/token",
		form: form, secrets: []string{accessToken, c.clientSecret, form.Get("oob_code")},
	}
	form.Set("client_id", c.clientID)
	switch {
	case c.clientSecret == "":
	case c.secretInForm:
		form.Set("client_secret", c.clientSecret)
	default:
		cl.basicUser, cl.basicPassword = c.clientID, c.clientSecret
	}
	form.Set("mfa_token", accessToken)
	_, err := c.do(ctx, cl)
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == "authorization_pending":
			apiErr.Err = ErrAuthorizationPending
		case apiErr.Code == "access_denied" && apiErr.Status == http.StatusBadRequest:
			apiErr.Err = ErrAuthorizationDenied
		case apiErr.Code == "invalid_grant" || apiErr.Code == "expired_token":
			apiErr.Err = ErrInvalidCode
		case apiErr.Status == http.StatusBadGateway || apiErr.Status == http.StatusGatewayTimeout:
			// A gateway gave up waiting: Auth0 may have confirmed it.
			apiErr.Err = ErrOutcomeUnknown
		}
		return apiErr
	}
	// A 2xx is the confirmation; the tokens it carries are not needed (the
	// session's token keeps working) and are not kept anywhere.
	return err
}
