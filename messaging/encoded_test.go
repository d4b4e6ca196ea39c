package messaging_test

import (
	"context"
	"errors"
	"testing"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/messaging"
)

// SendEncoded sends what Encode returned as Send would; it still refuses
// a bad userId or a missing message before any request.
func TestSendEncoded(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	c := messaging.NewClient(srv.Config())
	e, err := messaging.Encode("amzn1.ask.account.E", &messaging.Message{Data: map[string]int{"n": 1}, ExpiresAfterSeconds: 120})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.SendEncoded(context.Background(), "amzn1.ask.account.E", e)
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("%+v %v", res, err)
	}
	got := srv.MessagesFor("amzn1.ask.account.E")
	if len(got) != 1 || string(got[0].Data) != `{"n":1}` || got[0].ExpiresAfterSeconds != 120 {
		t.Errorf("emulator got %+v", got)
	}
	for _, tc := range []struct {
		user string
		e    *messaging.Encoded
	}{{"", e}, {"a/../b", e}, {"amzn1.ask.account.E", nil}} {
		var ve *alexa.ValidationError
		if _, err := c.SendEncoded(context.Background(), tc.user, tc.e); !errors.As(err, &ve) {
			t.Errorf("SendEncoded(%q, %v): %v, want a validation error", tc.user, tc.e, err)
		}
	}
	if n := srv.Calls(alexatest.MessagesPath); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}
