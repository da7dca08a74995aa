package handlers

import (
	"cmp"
	"slices"
	"strings"

	"mfaportal/mfaapi"
)

// factorKind is what a person thinks a factor is, not what Auth0 stores.
type factorKind int

const (
	kindApp factorKind = iota
	kindGuardian
	kindPhone
	kindEmail
	kindOther
	kindRecovery
)

// factorGroup is one line on the factors page: one or more Auth0
// authenticators that a person sees as a single thing.
type factorGroup struct {
	Kind factorKind
	// DeleteID is the authenticator to delete for the whole group; Auth0
	// removes its twin (push with its OTP, SMS with voice on the same phone).
	DeleteID string
	// MemberIDs are every authenticator in the group, DeleteID first.
	MemberIDs []string
	Channels  []string // for phones: "sms", "voice"
	Name      string   // as Auth0 returns it (already masked by Auth0)
	// VerifiedOnly marks an email Auth0 lists because the address is verified,
	// not because the user enrolled it; it cannot be removed here.
	VerifiedOnly bool
}

// deletable reports whether the portal offers to remove the group.
func (g factorGroup) deletable() bool {
	return g.Kind != kindRecovery && !g.VerifiedOnly
}

func (g factorGroup) has(id string) bool { return slices.Contains(g.MemberIDs, id) }

// verifiedEmailPrefix marks emails Auth0 lists only because the user's address
// is verified. The MFA API has no field for this; the emulated tenant uses
// this id convention and the portal also maps Auth0's refusal to a clear
// message, so a different real-world id shape still fails safe.
const verifiedEmailPrefix = "email|verified_"

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

// groupFactors turns Auth0's flat list into what a person sees: inactive
// (unconfirmed) entries hidden, push paired with its OTP twin, SMS and voice
// on one phone shown once. Twins share the id suffix after "|".
func groupFactors(auths []mfaapi.Authenticator) []factorGroup {
	active := make([]mfaapi.Authenticator, 0, len(auths))
	for _, a := range auths {
		if a.Active && validAuthenticatorID(a.ID) {
			active = append(active, a)
		}
	}
	used := make(map[string]bool, len(active))
	var groups []factorGroup

	// Push first, so it can claim its OTP twin before the twin is shown as an app.
	for _, a := range active {
		if a.AuthenticatorType != "oob" || a.Channel() != "auth0" {
			continue
		}
		g := factorGroup{Kind: kindGuardian, DeleteID: a.ID, MemberIDs: []string{a.ID}, Name: a.Name}
		for _, t := range active {
			if t.AuthenticatorType == "otp" && !used[t.ID] && suffix(t.ID) == suffix(a.ID) {
				g.MemberIDs = append(g.MemberIDs, t.ID)
				used[t.ID] = true
				break
			}
		}
		used[a.ID] = true
		groups = append(groups, g)
	}

	phones := map[string]int{} // suffix -> index in groups
	for _, a := range active {
		if used[a.ID] {
			continue
		}
		switch {
		case a.AuthenticatorType == "otp":
			groups = append(groups, factorGroup{Kind: kindApp, DeleteID: a.ID, MemberIDs: []string{a.ID}, Name: a.Name})
		case a.AuthenticatorType == "oob" && (a.Channel() == "sms" || a.Channel() == "voice"):
			key := suffix(a.ID)
			if i, ok := phones[key]; ok {
				groups[i].MemberIDs = append(groups[i].MemberIDs, a.ID)
				groups[i].Channels = append(groups[i].Channels, a.Channel())
				break
			}
			phones[key] = len(groups)
			groups = append(groups, factorGroup{Kind: kindPhone, DeleteID: a.ID, MemberIDs: []string{a.ID}, Channels: []string{a.Channel()}, Name: a.Name})
		case a.AuthenticatorType == "oob" && a.Channel() == "email":
			groups = append(groups, factorGroup{Kind: kindEmail, DeleteID: a.ID, MemberIDs: []string{a.ID}, Name: a.Name,
				VerifiedOnly: strings.HasPrefix(a.ID, verifiedEmailPrefix)})
		case a.AuthenticatorType == "recovery-code":
			groups = append(groups, factorGroup{Kind: kindRecovery, DeleteID: a.ID, MemberIDs: []string{a.ID}})
		default:
			groups = append(groups, factorGroup{Kind: kindOther, DeleteID: a.ID, MemberIDs: []string{a.ID}, Name: a.Name})
		}
		used[a.ID] = true
	}
	for i := range groups {
		slices.SortFunc(groups[i].Channels, func(a, b string) int { return cmp.Compare(channelOrder(a), channelOrder(b)) })
	}
	slices.SortStableFunc(groups, func(a, b factorGroup) int { return cmp.Compare(a.Kind, b.Kind) })
	return groups
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

func suffix(id string) string {
	_, s, _ := strings.Cut(id, "|")
	return s
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
