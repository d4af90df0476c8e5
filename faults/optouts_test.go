package faults_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// optOutLoad posts opt-outs for distinct numbers from several clients at
// once and returns the numbers whose opt-out got a 2xx: what the console
// acknowledged, and so must keep. Failures (refused connections, 5xx) are
// counted, not fatal: they are what the fault provokes.
type optOutLoad struct {
	base, key string
	block     int
	clients   int
	perClient int

	mu     sync.Mutex
	acked  []string
	failed int
}

func (l *optOutLoad) run(during func()) {
	l.runUntil(nil, during)
}

// runUntil is run with clients that keep going, past their count, until
// stop is closed (when stop is not nil): the load then outlasts the fault.
func (l *optOutLoad) runUntil(stop chan struct{}, during func()) {
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for c := range l.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				if stop == nil && i == l.perClient {
					return
				}
				if stop != nil {
					select {
					case <-stop:
						return
					default:
					}
				}
				to := phone(l.block+i/l.perClient, c*l.perClient+i%l.perClient)
				body, _ := json.Marshal(map[string]string{"to": to, "evidence": "fault suite"})
				req, _ := http.NewRequest(http.MethodPost, l.base+"/api/v1/opt-outs", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+l.key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				ok := err == nil && res.StatusCode/100 == 2
				if err == nil {
					res.Body.Close()
				}
				l.mu.Lock()
				if ok {
					l.acked = append(l.acked, to)
				} else {
					l.failed++
				}
				l.mu.Unlock()
				// A paced client, as a sending pipeline is: the fault has
				// to land while writes are arriving.
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	if during != nil {
		during()
	}
	if stop != nil {
		close(stop)
	}
	wg.Wait()
}

// counts is how many opt-outs were acknowledged and how many failed so far.
func (l *optOutLoad) counts() (acked, failed int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked), l.failed
}

// assertSuppressed checks through a console's batch check that every
// number is suppressed.
func assertSuppressed(t *testing.T, base, key string, numbers []string) {
	t.Helper()
	missing := 0
	for start := 0; start < len(numbers); start += 1000 {
		batch := numbers[start:min(start+1000, len(numbers))]
		body, _ := json.Marshal(map[string][]string{"to": batch})
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/suppressions/check", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var ans struct {
			Results []struct {
				To         string `json:"to"`
				Suppressed *bool  `json:"suppressed"`
			} `json:"results"`
		}
		err = json.NewDecoder(res.Body).Decode(&ans)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || len(ans.Results) != len(batch) {
			t.Fatalf("batch check: status %d, %d results, %v", res.StatusCode, len(ans.Results), err)
		}
		for _, r := range ans.Results {
			if r.Suppressed == nil || !*r.Suppressed {
				if missing < 5 {
					t.Errorf("%s got a 2xx opt-out but is not suppressed", r.To)
				}
				missing++
			}
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged opt-outs are lost", missing, len(numbers))
	}
}

// pgCluster is a PostgreSQL cluster of the scenario's own, in a temporary
// folder on a free port, so stopping it disturbs nobody else.
type pgCluster struct {
	t        *testing.T
	bin, dir string
	port     int
}

func newPGCluster(t *testing.T) *pgCluster {
	t.Helper()
	needRoot(t)
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Fatal("pg_ctl not found under /usr/lib/postgresql: install PostgreSQL's server package")
	}
	c := &pgCluster{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	parent, err := os.MkdirTemp("", "console-fault-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	c.dir = filepath.Join(parent, "data")
	// PostgreSQL refuses to run as root: the cluster belongs to postgres.
	if out, err := exec.Command("chown", "postgres", parent).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	addr := freeAddr(t)
	c.port, _ = strconv.Atoi(addr[strings.LastIndex(addr, ":")+1:])
	c.as("initdb", "-D", c.dir, "-A", "trust", "-U", "postgres", "--no-sync")
	c.start()
	t.Cleanup(func() { c.pgctl("stop", "-m", "immediate") })
	return c
}

func (c *pgCluster) as(prog string, args ...string) {
	c.t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(c.bin, prog)}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("%s %s: %v\n%s", prog, strings.Join(args, " "), err, out)
	}
}

func (c *pgCluster) pgctl(args ...string) {
	c.t.Helper()
	c.as("pg_ctl", append([]string{"-D", c.dir, "-w", "-l", filepath.Join(filepath.Dir(c.dir), "log")}, args...)...)
}

func (c *pgCluster) start() {
	c.pgctl("start", "-o", fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on", c.port, filepath.Dir(c.dir)))
}

func (c *pgCluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
}

// PostgreSQL stopped hard (-m immediate, as a crash) and started again
// while opt-outs arrive: clients see errors during the outage, and every
// opt-out that got a 2xx before, during or after it is still in force when
// a new console process reads the database afterwards.
func TestPostgresRestartUnderLoadKeepsEveryAcknowledgedOptOut(t *testing.T) {
	suite(t)
	t.Parallel()
	pg := newPGCluster(t)
	e := newEnv(t, pg.dsn())
	key := e.setUpTenant("acme")
	srv := e.serve()
	// 8 clients, at most 1,000 numbers each (blocks 0–7 of 10,000).
	load := &optOutLoad{base: srv.base, key: key, block: 0, clients: 8, perClient: 1000}
	var before, during, after int
	load.runUntil(make(chan struct{}), func() {
		waitUntil(t, time.Minute, "opt-outs acknowledged before the fault", func() bool { n, _ := load.counts(); return n >= 50 })
		before, _ = load.counts()
		pg.pgctl("stop", "-m", "immediate")
		time.Sleep(2 * time.Second)
		pg.start()
		during, _ = load.counts()
		waitUntil(t, 2*time.Minute, "opt-outs acknowledged after PostgreSQL came back", func() bool { n, _ := load.counts(); return n >= during+50 })
		after, _ = load.counts()
	})
	t.Logf("PostgreSQL restarted under load: %d opt-outs acknowledged before the stop, %d by the restart, %d after; %d refused or failed",
		before, during, after, load.failed)
	if load.failed == 0 {
		t.Errorf("no write failed while PostgreSQL was down: the fault did not land during the load")
	}
	// A new process answers from the database alone.
	srv.kill()
	fresh := e.serve()
	assertSuppressed(t, fresh.base, key, load.acked)
	if code, out, errOut := e.run("", "audit", "verify"); code != 0 {
		t.Errorf("audit verify after the restart: exit %d\n%s%s", code, out, errOut)
	}
}

// A full disk under SQLite: writes fail with an error answer, none is
// acknowledged and then lost, and once space is back writes succeed again
// with everything acknowledged before still in force.
func TestFullDiskOnSQLiteLosesNoAcknowledgedOptOut(t *testing.T) {
	suite(t)
	t.Parallel()
	needRoot(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	e := newEnv(t, filepath.Join(mnt, "console.db"))
	key := e.setUpTenant("acme")
	srv := e.serve()
	// Fill the disk around the database, leaving the console a little room:
	// the first opt-outs fit, the later ones do not. (The tmpfs is larger
	// than SQLite's write-ahead log grows between checkpoints, 4 MB, so
	// that freeing the filler really gives writes room again.)
	filler := filepath.Join(mnt, "filler")
	var st syscall.Statfs_t
	if err := syscall.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if err := os.WriteFile(filler, make([]byte, max(free-256<<10, 0)), 0o600); err != nil {
		t.Fatal(err)
	}
	load := &optOutLoad{base: srv.base, key: key, block: 1, clients: 4, perClient: 500}
	load.run(nil)
	t.Logf("disk full: %d opt-outs acknowledged, %d refused", len(load.acked), load.failed)
	if load.failed == 0 || len(load.acked) == 0 {
		t.Errorf("the disk should fill during the load: some opt-outs fit, later ones fail")
	}
	ready, err := http.Get(srv.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready.Body.Close()
	t.Logf("/readyz on a full disk: %d", ready.StatusCode)
	if ready.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz answers %d while every write fails, want 503", ready.StatusCode)
	}
	// Space comes back.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	more := &optOutLoad{base: srv.base, key: key, block: 3, clients: 2, perClient: 50}
	more.run(nil)

	if more.failed != 0 {
		t.Errorf("after space came back %d of %d opt-outs still failed:\n%s", more.failed, 100, srv.output())
	}
	srv.kill()
	fresh := e.serve()
	assertSuppressed(t, fresh.base, key, append(load.acked, more.acked...))
}
