package views

import (
	"context"

	"mfaportal/i18n"
)

// T is the message key in the request's language, formatted with args.
// Handlers put the request's printer in the context (see i18n.WithPrinter);
// a component rendered without one shows the key itself, which tests notice.
func T(ctx context.Context, key string, args ...any) string {
	if p := i18n.FromContext(ctx); p != nil {
		return p.T(key, args...)
	}
	return key
}
