// Package bulk sends skill messages and proactive events in bulk: a stream
// of JSON lines in, a Result per line out, with a concurrency limit, an
// optional shared rate limit, the SDK's retry policy, and a journal that
// makes an interrupted job resumable without losing or repeating items.
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
// recorded and fsynced before it counts as done; a job killed at any
// moment and run again with the same input and journal skips what was
// acknowledged and sends the rest. Only items in flight at the kill (at
// most Options.Concurrency) can be sent twice, and for proactive events
// the derived referenceId makes Alexa refuse the second copy with 409,
// which a resumed job counts as delivered.
//
// Throttling slows the whole sender: when any call is answered 429, every
// worker waits until the retry is due before sending again. Options.Rate
// caps requests per second across all workers.
package bulk
