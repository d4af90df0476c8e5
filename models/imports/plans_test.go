package imports_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	customers "github.com/sendara/console/models/customers"
	imports "github.com/sendara/console/models/imports"
	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// TestBatchStatementsProbeIndexesWithoutStatistics: an import batch's
// statements, planned as the batch plans them (generic plans), reach the
// tables an import grows through their indexes even when those tables have
// grown from empty and were never analyzed. This is why the runner does not
// ANALYZE as an import grows (it did until the tenth session): a plan that
// scanned the customer's ledger or identifiers once per row would make a
// large import quadratic on a server whose autovacuum has not caught up.
func TestBatchStatementsProbeIndexesWithoutStatistics(t *testing.T) {
	t.Parallel()
	db := modeltest.OpenWithoutIndex(t)
	if db.Dialect != store.Postgres {
		t.Skip("the plans are PostgreSQL's; SQLite's planner has no statistics unless asked (ANALYZE) and the import never asks")
	}
	ctx := t.Context()
	c, err := db.CreateCustomer(ctx, modeltest.Staff, customers.CustomerInput{Slug: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	// Grow the tables from empty, as an import does, in batches, with no
	// ANALYZE in between.
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for b := range 4 {
		rows := make([]imports.BulkOptOut, 2500)
		for i := range rows {
			n := b*len(rows) + i
			id, err := store.NormalizeIdentifier("to", fmt.Sprintf("+1415%07d", 2000000+n), "US")
			if err != nil {
				t.Fatal(err)
			}
			rows[i] = imports.BulkOptOut{Identifier: id, Channel: "all", Evidence: "plan test", OccurredAt: at,
				IdempotencyKey: fmt.Sprintf("row-%d", n)}
		}
		if err := db.Tx(ctx, modeltest.Staff, func(tx *store.Tx) error {
			_, err := imports.BulkOptOuts(tx, c.ID, "csv_import", rows)
			return err
		}); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}
	grown := []string{"contacts", "contact_identifiers", "consent_events", "consent_states"}
	var analyzed int
	if err := db.Gorm.Raw(`SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ? AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)`,
		grown).Scan(&analyzed).Error; err != nil {
		t.Fatal(err)
	}
	if analyzed > 0 {
		t.Skipf("%d of the grown tables were analyzed meanwhile (autovacuum); the premise does not hold", analyzed)
	}

	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // EXPLAIN writes nothing
	for _, q := range []string{"SET LOCAL plan_cache_mode = force_generic_plan", imports.BulkStaging} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	statements := []struct {
		name, sql string
		params    int
	}{
		{"bulkStage", imports.BulkStage, 10},
		{"bulkCreateContacts", imports.BulkCreateContacts, 2},
		{"bulkHistory", imports.BulkHistory, 2},
		{"bulkApply", imports.BulkApply, 6},
	}
	for _, s := range statements {
		if _, err := tx.ExecContext(ctx, "PREPARE "+s.name+" AS "+s.sql); err != nil {
			t.Fatalf("prepare %s: %v", s.name, err)
		}
		nulls := strings.TrimSuffix(strings.Repeat("NULL, ", s.params), ", ")
		var out string
		if err := tx.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) EXECUTE "+s.name+"("+nulls+")").Scan(&out); err != nil {
			t.Fatalf("explain %s: %v", s.name, err)
		}
		var plans []struct{ Plan planNode }
		if err := json.Unmarshal([]byte(out), &plans); err != nil || len(plans) != 1 {
			t.Fatalf("explain %s: %v: %s", s.name, err, out)
		}
		for _, n := range plans[0].Plan.nodes() {
			for _, table := range grown {
				switch {
				case n.NodeType == "Seq Scan" && n.Relation == table:
					t.Errorf("%s reads all of %s (Seq Scan) when the table has no statistics; its plan:\n%s", s.name, table, out)
				case strings.HasPrefix(n.Index, table+"_") && !strings.Contains(n.IndexCond, " AND "):
					// An index probed by the customer alone reads the
					// customer's whole table, once per row.
					t.Errorf("%s probes %s by %s alone when the table has no statistics; its plan:\n%s", s.name, n.Index, n.IndexCond, out)
				}
			}
		}
	}
}

// planNode is a node of EXPLAIN (FORMAT JSON)'s plan.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	Index     string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	Plans     []planNode `json:"Plans"`
}

// nodes lists the node and all below it.
func (n planNode) nodes() []planNode {
	out := []planNode{n}
	for _, c := range n.Plans {
		out = append(out, c.nodes()...)
	}
	return out
}
