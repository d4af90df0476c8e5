package mailer

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTPConfig is where and how outbound mail is handed over, read from
// CONSOLE_SMTP_URL.
type SMTPConfig struct {
	Host string
	Port int
	// ImplicitTLS is smtps:// (TLS from the first byte); otherwise the
	// connection is upgraded with STARTTLS according to TLS.
	ImplicitTLS bool
	TLS         gomail.TLSPolicy
	Username    string
	Password    string
	Auth        gomail.SMTPAuthType
	HELO        string
	Timeout     time.Duration
}

// String describes the configuration without the password, for logs.
func (c SMTPConfig) String() string {
	scheme := "smtp"
	if c.ImplicitTLS {
		scheme = "smtps"
	}
	user := ""
	if c.Username != "" {
		user = c.Username + ":***@"
	}
	return fmt.Sprintf("%s://%s%s tls=%s", scheme, user, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.TLS)
}

var tlsPolicies = map[string]gomail.TLSPolicy{
	"mandatory":     gomail.TLSMandatory,
	"opportunistic": gomail.TLSOpportunistic,
	"none":          gomail.NoTLS,
}

var authTypes = map[string]gomail.SMTPAuthType{
	"auto":          gomail.SMTPAuthAutoDiscover,
	"plain":         gomail.SMTPAuthPlain,
	"login":         gomail.SMTPAuthLogin,
	"cram-md5":      gomail.SMTPAuthCramMD5,
	"scram-sha-1":   gomail.SMTPAuthSCRAMSHA1,
	"scram-sha-256": gomail.SMTPAuthSCRAMSHA256,
	"xoauth2":       gomail.SMTPAuthXOAUTH2,
}

// ParseSMTPURL reads CONSOLE_SMTP_URL:
//
//	smtp://[user:password@]host[:port][?tls=mandatory|opportunistic|none][&auth=...][&helo=name][&timeout=30s]
//	smtps://[user:password@]host[:port][?auth=...]
//
// smtp:// defaults to port 25 and requires STARTTLS (tls=mandatory), except
// on a loopback host (a local MTA), where it uses TLS only if offered.
// smtps:// is TLS from the start, port 465 by default. With a user name the
// client authenticates (auth=auto picks the strongest mechanism the server
// offers; plain, login, cram-md5, scram-sha-1, scram-sha-256 and xoauth2
// force one). Escape reserved characters of the password (%40 for @).
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL is not a URL: %w", redact(err, raw))
	}
	c := SMTPConfig{Host: u.Hostname(), Timeout: 30 * time.Second}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		c.Port = 25
		c.TLS = gomail.TLSMandatory
		if isLoopback(c.Host) {
			c.TLS = gomail.TLSOpportunistic
		}
	case "smtps":
		c.Port = 465
		c.ImplicitTLS = true
		c.TLS = gomail.TLSMandatory
	default:
		return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL must start with smtp:// or smtps://, not %q", u.Scheme+"://")
	}
	if c.Host == "" {
		return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL has an invalid port %q", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
		c.Auth = gomail.SMTPAuthAutoDiscover
	}
	for key, values := range u.Query() {
		v := strings.ToLower(values[len(values)-1])
		switch key {
		case "tls":
			policy, ok := tlsPolicies[v]
			if !ok {
				return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL: tls must be mandatory, opportunistic or none, not %q", v)
			}
			if c.ImplicitTLS && policy != gomail.TLSMandatory {
				return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL: smtps:// is always TLS; use smtp:// for tls=%s", v)
			}
			c.TLS = policy
		case "auth":
			auth, ok := authTypes[v]
			if !ok {
				return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL: auth must be one of auto, plain, login, cram-md5, scram-sha-1, scram-sha-256, xoauth2, not %q", v)
			}
			if c.Username == "" {
				return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL: auth=%s needs a user name (smtp://user:password@host)", v)
			}
			c.Auth = auth
		case "helo":
			c.HELO = values[len(values)-1]
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL: timeout must be a duration such as 30s, not %q", v)
			}
			c.Timeout = d
		default:
			return SMTPConfig{}, fmt.Errorf("CONSOLE_SMTP_URL: unknown setting %q (known: tls, auth, helo, timeout)", key)
		}
	}
	return c, nil
}

// redact keeps a password in the URL out of an error message.
func redact(err error, raw string) error {
	if u, perr := url.Parse(raw); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), p, "***"))
		}
	}
	if i := strings.Index(raw, "@"); i > 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), raw[j+3:i], "***"))
		}
	}
	return err
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
