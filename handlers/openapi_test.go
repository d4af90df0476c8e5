package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type openAPIDoc struct {
	Paths      map[string]map[string]map[string]any `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

func loadOpenAPI(t *testing.T, app *testApp) openAPIDoc {
	t.Helper()
	res, err := http.Get(app.srv.URL + "/api/v1/openapi.json")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET openapi.json: %v %v", err, res)
	}
	defer res.Body.Close()
	var doc struct {
		OpenAPI string `json:"openapi"`
		openAPIDoc
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	return doc.openAPIDoc
}

func TestOpenAPIDocumentListsExactlyTheAPIRoutes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	doc := loadOpenAPI(t, app)
	param := regexp.MustCompile(`:(\w+)`)
	registered := map[string]bool{}
	for _, r := range app.echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		key := strings.ToLower(r.Method) + " " + param.ReplaceAllString(r.Path, "{$1}")
		registered[key] = true
		p := param.ReplaceAllString(r.Path, "{$1}")
		if _, ok := doc.Paths[p][strings.ToLower(r.Method)]; !ok {
			t.Errorf("route %s %s is not documented", r.Method, r.Path)
		}
	}
	for p, ops := range doc.Paths {
		for method := range ops {
			if !registered[method+" "+p] {
				t.Errorf("documented %s %s has no route", strings.ToUpper(method), p)
			}
		}
	}
}

// conforms checks a JSON value against a documented schema: required
// fields present, no undocumented fields, types of nested objects too.
func conforms(t *testing.T, doc openAPIDoc, where string, schema map[string]any, v any) {
	t.Helper()
	for _, p := range schemaProblems(doc, where, schema, v) {
		t.Error(p)
	}
}

// schemaProblems lists how v departs from schema (none: it conforms).
func schemaProblems(doc openAPIDoc, where string, schema map[string]any, v any) []string {
	if ref, ok := schema["$ref"].(string); ok {
		schema = doc.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	if all, ok := schema["allOf"].([]any); ok && len(all) == 1 {
		if v == nil && schema["nullable"] == true {
			return nil
		}
		return schemaProblems(doc, where, all[0].(map[string]any), v)
	}
	if one, ok := schema["oneOf"].([]any); ok {
		var all []string
		for _, alt := range one {
			p := schemaProblems(doc, where, alt.(map[string]any), v)
			if len(p) == 0 {
				return nil
			}
			all = append(all, p...)
		}
		return append([]string{fmt.Sprintf("%s: %v matches none of the alternatives", where, v)}, all...)
	}
	var out []string
	switch schema["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v is not an object", where, v)}
		}
		props, _ := schema["properties"].(map[string]any)
		required, _ := schema["required"].([]any)
		for _, r := range required {
			if _, ok := obj[r.(string)]; !ok {
				out = append(out, fmt.Sprintf("%s: required field %s missing in %v", where, r, obj))
			}
		}
		for k, val := range obj {
			ps, ok := props[k].(map[string]any)
			if props == nil {
				continue // an object without properties is free-form
			}
			if !ok {
				out = append(out, fmt.Sprintf("%s: field %s is not documented", where, k))
				continue
			}
			out = append(out, schemaProblems(doc, where+"."+k, ps, val)...)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: %v is not an array", where, v)}
		}
		for _, item := range arr {
			out = append(out, schemaProblems(doc, where+"[]", schema["items"].(map[string]any), item)...)
		}
	case "string":
		if v == nil && schema["nullable"] == true {
			return nil
		}
		if _, ok := v.(string); !ok {
			out = append(out, fmt.Sprintf("%s: %v is not a string", where, v))
		}
		if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
			out = append(out, fmt.Sprintf("%s: %v is not one of %v", where, v, enum))
		}
	case "boolean":
		if v == nil && schema["nullable"] == true {
			return nil
		}
		if _, ok := v.(bool); !ok {
			out = append(out, fmt.Sprintf("%s: %v is not a boolean", where, v))
		}
	}
	return out
}

func responseSchema(doc openAPIDoc, path, method string, status int) map[string]any {
	r := doc.Paths[path][method]["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	return r["content"].(map[string]any)["application/json"].(map[string]any)["schema"].(map[string]any)
}

func TestOpenAPIDocumentDescribesWhatTheAPIAnswers(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	doc := loadOpenAPI(t, app)
	api := app.apiKey(t, app.customer("acme"))
	created := api.post("/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550123"}, "name": "Ann"})
	id, _ := created.Body["id"].(string)
	calls := []struct {
		method, path, doc string
		body              any
		status            int
	}{
		{"POST", "/api/v1/contacts", "/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550124"}}, 201},
		{"GET", "/api/v1/contacts/" + id, "/api/v1/contacts/{id}", nil, 200},
		{"GET", "/api/v1/contacts?to=%2B14155550123", "/api/v1/contacts", nil, 200},
		{"GET", "/api/v1/contacts?limit=1", "/api/v1/contacts", nil, 200},
		{"GET", "/api/v1/contacts?crm_id=hs-4711", "/api/v1/contacts", nil, 200},
		{"GET", "/api/v1/contacts?after=bad", "/api/v1/contacts", nil, 400},
		{"POST", "/api/v1/opt-outs", "/api/v1/opt-outs", map[string]any{"to": "+14155550123", "evidence": "STOP"}, 201},
		{"POST", "/api/v1/opt-outs", "/api/v1/opt-outs", map[string]any{"to": "+14155550123"}, 200},
		{"POST", "/api/v1/opt-ins", "/api/v1/opt-ins", map[string]any{"to": "+14155550125", "evidence": "form"}, 201},
		{"GET", check("+14155550123"), "/api/v1/suppressions/check", nil, 200},
		{"GET", check("+14155550199"), "/api/v1/suppressions/check", nil, 200},
		{"POST", "/api/v1/suppressions/check", "/api/v1/suppressions/check", map[string]any{"to": []string{"+14155550123", "not a number", "+14155550199"}}, 200},
		{"POST", "/api/v1/inbound", "/api/v1/inbound", map[string]any{"from": "+14155550126", "body": "STOP"}, 200},
		{"GET", "/api/v1/contacts/" + id + "/consent?at=" + time.Now().Add(time.Minute).UTC().Format(time.RFC3339), "/api/v1/contacts/{id}/consent", nil, 200},
		{"GET", "/api/v1/contacts/" + id + "/consent?at=2020-01-01T00:00:00Z", "/api/v1/contacts/{id}/consent", nil, 200},
		{"GET", "/api/v1/consent?to=%2B14155550123", "/api/v1/consent", nil, 200},
		{"GET", "/api/v1/consent?to=%2B14155550177", "/api/v1/consent", nil, 404},
		{"GET", check("bad"), "/api/v1/suppressions/check", nil, 400},
		{"GET", "/api/v1/contacts/00000000-0000-0000-0000-000000000000", "/api/v1/contacts/{id}", nil, 404},
		{"POST", "/api/v1/communications", "/api/v1/communications", map[string]any{"items": []map[string]any{
			{"to": "+14155550123", "channel": "imessage", "direction": "outbound", "delivery_status": "sent"}, {"to": "bad"}}}, 200},
	}
	staffKey := app.apiKey(t, nil)
	created2 := staffKey.post("/api/v1/requests", map[string]any{"type": "access", "regime": "gdpr", "requester": map[string]any{"email": "p@example.org"}})
	requestCalls := []struct {
		method, path, doc string
		body              any
		status            int
	}{
		{"POST", "/api/v1/requests", "/api/v1/requests", map[string]any{"type": "know", "regime": "ccpa", "requester": map[string]any{"email": "q@example.org"}}, 201},
		{"GET", "/api/v1/requests/" + created2.Body["id"].(string), "/api/v1/requests/{id}", nil, 200},
		{"GET", "/api/v1/requests?email=p%40example.org", "/api/v1/requests", nil, 200},
	}
	for _, c := range requestCalls {
		a := staffKey.call(c.method, c.path, c.body)
		if a.Status != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, a.Status, c.status, a.Raw)
			continue
		}
		var v any
		_ = json.Unmarshal([]byte(a.Raw), &v)
		conforms(t, doc, c.method+" "+c.path, responseSchema(doc, c.doc, strings.ToLower(c.method), c.status), v)
	}
	for _, c := range calls {
		a := api.call(c.method, c.path, c.body)
		if a.Status != c.status {
			t.Errorf("%s %s: status %d, want %d: %s", c.method, c.path, a.Status, c.status, a.Raw)
			continue
		}
		var v any
		_ = json.Unmarshal([]byte(a.Raw), &v)
		schema := map[string]any{"$ref": "#/components/schemas/Error"}
		if c.status < 400 {
			schema = responseSchema(doc, c.doc, strings.ToLower(c.method), c.status)
		}
		conforms(t, doc, c.method+" "+c.path, schema, v)
	}
}
