package mailbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Sink stores a received message. The server answers the sending MTA with
// 250 only after Deliver returned nil, so a message is never acknowledged
// before it is safely stored; an error makes the MTA try again later.
type Sink interface {
	Deliver(ctx context.Context, msg *Message) error
}

// Reject wraps an error of a Sink that no retry can cure (the message can
// never become a request: a sender address the console cannot answer, say).
// The server then refuses the message with 554 and the error's text, so the
// sender learns why at once, instead of answering 451 and having the MTA
// retry for days.
func Reject(err error) error { return &rejectError{err} }

type rejectError struct{ err error }

func (e *rejectError) Error() string { return e.err.Error() }
func (e *rejectError) Unwrap() error { return e.err }

// SinkFunc adapts a function to a Sink.
type SinkFunc func(ctx context.Context, msg *Message) error

// Deliver calls f.
func (f SinkFunc) Deliver(ctx context.Context, msg *Message) error { return f(ctx, msg) }

// Defaults of the receiver.
const (
	DefaultMaxMessageBytes = 25 << 20
	DefaultReadTimeout     = 5 * time.Minute // RFC 5321 4.5.3.2: at least 5 minutes per command
	DefaultWriteTimeout    = time.Minute
	DefaultDeliverTimeout  = time.Minute
	DefaultMaxRecipients   = 100
	// DefaultMaxConcurrent bounds messages being read and stored at once:
	// each is held in memory (up to the size limit) until stored.
	DefaultMaxConcurrent = 16
)

// Option adjusts a Server.
type Option func(*config)

type config struct {
	log            *slog.Logger
	domain         string
	maxBytes       int64
	readTimeout    time.Duration
	writeTimeout   time.Duration
	deliverTimeout time.Duration
	maxConcurrent  int
	limiter        *Limiter
}

// WithLogger sets the structured logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithDomain sets the host name the server greets with.
func WithDomain(d string) Option { return func(c *config) { c.domain = d } }

// WithMaxMessageBytes sets the largest message accepted (default 25 MiB).
func WithMaxMessageBytes(n int64) Option { return func(c *config) { c.maxBytes = n } }

// WithTimeouts sets how long the server waits for the client to send a
// command or the message (read) and to take an answer (write).
func WithTimeouts(read, write time.Duration) Option {
	return func(c *config) { c.readTimeout, c.writeTimeout = read, write }
}

// WithMaxConcurrent sets how many messages may be received at once
// (default 16); beyond it a sender is asked to retry later (451).
func WithMaxConcurrent(n int) Option { return func(c *config) { c.maxConcurrent = n } }

// WithLimits sets how much mail one sender and all senders together may
// send (default DefaultLimits); past it a message is deferred (451).
func WithLimits(l Limits) Option { return func(c *config) { c.limiter = NewLimiter(l) } }

// WithDeliverTimeout bounds each call to the Sink; past it the message is
// refused with a temporary error and the MTA retries.
func WithDeliverTimeout(d time.Duration) Option { return func(c *config) { c.deliverTimeout = d } }

// Server receives the privacy mailbox's mail over SMTP. It accepts mail
// for any recipient (every address routed to it is the privacy mailbox),
// asks for no authentication and offers no TLS: deploy it behind the
// organisation's MTA, which relays the privacy address to it, or on an
// address only that MTA can reach (loopback, a private network, a
// firewall rule). It relays nothing anywhere.
//
// Answers: 250 once the Sink stored the message. A permanent 5xx where no
// retry can help, so the sender's MTA bounces the message with the reason
// at once instead of retrying for days: 554 when the message cannot be
// parsed, has a line longer than SMTP allows, or the Sink rejected it
// (Reject); 552 when it or its header is too large. A temporary 4xx only
// for what passes: 451 when its sender or the mailbox as a whole sent too
// much just now (Limits), when the server is busy, or when the Sink failed
// otherwise; 421 while shutting down. The MTA keeps those and retries.
type Server struct {
	srv  *smtp.Server
	ln   net.Listener
	sink Sink
	cfg  config
	log  *slog.Logger

	// ctx is cancelled when Close gives up waiting: deliveries still
	// running are told to stop (they answer 451).
	ctx    context.Context
	cancel context.CancelFunc

	slots chan struct{} // one per message being received

	mu       sync.Mutex
	closing  bool
	inflight sync.WaitGroup
}

// NewServer listens on addr (host:port; port 0 picks a free one, see Addr)
// and returns a server that hands each received message to sink. Call
// Serve to start accepting and Close to stop.
func NewServer(addr string, sink Sink, opts ...Option) (*Server, error) {
	if sink == nil {
		return nil, errors.New("mailbox: a sink is required")
	}
	cfg := config{
		log: slog.Default(), domain: "localhost", maxBytes: DefaultMaxMessageBytes,
		readTimeout: DefaultReadTimeout, writeTimeout: DefaultWriteTimeout, deliverTimeout: DefaultDeliverTimeout,
		maxConcurrent: DefaultMaxConcurrent,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.limiter == nil {
		cfg.limiter = NewLimiter(DefaultLimits)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for mail on %s: %w", addr, err)
	}
	s := &Server{ln: ln, sink: sink, cfg: cfg, log: cfg.log.With("component", "mailbox"),
		slots: make(chan struct{}, max(cfg.maxConcurrent, 1))}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv := smtp.NewServer(backend{s})
	srv.Domain = cfg.domain
	srv.MaxMessageBytes = cfg.maxBytes
	srv.MaxRecipients = DefaultMaxRecipients
	srv.ReadTimeout = cfg.readTimeout
	srv.WriteTimeout = cfg.writeTimeout
	srv.EnableSMTPUTF8 = true
	srv.ErrorLog = smtpLog{s.log}
	s.srv = srv
	return s, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until Close; it returns nil after Close.
func (s *Server) Serve() error {
	s.log.Info("mailbox listening", "addr", s.ln.Addr().String())
	err := s.srv.Serve(s.ln)
	if s.isClosing() {
		return nil
	}
	return err
}

// Close stops accepting connections, waits until the messages being
// delivered are stored or ctx ends, then closes every connection. A message
// cut off by Close was not answered with 250, so its sender retries it.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.closing = true
	s.mu.Unlock()

	_ = s.ln.Close()
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("mailbox: deliveries still running at shutdown: %w", ctx.Err())
	}
	s.cancel()
	if cerr := s.srv.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && !errors.Is(cerr, smtp.ErrServerClosed) && err == nil {
		err = cerr
	}
	return err
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// enter registers a delivery; it fails once Close has begun, so Close's
// wait covers every delivery that started.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.inflight.Add(1)
	return true
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	remote := ""
	if addr := c.Conn().RemoteAddr(); addr != nil {
		remote = addr.String()
	}
	return &session{s: b.s, remote: remote}, nil
}

// session is one SMTP conversation; it holds the envelope of the message
// being received.
type session struct {
	s      *Server
	remote string
	from   string
	rcpts  []string
}

var (
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "The privacy mailbox is shutting down; please try again later"}
	errBusy = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
		Message: "The privacy mailbox is busy; please try again later"}
	errNotStored = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "The message could not be stored just now; please try again later"}
	errLineTooLong = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
		Message: "Message refused by the privacy mailbox: a line is longer than SMTP allows (RFC 5321 4.5.3.1.6)"}
	errHeaderTooLarge = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
		Message: "Message refused by the privacy mailbox: " + ErrHeaderTooLarge.Error()}
)

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.isClosing() {
		return errShuttingDown
	}
	ss.from = from
	return nil
}

// Rcpt accepts every recipient: whatever reaches this server is mail for
// the privacy mailbox.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.rcpts = append(ss.rcpts, to)
	return nil
}

func (ss *session) Data(r io.Reader) (err error) {
	if !ss.s.enter() {
		return errShuttingDown
	}
	defer ss.s.inflight.Done()
	log := ss.s.log.With("remote", ss.remote)
	select {
	case ss.s.slots <- struct{}{}:
		defer func() { <-ss.s.slots }()
	default:
		log.Warn("mail deferred: too many messages at once")
		return errBusy
	}
	defer func() {
		// A panic in a sink must not take the whole console down; the
		// message was not stored, so the MTA is asked to retry.
		if p := recover(); p != nil {
			log.Error("mail delivery panicked", "panic", fmt.Sprint(p))
			err = errNotStored
		}
	}()

	raw, err := io.ReadAll(r)
	receivedAt := time.Now().UTC()
	if err != nil {
		var smtpErr *smtp.SMTPError
		if errors.As(err, &smtpErr) {
			log.Warn("mail refused", "reason", smtpErr.Message, "bytes", len(raw))
			return smtpErr
		}
		if errors.Is(err, smtp.ErrTooLongLine) {
			log.Warn("mail refused", "reason", "line too long", "bytes", len(raw))
			return errLineTooLong
		}
		log.Warn("mail not read", "err", err)
		return errNotStored
	}
	msg, err := Parse(raw)
	if errors.Is(err, ErrHeaderTooLarge) {
		log.Warn("mail refused", "reason", err.Error(), "bytes", len(raw))
		return errHeaderTooLarge
	}
	if err != nil {
		log.Warn("mail refused", "reason", err.Error(), "bytes", len(raw))
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
			Message: "Message refused by the privacy mailbox: " + replyText(err.Error())}
	}
	if wait, perSender := ss.s.cfg.limiter.Allow(ss.from, msg.From.Address); wait > 0 {
		who := "the privacy mailbox receives"
		if perSender {
			who = "this sender sent"
		}
		log.Warn("mail deferred: rate limit", "per_sender", perSender, "wait", wait.Round(time.Second).String())
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1},
			Message: fmt.Sprintf("Too much mail: %s more than it may just now; please try again in %s", who, wait.Round(time.Second))}
	}
	msg.ReceivedAt = receivedAt
	msg.EnvelopeFrom = ss.from
	msg.EnvelopeTo = append([]string(nil), ss.rcpts...)

	ctx, cancel := context.WithTimeout(ss.s.ctx, ss.s.cfg.deliverTimeout)
	defer cancel()
	if err := ss.s.sink.Deliver(ctx, msg); err != nil {
		var rej *rejectError
		if errors.As(err, &rej) {
			log.Warn("mail refused by the sink", "reason", err.Error(), "message_id", msg.MessageID, "bytes", len(raw))
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
				Message: "Message refused by the privacy mailbox: " + replyText(err.Error())}
		}
		log.Error("mail not stored; the sender will retry", "err", err, "message_id", msg.MessageID, "bytes", len(raw))
		return errNotStored
	}
	log.Info("mail received", "message_id", msg.MessageID, "bytes", len(raw),
		"reference", msg.Reference, "suggested_type", msg.SuggestedType, "attachments", len(msg.Attachments))
	return nil
}

func (ss *session) Reset() { ss.from, ss.rcpts = "", nil }

func (ss *session) Logout() error { return nil }

// replyText makes s fit an SMTP reply: printable ASCII on one line, not
// too long.
func replyText(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// smtpLog sends go-smtp's own messages (connection errors) to slog.
type smtpLog struct{ log *slog.Logger }

func (l smtpLog) Printf(format string, v ...any) { l.log.Warn(fmt.Sprintf(format, v...)) }

func (l smtpLog) Println(v ...any) { l.log.Warn(fmt.Sprint(v...)) }
