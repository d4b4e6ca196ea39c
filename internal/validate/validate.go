// Package validate collects the broken rules of a request into an
// *alexa.ValidationError, and holds the userId rule that every API
// package and the emulator apply alike.
package validate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/text"
)

// Violations collects validation problems; its zero value is ready.
type Violations []alexa.Violation

// Add records that field breaks rule; value is shown quoted and shortened
// (text.ShowValue), nil as nothing.
func (vs *Violations) Add(field, rule string, value any) {
	*vs = append(*vs, alexa.Violation{Field: field, Rule: rule, Value: text.ShowValue(value)})
}

// Has reports whether a violation of field was recorded.
func (vs Violations) Has(field string) bool {
	for _, v := range vs {
		if v.Field == field {
			return true
		}
	}
	return false
}

// Err returns an *alexa.ValidationError for op, or nil when nothing was
// recorded.
func (vs Violations) Err(op string) error {
	if len(vs) == 0 {
		return nil
	}
	return &alexa.ValidationError{Op: op, Violations: vs}
}

// MaxUserIDBytes bounds a userId. Alexa's ids (amzn1.ask.account.…) are a
// few hundred bytes; anything much longer is not one.
const MaxUserIDBytes = 512

// CheckUserID reports what is wrong with a non-empty userId, or "" when it
// may be sent. It is the one rule for every userId this module sends or
// the emulator receives (a skill message's path, a Unicast event's
// audience): valid UTF-8 (invalid bytes would be replaced on the way, so
// another id would be sent), no NUL or other control character, at most
// MaxUserIDBytes, and neither "." nor ".." as the whole id or as a
// "/"-separated segment of it (a server or proxy may resolve those as
// path segments). An empty id is the caller's to report as missing.
func CheckUserID(id string) string {
	if plainUserID(id) {
		return ""
	}
	switch {
	case id == "":
		return ""
	case len(id) > MaxUserIDBytes:
		return fmt.Sprintf("must be at most %d bytes, not %d", MaxUserIDBytes, len(id))
	case !utf8.ValidString(id):
		return "must be valid UTF-8"
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return "must not contain NUL or other control characters"
	}
	for seg := range strings.SplitSeq(id, "/") {
		if seg == "." || seg == ".." {
			return `must not be "." or ".." nor have "." or ".." as a "/"-separated segment`
		}
	}
	return ""
}

// AddUserID records the problem CheckUserID finds with a non-empty id, if
// any, as a violation of field.
func (vs *Violations) AddUserID(field, id string) {
	if rule := CheckUserID(id); rule != "" {
		vs.Add(field, rule, id)
	}
}

// plainUserID reports, in one pass over its bytes, whether id is of the
// form every real userId has: printable ASCII without "/", neither "."
// nor "..", within MaxUserIDBytes. Such an id passes CheckUserID.
func plainUserID(id string) bool {
	if len(id) > MaxUserIDBytes || id == "." || id == ".." {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c >= 0x7f || c == '/' {
			return false
		}
	}
	return true
}
