package bulk_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
)

func ExampleSendMessages() {
	srv := alexatest.NewServer(alexatest.Options{})
	defer srv.Close()

	input := strings.NewReader(`{"userId": "amzn1.ask.account.A", "data": {"reminderId": "1"}}
{"userId": "amzn1.ask.account.B", "data": {"reminderId": "2"}, "expiresAfterSeconds": 600}
{"userId": "", "data": {}}
`)
	sum, err := bulk.SendMessages(context.Background(), srv.Config(), input, bulk.Options{
		OnResult: func(r bulk.Result) {
			if r.Err != nil {
				fmt.Printf("line %d: %s: %v\n", r.Line, r.Status, r.Err)
			}
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("sent", sum.Sent, "invalid", sum.Invalid, "all delivered:", sum.AllDelivered())
	// Output:
	// line 3: invalid: messaging.Send: invalid request: userId: is required: the userId the skill sees in its requests
	// sent 2 invalid 1 all delivered: false
}
