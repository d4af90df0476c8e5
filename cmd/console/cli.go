package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sendara/console/models"
	errs "github.com/sendara/console/models/errs"
	store "github.com/sendara/console/models/store"
)

// usageError is a mistake on the command line: exit status 2 and a
// one-line reason.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one subcommand: its words ("user add"), a one-line summary
// and what it does with its flags.
type command struct {
	words   string
	args    string
	summary string
	flags   func(fs *flag.FlagSet, cfg *config) func(ctx context.Context, env *cliEnv) error
}

// cliEnv is what a command runs with.
type cliEnv struct {
	cfg    config
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
	args   []string // positional arguments after the flags
}

func commands() []command {
	return []command{
		{"serve", "[--addr :8080] [--db DSN] [--demo]", "run the web console and JSON API", serveCommand},
		{"migrate", "[--db DSN]", "apply pending database migrations", migrateCommand},
		{"customer add", "--slug SLUG --name NAME [--crm TYPE]", "add a customer (tenant)", customerAddCommand},
		{"user add", "--email EMAIL --role ROLE [--customer SLUG] [--name NAME]", "add a user; the password is read from stdin", userAddCommand},
		{"apikey add", "(--customer SLUG | --staff) [--name NAME]", "create an API key and print its secret alone", apiKeyAddCommand},
		{"import opt-outs", "--customer SLUG FILE.csv", "import opt-outs from a CSV file (the same code path as the upload page)", importOptOutsCommand},
		{"audit verify", "[--checkpoint FILE] | --file FILE.jsonl [--filtered]", "verify the audit hash chain (or an export, offline) and print its head: exit 0 intact, 1 broken", auditVerifyCommand},
		{"audit export", "[--since DATE] [--until DATE] [--customer SLUG] [--action PREFIX]", "write audit entries as JSON lines on stdout, with their hashes", auditExportCommand},
		{"audit checkpoint", "[--key FILE]", "sign the audit chain's head with the ed25519 key at CONSOLE_AUDIT_KEY and print it as one JSON line", auditCheckpointCommand},
		{"seed", "--customers N --contacts M", "add synthetic customers seed-1…seed-N with M contacts for benchmarks", seedCommand},
	}
}

// run executes the command line and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, rest, ok := findCommand(args)
	if !ok {
		fmt.Fprintf(stderr, "console: unknown command %q (see console --help)\n", strings.Join(args[:min(2, len(args))], " "))
		return 2
	}
	cfg := configFromEnv()
	fs := flag.NewFlagSet("console "+cmd.words, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.DB, "db", cfg.DB, "database: a postgres:// URL or a SQLite file path (env CONSOLE_DB)")
	action := cmd.flags(fs, &cfg)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printCommandUsage(stdout, cmd, fs)
			return 0
		}
		fmt.Fprintf(stderr, "console %s: %v (see console %s --help)\n", cmd.words, err, cmd.words)
		return 2
	}
	if err := cfg.finish(); err != nil {
		fmt.Fprintf(stderr, "console %s: %v\n", cmd.words, err)
		return 2
	}
	log := newLogger(stderr, cfg.LogFormat)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := action(ctx, &cliEnv{cfg: cfg, stdin: stdin, stdout: stdout, stderr: stderr, log: log, args: fs.Args()})
	var ue usageError
	var ve *errs.ValidationError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "console %s: %s\n", cmd.words, ue.msg)
		return 2
	case errors.As(err, &ve):
		fmt.Fprintf(stderr, "console %s: --%s %s\n", cmd.words, strings.ReplaceAll(ve.Field, "_", "-"), ve.Message)
		return 2
	default:
		fmt.Fprintf(stderr, "console %s: %v\n", cmd.words, err)
		return 1
	}
}

func findCommand(args []string) (command, []string, bool) {
	for _, c := range commands() {
		words := strings.Fields(c.words)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.words {
			return c, args[len(words):], true
		}
	}
	return command{}, nil, false
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Sendara Privacy Console\n\nUsage:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  console %-13s %s\n      %s\n", c.words, c.args, c.summary)
	}
	fmt.Fprintln(w, "\nEvery command takes --db and --help. Environment: CONSOLE_DB, CONSOLE_ADDR, CONSOLE_BASE_URL,\nCONSOLE_TIMEZONE, CONSOLE_HOLIDAYS, CONSOLE_DEFAULT_REGION, CONSOLE_API_RATE, CONSOLE_API_MAX_WRITES, CONSOLE_SESSION_IDLE,\nCONSOLE_SESSION_MAX, CONSOLE_LOG_FORMAT, CONSOLE_TRUSTED_PROXIES, CONSOLE_SECRET_KEY,\nCONSOLE_AUDIT_KEY, CONSOLE_AUDIT_CHECKPOINTS; flags win.")
}

func printCommandUsage(w io.Writer, c command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: console %s %s\n\n%s.\n\nFlags:\n", c.words, c.args, c.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// openDB opens the configured database and applies pending migrations.
func openDB(ctx context.Context, env *cliEnv) (*models.DB, error) {
	db, err := models.Open(env.cfg.DB, env.cfg.storeOptions()...)
	if err != nil {
		return nil, err
	}
	if err := models.Migrate(ctx, db, env.log); err != nil {
		db.Close()
		return nil, err
	}
	if err := useSecretKey(ctx, env, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// useSecretKey loads the keys that seal the database's secrets (creating
// the key file on first run) and seals whatever is still in clear or under
// an older key.
func useSecretKey(ctx context.Context, env *cliEnv, db *models.DB) error {
	keys, created, err := store.LoadKeyring(env.cfg.SecretKey)
	if err != nil {
		return err
	}
	if created {
		env.log.Warn("created a new secret key file: back it up apart from the database; without it TOTP secrets and the server secret cannot be opened", "path", env.cfg.SecretKey)
	}
	db.UseKeyring(keys)
	n, err := db.SealSecrets(ctx)
	if err != nil {
		return fmt.Errorf("seal secrets with %s: %w", env.cfg.SecretKey, err)
	}
	if n > 0 {
		env.log.Info("secrets sealed under the current key", "count", n)
	}
	return nil
}

// noArgs rejects stray positional arguments.
func noArgs(env *cliEnv) error {
	if len(env.args) > 0 {
		return usagef("unexpected argument %q", env.args[0])
	}
	return nil
}

// required reports the first empty required flag.
func required(flags ...[2]string) error {
	for _, f := range flags {
		if strings.TrimSpace(f[1]) == "" {
			return usagef("--%s is required", f[0])
		}
	}
	return nil
}

// readPassword takes the first line of stdin, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from stdin: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usagef("no password on stdin: pipe it in, e.g. echo 'a long passphrase' | console user add ...")
	}
	return line, nil
}
