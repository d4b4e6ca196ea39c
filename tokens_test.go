package alexa_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/lwa"
	"github.com/alexa-oos/alexa/messaging"
)

// Clients built from a Config whose Tokens is one lwa.Provider share its
// tokens: 1,000 goroutines, each building its own clients of two APIs, as
// a serverless handler does per request, make one token request per scope.
func TestClientsShareTheProvidersTokens(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	cfg.Tokens = lwa.NewProvider(cfg)
	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			if _, err := messaging.NewClient(cfg).Send(context.Background(), "amzn1.ask.account.A", nil); err != nil {
				errs <- err
			}
			if i%10 == 0 {
				// An unknown queuedResultId: a 404, after a token.
				if _, err := datastore.NewClient(cfg).QueuedResultPage(context.Background(), "none", datastore.Page{}); !errors.Is(err, alexa.ErrNotFound) {
					errs <- fmt.Errorf("QueuedResultPage: %v, want a 404", err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	perScope := map[string]int{}
	for _, r := range srv.TokenRequests() {
		perScope[r.Scope]++
	}
	if len(perScope) != 2 || perScope[messaging.Scope] != 1 || perScope[datastore.Scope] != 1 {
		t.Errorf("token requests per scope = %v, want one for %s and one for %s", perScope, messaging.Scope, datastore.Scope)
	}
}

// A client built from a Config without Tokens has a Provider, and a
// cache, of its own: two such clients fetch two tokens.
func TestClientsWithoutTokensHaveTheirOwnCache(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{})
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	for _, c := range []*messaging.Client{messaging.NewClient(cfg), messaging.NewClient(cfg)} {
		for range 3 {
			if _, err := c.Send(context.Background(), "amzn1.ask.account.A", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := len(srv.TokenRequests()); n != 2 {
		t.Errorf("two clients, three sends each: %d token requests, want 2", n)
	}
}
