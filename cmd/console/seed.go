package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	store "github.com/sendara/console/models/store"
)

func seedCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	customers := fs.Int("customers", 0, "how many synthetic customers (seed-1…seed-N; existing ones are reused)")
	contacts := fs.Int("contacts", 0, "how many contacts to add, spread evenly over the customers")
	return func(ctx context.Context, env *cliEnv) error {
		if err := noArgs(env); err != nil {
			return err
		}
		switch {
		case *customers < 1:
			return usagef("--customers must be a positive number")
		case *contacts < 1:
			return usagef("--contacts must be a positive number")
		}
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		start := time.Now()
		last := start
		// Progress goes to the log on stderr, so stdout keeps the one summary line.
		progress := func(done, total int) {
			if now := time.Now(); now.Sub(last) >= 2*time.Second || done == total {
				last = now
				env.log.Info("seed progress", "contacts", done, "of", total,
					"elapsed", now.Sub(start).Round(100*time.Millisecond).String())
			}
		}
		res, err := db.Seed(ctx, store.SystemActor("console seed"), *customers, *contacts, progress)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "seeded %d contacts (%d identifiers, %d opted out) over %d customers (%d new) in %s\n",
			res.Contacts, res.Identifiers, res.OptedOut, res.Customers, res.CustomersCreated, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
}
