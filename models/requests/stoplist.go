package requests

import (
	consent "github.com/sendara/console/models/consent"
	store "github.com/sendara/console/models/store"
)

// addToStopList keeps a stop request's identifiers, as keyed hashes, on
// the suppression list of each customer that held the person at intake
// (reason objection, restriction or opt_out, since the request's receipt),
// so a contact created there later for any of them, by a CRM import or an
// API call, arrives opted out, as it would have been had it existed at
// intake (suppressErased). An identifier erased there already stays
// erased.
func addToStopList(t *store.Tx, r *PrivacyRequest, reason string, matches []PersonMatch) (int64, error) {
	if len(matches) == 0 {
		return 0, nil
	}
	key, err := consent.ErasureKeyIn(t)
	if err != nil {
		return 0, err
	}
	var added int64
	for _, m := range matches {
		n, err := consent.AddSuppressedHashes(t, key, m.CustomerID, r.Identifiers(), r.ID, reason, r.ReceivedAt)
		if err != nil {
			return 0, err
		}
		added += n
	}
	return added, nil
}
