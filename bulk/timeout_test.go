package bulk_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
)

// The HTTP client's Timeout bounds every attempt of a job (through
// deadlines shared between attempts): a server that never answers makes
// items fail, not the job hang.
func TestJobClientTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t, alexatest.Options{})
	srv.InjectFault(alexatest.Fault{Path: alexatest.MessagesPath, Hang: true})
	cfg := srv.Config()
	cfg.HTTPClient = &http.Client{Timeout: 50 * time.Millisecond}
	cfg.Retry = alexa.NoRetry()
	sum, err := bulk.SendMessages(context.Background(), cfg, strings.NewReader(lines(4, messageLine)), bulk.Options{Concurrency: 2})
	if err != nil || sum.Read != 4 || sum.Sent != 0 || sum.Unknown+sum.Failed != 4 {
		t.Fatalf("%v %+v", err, sum)
	}
}
