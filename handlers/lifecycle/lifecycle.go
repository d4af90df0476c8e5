package lifecycle

import (
	"net/http"

	"github.com/sendara/console/handlers/web"
)

// lifecycleRoutes are the registers of issue 13 beyond retention:
// communication records and the sent-after-opt-out report, the breach
// register, sub-processors and policy versions, Art. 30(2) records and
// legal disclosures.
func (s *Handlers) lifecycleRoutes() []web.Route {
	get, post := http.MethodGet, http.MethodPost
	return []web.Route{
		{Method: post, Path: "/api/v1/communications", Handler: s.apiRecordCommunications, Access: web.APIKeyAccess, Perm: web.Can("contacts", "write")},
		{Method: get, Path: "/communications/sent-after-opt-out", Handler: s.sentAfterOptOut, Access: web.Permitted, Perm: web.Can("communications", "read")},
		{Method: get, Path: "/communications/sent-after-opt-out.csv", Handler: s.sentAfterOptOutCSV, Access: web.Permitted, Perm: web.Can("communications", "read")},

		{Method: get, Path: "/incidents", Handler: s.incidents, Access: web.Permitted, Perm: web.Can("incidents", "read")},
		{Method: post, Path: "/incidents", Handler: s.incidentCreate, Access: web.Permitted, Perm: web.Can("incidents", "write")},
		{Method: post, Path: "/incidents/report", Handler: s.incidentReport, Access: web.Permitted, Perm: web.Can("incidents", "report")},
		{Method: post, Path: "/incidents/settings", Handler: s.incidentSettings, Access: web.Permitted, Perm: web.Can("incidents", "settings")},
		{Method: get, Path: "/incidents/:id", Handler: s.incident, Access: web.Permitted, Perm: web.Can("incidents", "read")},
		{Method: post, Path: "/incidents/:id/customers", Handler: s.incidentAddCustomer, Access: web.Permitted, Perm: web.Can("incidents", "write")},
		{Method: post, Path: "/incidents/:id/notices", Handler: s.incidentNotices, Access: web.Permitted, Perm: web.Can("incidents", "write")},
		{Method: post, Path: "/incidents/:id/status", Handler: s.incidentStatus, Access: web.Permitted, Perm: web.Can("incidents", "write")},
		{Method: post, Path: "/incidents/:id/notes", Handler: s.incidentNote, Access: web.Permitted, Perm: web.Can("incidents", "write")},
		{Method: post, Path: "/requests/:id/incident", Handler: s.incidentFromRequest, Access: web.Permitted, Perm: web.Can("incidents", "write")},

		{Method: get, Path: "/subprocessors", Handler: s.subprocessors, Access: web.Permitted, Perm: web.Can("subprocessors", "read")},
		{Method: post, Path: "/subprocessors", Handler: s.subprocessorAdd, Access: web.Permitted, Perm: web.Can("subprocessors", "write")},
		{Method: post, Path: "/subprocessors/settings", Handler: s.subprocessorSettings, Access: web.Permitted, Perm: web.Can("subprocessors", "settings")},
		{Method: post, Path: "/subprocessors/:id/remove", Handler: s.subprocessorRemove, Access: web.Permitted, Perm: web.Can("subprocessors", "write")},
		{Method: post, Path: "/subprocessors/:id/object", Handler: s.subprocessorObject, Access: web.Permitted, Perm: web.Can("subprocessors", "object")},
		{Method: post, Path: "/policy-versions", Handler: s.policyVersionAdd, Access: web.Permitted, Perm: web.Can("subprocessors", "write")},

		{Method: get, Path: "/processing-records", Handler: s.processingRecords, Access: web.Permitted, Perm: web.Can("processing_records", "read")},
		{Method: get, Path: "/processing-records.csv", Handler: s.processingRecordsCSV, Access: web.Permitted, Perm: web.Can("processing_records", "read")},

		{Method: get, Path: "/legal-disclosures", Handler: s.disclosures, Access: web.Permitted, Perm: web.Can("legal_disclosures", "read")},
		{Method: post, Path: "/legal-disclosures", Handler: s.disclosureCreate, Access: web.Permitted, Perm: web.Can("legal_disclosures", "write")},
		{Method: get, Path: "/account-bundles", Handler: s.accountBundles, Access: web.Permitted, Perm: web.Can("account_bundles", "export")},
		{Method: post, Path: "/account-bundles", Handler: s.accountBundleDownload, Access: web.Permitted, Perm: web.Can("account_bundles", "export")},
		{Method: post, Path: "/requests/:id/no-sale-answer", Handler: s.requestNoSaleAnswer, Access: web.Permitted, Perm: web.Can("requests", "write")},

		{Method: get, Path: "/legal-disclosures/transparency.csv", Handler: s.transparencyCSV, Access: web.Permitted, Perm: web.Can("legal_disclosures", "read")},
	}
}
