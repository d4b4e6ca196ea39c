package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/alexa-oos/alexa/datastore"
	"github.com/alexa-oos/alexa/proactive"
)

// DefaultQueue is the River queue the jobs go to and the workers take from,
// kept apart from an application's own River queues.
const DefaultQueue = "alexa_oos"

// Names of this package's tables, next to River's in the same schema.
const (
	// RateLimitTable holds the shared rate limits: one token bucket row
	// per limit.
	RateLimitTable = "alexa_oos_rate_limit"
	// TokenTable holds the shared LWA access tokens. It is SECRET: an
	// access token in it lets its holder call the Alexa APIs as the skill
	// until it expires. Tokens are stored encrypted with a key derived from
	// the skill's credentials, yet grant the table to the workers' role
	// only.
	TokenTable = "alexa_oos_token"
)

// ErrNotMigrated is returned when the database lacks River's tables or
// this package's: run Queue.Migrate ("alexa-oos queue migrate") first.
var ErrNotMigrated = errors.New("the database has no queue tables: run Queue.Migrate (alexa-oos queue migrate) first")

// Options configure a Queue. The zero value uses the connection's
// search_path, the queue DefaultQueue, proactive.DefaultRules() and
// datastore.DefaultLimits(), and logs River's warnings to stderr.
type Options struct {
	// Schema is the PostgreSQL schema of River's tables and this
	// package's. Empty means the connection's search_path (usually public).
	Schema string
	// Queue is the River queue name. Default DefaultQueue.
	Queue string
	// Rules validate proactive events when enqueued and before they are
	// sent. Default proactive.DefaultRules().
	Rules *proactive.Rules
	// DataStoreLimits validate DataStore jobs when enqueued and before
	// they are sent, as datastore.Client does. The zero value is
	// datastore.DefaultLimits().
	DataStoreLimits datastore.Limits
	// Logger receives River's logs and the workers'. Default: warnings
	// and errors to stderr. Secrets are never logged.
	Logger *slog.Logger
}

// Queue is a handle on the jobs of one River queue in one database: it
// migrates, enqueues, builds workers and reports status. It is safe for
// concurrent use.
type Queue struct {
	pool   *pgxpool.Pool
	opts   Options
	checks checks
	river  *river.Client[pgx.Tx]
	logger *slog.Logger

	// Qualified table names.
	rateTable, tokenTable, jobTable string
}

var nameRE = regexp.MustCompile(`^[a-z0-9]+(?:[_-]?[a-z0-9]+)*$`)
var schemaRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// New returns a Queue on pool. It does not touch the database.
func New(pool *pgxpool.Pool, opts Options) (*Queue, error) {
	if pool == nil {
		return nil, errors.New("queue.New: pool is nil")
	}
	if opts.Queue == "" {
		opts.Queue = DefaultQueue
	}
	if !nameRE.MatchString(opts.Queue) {
		return nil, fmt.Errorf("queue.New: Queue must be lower-case letters and digits separated by _ or - (got %q)", opts.Queue)
	}
	if opts.Schema != "" && !schemaRE.MatchString(opts.Schema) {
		return nil, fmt.Errorf("queue.New: Schema must be a plain identifier (got %q)", opts.Schema)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	q := &Queue{pool: pool, opts: opts, checks: defaultChecks(), logger: opts.Logger}
	if opts.Rules != nil {
		q.checks.events = *opts.Rules
	}
	q.checks.datastore = opts.DataStoreLimits.WithDefaults()
	q.rateTable = q.table(RateLimitTable)
	q.tokenTable = q.table(TokenTable)
	q.jobTable = q.table("river_job")
	// An insert-only client: it never works jobs.
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: opts.Schema, Logger: opts.Logger})
	if err != nil {
		return nil, fmt.Errorf("queue.New: %w", err)
	}
	q.river = rc
	return q, nil
}

// Name returns the River queue name.
func (q *Queue) Name() string { return q.opts.Queue }

// Pool returns the connection pool.
func (q *Queue) Pool() *pgxpool.Pool { return q.pool }

// River returns the queue's insert-only River client, for River's own
// tools (riverui, JobList, JobRetry of a dead letter). It never works jobs.
func (q *Queue) River() *river.Client[pgx.Tx] { return q.river }

func (q *Queue) table(name string) string {
	if q.opts.Schema == "" {
		return pgx.Identifier{name}.Sanitize()
	}
	return pgx.Identifier{q.opts.Schema, name}.Sanitize()
}

// migrateLock serialises concurrent Migrate calls on one database.
const migrateLock = int64(0x616c6578614d6967) // "alexaMig"

// Migrate brings River's tables and this package's up to date: safe to
// run at every deploy, and from several machines at once (they take turns
// on an advisory lock). It returns the River migration versions it
// applied.
func (q *Queue) Migrate(ctx context.Context) ([]int, error) {
	migrator, err := rivermigrate.New(riverpgxv5.New(q.pool), &rivermigrate.Config{Schema: q.opts.Schema, Logger: q.logger})
	if err != nil {
		return nil, fmt.Errorf("queue.Migrate: %w", err)
	}
	// A session lock on a connection of its own: River applies each of
	// its versions in a transaction of its own (some cannot share one).
	conn, err := q.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("queue.Migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return nil, fmt.Errorf("queue.Migrate: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock)
	if q.opts.Schema != "" {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{q.opts.Schema}.Sanitize()); err != nil {
			return nil, fmt.Errorf("queue.Migrate: %w", err)
		}
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("queue.Migrate: River: %w", err)
	}
	if _, err := conn.Exec(ctx, "BEGIN;"+q.ddl()+"COMMIT;"); err != nil {
		return nil, fmt.Errorf("queue.Migrate: %w", err)
	}
	var versions []int
	for _, v := range res.Versions {
		versions = append(versions, v.Version)
	}
	return versions, nil
}

// ddl creates this package's tables. Each statement is idempotent.
func (q *Queue) ddl() string {
	return `
CREATE TABLE IF NOT EXISTS ` + q.rateTable + ` (
	name        text PRIMARY KEY,
	per_second  double precision NOT NULL CHECK (per_second > 0),
	burst       integer NOT NULL CHECK (burst >= 1),
	-- Theoretical arrival time (GCRA): when the bucket is next empty;
	-- NULL until the first draw.
	tat         timestamptz,
	-- Time the limit went unused since the first draw.
	idle_seconds double precision NOT NULL DEFAULT 0,
	updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ` + q.rateTable + ` IS 'alexa-oos queue: rate limits shared by every worker, one token bucket per row';
CREATE TABLE IF NOT EXISTS ` + q.tokenTable + ` (
	key          text PRIMARY KEY,
	sealed       bytea NOT NULL,
	token_sha256 bytea NOT NULL,
	expires_at   timestamptz NOT NULL,
	fetched_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE ` + q.tokenTable + ` IS 'SECRET: Login-with-Amazon access tokens shared by alexa-oos queue workers (encrypted with a key derived from the skill credentials). Grant it to the workers'' role only.';
`
}

// check returns ErrNotMigrated when the tables are missing.
func (q *Queue) check(ctx context.Context) error {
	_, err := q.pool.Exec(ctx, "SELECT 1 FROM "+q.jobTable+" LIMIT 0; SELECT 1 FROM "+q.rateTable+" LIMIT 0; SELECT 1 FROM "+q.tokenTable+" LIMIT 0")
	return q.dbError(err)
}

// dbError maps a missing table to ErrNotMigrated.
func (q *Queue) dbError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && (pe.Code == "42P01" || pe.Code == "3F000") { // undefined_table, invalid_schema_name
		return fmt.Errorf("%w (%s)", ErrNotMigrated, pe.Message)
	}
	return err
}
