// Package datastore is the client of the Alexa DataStore API: Amazon's
// DatastoreServiceClient. It pushes data into the data store on
// customers' devices, where the skill's widgets and APL documents read it
// without calling the skill: scores, deliveries, to-do counts.
//
// Shortest use:
//
//	c := datastore.NewClient(alexa.Config{Credentials: creds})
//	res, err := c.Commands(ctx, datastore.User(userID), []datastore.Command{
//		datastore.PutObject("scores", "match-42", map[string]int{"home": 2, "away": 1}),
//	})
//
// A device's data store holds namespaces, each holding objects by key.
// Commands change it: PutNamespace, PutObject, RemoveNamespace,
// RemoveObject and Clear; a Target says which devices: User (every device
// of one customer) or Devices (a list of deviceIds).
//
// Alexa answers with one DispatchResult per device. An offline device is
// DEVICE_UNAVAILABLE, and when Alexa queues the commands for it the
// Response carries a QueuedResultID: QueuedResult iterates over the
// deliveries still not made, and Cancel stops them. Pass
// AttemptDeliveryUntil to say how long Alexa keeps trying.
//
// Requests are checked before sending (see Limits) and nothing is sent
// when one breaks a rule; the emulator in package alexatest checks with the
// same rules. Errors unwrap to *alexa.ValidationError or *alexa.Error
// (whose Code holds DataStore's error type, such as
// COMMANDS_PAYLOAD_EXCEEDS_LIMIT), and match ErrPayloadTooLarge,
// ErrSupportRequired, ErrTooManyTargets, ErrCommandsDelivered,
// alexa.ErrThrottled and alexa.ErrNotFound with errors.Is.
//
// The calls map to Amazon's Python DatastoreServiceClient as follows, with
// the same paths, JSON field names and scope (alexa::datastore):
//
//	commands_v1(commands_request)     Client.Commands, Client.Send
//	queued_result_v1(id, max_results, next_token)
//	                                  Client.QueuedResultPage; Client.QueuedResult iterates all pages
//	cancel_commands_v1(id)            Client.Cancel
package datastore
