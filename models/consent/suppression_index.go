package consent

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	accounts "github.com/sendara/console/models/accounts"
	"github.com/sendara/console/models/identifiers"

	store "github.com/sendara/console/models/store"
)

// The suppression check is called before every message a customer sends, so
// it must cost little more than a health check. Each instance therefore
// answers it from memory: an index of every identifier with a consent state
// (suppressed or opted in) and of the erased list, per customer, plus the
// live API keys. It never holds
// identifiers in clear: entries are keyed by the same keyed hash the erased
// list uses, so a heap dump gives away no phone numbers or addresses.
//
// The database stays the truth. Triggers (migration 00008) note every change
// that can alter an answer in suppression_changes, whoever writes it: this
// process, another instance, a CLI import, raw SQL. The index replays that
// log
//   - right after each of this process's own write transactions commits, so
//     a write acknowledged here is visible to the next check here (an opt-out
//     that got its 2xx is honoured by the very next check);
//   - on a PostgreSQL NOTIFY from any other writer, and every pollEvery in
//     any case, so other processes' writes show within a fraction of a second.
//
// Whenever the index cannot be trusted (not loaded yet, a replay failed, an
// erased identifier whose answer depends on whether a contact has it) the
// check falls back to the database query it replaced. When that query fails
// too — the database is unreachable — a loaded index still answers, for at
// most StaleLimit after its last good replay (an erased identifier as
// suppressed); past that, checks fail with ErrSuppressionsUnavailable (503).
type suppressionIndex struct {
	db   *ConsentStore
	key  []byte    // the erased list's HMAC key
	macs sync.Pool // *indexMAC for hash
	log  *slog.Logger

	mu       sync.RWMutex
	ready    bool
	lastGood time.Time // when the index was last known complete: load or replay
	tenants  map[string]*tenantSuppressions
	reasons  []string         // reason codes ↔ names, interned
	codes    map[string]uint8 // (a handful of reasons; one byte each)
	keys     map[string]accounts.APIKey
	keyGen   uint64 // bumped by every key flush; guards racing fills

	replay   sync.Mutex // one replay at a time
	cursor   int64      // highest change id read
	missing  map[int64]time.Time
	lastSwep time.Time
	lastLate time.Time // when every missing id was last asked for

	failApply func() error // tests: a replay that fails
}

// tenantSuppressions is one customer's part of the index.
type tenantSuppressions struct {
	states map[hashKey]suppressedEntry // identifiers suppressed or opted in somewhere
	erased map[hashKey]struct{}
}

// tenantIn returns customer id's part of tenants, adding it if missing.
func tenantIn(tenants map[string]*tenantSuppressions, id string) *tenantSuppressions {
	t := tenants[id]
	if t == nil {
		t = &tenantSuppressions{states: map[hashKey]suppressedEntry{}, erased: map[hashKey]struct{}{}}
		tenants[id] = t
	}
	return t
}

// hashKey is the first 16 bytes of an identifier's keyed hash: 128 bits keep
// collisions out of reach and halve the index's memory.
type hashKey [16]byte

// suppressedEntry is one identifier's standing per channel (Channels'
// order): suppressed since when in Unix nanoseconds (0 when not suppressed
// there) and the reason's code, or opted in (a bit per channel). The bits
// fit in the struct's padding: opt-in state costs no memory per entry.
type suppressedEntry struct {
	since   [2]int64
	reason  [2]uint8
	optedIn uint8
}

const (
	// pollEvery bounds how stale another process's write can leave this
	// instance when no notification arrives.
	pollEvery = 250 * time.Millisecond
	// gapTimeout is how long a change id skipped by the sequence is waited
	// for. On PostgreSQL ids are taken at insert and commit out of order: a
	// missing id is usually a transaction still running, else a rollback.
	gapTimeout = 15 * time.Minute
	// lateEvery is how often ids missing for a while are asked for again.
	lateEvery = 5 * time.Second
	// inFlightWindow is how far below the newest change id a loading index
	// looks for ids of transactions still running.
	inFlightWindow = 100_000
	// changeRetention is how long the log keeps rows; a fresh instance loads
	// the whole index, so only running instances need them.
	changeRetention = time.Hour
)

func init() {
	if len(Channels) != 2 {
		panic("suppressedEntry holds two channels")
	}
}

// StartSuppressionIndex loads the in-memory suppression index and keeps it
// current until ctx ends. Until it has loaded, checks read the database.
func (db *ConsentStore) StartSuppressionIndex(ctx context.Context, log *slog.Logger) error {
	key, err := db.ErasureKey(ctx)
	if err != nil {
		return err
	}
	ix := &suppressionIndex{db: db, key: key, log: log, missing: map[int64]time.Time{}, codes: map[string]uint8{}}
	if err := ix.load(ctx); err != nil {
		return err
	}
	db.suppressions.Store(ix)
	db.OnCommit(func(ctx context.Context) {
		if err := ix.catchUp(ctx); err != nil {
			ix.log.Error("suppression index: replay after commit failed; checks read the database until it succeeds", "err", err)
		}
	})
	go ix.follow(ctx)
	return nil
}

func (db *ConsentStore) index() *suppressionIndex { return db.suppressions.Load() }

// load reads the whole index. Changes made while it reads are replayed
// afterwards, which is harmless: replaying is idempotent.
func (ix *suppressionIndex) load(ctx context.Context) error {
	ix.replay.Lock()
	defer ix.replay.Unlock()
	var cursor int64
	if err := ix.db.SQL().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM suppression_changes`).Scan(&cursor); err != nil {
		return fmt.Errorf("read suppression changes: %w", err)
	}
	ix.cursor = cursor
	if err := ix.markMissing(ctx); err != nil {
		return err
	}
	tenants := map[string]*tenantSuppressions{}
	tenant := func(id string) *tenantSuppressions { return tenantIn(tenants, id) }
	rows, err := ix.db.SQL().QueryContext(ctx, `SELECT i.customer_id, i.value, s.channel, s.suppressed, s.reason, s.since
		FROM consent_states s JOIN contact_identifiers i ON i.customer_id = s.customer_id AND i.contact_id = s.contact_id`)
	if err != nil {
		return fmt.Errorf("load suppressions: %w", err)
	}
	defer rows.Close()
	var customer, value, channel, reason string
	var suppressed bool
	var since store.TimeScanner
	for rows.Next() {
		if err := rows.Scan(&customer, &value, &channel, &suppressed, &reason, &since); err != nil {
			return fmt.Errorf("load suppressions: %w", err)
		}
		t := tenant(customer)
		h := ix.hash(customer, value)
		e := t.states[h]
		ix.set(&e, channel, standingOf(suppressed, reason, since.T))
		t.states[h] = e
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load suppressions: %w", err)
	}
	erased, err := ix.db.SQL().QueryContext(ctx, `SELECT customer_id, hash FROM erased_identifiers`)
	if err != nil {
		return fmt.Errorf("load erased identifiers: %w", err)
	}
	defer erased.Close()
	var hash string
	for erased.Next() {
		if err := erased.Scan(&customer, &hash); err != nil {
			return fmt.Errorf("load erased identifiers: %w", err)
		}
		if h, ok := parseHashKey(hash); ok {
			tenant(customer).erased[h] = struct{}{}
		}
	}
	if err := erased.Err(); err != nil {
		return fmt.Errorf("load erased identifiers: %w", err)
	}
	ix.mu.Lock()
	ix.tenants, ix.keys, ix.ready, ix.lastGood = tenants, map[string]accounts.APIKey{}, true, time.Now()
	ix.keyGen++
	ix.mu.Unlock()
	return ix.replayLocked(ctx)
}

// set records channel's standing in e. Called with the replay lock held;
// codes is only written under mu.
func (ix *suppressionIndex) set(e *suppressedEntry, channel string, st channelStanding) {
	i := slices.Index(Channels, channel)
	if i < 0 {
		return
	}
	if st.suppressed {
		e.since[i], e.reason[i] = st.since.UnixNano(), ix.code(st.reason)
		e.optedIn &^= 1 << i
	} else {
		e.since[i], e.reason[i] = 0, 0
		e.optedIn |= 1 << i
	}
}

func (ix *suppressionIndex) code(reason string) uint8 {
	ix.mu.RLock()
	c, ok := ix.codes[reason]
	ix.mu.RUnlock()
	if ok {
		return c
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if c, ok := ix.codes[reason]; ok {
		return c
	}
	if len(ix.reasons) == 255 {
		panic("more than 255 suppression reasons")
	}
	ix.reasons = append(ix.reasons, reason)
	ix.codes[reason] = uint8(len(ix.reasons) - 1)
	return ix.codes[reason]
}

// indexMAC is a reusable HMAC state and scratch buffer for hash: a check
// then costs no allocation for its keyed hash (hmac.New allocates five
// times, and each Write of a string converted to bytes once more).
type indexMAC struct {
	mac hash.Hash
	buf []byte
	sum [sha256.Size]byte
}

// hash is the erased list's keyed hash of the identifier, cut to hashKey:
// identifierMAC's bytes, from a pooled HMAC state.
func (ix *suppressionIndex) hash(customerID, value string) hashKey {
	m, _ := ix.macs.Get().(*indexMAC)
	if m == nil {
		m = &indexMAC{mac: hmac.New(sha256.New, ix.key)}
	}
	m.mac.Reset()
	m.buf = append(append(append(m.buf[:0], customerID...), 0), value...)
	m.mac.Write(m.buf)
	var h hashKey
	copy(h[:], m.mac.Sum(m.sum[:0]))
	if cap(m.buf) <= 1024 { // keep the pool's buffers small
		ix.macs.Put(m)
	}
	return h
}

func parseHashKey(s string) (hashKey, bool) {
	var h hashKey
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < len(h) {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

// StaleLimit is how long after its last good replay a loaded index keeps
// answering suppression checks while the database cannot be reached. It
// bounds how late an opt-out written meanwhile by another instance (or the
// CLI) can be honoured here; past it, checks answer 503 until a replay
// succeeds. TCPA gives 10 business days to honour a revocation; a minute
// covers a PostgreSQL restart or failover.
const StaleLimit = 60 * time.Second

// ErrSuppressionsUnavailable is a check that neither the database nor an
// index fresh enough (StaleLimit) can answer.
var ErrSuppressionsUnavailable = errors.New("suppression checks are unavailable: the database cannot be reached and the in-memory index is older than its limit")

// check answers from memory; ok is false when the database must answer.
func (ix *suppressionIndex) check(customerID, value, channel string) (Suppression, bool) {
	h := ix.hash(customerID, value) // outside the lock: it needs only the key
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if !ix.ready {
		return Suppression{To: value}, false
	}
	return ix.checkLocked(customerID, value, channel, h)
}

// stale answers from memory for a check the database failed to answer:
// from a loaded index no older than StaleLimit, an erased identifier as
// suppressed (reason erasure: only the database knows whether a contact
// has it again, and in doubt a check suppresses). Older, or never loaded,
// it fails with ErrSuppressionsUnavailable.
func (ix *suppressionIndex) stale(customerID, value, channel string) (Suppression, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if !ix.fresh() {
		return Suppression{To: value}, ErrSuppressionsUnavailable
	}
	if out, ok := ix.checkLocked(customerID, value, channel, ix.hash(customerID, value)); ok {
		return out, nil
	}
	return Suppression{To: value, Suppressed: true, Reason: ReasonErasure}, nil
}

// fresh reports whether the index was loaded and last complete within
// StaleLimit. Called with mu held.
func (ix *suppressionIndex) fresh() bool {
	return ix.tenants != nil && time.Since(ix.lastGood) <= StaleLimit
}

func (ix *suppressionIndex) checkLocked(customerID, value, channel string, h hashKey) (Suppression, bool) {
	out := Suppression{To: value}
	t := ix.tenants[customerID]
	if t == nil {
		return out, true
	}
	e, found := t.states[h]
	if !found {
		// An erased identifier is suppressed unless a contact has it again;
		// only the database knows whether one does.
		for _, spelling := range identifiers.LegacySpellings(value) {
			if _, erased := t.erased[ix.hash(customerID, spelling)]; erased {
				return out, false
			}
		}
		_, erased := t.erased[h]
		return out, !erased
	}
	var standings [2]channelStanding
	for i := range Channels {
		switch {
		case e.since[i] != 0:
			standings[i] = channelStanding{suppressed: true, reason: ix.reasons[e.reason[i]], since: time.Unix(0, e.since[i]).UTC()}
		case e.optedIn&(1<<i) != 0:
			standings[i] = channelStanding{optedIn: true}
		}
	}
	return answerFor(value, channel, standings), true
}

// apiKey returns the cached live key for a secret's hash.
func (ix *suppressionIndex) apiKey(secretHash string) (accounts.APIKey, uint64, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	k, ok := ix.keys[secretHash]
	return k, ix.keyGen, ok && ix.ready
}

// staleKey is the cached key for a secret's hash when the database cannot
// be asked, under the same StaleLimit as checks: a key revoked meanwhile
// elsewhere works here at most that long.
func (ix *suppressionIndex) staleKey(secretHash string) (accounts.APIKey, bool, error) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	k, ok := ix.keys[secretHash]
	if !ok {
		return k, false, nil
	}
	if !ix.fresh() {
		return k, false, ErrSuppressionsUnavailable
	}
	return k, true, nil
}

// keepKey caches a key read from the database, unless a flush happened
// since the read began (the key may have been revoked in between).
func (ix *suppressionIndex) keepKey(secretHash string, k accounts.APIKey, gen uint64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if gen == ix.keyGen && ix.keys != nil {
		ix.keys[secretHash] = k
	}
}

// follow replays the log on notifications and every pollEvery, and sweeps
// old rows now and then.
func (ix *suppressionIndex) follow(ctx context.Context) {
	wake := make(chan struct{}, 1)
	if ix.db.Dialect == store.Postgres {
		go ix.listen(ctx, wake)
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
		if err := ix.catchUp(ctx); err != nil && ctx.Err() == nil {
			ix.log.Error("suppression index: replay failed; checks read the database until it succeeds", "err", err)
		}
		if time.Since(ix.lastSwep) > time.Minute {
			ix.lastSwep = time.Now()
			if err := ix.sweep(ctx); err != nil && ctx.Err() == nil {
				ix.log.Warn("suppression index: sweeping the change log failed", "err", err)
			}
		}
	}
}

func (ix *suppressionIndex) sweep(ctx context.Context) error {
	secs := int(changeRetention.Seconds())
	q := `DELETE FROM suppression_changes WHERE changed_at < now() - make_interval(secs => $1)`
	if ix.db.Dialect == store.SQLite {
		q = `DELETE FROM suppression_changes WHERE changed_at < strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ? || ' seconds')`
	}
	_, err := ix.db.SQL().ExecContext(ctx, q, secs)
	return err
}

// catchUp replays the changes committed since the last replay. On failure
// the index stops answering until a replay succeeds: a check never relies
// on an index that may have missed an opt-out.
func (ix *suppressionIndex) catchUp(ctx context.Context) error {
	ix.replay.Lock()
	defer ix.replay.Unlock()
	err := ix.replayLocked(ctx)
	ix.mu.Lock()
	ix.ready = err == nil
	if err == nil {
		ix.lastGood = time.Now()
	}
	ix.mu.Unlock()
	return err
}

// change is one row of suppression_changes.
type change struct {
	id                                 int64
	kind                               string
	customer, contact, value, hashText sql.NullString
}

func (ix *suppressionIndex) replayLocked(ctx context.Context) error {
	const page = 5000
	for {
		read, err := ix.readChanges(ctx, `SELECT id, kind, customer_id, contact_id, value, hash FROM suppression_changes
			WHERE id > ? ORDER BY id LIMIT `+fmt.Sprint(page), ix.cursor)
		if err != nil {
			return err
		}
		// Ids skipped earlier that have committed since.
		late, err := ix.lateChanges(ctx)
		if err != nil {
			return err
		}
		// Nothing moves until the changes are applied: a failed replay is
		// repeated whole.
		if err := ix.apply(ctx, append(slices.Clip(read), late...)); err != nil {
			return err
		}
		now := time.Now()
		for _, c := range read {
			for id := ix.cursor + 1; id < c.id; id++ {
				ix.missing[id] = now
			}
			ix.cursor = c.id
		}
		for _, c := range late {
			delete(ix.missing, c.id)
		}
		if len(read) < page {
			break
		}
	}
	for id, since := range ix.missing {
		if time.Since(since) > gapTimeout {
			delete(ix.missing, id) // rolled back
		}
	}
	return nil
}

func (ix *suppressionIndex) lateChanges(ctx context.Context) ([]change, error) {
	// Ids missed in the last few seconds belong to transactions about to
	// commit and are asked for at every replay; older ones are rare (a long
	// transaction, or a rollback that will never fill them) and are asked
	// for every few seconds.
	now := time.Now()
	everything := now.Sub(ix.lastLate) > lateEvery
	var ids []int64
	for id, since := range ix.missing {
		if everything || now.Sub(since) < lateEvery {
			ids = append(ids, id)
		}
	}
	if everything {
		ix.lastLate = now
	}
	slices.Sort(ids)
	var found []change
	for _, part := range store.Chunk(ids, 500) {
		got, err := ix.readChanges(ctx, `SELECT id, kind, customer_id, contact_id, value, hash FROM suppression_changes
			WHERE id IN ? ORDER BY id`, part)
		if err != nil {
			return nil, err
		}
		found = append(found, got...)
	}
	return found, nil
}

// markMissing notes, when the index loads, the ids below the cursor that
// are not in the log: on PostgreSQL they may belong to transactions still
// running, whose changes the loaded state does not hold yet.
func (ix *suppressionIndex) markMissing(ctx context.Context) error {
	from := max(0, ix.cursor-inFlightWindow)
	rows, err := ix.db.Gorm.WithContext(ctx).Raw(`SELECT id FROM suppression_changes WHERE id > ? AND id <= ? ORDER BY id`,
		from, ix.cursor).Rows()
	if err != nil {
		return fmt.Errorf("read suppression changes: %w", err)
	}
	defer rows.Close()
	now, next := time.Now(), from+1
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("read suppression changes: %w", err)
		}
		for ; next < id; next++ {
			ix.missing[next] = now
		}
		next = id + 1
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read suppression changes: %w", err)
	}
	for ; next <= ix.cursor; next++ {
		ix.missing[next] = now
	}
	return nil
}

func (ix *suppressionIndex) readChanges(ctx context.Context, q string, args ...any) ([]change, error) {
	rows, err := ix.db.Gorm.WithContext(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("read suppression changes: %w", err)
	}
	defer rows.Close()
	var out []change
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.id, &c.kind, &c.customer, &c.contact, &c.value, &c.hashText); err != nil {
			return nil, fmt.Errorf("read suppression changes: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// apply recomputes, from the database as it is now, the answers of every
// identifier the changes touch.
func (ix *suppressionIndex) apply(ctx context.Context, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	if ix.failApply != nil {
		if err := ix.failApply(); err != nil {
			return err
		}
	}
	contacts := map[string][]string{}
	values := map[string][]string{}
	hashes := map[string][]string{}
	flushKeys := false
	for _, c := range changes {
		switch c.kind {
		case "contact":
			contacts[c.customer.String] = append(contacts[c.customer.String], c.contact.String)
		case "identifier":
			values[c.customer.String] = append(values[c.customer.String], c.value.String)
		case "erased":
			hashes[c.customer.String] = append(hashes[c.customer.String], c.hashText.String)
		case "keys":
			flushKeys = true
		}
	}
	type answer struct {
		customer string
		h        hashKey
		e        suppressedEntry
		drop     bool
	}
	var answers []answer
	for customer, list := range contacts {
		for _, part := range store.Chunk(store.Dedupe(list), 500) {
			entries, err := ix.recompute(ctx, customer, "contact_id", part)
			if err != nil {
				return err
			}
			for h, e := range entries {
				answers = append(answers, answer{customer: customer, h: h, e: e, drop: e == suppressedEntry{}})
			}
		}
	}
	for customer, list := range values {
		for _, part := range store.Chunk(store.Dedupe(list), 500) {
			entries, err := ix.recompute(ctx, customer, "value", part)
			if err != nil {
				return err
			}
			for _, v := range part {
				h := ix.hash(customer, v)
				e := entries[h] // zero when no contact has the value any more
				answers = append(answers, answer{customer: customer, h: h, e: e, drop: e == suppressedEntry{}})
			}
		}
	}
	type erasedAnswer struct {
		customer string
		h        hashKey
		present  bool
	}
	var erasedAnswers []erasedAnswer
	for customer, list := range hashes {
		for _, part := range store.Chunk(store.Dedupe(list), 500) {
			var present []string
			if err := ix.db.Gorm.WithContext(ctx).Model(&ErasedIdentifier{}).
				Where("customer_id = ? AND hash IN ?", customer, part).Pluck("hash", &present).Error; err != nil {
				return fmt.Errorf("read erased identifiers: %w", err)
			}
			for _, hx := range part {
				if h, ok := parseHashKey(hx); ok {
					erasedAnswers = append(erasedAnswers, erasedAnswer{customer, h, slices.Contains(present, hx)})
				}
			}
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	tenant := func(id string) *tenantSuppressions { return tenantIn(ix.tenants, id) }
	for _, a := range answers {
		if a.drop {
			delete(tenant(a.customer).states, a.h)
		} else {
			tenant(a.customer).states[a.h] = a.e
		}
	}
	for _, a := range erasedAnswers {
		if a.present {
			tenant(a.customer).erased[a.h] = struct{}{}
		} else {
			delete(tenant(a.customer).erased, a.h)
		}
	}
	if flushKeys {
		clear(ix.keys)
		ix.keyGen++
	}
	return nil
}

// recompute reads the current states of the identifiers whose column
// (contact_id or value) is in list, keyed by hash. Identifiers with no
// state come back as zero entries.
func (ix *suppressionIndex) recompute(ctx context.Context, customer, column string, list []string) (map[hashKey]suppressedEntry, error) {
	var rows *sql.Rows
	var err error
	if ix.db.Dialect == store.Postgres {
		// Probes per listed key, LATERAL and fenced (OFFSET 0), with a
		// generic plan: right after an import the statistics may still say
		// the customer has no rows, and a plan made for its id then reads
		// all of its states once per identifier (a second per 500 keys).
		tx, err := ix.db.SQL().BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return nil, fmt.Errorf("recompute suppressions: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // read-only
		if _, err := tx.ExecContext(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
			return nil, fmt.Errorf("recompute suppressions: %w", err)
		}
		cast := map[string]string{"contact_id": "::uuid", "value": ""}[column]
		rows, err = tx.QueryContext(ctx, `SELECT i.value, s.channel, s.suppressed, s.reason, s.since FROM unnest($2::text[]) AS k(key)
			CROSS JOIN LATERAL (SELECT value, contact_id FROM contact_identifiers
				WHERE customer_id = $1 AND `+column+` = k.key`+cast+` OFFSET 0) i
			LEFT JOIN LATERAL (SELECT channel, suppressed, reason, since FROM consent_states
				WHERE customer_id = $1 AND contact_id = i.contact_id OFFSET 0) s ON TRUE`, customer, list)
		if err != nil {
			return nil, fmt.Errorf("recompute suppressions: %w", err)
		}
	} else {
		rows, err = ix.db.Gorm.WithContext(ctx).Raw(`SELECT i.value, s.channel, s.suppressed, s.reason, s.since FROM contact_identifiers i
			LEFT JOIN consent_states s ON s.customer_id = i.customer_id AND s.contact_id = i.contact_id
			WHERE i.customer_id = ? AND i.`+column+` IN ?`, customer, list).Rows()
	}
	if err != nil {
		return nil, fmt.Errorf("recompute suppressions: %w", err)
	}
	defer rows.Close()
	out := make(map[hashKey]suppressedEntry, len(list))
	for rows.Next() {
		var value string
		var channel, reason sql.NullString
		var suppressed sql.NullBool
		var since store.TimeScanner
		if err := rows.Scan(&value, &channel, &suppressed, &reason, &since); err != nil {
			return nil, fmt.Errorf("recompute suppressions: %w", err)
		}
		h := ix.hash(customer, value)
		e := out[h]
		if channel.Valid {
			ix.set(&e, channel.String, standingOf(suppressed.Bool, reason.String, since.T))
		}
		out[h] = e
	}
	return out, rows.Err()
}

// listen wakes the replay on every NOTIFY suppression_changes (sent by the
// triggers at commit), so other instances' writes show in milliseconds; the
// poll covers a lost connection. It holds one pooled connection.
func (ix *suppressionIndex) listen(ctx context.Context, wake chan<- struct{}) {
	for ctx.Err() == nil {
		err := ix.listenOnce(ctx, wake)
		if ctx.Err() != nil {
			return
		}
		ix.log.Warn("suppression index: LISTEN connection lost; polling until it is back", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

func (ix *suppressionIndex) listenOnce(ctx context.Context, wake chan<- struct{}) error {
	conn, err := ix.db.SQL().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("not a pgx connection")
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, "LISTEN suppression_changes"); err != nil {
			return err
		}
		// The connection goes back to the pool when this returns; it must
		// not keep listening there.
		defer pc.Exec(context.WithoutCancel(ctx), "UNLISTEN *") //nolint:errcheck
		for {
			if _, err := pc.WaitForNotification(ctx); err != nil {
				return err
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	})
}
