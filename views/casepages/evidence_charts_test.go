package casepages

import (
	"strings"
	"testing"

	casework "github.com/sendara/console/models/casework"
	"github.com/sendara/console/views/charts"
)

func TestEvidenceChartFromTheTable(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table casework.EvidenceTable
		ok    bool
		want  string // label=values, one per label
	}{
		{"opt-out-latency", casework.EvidenceTable{
			Columns: []string{"customer", "source", "opt_outs", "median_business_days", "max_business_days", "over_10_business_days", "contact", "happened", "recorded", "in_effect"},
			Rows: [][]string{{"Acme", "sms", "3", "1.5", "12", "1", "", "", "", ""}, {"Acme", "sms", "1", "12", "12", "1", "c-1", "x", "y", "z"},
				{"Beta", "email", "2", "0", "1", "0", "", "", "", ""}}},
			true, "Acme / sms=1.5,12 Beta / email=0,1"},
		{"reply-queue", casework.EvidenceTable{
			Columns: []string{"customer", "awaiting_review", "oldest_received", "oldest_waiting_business_days", "oldest_review_due_on", "overdue", "next_review_due_on"},
			Rows:    [][]string{{"Acme", "4", "", "11", "", "2", ""}}},
			true, "Acme=4,2"},
		{"on-time", casework.EvidenceTable{
			Columns: []string{"regime", "type", "reference", "received_on", "due_on", "status", "answered_on", "completed_by", "on_time", "answered", "in_time", "on_time_rate"},
			Rows: [][]string{{"CCPA", "access", "", "", "", "", "", "", "", "5", "4", "80.0%"},
				{"CCPA", "access", "R-1", "", "", "", "", "", "no", "", "", ""}}},
			true, "CCPA / access=4,1"},
		{"erasure", casework.EvidenceTable{Columns: []string{"reference", "type", "completed", "identifiers", "complete", "left_at", "kept_under_legal_hold_at"},
			Rows: [][]string{{"R-1", "", "", "2", "yes", "", ""}, {"R-2", "", "", "1", "no", "Acme", ""}, {"R-3", "", "", "1", "yes", "", ""}}},
			true, "Complete=2 Identifiers left=1"},
		{"exports", casework.EvidenceTable{Columns: []string{"audit_seq", "when", "who", "action", "what", "customer", "details"},
			Rows: [][]string{{"3", "", "", "report.export", "", "", ""}, {"2", "", "", "request.export", "", "", ""}, {"1", "", "", "report.export", "", "", ""}}},
			true, "report.export=2 request.export=1"},
		{"access-review", casework.EvidenceTable{Columns: []string{"user"}, Rows: [][]string{{"a@x"}}}, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := EvidenceChart(tc.name, tc.table)
			if ok != tc.ok {
				t.Fatalf("ok %v, want %v", ok, tc.ok)
			}
			var got []string
			for i, l := range c.Labels() {
				var vs []string
				for _, s := range c.Series {
					vs = append(vs, charts.Format(s.Points[i].Value, ""))
				}
				got = append(got, l+"="+strings.Join(vs, ","))
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("got %q, want %q", strings.Join(got, " "), tc.want)
			}
		})
	}
}
