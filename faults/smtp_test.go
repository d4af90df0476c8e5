package faults_test

import (
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// relay is the outbound mail server the console delivers to: it keeps
// each message's Message-ID.
type relay struct {
	mu  sync.Mutex
	ids map[string]int
}

func (r *relay) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct{ r *relay }

func (s *relaySession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (s *relaySession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *relaySession) Reset()                                 {}
func (s *relaySession) Logout() error                          { return nil }
func (s *relaySession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.ids[m.Header.Get("Message-Id")]++
	s.r.mu.Unlock()
	return nil
}

func (r *relay) delivered() (messages, duplicates int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.ids {
		messages += n
		if n > 1 {
			duplicates += n - 1
		}
	}
	return messages, duplicates
}

// The outbound mail server is down while privacy requests arrive by mail:
// their acknowledgements wait in the outbox and are retried, and once the
// server is back each is delivered exactly once.
func TestMailServerDownThenUpDeliversEachMailOnce(t *testing.T) {
	suite(t)
	t.Parallel()
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, dsn)
			e.setUpTenant("acme")
			outbound, inbound := freeAddr(t), freeAddr(t)
			e.vars["CONSOLE_SMTP_URL"] = "smtp://" + outbound + "?tls=none"
			e.vars["CONSOLE_SMTP_LISTEN"] = inbound
			e.serve()

			const requests = 12
			for i := range requests {
				from := fmt.Sprintf("person%d@example.org", i)
				msg := fmt.Sprintf("From: Person %d <%s>\r\nTo: privacy@sendara.example\r\nSubject: Please delete my data\r\nMessage-ID: <fault-%d-%d@example.org>\r\n\r\nDelete everything you hold about me, number %d.\r\n",
					i, from, time.Now().UnixNano(), i, i)
				if err := smtp.SendMail(inbound, nil, from, []string{"privacy@sendara.example"}, []byte(msg)); err != nil {
					t.Fatalf("send request mail %d: %v", i, err)
				}
			}
			queued := func() int64 { return query(t, dsn, "SELECT COUNT(*) FROM outbox") }
			waitUntil(t, time.Minute, "the acknowledgements to be queued", func() bool { return queued() >= requests })
			waitUntil(t, time.Minute, "a failed attempt while the mail server is down", func() bool {
				return query(t, dsn, "SELECT COUNT(*) FROM outbox WHERE attempts > 0 AND sent_at IS NULL") > 0
			})

			// The mail server comes up on the address the console uses.
			r := &relay{ids: map[string]int{}}
			srv := gosmtp.NewServer(r)
			srv.Domain = "relay.test"
			srv.AllowInsecureAuth = true
			ln, err := net.Listen("tcp", outbound)
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = srv.Serve(ln) }()
			t.Cleanup(func() { srv.Close() })

			total := int(queued())
			waitUntil(t, 4*time.Minute, "every queued mail to be delivered", func() bool {
				n, _ := r.delivered()
				return n >= total
			})
			// Two more rounds of the sender (15 s apart) must send nothing again.
			time.Sleep(35 * time.Second)
			n, dup := r.delivered()
			if n != total || dup != 0 {
				t.Errorf("the relay received %d messages (%d duplicates) for %d queued mails", n, dup, total)
			}
			if unsent := query(t, dsn, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL"); unsent != 0 {
				t.Errorf("%d mails are still not marked sent", unsent)
			}
			for id := range r.ids {
				if !strings.Contains(id, "@") {
					t.Errorf("a mail went out without a proper Message-ID: %q", id)
				}
			}
		})
	}
}
