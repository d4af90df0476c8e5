package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sendara/console/handlers"
	"github.com/sendara/console/jobs"
	"github.com/sendara/console/mailbox"
	"github.com/sendara/console/mailer"
	"github.com/sendara/console/models"
	"github.com/sendara/console/models/auditchain"
	"github.com/sendara/console/rbac"
	"github.com/sendara/console/webhooks"
)

func serveCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "address to listen on (env CONSOLE_ADDR)")
	demo := fs.Bool("demo", false, "on an empty database, seed demo customers and users and print their logins once")
	return func(ctx context.Context, env *cliEnv) error {
		if err := noArgs(env); err != nil {
			return err
		}
		var auditKey ed25519.PrivateKey
		if env.cfg.AuditCheckpoints != "" {
			if env.cfg.AuditKey == "" {
				return usagef("CONSOLE_AUDIT_CHECKPOINTS needs CONSOLE_AUDIT_KEY: the key that signs the checkpoints")
			}
			var err error
			if auditKey, err = auditchain.LoadOrCreateKey(env.cfg.AuditKey); err != nil {
				return err
			}
		}
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		if *demo {
			if err := seedDemo(ctx, env, db); err != nil {
				return err
			}
		}
		// Suppression checks answer from memory once this has loaded; it
		// follows every writer's changes through the change log.
		start := time.Now()
		if err := db.StartSuppressionIndex(ctx, env.log); err != nil {
			return err
		}
		env.log.Info("suppression index loaded", "took_ms", time.Since(start).Milliseconds())
		authz, err := rbac.New(ctx, db, env.log)
		if err != nil {
			return err
		}
		app, err := handlers.NewServer(ctx, db, authz, handlers.Config{
			BaseURL: env.cfg.BaseURL, Session: env.cfg.sessionPolicy(), Location: env.cfg.Location, Log: env.log,
			TrustedProxies: env.cfg.TrustedProxies, Region: env.cfg.Region, APIRate: env.cfg.APIRate,
			APIMaxWrites: env.cfg.APIMaxWrites,
			Business:     env.cfg.business(), SMTPConfigured: env.cfg.SMTPURL != "", WebhookLoopback: env.cfg.WebhookLoopback,
		})
		if err != nil {
			return err
		}
		if auditKey != nil {
			// One at start, so even a short run leaves its mark; a file or
			// key that cannot be used stops the start instead of every hour.
			if err := appendCheckpoint(ctx, db, auditKey, env.cfg.AuditCheckpoints); err != nil {
				return err
			}
			go appendCheckpoints(ctx, db, auditKey, env.cfg.AuditCheckpoints, env.cfg.CheckpointEvery, env.log)
			env.log.Info("signing audit checkpoints", "file", env.cfg.AuditCheckpoints, "every", env.cfg.CheckpointEvery.String())
		}
		// The runner puts a job in hand back in the queue when ctx ends;
		// shutdown waits for that before closing the database, or the job
		// would stay claimed until its heartbeat went stale.
		runner := jobs.NewRunner(db, jobs.Options{Region: env.cfg.Region, Location: env.cfg.Location, Log: env.log})
		runnerDone := make(chan struct{})
		go func() {
			defer close(runnerDone)
			runner.Run(ctx)
		}()
		go jobs.NewSweeper(db, runner.ID(), time.Hour, env.log).Run(ctx)
		go jobs.NewNotifier(db, env.cfg.business(), runner.ID(), env.cfg.BaseURL, 15*time.Minute, env.log).Run(ctx)
		go webhooks.New(db, webhooks.Options{Log: env.log, AllowLoopback: env.cfg.WebhookLoopback}).Run(ctx)
		sender, err := mailer.New(db, env.cfg.SMTPURL, env.cfg.MailFrom, env.log)
		if err != nil {
			return err
		}
		go func() {
			if err := sender.Run(ctx); err != nil {
				env.log.Error("mail sender stopped", "err", err)
			}
		}()
		if !sender.Configured() {
			env.log.Info("CONSOLE_SMTP_URL is empty: outbound mail stays on the outbox page")
		}
		if env.cfg.SMTPListen != "" {
			smtpd, err := mailbox.NewServer(env.cfg.SMTPListen, mailboxSink{db: db, biz: env.cfg.business(), region: env.cfg.Region},
				mailbox.WithLogger(env.log))
			if err != nil {
				return fmt.Errorf("privacy mailbox on %s: %w", env.cfg.SMTPListen, err)
			}
			env.log.Info("privacy mailbox listening", "addr", smtpd.Addr().String())
			go func() {
				if err := smtpd.Serve(); err != nil {
					env.log.Error("privacy mailbox stopped", "err", err)
				}
			}()
			defer func() {
				closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				_ = smtpd.Close(closeCtx)
			}()
		}
		ln, err := net.Listen("tcp", env.cfg.Addr)
		if err != nil {
			return fmt.Errorf("listen on %s: %w", env.cfg.Addr, err)
		}
		srv := &http.Server{
			Handler:           app.Handler(),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       2 * time.Minute,
			WriteTimeout:      5 * time.Minute,
			IdleTimeout:       2 * time.Minute,
		}
		env.log.Info("console listening", "addr", ln.Addr().String(), "base_url", env.cfg.BaseURL, "database", string(db.Dialect))
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
		}
		env.log.Info("shutting down: finishing requests in flight")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shut down: %w", err)
		}
		if err := app.FlushUsage(shutdownCtx); err != nil {
			env.log.Error("write API usage counts", "err", err)
		}
		select {
		case <-runnerDone:
		case <-shutdownCtx.Done():
			env.log.Error("import runner did not stop in time; its job resumes once its heartbeat is stale")
		}
		env.log.Info("stopped")
		return nil
	}
}

// seedDemo seeds an empty database and prints the demo logins once, on
// stdout; they are never logged.
func seedDemo(ctx context.Context, env *cliEnv, db *models.DB) error {
	seed, err := db.SeedDemo(ctx, env.cfg.BaseURL)
	if err != nil {
		return err
	}
	if seed == nil {
		env.log.Info("demo data not seeded: the database already has users")
		return nil
	}
	w := env.stdout
	fmt.Fprintf(w, "\nDemo data created. Sign in at %s/login with these accounts (shown only now):\n\n", env.cfg.BaseURL)
	fmt.Fprintf(w, "  %-16s %-28s %-21s %s\n", "ROLE", "EMAIL", "PASSWORD", "CUSTOMER")
	for _, l := range seed.Logins {
		fmt.Fprintf(w, "  %-16s %-28s %-21s %s\n", l.Role, l.Email, l.Password, l.Customer)
	}
	fmt.Fprintf(w, "\nStaff roles set up two-step sign-in (TOTP) at their first sign-in.\n")
	fmt.Fprintf(w, "API key for acme-realty: %s\n\n", seed.APIKey)
	return nil
}
