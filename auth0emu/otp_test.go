package auth0emu

import (
	"time"

	"github.com/pquerna/otp/totp"
)

func totpAt(secret string, at time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, at, totpOpts)
}
