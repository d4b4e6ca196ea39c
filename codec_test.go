package alexa_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/proactive"
)

// countingCodec is a Codec of its own, wrapping encoding/json: it counts
// its calls, sends its own media type, and fails on demand.
type countingCodec struct {
	marshal, unmarshal atomic.Int32
	fail               error
}

const countingType = "application/json; charset=utf-8"

func (c *countingCodec) Marshal(v any) ([]byte, error) {
	c.marshal.Add(1)
	if c.fail != nil {
		return nil, c.fail
	}
	return json.Marshal(v)
}

func (c *countingCodec) Unmarshal(data []byte, v any) error {
	c.unmarshal.Add(1)
	return json.Unmarshal(data, v)
}

func (c *countingCodec) ContentType() string { return countingType }

func (c *countingCodec) calls() (marshal, unmarshal int) {
	return int(c.marshal.Load()), int(c.unmarshal.Load())
}

// Every client encodes its request bodies and decodes its response bodies
// with Config.Codec, and sends its ContentType.
func TestClientsUseTheCodec(t *testing.T) {
	t.Parallel()
	srv := alexatest.NewServer(alexatest.Options{AllowUnsubscribed: true})
	t.Cleanup(srv.Close)
	ctx := context.Background()
	setup := func() (alexa.Config, *countingCodec) {
		codec := &countingCodec{}
		cfg := srv.Config()
		cfg.Codec = codec
		return cfg, codec
	}

	t.Run("messaging", func(t *testing.T) {
		t.Parallel()
		cfg, codec := setup()
		c := messaging.NewClient(cfg)
		// Data that is not JSON yet is encoded with the codec too.
		if _, err := c.Send(ctx, "amzn1.ask.account.CODEC", &messaging.Message{Data: map[string]int{"n": 1}}); err != nil {
			t.Fatal(err)
		}
		if m, u := codec.calls(); m != 2 || u != 0 {
			t.Errorf("Send of a map: %d Marshal and %d Unmarshal calls, want 2 (data and body) and 0", m, u)
		}
		if _, err := c.Send(ctx, "amzn1.ask.account.CODEC", &messaging.Message{Data: json.RawMessage(`{"n":2}`)}); err != nil {
			t.Fatal(err)
		}
		if m, _ := codec.calls(); m != 3 {
			t.Errorf("Send of raw JSON: %d Marshal calls in all, want 3 (the body only)", m)
		}
		got := srv.MessagesFor("amzn1.ask.account.CODEC")
		if len(got) != 2 || string(got[0].Data) != `{"n":1}` || got[0].Header.Get("Content-Type") != countingType {
			t.Errorf("the emulator got %+v, want {\"n\":1} sent as %s", got, countingType)
		}
	})

	t.Run("proactive", func(t *testing.T) {
		t.Parallel()
		cfg, codec := setup()
		now := time.Now()
		req := &proactive.Request{
			Timestamp: now, ReferenceID: "codec-1", ExpiryTime: now.Add(time.Hour),
			Event: proactive.Event{Name: "AMAZON.MessageAlert.Activated", Payload: map[string]any{
				"state":        map[string]any{"status": "UNREAD", "freshness": "NEW"},
				"messageGroup": map[string]any{"creator": map[string]any{"name": "Andy"}, "count": 5, "urgency": "URGENT"},
			}},
			RelevantAudience: proactive.ToUser("amzn1.ask.account.CODEC"),
		}
		if _, err := proactive.NewClient(cfg).Create(ctx, req, proactive.Development); err != nil {
			t.Fatal(err)
		}
		if m, u := codec.calls(); m != 1 || u != 0 {
			t.Errorf("Create: %d Marshal and %d Unmarshal calls, want 1 and 0", m, u)
		}
		found := false
		for _, ev := range srv.Events() {
			if ev.Request.ReferenceID == "codec-1" {
				found = true
				if ct := ev.Header.Get("Content-Type"); ct != countingType {
					t.Errorf("Content-Type = %q, want %q", ct, countingType)
				}
			}
		}
		if !found {
			t.Error("the emulator did not record the event")
		}
	})

	t.Run("datastore", func(t *testing.T) {
		t.Parallel()
		cfg, codec := setup()
		srv.DataStore().AddDevice("amzn1.ask.account.DS", "amzn1.ask.device.DS")
		srv.DataStore().SetOnline("amzn1.ask.device.DS", false)
		c := datastore.NewClient(cfg)
		res, err := c.Commands(ctx, datastore.User("amzn1.ask.account.DS"), []datastore.Command{datastore.PutObject("n", "k", 1)},
			datastore.AttemptDeliveryUntil(time.Now().Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		if m, u := codec.calls(); m != 1 || u != 1 {
			t.Errorf("Commands: %d Marshal and %d Unmarshal calls, want 1 and 1", m, u)
		}
		for _, err := range c.QueuedResult(ctx, res.QueuedResultID) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, u := codec.calls(); u != 2 {
			t.Errorf("QueuedResult: %d Unmarshal calls in all, want 2", u)
		}
	})

	// A codec that fails stops the call before anything is sent.
	t.Run("failure", func(t *testing.T) {
		t.Parallel()
		cfg, codec := setup()
		codec.fail = errors.New("codec says no")
		calls := srv.Calls("/v1/skillmessages/users/amzn1.ask.account.FAIL")
		_, err := messaging.NewClient(cfg).Send(ctx, "amzn1.ask.account.FAIL", &messaging.Message{Data: json.RawMessage(`{}`)})
		if !errors.Is(err, codec.fail) {
			t.Errorf("Send = %v, want the codec's error", err)
		}
		if srv.Calls("/v1/skillmessages/users/amzn1.ask.account.FAIL") != calls {
			t.Error("a message the codec could not encode was sent")
		}
	})
}
