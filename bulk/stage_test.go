package bulk_test

import (
	"context"
	"errors"
	"testing"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
	"github.com/alexa-oos/alexa/proactive"
)

// A stage other than proactive.Development or proactive.Live never
// reaches the network; "" is Development.
func TestSendEventsStage(t *testing.T) {
	t.Parallel()
	for _, stage := range []proactive.Stage{"development", "live", "bogus"} {
		srv := newServer(t, alexatest.Options{})
		_, err := bulk.SendEvents(context.Background(), fastConfig(srv), generate(3, eventLine), bulk.Options{Stage: stage})
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) || ve.Violations[0].Field != "stage" {
			t.Errorf("stage %q: err = %v, want an *alexa.ValidationError naming stage", stage, err)
		}
		if n := len(srv.Events()) + len(srv.TokenRequests()); n != 0 {
			t.Errorf("stage %q: %d calls reached the emulator", stage, n)
		}
	}
	srv := newServer(t, alexatest.Options{})
	if _, err := bulk.SendEvents(context.Background(), fastConfig(srv), generate(3, eventLine), bulk.Options{}); err != nil {
		t.Fatal(err)
	}
	if srv.Calls(proactive.PathDevelopment) != 3 || srv.Calls(proactive.PathLive) != 0 {
		t.Errorf("stage \"\": dev %d live %d calls, want 3 development", srv.Calls(proactive.PathDevelopment), srv.Calls(proactive.PathLive))
	}
}
