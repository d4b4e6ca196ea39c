package alexatest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/proactive"
)

// TestEmulatorAppliesTimeAndLocaleRules sends, as a foreign client would,
// events the client refuses: the emulator refuses them too, with the same
// rules, and takes the current time from Options.Rules.Now.
func TestEmulatorAppliesTimeAndLocaleRules(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	tok, err := lwa.NewProvider(srv.Config()).AccessToken(t.Context(), proactive.Scope)
	if err != nil {
		t.Fatal(err)
	}
	send := func(srv *alexatest.Server, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+proactive.PathDevelopment, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	event := func(ts time.Time, locale string) string {
		return `{"timestamp":"` + proactive.FormatTime(ts) + `","referenceId":"r-` + locale + proactive.FormatTime(ts) + `","expiryTime":"` + proactive.FormatTime(ts.Add(time.Hour)) + `",
		"event":{"name":"AMAZON.WeatherAlert.Activated","payload":{"weatherAlert":{"alertType":"SNOW_STORM","source":"localizedattribute:source"}}},
		"localizedAttributes":[{"locale":"` + locale + `","source":"Foo"}],"relevantAudience":{"type":"Multicast","payload":{}}}`
	}
	now := time.Now()
	if status, body := send(srv, event(now, "en-US")); status != http.StatusAccepted {
		t.Fatalf("a valid event: %d %s", status, body)
	}
	if status, body := send(srv, event(now.Add(-2*time.Hour), "en-US")); status != http.StatusBadRequest || !strings.Contains(body, "expiryTime: must be in the future") {
		t.Errorf("an expired event: %d %s; want 400 naming expiryTime", status, body)
	}
	if status, body := send(srv, event(now, "en-UK")); status != http.StatusBadRequest || !strings.Contains(body, "localizedAttributes[0].locale: must be a locale Alexa supports") {
		t.Errorf("an unknown locale: %d %s; want 400 naming the locale", status, body)
	}

	// An emulator whose rules' clock is two hours back accepts the event
	// that expired an hour ago, and with AnyLocale a locale outside the list.
	rules := proactive.DefaultRules()
	rules.Now = func() time.Time { return now.Add(-2 * time.Hour) }
	rules.AnyLocale = true
	past := alexatest.NewServer(alexatest.Options{Rules: &rules})
	defer past.Close()
	tok, err = lwa.NewProvider(past.Config()).AccessToken(t.Context(), proactive.Scope)
	if err != nil {
		t.Fatal(err)
	}
	if status, body := send(past, event(now.Add(-2*time.Hour), "nl-BE")); status != http.StatusAccepted {
		t.Errorf("with Rules.Now and AnyLocale: %d %s; want 202", status, body)
	}
}
