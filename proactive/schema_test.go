package proactive_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/proactive"
)

// schemaCase is one schema with its documented example payload (Amazon's
// docs samples, as copied into Alexa.NET's fixtures) and what the test
// takes away or breaks in it. Paths are relative to event.payload.
type schemaCase struct {
	name     string
	typed    func() proactive.Schema
	payload  string
	attrs    proactive.LocalizedAttribute
	required []string
	optional []string
	enums    []string
	enUSOnly bool
}

var schemaCases = []schemaCase{
	{
		name:     "AMAZON.WeatherAlert.Activated",
		typed:    func() proactive.Schema { return new(proactive.WeatherAlertActivated) },
		payload:  `{"weatherAlert": {"source": "localizedattribute:source", "alertType": "TORNADO"}}`,
		attrs:    proactive.LocalizedAttribute{"locale": "en-US", "source": "Foo"},
		required: []string{"weatherAlert", "weatherAlert.alertType"},
		optional: []string{"weatherAlert.source"},
		enums:    []string{"weatherAlert.alertType"},
	},
	{
		name:  "AMAZON.SportsEvent.Updated",
		typed: func() proactive.Schema { return new(proactive.SportsEventUpdated) },
		payload: `{
			"update": {"scoreEarned": 1, "teamName": "Arsenal"},
			"sportsEvent": {
				"eventLeague": {"name": "localizedattribute:eventLeagueName"},
				"homeTeamStatistic": {"team": {"name": "Oranges"}, "score": 1},
				"awayTeamStatistic": {"team": {"name": "Apples"}, "score": 2}
			}
		}`,
		attrs: proactive.LocalizedAttribute{"locale": "en-US", "eventLeagueName": "Fruit League"},
		required: []string{"update.scoreEarned", "update.teamName", "sportsEvent", "sportsEvent.eventLeague", "sportsEvent.eventLeague.name",
			"sportsEvent.homeTeamStatistic", "sportsEvent.homeTeamStatistic.team", "sportsEvent.homeTeamStatistic.team.name", "sportsEvent.homeTeamStatistic.score",
			"sportsEvent.awayTeamStatistic", "sportsEvent.awayTeamStatistic.team", "sportsEvent.awayTeamStatistic.team.name", "sportsEvent.awayTeamStatistic.score"},
		optional: []string{"update"},
	},
	{
		name:  "AMAZON.MessageAlert.Activated",
		typed: func() proactive.Schema { return new(proactive.MessageAlertActivated) },
		payload: `{
			"state": {"status": "UNREAD", "freshness": "NEW"},
			"messageGroup": {"creator": {"name": "Andy"}, "count": 5, "urgency": "URGENT"}
		}`,
		attrs:    proactive.LocalizedAttribute{"locale": "en-US"},
		required: []string{"state", "state.status", "messageGroup", "messageGroup.creator", "messageGroup.creator.name", "messageGroup.count"},
		optional: []string{"state.freshness", "messageGroup.urgency"},
		enums:    []string{"state.status", "state.freshness", "messageGroup.urgency"},
	},
	{
		name:  "AMAZON.OrderStatus.Updated",
		typed: func() proactive.Schema { return new(proactive.OrderStatusUpdated) },
		payload: `{
			"state": {
				"status": "ORDER_SHIPPED",
				"enterTimestamp": "2018-12-14T19:32:00.463Z",
				"deliveryDetails": {"expectedArrival": "2018-12-14T23:32:00.463Z"}
			},
			"order": {"seller": {"name": "localizedattribute:sellerName"}}
		}`,
		attrs:    proactive.LocalizedAttribute{"locale": "en-US", "sellerName": "Delivery Co."},
		required: []string{"state", "state.status", "order", "order.seller", "order.seller.name"},
		optional: []string{"state.enterTimestamp", "state.deliveryDetails", "state.deliveryDetails.expectedArrival"},
		enums:    []string{"state.status"},
		enUSOnly: true,
	},
	{
		name:  "AMAZON.Occasion.Updated",
		typed: func() proactive.Schema { return new(proactive.OccasionUpdated) },
		payload: `{
			"state": {"confirmationStatus": "CONFIRMED"},
			"occasion": {
				"occasionType": "APPOINTMENT",
				"subject": "localizedattribute:subject",
				"provider": {"name": "localizedattribute:providerName"},
				"bookingTime": "2018-11-20T19:16:31+00:00",
				"broker": {"name": "localizedattribute:brokerName"}
			}
		}`,
		attrs: proactive.LocalizedAttribute{"locale": "en-US", "subject": "Dental cleaning", "providerName": "Smile Dental", "brokerName": "BookIt"},
		required: []string{"state", "state.confirmationStatus", "occasion", "occasion.occasionType", "occasion.subject",
			"occasion.provider", "occasion.provider.name", "occasion.bookingTime", "occasion.broker.name"},
		optional: []string{"occasion.broker"},
		enums:    []string{"state.confirmationStatus", "occasion.occasionType"},
	},
	{
		name:     "AMAZON.TrashCollectionAlert.Activated",
		typed:    func() proactive.Schema { return new(proactive.TrashCollectionAlertActivated) },
		payload:  `{"alert": {"garbageTypes": ["COMPOSTABLE", "RECYCLABLE_PLASTICS"], "collectionDayOfWeek": "TUESDAY"}}`,
		attrs:    proactive.LocalizedAttribute{"locale": "en-US"},
		required: []string{"alert", "alert.garbageTypes", "alert.collectionDayOfWeek"},
		enums:    []string{"alert.garbageTypes[0]", "alert.garbageTypes[1]", "alert.collectionDayOfWeek"},
	},
	{
		name:  "AMAZON.MediaContent.Available",
		typed: func() proactive.Schema { return new(proactive.MediaContentAvailable) },
		payload: `{
			"availability": {
				"startTime": "2018-11-20T21:00:00+00:00",
				"provider": {"name": "localizedattribute:providerName"},
				"method": "AIR"
			},
			"content": {"name": "localizedattribute:contentName", "contentType": "BOOK"}
		}`,
		attrs: proactive.LocalizedAttribute{"locale": "en-US", "providerName": "Audible", "contentName": "The Big Book"},
		required: []string{"availability", "availability.startTime", "availability.provider.name", "availability.method",
			"content", "content.name", "content.contentType"},
		optional: []string{"availability.provider"},
		enums:    []string{"availability.method", "content.contentType"},
	},
	{
		name:  "AMAZON.SocialGameInvite.Available",
		typed: func() proactive.Schema { return new(proactive.SocialGameInviteAvailable) },
		payload: `{
			"invite": {"inviter": {"name": "Max"}, "relationshipToInvitee": "FRIEND", "inviteType": "CHALLENGE"},
			"game": {"offer": "MATCH", "name": "localizedattribute:gameName"}
		}`,
		attrs: proactive.LocalizedAttribute{"locale": "en-US", "gameName": "The Red"},
		required: []string{"invite", "invite.inviter", "invite.inviter.name", "invite.relationshipToInvitee", "invite.inviteType",
			"game", "game.offer", "game.name"},
		enums:    []string{"invite.relationshipToInvitee", "invite.inviteType", "game.offer"},
		enUSOnly: true,
	},
}

// decodeJSON decodes as the validator does: numbers as json.Number.
func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// request wraps a payload in a request that is valid apart from it.
func request(name string, payload any, attrs ...proactive.LocalizedAttribute) *proactive.Request {
	now := time.Now()
	return &proactive.Request{
		Timestamp: now, ExpiryTime: now.Add(time.Hour), ReferenceID: "x",
		Event:               proactive.Event{Name: name, Payload: payload},
		LocalizedAttributes: attrs,
		RelevantAudience:    proactive.ToAllSubscribers(),
	}
}

// (c schemaCase) request returns a fresh valid request and its payload
// tree, for the test to break.
func (c schemaCase) request(t *testing.T) (*proactive.Request, any) {
	tree := decodeJSON(t, c.payload)
	attrs := proactive.LocalizedAttribute{}
	for k, v := range c.attrs {
		attrs[k] = v
	}
	return request(c.name, tree, attrs), tree
}

// fields returns the Field of each violation of r.
func fields(r *proactive.Request) []string {
	var out []string
	for _, v := range proactive.DefaultRules().Check(r) {
		out = append(out, v.Field)
	}
	return out
}

var step = regexp.MustCompile(`([^.\[]+)|\[(\d+)\]`)

// parent walks tree along a path such as "alert.garbageTypes[0]" and
// returns the container of its last step and that step (a key or index).
func parent(t *testing.T, tree any, path string) (any, any) {
	t.Helper()
	var keys []any
	for _, m := range step.FindAllStringSubmatch(path, -1) {
		if m[2] != "" {
			i, _ := strconv.Atoi(m[2])
			keys = append(keys, i)
		} else {
			keys = append(keys, m[1])
		}
	}
	cur := tree
	for _, k := range keys[:len(keys)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k.(string)]
		case []any:
			cur = c[k.(int)]
		}
		if cur == nil {
			t.Fatalf("path %s: no %v", path, k)
		}
	}
	return cur, keys[len(keys)-1]
}

func getAt(t *testing.T, tree any, path string) any {
	c, k := parent(t, tree, path)
	if m, ok := c.(map[string]any); ok {
		return m[k.(string)]
	}
	return c.([]any)[k.(int)]
}

func setAt(t *testing.T, tree any, path string, v any) {
	c, k := parent(t, tree, path)
	if m, ok := c.(map[string]any); ok {
		m[k.(string)] = v
		return
	}
	c.([]any)[k.(int)] = v
}

func deleteAt(t *testing.T, tree any, path string) {
	c, k := parent(t, tree, path)
	delete(c.(map[string]any), k.(string))
}

func TestSchemaCatalogue(t *testing.T) {
	var got, want []string
	for _, s := range proactive.Schemas() {
		got = append(got, s.Name)
	}
	for _, c := range schemaCases {
		want = append(want, c.name)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Schemas() names (-want +got):\n%s", d)
	}
	for _, c := range schemaCases {
		info, ok := proactive.LookupSchema(c.name)
		if !ok || info.EnUSOnly != c.enUSOnly {
			t.Errorf("LookupSchema(%s) = EnUSOnly %v, %v; want %v, true", c.name, info.EnUSOnly, ok, c.enUSOnly)
		}
	}
}

func TestSchemaRoundTrip(t *testing.T) {
	for _, c := range schemaCases {
		t.Run(c.name, func(t *testing.T) {
			p := c.typed()
			if err := json.Unmarshal([]byte(c.payload), p); err != nil {
				t.Fatal(err)
			}
			if p.EventName() != c.name {
				t.Errorf("EventName() = %q", p.EventName())
			}
			if e := proactive.NewEvent(p); e.Name != c.name || e.Payload != p {
				t.Errorf("NewEvent = %+v", e)
			}
			out, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(decodeJSON(t, c.payload), decodeJSON(t, string(out))); d != "" {
				t.Errorf("round trip changed the payload (-documented +marshalled):\n%s", d)
			}
		})
	}
}

func TestSchemaDocumentedExampleValid(t *testing.T) {
	for _, c := range schemaCases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := c.request(t)
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if w := proactive.Warnings(r); len(w) > 0 {
				t.Errorf("Warnings = %q", w)
			}
		})
	}
}

func TestSchemaRequiredField(t *testing.T) {
	for _, c := range schemaCases {
		for _, path := range c.required {
			t.Run(c.name+"/"+path, func(t *testing.T) {
				r, tree := c.request(t)
				deleteAt(t, tree, path)
				if d := cmp.Diff([]string{"event.payload." + path}, fields(r)); d != "" {
					t.Errorf("violations (-want +got):\n%s", d)
				}
			})
		}
	}
}

func TestSchemaOptionalField(t *testing.T) {
	for _, c := range schemaCases {
		for _, path := range c.optional {
			t.Run(c.name+"/"+path, func(t *testing.T) {
				r, tree := c.request(t)
				deleteAt(t, tree, path)
				if err := r.Validate(); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

func TestSchemaEnumMisspelled(t *testing.T) {
	for _, c := range schemaCases {
		for _, path := range c.enums {
			t.Run(c.name+"/"+path, func(t *testing.T) {
				r, tree := c.request(t)
				good := getAt(t, tree, path).(string)
				setAt(t, tree, path, strings.ToLower(good))
				vs := proactive.DefaultRules().Check(r)
				if len(vs) != 1 || vs[0].Field != "event.payload."+path ||
					!strings.HasPrefix(vs[0].Rule, "must be one of ") || !strings.Contains(vs[0].Rule, good) ||
					vs[0].Value != strconv.Quote(strings.ToLower(good)) {
					t.Errorf("violations = %v; want one naming event.payload.%s and listing %s", vs, path, good)
				}
			})
		}
	}
}

func TestSchemaPlaceholderUnresolved(t *testing.T) {
	for _, c := range schemaCases {
		for key := range c.attrs {
			if key == "locale" {
				continue
			}
			t.Run(c.name+"/"+key, func(t *testing.T) {
				r, _ := c.request(t)
				delete(r.LocalizedAttributes[0], key)
				if d := cmp.Diff([]string{"localizedAttributes[0]." + key}, fields(r)); d != "" {
					t.Errorf("violations (-want +got):\n%s", d)
				}
			})
		}
	}
}

func TestSchemaOtherLocale(t *testing.T) {
	for _, c := range schemaCases {
		t.Run(c.name, func(t *testing.T) {
			r, _ := c.request(t)
			de := proactive.LocalizedAttribute{}
			for k, v := range c.attrs {
				de[k] = v
			}
			de["locale"] = "de-DE"
			r.LocalizedAttributes = append(r.LocalizedAttributes, de)
			var want []string
			if c.enUSOnly {
				want = []string{"localizedAttributes[1].locale"}
			}
			if d := cmp.Diff(want, fields(r)); d != "" {
				t.Errorf("violations (-want +got):\n%s", d)
			}
		})
	}
}

// TestSchemaValueRules breaks values in ways other than absence and enums.
func TestSchemaValueRules(t *testing.T) {
	tests := []struct {
		schema, path string
		value        any
		rule         string
	}{
		{"AMAZON.MessageAlert.Activated", "messageGroup.count", "5", "must be a whole number, 0 or more"},
		{"AMAZON.MessageAlert.Activated", "messageGroup.count", json.Number("-1"), "must be a whole number, 0 or more"},
		{"AMAZON.MessageAlert.Activated", "messageGroup.count", json.Number("1.5"), "must be a whole number, 0 or more"},
		{"AMAZON.SportsEvent.Updated", "sportsEvent.homeTeamStatistic.score", json.Number("2.5"), "must be a whole number, 0 or more"},
		{"AMAZON.SportsEvent.Updated", "update.scoreEarned", json.Number("-3"), "must be a whole number, 0 or more"},
		{"AMAZON.MessageAlert.Activated", "messageGroup.creator.name", "", "must not be empty"},
		{"AMAZON.MessageAlert.Activated", "messageGroup.creator", "Andy", "must be an object"},
		{"AMAZON.Occasion.Updated", "occasion.bookingTime", "next Tuesday", "must be an ISO 8601 date-time such as 2026-11-25T12:00:00Z"},
		{"AMAZON.MediaContent.Available", "availability.startTime", json.Number("1700000000"), "must be an ISO 8601 date-time such as 2026-11-25T12:00:00Z"},
		{"AMAZON.OrderStatus.Updated", "state.deliveryDetails.expectedArrival", "soon", "must be an ISO 8601 date-time such as 2026-11-25T12:00:00Z"},
		{"AMAZON.TrashCollectionAlert.Activated", "alert.garbageTypes", []any{}, "must list at least one of BOTTLES, BULKY, BURNABLE, CANS, CLOTHING, COMPOSTABLE, CRUSHABLE, GARDEN_WASTE, GLASS, HAZARDOUS, HOME_APPLIANCES, KITCHEN_WASTE, LANDFILL, PET_BOTTLES, RECYCLABLE_PLASTICS, WASTE_PAPER"},
		{"AMAZON.TrashCollectionAlert.Activated", "alert.garbageTypes", "GLASS", "must be an array of BOTTLES, BULKY, BURNABLE, CANS, CLOTHING, COMPOSTABLE, CRUSHABLE, GARDEN_WASTE, GLASS, HAZARDOUS, HOME_APPLIANCES, KITCHEN_WASTE, LANDFILL, PET_BOTTLES, RECYCLABLE_PLASTICS, WASTE_PAPER"},
		{"AMAZON.WeatherAlert.Activated", "weatherAlert.alertType", "SNOW_STROM", "must be one of TORNADO, HURRICANE, SNOW_STORM, THUNDER_STORM"},
		{"AMAZON.WeatherAlert.Activated", "weatherAlert.source", "localizedattribute:", "must name a key: localizedattribute:source"},
		{"AMAZON.SocialGameInvite.Available", "game.name", json.Number("7"), "must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.schema+"/"+tt.path, func(t *testing.T) {
			r, tree := caseOf(t, tt.schema).request(t)
			setAt(t, tree, tt.path, tt.value)
			vs := proactive.DefaultRules().Check(r)
			if len(vs) != 1 || vs[0].Field != "event.payload."+tt.path || vs[0].Rule != tt.rule {
				t.Errorf("violations = %v; want one at event.payload.%s: %s", vs, tt.path, tt.rule)
			}
		})
	}
}

// TestSchemaAlternateReadings accepts both readings where sources disagree.
func TestSchemaAlternateReadings(t *testing.T) {
	tests := []struct {
		name, schema string
		edit         func(t *testing.T, tree any)
		warnings     []string
	}{
		{"occasion REQUESTED", "AMAZON.Occasion.Updated", func(t *testing.T, tree any) {
			setAt(t, tree, "state.confirmationStatus", "REQUESTED")
		}, nil},
		{"occasion RECEIVED", "AMAZON.Occasion.Updated", func(t *testing.T, tree any) {
			setAt(t, tree, "state.confirmationStatus", "RECEIVED")
		}, nil},
		{"relationship under inviter", "AMAZON.SocialGameInvite.Available", func(t *testing.T, tree any) {
			deleteAt(t, tree, "invite.relationshipToInvitee")
			setAt(t, tree, "invite.inviter.relationshipToInvitee", "CONTACT")
		}, nil},
		{"enterTimeStamp", "AMAZON.OrderStatus.Updated", func(t *testing.T, tree any) {
			deleteAt(t, tree, "state.enterTimestamp")
			setAt(t, tree, "state.enterTimeStamp", "2018-12-14T19:32:00")
		}, nil},
		{"six garbage types", "AMAZON.TrashCollectionAlert.Activated", func(t *testing.T, tree any) {
			setAt(t, tree, "alert.garbageTypes", []any{"BOTTLES", "CANS", "GLASS", "LANDFILL", "BULKY", "WASTE_PAPER"})
		}, []string{"event.payload.alert.garbageTypes: 6 garbage types; one source allows at most 5"}},
		{"literal league name", "AMAZON.SportsEvent.Updated", func(t *testing.T, tree any) {
			setAt(t, tree, "sportsEvent.eventLeague.name", "Fruit League")
		}, []string{`event.payload.sportsEvent.eventLeague.name: "Fruit League" is a literal; the schema expects a placeholder such as localizedattribute:eventLeagueName, resolved per locale`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, tree := caseOf(t, tt.schema).request(t)
			tt.edit(t, tree)
			if err := r.Validate(); err != nil {
				t.Error(err)
			}
			if d := cmp.Diff(tt.warnings, proactive.Warnings(r)); d != "" {
				t.Errorf("Warnings (-want +got):\n%s", d)
			}
		})
	}
}

func TestSchemaRelationshipMisspelledUnderInviter(t *testing.T) {
	r, tree := caseOf(t, "AMAZON.SocialGameInvite.Available").request(t)
	deleteAt(t, tree, "invite.relationshipToInvitee")
	setAt(t, tree, "invite.inviter.relationshipToInvitee", "FRIENDS")
	if d := cmp.Diff([]string{"event.payload.invite.inviter.relationshipToInvitee"}, fields(r)); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
}

func TestUnknownSchemaWarnsOnly(t *testing.T) {
	r := request("AMAZON.Foo.Bar", map[string]any{"anything": 1})
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
	want := []string{`event.name: "AMAZON.Foo.Bar" is not in the schema catalogue; Alexa may refuse it`}
	if d := cmp.Diff(want, proactive.Warnings(r)); d != "" {
		t.Errorf("Warnings (-want +got):\n%s", d)
	}
}

func caseOf(t *testing.T, name string) schemaCase {
	t.Helper()
	for _, c := range schemaCases {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no case %s", name)
	return schemaCase{}
}

// exampleSpeech is what each examples/*.json file makes Alexa say.
var exampleSpeech = map[string][]proactive.Spoken{
	"weather-alert-multicast.json": {{"en-US", "There is a snow storm alert for your area. Provided by Foo."}},
	"message-alert-unicast.json":   {{"en-US", "You have 5 new unread urgent messages from Andy."}},
	"sports-event.json": {
		{"en-US", "Update on English Premier League: Arsenal 2, Chelsea 1. Arsenal scored 1."},
		{"en-GB", "Update on Premier League: Arsenal 2, Chelsea 1. Arsenal scored 1."},
	},
	"order-status.json":       {{"en-US", "Your order from Fabrikam has shipped. It should arrive on Friday, November 27 at 6:00 PM UTC."}},
	"occasion.json":           {{"en-US", "Your appointment at Smile Dental for a dental cleaning on Friday, November 27 at 3:30 PM UTC has been confirmed."}},
	"trash-collection.json":   {{"en-US", "The coming Tuesday is compostable and recyclable plastics garbage collection day."}},
	"media-content.json":      {{"en-US", "The Harbour, season 2 will air on Friday, November 27 at 9:00 PM UTC on Example TV."}},
	"social-game-invite.json": {{"en-US", "Your friend Max challenged you to a match of Word Duel."}},
}

func TestExampleFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, file := range files {
		base := filepath.Base(file)
		if base == "skill-message.json" {
			continue
		}
		seen[base] = true
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var r proactive.Request
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			r.Timestamp, r.ExpiryTime, r.ReferenceID = now, now.Add(time.Hour), "x"
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			if w := proactive.Warnings(&r); len(w) > 0 {
				t.Errorf("Warnings = %q", w)
			}
			got, err := proactive.Preview(&r)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(exampleSpeech[base], got); d != "" {
				t.Errorf("Preview (-want +got):\n%s", d)
			}
			var compact, indented bytes.Buffer
			if err := json.Compact(&compact, data); err != nil {
				t.Fatal(err)
			}
			if json.Indent(&indented, compact.Bytes(), "", "  "); indented.String()+"\n" != string(data) {
				t.Errorf("not pretty-printed with a 2-space indent and a final newline")
			}
		})
	}
	for base := range exampleSpeech {
		if !seen[base] {
			t.Errorf("examples/%s is missing", base)
		}
	}
}

func TestSkeleton(t *testing.T) {
	for _, s := range proactive.Schemas() {
		t.Run(s.Name, func(t *testing.T) {
			r, err := proactive.Skeleton(s.Name, nil, proactive.ToUser("amzn1.ask.account.EXAMPLE"))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.LocalizedAttributes) != 1 || r.LocalizedAttributes[0].Locale() != "en-US" {
				t.Errorf("LocalizedAttributes = %v; want one en-US entry", r.LocalizedAttributes)
			}
			now := time.Now()
			r.Timestamp, r.ExpiryTime, r.ReferenceID = now, now.Add(time.Hour), "x"
			if err := r.Validate(); err != nil {
				t.Error(err)
			}
			if w := proactive.Warnings(r); len(w) > 0 {
				t.Errorf("Warnings = %q", w)
			}
			if sp, err := proactive.Preview(r); err != nil || len(sp) != 1 || sp[0].Text == "" {
				t.Errorf("Preview = %v, %v", sp, err)
			}

			r, err = proactive.Skeleton(s.Name, []string{"en-US", "de-DE"}, proactive.ToAllSubscribers())
			if s.EnUSOnly {
				if err == nil || !strings.Contains(err.Error(), "de-DE") {
					t.Errorf("de-DE on an en-US-only schema: err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r.Timestamp, r.ExpiryTime, r.ReferenceID = now, now.Add(time.Hour), "x"
			if err := r.Validate(); err != nil || len(r.LocalizedAttributes) != 2 || r.LocalizedAttributes[1].Locale() != "de-DE" {
				t.Errorf("two locales: %v, %v", r.LocalizedAttributes, err)
			}
		})
	}
}

func TestSkeletonUnknown(t *testing.T) {
	_, err := proactive.Skeleton("AMAZON.Foo.Bar", nil, proactive.ToAllSubscribers())
	if err == nil || !strings.Contains(err.Error(), "AMAZON.Foo.Bar") || !strings.Contains(err.Error(), "AMAZON.SocialGameInvite.Available") {
		t.Errorf("err = %v; want the name and the known names", err)
	}
}

func TestValidationErrorOfSchema(t *testing.T) {
	r := request("AMAZON.WeatherAlert.Activated", proactive.WeatherAlertActivated{WeatherAlert: proactive.WeatherAlert{AlertType: "SNOW"}})
	var ve *alexa.ValidationError
	if err := r.Validate(); !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	want := []alexa.Violation{{Field: "event.payload.weatherAlert.alertType", Rule: "must be one of TORNADO, HURRICANE, SNOW_STORM, THUNDER_STORM", Value: `"SNOW"`}}
	if d := cmp.Diff(want, ve.Violations); d != "" {
		t.Errorf("violations (-want +got):\n%s", d)
	}
}
