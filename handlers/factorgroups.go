package handlers

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"mfaportal/mfaapi"
)

// factorKind is what a person thinks a factor is, not what Auth0 stores.
type factorKind int

const (
	kindApp factorKind = iota
	kindGuardian
	kindPhone
	kindEmail
	kindSecurityKey
	kindPasskey
	kindOther
	kindRecovery
)

// removal is how the portal removes a group, if it may.
type removal int

const (
	// removeNone: not offered (a recovery code is replaced, a verified
	// email was never enrolled, or the relations are unknown).
	removeNone removal = iota
	// removeMFA: DELETE /mfa/authenticators/{DeleteID} with the user's own
	// token; Auth0 removes the group's other members with it.
	removeMFA
	// removeManagement: the Management API deletes MethodID (security keys
	// and passkeys, which the MFA API does not know).
	removeManagement
)

// factorGroup is one line on the factors page: what Auth0 says is one
// method, whose members (a phone's text and voice, a Guardian app's push
// and one-time codes) a person sees as one thing.
type factorGroup struct {
	Kind factorKind
	// ID names the group in the portal's URLs: its MFA API id when the MFA
	// API lists it, else its Management API id.
	ID string
	// DeleteID is the MFA API id to delete for the whole group (removeMFA).
	DeleteID string
	// MethodID is the Management API method id; "" when not known.
	MethodID string
	// MemberIDs are every id of the group, MFA API and Management API.
	MemberIDs []string
	// HasOTPTwin: a Guardian enrolment whose one-time codes go with it.
	HasOTPTwin bool
	Channels   []string // for phones: "sms", "voice" (active ones)
	// Masked is Auth0's masked phone number or email, as Auth0 sent it.
	Masked string
	// Name is the user's own label for it (the Management API's name).
	Name      string
	Preferred string // a phone's preferred channel
	Added     time.Time
	LastUsed  time.Time
	// VerifiedOnly marks the account's verified email (type
	// email-verification): listed, never enrolled, not removable.
	VerifiedOnly bool
	Removal      removal
	// Renamable: the Management API takes a new name for its type.
	Renamable bool
}

// deletable reports whether the portal offers to remove the group.
func (g factorGroup) deletable() bool { return g.Removal != removeNone }

func (g factorGroup) has(id string) bool { return slices.Contains(g.MemberIDs, id) }

// validAuthenticatorID accepts the shape of Auth0 authenticator ids
// ("totp|dev_abc"): a type of [a-z0-9-]{1,32}, "|", then [A-Za-z0-9_-]{1,128}.
// Anything else never reaches Auth0. A loop, not a regexp: it runs for every
// authenticator of every page view.
func validAuthenticatorID(id string) bool {
	kind, rest, ok := strings.Cut(id, "|")
	if !ok || len(kind) < 1 || len(kind) > 32 || len(rest) < 1 || len(rest) > 128 {
		return false
	}
	for i := 0; i < len(kind); i++ {
		if c := kind[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// groupFactors turns Auth0's two lists into what a person sees. The MFA
// API (the user's token) says what is active; the Management API says what
// each entry is and which entries are one method: its authentication_methods
// (a phone's sms and voice, a Guardian app's push and totp) and link_id
// (linked methods are deleted together). Nothing is inferred from the shape
// of an id. Without the Management API's list (detailed false) every active
// entry stands alone, and nothing is offered for removal: which entries go
// together is unknown.
func groupFactors(auths []mfaapi.Authenticator, methods []mfaapi.AuthMethod, detailed bool) []factorGroup {
	active := make([]mfaapi.Authenticator, 0, len(auths))
	for _, a := range auths {
		if a.Active && validAuthenticatorID(a.ID) {
			active = append(active, a)
		}
	}
	var groups []factorGroup
	if !detailed {
		for _, a := range active {
			groups = append(groups, mfaOnlyGroup(a))
		}
	} else {
		groups = detailedGroups(active, methods)
	}
	for i := range groups {
		slices.SortFunc(groups[i].Channels, func(a, b string) int { return cmp.Compare(channelOrder(a), channelOrder(b)) })
	}
	slices.SortStableFunc(groups, func(a, b factorGroup) int { return cmp.Compare(a.Kind, b.Kind) })
	return groups
}

// mfaOnlyGroup is one active MFA API entry on its own.
func mfaOnlyGroup(a mfaapi.Authenticator) factorGroup {
	g := factorGroup{ID: a.ID, MemberIDs: []string{a.ID}, Kind: kindOther, Masked: a.Name}
	switch {
	case a.AuthenticatorType == "otp":
		g.Kind, g.Masked = kindApp, ""
	case a.AuthenticatorType == "oob" && a.Channel() == "auth0":
		g.Kind, g.Masked, g.Name = kindGuardian, "", a.Name
	case a.AuthenticatorType == "oob" && (a.Channel() == "sms" || a.Channel() == "voice"):
		g.Kind, g.Channels = kindPhone, []string{a.Channel()}
	case a.AuthenticatorType == "oob" && a.Channel() == "email":
		g.Kind = kindEmail
	case a.AuthenticatorType == "recovery-code":
		g.Kind, g.Masked = kindRecovery, ""
	}
	return g
}

// kindOfMethod is what a person calls a Management API method type.
func kindOfMethod(t string) factorKind {
	switch t {
	case "totp":
		return kindApp
	case "push", "guardian":
		return kindGuardian
	case "phone", "sms", "voice":
		return kindPhone
	case "email", "email-verification":
		return kindEmail
	case "webauthn-roaming":
		return kindSecurityKey
	case "webauthn-platform", "passkey":
		return kindPasskey
	case "recovery-code":
		return kindRecovery
	}
	return kindOther
}

// primaryRank orders method types by how well they name a group.
func primaryRank(t string) int {
	switch t {
	case "push", "guardian", "phone":
		return 0
	case "totp":
		return 2
	case "sms", "voice":
		return 3
	}
	return 1
}

// renamableTypes are the method types the Management API renames (the
// types its PATCH answer may carry).
var renamableTypes = []string{"phone", "email", "totp", "webauthn-roaming"}

// managementOnlyTypes are methods the MFA API cannot see or remove.
var managementOnlyTypes = []string{"webauthn-roaming", "webauthn-platform", "passkey"}

// detailedGroups joins the two lists.
func detailedGroups(active []mfaapi.Authenticator, methods []mfaapi.AuthMethod) []factorGroup {
	// Methods that share an id (a member) or a link_id are one group:
	// union-find over the methods' indexes.
	parent := make([]int, len(methods))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	claim := func(id string, i int) {
		if j, ok := owner[id]; ok {
			parent[find(i)] = find(j)
			return
		}
		owner[id] = i
	}
	for i, m := range methods {
		claim(m.ID, i)
		for _, mem := range m.AuthenticationMethods {
			claim(mem.ID, i)
		}
	}
	for i, m := range methods {
		if j, ok := owner[m.LinkID]; ok && m.LinkID != "" {
			parent[find(i)] = find(j)
		}
	}
	byRoot := map[int][]int{}
	var roots []int
	for i := range methods {
		r := find(i)
		if _, seen := byRoot[r]; !seen {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], i)
	}
	activeByID := make(map[string]mfaapi.Authenticator, len(active))
	for _, a := range active {
		activeByID[a.ID] = a
	}
	used := map[string]bool{}
	var groups []factorGroup
	for _, r := range roots {
		g, ok := methodGroup(methods, byRoot[r], activeByID, used)
		if ok {
			groups = append(groups, g)
		}
	}
	// Active entries the Management API did not name: shown, but nothing is
	// claimed about them and they are not offered for removal.
	for _, a := range active {
		if !used[a.ID] {
			groups = append(groups, mfaOnlyGroup(a))
		}
	}
	return groups
}

// methodGroup makes the group of the methods at idx, or false when it is
// not active (the MFA API does not list it as active, and it is not a
// method only the Management API knows).
func methodGroup(methods []mfaapi.AuthMethod, idx []int, activeByID map[string]mfaapi.Authenticator, used map[string]bool) (factorGroup, bool) {
	// The primary method names the group: the most specific one (a
	// Guardian enrolment over a totp linked to it, a phone over its channels).
	primary := methods[idx[0]]
	for _, i := range idx[1:] {
		if m := methods[i]; primaryRank(m.Type) < primaryRank(primary.Type) {
			primary = m
		}
	}
	g := factorGroup{Kind: kindOfMethod(primary.Type), MethodID: primary.ID, Name: primary.Name,
		Preferred: primary.PreferredAuthenticationMethod, Added: primary.CreatedAt,
		Masked: cmp.Or(primary.PhoneNumber, primary.Email), VerifiedOnly: primary.Type == "email-verification"}
	var mfaIDs []string
	add := func(id, memberType string) {
		if g.has(id) {
			return
		}
		g.MemberIDs = append(g.MemberIDs, id)
		a, isActive := activeByID[id]
		if !isActive {
			return
		}
		used[id] = true
		mfaIDs = append(mfaIDs, id)
		if g.Masked == "" && a.Name != "" && g.Kind != kindGuardian {
			g.Masked = a.Name
		}
		switch {
		case memberType == "sms" || memberType == "voice":
			g.Channels = append(g.Channels, memberType)
		case memberType == "totp" && g.Kind == kindGuardian:
			g.HasOTPTwin = true
		}
	}
	confirmed := false
	for _, i := range idx {
		m := methods[i]
		add(m.ID, m.Type)
		for _, mem := range m.AuthenticationMethods {
			add(mem.ID, mem.Type)
		}
		if m.LastAuthAt.After(g.LastUsed) {
			g.LastUsed = m.LastAuthAt
		}
		confirmed = confirmed || m.Confirmed == nil || *m.Confirmed
	}
	switch {
	case len(mfaIDs) > 0:
		// Delete the member that names the method for the MFA API: the push
		// of a Guardian enrolment, else the first active one.
		g.ID, g.DeleteID, g.Removal = mfaIDs[0], mfaIDs[0], removeMFA
		for _, id := range mfaIDs {
			if a := activeByID[id]; g.Kind == kindGuardian && a.Channel() == "auth0" {
				g.ID, g.DeleteID = id, id
			}
		}
	case slices.Contains(managementOnlyTypes, primary.Type) && confirmed:
		g.ID, g.Removal = primary.ID, removeManagement
	case g.VerifiedOnly && confirmed:
		g.ID = primary.ID
	default:
		return factorGroup{}, false
	}
	if g.Kind == kindRecovery || g.VerifiedOnly {
		g.Removal = removeNone
	}
	g.Renamable = slices.Contains(renamableTypes, primary.Type)
	return g, true
}

// findGroup returns the group holding id.
func findGroup(groups []factorGroup, id string) (factorGroup, bool) {
	for _, g := range groups {
		if g.has(id) {
			return g, true
		}
	}
	return factorGroup{}, false
}

// countDeletable counts the groups a user could remove: their real factors.
func countDeletable(groups []factorGroup) int {
	n := 0
	for _, g := range groups {
		if g.deletable() {
			n++
		}
	}
	return n
}

func channelOrder(c string) int {
	if c == "sms" {
		return 0
	}
	return 1
}

// maskedForDisplay shows Auth0's masked value with bullets instead of the
// mask characters Auth0 uses ("XXXXXXXXX9167" becomes "•••\u00a09167"). It never
// reveals more than Auth0 sent: it only replaces and shortens mask runs.
func maskedForDisplay(name string) string {
	var b strings.Builder
	inMask := false
	for _, r := range name {
		if r == 'X' || r == '*' || r == '•' {
			if !inMask {
				b.WriteString("•••")
				inMask = true
			}
			continue
		}
		if inMask && r >= '0' && r <= '9' && b.Len() == len("•••") {
			// A phone masked from the start reads better with a gap: "••• 9167",
			// a no-break space, so a line never ends between mask and digits.
			b.WriteRune('\u00a0')
		}
		inMask = false
		b.WriteRune(r)
	}
	return b.String()
}
