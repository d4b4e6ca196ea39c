// Package queue delivers skill messages, proactive events and DataStore
// commands from many processes and machines through River
// (github.com/riverqueue/river), a job queue in PostgreSQL: jobs are
// enqueued in the same transaction as the business change that causes
// them, can be scheduled, survive the loss of any worker, and every worker
// shares one rate limit and one Login with Amazon token per scope.
//
// Shortest use:
//
//	pool, _ := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	q, _ := queue.New(pool, queue.Options{})
//	q.Migrate(ctx) // once per deploy: River's tables and the queue's
//
//	// Where the notification is decided, inside the caller's transaction:
//	job, _ := queue.NewMessage(userID, &messaging.Message{Data: map[string]string{"orderId": "42"}})
//	q.EnqueueTx(ctx, tx, job, nil)
//
//	// On every worker machine:
//	w, _ := q.NewWorker(alexa.Config{Credentials: creds}, queue.WorkerOptions{Rate: 50})
//	w.Run(ctx) // until ctx ends
//
// # Jobs
//
// MessageArgs, EventArgs and DataStoreArgs take the input shapes of the
// bulk package's JSON lines (ParseMessage, ParseEvent, ParseDataStore).
// Enqueue validates a job as the API clients do, before any I/O. Each job
// has a uniqueness key, by default derived from its content: enqueuing the
// same item again while it waits, runs, or within a day of its delivery
// (River's retention of completed jobs) adds nothing and reports
// Duplicate. EnqueueOptions sets a send time, a priority and an explicit
// key.
//
// # Delivery
//
// Worker runs jobs through messaging.Client, proactive.Client and
// datastore.Client with single attempts; River's retries (with backoff)
// are the retry policy. See Worker for what each answer does: in short 2xx
// and a proactive 409 are delivered (a DataStore job when every device got
// the commands or has them queued; devices answered CONCURRENCY_ERROR or
// INTERNAL_ERROR are retried alone), 429 snoozes without spending an
// attempt, 5xx and network errors retry, other 4xx cancel the job as a
// dead letter (Status, DeadLetters). Credentials the token endpoint
// refuses stop Worker.Run with ErrCredentialsRefused, the jobs put back.
// Delivery is at least once: a job whose worker dies is run
// again by another after WorkerOptions.RescueAfter, so the jobs in flight
// on a killed worker (at most its Concurrency) may be sent twice; proactive
// events keep their referenceId, and Alexa refuses the second copy;
// DataStore commands set a state, so a second copy changes nothing.
//
// # Shared rate limit
//
// Alexa limits requests per skill, not per machine. The limit is one row
// of RateLimitTable: a token bucket (GCRA) that each worker draws permits
// from in batches of at most 50 ms worth, and spends locally at the
// limit's pace. A worker that dies wastes at most the permits it held
// (about 100 ms worth; up to a second's on a machine too busy to wake it
// on time), so the aggregate rate can dip but never exceed the limit,
// whether one worker runs or fifty, joining or leaving. A 429 from Alexa
// pauses every worker on the limit for its Retry-After. RateLimit's
// IdleSeconds tells how long the limit went unused because no worker was
// ready: the sign that more workers or concurrency would go faster.
//
// # Shared token
//
// TokenStore keeps one access token per scope in TokenTable, refreshed by
// one worker under a PostgreSQL advisory lock while the others wait and
// read it: a fleet makes one token request per scope and token lifetime.
// The table is SECRET (see TokenTable).
//
// # PostgreSQL only
//
// River also has a SQLite driver; the queue does not offer it. Its point
// is many machines on one shared database, transactional enqueue with the
// application's own PostgreSQL, and advisory locks; on one machine the
// bulk package's journal gives resumable delivery without a database.
package queue
