package session

import (
	"errors"
	"net/http"
	"time"
)

// Login is one sign-in round trip through Auth0: written to its own cookie
// before the browser leaves, read and spent once when it comes back.
type Login struct {
	State      string `json:"s"`
	Nonce      string `json:"n"`
	Verifier   string `json:"v"`
	ReturnPath string `json:"r"`
	Created    int64  `json:"c"`
	// ID is what is spent when the round trip is used, so the same cookie
	// is refused the second time even if the browser sends it again.
	ID string `json:"i"`
}

// SaveLogin writes the round trip's cookie, stamped now.
func (s *Store) SaveLogin(w http.ResponseWriter, l *Login) error {
	l.ID = NewToken(16)
	l.Created = s.now().Unix()
	value, err := s.loginSeal.seal(loginCookie.name, l)
	if err != nil {
		return err
	}
	loginCookie.set(w, value, LoginLifetime)
	return nil
}

// TakeLogin reads the request's round trip, deletes its cookie and spends
// it: it is returned once, and nil when it is missing, expired or was used
// before (right or wrong). An error means the key-value store is down.
func (s *Store) TakeLogin(w http.ResponseWriter, r *http.Request) (*Login, error) {
	value := loginCookie.value(r)
	loginCookie.clear(w)
	if value == "" {
		return nil, nil
	}
	var l Login
	if err := s.loginSeal.open(loginCookie.name, value, &l); err != nil {
		return nil, nil
	}
	if l.State == "" || l.ID == "" || s.now().Sub(time.Unix(l.Created, 0)) > LoginLifetime {
		return nil, nil
	}
	// The round trip's cookie and seal last LoginLifetime: so does the mark.
	if err := s.spend(r.Context(), "login:"+l.ID, LoginLifetime); errors.Is(err, ErrSpent) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return &l, nil
}
