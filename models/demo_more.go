package models

import (
	accounts "github.com/sendara/console/models/accounts"
	calendar "github.com/sendara/console/models/calendar"

	casework "github.com/sendara/console/models/casework"

	consent "github.com/sendara/console/models/consent"

	customers "github.com/sendara/console/models/customers"

	fulfilment "github.com/sendara/console/models/fulfilment"

	imports "github.com/sendara/console/models/imports"

	registers "github.com/sendara/console/models/registers"

	requests "github.com/sendara/console/models/requests"

	"context"
	"fmt"
	"strings"
	"time"

	store "github.com/sendara/console/models/store"
)

// demoWorld is what the demo seed has created so far.
type demoWorld struct {
	db        *DB
	baseURL   string
	customers map[string]*customers.Customer
	users     map[string]*accounts.User // by email
	sys       store.Actor
	key       store.Actor                // acme-realty's API key: its sending pipeline
	requests  []*requests.PrivacyRequest // access (Avery), delete (Jordan), objection (Casey)
}

func (d *demoWorld) actor(email string) store.Actor { return d.users[email].Actor("") }

func (d *demoWorld) link(path string) string { return strings.TrimRight(d.baseURL, "/") + path }

// Demo staff and customer accounts, by the role they play.
const (
	demoAdmin      = "admin@sendara.example"
	demoOfficer    = "privacy@sendara.example"
	demoAcmeAdmin  = "admin@acme-realty.example"
	demoAcmeAgent  = "agent@acme-realty.example"
	demoBrightside = "admin@brightside.example"
)

func (d *demoWorld) seed(ctx context.Context) error {
	for _, step := range []struct {
		what string
		fn   func(context.Context) error
	}{
		{"consent reversal", d.seedReversal},
		{"communications", d.seedCommunications},
		{"requests", d.seedRequestWork},
		{"incidents", d.seedIncidents},
		{"sub-processors", d.seedSubprocessors},
		{"legal disclosures", d.seedDisclosures},
		{"opt-in import", d.seedOptInImport},
		{"invitation", d.seedInvitation},
	} {
		if err := step.fn(ctx); err != nil {
			return fmt.Errorf("demo %s: %w", step.what, err)
		}
	}
	return nil
}

// seedReversal: Drew Kim texted STOP three days ago; the agent then
// recorded an opt-in from a web form, which waits for an admin's approval.
func (d *demoWorld) seedReversal(ctx context.Context) error {
	acme := d.customers["acme-realty"]
	loc := d.db.Business().Loc
	if _, err := d.db.RecordInbound(ctx, d.sys, acme.ID, "+14155551007", "STOP", store.Now().Add(-72*time.Hour), "US",
		calendar.Business{Loc: loc, Calendar: calendar.DefaultCalendar()}); err != nil {
		return err
	}
	res, err := d.db.RecordConsent(ctx, d.actor(demoAcmeAgent), acme.ID, consent.ConsentInput{To: "+14155551007", Kind: consent.OptIn, Source: "crm",
		Evidence: "re-subscribed on the open-house sign-up form", EvidenceKind: "web_form", EvidenceRef: "hubspot form 4471 / submission 88213",
		CapturedBy: "open-house sign-up page", OccurredAt: store.Now().Add(-20 * time.Hour)}, "US")
	if err != nil {
		return err
	}
	if res.Pending == nil {
		return fmt.Errorf("the agent's opt-in for Drew Kim was applied instead of waiting for approval")
	}
	return nil
}

// seedCommunications: the sending pipeline's record of the last days'
// messages and calls, through acme-realty's API key. One message reached
// Drew Kim after his STOP: the sent-after-opt-out report lists it.
func (d *demoWorld) seedCommunications(ctx context.Context) error {
	now := store.Now()
	synced := now.Add(-time.Hour)
	var items []registers.CommunicationItem
	for i, to := range []string{"+14155551003", "riley.chen@example.com", "+14155551004", "+14155551006", "+14155551008",
		"+14155551010", "+14155551012"} {
		at := now.Add(-time.Duration(5*24-i*13) * time.Hour)
		items = append(items, registers.CommunicationItem{To: to, Channel: consent.ChannelIMessage, Direction: registers.DirectionOutbound,
			DeliveryStatus: []string{"delivered", "read", "sent"}[i%3], OccurredAt: at, CRMSyncedAt: &synced})
	}
	items = append(items,
		registers.CommunicationItem{To: "+14155551003", Channel: consent.ChannelIMessage, Direction: registers.DirectionInbound, DeliveryStatus: "received", OccurredAt: now.Add(-50 * time.Hour)},
		registers.CommunicationItem{To: "+14155551004", Channel: consent.ChannelFaceTime, Direction: registers.DirectionOutbound, DeliveryStatus: "answered", OccurredAt: now.Add(-30 * time.Hour)},
		registers.CommunicationItem{To: "+14155551006", Channel: consent.ChannelFaceTime, Direction: registers.DirectionOutbound, DeliveryStatus: "missed", OccurredAt: now.Add(-28 * time.Hour)},
		// Drew Kim opted out by replying STOP 72 hours ago.
		registers.CommunicationItem{To: "+14155551007", Channel: consent.ChannelIMessage, Direction: registers.DirectionOutbound, DeliveryStatus: "delivered", OccurredAt: now.Add(-26 * time.Hour)},
	)
	res, err := d.db.RecordCommunications(ctx, d.key, d.customers["acme-realty"].ID, items, "US")
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Err != nil {
			return r.Err
		}
	}
	return nil
}

// seedRequestWork moves the demo requests along and adds more: one routed
// and answered by a controller, one waiting on the requester, a merged
// duplicate, an authorized agent's request whose proof waits for a check,
// a denied one and an account-compromise report from the mailbox. The
// privacy officer is assigned requests, so has notifications, and keeps a
// saved view.
func (d *demoWorld) seedRequestWork(ctx context.Context) error {
	db, biz := d.db, d.db.Business()
	admin, officer := d.actor(demoAdmin), d.actor(demoOfficer)
	officerID := d.users[demoOfficer].ID
	access, del := d.requests[0], d.requests[1]
	now := time.Now()

	// Access request: assigned, verified, routed to both customers that
	// hold Avery Brooks; Acme Realty approved it.
	if err := db.Assign(ctx, admin, access.ID, officerID); err != nil {
		return err
	}
	if _, err := db.VerifyManually(ctx, officer, access.ID, "email_reply", "Answered from the address the CRM holds, with the last four digits of the phone number."); err != nil {
		return err
	}
	if _, err := db.Route(ctx, officer, biz, access.ID, d.link("/inbox")); err != nil {
		return err
	}
	tasks, err := db.Tasks(ctx, officer, access.ID)
	if err != nil {
		return err
	}
	for _, t := range tasks {
		if t.CustomerID == d.customers["acme-realty"].ID {
			if _, err := db.AnswerTask(ctx, d.actor(demoAcmeAdmin), t.ID, requests.TaskApproved, "Go ahead: export what you hold for this contact."); err != nil {
				return err
			}
		}
	}

	// A GDPR access request waiting on the requester (the clock stopped).
	waiting, err := db.CreateRequest(ctx, d.sys, biz, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeGDPR, Channel: "email",
		ReceivedAt: now.AddDate(0, 0, -6), Details: "Send me a copy of my messages.",
		Requester: requests.Requester{Name: "Riley Chen", Email: "r.chen@example.org"}}, "US")
	if err != nil {
		return err
	}
	if err := db.Assign(ctx, admin, waiting.ID, officerID); err != nil {
		return err
	}
	if _, err := db.AskRequester(ctx, officer, waiting.ID, "Which phone number do the messages you mean come to? This address is not one we can find."); err != nil {
		return err
	}

	// Jordan Lee asked again through the form: a duplicate, merged.
	again, err := db.CreateRequest(ctx, d.sys, biz, requests.RequestInput{Type: calendar.TypeDelete, Regime: calendar.RegimeCCPA, Channel: "web_form",
		ReceivedAt: now.AddDate(0, 0, -2), Details: "I asked before: please delete my data.",
		Requester: requests.Requester{Name: "Jordan Lee", Email: "jordan.lee@example.com"}}, "US")
	if err != nil {
		return err
	}
	if err := db.MergeDuplicate(ctx, officer, again.ID, del.Reference, "Same person, same ask, a day later through the form."); err != nil {
		return err
	}

	// An authorized agent's deletion request; the signed permission they
	// sent waits for a check.
	agent, err := db.CreateRequest(ctx, d.sys, biz, requests.RequestInput{Type: calendar.TypeDelete, Regime: calendar.RegimeCCPA, Channel: "email",
		ReceivedAt: now.AddDate(0, 0, -4), Details: "On behalf of my client Taylor Diaz, delete all personal information. Signed permission attached.",
		Identifiers: []string{"+14155551004", "taylor.diaz@example.com"},
		Requester: requests.Requester{Name: "Casey Quill, Privacy Rights Agency", Email: "requests@privacy-rights.example", Relationship: "authorized_agent",
			Proof: "Signed permission from Taylor Diaz, attached to the mail."}}, "US")
	if err != nil {
		return err
	}
	if err := db.Assign(ctx, admin, agent.ID, officerID); err != nil {
		return err
	}
	if _, err := db.UploadProof(ctx, officer, agent.ID, requests.ProofSignedPermission, "taylor-diaz-permission.pdf", demoProofPDF); err != nil {
		return err
	}

	// A request denied: the requester could not be verified.
	denied, err := db.CreateRequest(ctx, d.sys, biz, requests.RequestInput{Type: calendar.TypeAccess, Regime: calendar.RegimeCCPA, Channel: "web_form",
		ReceivedAt: now.AddDate(0, 0, -40), Details: "Give me everything about the number below.", Identifiers: []string{"+14155550199"},
		Requester: requests.Requester{Name: "M. Smith", Email: "msmith@example.net", Relationship: "end_user"}}, "US")
	if err != nil {
		return err
	}
	if _, err := db.ChangeStatus(ctx, officer, denied.ID, fulfilment.StatusChange{To: requests.StatusDenied,
		Note: "We could not verify that you are the person the number belongs to; you may ask again with proof."}); err != nil {
		return err
	}

	// The mailbox received a report of a compromised account: urgent.
	subject, body := "Our account was hacked", "Someone logged into our Sendara account last night and exported our contacts. Please help."
	if _, _, err := db.ReceiveMail(ctx, biz, "US", requests.MailIntake{MessageID: "demo-compromise@brightside.example",
		FromName: "Blair Brightside", FromAddr: "office@brightside.example", Subject: subject, Body: body, SuggestedType: registers.SuggestedAccountCompromise,
		Raw:        []byte("From: Blair Brightside <office@brightside.example>\r\nTo: privacy@sendara.example\r\nSubject: " + subject + "\r\nMessage-ID: <demo-compromise@brightside.example>\r\n\r\n" + body + "\r\n"),
		ReceivedAt: now.Add(-5 * time.Hour)}); err != nil {
		return err
	}

	_, err = db.SaveRequestView(ctx, officer, "My open requests", casework.RequestFilter{View: "mine"})
	return err
}

// demoProofPDF is a minimal PDF (the upload checks the content's type).
var demoProofPDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
	"trailer << /Root 1 0 R >>\n%%EOF\n")

// seedIncidents: one open incident whose notice to Acme Realty is overdue,
// one contained and told, one reported by Brightside Dental.
func (d *demoWorld) seedIncidents(ctx context.Context) error {
	db, officer := d.db, d.actor(demoOfficer)
	acme, bright := d.customers["acme-realty"], d.customers["brightside-dental"]
	now := store.Now()
	open, err := db.CreateIncident(ctx, officer, registers.IncidentInput{Title: "Delivery report e-mailed to the wrong customer",
		Description: "A nightly delivery report for Acme Realty (names and phone numbers of 14 contacts) was mailed to another customer's address. " +
			"The recipient confirmed deleting it.",
		Categories: []string{"contact_names", "identifiers", "communication_records"}, DiscoveredAt: now.Add(-70 * time.Hour),
		Affected: []registers.AffectedInput{{CustomerID: acme.ID, Count: 14}}})
	if err != nil {
		return err
	}
	if err := db.AddIncidentNote(ctx, officer, open.ID, "Recipient's written confirmation of deletion filed; the report job now checks the address list."); err != nil {
		return err
	}
	told, err := db.CreateIncident(ctx, officer, registers.IncidentInput{Title: "Support laptop stolen (disk encrypted)",
		Description: "A support engineer's laptop was stolen from a car. The disk is encrypted and the sessions were revoked within the hour.",
		Categories:  []string{"contact_names", "identifiers"}, DiscoveredAt: now.AddDate(0, 0, -20),
		Affected: []registers.AffectedInput{{CustomerID: bright.ID, Count: 3}}})
	if err != nil {
		return err
	}
	if _, err := db.SendIncidentNotices(ctx, officer, told.ID, bright.ID, d.baseURL); err != nil {
		return err
	}
	if err := db.SetIncidentStatus(ctx, officer, told.ID, registers.IncidentContained, "Sessions revoked; the device has not come online since."); err != nil {
		return err
	}
	_, err = db.ReportIncident(ctx, d.actor(demoBrightside), registers.CustomerReportInput{Title: "Front-desk tablet left signed in",
		Description: "The console stayed signed in on the front-desk tablet over a weekend; the office was closed.",
		Categories:  []string{"contact_names"}, DiscoveredAt: now.AddDate(0, 0, -8), AffectedCount: 40})
	return err
}

// seedSubprocessors: two sub-processors announced (both inside their
// objection window), a policy version, and Acme Realty's objection.
func (d *demoWorld) seedSubprocessors(ctx context.Context) error {
	db, admin := d.db, d.actor(demoAdmin)
	today := db.Business().Today()
	days, err := db.ObjectionDays(ctx)
	if err != nil {
		return err
	}
	sp, _, err := db.AddSubprocessor(ctx, admin, registers.SubprocessorInput{Name: "Postmark (ActiveCampaign)", Purpose: "Transactional e-mail: request acknowledgements and notices",
		Location: "United States", TransferSafeguard: "EU Standard Contractual Clauses (2021), module 3", EffectiveOn: today.AddDays(days + 5)}, today, d.baseURL)
	if err != nil {
		return err
	}
	if _, _, err := db.AddSubprocessor(ctx, admin, registers.SubprocessorInput{Name: "Hetzner Online", Purpose: "Encrypted off-site backups",
		Location: "Germany", TransferSafeguard: "Within the EEA; no transfer", EffectiveOn: today.AddDays(days + 14)}, today, d.baseURL); err != nil {
		return err
	}
	if _, _, err := db.AddPolicyVersion(ctx, admin, registers.PolicyVersionInput{Version: "2026.2",
		Summary: "Names the new e-mail and backup sub-processors; opt-outs are honoured within one business day.",
		URL:     "https://sendara.example/privacy/2026-2", EffectiveOn: today.AddDays(days + 5)}, today, d.baseURL); err != nil {
		return err
	}
	_, err = db.ObjectToSubprocessor(ctx, d.actor(demoAcmeAdmin), sp.ID,
		"Our brokerage's clients must not have their e-mail handled in the United States; please keep our mail on EU servers.", today)
	return err
}

// seedDisclosures: three demands from authorities.
func (d *demoWorld) seedDisclosures(ctx context.Context) error {
	db, officer := d.db, d.actor(demoOfficer)
	today := db.Business().Today()
	for _, in := range []registers.DisclosureInput{
		{ReceivedOn: today.AddDays(-45), Authority: "Superior Court of California, County of San Francisco", Kind: "subpoena",
			CustomerID: d.customers["acme-realty"].ID, Disclosed: "Delivery metadata (dates, channel, status) of messages to one phone number, March to May",
			DisclosedOn: today.AddDays(-30), CustomerTold: true},
		{ReceivedOn: today.AddDays(-12), Authority: "Federal Bureau of Investigation, Boston field office", Kind: "law_enforcement_request",
			CustomerID: d.customers["brightside-dental"].ID, CustomerTold: false,
			NotToldReason: "The request came with a non-disclosure order (18 U.S.C. § 2705(b)) for 90 days."},
		{ReceivedOn: today.AddDays(-3), Authority: "Information Commissioner's Office", Kind: "regulator"},
	} {
		if _, err := db.RecordDisclosure(ctx, officer, in, today); err != nil {
			return err
		}
	}
	return nil
}

// seedOptInImport: Acme Realty's admin uploaded a list of opt-ins with
// their evidence; it waits in preview, one row without evidence listed.
func (d *demoWorld) seedOptInImport(ctx context.Context) error {
	week := time.Now().In(d.db.Business().Loc).AddDate(0, 0, -7).Format("2006-01-02 15:04")
	file := "Phone,Email,Evidence Kind,Evidence Reference,Captured By,Captured At\n" +
		"4155551013,harper.stone@example.com,web form,open-house form 4471/88301,open-house sign-up page," + week + "\n" +
		"4155551014,kendall.ruiz@example.com,paper form,scan 2026-117,front desk," + week + "\n" +
		"4155551099,,,,,\n"
	_, err := d.db.CreateImport(ctx, d.actor(demoAcmeAdmin), imports.ImportUpload{CustomerID: d.customers["acme-realty"].ID, Kind: imports.ImportOptIns,
		FileName: "open-house-opt-ins.csv", File: strings.NewReader(file)}, imports.ImportOptions{Region: "US", Location: d.db.Business().Loc})
	return err
}

// seedInvitation: Acme Realty's admin invited a new agent, who has not
// chosen a password yet.
func (d *demoWorld) seedInvitation(ctx context.Context) error {
	admin := d.actor(demoAcmeAdmin)
	u, err := d.db.CreateUser(ctx, admin, accounts.UserInput{Email: "new.agent@acme-realty.example", Name: "Robin New", Role: accounts.RoleCustomerAgent,
		CustomerID: d.customers["acme-realty"].ID})
	if err != nil {
		return err
	}
	_, err = d.db.CreateInvite(ctx, admin, u.ID, func(token string) string { return d.link("/invite/" + token) })
	return err
}
