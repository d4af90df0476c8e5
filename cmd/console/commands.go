package main

import (
	"github.com/sendara/console/models"
	accounts "github.com/sendara/console/models/accounts"
	customers "github.com/sendara/console/models/customers"

	"context"
	"errors"
	"flag"
	"fmt"

	store "github.com/sendara/console/models/store"
)

func migrateCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	return func(ctx context.Context, env *cliEnv) error {
		if err := noArgs(env); err != nil {
			return err
		}
		db, err := models.Open(env.cfg.DB, env.cfg.storeOptions()...)
		if err != nil {
			return err
		}
		defer db.Close()
		m, err := store.NewMigrator(db.DB)
		if err != nil {
			return err
		}
		if err := m.Up(ctx, env.log); err != nil {
			return err
		}
		if err := useSecretKey(ctx, env, db); err != nil {
			return err
		}
		v, err := m.Current(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "database schema at version %d\n", v)
		return nil
	}
}

func customerAddCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	slug := fs.String("slug", "", "short unique name: lower-case letters, digits, hyphens")
	name := fs.String("name", "", "the customer's name")
	crm := fs.String("crm", "other", "CRM: hubspot, gohighlevel, close, salesforce, pipedrive, zapier, n8n, other")
	email := fs.String("contact-email", "", "the customer's privacy contact")
	return func(ctx context.Context, env *cliEnv) error {
		if err := errors.Join(noArgs(env), required([2]string{"slug", *slug}, [2]string{"name", *name})); err != nil {
			return err
		}
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		c, err := db.CreateCustomer(ctx, store.SystemActor("console customer add"), customers.CustomerInput{
			Slug: *slug, Name: *name, CRMType: *crm, ContactEmail: *email})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "customer %s added (id %s)\n", c.Slug, c.ID)
		return nil
	}
}

func userAddCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	email := fs.String("email", "", "the user's email, used to sign in")
	role := fs.String("role", "", "staff_admin, privacy_officer, auditor, customer_admin or customer_agent")
	customer := fs.String("customer", "", "customer slug (customer roles only)")
	name := fs.String("name", "", "the user's name")
	return func(ctx context.Context, env *cliEnv) error {
		if err := errors.Join(noArgs(env), required([2]string{"email", *email}, [2]string{"role", *role})); err != nil {
			return err
		}
		r, err := accounts.ParseRole(*role)
		if err != nil {
			return err
		}
		switch {
		case r.Staff() && *customer != "":
			return usagef("--customer is for customer roles; %s is a staff role", r)
		case !r.Staff() && *customer == "":
			return usagef("--customer is required for role %s", r)
		}
		password, err := readPassword(env.stdin)
		if err != nil {
			return err
		}
		if err := accounts.CheckPassword(password, *email); err != nil {
			return err
		}
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		in := accounts.UserInput{Email: *email, Name: *name, Role: r, Password: password}
		if *customer != "" {
			c, err := db.CustomerBySlug(ctx, *customer)
			if errors.Is(err, store.ErrNotFound) {
				return usagef("--customer: no customer with slug %q", *customer)
			} else if err != nil {
				return err
			}
			in.CustomerID = c.ID
		}
		u, err := db.CreateUser(ctx, store.SystemActor("console user add"), in)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "user %s added with role %s (id %s)\n", u.Email, r, u.ID)
		return nil
	}
}

func apiKeyAddCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	customer := fs.String("customer", "", "customer slug: the key acts in that tenant only")
	staff := fs.Bool("staff", false, "a staff key, acting for Sendara (privacy requests)")
	name := fs.String("name", "", "a name to tell the key apart")
	return func(ctx context.Context, env *cliEnv) error {
		if err := noArgs(env); err != nil {
			return err
		}
		if (*customer == "") == !*staff {
			return usagef("give exactly one of --customer SLUG or --staff")
		}
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		customerID := ""
		if *customer != "" {
			c, err := db.CustomerBySlug(ctx, *customer)
			if errors.Is(err, store.ErrNotFound) {
				return usagef("--customer: no customer with slug %q", *customer)
			} else if err != nil {
				return err
			}
			customerID = c.ID
		}
		_, secret, err := db.CreateAPIKey(ctx, store.SystemActor("console apikey add"), customerID, *name)
		if err != nil {
			return err
		}
		// The secret alone on stdout, so scripts can capture it.
		fmt.Fprintln(env.stdout, secret)
		return nil
	}
}
