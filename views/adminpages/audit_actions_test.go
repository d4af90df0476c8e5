package adminpages_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sendara/console/views/adminpages"
)

// auditActionsWritten finds every audit action models/ and handlers/ write:
// Audit{Action: "x.y"} literals, actions chosen into a variable first
// (action := "x.y", status, action = S, "x.y") and actions passed as the
// last argument of a helper that writes them (updateRequest(…, "x.y")).
func auditActionsWritten(t *testing.T) map[string]string {
	t.Helper()
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`Action:\s*"([a-z_]+\.[a-z_]+)"`),
		regexp.MustCompile(`action\s*:?=\s*"([a-z_]+\.[a-z_]+)"`),
		regexp.MustCompile(`,\s*action\s*:?=\s*[^\n]*?"([a-z_]+\.[a-z_]+)"`),
		regexp.MustCompile(`(?m)"([a-z_]+\.[a-z_]+)"\)\s*$`),
		regexp.MustCompile(`"([a-z_]+\.[a-z_]+)",\s*func\(`),
	}
	found := map[string]string{}
	for _, dir := range []string{"models", "models/*", "handlers", "handlers/*"} {
		files, err := filepath.Glob(filepath.Join("..", "..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("read %s: %v", dir, err)
		}
		for _, f := range files {
			// modeltest names test database files, not audit actions.
			if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "modeltest") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, re := range patterns {
				for _, m := range re.FindAllStringSubmatch(string(src), -1) {
					if _, ok := found[m[1]]; !ok {
						found[m[1]] = f
					}
				}
			}
		}
	}
	// The scan must see each way of writing an action, or it proves nothing.
	for _, must := range []string{"contact.view", "user.invite", "request.note", "consent.reversal_approve", "import.cancel"} {
		if _, ok := found[must]; !ok {
			t.Fatalf("the scan missed %s: %v", must, found)
		}
	}
	return found
}

// TestEveryAuditActionHasALine: the glossary on /audit explains every
// action the console writes, and nothing it does not.
func TestEveryAuditActionHasALine(t *testing.T) {
	written := auditActionsWritten(t)
	for action, file := range written {
		if line := adminpages.AuditActions[action]; strings.TrimSpace(line) == "" {
			t.Errorf("%s (written in %s) has no line in adminpages.AuditActions", action, file)
		}
	}
	for action := range adminpages.AuditActions {
		if _, ok := written[action]; !ok {
			t.Errorf("adminpages.AuditActions explains %s, which nothing writes", action)
		}
	}
	g := adminpages.AuditActionGlossary()
	if len(g) != len(adminpages.AuditActions) {
		t.Fatalf("glossary has %d lines, want %d", len(g), len(adminpages.AuditActions))
	}
	for i := 1; i < len(g); i++ {
		if g[i-1].Action >= g[i].Action {
			t.Errorf("glossary not sorted at %s, %s", g[i-1].Action, g[i].Action)
		}
	}
}
