package proactive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/internal/text"
	"github.com/alexa-oos/alexa/internal/validate"
)

// Schema is a typed event payload. Each payload type of the catalogue
// implements it, so that the event name comes from the type and cannot be
// misspelled.
type Schema interface {
	// EventName is the schema name, such as "AMAZON.WeatherAlert.Activated".
	EventName() string
}

// NewEvent returns the Event of a create request carrying p under its own
// schema name.
func NewEvent(p Schema) Event { return Event{Name: p.EventName(), Payload: p} }

// Placeholder returns "localizedattribute:KEY": a payload value that Alexa
// replaces, per locale, with KEY of each localizedAttributes entry.
func Placeholder(key string) string { return PlaceholderPrefix + key }

// EnUS is the one locale of the en-US-only schemas.
const EnUS = "en-US"

// SchemaInfo describes one schema of the catalogue, for tools that list
// schemas or write request skeletons.
type SchemaInfo struct {
	// Name is the event name, such as "AMAZON.WeatherAlert.Activated".
	Name string
	// EnUSOnly is true for the schemas Alexa supports in en-US only: a
	// request with another locale is refused.
	EnUSOnly bool
	// Template is the sentence Alexa speaks, with <field> holes.
	Template string
	// Approximate is true when Amazon documents no sentence for the schema
	// and Template (and Preview) is this package's guess.
	Approximate bool
	// Example returns a fresh, valid example payload and the values of the
	// placeholders it uses (without "locale"), the same for every locale.
	// Its times, if any, lie ahead of now, so that its sentence speaks of
	// the future.
	Example func(now time.Time) (Schema, map[string]string)
}

// schemaDef is a catalogue entry: what SchemaInfo says, plus the rules and
// the sentence, which stay unexported.
type schemaDef struct {
	SchemaInfo
	// check validates the decoded payload.
	check func(payload node)
	// decode returns a pointer to a zero payload, for Preview.
	decode func() speaker
}

// speaker is a typed payload that can say its sentence; text resolves a
// localizedattribute:KEY value for one locale and returns literals as is.
type speaker interface {
	Schema
	speak(text func(string) string) string
}

// catalogue is every known schema, in the order of Amazon's docs.
var catalogue = []schemaDef{
	weatherAlertSchema,
	sportsEventSchema,
	messageAlertSchema,
	orderStatusSchema,
	occasionSchema,
	trashCollectionSchema,
	mediaContentSchema,
	socialGameInviteSchema,
}

// Schemas returns the catalogue: the eight schemas Amazon documents.
func Schemas() []SchemaInfo {
	out := make([]SchemaInfo, len(catalogue))
	for i, d := range catalogue {
		out[i] = d.SchemaInfo
	}
	return out
}

// LookupSchema returns the catalogue entry of name.
func LookupSchema(name string) (SchemaInfo, bool) {
	d, ok := lookup(name)
	return d.SchemaInfo, ok
}

func lookup(name string) (schemaDef, bool) {
	for _, d := range catalogue {
		if d.Name == name {
			return d, true
		}
	}
	return schemaDef{}, false
}

func unknownSchema(name string) error {
	names := make([]string, len(catalogue))
	for i, d := range catalogue {
		names[i] = d.Name
	}
	return fmt.Errorf("unknown schema %q: known schemas are %s", name, strings.Join(names, ", "))
}

// Skeleton returns a valid request for schema name, as
// DefaultRules.Skeleton does.
func Skeleton(name string, locales []string, audience Audience) (*Request, error) {
	return DefaultRules.Skeleton(name, locales, audience)
}

// Skeleton returns a valid request for schema name with the example
// payload (its times counted from rules.Now), a localizedAttributes entry
// per locale (en-US when none is given) and audience. Each locale must be
// one the rules accept. Timestamp, ExpiryTime and ReferenceID are left
// empty: they belong to the moment of sending.
func (rules Rules) Skeleton(name string, locales []string, audience Audience) (*Request, error) {
	d, ok := lookup(name)
	if !ok {
		return nil, unknownSchema(name)
	}
	if len(locales) == 0 {
		locales = []string{EnUS}
	}
	payload, values := d.Example(rules.now())
	r := &Request{Event: NewEvent(payload), RelevantAudience: audience}
	for _, loc := range locales {
		if rule := rules.localeRule(loc); rule != "" {
			return nil, fmt.Errorf("locale %q: %s", loc, rule)
		}
		if d.EnUSOnly && loc != EnUS {
			return nil, fmt.Errorf("%s is available in %s only, not %s", name, EnUS, loc)
		}
		l := LocalizedAttribute{"locale": loc}
		for k, v := range values {
			l[k] = v
		}
		r.LocalizedAttributes = append(r.LocalizedAttributes, l)
	}
	return r, nil
}

// Warnings returns what may be wrong with r without making it invalid: a
// top-level field the API does not know, an event name outside the catalogue, a literal where the schema expects a
// placeholder, more garbage types than one source allows. Validate reports
// the errors; Warnings ignores them.
func Warnings(r *Request) []string {
	var ws []string
	for _, k := range r.unknownFields {
		// A misspelt field, such as "expiryTme", is otherwise dropped
		// silently (and then filled). encoding/json matched a wrongly
		// cased one, which Alexa may not.
		if i := slices.IndexFunc(RequestFields, func(f string) bool { return strings.EqualFold(f, k) }); i >= 0 {
			ws = append(ws, fmt.Sprintf("%s: read as %s, but the API spells it %s", k, RequestFields[i], RequestFields[i]))
			continue
		}
		ws = append(ws, fmt.Sprintf("%s: unknown field is ignored; the request fields are %s", k, strings.Join(RequestFields, ", ")))
	}
	if r.Event.Name == "" {
		return ws
	}
	d, ok := lookup(r.Event.Name)
	if !ok {
		return append(ws, fmt.Sprintf("event.name: %q is not in the schema catalogue; Alexa may refuse it", r.Event.Name))
	}
	raw, err := r.PayloadJSON()
	if err != nil {
		return ws
	}
	var tree any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&tree) != nil {
		return ws
	}
	return append(ws, inspect(d, tree, r.LocalizedAttributes).warnings...)
}

// checkSchema applies the rules of the catalogue schema name to a decoded
// payload. Names outside the catalogue pass: Amazon may add schemas, and
// Warnings says so instead.
func checkSchema(name string, payload any, locales []LocalizedAttribute) []alexa.Violation {
	d, ok := lookup(name)
	if !ok {
		return nil
	}
	return inspect(d, payload, locales).vs
}

// findings collects the violations and warnings of one payload.
type findings struct {
	vs       validate.Violations
	warnings []string
}

func inspect(d schemaDef, payload any, locales []LocalizedAttribute) *findings {
	f := &findings{}
	root := node{f: f, path: "event.payload"}
	root.m, _ = payload.(map[string]any)
	if root.m != nil {
		d.check(root)
	}
	if d.EnUSOnly {
		for i, l := range locales {
			if loc := l.Locale(); loc != "" && loc != EnUS {
				f.vs.Add(fmt.Sprintf("localizedAttributes[%d].locale", i), fmt.Sprintf("must be %s: %s is available in %s only", EnUS, d.Name, EnUS), loc)
			}
		}
	}
	return f
}

// enum is the list of values of one enumerated field: the single source of
// the allowed values, for the validator and its messages alike.
type enum[T ~string] []T

func (e enum[T]) has(s string) bool {
	for _, v := range e {
		if string(v) == s {
			return true
		}
	}
	return false
}

func (e enum[T]) String() string {
	parts := make([]string, len(e))
	for i, v := range e {
		parts[i] = string(v)
	}
	return strings.Join(parts, ", ")
}

// enumSet is an enum of any string type.
type enumSet interface {
	has(string) bool
	String() string
}

// node is an object of the payload being checked, at a JSON path. A node
// whose m is nil is absent or was not an object: that was reported where
// it was found, so checks below it say nothing more.
type node struct {
	f    *findings
	path string
	m    map[string]any
}

func (n node) at(key string) string { return n.path + "." + key }

// has reports whether key is present and not null.
func (n node) has(key string) bool { return n.m != nil && n.m[key] != nil }

// get returns the value of key, reporting it when required and absent;
// what says what the value must be.
func (n node) get(key string, required bool, what string) (any, bool) {
	if !n.has(key) {
		if required && n.m != nil {
			n.f.vs.Add(n.at(key), "is required: "+what, nil)
		}
		return nil, false
	}
	return n.m[key], true
}

func (n node) object(key string, required bool) node {
	child := node{f: n.f, path: n.at(key)}
	v, ok := n.get(key, required, "an object")
	if !ok {
		return child
	}
	if child.m, ok = v.(map[string]any); !ok {
		n.f.vs.Add(child.path, "must be an object", shown(v))
	}
	return child
}

// str checks a non-empty string.
func (n node) str(key string, required bool) (string, bool) {
	v, ok := n.get(key, required, "a string")
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	switch {
	case !ok:
		n.f.vs.Add(n.at(key), "must be a string", shown(v))
	case strings.TrimSpace(s) == "":
		n.f.vs.Add(n.at(key), "must not be empty", s)
	default:
		return s, true
	}
	return "", false
}

// text checks a field the schema marks "L": Alexa expects a
// localizedattribute:KEY placeholder (placeholder is the conventional one),
// and a literal is only warned about, as sources disagree on how strict
// Alexa is. Validate already checks that every locale resolves the key.
func (n node) text(key, placeholder string, required bool) {
	s, ok := n.str(key, required)
	if !ok {
		return
	}
	k, isPlaceholder := strings.CutPrefix(s, PlaceholderPrefix)
	switch {
	case isPlaceholder && strings.TrimSpace(k) == "":
		n.f.vs.Add(n.at(key), "must name a key: "+placeholder, s)
	case !isPlaceholder:
		n.f.warnings = append(n.f.warnings, fmt.Sprintf("%s: %s is a literal; the schema expects a placeholder such as %s, resolved per locale", n.at(key), text.ShowValue(s), placeholder))
	}
}

func (n node) enum(key string, required bool, e enumSet) {
	v, ok := n.get(key, required, "one of "+e.String())
	if ok {
		checkEnum(n.f, n.at(key), v, e)
	}
}

func checkEnum(f *findings, path string, v any, e enumSet) {
	if s, ok := v.(string); !ok || !e.has(s) {
		f.vs.Add(path, "must be one of "+e.String(), shown(v))
	}
}

// enumList checks a non-empty array of enum values and returns its length.
func (n node) enumList(key string, required bool, e enumSet) int {
	v, ok := n.get(key, required, "an array of "+e.String())
	if !ok {
		return 0
	}
	list, ok := v.([]any)
	switch {
	case !ok:
		n.f.vs.Add(n.at(key), "must be an array of "+e.String(), shown(v))
	case len(list) == 0:
		n.f.vs.Add(n.at(key), "must list at least one of "+e.String(), nil)
	}
	for i, item := range list {
		checkEnum(n.f, fmt.Sprintf("%s[%d]", n.at(key), i), item, e)
	}
	return len(list)
}

// count checks a whole number that is not negative: a count or a score.
func (n node) count(key string, required bool) {
	const rule = "a whole number, 0 or more"
	v, ok := n.get(key, required, rule)
	if !ok {
		return
	}
	if i, isInt := wholeNumber(v); !isInt || i < 0 {
		n.f.vs.Add(n.at(key), "must be "+rule, shown(v))
	}
}

func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		i, err := x.Int64()
		return i, err == nil
	case float64: // a payload decoded without UseNumber
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

func (n node) time(key string, required bool) {
	const rule = "an ISO 8601 date-time such as 2026-11-25T12:00:00Z"
	v, ok := n.get(key, required, rule)
	if !ok {
		return
	}
	if s, isStr := v.(string); !isStr {
		n.f.vs.Add(n.at(key), "must be "+rule, shown(v))
	} else if _, err := ParseTime(s); err != nil {
		n.f.vs.Add(n.at(key), "must be "+rule, s)
	}
}

// jsonText is JSON that text.ShowValue prints unquoted.
type jsonText string

// shown renders objects and arrays of a violation's value as JSON rather
// than Go's map syntax.
func shown(v any) any {
	switch v.(type) {
	case map[string]any, []any:
		b, _ := json.Marshal(v)
		return jsonText(b)
	}
	return v
}

// ahead returns the whole hour at least d after now, in UTC: example times
// read better on the hour.
func ahead(now time.Time, d time.Duration) time.Time {
	return now.Add(d).UTC().Truncate(time.Hour).Add(time.Hour)
}
