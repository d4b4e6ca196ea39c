package proactive_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/proactive"
)

// weather is a valid weather alert for the given locales, sent at now.
func weather(now time.Time, locales ...string) *proactive.Request {
	var attrs []proactive.LocalizedAttribute
	for _, l := range locales {
		attrs = append(attrs, proactive.LocalizedAttribute{"locale": l, "source": "Foo"})
	}
	return &proactive.Request{
		Timestamp: now, ExpiryTime: now.Add(time.Hour), ReferenceID: "x",
		Event: proactive.NewEvent(proactive.WeatherAlertActivated{WeatherAlert: proactive.WeatherAlert{
			Source: proactive.WeatherSourcePlaceholder, AlertType: proactive.AlertSnowStorm,
		}}),
		LocalizedAttributes: attrs,
		RelevantAudience:    proactive.ToAllSubscribers(),
	}
}

func violations(t *testing.T, err error) []alexa.Violation {
	t.Helper()
	if err == nil {
		return nil
	}
	var ve *alexa.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T), want *alexa.ValidationError", err, err)
	}
	return ve.Violations
}

func TestLocales(t *testing.T) {
	t.Parallel()
	now := time.Now()
	every := strings.Join(proactive.SupportedLocales(), ", ")
	lenient := proactive.DefaultRules()
	lenient.AnyLocale = true
	own := proactive.DefaultRules()
	own.Locales = []string{"en-US", "xx-YY"}
	tests := []struct {
		name   string
		rules  proactive.Rules
		locale string
		want   []alexa.Violation // nil: valid
	}{
		{"supported", proactive.DefaultRules(), "ja-JP", nil},
		{"supported, last added", proactive.DefaultRules(), "ar-SA", nil},
		{"unknown", proactive.DefaultRules(), "en-UK", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must be a locale Alexa supports: " + every, Value: `"en-UK"`}}},
		{"wrong case", proactive.DefaultRules(), "en-us", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must be spelled en-US", Value: `"en-us"`}}},
		{"underscore", proactive.DefaultRules(), "en_US", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must be a locale Alexa supports: " + every, Value: `"en_US"`}}},
		{"empty", proactive.DefaultRules(), "", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must not be empty: a locale such as en-US"}}},
		{"lenient, new locale", lenient, "nl-BE", nil},
		{"lenient, numeric region", lenient, "es-419", nil},
		{"lenient, still spelled right", lenient, "EN-us", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must be spelled en-US", Value: `"EN-us"`}}},
		{"lenient, malformed", lenient, "english", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must be a language and a region, such as en-US", Value: `"english"`}}},
		{"lenient, empty", lenient, "", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must not be empty: a locale such as en-US"}}},
		{"own list", own, "xx-YY", nil},
		{"own list refuses the others", own, "de-DE", []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must be a locale Alexa supports: en-US, xx-YY", Value: `"de-DE"`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := violations(t, tt.rules.Validate(weather(now, tt.locale)))
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("violations (-want +got):\n%s", d)
			}
			// Preview applies the same rules to the locales.
			_, err := tt.rules.Preview(weather(now, tt.locale))
			if got := violations(t, err); (tt.want == nil) != (got == nil) {
				t.Errorf("Preview: %v; want valid %v", err, tt.want == nil)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		r := weather(now, "en-US")
		delete(r.LocalizedAttributes[0], "locale")
		want := []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "is required"}}
		if d := cmp.Diff(want, violations(t, r.Validate())); d != "" {
			t.Errorf("violations (-want +got):\n%s", d)
		}
	})
	t.Run("not a string", func(t *testing.T) {
		t.Parallel()
		var r proactive.Request
		body := `{"timestamp":"` + proactive.FormatTime(now) + `","expiryTime":"` + proactive.FormatTime(now.Add(time.Hour)) + `","referenceId":"x",
			"event":{"name":"AMAZON.WeatherAlert.Activated","payload":{"weatherAlert":{"source":"localizedattribute:source","alertType":"SNOW_STORM"}}},
			"localizedAttributes":[{"locale":7,"source":"Foo"}],"relevantAudience":{"type":"Multicast","payload":{}}}`
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		want := []alexa.Violation{{Field: "localizedAttributes[0].locale", Rule: "must be a string", Value: `"7"`}}
		if d := cmp.Diff(want, violations(t, r.Validate())); d != "" {
			t.Errorf("violations (-want +got):\n%s", d)
		}
	})
}

func TestExpiryInThePast(t *testing.T) {
	t.Parallel()
	sent := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	r := weather(sent, "en-US") // expires at 13:00
	at := func(now time.Time) proactive.Rules {
		rules := proactive.DefaultRules()
		rules.Now = func() time.Time { return now }
		return rules
	}
	if err := at(sent.Add(59 * time.Minute)).Validate(r); err != nil {
		t.Errorf("a minute before expiry: %v", err)
	}
	want := []alexa.Violation{{Field: "expiryTime", Rule: "must be in the future: Alexa drops an expired notification", Value: `"2026-11-25T13:00:00.000Z, 0s ago"`}}
	if d := cmp.Diff(want, violations(t, at(sent.Add(time.Hour)).Validate(r))); d != "" {
		t.Errorf("at expiry (-want +got):\n%s", d)
	}
	want[0].Value = `"2026-11-25T13:00:00.000Z, 70h0m0s ago"`
	if d := cmp.Diff(want, violations(t, at(sent.Add(71*time.Hour)).Validate(r))); d != "" {
		t.Errorf("days later (-want +got):\n%s", d)
	}
	// Without Now, the rules read the clock: the date above is past.
	if got := violations(t, r.Validate()); len(got) != 1 || got[0].Field != "expiryTime" {
		t.Errorf("DefaultRules: %v; want the expiryTime in the past", got)
	}
	// The client refuses it before sending.
	_, err := proactive.NewClient(alexa.Config{Credentials: alexa.Credentials{ClientID: "id", ClientSecret: "s"}, Endpoint: "http://127.0.0.1:1"}).Create(t.Context(), r, proactive.Development)
	if got := violations(t, err); len(got) != 1 || got[0].Field != "expiryTime" {
		t.Errorf("Create: %v; want the expiryTime refused", err)
	}
}

func TestRequestSize(t *testing.T) {
	t.Parallel()
	now := time.Now()
	r := weather(now, "en-US")
	r.LocalizedAttributes[0]["source"] = strings.Repeat("x", 2000)
	if err := r.Validate(); err != nil {
		t.Fatalf("a 2 KB request: %v", err)
	}
	small := proactive.DefaultRules()
	small.MaxBodyBytes = 1000
	got := violations(t, small.Validate(r))
	if len(got) != 1 || got[0].Field != "request" || got[0].Rule != "must be at most 1000 bytes as JSON" || !strings.HasSuffix(got[0].Value, ` bytes"`) {
		t.Errorf("violations %v; want the request size", got)
	}
	// Escaping counts: a payload of control characters triples in JSON.
	r = weather(now, "en-US")
	r.LocalizedAttributes[0]["source"] = strings.Repeat("\x01", proactive.MaxRequestBytes/5)
	if got := violations(t, r.Validate()); len(got) != 1 || got[0].Field != "request" {
		t.Errorf("violations %v; want the request size", got)
	}
}

func TestSkeletonTimesAheadOfNow(t *testing.T) {
	t.Parallel()
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC)
	rules := proactive.DefaultRules()
	rules.Now = func() time.Time { return now }
	for _, name := range []string{proactive.SchemaMediaContent, proactive.SchemaOccasion, proactive.SchemaOrderStatus} {
		r, err := rules.Skeleton(name, nil, proactive.ToAllSubscribers())
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(r.Event.Payload)
		if err != nil {
			t.Fatal(err)
		}
		var tree any
		json.Unmarshal(raw, &tree)
		times := 0
		var walk func(string, any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					walk(path+"."+k, e)
				}
			case string:
				if ts, err := proactive.ParseTime(x); err == nil {
					times++
					if ts.Before(now.Truncate(time.Minute)) || ts.After(now.Add(72*time.Hour)) {
						t.Errorf("%s%s = %s; want it within three days from %s", name, path, x, now)
					}
				}
			}
		}
		walk("", tree)
		if times == 0 {
			t.Errorf("%s: no time in the example payload %s", name, raw)
		}
		sp, err := rules.Preview(r)
		if err != nil || len(sp) != 1 {
			t.Fatalf("%s: Preview = %v, %v", name, sp, err)
		}
		// The sentence speaks of a day ahead, never one of the past.
		if name != proactive.SchemaOrderStatus && !strings.Contains(sp[0].Text, "March 6") && !strings.Contains(sp[0].Text, "March 5") {
			t.Errorf("%s: Preview %q; want a day after March 4, 2031", name, sp[0].Text)
		}
	}
}

func TestSkeletonLocales(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		locales []string
		want    string
	}{
		{[]string{""}, `locale "": must not be empty`},
		{[]string{"en-US", "en-UK"}, `locale "en-UK": must be a locale Alexa supports`},
		{[]string{"de-de"}, `locale "de-de": must be spelled de-DE`},
	} {
		_, err := proactive.Skeleton(proactive.SchemaWeatherAlert, tt.locales, proactive.ToAllSubscribers())
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Skeleton(%q) = %v; want %q", tt.locales, err, tt.want)
		}
	}
	lenient := proactive.DefaultRules()
	lenient.AnyLocale = true
	if r, err := lenient.Skeleton(proactive.SchemaWeatherAlert, []string{"nl-BE"}, proactive.ToAllSubscribers()); err != nil || r.LocalizedAttributes[0].Locale() != "nl-BE" {
		t.Errorf("AnyLocale: %v, %v", r, err)
	}
}

// TestNoSharedState: what the package hands out is the caller's own, so
// that one caller's change cannot loosen another's validation.
func TestNoSharedState(t *testing.T) {
	t.Parallel()
	mine := proactive.DefaultRules()
	mine.MaxExpiry = time.Minute
	mine.StrictReferenceID = true
	if d := proactive.DefaultRules(); d.MaxExpiry != 24*time.Hour || d.MinExpiry != 5*time.Minute || d.StrictReferenceID {
		t.Errorf("DefaultRules() after changing a copy = %+v", d)
	}
	locales := proactive.SupportedLocales()
	locales[0] = "xx-XX"
	if proactive.SupportedLocales()[0] == "xx-XX" {
		t.Error("SupportedLocales() shares its slice")
	}
	if err := proactive.DefaultRules().Validate(weather(time.Now(), "xx-XX")); err == nil {
		t.Error("a changed SupportedLocales() copy changed validation")
	}
	fields := proactive.RequestFields()
	if d := cmp.Diff([]string{"timestamp", "referenceId", "expiryTime", "event", "localizedAttributes", "relevantAudience"}, fields); d != "" {
		t.Errorf("RequestFields() (-want +got):\n%s", d)
	}
	fields[1] = "referenceID"
	if proactive.RequestFields()[1] != "referenceId" {
		t.Error("RequestFields() shares its slice")
	}
}
