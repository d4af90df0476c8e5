// Command bench measures the console against the performance goals of
// DESIGN §7, each figure next to a baseline measured in the same run, and
// prints one markdown table. Run it from the repository root:
//
//	go run ./bench            # 1M contacts, SQLite and PostgreSQL (~15 min)
//	go run ./bench --quick    # 100k contacts, shorter phases (~4 min)
//
// It builds the console, seeds a fresh database per dialect with the real
// binary (console seed), serves it (console serve) and sends load to
// 127.0.0.1 only. PostgreSQL databases are created per run and dropped at
// the end. See bench/README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

type options struct {
	contacts   int
	customers  int
	importRows int
	csvRows    int
	dbs        []string
	pgURL      string
	duration   time.Duration
	warmup     time.Duration
	conns      int
	auditFor   time.Duration
	verifyRows int
	iterations int
	only       map[string]bool
	keep       bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "child" {
		os.Exit(childMain(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var o options
	var dbs, only string
	quick := flag.Bool("quick", false, "a quick run: 100k contacts and rows, 5 s load phases")
	flag.IntVar(&o.contacts, "contacts", 1_000_000, "contacts to seed (all in customer seed-1)")
	flag.IntVar(&o.importRows, "import-rows", 0, "opt-out rows to import (default: as many as --contacts)")
	flag.IntVar(&o.csvRows, "csv-rows", 0, "rows of the CSV file for console import opt-outs (default 100k, 20k with --quick)")
	flag.StringVar(&dbs, "db", "sqlite,postgres", "databases to measure: sqlite, postgres or both")
	flag.StringVar(&o.pgURL, "pg", envOr("CONSOLE_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL server URL (a database is created on it per run and dropped after)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each HTTP load phase")
	flag.IntVar(&o.conns, "conns", 64, "concurrent HTTP connections")
	flag.DurationVar(&o.auditFor, "audit-duration", 5*time.Second, "length of each audited-write phase")
	flag.IntVar(&o.verifyRows, "verify-entries", 0, "audit entries to verify (default 200k, 50k with --quick)")
	flag.StringVar(&only, "only", "check,list,import,audit,webhooks", "benchmarks to run (comma-separated; schema, the what-if of DESIGN §7's import goal, runs only when named)")
	flag.BoolVar(&o.keep, "keep", false, "keep the databases and the work directory (for a look afterwards)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "bench: unexpected argument %q\n", flag.Arg(0))
		return 2
	}
	contactsSet := false
	flag.Visit(func(f *flag.Flag) { contactsSet = contactsSet || f.Name == "contacts" })
	if *quick {
		if !contactsSet {
			o.contacts = 100_000
		}
		o.duration = min(o.duration, 5*time.Second)
		o.auditFor = min(o.auditFor, 3*time.Second)
	}
	if o.importRows == 0 {
		o.importRows = o.contacts
	}
	if o.csvRows == 0 {
		o.csvRows = min(o.importRows, 100_000)
		if *quick {
			o.csvRows = min(o.importRows, 20_000)
		}
	}
	o.customers = 1
	o.warmup = 2 * time.Second
	o.iterations = 200
	if o.verifyRows == 0 {
		o.verifyRows = 200_000
		if *quick {
			o.verifyRows = 50_000
		}
	}
	o.only = map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		o.only[strings.TrimSpace(s)] = true
	}
	for _, d := range strings.Split(dbs, ",") {
		switch d = strings.TrimSpace(d); d {
		case "both":
			o.dbs = append(o.dbs, "sqlite", "postgres")
		case "sqlite", "postgres":
			o.dbs = append(o.dbs, d)
		default:
			fmt.Fprintf(os.Stderr, "bench: --db %q: want sqlite, postgres or both\n", d)
			return 2
		}
	}
	if o.contacts < 1000 || o.importRows < 1 || o.csvRows < 1 || o.conns < 1 || o.duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench: --contacts must be at least 1000; --import-rows, --csv-rows, --conns and --duration positive")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		return 1
	}
	defer b.cleanup()
	b.printMachine(os.Stdout)
	failed := false
	for _, d := range o.dbs {
		if err := b.runDialect(ctx, d); err != nil {
			b.logf("%s: %v", d, err)
			failed = true
		}
	}
	b.printTable(os.Stdout)
	if len(b.failures) > 0 {
		fmt.Fprintln(os.Stderr)
		for _, f := range b.failures {
			fmt.Fprintf(os.Stderr, "bench: FAILED: %s\n", f)
		}
		failed = true
	}
	if failed {
		return 1
	}
	return 0
}

// bench holds one run's work directory, the console binary and the rows of
// the final table.
type bench struct {
	o        options
	root     string // the module root, where go build runs
	dir      string // work directory: binary, SQLite files, logs
	binary   string // the console built for this run
	started  time.Time
	rows     []row
	notes    []string
	failures []string
	cleanups []func()
}

type row struct {
	what, baseline, measured, ratio, goal, met string
}

func newBench(ctx context.Context, o options) (*bench, error) {
	b := &bench{o: o, started: time.Now()}
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return nil, errors.New("run bench from inside the console module (go run ./bench)")
	}
	b.root = filepath.Dir(strings.TrimSpace(string(out)))
	if b.dir, err = os.MkdirTemp("", "console-bench-"); err != nil {
		return nil, err
	}
	b.cleanups = append(b.cleanups, func() {
		if o.keep {
			fmt.Fprintf(os.Stderr, "bench: kept %s\n", b.dir)
			return
		}
		os.RemoveAll(b.dir)
	})
	b.binary = filepath.Join(b.dir, "console")
	// The console creates its secret key file where it is told, by default
	// in its working directory: the bench's databases get a key of their
	// own in the work directory (kept with them under --keep), neither a
	// new file in the checkout nor the key of a console the user runs.
	if err := os.Setenv("CONSOLE_SECRET_KEY", filepath.Join(b.dir, "console-secret.key")); err != nil {
		b.cleanup()
		return nil, err
	}
	b.logf("building the console")
	build := exec.CommandContext(ctx, "go", "build", "-o", b.binary, "./cmd/console")
	build.Dir, build.Stdout, build.Stderr = b.root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		b.cleanup()
		return nil, fmt.Errorf("go build ./cmd/console: %w", err)
	}
	return b, nil
}

func (b *bench) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
	b.cleanups = nil
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench [%s] %s\n", time.Since(b.started).Round(time.Second), fmt.Sprintf(format, args...))
}

func (b *bench) add(r row) { b.rows = append(b.rows, r) }

func (b *bench) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.failures = append(b.failures, msg)
	b.logf("FAILED: %s", msg)
}

func (b *bench) printTable(w io.Writer) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| what | baseline | measured | ratio | goal | met? |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- |")
	for _, r := range b.rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.what, r.baseline, r.measured, r.ratio, r.goal, r.met)
	}
	if len(b.notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range b.notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	fmt.Fprintf(w, "\nTotal time %s; load average at the end: %s\n", time.Since(b.started).Round(time.Second), loadAvg())
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}
