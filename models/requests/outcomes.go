package requests

import (
	"strings"
)

// Outcomes of a request as the CCPA request log (§7101) and metrics (§7102)
// report them.
const (
	OutcomeComplied       = "complied"         // complied with in whole
	OutcomeCompliedInPart = "complied_in_part" // complied with in part, part denied
	OutcomeDenied         = "denied"
	OutcomeWithdrawn      = "withdrawn"
	OutcomeOpen           = "open"
)

// OutcomeOf classifies a request by its status and the outcome recorded
// when it closed. Completion (ChangeStatus) records "Partial: …", saying
// what fell short, unless every business informed complied and Sendara
// acted at each; staff may also record a partial answer themselves with a
// note that starts "Partial: ...", "Partially: ...", "In part: ..." or
// "Complied in part: ..." (any case). Every other completion is compliance
// in whole.
func OutcomeOf(status, outcome string) string {
	switch status {
	case StatusDenied:
		return OutcomeDenied
	case StatusWithdrawn:
		return OutcomeWithdrawn
	case StatusCompleted:
		if PartialOutcome(outcome) {
			return OutcomeCompliedInPart
		}
		return OutcomeComplied
	}
	return OutcomeOpen
}

func PartialOutcome(outcome string) bool {
	o := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(outcome)), "_", " ")
	o = strings.TrimPrefix(o, "complied ")
	o = strings.TrimPrefix(o, "with ")
	return strings.HasPrefix(o, "partial") || strings.HasPrefix(o, "partly") || strings.HasPrefix(o, "in part")
}
