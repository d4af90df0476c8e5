package main

import (
	errs "github.com/sendara/console/models/errs"
	imports "github.com/sendara/console/models/imports"

	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/sendara/console/jobs"
	"github.com/sendara/console/models"
	store "github.com/sendara/console/models/store"
)

// importOptOutsCommand imports opt-outs from a CSV file by the upload
// page's code path: the file is stored and checked (its bad rows listed on
// stderr), then applied by the same job code the server's runner uses, in
// this process. Exit status: 0 when the file was imported (bad rows, if
// any, listed and skipped); 2 for a mistake on the command line (no
// --customer, an unknown customer, no file or an unreadable one, a bad
// --channel); 1 when the file has no usable rows (empty, not CSV, no phone
// or email column, every row bad), the import failed or was interrupted.
func importOptOutsCommand(fs *flag.FlagSet, cfg *config) func(context.Context, *cliEnv) error {
	customer := fs.String("customer", "", "customer slug: the tenant the opt-outs belong to")
	channel := fs.String("channel", "all", "channel of rows without a Channel column: imessage, facetime or all")
	dryRun := fs.Bool("dry-run", false, "check the file and list its bad rows, but import nothing")
	return func(ctx context.Context, env *cliEnv) error {
		importGC()
		return runImport(ctx, env, env.stderr, importArgs{customer: *customer, channel: *channel, dryRun: *dryRun})
	}
}

type importArgs struct {
	customer string
	channel  string
	dryRun   bool
}

// runImport is the command; stderr receives the preview and progress.
func runImport(ctx context.Context, env *cliEnv, stderr io.Writer, a importArgs) error {
	if err := required([2]string{"customer", a.customer}); err != nil {
		return err
	}
	switch len(env.args) {
	case 0:
		return usagef("give the CSV file to import: console import opt-outs --customer SLUG FILE.csv")
	case 1:
	default:
		return usagef("give one CSV file, not %d", len(env.args))
	}
	path := env.args[0]
	f, err := os.Open(path)
	if err != nil {
		return usagef("cannot read %s: %v", path, errors.Unwrap(err))
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return usagef("%s is a directory, not a CSV file", path)
	}
	db, err := openDB(ctx, env)
	if err != nil {
		return err
	}
	defer db.Close()
	c, err := db.CustomerBySlug(ctx, a.customer)
	if errors.Is(err, store.ErrNotFound) {
		return usagef("--customer: no customer with slug %q", a.customer)
	} else if err != nil {
		return err
	}

	actor := store.SystemActor("console import opt-outs")
	opts := imports.ImportOptions{Region: env.cfg.Region, Location: env.cfg.Location}
	name := filepath.Base(path)
	job, err := db.CreateImport(ctx, actor, imports.ImportUpload{CustomerID: c.ID, Kind: imports.ImportOptOuts,
		FileName: name, Channel: a.channel, File: f}, opts)
	if v, ok := errs.AsValidation(err); ok {
		if v.Field == "channel" {
			return usagef("--channel %s", v.Message)
		}
		// The file itself cannot be imported: a failure, not a usage error.
		return fmt.Errorf("%s %s", name, v.Message)
	} else if err != nil {
		return err
	}
	if err := printPreview(ctx, db, stderr, job); err != nil {
		return err
	}
	if job.Error != "" || job.UsableRows() <= 0 || a.dryRun {
		end := db.CancelImport
		if a.dryRun {
			end = db.EndDryRun
		}
		if err := end(ctx, actor, job.ID); err != nil {
			return err
		}
		switch {
		case job.Error != "":
			return fmt.Errorf("%s cannot be imported: %s", name, job.Error)
		case job.UsableRows() <= 0:
			return fmt.Errorf("%s has no usable rows: all %d are bad (listed above); nothing was imported", name, job.TotalRows)
		}
		fmt.Fprintf(env.stdout, "dry run: %d of %d rows of %s would be imported; nothing was written\n", job.UsableRows(), job.TotalRows, name)
		return nil
	}

	last := time.Now()
	runner := jobs.NewRunner(db, jobs.Options{Region: env.cfg.Region, Location: env.cfg.Location, Log: env.log,
		OnBatch: func(j imports.ImportJob) {
			if time.Since(last) >= 2*time.Second {
				last = time.Now()
				fmt.Fprintf(stderr, "importing: %d of %d rows (%d%%)\n", j.ProcessedRows, j.TotalRows, j.Percent())
			}
		}})
	if job, err = db.StartImport(ctx, actor, job.ID, runner.ID()); err != nil {
		return err
	}
	if err := runner.Process(ctx, job); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted after %d of %d rows: the import (%s) waits in the queue and resumes when console serve runs; running this command again is also safe, rows already imported are skipped",
				job.ProcessedRows, job.TotalRows, job.ID)
		}
		return fmt.Errorf("import of %s failed after %d of %d rows: %s", name, job.ProcessedRows, job.TotalRows, job.Error)
	}
	if job.Status != imports.ImportDone {
		return fmt.Errorf("import of %s was taken over by another runner; see /imports/%s", name, job.ID)
	}
	fmt.Fprintf(env.stdout, "imported %s (import %s): %d rows; %d applied, %d already opted out or imported, %d bad rows skipped, %d contacts created\n",
		name, job.ID, job.TotalRows, job.Applied, job.Unchanged, job.BadRows, job.ContactsCreated)
	return nil
}

// printPreview lists the mapping and every bad row, as the preview page
// does, before anything is written.
func printPreview(ctx context.Context, db *models.DB, w io.Writer, job *imports.ImportJob) error {
	var cols []string
	for i, f := range job.Mapping.Fields {
		if f != "" {
			cols = append(cols, fmt.Sprintf("%q → %s", job.Mapping.Columns[i], strings.ToLower(imports.FieldLabel(f))))
		}
	}
	header := "line 1 is a header"
	if !job.Mapping.Header {
		header = "no header line"
	}
	counts := fmt.Sprintf("%d rows, %d bad", job.TotalRows, job.BadRows)
	if job.PartialRows > 0 {
		counts += fmt.Sprintf(", %d applied without their bad cells", job.PartialRows)
	}
	if job.FilteredRows > 0 {
		counts += fmt.Sprintf(", %d not flagged as opted out", job.FilteredRows)
	}
	fmt.Fprintf(w, "%s: %s; %s; columns: %s\n", job.FileName, counts, header, strings.Join(cols, ", "))
	return db.EachImportProblem(ctx, job, func(p imports.ImportProblem) error {
		if p.Col < 0 {
			_, err := fmt.Fprintf(w, "line %d: %s (%q)\n", p.Line, p.Reason, p.Value)
			return err
		}
		if strings.Contains(p.Reason, strconv.Quote(p.Value)) {
			_, err := fmt.Fprintf(w, "line %d, %s: %s\n", p.Line, p.Field, p.Reason)
			return err
		}
		_, err := fmt.Fprintf(w, "line %d, %s %q: %s\n", p.Line, p.Field, p.Value, p.Reason)
		return err
	})
}

// importGC lets the import's short-lived garbage (parsed rows, statement
// arguments) pile up to four times the live heap before a collection,
// under a soft limit of 128 MiB that keeps the process well below the
// 200 MB goal of DESIGN §7: at Go's default the collector runs each time
// the small live heap doubles. GOGC or GOMEMLIMIT in the environment win.
func importGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
		debug.SetGCPercent(400)
	}
}
