package mailbox

import (
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limits bound how much mail the privacy mailbox takes in: from one sender,
// and from everyone together. Anyone can send mail, under any sender
// address; without a bound a script could open requests (and make the
// console answer them) as fast as the database writes.
type Limits struct {
	// SenderEvery is how often one sender address earns another message;
	// SenderBurst how many it may send at once.
	SenderEvery time.Duration
	SenderBurst int
	// GlobalEvery and GlobalBurst are the same for all senders together.
	GlobalEvery time.Duration
	GlobalBurst int
}

// DefaultLimits let a person write a score of messages in an hour and the
// mailbox take a few thousand an hour, in bursts of a couple of hundred.
var DefaultLimits = Limits{SenderEvery: 3 * time.Minute, SenderBurst: 20, GlobalEvery: time.Second, GlobalBurst: 200}

// maxTrackedSenders bounds the memory a flood of distinct sender
// addresses costs: past it, senders whose allowance is whole again are
// forgotten (they would start afresh anyway).
const maxTrackedSenders = 10000

// Limiter applies Limits. It is safe for concurrent use.
type Limiter struct {
	l       Limits
	global  *rate.Limiter
	mu      sync.Mutex
	senders map[string]*rate.Limiter
}

// NewLimiter returns a Limiter for l; zero fields take DefaultLimits'.
func NewLimiter(l Limits) *Limiter {
	if l.SenderEvery <= 0 || l.SenderBurst <= 0 {
		l.SenderEvery, l.SenderBurst = DefaultLimits.SenderEvery, DefaultLimits.SenderBurst
	}
	if l.GlobalEvery <= 0 || l.GlobalBurst <= 0 {
		l.GlobalEvery, l.GlobalBurst = DefaultLimits.GlobalEvery, DefaultLimits.GlobalBurst
	}
	return &Limiter{l: l, global: rate.NewLimiter(rate.Every(l.GlobalEvery), l.GlobalBurst), senders: map[string]*rate.Limiter{}}
}

// Allow takes one message from each of senders (addresses, compared
// without case; "" is the null sender of bounces) and from the global
// allowance. It takes nothing and returns how long to wait when any of
// them is spent; perSender tells whether a sender's own allowance was.
func (l *Limiter) Allow(senders ...string) (wait time.Duration, perSender bool) {
	now := time.Now()
	var taken []*rate.Reservation
	undo := func() {
		for _, r := range taken {
			r.CancelAt(now)
		}
	}
	seen := map[string]bool{}
	for _, s := range senders {
		key := strings.ToLower(strings.TrimSpace(s))
		if seen[key] {
			continue
		}
		seen[key] = true
		r := l.sender(key, now).ReserveN(now, 1)
		taken = append(taken, r)
		if d := r.DelayFrom(now); d > 0 {
			undo()
			return d, true
		}
	}
	r := l.global.ReserveN(now, 1)
	taken = append(taken, r)
	if d := r.DelayFrom(now); d > 0 {
		undo()
		return d, false
	}
	return 0, false
}

func (l *Limiter) sender(key string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim, ok := l.senders[key]; ok {
		return lim
	}
	if len(l.senders) >= maxTrackedSenders {
		for k, lim := range l.senders {
			if lim.TokensAt(now) >= float64(l.l.SenderBurst) {
				delete(l.senders, k)
			}
		}
	}
	lim := rate.NewLimiter(rate.Every(l.l.SenderEvery), l.l.SenderBurst)
	l.senders[key] = lim
	return lim
}
