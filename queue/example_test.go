package queue_test

import (
	"context"
	"log"
	"os"
	"os/signal"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alexa-oos/alexa"
	"github.com/alexa-oos/alexa/messaging"
	"github.com/alexa-oos/alexa/queue"
)

// A notification enqueued with the business change that causes it, and a
// worker that delivers it.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	q, err := queue.New(pool, queue.Options{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := q.Migrate(ctx); err != nil { // once per deploy
		log.Fatal(err)
	}

	// In the request handler that ships an order:
	tx, err := pool.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "UPDATE orders SET state = 'shipped' WHERE id = $1", 42); err != nil {
		log.Fatal(err)
	}
	job, err := queue.NewMessage("amzn1.ask.account.X", &messaging.Message{Data: map[string]string{"orderId": "42", "state": "shipped"}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := q.EnqueueTx(ctx, tx, job, nil); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil { // the message exists only if the order shipped
		log.Fatal(err)
	}

	// On each worker machine, until SIGINT:
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	w, err := q.NewWorker(alexa.Config{
		Credentials: alexa.Credentials{ClientID: os.Getenv("ALEXA_CLIENT_ID"), ClientSecret: os.Getenv("ALEXA_CLIENT_SECRET")},
		Endpoint:    alexa.EndpointEU,
	}, queue.WorkerOptions{Rate: 50}) // 50 requests/s for the whole fleet
	if err != nil {
		log.Fatal(err)
	}
	if err := w.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
