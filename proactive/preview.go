package proactive

import (
	"encoding/json"
	"fmt"
	"reflect"
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

// spokenTimeFormat is how Preview says a date-time. Alexa speaks it in the
// device's time zone, which a preview cannot know, so it says UTC.
const spokenTimeFormat = "Monday, January 2 at 3:04 PM MST"

// Preview returns, for each localizedAttributes entry, the English sentence
// Alexa will speak: the schema's template (SchemaInfo.Template) filled with
// the payload and that locale's values. Enum values are said in lower case
// with spaces (SNOW_STORM: "snow storm"), times in UTC, as in "Friday,
// November 27 at 6:00 PM UTC".
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
func Preview(r *Request) ([]Spoken, error) { return DefaultRules().Preview(r) }

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
	raw, err := r.payloadJSON()
	if err != nil {
		return nil, err
	}
	out, err := d.speak(raw, r.LocalizedAttributes)
	if err != nil {
		return nil, fmt.Errorf("proactive.Preview: %w", err)
	}
	return out, nil
}

// speak decodes a payload of d into d's type and fills d's sentence with
// it, once per locale (once in all when there is none).
func (d schemaDef) speak(raw json.RawMessage, locales []LocalizedAttribute) ([]Spoken, error) {
	p := reflect.New(d.typ)
	if err := json.Unmarshal(raw, p.Interface()); err != nil {
		return nil, fmt.Errorf("%s payload: %w", d.Name, err)
	}
	if len(locales) == 0 {
		locales = []LocalizedAttribute{{}}
	}
	out := make([]Spoken, len(locales))
	for i, l := range locales {
		text := func(s string) string {
			if k, ok := strings.CutPrefix(s, PlaceholderPrefix); ok && k != "" {
				return l[k]
			}
			return s
		}
		said, _ := payloadView{value: p.Elem(), decl: d.root, text: text}.say(d.sentence)
		out[i] = Spoken{Locale: l.Locale(), Text: said}
	}
	return out, nil
}

// spokenTime says an ISO 8601 time as spokenTimeFormat in UTC, or the text
// as is if it does not parse.
func spokenTime(s string) string {
	t, err := ParseTime(s)
	if err != nil {
		return s
	}
	return t.UTC().Format(spokenTimeFormat)
}

// and lists items as "a", "a and b", "a, b and c".
func and(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
