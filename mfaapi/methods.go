package mfaapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// AuthMethod is one entry of the Management API's
// GET /api/v2/users/{id}/authentication-methods: what Auth0 says a user's
// method is, how its members group, its name and dates.
type AuthMethod struct {
	ID   string `json:"id"`
	Type string `json:"type"` // totp, push, phone, email, email-verification, webauthn-roaming, webauthn-platform, passkey, recovery-code, …
	// Confirmed is nil when Auth0 leaves it out.
	Confirmed *bool  `json:"confirmed,omitempty"`
	Name      string `json:"name,omitempty"`
	// AuthenticationMethods are the members of this method (a phone's sms
	// and voice, a Guardian enrolment's push and totp), by their MFA API ids.
	AuthenticationMethods []AuthMethodMember `json:"authentication_methods,omitempty"`
	// LinkID names a linked method: linked methods are deleted together.
	LinkID                        string    `json:"link_id,omitempty"`
	PreferredAuthenticationMethod string    `json:"preferred_authentication_method,omitempty"`
	PhoneNumber                   string    `json:"phone_number,omitempty"` // masked by Auth0
	Email                         string    `json:"email,omitempty"`        // masked by Auth0
	CreatedAt                     time.Time `json:"created_at,omitzero"`
	EnrolledAt                    time.Time `json:"enrolled_at,omitzero"`
	LastAuthAt                    time.Time `json:"last_auth_at,omitzero"`
}

// AuthMethodMember is one member of a method.
type AuthMethodMember struct {
	ID   string `json:"id"`
	Type string `json:"type"` // totp, push, sms, voice
}

// MethodUpdate is a PATCH: only the fields set are sent.
type MethodUpdate struct {
	Name                          *string `json:"name,omitempty"`
	PreferredAuthenticationMethod *string `json:"preferred_authentication_method,omitempty"`
}

const (
	opListMethods  = "list authentication methods"
	opUpdateMethod = "update authentication method"
	opDeleteMethod = "delete authentication method"
	// methodsPerPage is the most Auth0 gives per page; maxMethodPages bounds
	// what one listing may fetch (and keep).
	methodsPerPage = 100
	maxMethodPages = 5
)

// ListAuthenticationMethods returns every authentication method of userID
// (the verified sub), confirmed or not, reading Auth0's pages until the total.
func (m *Management) ListAuthenticationMethods(ctx context.Context, userID string) ([]AuthMethod, error) {
	if userID == "" {
		return nil, &APIError{Op: opListMethods, Err: ErrBadRequest, detail: "empty user id"}
	}
	var all []AuthMethod
	for page := 0; page < maxMethodPages; page++ {
		q := url.Values{"include_totals": {"true"}, "per_page": {strconv.Itoa(methodsPerPage)}, "page": {strconv.Itoa(page)}}
		ans, err := m.call(ctx, call{
			op: opListMethods, method: http.MethodGet,
			route:      "/api/v2/users/{id}/authentication-methods",
			path:       "/api/v2/users/" + url.PathEscape(userID) + "/authentication-methods?" + q.Encode(),
			idempotent: true,
		})
		if err != nil {
			return nil, err
		}
		var body struct {
			Authenticators []AuthMethod `json:"authenticators"`
			Total          int          `json:"total"`
		}
		if err := decodeJSON(ans, &body); err != nil {
			return nil, &APIError{Op: opListMethods, Status: ans.status, Err: ErrUpstream, detail: err.Error()}
		}
		all = append(all, body.Authenticators...)
		// Auth0 leaves total out when it is zero (see the recordings).
		if len(body.Authenticators) < methodsPerPage || len(all) >= body.Total {
			return all, nil
		}
	}
	return all, nil
}

// UpdateAuthenticationMethod renames a method or sets a phone's preferred
// channel. The method id must come from the user's own fresh list.
func (m *Management) UpdateAuthenticationMethod(ctx context.Context, userID, methodID string, u MethodUpdate) (AuthMethod, error) {
	if userID == "" {
		return AuthMethod{}, &APIError{Op: opUpdateMethod, Err: ErrBadRequest, detail: "empty user id"}
	}
	if err := checkPathSegment(methodID); err != nil {
		return AuthMethod{}, &APIError{Op: opUpdateMethod, Err: ErrBadRequest, detail: err.Error()}
	}
	body, err := json.Marshal(u)
	if err != nil {
		return AuthMethod{}, &APIError{Op: opUpdateMethod, Err: ErrBadRequest, detail: "encoding"}
	}
	ans, err := m.call(ctx, call{
		op: opUpdateMethod, method: http.MethodPatch,
		route: "/api/v2/users/{id}/authentication-methods/{method_id}",
		path:  "/api/v2/users/" + url.PathEscape(userID) + "/authentication-methods/" + url.PathEscape(methodID),
		body:  body,
		// Setting a name or channel twice leaves the same state.
		idempotent: true,
	})
	if err != nil {
		return AuthMethod{}, err
	}
	var out AuthMethod
	if err := decodeJSON(ans, &out); err != nil {
		// Auth0 said yes; only its echo is unreadable.
		return AuthMethod{}, nil
	}
	return out, nil
}

// DeleteAuthenticationMethod removes a method (and those linked to it) that
// the MFA API cannot remove: security keys and passkeys.
func (m *Management) DeleteAuthenticationMethod(ctx context.Context, userID, methodID string) error {
	if userID == "" {
		return &APIError{Op: opDeleteMethod, Err: ErrBadRequest, detail: "empty user id"}
	}
	if err := checkPathSegment(methodID); err != nil {
		return &APIError{Op: opDeleteMethod, Err: ErrBadRequest, detail: err.Error()}
	}
	_, err := m.call(ctx, call{
		op: opDeleteMethod, method: http.MethodDelete,
		route:      "/api/v2/users/{id}/authentication-methods/{method_id}",
		path:       "/api/v2/users/" + url.PathEscape(userID) + "/authentication-methods/" + url.PathEscape(methodID),
		idempotent: true,
	})
	return err
}
