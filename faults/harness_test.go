package faults_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sendara/console/models"
	store "github.com/sendara/console/models/store"
)

// suite skips the test unless CONSOLE_FAULT_SUITE=1: the scenarios take
// minutes and some need root.
func suite(t *testing.T) {
	t.Helper()
	if os.Getenv("CONSOLE_FAULT_SUITE") != "1" {
		t.Skip("the fault suite runs with CONSOLE_FAULT_SUITE=1 (CI sets it)")
	}
}

// needRoot fails (under the suite, a scenario that cannot run is a
// failure, not a skip) when the scenario needs root and this is not root.
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this scenario starts its own PostgreSQL cluster or mounts a tmpfs: run the fault suite as root (CI does)")
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// consoleBinary builds cmd/console once per run.
func consoleBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "console-faults-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "console")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/sendara/console/cmd/console").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// env is the environment a scenario runs the console with.
type env struct {
	t   *testing.T
	bin string
	dsn string
	dir string
	// extra CONSOLE_* variables
	vars map[string]string
}

func newEnv(t *testing.T, dsn string) *env {
	return &env{t: t, bin: consoleBinary(t), dsn: dsn, dir: t.TempDir(), vars: map[string]string{}}
}

func (e *env) environ() []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.dir, "CONSOLE_DB=" + e.dsn, "CONSOLE_LOG_FORMAT=text",
		"CONSOLE_DEFAULT_REGION=US", "CONSOLE_TIMEZONE=America/Los_Angeles"}
	for k, v := range e.vars {
		out = append(out, k+"="+v)
	}
	return out
}

// run runs one command to its end and returns its exit status and output.
func (e *env) run(stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Env, cmd.Dir = e.environ(), e.dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("console %s: %v", strings.Join(args, " "), err)
	}
	return code, out.String(), errOut.String()
}

// must runs a command that has to succeed and returns its stdout.
func (e *env) must(stdin string, args ...string) string {
	e.t.Helper()
	code, out, errOut := e.run(stdin, args...)
	if code != 0 {
		e.t.Fatalf("console %s: exit %d\n%s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// proc is a console process left running.
type proc struct {
	cmd  *exec.Cmd
	log  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
	base string
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// start starts a command in the background; t's end kills it.
func (e *env) start(args ...string) *proc {
	e.t.Helper()
	cmd := exec.Command(e.bin, args...)
	cmd.Env, cmd.Dir = e.environ(), e.dir
	p := &proc{cmd: cmd, log: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = lockedWriter{p.mu, p.log}, lockedWriter{p.mu, p.log}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	e.t.Cleanup(func() { p.kill() })
	return p
}

// serve starts `console serve` on a free loopback port and waits until it
// answers /healthz.
func (e *env) serve() *proc {
	e.t.Helper()
	addr := freeAddr(e.t)
	p := e.start("serve", "--addr", addr)
	p.base = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(p.base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			e.t.Fatalf("console serve exited early:\n%s", p.output())
		case <-time.After(100 * time.Millisecond):
		}
	}
	e.t.Fatalf("console serve did not answer /healthz within a minute:\n%s", p.output())
	return nil
}

// kill ends the process with SIGKILL: no shutdown code runs.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// databases are the DSNs a scenario runs on: a SQLite file, and a fresh
// database on the server CONSOLE_TEST_DB names when it is set.
func databases(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{"sqlite": filepath.Join(t.TempDir(), "console.db")}
	if base := os.Getenv("CONSOLE_TEST_DB"); store.DialectOf(base) == store.Postgres {
		out["postgres"] = freshPostgres(t, base)
	}
	return out
}

// freshPostgres creates a database on the server at base, dropped when t
// ends.
func freshPostgres(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("PostgreSQL at CONSOLE_TEST_DB: %v", err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("console_fault_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err == nil {
			_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	cfg, err := pgx.ParseConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

// query runs one SQL query that returns one number, on a connection of its
// own (the console under test keeps its own).
func query(t *testing.T, dsn, sql string, args ...any) int64 {
	t.Helper()
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.Gorm.Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// waitUntil polls cond every 200 ms until it holds or limit passes.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("waited %s for %s", limit, what)
}

// setUpTenant migrates the database and adds one customer with an API key,
// returning the key.
func (e *env) setUpTenant(slug string) string {
	e.t.Helper()
	e.must("", "migrate")
	e.must("", "customer", "add", "--slug", slug, "--name", slug+" Inc")
	return strings.TrimSpace(e.must("", "apikey", "add", "--customer", slug))
}

// areaCodes are US area codes whose 555 exchange libphonenumber accepts.
var areaCodes = []int{201, 202, 203, 205, 206, 207, 208, 209, 210, 212, 213, 214, 215, 216, 217, 218, 219, 224, 225, 228}

// phone is the i-th (< 10000) number of one block of distinct valid US
// numbers.
func phone(block, i int) string {
	return fmt.Sprintf("+1%03d555%04d", areaCodes[block], i)
}
