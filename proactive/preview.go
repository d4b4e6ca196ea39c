package proactive

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/alexa-oos/alexa/internal/validate"
)

// Spoken is the sentence Alexa says for one locale.
type Spoken struct {
	// Locale is the localizedAttributes entry's locale; empty when the
	// request has no entries, as the sentence is then the same everywhere.
	Locale string `json:"locale"`
	// Text is the English sentence.
	Text string `json:"text"`
}

// SpokenTimeFormat is how Preview renders a date-time. Alexa speaks it in
// the device's time zone, which a preview cannot know, so it says UTC.
const SpokenTimeFormat = "Monday, January 2 at 3:04 PM MST"

// Preview returns, for each localizedAttributes entry, the English sentence
// Alexa will speak: the schema's template filled with the payload and that
// locale's values. Enum values are said in lower case with spaces
// (SNOW_STORM: "snow storm"), times as SpokenTimeFormat in UTC.
//
// Amazon documents the sentences of WeatherAlert, MessageAlert, Occasion,
// TrashCollectionAlert and MediaContent; those of SportsEvent, OrderStatus
// and SocialGameInvite are approximations (see each SchemaInfo.Template).
//
// A request whose event or localizedAttributes break the rules gets the
// *alexa.ValidationError instead. Timestamp, expiryTime, referenceId and the
// audience do not change the sentence and are not checked, so a file that
// leaves them to send time can be previewed. A name outside the catalogue
// is an error.
func Preview(r *Request) ([]Spoken, error) { return DefaultRules.Preview(r) }

// Preview is the package's Preview, checking the event and
// localizedAttributes with rules (their locales, for one).
func (rules Rules) Preview(r *Request) ([]Spoken, error) {
	var vs validate.Violations
	for _, v := range rules.Check(r) {
		if strings.HasPrefix(v.Field, "event.") || strings.HasPrefix(v.Field, "localizedAttributes") {
			vs = append(vs, v)
		}
	}
	if err := vs.Err("proactive.Preview"); err != nil {
		return nil, err
	}
	d, ok := lookup(r.Event.Name)
	if !ok {
		return nil, fmt.Errorf("proactive.Preview: %w", unknownSchema(r.Event.Name))
	}
	raw, err := r.PayloadJSON()
	if err != nil {
		return nil, err
	}
	p := d.decode()
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, fmt.Errorf("proactive.Preview: %s payload: %w", d.Name, err)
	}
	locales := r.LocalizedAttributes
	if len(locales) == 0 {
		locales = []LocalizedAttribute{{}}
	}
	out := make([]Spoken, len(locales))
	for i, l := range locales {
		text := func(s string) string {
			if k, ok := strings.CutPrefix(s, PlaceholderPrefix); ok {
				return l[k]
			}
			return s
		}
		out[i] = Spoken{Locale: l.Locale(), Text: p.speak(text)}
	}
	return out, nil
}

// words says an enum value: SNOW_STORM is "snow storm".
func words[T ~string](v T) string {
	return strings.ToLower(strings.ReplaceAll(string(v), "_", " "))
}

// spokenTime says an ISO 8601 time as SpokenTimeFormat in UTC, or the text
// as is if it does not parse.
func spokenTime(s string) string {
	t, err := ParseTime(s)
	if err != nil {
		return s
	}
	return t.UTC().Format(SpokenTimeFormat)
}

// sentence joins the non-empty words with single spaces.
func sentence(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, " ")
}

// and lists items as "a", "a and b", "a, b and c".
func and(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
