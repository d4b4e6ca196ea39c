package proactive

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexa-oos/alexa"
)

// PlaceholderPrefix marks a payload value that Alexa replaces with the
// value of KEY from each localizedAttributes entry.
const PlaceholderPrefix = "localizedattribute:"

// Rules are the validation rules of a create request. The zero value is
// not useful; start from DefaultRules. The client, the CLI and the
// emulator all validate with the same Rules.
type Rules struct {
	// MinExpiry and MaxExpiry bound ExpiryTime - Timestamp.
	// Default 5 minutes and 24 hours.
	MinExpiry, MaxExpiry time.Duration
	// StrictReferenceID also requires referenceId to hold only letters,
	// digits and "~", as one line of Amazon's docs says. Off by default:
	// Amazon's own samples use hyphens and UUIDs are accepted in practice.
	StrictReferenceID bool
}

// DefaultRules are the documented rules, read leniently where the
// documentation is unsure.
var DefaultRules = Rules{MinExpiry: 5 * time.Minute, MaxExpiry: 24 * time.Hour}

// Validate checks r against DefaultRules.
func (r *Request) Validate() error { return DefaultRules.Validate(r) }

// Validate checks r and returns an *alexa.ValidationError listing every
// violation, or nil.
func (rules Rules) Validate(r *Request) error {
	return alexa.Violations(rules.Check(r)).Err("proactive.Create")
}

// Check returns every violation of r, in field order.
func (rules Rules) Check(r *Request) []alexa.Violation {
	var vs alexa.Violations
	decodeFailed := map[string]bool{}
	for _, p := range r.decodeProblems {
		vs = append(vs, alexa.Violation{Field: p.field, Rule: p.rule, Value: alexa.ShowValue(p.value)})
		decodeFailed[p.field] = true
	}
	if r.Timestamp.IsZero() && !decodeFailed["timestamp"] {
		vs.Add("timestamp", "is required", nil)
	}
	n := utf8.RuneCountInString(r.ReferenceID)
	switch {
	case n == 0:
		if !decodeFailed["referenceId"] {
			vs.Add("referenceId", "is required (1-100 characters)", nil)
		}
	case n > 100:
		vs.Add("referenceId", "must be 1-100 characters", fmt.Sprintf("%d characters", n))
	case rules.StrictReferenceID && strings.IndexFunc(r.ReferenceID, func(c rune) bool {
		return !(c == '~' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}) >= 0:
		vs.Add("referenceId", "must hold only letters, digits and ~", r.ReferenceID)
	}
	switch {
	case r.ExpiryTime.IsZero():
		if !decodeFailed["expiryTime"] {
			vs.Add("expiryTime", "is required", nil)
		}
	case !r.Timestamp.IsZero():
		d := r.ExpiryTime.Sub(r.Timestamp)
		if d < rules.MinExpiry || d > rules.MaxExpiry {
			vs.Add("expiryTime", fmt.Sprintf("must be %s to %s after timestamp", human(rules.MinExpiry), human(rules.MaxExpiry)),
				fmt.Sprintf("%s, %s after timestamp", FormatTime(r.ExpiryTime), d))
		}
	}
	if r.Event.Name == "" && !decodeFailed["event.name"] {
		vs.Add("event.name", "is required: a schema name such as AMAZON.WeatherAlert.Activated", nil)
	}
	payload, err := r.PayloadJSON()
	var tree any
	switch {
	case err != nil:
		vs.Add("event.payload", "must encode as JSON: "+err.Error(), nil)
	case len(payload) == 0 || string(payload) == "null":
		vs.Add("event.payload", "is required: the schema's payload object", nil)
	case payload[0] != '{':
		vs.Add("event.payload", "must be a JSON object", string(payload))
	default:
		d := json.NewDecoder(bytes.NewReader(payload))
		d.UseNumber()
		if err := d.Decode(&tree); err != nil {
			vs.Add("event.payload", "must be valid JSON", err.Error())
		}
	}
	for i, l := range r.LocalizedAttributes {
		if l.Locale() == "" {
			vs.Add(fmt.Sprintf("localizedAttributes[%d].locale", i), "is required", nil)
		}
	}
	keys := Placeholders(tree)
	if len(keys) > 0 && len(r.LocalizedAttributes) == 0 {
		vs.Add("localizedAttributes", "must have an entry per locale: the payload uses "+PlaceholderPrefix+strings.Join(keys, ", "+PlaceholderPrefix), nil)
	}
	for i, l := range r.LocalizedAttributes {
		for _, k := range keys {
			if _, ok := l[k]; !ok {
				vs.Add(fmt.Sprintf("localizedAttributes[%d].%s", i, k), fmt.Sprintf("is required for locale %s: the payload uses %s%s", cmp.Or(l.Locale(), "(none)"), PlaceholderPrefix, k), nil)
			}
		}
	}
	a := r.RelevantAudience
	switch a.Type {
	case Unicast:
		if u, ok := a.Payload["user"].(string); !ok || u == "" {
			vs.Add("relevantAudience.payload.user", "is required for a Unicast audience: the userId of the customer", nil)
		} else {
			vs.AddUserID("relevantAudience.payload.user", u)
		}
	case Multicast:
	case "":
		if !decodeFailed["relevantAudience.type"] {
			vs.Add("relevantAudience.type", "is required: Unicast or Multicast", nil)
		}
	default:
		vs.Add("relevantAudience.type", "must be Unicast or Multicast", string(a.Type))
	}
	if tree != nil && r.Event.Name != "" {
		vs = append(vs, checkSchema(r.Event.Name, tree, r.LocalizedAttributes)...)
	}
	return vs
}

// Placeholders returns the sorted KEYs of every localizedattribute:KEY
// string in a decoded JSON payload.
func Placeholders(payload any) []string {
	seen := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			if k, ok := strings.CutPrefix(x, PlaceholderPrefix); ok && k != "" {
				seen[k] = true
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(payload)
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// human renders a whole number of hours or minutes plainly.
func human(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
