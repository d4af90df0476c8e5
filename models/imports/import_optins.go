package imports

import (
	consent "github.com/sendara/console/models/consent"
	errs "github.com/sendara/console/models/errs"

	"errors"
	"fmt"
	"slices"
	"strings"

	store "github.com/sendara/console/models/store"
	"gorm.io/gorm/clause"
)

// Fields of an opt-in import's evidence columns.
const (
	FieldEvidenceKind = "evidence_kind"
	FieldEvidenceRef  = "evidence_ref"
	FieldCapturedBy   = "captured_by"
)

// optInEvidenceFields must each be mapped to a column of an opt-in import.
var optInEvidenceFields = []string{FieldEvidenceKind, FieldEvidenceRef, FieldCapturedBy, FieldOccurredAt}

func optInFieldLabel(f string) string {
	switch f {
	case FieldEvidenceKind:
		return "Evidence kind (keyword reply, web form, paper form, call recording, CRM field)"
	case FieldEvidenceRef:
		return "Evidence reference (form id, recording, CRM field)"
	case FieldCapturedBy:
		return "Captured by"
	}
	return f
}

// classifyOptInHeader maps an opt-in import's evidence headers (already
// normalized) to their fields; the caller drops fields the kind has not.
func classifyOptInHeader(n string) string {
	switch n {
	case "evidence kind", "evidence type", "consent method", "consent type", "consent source", "opt in method", "opt in source", "proof kind":
		return FieldEvidenceKind
	case "evidence", "evidence reference", "evidence ref", "reference", "proof", "consent reference", "consent proof", "opt in proof":
		return FieldEvidenceRef
	case "captured by", "collected by", "recorded by", "consent captured by", "agent":
		return FieldCapturedBy
	case "captured at", "captured on", "opted in at", "opted in on", "opt in date", "opt in at", "consent date", "consented at",
		"consent captured at", "date opted in":
		return FieldOccurredAt
	}
	return ""
}

// ProblemFor explains why the mapping cannot be imported as kind ("" when
// it can): every import needs an identifier column, an opt-in import also
// its evidence columns.
func (m ImportMapping) ProblemFor(kind string) string {
	if p := m.Problem(); p != "" {
		return p
	}
	if kind != ImportOptIns {
		return ""
	}
	var missing []string
	for _, f := range optInEvidenceFields {
		if !slices.Contains(m.Fields, f) {
			missing = append(missing, optInColumnName(f))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return "An opt-in import needs the evidence of each row: choose the column of " + strings.Join(missing, ", ") +
		" in the column mapping."
}

func optInColumnName(f string) string {
	switch f {
	case FieldEvidenceKind:
		return "the evidence kind"
	case FieldEvidenceRef:
		return "the evidence reference"
	case FieldCapturedBy:
		return "who captured it"
	case FieldOccurredAt:
		return "when it was captured"
	}
	return f
}

// ParseEvidenceKind reads an evidence kind as people and CRMs write it:
// "Web form", "web-form", "WEB_FORM" and "web_form" are web_form.
func ParseEvidenceKind(v string) (string, bool) {
	k := strings.Join(strings.FieldsFunc(strings.ToLower(strings.TrimSpace(v)), func(r rune) bool {
		return r == ' ' || r == '-' || r == '_'
	}), "_")
	return k, slices.Contains(consent.EvidenceKinds, k)
}

// evidenceCell reads one evidence cell of an opt-in row.
func (r *ImportRow) evidenceCell(i int, f, col, v string) {
	switch f {
	case FieldEvidenceKind:
		if v == "" {
			return // listed as missing by checkEvidence
		}
		k, ok := ParseEvidenceKind(v)
		if !ok {
			r.problem(i, col, v, "is not an evidence kind: write keyword reply, web form, paper form, call recording or CRM field")
			return
		}
		r.EvidenceKind = k
	case FieldEvidenceRef:
		if v == "" {
			return // listed as missing by checkEvidence
		}
		if len(v) > 500 {
			r.problem(i, col, v, "is longer than 500 characters")
			return
		}
		if r.EvidenceRef = cleanText(v); r.EvidenceRef == "" {
			r.problem(i, col, v, "has no readable text: an opt-in needs the evidence reference")
		}
	case FieldCapturedBy:
		if v == "" {
			return // listed as missing by checkEvidence
		}
		if len(v) > 200 {
			r.problem(i, col, v, "is longer than 200 characters")
			return
		}
		if r.CapturedBy = cleanText(v); r.CapturedBy == "" {
			r.problem(i, col, v, "has no readable text: an opt-in needs who captured it")
		}
	}
}

// checkEvidence lists the evidence an opt-in row lacks: an empty cell of
// a mapped evidence column (the mapping's own problem covers an unmapped
// one), by its column.
func (p *ImportParser) checkEvidence(row *ImportRow, rec []string) {
	for _, f := range optInEvidenceFields {
		i := slices.Index(p.m.Fields, f)
		if i < 0 {
			continue
		}
		v := ""
		if i < len(rec) {
			v = strings.TrimSpace(rec[i])
		}
		if v != "" {
			continue // read, or listed as bad, by check
		}
		row.problem(i, p.m.column(i), v, "is empty: an opt-in needs "+optInColumnName(f))
	}
	slices.SortStableFunc(row.Problems, func(a, b ImportProblem) int { return a.Col - b.Col })
}

// importOptInRows records each row's opt-in with RecordConsent (rows of
// an opt-in import reaching here have their evidence; see Applies). The
// contacts step is the other imports': a row's identifiers are one
// person. A row RecordConsent refuses is listed with the ledger's reason
// as a bad row of the job, and counted unchanged.
func importOptInRows(t *store.Tx, job *ImportJob, rows []ImportRow) (applied, unchanged, created int64, err error) {
	up, err := upsertImportContacts(t, job.CustomerID, rows, false)
	if err != nil {
		return 0, 0, 0, err
	}
	created = int64(up.created)
	var refused []ImportProblem
	for _, r := range rows {
		if len(r.Identifiers) == 0 {
			unchanged++
			continue
		}
		in := consent.ConsentInput{ContactID: up.owner[r.Identifiers[0].Value], Channel: r.Channel, Kind: consent.OptIn, Source: "csv_import",
			Evidence: fmt.Sprintf("CSV import %s, line %d", job.FileName, r.Line), EvidenceKind: r.EvidenceKind,
			EvidenceRef: r.EvidenceRef, CapturedBy: r.CapturedBy, OccurredAt: r.OccurredAt,
			IdempotencyKey: job.IdempotencyKey(r.Line, 0)}
		res, err := consent.RecordConsent(t, job.CustomerID, r.Identifiers[0], in)
		var conflict *errs.ConflictError
		switch {
		case errors.As(err, &conflict):
			refused = append(refused, ImportProblem{JobID: job.ID, Line: r.Line, Col: -1, Field: "row",
				Value: clip(r.Identifiers[0].Value, maxShownValue), Reason: "not applied: " + conflict.Message})
			unchanged++
		case err != nil:
			if v, ok := errs.AsValidation(err); ok {
				refused = append(refused, ImportProblem{JobID: job.ID, Line: r.Line, Col: -1, Field: v.Field,
					Value: clip(r.Identifiers[0].Value, maxShownValue), Reason: "not applied: " + v.Message})
				unchanged++
				continue
			}
			return 0, 0, 0, fmt.Errorf("line %d: %w", r.Line, err)
		case res.Pending != nil:
			refused = append(refused, ImportProblem{JobID: job.ID, Line: r.Line, Col: -1, Field: "row",
				Value:  clip(r.Identifiers[0].Value, maxShownValue),
				Reason: "not applied yet: it reverses the person's own opt-out and waits for a customer admin's approval (Consent reversals)"})
			unchanged++
		case res.Changed:
			applied++
		default:
			unchanged++
		}
	}
	if len(refused) > 0 {
		if err := t.G.Clauses(clause.OnConflict{DoNothing: true}).Create(refused).Error; err != nil {
			return 0, 0, 0, fmt.Errorf("list refused rows: %w", err)
		}
	}
	return applied, unchanged, created, nil
}
