package proactive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lampOn and lampOnBare are one test schema, with and without its optional
// room: what the struct declares is what the validator checks, what the
// preview says and what the example holds.
type lampOn struct {
	Lamp lamp `json:"lamp" schema:"required"`
}

type lamp struct {
	Alert WeatherAlertType `json:"alert" schema:"required"`
	Room  string           `json:"room,omitempty" schema:"text=room"`
}

func (lampOn) EventName() string { return "TEST.Lamp.On" }

type lampOnBare struct {
	Lamp struct {
		Alert WeatherAlertType `json:"alert" schema:"required"`
	} `json:"lamp" schema:"required"`
}

func (lampOnBare) EventName() string { return "TEST.Lamp.On" }

// lampSentence names the room, which lampOnBare does not declare.
const lampSentence = "A <lamp.alert> lamp is on[ in <lamp.room>]."

var (
	lampSchema = declare[lampOn](SchemaInfo{
		Template: lampSentence,
		Example: func(time.Time) (Schema, map[string]string) {
			return lampOn{lamp{Alert: AlertTornado, Room: Placeholder("room")}}, map[string]string{"room": "the kitchen"}
		},
	})
	bareLampSchema = declare[lampOnBare](SchemaInfo{
		Template: lampSentence,
		Example: func(time.Time) (Schema, map[string]string) {
			var p lampOnBare
			p.Lamp.Alert = AlertTornado
			return p, nil
		},
	})
)

// example returns the JSON of d's example and the localizedAttributes
// entry of its placeholders.
func example(t *testing.T, d schemaDef) (string, []LocalizedAttribute) {
	t.Helper()
	p, values := d.Example(time.Now())
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	l := LocalizedAttribute{"locale": "en-US"}
	for k, v := range values {
		l[k] = v
	}
	return string(b), []LocalizedAttribute{l}
}

// inspectJSON checks payload against d as Check does.
func inspectJSON(t *testing.T, d schemaDef, payload string) *findings {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	return inspect(d, tree, nil)
}

func say(t *testing.T, d schemaDef, payload string, locales []LocalizedAttribute) string {
	t.Helper()
	sp, err := d.speak(json.RawMessage(payload), locales)
	if err != nil || len(sp) != 1 {
		t.Fatalf("speak = %v, %v", sp, err)
	}
	return sp[0].Text
}

func TestDeclarationDrivesValidatorPreviewAndExample(t *testing.T) {
	t.Parallel()
	attrs := []LocalizedAttribute{{"locale": "en-US", "room": "the hall"}}

	// Declared: the example sets the room, the preview says it, the
	// validator checks it.
	payload, locales := example(t, lampSchema)
	if want := `{"lamp":{"alert":"TORNADO","room":"localizedattribute:room"}}`; payload != want {
		t.Errorf("example = %s; want %s", payload, want)
	}
	if f := inspectJSON(t, lampSchema, payload); f.vs != nil || f.warnings != nil {
		t.Errorf("example: violations %v, warnings %q", f.vs, f.warnings)
	}
	if got := say(t, lampSchema, payload, locales); got != "A tornado lamp is on in the kitchen." {
		t.Errorf("example says %q", got)
	}
	withRoom := `{"lamp":{"alert":"HURRICANE","room":"localizedattribute:room"}}`
	if got := say(t, lampSchema, withRoom, attrs); got != "A hurricane lamp is on in the hall." {
		t.Errorf("preview = %q", got)
	}
	f := inspectJSON(t, lampSchema, `{"lamp":{"alert":"TORNADO","room":7}}`)
	if len(f.vs) != 1 || f.vs[0].Field != "event.payload.lamp.room" || f.vs[0].Rule != "must be a string" {
		t.Errorf("room 7: violations %v", f.vs)
	}
	f = inspectJSON(t, lampSchema, `{"lamp":{"alert":"TORNADO","room":"hall"}}`)
	if len(f.warnings) != 1 || !strings.HasPrefix(f.warnings[0], `event.payload.lamp.room: "hall" is a literal; the schema expects a placeholder such as localizedattribute:room`) {
		t.Errorf("literal room: warnings %q", f.warnings)
	}

	// Removed from the declaration: gone from all three, with the same
	// sentence.
	payload, locales = example(t, bareLampSchema)
	if want := `{"lamp":{"alert":"TORNADO"}}`; payload != want {
		t.Errorf("bare example = %s; want %s", payload, want)
	}
	if got := say(t, bareLampSchema, payload, locales); got != "A tornado lamp is on." {
		t.Errorf("bare example says %q", got)
	}
	if got := say(t, bareLampSchema, withRoom, attrs); got != "A hurricane lamp is on." {
		t.Errorf("bare preview = %q; want no room", got)
	}
	for _, p := range []string{`{"lamp":{"alert":"TORNADO","room":7}}`, `{"lamp":{"alert":"TORNADO","room":"hall"}}`} {
		// Not checked, only named as unknown.
		want := []string{"event.payload.lamp.room: unknown field; the schema has alert here"}
		if f := inspectJSON(t, bareLampSchema, p); f.vs != nil || !slices.Equal(f.warnings, want) {
			t.Errorf("bare %s: violations %v, warnings %q; want none and %q", p, f.vs, f.warnings, want)
		}
	}
	// What both declare, both check.
	for _, d := range []schemaDef{lampSchema, bareLampSchema} {
		f := inspectJSON(t, d, `{"lamp":{"alert":"tornado"}}`)
		if len(f.vs) != 1 || f.vs[0].Field != "event.payload.lamp.alert" || f.vs[0].Rule != "must be one of TORNADO, HURRICANE, SNOW_STORM, THUNDER_STORM" {
			t.Errorf("%s: violations %v", d.typ, f.vs)
		}
	}
}

// TestCatalogueSentencesNameDeclaredFields: a hole that names no declared
// field would be silently left out of every preview.
func TestCatalogueSentencesNameDeclaredFields(t *testing.T) {
	t.Parallel()
	for _, d := range catalogue {
		holes := d.sentence.holes()
		if len(holes) == 0 {
			t.Errorf("%s: a sentence without holes", d.Name)
		}
		for _, h := range holes {
			if f := d.root.at(h); f == nil || f.kind == kindObject {
				t.Errorf("%s: <%s> is not a declared value", d.Name, strings.Join(h, "."))
			}
		}
	}
}

// TestCatalogueExamplesSayEverything: each example fills every hole of
// its sentence outside optional groups and breaks no rule.
func TestCatalogueExamplesSayEverything(t *testing.T) {
	t.Parallel()
	for _, d := range catalogue {
		payload, locales := example(t, d)
		if f := inspectJSON(t, d, payload); f.vs != nil || f.warnings != nil {
			t.Errorf("%s: example has violations %v, warnings %q", d.Name, f.vs, f.warnings)
		}
		p := reflect.New(d.typ)
		if err := json.Unmarshal([]byte(payload), p.Interface()); err != nil {
			t.Fatal(err)
		}
		text := func(s string) string {
			if k, ok := strings.CutPrefix(s, PlaceholderPrefix); ok {
				return locales[0][k]
			}
			return s
		}
		if said, absent := (payloadView{value: p.Elem(), decl: d.root, text: text}).say(d.sentence); absent || strings.Contains(said, "  ") {
			t.Errorf("%s: example says %q (a hole left empty)", d.Name, said)
		}
	}
}

// TestOtherPlacementReportedTogether: a relationship wrong in both its
// places is reported in Amazon's place first, then Jovo's.
func TestOtherPlacementReportedTogether(t *testing.T) {
	t.Parallel()
	f := inspectJSON(t, socialGameInviteSchema, `{
		"invite": {"inviter": {"relationshipToInvitee": "FRIENDS"}, "relationshipToInvitee": 3, "inviteType": "INVITE"},
		"game": {"offer": "MATCH", "name": "localizedattribute:gameName"}}`)
	var got []string
	for _, v := range f.vs {
		got = append(got, v.Field)
	}
	want := []string{"event.payload.invite.inviter.name", "event.payload.invite.relationshipToInvitee", "event.payload.invite.inviter.relationshipToInvitee"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
}

func TestDeclarationMistakesPanic(t *testing.T) {
	t.Parallel()
	type (
		unknownOption struct {
			A string `json:"a" schema:"requried"`
		}
		noJSONName struct {
			A string `schema:"required"`
		}
		textWithoutString struct {
			A struct {
				N int `json:"n"`
			} `json:"a" schema:"text=x"`
		}
		orNowhere struct {
			A string `json:"a" schema:"required,or=b.c"`
		}
		requiredAlias struct {
			A string `json:"a" schema:"required,alias=A2"`
		}
		unsupported struct {
			A float64 `json:"a"`
		}
	)
	for _, typ := range []reflect.Type{
		reflect.TypeFor[unknownOption](), reflect.TypeFor[noJSONName](), reflect.TypeFor[textWithoutString](),
		reflect.TypeFor[orNowhere](), reflect.TypeFor[requiredAlias](), reflect.TypeFor[unsupported](),
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("describe(%s) did not panic", typ)
				}
			}()
			describe(typ)
		}()
	}
}

func TestSentenceSyntax(t *testing.T) {
	t.Parallel()
	type payload struct {
		Kind   WeatherAlertType `json:"kind"`
		N      int              `json:"n"`
		Where  string           `json:"where,omitempty"`
		Inner  *Named           `json:"inner,omitempty"`
		Others []GarbageType    `json:"others,omitempty"`
	}
	decl := describe(reflect.TypeFor[payload]())
	tests := []struct {
		tmpl string
		p    payload
		want string
	}{
		{"<kind>, <n>", payload{Kind: AlertSnowStorm, N: 3}, "snow storm, 3"},
		{"a[ <where>] b", payload{}, "a b"},
		{"a[ <where>] b", payload{Where: "here"}, "a here b"},
		{"x[ <inner.name>[ at <where>]].", payload{Inner: &Named{"in"}}, "x in."},
		{"x[ <inner.name>[ at <where>]].", payload{Where: "w"}, "x."},
		{"<n?1=one|2,3=few|many>", payload{N: 3}, "few"},
		{"<n?1=one|2,3=few|many>", payload{N: 9}, "many"},
		{"<n?1=one|2,3=few>", payload{N: 9}, ""},
		{"<kind?TORNADO=|[run to <where>]>", payload{Kind: AlertHurricane, Where: "the cellar"}, "run to the cellar"},
		{"<kind?TORNADO=|[run to <where>]>", payload{Kind: AlertTornado, Where: "the cellar"}, ""},
		{"<others>", payload{Others: []GarbageType{GarbageGlass, GarbageCans, GarbageWastePaper}}, "glass, cans and waste paper"},
		{"<nosuch> [<nosuch>]<kind>", payload{Kind: AlertTornado}, " tornado"},
	}
	for _, tt := range tests {
		v := payloadView{value: reflect.ValueOf(tt.p), decl: decl, text: func(s string) string { return s }}
		if got, _ := v.say(mustParseSentence(tt.tmpl)); got != tt.want {
			t.Errorf("%q with %+v = %q; want %q", tt.tmpl, tt.p, got, tt.want)
		}
	}
	for _, bad := range []string{"a <b", "a [b", "a ]", "<>", "<a?b", "a > b", "a | b"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("template %q did not panic", bad)
				}
			}()
			mustParseSentence(bad)
		}()
	}
}

// TestFieldOrderIsDeclarationOrder: violations come in the order the
// struct declares its fields, which is the order Amazon documents them.
func TestFieldOrderIsDeclarationOrder(t *testing.T) {
	t.Parallel()
	f := inspectJSON(t, occasionSchema, `{"state": {}, "occasion": {"broker": {}}}`)
	var b bytes.Buffer
	for _, v := range f.vs {
		fmt.Fprintln(&b, v.Field)
	}
	want := `event.payload.state.confirmationStatus
event.payload.occasion.occasionType
event.payload.occasion.subject
event.payload.occasion.provider
event.payload.occasion.bookingTime
event.payload.occasion.broker.name
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
}

// A misspelt payload field of a real schema is named, with the fields the
// schema has there: it would be dropped without a word.
func TestMisspeltPayloadFieldWarned(t *testing.T) {
	t.Parallel()
	d, ok := lookup(SchemaMessageAlert)
	if !ok {
		t.Fatal("no message alert schema")
	}
	f := inspectJSON(t, d, `{"state":{"status":"UNREAD","freshness":"NEW"},"messageGroup":{"creator":{"name":"Andy"},"count":5,"urgencyy":"URGENT"}}`)
	want := "event.payload.messageGroup.urgencyy: unknown field; the schema has count, creator, urgency here"
	if !slices.Contains(f.warnings, want) {
		t.Errorf("warnings %q, want %q", f.warnings, want)
	}
}
