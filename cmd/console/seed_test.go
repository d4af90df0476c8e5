package main

import (
	"strings"
	"testing"

	"github.com/sendara/console/models"
	consent "github.com/sendara/console/models/consent"
	"github.com/sendara/console/models/modeltest"
)

func TestSeedAddsContactsReportsThemAndKeepsTheAuditChainIntact(t *testing.T) {
	dsn := modeltest.DSN(t)

	code, out, errOut := console(t, dsn, "", "seed", "--customers", "2", "--contacts", "250")

	if code != 0 {
		t.Fatalf("console seed: exit %d\n%s", code, errOut)
	}
	if !strings.HasPrefix(out, "seeded 250 contacts (500 identifiers, 24 opted out) over 2 customers (2 new)") || strings.Count(out, "\n") != 1 {
		t.Errorf("stdout %q, want the one summary line", out)
	}
	if !strings.Contains(errOut, `"msg":"seed progress","contacts":250,"of":250`) {
		t.Errorf("stderr lacks the final progress line:\n%s", errOut)
	}
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var contacts, suppressed int64
	if err := db.Gorm.Model(&consent.Contact{}).Count(&contacts).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Gorm.Model(&consent.Contact{}).Where("suppressed = ?", true).Count(&suppressed).Error; err != nil {
		t.Fatal(err)
	}
	if contacts != 250 || suppressed != 24 {
		t.Errorf("%d contacts, %d suppressed; want 250 and 24", contacts, suppressed)
	}
	if out := mustConsole(t, dsn, "", "audit", "verify"); !strings.Contains(out, "audit chain intact: 1 entries") {
		t.Errorf("audit verify: %s", out)
	}
}

func TestSeedRefusesBadCountsWithExitTwo(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		reason string
	}{
		{"no flags", nil, "--customers must be a positive number"},
		{"zero customers", []string{"--customers", "0", "--contacts", "10"}, "--customers must be a positive number"},
		{"negative contacts", []string{"--customers", "1", "--contacts", "-5"}, "--contacts must be a positive number"},
		{"missing contacts", []string{"--customers", "1"}, "--contacts must be a positive number"},
		{"a word for a number", []string{"--customers", "many", "--contacts", "10"}, "invalid value"},
		{"a stray argument", []string{"--customers", "1", "--contacts", "1", "extra"}, `unexpected argument "extra"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := console(t, "unused.db", "", append([]string{"seed"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.reason) || strings.Count(errOut, "\n") != 1 || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and one line saying %q", code, out, errOut, tt.reason)
			}
		})
	}
}
