package consent

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

// The index's pooled keyed hash is identifierMAC's, cut short, for any
// tenant and identifier, also when goroutines share the pool and a long
// value passes through a pooled buffer before a short one.
func TestSuppressionIndexHashIsIdentifierMAC(t *testing.T) {
	ix := &suppressionIndex{key: []byte("an erasure key of some length")}
	values := []string{"+14155550123", "jane@example.com", "", "x", string(bytes.Repeat([]byte("a"), 2000)), "+442071838750"}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				customer := fmt.Sprintf("cust-%d", (g+i)%3)
				v := values[(g+i)%len(values)]
				got := ix.hash(customer, v)
				if want := identifierMAC(ix.key, customer, v); !bytes.Equal(got[:], want[:len(got)]) {
					t.Errorf("hash(%q, %.20q) = %x, identifierMAC says %x", customer, v, got, want[:len(got)])
					return
				}
			}
		}()
	}
	wg.Wait()
}
