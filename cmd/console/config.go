package main

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	store "github.com/sendara/console/models/store"
)

// config is the console's configuration: environment first, flags win.
type config struct {
	Addr        string
	DB          string
	BaseURL     string
	TimeZone    string
	Location    *time.Location
	SessionIdle time.Duration
	SessionMax  time.Duration
	LogFormat   string
	// Region reads phone numbers written without a country code (CONSOLE_DEFAULT_REGION).
	Region string
	// APIRate is each API key's request budget per second (CONSOLE_API_RATE, 0 = off).
	APIRate  float64
	rateText string
	// APIMaxWrites bounds the API's writes in flight (CONSOLE_API_MAX_WRITES, 0 = no bound).
	APIMaxWrites  int
	maxWritesText string
	// SMTPListen is the address of the built-in SMTP receiver for the
	// privacy mailbox (CONSOLE_SMTP_LISTEN; empty: off).
	SMTPListen string
	// SMTPURL is the outbound mail server (CONSOLE_SMTP_URL; empty: mail is
	// kept in the outbox page only).
	SMTPURL string
	// MailFrom is the sender of outbound mail (CONSOLE_MAIL_FROM).
	MailFrom string
	// Holidays is a CSV file (date,name) replacing the US federal holiday
	// calendar for business-day deadlines (CONSOLE_HOLIDAYS).
	Holidays string
	Calendar *calendar.Calendar
	// SecretKey is the file of keys that seal the secrets kept in the
	// database (CONSOLE_SECRET_KEY), created mode 0600 when missing.
	SecretKey string
	// TrustedProxies lists CIDRs of load balancers (CONSOLE_TRUSTED_PROXIES).
	TrustedProxies []*net.IPNet
	proxiesText    string
	// AuditKey is the path of the ed25519 key that signs audit checkpoints
	// (CONSOLE_AUDIT_KEY), outside the database.
	AuditKey string
	// AuditCheckpoints is a file serve appends a signed checkpoint to every
	// CheckpointEvery (CONSOLE_AUDIT_CHECKPOINTS; empty: off).
	AuditCheckpoints string
	CheckpointEvery  time.Duration
	// WebhookLoopback lets webhook endpoints be http://127.0.0.1 and the
	// sender reach this machine and private networks
	// (CONSOLE_WEBHOOK_ALLOW_LOOPBACK=1; development and tests only).
	WebhookLoopback bool
}

// configFromEnv reads the CONSOLE_* environment variables with their
// defaults. Flags parsed later override these fields.
func configFromEnv() config {
	return config{
		Addr:          envOr("CONSOLE_ADDR", ":8080"),
		DB:            envOr("CONSOLE_DB", "console.db"),
		BaseURL:       os.Getenv("CONSOLE_BASE_URL"),
		TimeZone:      envOr("CONSOLE_TIMEZONE", "America/Los_Angeles"),
		LogFormat:     envOr("CONSOLE_LOG_FORMAT", "json"),
		proxiesText:   os.Getenv("CONSOLE_TRUSTED_PROXIES"),
		Region:        strings.ToUpper(envOr("CONSOLE_DEFAULT_REGION", "US")),
		rateText:      envOr("CONSOLE_API_RATE", "1000"),
		maxWritesText: envOr("CONSOLE_API_MAX_WRITES", "64"),
		Holidays:      os.Getenv("CONSOLE_HOLIDAYS"),
		SecretKey:     envOr("CONSOLE_SECRET_KEY", "console-secret.key"),
		// Only the exact value 1 opens it: a typo keeps endpoints https-only.
		WebhookLoopback: os.Getenv("CONSOLE_WEBHOOK_ALLOW_LOOPBACK") == "1",
		SMTPListen:      os.Getenv("CONSOLE_SMTP_LISTEN"),
		SMTPURL:         os.Getenv("CONSOLE_SMTP_URL"),
		MailFrom:        envOr("CONSOLE_MAIL_FROM", "Sendara Privacy <privacy@sendara.example>"),
		SessionIdle:     envDuration("CONSOLE_SESSION_IDLE", 30*time.Minute),
		SessionMax:      envDuration("CONSOLE_SESSION_MAX", 12*time.Hour),

		AuditKey:         os.Getenv("CONSOLE_AUDIT_KEY"),
		AuditCheckpoints: os.Getenv("CONSOLE_AUDIT_CHECKPOINTS"),
		CheckpointEvery:  time.Hour,
	}
}

// finish validates the configuration and derives what follows from it.
func (c *config) finish() error {
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return fmt.Errorf("CONSOLE_TIMEZONE %q is not a time zone name such as America/Los_Angeles", c.TimeZone)
	}
	c.Location = loc
	if c.SessionIdle <= 0 || c.SessionMax <= 0 || c.SessionIdle > c.SessionMax {
		return fmt.Errorf("session limits must be positive and CONSOLE_SESSION_IDLE at most CONSOLE_SESSION_MAX")
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		return fmt.Errorf("CONSOLE_LOG_FORMAT must be json or text")
	}
	for _, cidr := range strings.FieldsFunc(c.proxiesText, func(r rune) bool { return r == ',' || r == ' ' }) {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return fmt.Errorf("CONSOLE_TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8", cidr)
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if !phonenumbers.GetSupportedRegions()[c.Region] {
		return fmt.Errorf("CONSOLE_DEFAULT_REGION %q is not a two-letter region such as US or GB", c.Region)
	}
	rate, err := strconv.ParseFloat(c.rateText, 64)
	if err != nil || rate < 0 {
		return fmt.Errorf("CONSOLE_API_RATE %q must be a number of requests per second, 0 for no limit", c.rateText)
	}
	c.APIRate = rate
	if c.APIMaxWrites, err = strconv.Atoi(c.maxWritesText); err != nil || c.APIMaxWrites < 0 {
		return fmt.Errorf("CONSOLE_API_MAX_WRITES %q must be a whole number of writes in flight, 0 for no bound", c.maxWritesText)
	}
	c.Calendar = calendar.DefaultCalendar()
	if c.Holidays != "" {
		if c.Calendar, err = calendar.LoadCalendar(c.Holidays); err != nil {
			return fmt.Errorf("CONSOLE_HOLIDAYS: %v", err)
		}
	}
	if c.BaseURL == "" {
		host := c.Addr
		if strings.HasPrefix(host, ":") {
			host = "localhost" + host
		}
		c.BaseURL = "http://" + host
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return nil
}

// business is how deadlines are reckoned: the time zone, the holidays and
// the deadline policy.
func (c *config) business() calendar.Business {
	return calendar.Business{Loc: c.Location, Calendar: c.Calendar, Policy: calendar.DefaultDeadlinePolicy()}
}

// storeOptions settle the region and the business calendar in the store
// once, at open.
func (c *config) storeOptions() []store.Option {
	return []store.Option{store.WithRegion(c.Region), store.WithBusiness(c.business())}
}

func (c *config) sessionPolicy() accounts.SessionPolicy {
	return accounts.SessionPolicy{Idle: c.SessionIdle, Absolute: c.SessionMax}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// envDuration reads a Go duration ("30m", "12h"); a malformed value keeps
// the default and is reported by finish through the zero value check.
func envDuration(key string, def time.Duration) time.Duration {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return -1
	}
	return d
}
