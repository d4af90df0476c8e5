package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	consent "github.com/sendara/console/models/consent"
	store "github.com/sendara/console/models/store"
)

// benchList times models.DB.ListContacts as the contacts page calls it for
// a customer user: the first page is the baseline; deep pages (keyset
// cursors at random depths), a name-prefix search and an identifier
// search must stay as fast.
func (b *bench) benchList(ctx context.Context, t *target) error {
	actor := store.CustomerUser("bench", "bench", t.seed1, "")
	var cursors, names []string
	if err := t.db.Gorm.WithContext(ctx).Raw("SELECT id FROM contacts WHERE customer_id = ? ORDER BY random() LIMIT 200", t.seed1).
		Scan(&cursors).Error; err != nil {
		return fmt.Errorf("sample cursors: %w", err)
	}
	if err := t.db.Gorm.WithContext(ctx).Raw("SELECT name FROM contacts WHERE customer_id = ? ORDER BY random() LIMIT 200", t.seed1).
		Scan(&names).Error; err != nil {
		return fmt.Errorf("sample names: %w", err)
	}
	for i, n := range names {
		names[i], _, _ = strings.Cut(n, " ") // a given name: about 1 contact in 60
	}
	idents, err := sampleIdentifiers(ctx, t, 200)
	if err != nil {
		return err
	}
	cases := []struct {
		what   string
		filter func(r *rand.Rand) consent.ContactFilter
	}{
		{"first page", func(*rand.Rand) consent.ContactFilter { return consent.ContactFilter{} }},
		{"deep page (keyset cursor at a random depth)", func(r *rand.Rand) consent.ContactFilter {
			return consent.ContactFilter{After: cursors[r.IntN(len(cursors))]}
		}},
		{"name-prefix search (a given name)", func(r *rand.Rand) consent.ContactFilter {
			return consent.ContactFilter{Query: names[r.IntN(len(names))]}
		}},
		{"identifier search (phone or email)", func(r *rand.Rand) consent.ContactFilter {
			return consent.ContactFilter{Query: idents[r.IntN(len(idents))].Value}
		}},
	}
	var first time.Duration
	for i, c := range cases {
		b.logf("%s: ListContacts, %s, %d calls", t.name, c.what, b.o.iterations)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		lat := make([]time.Duration, 0, b.o.iterations)
		for n := range b.o.iterations + 10 {
			f := c.filter(rng)
			f.CustomerID, f.Limit = t.seed1, 50
			start := time.Now()
			page, _, err := t.db.ListContacts(ctx, actor, f, "US")
			took := time.Since(start)
			if err != nil {
				return fmt.Errorf("ListContacts %s: %w", c.what, err)
			}
			if len(page) == 0 {
				return fmt.Errorf("ListContacts %s (%+v) found nothing", c.what, f)
			}
			if n >= 10 { // the first calls warm caches
				lat = append(lat, took)
			}
		}
		slices.Sort(lat)
		p95 := lat[len(lat)*95/100]
		if i == 0 {
			first = p95
		}
		b.add(row{t.label(fmt.Sprintf("contact list at %s contacts: %s", count(b.o.contacts), c.what)),
			fmt.Sprintf("first page p95 %s", ms(first)),
			fmt.Sprintf("p50 %s, p95 %s", ms(lat[len(lat)/2]), ms(p95)),
			fmt.Sprintf("%.2f", float64(p95)/float64(first)), "p95 < 50 ms", yes(p95 < 50*time.Millisecond)})
	}
	return nil
}
