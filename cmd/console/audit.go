package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sendara/console/models"
	"github.com/sendara/console/models/auditchain"
	store "github.com/sendara/console/models/store"
)

func auditVerifyCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	file := fs.String("file", "", "verify this export (JSON lines) offline instead of the database")
	filtered := fs.Bool("filtered", false, "with --file: the export was filtered, so seq may jump; each entry and each consecutive pair is checked")
	checkpoints := fs.String("checkpoint", "", "a file of checkpoint lines: check each signature and that the chain still holds that hash at that seq")
	fs.StringVar(&cfg.AuditKey, "key", cfg.AuditKey, "the audit key file whose keys checkpoints must be signed by (env CONSOLE_AUDIT_KEY)")
	return func(ctx context.Context, env *cliEnv) error {
		if err := noArgs(env); err != nil {
			return err
		}
		switch {
		case *file != "" && *checkpoints != "":
			return usagef("--checkpoint checks the database's chain; verify an export with --file alone")
		case *filtered && *file == "":
			return usagef("--filtered goes with --file")
		case *file != "":
			return verifyExportFile(env, *file, *filtered)
		}
		var cps []auditchain.Checkpoint
		var trusted []ed25519.PublicKey
		if *checkpoints != "" {
			// Read the evidence before touching the database: a bad file or
			// key is a mistake on the command line.
			if env.cfg.AuditKey == "" {
				return usagef("--checkpoint needs the key: set CONSOLE_AUDIT_KEY or --key")
			}
			var err error
			if trusted, err = auditchain.LoadTrustedKeys(env.cfg.AuditKey); err != nil {
				return usagef("%v", err)
			}
			f, err := os.Open(*checkpoints)
			if err != nil {
				return usagef("--checkpoint: %v", err)
			}
			cps, err = auditchain.ReadCheckpoints(f)
			f.Close()
			if err != nil {
				return usagef("--checkpoint %s: %v", *checkpoints, err)
			}
		}
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		rep, err := db.VerifyAudit(ctx)
		if err != nil {
			return err
		}
		if !rep.Intact() {
			return fmt.Errorf("audit chain broken at entry %d: %s", rep.BadSeq, rep.Problem)
		}
		fmt.Fprintf(env.stdout, "audit chain intact: %d entries verified, head %d hash %s\n", rep.Entries, rep.HeadSeq, rep.HeadHash)
		for i, c := range cps {
			if err := c.CheckSignature(trusted); err != nil {
				return fmt.Errorf("checkpoint %d (entry %d, %s) is not valid: %v", i+1, c.Seq, c.At, err)
			}
			if err := db.CheckAuditCheckpoint(ctx, c); err != nil {
				return fmt.Errorf("checkpoint %d (entry %d, %s) fails: %v", i+1, c.Seq, c.At, err)
			}
		}
		if len(cps) > 0 {
			fmt.Fprintf(env.stdout, "%d checkpoints hold: each signature is valid and the chain still has each signed hash\n", len(cps))
		}
		return nil
	}
}

// verifyExportFile checks an export with no database.
func verifyExportFile(env *cliEnv, path string, filtered bool) error {
	f, err := os.Open(path)
	if err != nil {
		return usagef("--file: %v", err)
	}
	defer f.Close()
	rep, err := auditchain.VerifyExport(f, filtered)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !rep.Intact() {
		hint := ""
		if !filtered && strings.Contains(rep.Break.Problem, "is missing") {
			hint = " (if the export was filtered, verify it with --filtered)"
		}
		return fmt.Errorf("%s line %d: export broken at entry %d: %s%s", path, rep.Line, rep.Break.Seq, rep.Break.Problem, hint)
	}
	if rep.Entries == 0 {
		fmt.Fprintf(env.stdout, "export intact: no entries\n")
		return nil
	}
	fmt.Fprintf(env.stdout, "export intact: %d entries, seq %d to %d, last hash %s\n", rep.Entries, rep.FirstSeq, rep.LastSeq, rep.LastHash)
	if filtered {
		fmt.Fprintf(env.stdout, "filtered: %d entries linked to the one before them; %d gaps where the filter left entries out (what is in a gap is not checked)\n", rep.Links, rep.Gaps)
	}
	return nil
}

func auditExportCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	since := fs.String("since", "", "entries from this date (YYYY-MM-DD in CONSOLE_TIMEZONE, from its start) or instant (RFC 3339)")
	until := fs.String("until", "", "entries up to this date, included (YYYY-MM-DD), or before this instant (RFC 3339)")
	customer := fs.String("customer", "", "only this customer's (tenant's) entries, by slug")
	action := fs.String("action", "", "only actions starting with this prefix, e.g. user. or contact.view")
	return func(ctx context.Context, env *cliEnv) error {
		if err := noArgs(env); err != nil {
			return err
		}
		var f store.AuditFilter
		var err error
		if f.Since, err = parseWhen(*since, env.cfg.Location, false); err != nil {
			return usagef("--since %v", err)
		}
		if f.Until, err = parseWhen(*until, env.cfg.Location, true); err != nil {
			return usagef("--until %v", err)
		}
		f.Action = *action
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		if *customer != "" {
			c, err := db.CustomerBySlug(ctx, *customer)
			if errors.Is(err, store.ErrNotFound) {
				return usagef("--customer: no customer with slug %q", *customer)
			} else if err != nil {
				return err
			}
			f.CustomerID = c.ID
		}
		w := bufio.NewWriterSize(env.stdout, 64<<10)
		n, err := db.ExportAudit(ctx, store.SystemActor("console audit export"), f, func(e *auditchain.Entry) error {
			return e.WriteLine(w)
		})
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			return fmt.Errorf("export stopped after %d entries: %w", n, err)
		}
		return nil
	}
}

// parseWhen reads a date in loc (its start, or with end the start of the
// next day, so an --until date is included) or an RFC 3339 instant.
func parseWhen(s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD) or an RFC 3339 time", s)
	}
	return t, nil
}

func auditCheckpointCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	fs.StringVar(&cfg.AuditKey, "key", cfg.AuditKey, "the ed25519 key file, created mode 0600 when missing (env CONSOLE_AUDIT_KEY)")
	return func(ctx context.Context, env *cliEnv) error {
		if err := noArgs(env); err != nil {
			return err
		}
		if env.cfg.AuditKey == "" {
			return usagef("no key: set CONSOLE_AUDIT_KEY (or --key) to the path of the checkpoint key, outside the database")
		}
		key, err := auditchain.LoadOrCreateKey(env.cfg.AuditKey)
		if err != nil {
			return err
		}
		db, err := openDB(ctx, env)
		if err != nil {
			return err
		}
		defer db.Close()
		c, err := db.CheckpointAudit(ctx, key)
		if err != nil {
			return err
		}
		return json.NewEncoder(env.stdout).Encode(c)
	}
}

// appendCheckpoints signs the chain's head into the file at path every
// interval until ctx ends: evidence outside the database that a later
// rewrite or rollback of the chain cannot match. A failed round is logged
// and the next one tried.
func appendCheckpoints(ctx context.Context, db *models.DB, key ed25519.PrivateKey, path string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := appendCheckpoint(ctx, db, key, path); err != nil {
			log.Error("audit checkpoint", "err", err)
		}
	}
}

// appendCheckpoint signs the head once and appends the line to path.
func appendCheckpoint(ctx context.Context, db *models.DB, key ed25519.PrivateKey, path string) error {
	c, err := db.CheckpointAudit(ctx, key)
	if err != nil {
		return err
	}
	line, err := json.Marshal(c)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open checkpoint file: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("append checkpoint to %s: %w", path, err)
	}
	return nil
}
