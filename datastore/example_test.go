package datastore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/datastore"
)

// A sports skill pushes the score of a match to every device of one
// customer, where its widget shows it.
func ExampleClient_Commands() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	srv.DataStore().AddDevice("amzn1.ask.account.XXXX", "amzn1.ask.device.KITCHEN")

	client := datastore.NewClient(srv.Config())
	res, err := client.Commands(context.Background(), datastore.User("amzn1.ask.account.XXXX"), []datastore.Command{
		datastore.PutNamespace("scores"),
		datastore.PutObject("scores", "match-42", map[string]int{"home": 2, "away": 1}),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Results {
		fmt.Println(r.DeviceID, r.Type)
	}
	stored, _ := srv.DataStore().Object("amzn1.ask.device.KITCHEN", "scores", "match-42")
	fmt.Println(string(stored))
	// Output:
	// amzn1.ask.device.KITCHEN SUCCESS
	// {"away":1,"home":2}
}

// An offline device gets the commands when it comes back online, until
// attemptDeliveryUntil; meanwhile the queued result lists it.
func ExampleClient_QueuedResult() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	ds := srv.DataStore()
	ds.AddDevice("amzn1.ask.account.XXXX", "amzn1.ask.device.BEDROOM")
	ds.SetOnline("amzn1.ask.device.BEDROOM", false)

	client := datastore.NewClient(srv.Config())
	ctx := context.Background()
	res, err := client.Commands(ctx, datastore.Devices("amzn1.ask.device.BEDROOM"), []datastore.Command{
		datastore.PutObject("todo", "count", 3),
	}, datastore.AttemptDeliveryUntil(time.Now().Add(2*time.Hour)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Results[0].Type, res.QueuedResultID != "")
	for r, err := range client.QueuedResult(ctx, res.QueuedResultID) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("waiting:", r.DeviceID)
	}

	ds.SetOnline("amzn1.ask.device.BEDROOM", true)
	stored, _ := ds.Object("amzn1.ask.device.BEDROOM", "todo", "count")
	fmt.Println("delivered:", string(stored))
	// Output:
	// DEVICE_UNAVAILABLE true
	// waiting: amzn1.ask.device.BEDROOM
	// delivered: 3
}

// Cancel stops the deliveries still queued, such as a score that is no
// longer current.
func ExampleClient_Cancel() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()
	ds := srv.DataStore()
	ds.AddDevice("amzn1.ask.account.XXXX", "amzn1.ask.device.BEDROOM")
	ds.SetOnline("amzn1.ask.device.BEDROOM", false)

	client := datastore.NewClient(srv.Config())
	ctx := context.Background()
	res, _ := client.Commands(ctx, datastore.User("amzn1.ask.account.XXXX"), []datastore.Command{
		datastore.PutObject("scores", "match-42", map[string]int{"home": 0, "away": 0}),
	})
	fmt.Println(client.Cancel(ctx, res.QueuedResultID))

	ds.SetOnline("amzn1.ask.device.BEDROOM", true)
	_, stored := ds.Object("amzn1.ask.device.BEDROOM", "scores", "match-42")
	fmt.Println("stored:", stored)
	// Output:
	// <nil>
	// stored: false
}

// Requests are checked before anything is sent: a payload over the limit
// never leaves the process.
func ExampleLimits_Validate() {
	r := datastore.NewRequest(datastore.User("amzn1.ask.account.XXXX"), []datastore.Command{
		datastore.PutObject("big", "blob", strings.Repeat("x", datastore.DefaultMaxPayloadBytes)),
	})
	err := datastore.DefaultLimits().Validate(r)
	fmt.Println(errors.Is(err, datastore.ErrPayloadTooLarge))
	fmt.Println(err)
	// Output:
	// true
	// datastore.Commands: invalid request: commands: must be at most 1048576 bytes as compact JSON (got 1048643 bytes)
}
