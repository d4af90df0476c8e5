package models

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
)

// DemoLogin is one seeded account, printed once by serve --demo.
type DemoLogin struct {
	Role     Role
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
// every role, with random passwords. It does nothing (and returns nil) when
// the database already has users, so it never touches real data.
func (db *DB) SeedDemo(ctx context.Context) (*DemoSeed, error) {
	var n int64
	if err := db.Gorm.WithContext(ctx).Model(&User{}).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("check for existing users: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	sys := SystemActor("demo seed")
	customers := map[string]*Customer{}
	for _, in := range []CustomerInput{
		{Slug: "acme-realty", Name: "Acme Realty", ContactEmail: "privacy@acme-realty.example", CRMType: "hubspot"},
		{Slug: "brightside-dental", Name: "Brightside Dental", ContactEmail: "office@brightside.example", CRMType: "gohighlevel"},
	} {
		c, err := db.CreateCustomer(ctx, sys, in)
		if err != nil {
			return nil, fmt.Errorf("seed customer %s: %w", in.Slug, err)
		}
		customers[c.Slug] = c
	}
	seed := &DemoSeed{}
	for _, d := range []struct {
		role     Role
		email    string
		name     string
		customer string
	}{
		{RoleStaffAdmin, "admin@sendara.example", "Sam Staff", ""},
		{RolePrivacyOfficer, "privacy@sendara.example", "Pat Privacy", ""},
		{RoleAuditor, "auditor@sendara.example", "Avery Auditor", ""},
		{RoleCustomerAdmin, "admin@acme-realty.example", "Alex Acme", "acme-realty"},
		{RoleCustomerAgent, "agent@acme-realty.example", "Jordan Agent", "acme-realty"},
		{RoleCustomerAdmin, "admin@brightside.example", "Blair Brightside", "brightside-dental"},
	} {
		password := demoPassword()
		in := UserInput{Email: d.email, Name: d.name, Role: d.role, Password: password}
		if d.customer != "" {
			in.CustomerID = customers[d.customer].ID
		}
		if _, err := db.CreateUser(ctx, sys, in); err != nil {
			return nil, fmt.Errorf("seed user %s: %w", d.email, err)
		}
		seed.Logins = append(seed.Logins, DemoLogin{Role: d.role, Email: d.email, Password: password, Customer: d.customer})
	}
	_, secret, err := db.CreateAPIKey(ctx, sys, customers["acme-realty"].ID, "Demo HubSpot workflow")
	if err != nil {
		return nil, fmt.Errorf("seed API key: %w", err)
	}
	seed.APIKey = secret
	return seed, nil
}

// demoPassword is a random passphrase: four groups of lower-case letters
// and digits, easy to type and far from any breached-password list.
func demoPassword() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}
