package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sendara/console/models"
)

// target is one database under test, seeded by the console itself.
type target struct {
	name    string // SQLite or PostgreSQL, for the table
	dialect string
	dsn     string
	db      *models.DB
	seed1   string // customer seed-1's id
	log     string // the console's log file
}

func (t *target) label(what string) string { return fmt.Sprintf("%s [%s]", what, t.name) }

// runDialect seeds a fresh database of one dialect and runs the chosen
// benchmarks on it.
func (b *bench) runDialect(ctx context.Context, dialect string) error {
	t, err := b.openTarget(ctx, dialect)
	if err != nil {
		return err
	}
	b.logf("%s: seeding %d contacts with console seed", t.name, b.o.contacts)
	start := time.Now()
	if _, err := b.console(ctx, t, true, "seed", "--customers", strconv.Itoa(b.o.customers), "--contacts", strconv.Itoa(b.o.contacts)); err != nil {
		return err
	}
	b.notes = append(b.notes, fmt.Sprintf("%s: `console seed --customers %d --contacts %d` took %s.",
		t.name, b.o.customers, b.o.contacts, time.Since(start).Round(100*time.Millisecond)))
	if t.db, err = models.Open(t.dsn); err != nil {
		return err
	}
	defer t.db.Close()
	c, err := t.db.CustomerBySlug(ctx, "seed-1")
	if err != nil {
		return fmt.Errorf("find seed-1: %w", err)
	}
	t.seed1 = c.ID
	if dialect == "postgres" {
		defer b.autoanalyze(ctx, t)()
	}
	steps := []struct {
		name string
		run  func(context.Context, *target) error
		pg   bool
	}{
		{"check", b.benchCheck, false},
		{"list", b.benchList, false},
		{"import", b.benchImport, true},
		{"audit", b.benchAudit, false},
		{"webhooks", b.benchWebhooks, false},
		{"schema", b.benchSchema, true}, // not in --only's default: a question for planning, not a goal
	}
	for _, s := range steps {
		if !b.o.only[s.name] || (s.pg && dialect != "postgres") {
			continue
		}
		if err := s.run(ctx, t); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.fail("%s benchmark on %s: %v", s.name, t.name, err)
		}
	}
	return nil
}

// openTarget creates an empty database: a file in the work directory, or
// a database named console_bench_<random> that is dropped at the end.
func (b *bench) openTarget(ctx context.Context, dialect string) (*target, error) {
	t := &target{dialect: dialect, log: filepath.Join(b.dir, dialect+"-console.log")}
	if dialect == "sqlite" {
		t.name, t.dsn = "SQLite", filepath.Join(b.dir, "bench.db")
		return t, nil
	}
	t.name = "PostgreSQL"
	admin, err := pgx.Connect(ctx, b.o.pgURL)
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL at %s does not answer: %w", redact(b.o.pgURL), err)
	}
	defer admin.Close(ctx)
	name := "console_bench_" + randomHex(4)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database: %w", err)
	}
	b.cleanups = append(b.cleanups, func() {
		if b.o.keep {
			fmt.Fprintf(os.Stderr, "bench: kept database %s\n", name)
			return
		}
		c, err := pgx.Connect(context.Background(), b.o.pgURL)
		if err == nil {
			defer c.Close(context.Background())
			_, err = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: drop database %s: %v\n", name, err)
		}
	})
	u, err := url.Parse(b.o.pgURL)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	t.dsn = u.String()
	return t, nil
}

// console runs a console command on the target and returns its stdout;
// its log goes to the target's log file, and to stderr too when show is set.
func (b *bench) console(ctx context.Context, t *target, show bool, args ...string) (string, error) {
	logf, err := os.OpenFile(t.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, b.binary, append(args, "--db", t.dsn)...)
	cmd.Env = append(os.Environ(), "CONSOLE_LOG_FORMAT=text")
	var out strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = logf
	if show {
		cmd.Stderr = io.MultiWriter(logf, os.Stderr)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("console %s: %w (log: %s)", strings.Join(args[:min(2, len(args))], " "), err, t.log)
	}
	return out.String(), nil
}

// server is a running console serve.
type server struct {
	cmd  *exec.Cmd
	base string
}

// serve starts console serve on a free loopback port with the API rate
// limit off and waits until /healthz answers.
func (b *bench) serve(ctx context.Context, t *target, env ...string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(t.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(b.binary, "serve", "--addr", addr, "--db", t.dsn)
	cmd.Env = append(os.Environ(), "CONSOLE_API_RATE=0", "CONSOLE_LOG_FORMAT=json", "CONSOLE_BASE_URL=http://"+addr)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start console serve: %w", err)
	}
	s := &server{cmd: cmd, base: "http://" + addr}
	go func() { _ = cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil || cmd.ProcessState != nil {
			s.stop()
			return nil, fmt.Errorf("console serve did not answer /healthz within a minute (log: %s)", t.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the server we started: SIGTERM, then SIGKILL after 15 s.
func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	for range 150 {
		if s.cmd.ProcessState != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = s.cmd.Process.Kill()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// printMachine prints what the figures were measured on and how.
func (b *bench) printMachine(w io.Writer) {
	fmt.Fprintf(w, "# console bench, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "- command: `go run ./bench %s`\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(w, "- machine: %d CPUs (%s), %s memory; %s; %s\n", runtime.NumCPU(), cpuModel(), memTotal(), runtime.Version(), b.pgVersion())
	fmt.Fprintf(w, "- load average at the start: %s\n", loadAvg())
	fmt.Fprintf(w, "- %d contacts in one customer (seed-1); %d opt-out rows for the bulk path, %d for the CSV job; %d connections, %s load phases after %s warm-up\n",
		b.o.contacts, b.o.importRows, b.o.csvRows, b.o.conns, b.o.duration, b.o.warmup)
}

func (b *bench) pgVersion() string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, b.o.pgURL)
	if err != nil {
		return "PostgreSQL not reachable"
	}
	defer c.Close(ctx)
	var v string
	if err := c.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return "PostgreSQL version unknown"
	}
	return "PostgreSQL " + strings.Fields(v)[0]
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "CPU model unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "CPU model unknown"
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	return "unknown"
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

var errEndpointMissing = errors.New("endpoint missing")

// procCPU is a process's user and system CPU time so far, from
// /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; count from after it.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// backendCPU is the CPU time of each PostgreSQL backend connected to the
// target's database (PostgreSQL runs on this machine: load goes to
// 127.0.0.1 only); empty for SQLite.
func (b *bench) backendCPU(ctx context.Context, t *target) map[int]time.Duration {
	out := map[int]time.Duration{}
	if t.dialect != "postgres" {
		return out
	}
	var pids []int
	// The asking connection is included: it may be the one that does the
	// measured work next (VerifyAudit), and asking costs next to nothing.
	if err := t.db.Gorm.WithContext(ctx).Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").
		Scan(&pids).Error; err != nil {
		return out
	}
	for _, p := range pids {
		out[p] = procCPU(p)
	}
	return out
}

// autoanalyze stands in for autovacuum's ANALYZE when the server runs with
// autovacuum off (as a test server may): with its default settings — every
// minute, each table with more than 50 + 10% of its rows changed since its
// last ANALYZE. Without it, a fresh customer's rows stay invisible to the
// planner for the whole run, which no production server does. It returns
// the function that stops it.
func (b *bench) autoanalyze(ctx context.Context, t *target) func() {
	var on string
	if err := t.db.Gorm.WithContext(ctx).Raw("SHOW autovacuum").Scan(&on).Error; err != nil || on == "on" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	runs := 0
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Minute)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			var tables []string
			if err := t.db.Gorm.WithContext(ctx).Raw(`SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
				WHERE s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0)`).Scan(&tables).Error; err != nil {
				continue
			}
			for _, name := range tables {
				if t.db.Gorm.WithContext(ctx).Exec("ANALYZE "+pgx.Identifier{name}.Sanitize()).Error == nil {
					runs++
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		b.notes = append(b.notes, fmt.Sprintf("PostgreSQL: this server runs with autovacuum off; the bench stood in for autovacuum's "+
			"ANALYZE with its default thresholds (each minute, tables with over 50 + 10%% of their rows changed) and ran it %d times.", runs))
	}
}
