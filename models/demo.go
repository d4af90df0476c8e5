package models

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	requests "github.com/sendara/console/models/requests"

	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
)

// DemoLogin is one seeded account, printed once by serve --demo.
type DemoLogin struct {
	Role     accounts.Role
	Email    string
	Password string
	Customer string
}

// DemoSeed is what SeedDemo created.
type DemoSeed struct {
	Logins []DemoLogin
	APIKey string // a key for the first demo customer
}

// SeedDemo fills an empty database with demo customers and one user of
// every role, with random passwords, and data for every page (demo_more.go).
// It does nothing (and returns nil) when the database already has users, so
// it never touches real data. baseURL makes the links of the mail it queues.
func (db *DB) SeedDemo(ctx context.Context, baseURL string) (*DemoSeed, error) {
	var n int64
	if err := db.Gorm.WithContext(ctx).Model(&accounts.User{}).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("check for existing users: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	sys := store.SystemActor("demo seed")
	bySlug := map[string]*customers.Customer{}
	for _, in := range []customers.CustomerInput{
		{Slug: "acme-realty", Name: "Acme Realty", ContactEmail: "privacy@acme-realty.example", CRMType: "hubspot"},
		{Slug: "brightside-dental", Name: "Brightside Dental", ContactEmail: "office@brightside.example", CRMType: "gohighlevel"},
	} {
		c, err := db.CreateCustomer(ctx, sys, in)
		if err != nil {
			return nil, fmt.Errorf("seed customer %s: %w", in.Slug, err)
		}
		bySlug[c.Slug] = c
	}
	seed := &DemoSeed{}
	users := map[string]*accounts.User{}
	for _, d := range []struct {
		role     accounts.Role
		email    string
		name     string
		customer string
	}{
		{accounts.RoleStaffAdmin, "admin@sendara.example", "Sam Staff", ""},
		{accounts.RolePrivacyOfficer, "privacy@sendara.example", "Pat Privacy", ""},
		{accounts.RoleAuditor, "auditor@sendara.example", "Avery Auditor", ""},
		{accounts.RoleCustomerAdmin, "admin@acme-realty.example", "Alex Acme", "acme-realty"},
		{accounts.RoleCustomerAgent, "agent@acme-realty.example", "Jordan Agent", "acme-realty"},
		{accounts.RoleCustomerAdmin, "admin@brightside.example", "Blair Brightside", "brightside-dental"},
	} {
		password := demoPassword()
		in := accounts.UserInput{Email: d.email, Name: d.name, Role: d.role, Password: password}
		if d.customer != "" {
			in.CustomerID = bySlug[d.customer].ID
		}
		u, err := db.CreateUser(ctx, sys, in)
		if err != nil {
			return nil, fmt.Errorf("seed user %s: %w", d.email, err)
		}
		users[d.email] = u
		seed.Logins = append(seed.Logins, DemoLogin{Role: d.role, Email: d.email, Password: password, Customer: d.customer})
	}
	key, secret, err := db.CreateAPIKey(ctx, sys, bySlug["acme-realty"].ID, "Demo HubSpot workflow")
	if err != nil {
		return nil, fmt.Errorf("seed API key: %w", err)
	}
	seed.APIKey = secret
	if err := db.seedDemoContacts(ctx, sys, bySlug); err != nil {
		return nil, err
	}
	requests, err := db.seedDemoRequests(ctx, sys)
	if err != nil {
		return nil, err
	}
	d := &demoWorld{db: db, baseURL: baseURL, customers: bySlug, users: users, sys: sys, requests: requests,
		key: store.CustomerKey(key.ID, key.Name, bySlug["acme-realty"].ID, "")}
	if err := d.seed(ctx); err != nil {
		return nil, err
	}
	return seed, nil
}

var demoNames = []string{"Avery Brooks", "Jordan Lee", "Casey Morgan", "Riley Chen", "Taylor Diaz", "Morgan Patel", "Jamie Fox",
	"Drew Kim", "Quinn Rivera", "Skyler Nguyen", "Rowan Ali", "Emerson Cole", "Finley Park", "Harper Stone", "Kendall Ruiz"}

// seedDemoContacts gives each demo customer contacts with a consent
// history and a few replies, some of them waiting for review.
func (db *DB) seedDemoContacts(ctx context.Context, sys store.Actor, bySlug map[string]*customers.Customer) error {
	now := store.Now()
	loc, _ := time.LoadLocation("America/Los_Angeles")
	for ci, slug := range []string{"acme-realty", "brightside-dental"} {
		c := bySlug[slug]
		for i, name := range demoNames {
			phone := fmt.Sprintf("+1415555%02d%02d", 10+ci, i)
			email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com"
			contact, err := db.CreateContact(ctx, sys, c.ID, consent.ContactInput{Identifiers: []string{phone, email}, Name: name,
				CRMID: fmt.Sprintf("%s-%04d", slug[:2], 1000+i)}, "US")
			if err != nil {
				return fmt.Errorf("seed contact: %w", err)
			}
			if i%3 == 0 {
				if _, err := db.RecordConsent(ctx, sys, c.ID, consent.ConsentInput{ContactID: contact.ID, Kind: consent.OptIn, Source: "crm",
					Evidence: "web form consent captured in " + c.CRMType, OccurredAt: now.AddDate(0, -2, -i)}, "US"); err != nil {
					return fmt.Errorf("seed opt-in: %w", err)
				}
			}
			if i%4 == 1 {
				if _, err := db.RecordConsent(ctx, sys, c.ID, consent.ConsentInput{ContactID: contact.ID, Kind: consent.OptOut, Source: "api",
					Channel: []string{consent.ChannelAll, consent.ChannelIMessage}[i%2], Evidence: "STOP keyword relayed by the workflow", OccurredAt: now.AddDate(0, 0, -i)}, "US"); err != nil {
					return fmt.Errorf("seed opt-out: %w", err)
				}
			}
		}
		for i, body := range []string{"I can't stop laughing at this", "please remove me from your list", "See you Thursday", "Can I cancel my appointment?"} {
			from := fmt.Sprintf("+1415555%02d%02d", 10+ci, 20+i)
			if _, err := db.RecordInbound(ctx, sys, c.ID, from, body, now.Add(-time.Duration(i+1)*26*time.Hour), "US", calendar.Business{Loc: loc, Calendar: calendar.DefaultCalendar()}); err != nil {
				return fmt.Errorf("seed reply: %w", err)
			}
		}
	}
	return nil
}

// seedDemoRequests records privacy requests at different stages.
func (db *DB) seedDemoRequests(ctx context.Context, sys store.Actor) ([]*requests.PrivacyRequest, error) {
	biz := db.Business()
	now := time.Now()
	var out []*requests.PrivacyRequest
	for _, in := range []requests.RequestInput{
		{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR, Channel: "email", ReceivedAt: now.AddDate(0, 0, -12), Details: "What data do you hold about me?",
			Requester: requests.Requester{Name: "Avery Brooks", Email: "avery.brooks@example.com"}},
		{Type: calendar.TypeDelete, Regime: calendar.RegimeCCPA, Channel: "web_form", ReceivedAt: now.AddDate(0, 0, -3), Details: "Delete everything you have on me.",
			Requester: requests.Requester{Name: "Jordan Lee", Email: "jordan.lee@example.com"}},
		{Type: calendar.TypeObjection, Regime: calendar.RegimeUKGDPR, Channel: "manual", ReceivedAt: now.AddDate(0, 0, -1), Details: "Stop texting me.",
			Requester: requests.Requester{Name: "Casey Morgan", Phone: "+14155551002"}},
	} {
		r, err := db.CreateRequest(ctx, sys, biz, in, "US")
		if err != nil {
			return nil, fmt.Errorf("seed request: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// demoPassword is a random passphrase: four groups of lower-case letters
// and digits, easy to type and far from any breached-password list.
func demoPassword() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}
