package web

import (
	"sync"
	"testing"

	"github.com/sendara/console/models/accounts"
)

// TestUsageCounterLosesNoCountWhileFlushing counts from many goroutines
// while another takes the counts out, as the minute's flush does beside
// the checks: the counts taken add up to every count made, per key and
// kind.
func TestUsageCounterLosesNoCountWhileFlushing(t *testing.T) {
	var u usageCounter
	const workers, each = 8, 2000
	got := map[string]int64{}
	collect := func(m map[accounts.UsageKey]int64) {
		for k, n := range m {
			got[k.KeyID+"/"+k.Kind] += n
		}
	}
	stop, collected := make(chan struct{}), make(chan struct{})
	go func() { // the flush, taking the counts out again and again
		defer close(collected)
		for {
			select {
			case <-stop:
				return
			default:
				collect(u.take())
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := []string{"k0", "k1"}[w%2]
			for range each {
				u.Add(key, accounts.UsageCall, 1)
				u.Add(key, "suppression_check", 3)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-collected
	collect(u.take())
	for _, key := range []string{"k0", "k1"} {
		if n := got[key+"/"+accounts.UsageCall]; n != workers/2*each {
			t.Errorf("%s calls: counted %d, want %d", key, n, workers/2*each)
		}
		if n := got[key+"/suppression_check"]; n != workers/2*each*3 {
			t.Errorf("%s checks: counted %d, want %d", key, n, workers/2*each*3)
		}
	}
	if m := u.take(); len(m) != 0 {
		t.Errorf("taken twice: %v", m)
	}
}
