package models

import (
	consent "github.com/sendara/console/models/consent"
	customers "github.com/sendara/console/models/customers"

	errs "github.com/sendara/console/models/errs"

	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/nyaruka/phonenumbers"
	store "github.com/sendara/console/models/store"
	"gorm.io/gorm"
)

// SeedResult counts what Seed wrote.
type SeedResult struct {
	Customers        int // seed customers the contacts were spread over
	CustomersCreated int // of which were new
	Contacts         int
	Identifiers      int
	OptedOut         int // contacts with an opt-out event and suppressed state
}

// seedBatch is how many contacts are generated and written at a time: big
// enough that per-statement costs vanish, small enough that memory stays flat.
const seedBatch = 10_000

// seedCRMPrefix marks seeded contacts' CRM ids; the number after it is the
// contact's index within its customer, zero-padded so the largest sorts last.
const seedCRMPrefix = "seed-"

// Seed adds synthetic data for benchmarks: customers seed-1…seed-N (existing
// ones are reused) and contacts spread evenly over them, each with a phone
// number and an email, every tenth opted out on all channels. A second run
// continues each customer's numbering, so identifiers never collide.
//
// Rows are written with each database's fast path — COPY on PostgreSQL,
// prepared multi-row INSERTs on SQLite — in one transaction that also
// writes a single seed.run audit entry with the counts: the seed lands
// whole or not at all. progress, if set, is called after every batch.
func (db *DB) Seed(ctx context.Context, actor store.Actor, customers, contacts int, progress func(done, total int)) (SeedResult, error) {
	res := SeedResult{Customers: customers}
	switch {
	case customers < 1:
		return res, errs.Invalid("customers", "must be a positive number")
	case contacts < 1:
		return res, errs.Invalid("contacts", "must be a positive number")
	case customers > 10_000:
		return res, errs.Invalid("customers", "must be at most 10000")
	}
	res, err := db.seed(ctx, actor, res, contacts, progress)
	if err == nil {
		db.Committed(ctx)
	}
	return res, err
}

// seed writes through one connection of its own, given back before the
// suppression index replays the seed (SQLite has only one).
func (db *DB) seed(ctx context.Context, actor store.Actor, res SeedResult, contacts int, progress func(done, total int)) (SeedResult, error) {
	customers := res.Customers
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		return res, fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close()
	if db.Dialect == store.SQLite {
		// The seed is one long transaction of multi-row INSERTs: a page cache
		// of up to 256 MiB for the indexes being filled (a quarter faster than
		// the default 2 MiB) and statement journals in memory instead of a
		// temporary file. The connection's settings are restored afterwards.
		restore, err := sqlitePragmas(ctx, conn, map[string]string{"cache_size": "-262144", "temp_store": "2"})
		if err != nil {
			return res, fmt.Errorf("seed: %w", err)
		}
		defer restore()
	}
	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("seed: begin: %w", err)
	}
	defer sqlTx.Rollback() // a no-op after Commit
	// The gorm handle runs on this very transaction, like db.Tx's does, so
	// the COPY below and the audit entry share it.
	g := db.Gorm.Session(&gorm.Session{Context: ctx, NewDB: true})
	g.Statement.ConnPool = sqlTx
	t := &store.Tx{G: g, Actor: actor, Dialect: db.Dialect}

	var w seedWriter
	if db.Dialect == store.Postgres {
		w = &pgSeedWriter{conn: conn}
	} else {
		w = &sqliteSeedWriter{tx: sqlTx}
	}
	defer w.close()

	now := store.Now()
	done := 0
	for j := 1; j <= customers; j++ {
		c, created, err := seedCustomer(t, j, now)
		if err != nil {
			return res, err
		}
		if created {
			res.CustomersCreated++
		}
		cid, err := uuid.Parse(c.ID)
		if err != nil {
			return res, fmt.Errorf("seed: customer %s has a malformed id: %w", c.Slug, err)
		}
		first, err := nextSeedIndex(t, c.ID)
		if err != nil {
			return res, err
		}
		n := contacts / customers
		if j <= contacts%customers {
			n++
		}
		if first+n > maxSyntheticPhones {
			return res, errs.Invalid("contacts", "would give customer %s more than %d seeded contacts", c.Slug, maxSyntheticPhones)
		}
		for k := first; k < first+n; k += seedBatch {
			b := newSeedBatch(cid, c.ID, k, min(first+n, k+seedBatch), now, actor)
			if err := w.write(ctx, b); err != nil {
				return res, fmt.Errorf("seed: write contacts of %s: %w", c.Slug, err)
			}
			res.Contacts += len(b.contacts)
			res.Identifiers += 2 * len(b.contacts)
			res.OptedOut += len(b.optOuts)
			done += len(b.contacts)
			if progress != nil {
				progress(done, contacts)
			}
		}
	}
	t.Audit(store.Audit{Action: "seed.run", ObjectType: "seed", Details: map[string]any{
		"customers": res.Customers, "customers_created": res.CustomersCreated, "contacts": res.Contacts,
		"identifiers": res.Identifiers, "opted_out": res.OptedOut,
	}})
	if err := store.AppendAudit(g, db.Dialect, actor, t.Audits); err != nil {
		return res, err
	}
	if err := sqlTx.Commit(); err != nil {
		return res, fmt.Errorf("seed: commit: %w", err)
	}
	if db.Dialect == store.Postgres {
		// Fresh statistics, so the planner knows the tables are big before
		// autovacuum would have got round to them.
		if err := db.Gorm.WithContext(ctx).Exec("ANALYZE contacts, contact_identifiers, consent_events, consent_states").Error; err != nil {
			return res, fmt.Errorf("seed: analyze: %w", err)
		}
	}
	return res, nil
}

// sqlitePragmas sets pragmas on conn and returns a function that puts back
// their previous values.
func sqlitePragmas(ctx context.Context, conn *sql.Conn, set map[string]string) (func(), error) {
	old := map[string]string{}
	for name, value := range set {
		var was string
		if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&was); err != nil {
			return nil, fmt.Errorf("read pragma %s: %w", name, err)
		}
		old[name] = was
		if _, err := conn.ExecContext(ctx, "PRAGMA "+name+" = "+value); err != nil {
			return nil, fmt.Errorf("set pragma %s: %w", name, err)
		}
	}
	return func() {
		for name, value := range old {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA "+name+" = "+value)
		}
	}, nil
}

// seedCustomer returns customer seed-j, creating it if missing.
func seedCustomer(t *store.Tx, j int, now time.Time) (*customers.Customer, bool, error) {
	slug := fmt.Sprintf("seed-%d", j)
	var c customers.Customer
	err := t.G.Where("slug = ?", slug).Limit(1).Find(&c).Error
	if err != nil {
		return nil, false, fmt.Errorf("seed: find customer %s: %w", slug, err)
	}
	if c.ID != "" {
		if c.Status != customers.CustomerActive {
			return nil, false, &errs.ConflictError{Field: "customers", Message: fmt.Sprintf("customer %s is %s: seed only adds to active customers", slug, c.Status)}
		}
		return &c, false, nil
	}
	c = customers.Customer{ID: uuid.Must(uuid.NewV7()).String(), Slug: slug, Name: fmt.Sprintf("Seed Customer %d", j),
		ContactEmail: "privacy@" + slug + ".example", CRMType: "other", Status: customers.CustomerActive, CreatedAt: now, UpdatedAt: now}
	if err := t.G.Create(&c).Error; err != nil {
		return nil, false, fmt.Errorf("seed: create customer %s: %w", slug, err)
	}
	return &c, true, nil
}

// nextSeedIndex is one past the highest seeded index of the customer, read
// from the CRM ids seeding gives, so a second run continues the numbering.
func nextSeedIndex(t *store.Tx, customerID string) (int, error) {
	var top sql.NullString
	err := t.G.Model(&consent.Contact{}).Select("MAX(crm_id)").
		Where("customer_id = ? AND crm_id >= ? AND crm_id < ?", customerID, seedCRMPrefix, seedCRMPrefix+"~").Scan(&top).Error
	if err != nil {
		return 0, fmt.Errorf("seed: find seeded contacts: %w", err)
	}
	if !top.Valid {
		return 0, nil
	}
	var k int
	if _, err := fmt.Sscanf(strings.TrimPrefix(top.String, seedCRMPrefix), "%d", &k); err != nil {
		return 0, fmt.Errorf("seed: unreadable seeded CRM id %q", top.String)
	}
	return k + 1, nil
}

// Synthetic phone numbers: blocks of 10,000 lines (NPA-NXX-xxxx) under real
// US area codes, each block checked with the same validator the console
// normalizes with, so every seeded number is one it accepts.
var seedAreaCodes = []string{"415", "212", "312", "617", "206", "303", "404", "512", "602", "702",
	"213", "646", "718", "305", "713", "214", "503", "612", "619", "720"}

// phoneBlocks hands out the valid blocks in a fixed order, validating them
// only as far as asked: seeding a million contacts needs a hundred.
var phoneBlocks struct {
	sync.Mutex
	list     []string // "+1NPANXX"
	nxx, npa int
}

// phoneBlock returns the i-th valid block; false when there are fewer.
func phoneBlock(i int) (string, bool) {
	phoneBlocks.Lock()
	defer phoneBlocks.Unlock()
	b := &phoneBlocks
	if b.nxx == 0 {
		b.nxx = 200
	}
	for len(b.list) <= i && b.nxx <= 999 {
		nxx, npa := b.nxx, seedAreaCodes[b.npa]
		if b.npa++; b.npa == len(seedAreaCodes) {
			b.npa, b.nxx = 0, b.nxx+1
		}
		if nxx%100 == 11 || nxx == 555 || nxx == 950 || nxx == 958 || nxx == 959 || nxx == 976 {
			continue // service codes and fictional exchanges
		}
		prefix := fmt.Sprintf("+1%s%03d", npa, nxx)
		if validPhone(prefix+"0000") && validPhone(prefix+"5000") && validPhone(prefix+"9999") {
			b.list = append(b.list, prefix)
		}
	}
	if i < len(b.list) {
		return b.list[i], true
	}
	return "", false
}

func validPhone(e164 string) bool {
	n, err := phonenumbers.Parse(e164, "US")
	return err == nil && phonenumbers.IsValidNumber(n)
}

// maxSyntheticPhones bounds k for SyntheticPhone; there are about 150
// million valid synthetic numbers.
const maxSyntheticPhones = 100_000_000

// SyntheticPhone returns the k-th synthetic phone number in E.164, for k
// from 0 to 99,999,999: distinct for every k and valid for
// NormalizeIdentifier. Benchmarks use it to make identifiers of their own.
func SyntheticPhone(k int) string {
	if k < 0 || k >= maxSyntheticPhones {
		panic(fmt.Sprintf("SyntheticPhone(%d): k must be in [0, %d)", k, maxSyntheticPhones))
	}
	block, _ := phoneBlock(k / 10_000)
	return block + fmt.Sprintf("%04d", k%10_000)
}

var (
	seedFirstNames = []string{"james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david",
		"elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah", "charles",
		"karen", "christopher", "lisa", "daniel", "nancy", "matthew", "betty", "anthony", "margaret", "mark",
		"sandra", "donald", "ashley", "steven", "kimberly", "paul", "emily", "andrew", "donna", "joshua", "michelle",
		"kenneth", "carol", "kevin", "amanda", "brian", "dorothy", "george", "melissa", "timothy", "deborah",
		"maria", "jose", "wei", "mohammed", "fatima", "aiko", "lucas", "sofia", "mateo", "olga"}
	seedLastNames = []string{"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
		"rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "thomas", "taylor",
		"moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez", "clark",
		"ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright", "scott", "torres",
		"nguyen", "hill", "flores", "green", "adams", "nelson", "baker", "hall", "rivera", "campbell",
		"mitchell", "carter", "roberts", "chen", "kim", "patel", "singh", "muller", "rossi", "silva", "ivanova",
		"okafor", "tanaka"}
)

// seedName is the k-th synthetic person of a customer: a first and last
// name (a given name matches about one contact in sixty).
func seedName(salt uint64, k int) (first, last string) {
	h := splitmix(salt ^ uint64(k))
	return seedFirstNames[h%uint64(len(seedFirstNames))], seedLastNames[(h>>20)%uint64(len(seedLastNames))]
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func titleCase(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// batch of seeded rows, in both databases' shapes: UUIDs as uuid.UUID for
// PostgreSQL's binary COPY, as text for SQLite.
type seedContact struct {
	id                  uuid.UUID
	name, key, crm      string
	phone, email        string
	suppressed          bool
	eventID             uuid.UUID
	optedOutAt          time.Time
	idText, eventIDText string
}

type seedRows struct {
	customer     uuid.UUID
	customerText string
	now          time.Time
	actor        store.Actor
	contacts     []seedContact
	optOuts      []int // indexes into contacts
}

func newSeedBatch(customer uuid.UUID, customerText string, from, to int, now time.Time, actor store.Actor) *seedRows {
	b := &seedRows{customer: customer, customerText: customerText, now: now, actor: actor,
		contacts: make([]seedContact, 0, to-from)}
	salt := uint64(customer[15]) | uint64(customer[14])<<8 | uint64(customer[13])<<16
	for k := from; k < to; k++ {
		first, last := seedName(salt, k)
		name := titleCase(first) + " " + titleCase(last)
		c := seedContact{id: uuid.Must(uuid.NewV7()), name: name, key: consent.NameKey(name),
			crm:   fmt.Sprintf("%s%09d", seedCRMPrefix, k),
			phone: SyntheticPhone(k), email: fmt.Sprintf("%s.%s.%d@example.com", first, last, k),
			suppressed: k%10 == 9}
		c.idText = c.id.String()
		if c.suppressed {
			c.eventID = uuid.Must(uuid.NewV7())
			c.eventIDText = c.eventID.String()
			// Opt-outs spread over the past year, to the second.
			c.optedOutAt = now.Add(-time.Duration(splitmix(salt^uint64(k)^0xfeed)%(365*24*3600)) * time.Second).Truncate(time.Second)
			b.optOuts = append(b.optOuts, len(b.contacts))
		}
		b.contacts = append(b.contacts, c)
	}
	return b
}

const seedEvidence = "synthetic opt-out written by console seed"

var (
	seedContactCols = []string{"customer_id", "id", "name", "name_key", "crm_id", "restricted", "suppressed", "created_at", "updated_at"}
	seedIdentCols   = []string{"customer_id", "value", "kind", "contact_id", "created_at"}
	seedEventCols   = []string{"customer_id", "id", "contact_id", "identifier", "channel", "kind", "reason", "source",
		"evidence", "actor_type", "actor_id", "actor_label", "occurred_at", "recorded_at"}
	seedStateCols = []string{"customer_id", "contact_id", "channel", "suppressed", "reason", "since", "event_id"}
)

// The rows of each table, as argument lists; id picks the UUID form.
func (b *seedRows) contactRow(i int, id func(uuid.UUID, string) any) []any {
	c := &b.contacts[i]
	return []any{id(b.customer, b.customerText), id(c.id, c.idText), c.name, c.key, c.crm, false, c.suppressed, b.now, b.now}
}

func (b *seedRows) identRow(i int, id func(uuid.UUID, string) any) []any {
	c := &b.contacts[i/2]
	value, kind := c.phone, store.KindPhone
	if i%2 == 1 {
		value, kind = c.email, store.KindEmail
	}
	return []any{id(b.customer, b.customerText), value, kind, id(c.id, c.idText), b.now}
}

func (b *seedRows) eventRow(i int, id func(uuid.UUID, string) any) []any {
	c := &b.contacts[b.optOuts[i]]
	return []any{id(b.customer, b.customerText), id(c.eventID, c.eventIDText), id(c.id, c.idText), c.phone, consent.ChannelAll, consent.OptOut,
		consent.ReasonOptOut, "manual", seedEvidence, b.actor.Type, b.actor.ID, b.actor.Label, c.optedOutAt, b.now}
}

// stateRow: one lookup row per real channel of each opt-out.
func (b *seedRows) stateRow(i int, id func(uuid.UUID, string) any) []any {
	c := &b.contacts[b.optOuts[i/len(consent.Channels)]]
	return []any{id(b.customer, b.customerText), id(c.id, c.idText), consent.Channels[i%len(consent.Channels)], true, consent.ReasonOptOut,
		c.optedOutAt, id(c.eventID, c.eventIDText)}
}

func uuidBinary(u uuid.UUID, _ string) any { return u }

func uuidText(_ uuid.UUID, s string) any { return s }

type seedWriter interface {
	write(ctx context.Context, b *seedRows) error
	close()
}

// pgSeedWriter COPYs each table's rows through the transaction's own
// connection (the transaction is that connection's state).
type pgSeedWriter struct{ conn *sql.Conn }

func (w *pgSeedWriter) close() {}

func (w *pgSeedWriter) write(ctx context.Context, b *seedRows) error {
	return w.conn.Raw(func(driverConn any) error {
		sc, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("not a pgx connection: %T", driverConn)
		}
		pc := sc.Conn()
		for _, tbl := range []struct {
			name string
			cols []string
			n    int
			row  func(int, func(uuid.UUID, string) any) []any
		}{
			{"contacts", seedContactCols, len(b.contacts), b.contactRow},
			{"contact_identifiers", seedIdentCols, 2 * len(b.contacts), b.identRow},
			{"consent_events", seedEventCols, len(b.optOuts), b.eventRow},
			{"consent_states", seedStateCols, len(consent.Channels) * len(b.optOuts), b.stateRow},
		} {
			if tbl.n == 0 {
				continue
			}
			_, err := pc.CopyFrom(ctx, pgx.Identifier{tbl.name}, tbl.cols, pgx.CopyFromSlice(tbl.n, func(i int) ([]any, error) {
				return tbl.row(i, uuidBinary), nil
			}))
			if err != nil {
				return fmt.Errorf("copy into %s: %w", tbl.name, err)
			}
		}
		return nil
	})
}

// sqliteSeedWriter inserts many rows per statement with statements
// prepared once per table; the transaction makes it one fsync in all.
type sqliteSeedWriter struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	args  []any
}

// sqliteParamsPerInsert sizes each multi-row INSERT. The driver binds
// parameters in time quadratic in their number, so statements stay at a
// few hundred parameters, far below SQLite's limit of 32,766.
const sqliteParamsPerInsert = 800

func (w *sqliteSeedWriter) close() {
	for _, s := range w.stmts {
		s.Close()
	}
}

func (w *sqliteSeedWriter) write(ctx context.Context, b *seedRows) error {
	for _, tbl := range []struct {
		name string
		cols []string
		n    int
		row  func(int, func(uuid.UUID, string) any) []any
	}{
		{"contacts", seedContactCols, len(b.contacts), b.contactRow},
		{"contact_identifiers", seedIdentCols, 2 * len(b.contacts), b.identRow},
		{"consent_events", seedEventCols, len(b.optOuts), b.eventRow},
		{"consent_states", seedStateCols, len(consent.Channels) * len(b.optOuts), b.stateRow},
	} {
		per := sqliteParamsPerInsert / len(tbl.cols)
		for from := 0; from < tbl.n; from += per {
			to := min(tbl.n, from+per)
			stmt, err := w.stmt(ctx, tbl.name, tbl.cols, to-from)
			if err != nil {
				return err
			}
			w.args = w.args[:0]
			for i := from; i < to; i++ {
				w.args = append(w.args, tbl.row(i, uuidText)...)
			}
			if _, err := stmt.ExecContext(ctx, w.args...); err != nil {
				return fmt.Errorf("insert into %s: %w", tbl.name, err)
			}
		}
	}
	return nil
}

// stmt returns the prepared INSERT of rows rows into table. Statements are
// kept for the whole seed: all but a batch's short tails are full-size.
func (w *sqliteSeedWriter) stmt(ctx context.Context, table string, cols []string, rows int) (*sql.Stmt, error) {
	key := fmt.Sprintf("%s/%d", table, rows)
	if s, ok := w.stmts[key]; ok {
		return s, nil
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
	s, err := w.tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("prepare insert into %s: %w", table, err)
	}
	if w.stmts == nil {
		w.stmts = map[string]*sql.Stmt{}
	}
	w.stmts[key] = s
	return s, nil
}
