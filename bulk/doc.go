// Package bulk sends skill messages, proactive events and DataStore
// commands in bulk: a stream of JSON lines in, a Result per line out, with
// a concurrency limit, an optional shared rate limit, the SDK's retry
// policy, and a journal that makes an interrupted job resumable without
// losing or repeating items.
//
// Shortest use:
//
//	f, _ := os.Open("messages.jsonl") // {"userId": "...", "data": {...}} per line
//	sum, err := bulk.SendMessages(ctx, alexa.Config{Credentials: creds}, f, bulk.Options{})
//	fmt.Println(sum) // sent, duplicates, failed by reason, rate …
//
// Input is read line by line and never held whole, so memory stays flat
// however long it is. Each non-blank line is one item, numbered by its
// line in the input (1-based); a line that is not JSON or breaks the API's
// rules is reported Invalid with its number and the rest go on.
//
// With a Journal (OpenJournal), every item the API acknowledged is
// recorded, by its content (ItemID), and never one it did not: records
// are group-committed, fsynced together every 10 ms (see
// Journal.SetSyncInterval), and all of them by the time a job returns.
// A job killed at any moment and run again with the same journal sends
// what was not acknowledged and skips the rest, even if the input was
// edited, reordered or replaced in between: so the failures file can be
// fed back with the same journal. Only the items in flight at a kill -9
// (at most Options.Concurrency) and those acknowledged in the last sync
// interval before it can be sent twice; for proactive events the
// referenceId derived from the line's content makes Alexa refuse the
// second copy with 409, counted already delivered (Duplicate). The
// journal is locked while open: a second job on it is refused.
//
// Skill messages carry no such id. By default (at least once) a message
// whose connection failed after it was sent is sent again and, if then
// accepted, counted in Summary.PossiblyDuplicated; with
// Options.AtMostOnce it is reported Unknown instead and left to the user.
//
// Throttling slows the whole sender: when any call is answered 429, every
// worker waits until the retry is due before sending again. A Retry-After
// beyond the retry policy pauses the whole job, up to
// Options.MaxThrottleWait, or stops it with a *ThrottleError. A failure
// every item would share (no access token, credentials refused, 64 items
// in a row without a connection: ErrNetworkDown) stops the job with a
// *StopError. A Unicast proactive event refused 403 fails only its line,
// as Alexa answers 403 to a user who has not subscribed too; unless the
// first 1,000 such refusals come before any delivery, which stops the job.
// A stopped job leaves every unsent item for a rerun. Options.Rate caps
// requests per second across all workers.
//
// A line with a field its kind does not have (a misspelt
// "expiresAfterSecond") is Invalid: ignored, its default would be sent.
//
// SendDataStore sends one DataStore commands call per line, a target with
// its commands ({"target": {"type": "USER", "id": "..."}, "commands":
// [...]}), at Alexa's documented 25 writes per second unless Options.Rate
// says otherwise. An item is delivered when each of its devices got the
// commands or has them queued while offline; devices that failed with a
// retryable type are sent them again (see SendDataStore).
package bulk
