package handlers_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The OpenAPI rules this project holds its document to (issue 10 point 5),
// checked on handlers/api/openapi.json as served. Which routes exist is
// TestOpenAPIDocumentListsExactlyTheAPIRoutes; that answers conform to
// their schemas is TestOpenAPIDocumentDescribesWhatTheAPIAnswers.

// openAPILintDoc reads the document with the parts the lint needs.
func openAPILintDoc(t *testing.T) (openAPIDoc, map[string]any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("api", "openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	var all map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	return doc, all
}

const openAPIErrorRef = "#/components/responses/Error"

// openAPILintOps lists the document's operations as "METHOD path".
func openAPILintOps(doc openAPIDoc) []string {
	var out []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if m != "parameters" {
				out = append(out, strings.ToUpper(m)+" "+p)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestOpenAPIDocumentIsLintClean(t *testing.T) {
	t.Parallel()
	doc, all := openAPILintDoc(t)

	// The one error shape: code (stable, for programs) and request_id.
	errSchema := doc.Components.Schemas["Error"]
	required, _ := errSchema["required"].([]any)
	props, _ := errSchema["properties"].(map[string]any)
	for _, f := range []string{"error", "code", "request_id"} {
		if !slices.Contains(required, any(f)) || props[f] == nil {
			t.Errorf("the Error schema must require %s", f)
		}
	}
	responses, _ := all["components"].(map[string]any)["responses"].(map[string]any)
	errResp, _ := responses["Error"].(map[string]any)
	if ref := openAPILintSchemaRef(errResp); ref != "#/components/schemas/Error" {
		t.Errorf("components/responses/Error has schema %q, want the Error schema", ref)
	}

	opID := regexp.MustCompile(`^[a-z][A-Za-z0-9]+$`)
	ids := map[string]string{}
	for _, name := range openAPILintOps(doc) {
		method, path, _ := strings.Cut(name, " ")
		op := doc.Paths[path][strings.ToLower(method)]
		id, _ := op["operationId"].(string)
		switch {
		case !opID.MatchString(id):
			t.Errorf("%s: operationId %q is missing or not lowerCamelCase", name, id)
		case ids[id] != "":
			t.Errorf("%s: operationId %q is also %s's", name, id, ids[id])
		default:
			ids[id] = name
		}
		if s, _ := op["summary"].(string); strings.TrimSpace(s) == "" {
			t.Errorf("%s: no summary", name)
		}

		// Examples for the request body and every 2xx answer, each
		// conforming to its own schema.
		if body, ok := op["requestBody"].(map[string]any); ok {
			openAPILintExample(t, doc, name+" request body", body)
		}
		resps, _ := op["responses"].(map[string]any)
		var errors []string
		for code, r := range resps {
			resp, _ := r.(map[string]any)
			switch {
			case strings.HasPrefix(code, "2"):
				if _, ok := resp["content"]; ok {
					openAPILintExample(t, doc, name+" "+code, resp)
				}
			case strings.HasPrefix(code, "4") || strings.HasPrefix(code, "5"):
				errors = append(errors, code)
				if resp["$ref"] != openAPIErrorRef {
					t.Errorf("%s: %s answers %v, want a reference to the one error response (%s)", name, code, resp, openAPIErrorRef)
				}
			}
		}

		// The declared error set, per route.
		public := op["security"] != nil && len(op["security"].([]any)) == 0
		if public {
			continue
		}
		want := []string{"400", "401", "403"}
		if strings.Contains(path, "{") {
			want = append(want, "404")
		}
		if method == "POST" {
			want = append(want, "413")
		}
		for _, code := range want {
			if !slices.Contains(errors, code) {
				t.Errorf("%s: error %s is not declared (declared: %v)", name, code, errors)
			}
		}
		if method == "GET" {
			for _, code := range []string{"409", "413", "422"} {
				if slices.Contains(errors, code) {
					t.Errorf("%s: a read declares %s, which only a write can answer", name, code)
				}
			}
		}
	}
}

// openAPILintSchemaRef is the schema reference of a response or body's
// JSON content.
func openAPILintSchemaRef(r map[string]any) string {
	content, _ := r["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	schema, _ := media["schema"].(map[string]any)
	ref, _ := schema["$ref"].(string)
	return ref
}

func openAPILintExample(t *testing.T, doc openAPIDoc, where string, r map[string]any) {
	t.Helper()
	content, _ := r["content"].(map[string]any)
	media, ok := content["application/json"].(map[string]any)
	if !ok {
		t.Errorf("%s: no application/json content", where)
		return
	}
	ex, ok := media["example"]
	if !ok {
		t.Errorf("%s: no example", where)
		return
	}
	schema, _ := media["schema"].(map[string]any)
	for _, p := range schemaProblems(doc, where+" example", schema, ex) {
		t.Error(p)
	}
}

// Every error an API route answers is one it declares, in the one error
// shape: a route without a key, a malformed identifier, an unknown id, a
// conflicting opt-in, a source the key may not claim.
func TestOpenAPIDocumentDeclaresTheErrorsRoutesAnswer(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	doc := loadOpenAPI(t, app)
	api := app.apiKey(t, app.customer("acme"))
	declared := func(path, method string, status int) bool {
		resps, _ := doc.Paths[path][strings.ToLower(method)]["responses"].(map[string]any)
		_, ok := resps[strconv.Itoa(status)]
		return ok
	}
	errSchema := map[string]any{"$ref": "#/components/schemas/Error"}
	// No key: 401 from every route but the document itself.
	for _, name := range openAPILintOps(doc) {
		method, path, _ := strings.Cut(name, " ")
		if path == "/api/v1/openapi.json" {
			continue
		}
		url := strings.ReplaceAll(path, "{id}", "01900000-0000-7000-8000-000000000000")
		req, _ := http.NewRequest(method, app.srv.URL+url, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body any
		_ = json.NewDecoder(res.Body).Decode(&body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || !declared(path, method, res.StatusCode) {
			t.Errorf("%s without a key: %d (declared: %v)", name, res.StatusCode, declared(path, method, res.StatusCode))
		}
		conforms(t, doc, name+" 401", errSchema, body)
	}

	later := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	earlier := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	if a := api.post("/api/v1/opt-outs", map[string]any{"to": "+14155550140", "occurred_at": later}); a.Status != 201 {
		t.Fatalf("opt-out: %d %s", a.Status, a.Raw)
	}
	calls := []struct {
		method, url, path string
		body              any
		status            int
		code              string
	}{
		{"GET", "/api/v1/suppressions/check?to=nonsense", "/api/v1/suppressions/check", nil, 400, "invalid_identifier"},
		{"POST", "/api/v1/suppressions/check", "/api/v1/suppressions/check", map[string]any{"to": []string{}}, 400, "invalid_identifier"},
		{"GET", "/api/v1/contacts/01900000-0000-7000-8000-000000000000", "/api/v1/contacts/{id}", nil, 404, "not_found"},
		{"GET", "/api/v1/consent?to=%2B14155550141", "/api/v1/consent", nil, 404, "not_found"},
		{"POST", "/api/v1/opt-ins", "/api/v1/opt-ins", map[string]any{"to": "+14155550140", "evidence": "form", "occurred_at": earlier}, 409, "conflict"},
		{"POST", "/api/v1/opt-outs", "/api/v1/opt-outs", map[string]any{"to": "+14155550140", "source": "csv_import"}, 422, "rule_violated"},
		{"POST", "/api/v1/contacts", "/api/v1/contacts", map[string]any{"identifiers": []string{"+14155550140"}, "colour": "blue"}, 400, "malformed_request"},
	}
	for _, c := range calls {
		a := api.call(c.method, c.url, c.body)
		if a.Status != c.status || a.Body["code"] != c.code {
			t.Errorf("%s %s: %d %v, want %d %s: %s", c.method, c.url, a.Status, a.Body["code"], c.status, c.code, a.Raw)
			continue
		}
		if !declared(c.path, c.method, a.Status) {
			t.Errorf("%s %s answers %d, which the document does not declare", c.method, c.path, a.Status)
		}
		var v any
		_ = json.Unmarshal([]byte(a.Raw), &v)
		conforms(t, doc, c.method+" "+c.url, errSchema, v)
		if id, _ := a.Body["request_id"].(string); id == "" {
			t.Errorf("%s %s: no request_id", c.method, c.url)
		}
	}
}
