package proactive

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/internal/validate"
)

// PlaceholderPrefix marks a payload value that Alexa replaces with the
// value of KEY from each localizedAttributes entry.
const PlaceholderPrefix = "localizedattribute:"

// MaxRequestBytes bounds the JSON body of one event. Amazon documents no
// limit; this generous one (1 MiB, as bulk.MaxLineBytes) is the one
// alexa-oos applies everywhere, the emulator answering 413 beyond it.
const MaxRequestBytes = 1 << 20

// Rules are the validation rules of a create request. The zero value is
// not useful; start from DefaultRules(). The client, the CLI and the
// emulator all validate with the same Rules.
type Rules struct {
	// MinExpiry and MaxExpiry bound ExpiryTime - Timestamp.
	// Default 5 minutes and 24 hours.
	MinExpiry, MaxExpiry time.Duration
	// StrictReferenceID also requires referenceId to hold only letters,
	// digits and "~", as one line of Amazon's docs says. Off by default:
	// Amazon's own samples use hyphens and UUIDs are accepted in practice.
	StrictReferenceID bool
	// Locales are the locales a localizedAttributes entry may name,
	// spelled exactly so. Nil means SupportedLocales().
	Locales []string
	// AnyLocale also accepts any locale shaped like Alexa's, a language
	// and a region such as "nl-BE": for a locale Alexa added after this
	// release. Off by default, so that a typo ("en-UK") is caught before
	// sending.
	AnyLocale bool
	// Now returns the current time: an expiryTime not after it is
	// refused, as Alexa would drop the notification at once. Nil means
	// time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds the request as sent (compact JSON). 0 means
	// MaxRequestBytes.
	MaxBodyBytes int
}

// DefaultRules returns the documented rules, read leniently where the
// documentation is unsure: an expiry 5 minutes to 24 hours after the
// timestamp, the locales of SupportedLocales, any referenceId of 1-100
// characters. Each call returns a fresh value, so changing one (say,
// StrictReferenceID) changes nobody else's.
func DefaultRules() Rules { return Rules{MinExpiry: 5 * time.Minute, MaxExpiry: 24 * time.Hour} }

// supportedLocales are the locales Alexa supports, as Amazon lists them in
// "Develop Skills in Multiple Languages"
// (https://developer.amazon.com/en-US/docs/alexa/custom-skills/develop-skills-in-multiple-languages.html).
var supportedLocales = []string{
	"ar-SA", "de-DE", "en-AU", "en-CA", "en-GB", "en-IN", "en-US", "es-ES", "es-MX",
	"es-US", "fr-CA", "fr-FR", "hi-IN", "it-IT", "ja-JP", "nl-NL", "pt-BR",
}

// SupportedLocales returns a copy of the locales Alexa supports, as Amazon
// lists them in "Develop Skills in Multiple Languages". The list grows:
// Rules.Locales and Rules.AnyLocale admit others.
func SupportedLocales() []string { return slices.Clone(supportedLocales) }

// Validate checks r against DefaultRules().
func (r *Request) Validate() error { return DefaultRules().Validate(r) }

// Validate checks r and returns an *alexa.ValidationError listing every
// violation, or nil.
func (rules Rules) Validate(r *Request) error {
	return validate.Violations(rules.Check(r)).Err("proactive.Create")
}

// Check returns every violation of r, in field order.
func (rules Rules) Check(r *Request) []alexa.Violation {
	var vs validate.Violations
	decodeFailed := map[string]bool{}
	for _, p := range r.decodeProblems {
		vs = append(vs, alexa.Violation{Field: p.field, Rule: p.rule, Value: text.ShowValue(p.value)})
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
	default:
		if now := rules.now(); !r.ExpiryTime.After(now) {
			vs.Add("expiryTime", "must be in the future: Alexa drops an expired notification",
				fmt.Sprintf("%s, %s ago", FormatTime(r.ExpiryTime), now.Sub(r.ExpiryTime).Round(time.Second)))
		}
		if r.Timestamp.IsZero() {
			break
		}
		d := r.ExpiryTime.Sub(r.Timestamp)
		if d < rules.MinExpiry || d > rules.MaxExpiry {
			vs.Add("expiryTime", fmt.Sprintf("must be %s to %s after timestamp", human(rules.MinExpiry), human(rules.MaxExpiry)),
				fmt.Sprintf("%s, %s after timestamp", FormatTime(r.ExpiryTime), d))
		}
	}
	if r.Event.Name == "" && !decodeFailed["event.name"] {
		vs.Add("event.name", "is required: a schema name such as AMAZON.WeatherAlert.Activated", nil)
	}
	payload, err := r.payloadJSON()
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
		field := fmt.Sprintf("localizedAttributes[%d].locale", i)
		if _, ok := l["locale"]; !ok && !decodeFailed[field] {
			vs.Add(field, "is required", nil)
		} else if rule := rules.localeRule(l.Locale()); rule != "" && !decodeFailed[field] {
			var value any
			if l.Locale() != "" {
				value = l.Locale()
			}
			vs.Add(field, rule, value)
		}
	}
	keys := placeholders(tree)
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
	if n, ok := rules.oversize(r, len(payload)); ok {
		vs.Add("request", fmt.Sprintf("must be at most %d bytes as JSON", rules.maxBody()), fmt.Sprintf("%d bytes", n))
	}
	return vs
}

func (rules Rules) now() time.Time {
	if rules.Now != nil {
		return rules.Now()
	}
	return time.Now()
}

func (rules Rules) maxBody() int { return cmp.Or(rules.MaxBodyBytes, MaxRequestBytes) }

// oversize reports whether r is larger than MaxBodyBytes as sent, and its
// size then. It encodes r only when r may be that large: escaping can at
// most multiply the bytes of a string by six.
func (rules Rules) oversize(r *Request, payloadBytes int) (int, bool) {
	estimate := payloadBytes + len(r.ReferenceID) + len(r.Event.Name) + 512
	for _, l := range r.LocalizedAttributes {
		for k, v := range l {
			estimate += len(k) + len(v) + 6
		}
	}
	for k, v := range r.RelevantAudience.Payload {
		estimate += len(k) + len(fmt.Sprint(v)) + 6
	}
	max := rules.maxBody()
	if estimate*6 <= max {
		return 0, false
	}
	b, err := json.Marshal(r)
	if err != nil || len(b) <= max {
		return 0, false
	}
	return len(b), true
}

// localeRule returns the rule locale breaks, or "" when it is one the
// rules accept.
func (rules Rules) localeRule(locale string) string {
	locales := rules.Locales
	if locales == nil {
		locales = supportedLocales
	}
	if slices.Contains(locales, locale) {
		return ""
	}
	if locale == "" {
		return "must not be empty: a locale such as en-US"
	}
	if i := slices.IndexFunc(locales, func(l string) bool { return strings.EqualFold(l, locale) }); i >= 0 {
		return "must be spelled " + locales[i]
	}
	if rules.AnyLocale {
		if localeShape(locale) {
			return ""
		}
		return "must be a language and a region, such as en-US"
	}
	return "must be a locale Alexa supports: " + strings.Join(locales, ", ")
}

// localeShape reports whether s is shaped like Alexa's locales: two or
// three lower-case letters, "-", two upper-case letters or three digits.
func localeShape(s string) bool {
	lang, region, ok := strings.Cut(s, "-")
	if !ok || len(lang) < 2 || len(lang) > 3 || strings.IndexFunc(lang, func(c rune) bool { return c < 'a' || c > 'z' }) >= 0 {
		return false
	}
	switch len(region) {
	case 2:
		return strings.IndexFunc(region, func(c rune) bool { return c < 'A' || c > 'Z' }) < 0
	case 3:
		return strings.IndexFunc(region, func(c rune) bool { return c < '0' || c > '9' }) < 0
	}
	return false
}

// placeholders returns the sorted KEYs of every localizedattribute:KEY
// string in a decoded JSON payload.
func placeholders(payload any) []string {
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
