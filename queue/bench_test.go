package queue_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alexa-oos/alexa/alexatest"
	"github.com/alexa-oos/alexa/bulk"
)

// postgresCPU returns the CPU time the PostgreSQL server has used so far
// (postmaster, live backends and reaped children), or -1 when
// ALEXA_OOS_TEST_PGDATA (set by scripts/with-postgres.sh) does not lead to
// it.
func postgresCPU() time.Duration {
	data := os.Getenv("ALEXA_OOS_TEST_PGDATA")
	pidFile, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if data == "" || err != nil {
		return -1
	}
	root := strings.SplitN(string(pidFile), "\n", 2)[0]
	var ticks int64
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command name (which may hold spaces).
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 15 {
			continue
		}
		ppid, utime, stime := f[1], f[11], f[12]
		if e.Name() != root && ppid != root {
			continue
		}
		for _, v := range []string{utime, stime} {
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
		if e.Name() == root {
			for _, v := range f[13:15] { // cutime, cstime
				n, _ := strconv.ParseInt(v, 10, 64)
				ticks += n
			}
		}
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// messageLines returns n message lines from user from on.
func messageLines(from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		b.WriteString(messageLine(i))
		b.WriteByte('\n')
	}
	return b.String()
}

// BenchmarkQueueVsBulk sends the same number of skill messages to the
// emulator with bulk.SendMessages and through the queue (one worker, the
// same concurrency, no rate limit), alternating, and reports end-to-end
// jobs per second of each and their ratio; the enqueue rate; and the CPU
// the queue costs PostgreSQL and this process per job, from which
// docs/scale.md derives jobs per second per PostgreSQL core.
//
//	scripts/with-postgres.sh go test -run XXX -bench QueueVsBulk -benchtime 2x ./queue/
func BenchmarkQueueVsBulk(b *testing.B) {
	const n, concurrency = 5000, 64
	db, q := newTestQueue(b)
	srv := newServer(b, alexatest.Options{DiscardRecords: true})
	ctx := context.Background()
	var bulkTime, queueTime, enqueueTime, pgCPU, ownCPU time.Duration
	from := 0
	for b.Loop() {
		// bulk
		start := time.Now()
		sum, err := bulk.SendMessages(ctx, srv.Config(), strings.NewReader(messageLines(from, n)), bulk.Options{Concurrency: concurrency})
		if err != nil || sum.Sent != n {
			b.Fatalf("bulk: %v, %v", sum, err)
		}
		bulkTime += time.Since(start)
		from += n

		// queue: enqueue, then work
		start = time.Now()
		for i := 0; i < n; i += 1000 {
			enqueueMessages(b, q, from+i, min(1000, n-i))
		}
		enqueueTime += time.Since(start)
		base := srv.Accepted()
		pg0, own0 := postgresCPU(), processCPU()
		start = time.Now()
		opts := fastOptions()
		opts.Concurrency = concurrency
		_, stop := startWorker(b, db.queue(b), srv.Config(), opts)
		waitFor(b, "the queue's jobs", func() bool { return srv.Accepted()-base >= n })
		queueTime += time.Since(start)
		pgCPU += postgresCPU() - pg0
		ownCPU += processCPU() - own0
		stop()
		from += n
	}
	iters := float64(b.N)
	qps := iters * n / queueTime.Seconds()
	bps := iters * n / bulkTime.Seconds()
	b.ReportMetric(qps, "queue-jobs/s")
	b.ReportMetric(bps, "bulk-items/s")
	b.ReportMetric(qps/bps, "queue/bulk")
	b.ReportMetric(iters*n/enqueueTime.Seconds(), "enqueue-jobs/s")
	if postgresCPU() >= 0 {
		b.ReportMetric(float64(pgCPU.Microseconds())/(iters*n), "pg-cpu-µs/job")
		b.ReportMetric(iters*n/pgCPU.Seconds(), "jobs/pg-core-s")
	}
	b.ReportMetric(float64(ownCPU.Microseconds())/(iters*n), "worker+emulator-cpu-µs/job")
	// What a job costs on disk while River keeps it (a day once completed).
	var bytes, jobs float64
	if err := db.pool.QueryRow(ctx, "SELECT pg_total_relation_size('"+db.schema+".river_job'), (SELECT count(*) FROM "+db.schema+".river_job)").Scan(&bytes, &jobs); err == nil && jobs > 0 {
		b.ReportMetric(bytes/jobs, "db-bytes/job")
	}
}
