package calendar

import (
	"slices"
	"strings"
	"time"

	errs "github.com/sendara/console/models/errs"
)

// Privacy request types (DESIGN §5). The first six are the GDPR rights,
// know/delete/correct the CCPA ones; the law a request falls under is its
// regime, and either vocabulary may be used under either law.
const (
	TypeAccess        = "access"
	TypePortability   = "portability"
	TypeRectification = "rectification"
	TypeErasure       = "erasure"
	TypeRestriction   = "restriction"
	TypeObjection     = "objection"
	TypeOptOutSale    = "opt_out_sale"
	TypeKnow          = "know"
	TypeDelete        = "delete"
	TypeCorrect       = "correct"
	TypeChildData     = "child_data" // a parent's request about a child under 13 (COPPA)
	TypeOther         = "other"
)

// RequestTypes lists every request type, in the order forms offer them.
var RequestTypes = []string{
	TypeAccess, TypePortability, TypeRectification, TypeErasure, TypeRestriction,
	TypeObjection, TypeOptOutSale, TypeKnow, TypeDelete, TypeCorrect, TypeChildData, TypeOther,
}

// Regimes: the law a request is answered under.
const (
	RegimeGDPR   = "gdpr"
	RegimeUKGDPR = "uk_gdpr"
	RegimeCCPA   = "ccpa"
	RegimeOther  = "other" // no law named: the strictest timing applies
)

// Regimes lists every regime.
var Regimes = []string{RegimeGDPR, RegimeUKGDPR, RegimeCCPA, RegimeOther}

// ParseRequestType checks a request type, returning it or a ValidationError
// on "type". Only the exact spellings of RequestTypes pass: a type is stored
// and compared as given, so a near miss ("Access") must not slip through.
func ParseRequestType(s string) (string, error) {
	return parseEnum("type", "request type", s, RequestTypes)
}

// ParseRegime checks a regime, returning it or a ValidationError on
// "regime". Only the exact spellings of Regimes pass.
func ParseRegime(s string) (string, error) {
	return parseEnum("regime", "regime", s, Regimes)
}

func parseEnum(field, what, s string, valid []string) (string, error) {
	if s == "" {
		return "", errs.Invalid(field, "choose a %s: %s", what, strings.Join(valid, ", "))
	}
	if !slices.Contains(valid, s) {
		return "", errs.Invalid(field, "unknown %s %q; use one of %s", what, s, strings.Join(valid, ", "))
	}
	return s, nil
}

// Fixed periods from the law (DESIGN §4). They are not configurable: the
// law sets them.
const (
	CCPAAckBusinessDays    = 10 // Cal. Code Regs. tit. 11 §7021(a)
	CCPAAnswerDays         = 45 // §7021(b), calendar days, verified or not
	CCPAExtendedDays       = 90 // §7021(b): 45 more days
	CCPAOptOutBusinessDays = 15 // §7026(f), and §7027(g) for a request to limit

	// ChildDeletionBusinessDays is the console's reading of COPPA's
	// "promptly" (16 CFR 312.6(a)(2)): a parent's request about a child's
	// data is due within 10 business days, or the regime's own date if that
	// is earlier. It matches the CCPA acknowledgement and TCPA revocation
	// periods staff already work to.
	ChildDeletionBusinessDays = 10
)

// CCPAType is the CCPA right a request type invokes when the regime is
// ccpa: know, delete, correct, opt_out_sale or other. The GDPR words map to
// their CCPA counterparts (access and portability are requests to know;
// erasure and child_data to delete; rectification to correct). The CCPA has
// no right of restriction or objection; the nearest are the opt-out of sale
// or sharing (§7026) and the request to limit use of sensitive data
// (§7027), both due within 15 business days, and the console applies all of
// them as suppression at once, so restriction and objection count as
// opt_out_sale. CCPA metrics (§7102) group requests by this type.
func CCPAType(typ string) string {
	switch typ {
	case TypeKnow, TypeAccess, TypePortability:
		return TypeKnow
	case TypeDelete, TypeErasure, TypeChildData:
		return TypeDelete
	case TypeCorrect, TypeRectification:
		return TypeCorrect
	case TypeOptOutSale, TypeRestriction, TypeObjection:
		return TypeOptOutSale
	}
	return TypeOther
}

// Deadlines are the dates a privacy request must meet, as civil dates in
// the business time zone. A zero Date means the rule does not apply (JSON
// null); only DueOn, ForwardBy and ControllerDueOn are always set.
type Deadlines struct {
	// AckDueOn is the last day to acknowledge receipt; nil where no
	// acknowledgement rule applies (only CCPA know, delete and correct).
	AckDueOn *Date `json:"ack_due_on"`
	// DueOn is the last day to answer the requester.
	DueOn Date `json:"due_on"`
	// ExtendedDueOn is the due date an extension would give; zero where
	// the request cannot be extended.
	ExtendedDueOn Date `json:"extended_due_on"`
	// ExtensionNoticeBy is the last day to tell the requester of an
	// extension and its reasons; zero where none can be taken.
	ExtensionNoticeBy Date `json:"extension_notice_by"`
	// ForwardBy is the last day for Sendara, as processor, to forward the
	// request to each controller concerned.
	ForwardBy Date `json:"forward_by"`
	// ControllerDueOn is the answer date set on a routed task: it leaves
	// Sendara time to act on the controller's instructions before DueOn.
	ControllerDueOn Date `json:"controller_due_on"`
}

// DeadlinePolicy holds the periods that are Sendara's own choice rather than
// the law's (DESIGN §4 marks them configurable). Start from
// DefaultDeadlinePolicy: fields are taken as given, so a zero field means
// "the same day", not "the default".
type DeadlinePolicy struct {
	// ForwardBusinessDays: the processor forwards a request to each
	// controller within this many business days of receipt (GDPR Art.
	// 28(3)(e), CCPA §7051 say "promptly"; default 2).
	ForwardBusinessDays int
	// ControllerBusinessDays: a routed task is due this many business days
	// after ForwardBy (default 10)...
	ControllerBusinessDays int
	// ControllerMarginDays: ...or this many calendar days before DueOn,
	// whichever is earlier (default 5), so the answer can still be
	// carried out in time.
	ControllerMarginDays int
}

// DefaultDeadlinePolicy is the contract default: forward within 2 business
// days; controllers answer within 10 business days of that, and at least 5
// calendar days before the requester's due date.
func DefaultDeadlinePolicy() DeadlinePolicy {
	return DeadlinePolicy{ForwardBusinessDays: 2, ControllerBusinessDays: 10, ControllerMarginDays: 5}
}

// Validate refuses negative periods, naming the setting.
func (p DeadlinePolicy) Validate() error {
	switch {
	case p.ForwardBusinessDays < 0:
		return errs.Invalid("forward_business_days", "must be 0 or more business days")
	case p.ControllerBusinessDays < 0:
		return errs.Invalid("controller_business_days", "must be 0 or more business days")
	case p.ControllerMarginDays < 0:
		return errs.Invalid("controller_margin_days", "must be 0 or more days")
	}
	return nil
}

// ComputeDeadlines applies the rules of DESIGN §4 to a request received at
// receivedAt. The day of receipt is the date receivedAt falls on in loc, the
// business time zone (UTC when nil); business days come from cal (the
// default US federal calendar when nil).
//
//   - gdpr, uk_gdpr: due one calendar month from receipt (31 January → 28/29
//     February), never rolled to a working day; an extension gives three
//     calendar months from receipt and must be notified by the first due date.
//   - ccpa know, delete, correct (and their GDPR synonyms, see CCPAType):
//     acknowledge within 10 business days, answer within 45 calendar days,
//     extension to 90 days notified by day 45.
//   - ccpa opt_out_sale (and restriction, objection): 15 business days, no
//     acknowledgement, no extension. Other ccpa types: 45 days, no extension.
//   - other (and an unknown regime): the strictest reading, one calendar
//     month, no acknowledgement and no extension.
//   - child_data: never later than ChildDeletionBusinessDays business days,
//     and never extended.
//
// An unknown type counts as other. ForwardBy and ControllerDueOn follow
// policy but never fall after DueOn, and a routed task is never due before
// it is forwarded.
func ComputeDeadlines(regime, typ string, receivedAt time.Time, loc *time.Location, cal *Calendar, policy DeadlinePolicy) Deadlines {
	if cal == nil {
		cal = DefaultCalendar()
	}
	received := DateOf(receivedAt, loc)
	var d Deadlines
	switch regime {
	case RegimeGDPR, RegimeUKGDPR:
		d.DueOn = received.AddMonths(1)
		d.ExtendedDueOn = received.AddMonths(3)
		d.ExtensionNoticeBy = d.DueOn
	case RegimeCCPA:
		switch CCPAType(typ) {
		case TypeKnow, TypeDelete, TypeCorrect:
			ack := cal.BusinessDaysAfter(received, CCPAAckBusinessDays)
			d.AckDueOn = &ack
			d.DueOn = received.AddDays(CCPAAnswerDays)
			d.ExtendedDueOn = received.AddDays(CCPAExtendedDays)
			d.ExtensionNoticeBy = d.DueOn
		case TypeOptOutSale:
			d.DueOn = cal.BusinessDaysAfter(received, CCPAOptOutBusinessDays)
		default:
			d.DueOn = received.AddDays(CCPAAnswerDays)
		}
	default:
		d.DueOn = received.AddMonths(1)
	}
	if typ == TypeChildData {
		if prompt := cal.BusinessDaysAfter(received, ChildDeletionBusinessDays); prompt.Before(d.DueOn) {
			d.DueOn = prompt
		}
		// Two more months is not "promptly".
		d.ExtendedDueOn, d.ExtensionNoticeBy = Date{}, Date{}
	}

	d.ForwardBy = cal.BusinessDaysAfter(received, policy.ForwardBusinessDays)
	if d.ForwardBy.After(d.DueOn) {
		d.ForwardBy = d.DueOn
	}
	d.ControllerDueOn = cal.BusinessDaysAfter(d.ForwardBy, policy.ControllerBusinessDays)
	if margin := d.DueOn.AddDays(-max(policy.ControllerMarginDays, 0)); margin.Before(d.ControllerDueOn) {
		d.ControllerDueOn = margin
	}
	if d.ControllerDueOn.Before(d.ForwardBy) {
		d.ControllerDueOn = d.ForwardBy
	}
	return d
}

// CanExtend says whether staff may still extend a request with deadlines d
// on the date today (in the business time zone): nil when the law allows an
// extension for this regime and type and today is no later than
// d.ExtensionNoticeBy; otherwise a ValidationError on "extension" saying why.
// Whether the request was already extended is the caller's to check.
func CanExtend(regime, typ string, d Deadlines, today Date) error {
	law := ""
	switch regime {
	case RegimeGDPR:
		law = "GDPR"
	case RegimeUKGDPR:
		law = "UK GDPR"
	case RegimeCCPA:
		law = "CCPA"
	default:
		return errs.Invalid("extension", "no extension applies when the regime is %q; set the regime (gdpr, uk_gdpr or ccpa) whose law allows one", regime)
	}
	if typ == TypeChildData {
		return errs.Invalid("extension", "a parent's request about a child's data must be handled promptly (COPPA, 16 CFR 312.6); it cannot be extended")
	}
	window := "the first month"
	if regime == RegimeCCPA {
		switch CCPAType(typ) {
		case TypeKnow, TypeDelete, TypeCorrect:
			window = "the first 45 days"
		case TypeOptOutSale:
			return errs.Invalid("extension", "a CCPA opt-out must be honoured within 15 business days (§7026(f)); it cannot be extended")
		default:
			return errs.Invalid("extension", "the CCPA allows an extension only for requests to know, delete or correct")
		}
	}
	if d.ExtensionNoticeBy.IsZero() || d.ExtendedDueOn.IsZero() {
		return errs.Invalid("extension", "these deadlines carry no extension date; recompute them")
	}
	if today.After(d.ExtensionNoticeBy) {
		return errs.Invalid("extension", "%s extensions must be notified within %s, by %s", law, window, d.ExtensionNoticeBy)
	}
	return nil
}
