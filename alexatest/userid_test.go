package alexatest_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
)

// The emulator applies the clients' userId rule to what arrives.
func TestEmulatorRefusesBadUserIDs(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	tok, err := lwa.NewProvider(srv.Config()).Token(context.Background(), messaging.Scope)
	if err != nil {
		t.Fatal(err)
	}
	for _, escaped := range []string{"amzn1.A%2F..%2FB", "amzn1%00", "amzn1%FF", "%2E%2E"} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/skillmessages/users/"+escaped, strings.NewReader(`{"data":{}}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Message string }
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body.Message, "userId") {
			t.Errorf("%s: HTTP %d %q, want 400 naming userId", escaped, resp.StatusCode, body.Message)
		}
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("%d messages accepted", n)
	}
}
