package messaging_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/internal/validate"
	"github.com/alexa-oos/alexa/messaging"
)

func setup(t *testing.T) (*alexatest.Server, *messaging.Client) {
	t.Helper()
	srv := alexatest.NewServer(alexatest.Options{})
	t.Cleanup(srv.Close)
	return srv, messaging.NewClient(srv.Config())
}

func TestSend(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	ctx := context.Background()
	user := "amzn1.ask.account.A/.B/C D?e=%f"
	tests := []struct {
		msg      *messaging.Message
		data     string
		expiries int
	}{
		{&messaging.Message{}, `{}`, 3600},
		{nil, `{}`, 3600},
		{&messaging.Message{Data: map[string]string{"reminder_id": "42"}, ExpiresAfterSeconds: 60}, `{"reminder_id":"42"}`, 60},
		{&messaging.Message{Data: json.RawMessage(` { "a" : "b" } `), ExpiresAfterSeconds: 86400}, `{"a":"b"}`, 86400},
		{&messaging.Message{Data: struct {
			ID string `json:"id"`
		}{"x"}}, `{"id":"x"}`, 3600},
	}
	for i, tt := range tests {
		if _, err := c.Send(ctx, user, tt.msg); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		got := srv.Messages()[i]
		if got.UserID != user || string(got.Data) != tt.data || got.ExpiresAfterSeconds != tt.expiries {
			t.Errorf("%d: recorded %+v, want data %s expiry %d", i, got, tt.data, tt.expiries)
		}
	}
	if n := srv.Calls("/v1/skillmessages/users/amzn1.ask.account.A%2F.B%2FC%20D%3Fe%3D%25f"); n != len(tests) {
		t.Errorf("%d calls to the escaped path, want %d", n, len(tests))
	}
}

func TestInvalidMessageSendsNothing(t *testing.T) {
	t.Parallel()
	srv, c := setup(t)
	big := map[string]string{"k": strings.Repeat("x", messaging.MaxDataBytes)}
	tests := []struct {
		user   string
		msg    *messaging.Message
		fields string
	}{
		{"", &messaging.Message{ExpiresAfterSeconds: 59, Data: []int{1}}, "userId expiresAfterSeconds data"},
		{"u", &messaging.Message{ExpiresAfterSeconds: 86401}, "expiresAfterSeconds"},
		{"u", &messaging.Message{Data: big}, "data"},
		{"u", &messaging.Message{Data: json.RawMessage(`{"a":`)}, "data"},
		{"u", &messaging.Message{Data: "text"}, "data"},
		{"..", nil, "userId"},
		{"amzn1.ask.account.A/../B", nil, "userId"},
		{"amzn1.ask.account.A/./B", nil, "userId"},
		{"amzn1\x00", nil, "userId"},
		{"amzn1\x1b[2J", nil, "userId"},
		{"amzn1.ask.account.\xff", nil, "userId"},
		{strings.Repeat("A", validate.MaxUserIDBytes+1), nil, "userId"},
	}
	for _, tt := range tests {
		_, err := c.Send(context.Background(), tt.user, tt.msg)
		var ve *alexa.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("%+v: err %v, want *alexa.ValidationError", tt.msg, err)
		}
		var fields []string
		for _, v := range ve.Violations {
			fields = append(fields, v.Field)
		}
		if got := strings.Join(fields, " "); got != tt.fields {
			t.Errorf("violations on %q, want %q: %v", got, tt.fields, err)
		}
	}
	if len(srv.TokenRequests()) != 0 || len(srv.Messages()) != 0 {
		t.Error("an invalid message reached the network")
	}
	// The limit is inclusive: exactly 6 KB of compact JSON is accepted.
	exact := map[string]string{"k": strings.Repeat("x", messaging.MaxDataBytes-len(`{"k":""}`))}
	if _, err := c.Send(context.Background(), "u", &messaging.Message{Data: exact}); err != nil {
		t.Errorf("6 KB of data refused: %v", err)
	}
}

func TestNotFoundAndThrottled(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{KnownUsers: []string{"known"}})
	defer srv.Close()
	cfg := srv.Config()
	cfg.Retry = alexa.NoRetry()
	c := messaging.NewClient(cfg)
	_, err := c.Send(context.Background(), "unknown", nil)
	if !errors.Is(err, alexa.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
	srv.InjectFault(alexatest.Fault{Status: 429, RetryAfter: 1, Times: 1})
	_, err = c.Send(context.Background(), "known", nil)
	var ae *alexa.Error
	if !errors.As(err, &ae) || !errors.Is(err, alexa.ErrThrottled) || ae.Attempts != 1 || ae.Code != "429" {
		t.Errorf("err = %#v, want one throttled attempt", err)
	}
}

func TestDeliveryGuarantees(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		opts     []messaging.Option
		messages int
	}{
		{"at least once", nil, 2},
		{"at most once", []messaging.Option{messaging.AtMostOnce()}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := setup(t)
			// The first message is accepted, and its answer lost.
			srv.InjectFault(alexatest.Fault{Path: "/v1/skillmessages", Lose: true, Times: 1})
			res, err := messaging.NewClient(srv.Config(), tt.opts...).Send(context.Background(), "amzn1.ask.account.A", nil)
			if got := len(srv.Messages()); got != tt.messages {
				t.Errorf("the skill received %d messages, want %d", got, tt.messages)
			}
			if tt.messages == 2 {
				if err != nil || !res.MaybeDuplicated || res.Attempts != 2 {
					t.Errorf("Send = %+v, %v; want success flagged MaybeDuplicated after 2 attempts", res, err)
				}
				return
			}
			if !errors.Is(err, alexa.ErrOutcomeUnknown) {
				t.Errorf("Send: err = %v, want it to match alexa.ErrOutcomeUnknown", err)
			}
		})
	}
	t.Run("no duplicate", func(t *testing.T) {
		t.Parallel()
		_, c := setup(t)
		res, err := c.Send(context.Background(), "amzn1.ask.account.A", nil)
		if err != nil || res.MaybeDuplicated {
			t.Errorf("Send = %+v, %v; want success not flagged MaybeDuplicated", res, err)
		}
	})
}

// Tokens living less than the refresh margin are still reused.
func TestShortLivedTokensAreReused(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{TokenLifetime: 30 * time.Second})
	t.Cleanup(srv.Close)
	cfg := srv.Config() // default refresh margin: 60s
	c := messaging.NewClient(cfg)
	for i := range 500 {
		if _, err := c.Send(context.Background(), "amzn1.ask.account.A", &messaging.Message{Data: map[string]int{"i": i}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(srv.TokenRequests()); n > 2 {
		t.Errorf("500 sends made %d token requests, want 1 (2 if the run took over 15s)", n)
	}
}
