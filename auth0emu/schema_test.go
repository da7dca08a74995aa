package auth0emu

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// referenceDir holds Auth0's OpenAPI documents and recorded responses.
const referenceDir = "../testdata/auth0-reference"

func loadSpec(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(referenceDir, "openapi", name))
	if err != nil {
		t.Fatalf("reference material missing (testdata/auth0-reference): %v", err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	return spec
}

// path walks a decoded JSON document.
func path(doc any, keys ...string) map[string]any {
	cur := doc
	for _, k := range keys {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	m, _ := cur.(map[string]any)
	return m
}

// schemaValidator checks the JSON Schema subset the Auth0 documents use:
// $ref, type, enum, required, properties, additionalProperties:false,
// items, oneOf, maxLength.
type schemaValidator struct{ root map[string]any }

func (v schemaValidator) resolve(s map[string]any) map[string]any {
	for s != nil {
		ref, ok := s["$ref"].(string)
		if !ok {
			return s
		}
		s = path(v.root, strings.Split(strings.TrimPrefix(ref, "#/"), "/")...)
	}
	return s
}

func (v schemaValidator) validate(where string, value any, s map[string]any) []string {
	s = v.resolve(s)
	if s == nil {
		return []string{where + ": unresolved schema"}
	}
	if alts, ok := s["oneOf"].([]any); ok {
		matched := 0
		for _, alt := range alts {
			if len(v.validate(where, value, alt.(map[string]any))) == 0 {
				matched++
			}
		}
		if matched != 1 {
			return []string{fmt.Sprintf("%s: matches %d of oneOf", where, matched)}
		}
		return nil
	}
	var problems []string
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, value) {
		problems = append(problems, fmt.Sprintf("%s: %v not in enum %v", where, value, enum))
	}
	switch s["type"] {
	case "string":
		str, ok := value.(string)
		if !ok {
			return append(problems, where+": not a string")
		}
		if max, ok := s["maxLength"].(float64); ok && utf8.RuneCountInString(str) > int(max) {
			problems = append(problems, where+": longer than maxLength")
		}
	case "boolean":
		if _, ok := value.(bool); !ok {
			problems = append(problems, where+": not a boolean")
		}
	case "integer", "number":
		n, ok := value.(float64)
		if !ok || s["type"] == "integer" && n != float64(int64(n)) {
			problems = append(problems, where+": not a "+s["type"].(string))
		}
	case "array":
		items, ok := value.([]any)
		if !ok {
			return append(problems, where+": not an array")
		}
		for i, it := range items {
			problems = append(problems, v.validate(fmt.Sprintf("%s[%d]", where, i), it, path(s, "items"))...)
		}
	case "object":
		obj, ok := value.(map[string]any)
		if !ok {
			return append(problems, where+": not an object")
		}
		props := path(s, "properties")
		for _, r := range asStrings(s["required"]) {
			if _, ok := obj[r]; !ok {
				problems = append(problems, where+": missing required "+r)
			}
		}
		for k, val := range obj {
			ps, known := props[k].(map[string]any)
			if !known {
				if s["additionalProperties"] == false {
					problems = append(problems, where+": unexpected property "+k)
				}
				continue
			}
			problems = append(problems, v.validate(where+"."+k, val, ps)...)
		}
	}
	return problems
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func mustValidate(t *testing.T, name string, root map[string]any, schema map[string]any, body []byte) {
	t.Helper()
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if problems := (schemaValidator{root}).validate(name, value, schema); len(problems) > 0 {
		t.Errorf("%s does not match the schema:\n  %s\nbody: %s", name, strings.Join(problems, "\n  "), body)
	}
}

func responseSchema(spec map[string]any, p, method, status string) map[string]any {
	return path(spec, "paths", p, method, "responses", status, "content", "application/json", "schema")
}

// TestResponsesMatchOpenAPI validates the answers to every call the portal
// makes against Auth0's published schemas.
func TestResponsesMatchOpenAPI(t *testing.T) {
	authAPI := loadSpec(t, "authentication-api.json")
	mgmtAPI := loadSpec(t, "management-api.json")
	e := newEnv(t)
	tok := e.mustSignIn(SignIn{Email: "alice@example.com", Password: "alice-demo-pass", MFAMethod: "push"})
	tokenBody, _ := json.Marshal(map[string]any{"access_token": tok.AccessToken, "token_type": tok.TokenType,
		"expires_in": tok.Extra("expires_in"), "id_token": tok.Extra("id_token"), "scope": tok.Extra("scope")})
	mustValidate(t, "token response", authAPI, responseSchema(authAPI, "/oauth/token", "post", "200"), tokenBody)

	m2m := e.tenant.M2MClient()
	_, _, ccBody := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader(url.Values{"grant_type": {"client_credentials"},
		"client_id": {m2m.ID}, "client_secret": {m2m.Secret}, "audience": {e.tenant.ManagementAudience()}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	mustValidate(t, "client credentials response", authAPI, responseSchema(authAPI, "/oauth/token", "post", "200"), ccBody)
	for _, status := range []string{"400", "401"} {
		form := url.Values{"grant_type": {"authorization_code"}, "client_id": {m2m.ID}}
		if status == "400" {
			form = url.Values{"grant_type": {"nope"}}
		}
		_, _, body := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		mustValidate(t, "token error "+status, authAPI, responseSchema(authAPI, "/oauth/token", "post", status), body)
	}

	status, _, list := e.call(http.MethodGet, "/mfa/authenticators", tok.AccessToken, nil)
	if status != 200 {
		t.Fatalf("list: %d", status)
	}
	mustValidate(t, "GET /mfa/authenticators", authAPI, responseSchema(authAPI, "/mfa/authenticators", "get", "200"), list)
	_, _, unauth := e.call(http.MethodGet, "/mfa/authenticators", "", nil)
	mustValidate(t, "GET /mfa/authenticators 401", authAPI, responseSchema(authAPI, "/mfa/authenticators", "get", "401"), unauth)
	for _, tc := range []struct{ id, status string }{{"totp|dev_unknown", "404"}, {verifiedEmailID(e), "400"}} {
		_, _, body := e.call(http.MethodDelete, "/mfa/authenticators/"+url.PathEscape(tc.id), tok.AccessToken, nil)
		mustValidate(t, "DELETE "+tc.status, authAPI, responseSchema(authAPI, "/mfa/authenticators/{id}", "delete", tc.status), body)
	}

	mgmt := e.mgmtToken("update:users", scopeReadAuthMethods, scopeUpdateAuthMethods)
	_, _, regen := e.call(http.MethodPost, "/api/v2/users/auth0%7Calice/recovery-code-regeneration", mgmt, nil)
	mustValidate(t, "recovery-code-regeneration", mgmtAPI, responseSchema(mgmtAPI, "/users/{id}/recovery-code-regeneration", "post", "200"), regen)
	methodsSchema := responseSchema(mgmtAPI, "/users/{id}/authentication-methods", "get", "200")
	for _, q := range []string{"", "?include_totals=true&per_page=50"} {
		_, _, body := e.call(http.MethodGet, "/api/v2/users/auth0%7Calice/authentication-methods"+q, mgmt, nil)
		mustValidate(t, "authentication-methods"+q, mgmtAPI, methodsSchema, body)
	}
	// Every method the list names (push with its twin, phone, both emails,
	// security key, passkey, recovery code) answers GET and PATCH as the
	// spec says.
	var methods []map[string]any
	_, _, all := e.call(http.MethodGet, "/api/v2/users/auth0%7Calice/authentication-methods", mgmt, nil)
	if err := json.Unmarshal(all, &methods); err != nil || len(methods) < 8 {
		t.Fatalf("list: %v %s", err, all)
	}
	methodPath := "/users/{id}/authentication-methods/{authentication_method_id}"
	patchable := enumOf(mgmtAPI, "CreatedAuthenticationMethodTypeEnum")
	for _, m := range methods {
		id, typ := url.PathEscape(m["id"].(string)), m["type"].(string)
		_, _, one := e.call(http.MethodGet, "/api/v2/users/auth0%7Calice/authentication-methods/"+id, mgmt, nil)
		mustValidate(t, "authentication-method "+typ, mgmtAPI, responseSchema(mgmtAPI, methodPath, "get", "200"), one)
		status, _, patched := e.call(http.MethodPatch, "/api/v2/users/auth0%7Calice/authentication-methods/"+id, mgmt, strings.NewReader(`{"name":"Desk"}`))
		if !slices.Contains(patchable, typ) {
			// The PATCH answer's schema has no such type: assumed refused.
			if status != 400 {
				t.Errorf("PATCH %s: %d, want 400 (the spec's answer cannot carry this type)", typ, status)
			}
			continue
		}
		mustValidate(t, "authentication-method patch "+typ, mgmtAPI, responseSchema(mgmtAPI, methodPath, "patch", "200"), patched)
	}
	// Errors: the spec documents each status for the route but gives it no
	// body schema; the body is the Management API's recorded error shape.
	del := e.mgmtToken(scopeDeleteAuthMethods)
	for _, tc := range []struct{ method, path, token, body, op, status, specPath string }{
		{http.MethodGet, "/api/v2/users/auth0%7Calice/authentication-methods/totp%7Cdev_nope", mgmt, "", "get", "404", methodPath},
		{http.MethodGet, "/api/v2/users/auth0%7Calice/authentication-methods?per_page=abc", mgmt, "", "get", "400", "/users/{id}/authentication-methods"},
		{http.MethodGet, "/api/v2/users/auth0%7Calice/authentication-methods", del, "", "get", "403", "/users/{id}/authentication-methods"},
		{http.MethodPatch, "/api/v2/users/auth0%7Calice/authentication-methods/" + url.PathEscape(verifiedEmailID(e)), mgmt, `{"name":"` + strings.Repeat("x", 21) + `"}`, "patch", "400", methodPath},
		{http.MethodDelete, "/api/v2/users/auth0%7Calice/authentication-methods/" + url.PathEscape(verifiedEmailID(e)), mgmt, "", "delete", "403", methodPath},
		{http.MethodDelete, "/api/v2/users/auth0%7Calice/authentication-methods/totp%7Cdev_nope", del, "", "delete", "404", methodPath},
	} {
		status, _, body := e.call(tc.method, tc.path, tc.token, strings.NewReader(tc.body))
		if strconv.Itoa(status) != tc.status {
			t.Errorf("%s %s: %d, want %s", tc.method, tc.path, status, tc.status)
		}
		if path(mgmtAPI, "paths", tc.specPath, tc.op, "responses", tc.status) == nil {
			t.Errorf("%s %s: the spec documents no %s", tc.method, tc.specPath, tc.status)
		}
		var eb struct {
			StatusCode                 int
			Error, Message, ErrorCodeV string
			ErrorCode                  string `json:"errorCode"`
		}
		if err := json.Unmarshal(body, &eb); err != nil || strconv.Itoa(eb.StatusCode) != tc.status || eb.Error == "" || eb.Message == "" || eb.ErrorCode == "" {
			t.Errorf("%s %s: error body %s, want statusCode, error, message and errorCode as recorded", tc.method, tc.path, body)
		}
	}
	// Deletions answer 204 with an empty body, one method or all of them.
	for _, path := range []string{
		"/api/v2/users/auth0%7Calice/authentication-methods/" + url.PathEscape(e.tenant.MethodID("auth0|alice", "webauthn-roaming")),
		"/api/v2/users/auth0%7Calice/authentication-methods",
	} {
		if status, _, body := e.call(http.MethodDelete, path, del, nil); status != 204 || len(body) != 0 {
			t.Errorf("DELETE %s: %d %q, want 204 and no body", path, status, body)
		}
	}
}

// enumOf is the values of a named enum schema of the spec.
func enumOf(spec map[string]any, name string) []string {
	var out []string
	for _, v := range path(spec, "components", "schemas", name)["enum"].([]any) {
		out = append(out, v.(string))
	}
	return out
}

func verifiedEmailID(e *env) string { return e.tenant.MethodID("auth0|alice", "email-verification") }

// recorded is one interaction of a go-vcr cassette.
type recorded struct {
	method, url string
	status      int
	body        string
}

// loadCassette reads the few fields we need from a go-vcr v2 cassette; the
// response bodies are single-quoted YAML scalars on one line.
func loadCassette(t *testing.T, name string) []recorded {
	t.Helper()
	f, err := os.Open(filepath.Join(referenceDir, "recordings", name))
	if err != nil {
		t.Fatalf("reference material missing (testdata/auth0-reference): %v", err)
	}
	defer f.Close()
	var out []recorded
	var cur recorded
	section := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, val, _ := strings.Cut(line, ": ")
		switch {
		case strings.HasPrefix(line, "- id:"):
			if cur.method != "" {
				out = append(out, cur)
			}
			cur, section = recorded{}, ""
		case line == "request:" || line == "response:":
			section = strings.TrimSuffix(line, ":")
		case section == "request" && key == "url":
			cur.url = val
		case section == "request" && key == "method":
			cur.method = val
		case section == "response" && key == "code":
			cur.status, _ = strconv.Atoi(val)
		case section == "response" && key == "body":
			cur.body = yamlScalar(val)
		}
	}
	if cur.method != "" {
		out = append(out, cur)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no interactions parsed", name)
	}
	return out
}

func yamlScalar(s string) string {
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	if s == `""` {
		return ""
	}
	return s
}

func keysOf(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not an object: %s", body)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func find(t *testing.T, rs []recorded, method, urlPart string) recorded {
	t.Helper()
	for _, r := range rs {
		if r.method == method && strings.Contains(r.url, urlPart) {
			return r
		}
	}
	t.Fatalf("no recorded %s %s", method, urlPart)
	return recorded{}
}

// TestResponsesMatchRecordings compares field sets and statuses with what
// real Auth0 answered in the recordings.
func TestResponsesMatchRecordings(t *testing.T) {
	e := newEnv(t)
	mfa := e.mfaToken("auth0|alice", scopeReadAuthenticators, scopeRemoveAuthenticators)

	t.Run("list authenticators", func(t *testing.T) {
		rec := find(t, loadCassette(t, "TestMFAListAuthenticators.yaml"), "GET", "/mfa/authenticators")
		var want []map[string]any
		if err := json.Unmarshal([]byte(rec.body), &want); err != nil {
			t.Fatal(err)
		}
		allowed := map[string]bool{}
		for _, w := range want {
			for k := range w {
				allowed[k] = true
			}
			for _, required := range []string{"id", "authenticator_type", "active"} {
				if _, ok := w[required]; !ok {
					t.Fatalf("recording lacks %s", required)
				}
			}
		}
		_, _, body := e.call(http.MethodGet, "/mfa/authenticators", mfa, nil)
		var got []map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			for k := range g {
				if !allowed[k] {
					t.Errorf("field %q not in the recording", k)
				}
			}
			if _, ok := g["active"].(bool); !ok {
				t.Errorf("active missing: %v", g)
			}
			// Same kinds answer the same shape as recorded.
			for _, w := range want {
				if kindOf(w) == kindOf(g) && !(kindOf(g) == "push" || kindOf(g) == "totp") && !sameKeys(w, g) {
					t.Errorf("%s: keys %v, recorded %v", kindOf(g), keysFrom(g), keysFrom(w))
				}
			}
		}
	})
	t.Run("delete authenticator", func(t *testing.T) {
		rec := find(t, loadCassette(t, "TestMFADeleteAuthenticator.yaml"), "DELETE", "/mfa/authenticators/push%7C")
		var pushID string
		for _, a := range e.tenant.Authenticators("auth0|alice") {
			if strings.HasPrefix(a.ID, "push|") {
				pushID = a.ID
			}
		}
		status, _, body := e.call(http.MethodDelete, "/mfa/authenticators/"+strings.Replace(pushID, "|", "%7C", 1), mfa, nil)
		if status != rec.status || string(body) != rec.body {
			t.Fatalf("got %d %q, recorded %d %q", status, body, rec.status, rec.body)
		}
	})
	t.Run("recovery code regeneration", func(t *testing.T) {
		rec := find(t, loadCassette(t, "TestUserManager_RegenerateRecoveryCode.yaml"), "POST", "recovery-code-regeneration")
		status, _, body := e.call(http.MethodPost, "/api/v2/users/auth0%7Cbob/recovery-code-regeneration", e.mgmtToken("update:users"), strings.NewReader("{}"))
		var got, want map[string]string
		_ = json.Unmarshal(body, &got)
		_ = json.Unmarshal([]byte(rec.body), &want)
		if status != rec.status || !slices.Equal(keysOf(t, string(body)), keysOf(t, rec.body)) || len(got["recovery_code"]) != len(want["recovery_code"]) {
			t.Fatalf("got %d %s, recorded %d %s", status, body, rec.status, rec.body)
		}
	})
	t.Run("client credentials", func(t *testing.T) {
		rec := find(t, loadCassette(t, "TestLoginWithClientCredentials__Should_return_tokens.yaml"), "POST", "/oauth/token")
		m2m := e.tenant.M2MClient()
		status, _, body := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader(url.Values{"grant_type": {"client_credentials"},
			"client_id": {m2m.ID}, "client_secret": {m2m.Secret}, "audience": {e.tenant.ManagementAudience()}}.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		if status != rec.status || !slices.Equal(keysOf(t, string(body)), keysOf(t, rec.body)) {
			t.Fatalf("got %d %s, recorded %d %s", status, body, rec.status, rec.body)
		}
	})
	t.Run("token errors", func(t *testing.T) {
		rec := find(t, loadCassette(t, "TestMFAVerifyWithOOB__Should_return_an_error_when_requesting_before_authorizing.yaml"), "POST", "/oauth/token")
		status, _, body := e.call(http.MethodPost, "/oauth/token", "", strings.NewReader("grant_type=authorization_code&client_id=x"), "Content-Type", "application/x-www-form-urlencoded")
		if !slices.Equal(keysOf(t, string(body)), keysOf(t, rec.body)) || status == 200 {
			t.Fatalf("got %d %s, recorded %s", status, body, rec.body)
		}
	})
	t.Run("authentication methods", func(t *testing.T) {
		rs := loadCassette(t, "TestUserManager_AuthenticationMethods.yaml")
		mgmt := e.mgmtToken(scopeReadAuthMethods, scopeUpdateAuthMethods)
		var recordedList authMethodListRaw
		for _, r := range rs {
			if r.method == "GET" && strings.Contains(r.url, "include_totals=true") && strings.Contains(r.body, `"total":3`) {
				_ = json.Unmarshal([]byte(r.body), &recordedList)
			}
		}
		if len(recordedList.Authenticators) != 3 {
			t.Fatal("recorded list not found")
		}
		_, _, body := e.call(http.MethodGet, "/api/v2/users/auth0%7Cdave/authentication-methods?include_totals=true&per_page=50", mgmt, nil)
		var got authMethodListRaw
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keysOf(t, string(body)), []string{"authenticators", "limit", "start", "total"}) {
			t.Fatalf("list keys %v", keysOf(t, string(body)))
		}
		for _, g := range got.Authenticators {
			for _, w := range recordedList.Authenticators {
				if w["type"] == g["type"] {
					extra := setMinus(keysFrom(g), keysFrom(w))
					missing := setMinus(keysFrom(w), keysFrom(g))
					// last_auth_at is documented; name is optional in the schema.
					if len(setMinus(extra, []string{"last_auth_at"})) > 0 || len(setMinus(missing, []string{"name"})) > 0 {
						t.Errorf("%s: keys %v, recorded %v", g["type"], keysFrom(g), keysFrom(w))
					}
				}
			}
		}
		patchRec := find(t, rs, "PATCH", "authentication-methods/email")
		var emailID string
		for _, a := range e.tenant.Authenticators("auth0|alice") {
			if strings.HasPrefix(a.ID, "email|dev_") {
				emailID = a.ID
			}
		}
		status, _, patched := e.call(http.MethodPatch, "/api/v2/users/auth0%7Calice/authentication-methods/"+url.PathEscape(emailID), mgmt, strings.NewReader(`{"name":"Test2"}`))
		if status != patchRec.status || !slices.Equal(keysOf(t, string(patched)), keysOf(t, patchRec.body)) {
			t.Fatalf("patch %d %s, recorded %d %s", status, patched, patchRec.status, patchRec.body)
		}
	})
}

type authMethodListRaw struct {
	Authenticators []map[string]any `json:"authenticators"`
}

func kindOf(m map[string]any) string {
	id, _ := m["id"].(string)
	k, _, _ := strings.Cut(id, "|")
	return k
}

func keysFrom(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sameKeys(a, b map[string]any) bool { return slices.Equal(keysFrom(a), keysFrom(b)) }

func setMinus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestSchemaValidatorRejects keeps the validator honest: wrong shapes fail.
func TestSchemaValidatorRejects(t *testing.T) {
	authAPI := loadSpec(t, "authentication-api.json")
	mgmtAPI := loadSpec(t, "management-api.json")
	list := responseSchema(authAPI, "/mfa/authenticators", "get", "200")
	item := responseSchema(mgmtAPI, "/users/{id}/authentication-methods/{authentication_method_id}", "get", "200")
	for name, tc := range map[string]struct {
		root, schema map[string]any
		body         string
	}{
		"id not a string":     {authAPI, list, `[{"id":1,"authenticator_type":"otp","active":true}]`},
		"unknown type":        {authAPI, list, `[{"id":"x","authenticator_type":"sms","active":true}]`},
		"object not array":    {authAPI, list, `{}`},
		"extra property":      {mgmtAPI, item, `{"id":"x","type":"totp","created_at":"2024-01-01T00:00:00.000Z","secret":"s"}`},
		"missing created_at":  {mgmtAPI, item, `{"id":"x","type":"totp"}`},
		"name over maxLength": {mgmtAPI, item, `{"id":"x","type":"totp","created_at":"c","name":"123456789012345678901"}`},
	} {
		var value any
		_ = json.Unmarshal([]byte(tc.body), &value)
		if len((schemaValidator{tc.root}).validate(name, value, tc.schema)) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}
