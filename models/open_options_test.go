package models_test

import (
	calendar "github.com/sendara/console/models/calendar"
	requests "github.com/sendara/console/models/requests"

	"context"
	"testing"
	"time"

	"github.com/sendara/console/models/modeltest"
	store "github.com/sendara/console/models/store"
)

// The region and the business calendar are settled when the store opens,
// and what reckons "today" without a configuration of its own (the
// dashboard's overdue count) reckons it in that zone.
func TestStoreSettingsAreSetAtOpen(t *testing.T) {
	t.Parallel()
	plain := modeltest.OpenWithoutIndex(t)
	if plain.Region() != "US" || plain.Business().Loc.String() != "America/Los_Angeles" || plain.Business().Calendar == nil {
		t.Errorf("defaults: region %q, zone %v", plain.Region(), plain.Business().Loc)
	}
	ahead, err := time.LoadLocation("Pacific/Kiritimati") // UTC+14
	if err != nil {
		t.Fatal(err)
	}
	behind, err := time.LoadLocation("Etc/GMT+12") // UTC-12: always a day or two before Kiritimati
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		loc     *time.Location
		overdue int64
	}{{ahead, 1}, {behind, 0}} {
		t.Run(tt.loc.String(), func(t *testing.T) {
			db := modeltest.OpenWithoutIndex(t, store.WithRegion("GB"), store.WithBusiness(calendar.Business{Loc: tt.loc}))
			if db.Region() != "GB" || db.Business().Loc != tt.loc || db.Business().Calendar == nil || db.Business().Policy == (calendar.DeadlinePolicy{}) {
				t.Fatalf("settings: region %q, business %+v", db.Region(), db.Business())
			}
			r, err := db.CreateRequest(context.Background(), modeltest.Staff, db.Business(), requests.RequestInput{Type: "access", Regime: "gdpr",
				Channel: "api", Requester: requests.Requester{Email: "jane@example.com"}}, db.Region())
			if err != nil {
				t.Fatal(err)
			}
			// Due today where the day starts last: already past where it starts first.
			due := calendar.DateOf(time.Now(), behind)
			if err := db.Gorm.Model(&requests.PrivacyRequest{}).Where("id = ?", r.ID).Update("due_on", due).Error; err != nil {
				t.Fatal(err)
			}
			f, err := db.DashboardFigures(context.Background(), modeltest.Staff)
			if err != nil {
				t.Fatal(err)
			}
			if f.OverdueRequests != tt.overdue {
				t.Errorf("due %s, business zone %s: %d overdue, want %d", due, tt.loc, f.OverdueRequests, tt.overdue)
			}
		})
	}
}
