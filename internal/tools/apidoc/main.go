// Command apidoc renders the API's OpenAPI contract (api/openapi.yaml) as a Markdown reference, docs/api.md:
//
//	go run ./internal/tools/apidoc -o docs/api.md
//
// api/openapi.go runs it by go:generate; a test fails when docs/api.md is not what it renders.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/payoutflow/payoutflow/api"
)

func main() {
	out := flag.String("o", "docs/api.md", "the Markdown file to write")
	flag.Parse()
	b, err := render(api.OpenAPIYAML())
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		log.Fatal(err)
	}
}

// render is the Markdown reference of an OpenAPI document.
func render(contract []byte) ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromData(contract)
	if err != nil {
		return nil, fmt.Errorf("load the contract: %w", err)
	}
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("<!-- Generated from api/openapi.yaml by internal/tools/apidoc (go generate ./api/); do not edit. -->\n\n")
	p("# %s API reference (version %s)\n\n", doc.Info.Title, doc.Info.Version)
	p("%s\n\n", strings.TrimSpace(doc.Info.Description))
	p("The contract itself: [api/openapi.yaml](../api/openapi.yaml), served as JSON at `GET /v1/openapi.json`.\n\n")

	for _, tag := range doc.Tags {
		p("## %s\n\n%s\n\n", tag.Name, tag.Description)
		for _, op := range operations(doc, tag.Name) {
			renderOperation(&b, doc, op)
		}
	}

	p("## Schemas\n\n")
	for _, name := range sortedKeys(doc.Components.Schemas) {
		s := doc.Components.Schemas[name].Value
		p("### %s\n\n", name)
		if d := strings.TrimSpace(s.Description); d != "" {
			p("%s\n\n", d)
		}
		if len(s.Properties) == 0 {
			p("%s\n\n", typeOf(doc.Components.Schemas[name], true))
			continue
		}
		p("| field | type | |\n|---|---|---|\n")
		for _, f := range sortedKeys(s.Properties) {
			ref := s.Properties[f]
			req := ""
			if slices.Contains(s.Required, f) {
				req = "**required** "
			}
			p("| `%s` | %s | %s%s |\n", f, typeOf(ref, false), req, oneLine(ref.Value.Description))
		}
		p("\n")
	}
	return b.Bytes(), nil
}

type operation struct {
	method, path string
	op           *openapi3.Operation
	webhook      bool // a call payoutflow makes to the backend (the document's webhooks), path its name
}

// operations are the operations of a tag, by path, GET before POST, then the webhooks payoutflow calls.
func operations(doc *openapi3.T, tag string) []operation {
	var out []operation
	add := func(items map[string]*openapi3.PathItem, webhook bool) {
		for _, path := range sortedKeys(items) {
			for _, method := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
				if op := items[path].GetOperation(method); op != nil && slices.Contains(op.Tags, tag) {
					out = append(out, operation{method, path, op, webhook})
				}
			}
		}
	}
	add(doc.Paths.Map(), false)
	add(doc.Webhooks, true)
	return out
}

func renderOperation(b *bytes.Buffer, doc *openapi3.T, o operation) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if o.webhook {
		p("### Webhook `%s` (`%s` to your endpoint): %s\n\n", o.path, o.method, o.op.Summary)
	} else {
		p("### `%s %s`: %s\n\n", o.method, o.path, o.op.Summary)
	}
	if _, planned := o.op.Extensions["x-planned"]; planned {
		p("*Planned (%v): may not be served yet.*\n\n", o.op.Extensions["x-planned"])
	}
	if d := strings.TrimSpace(o.op.Description); d != "" {
		p("%s\n\n", d)
	}
	sec := doc.Security
	if o.op.Security != nil {
		sec = *o.op.Security
	}
	if len(sec) == 0 {
		p("No API key.\n\n")
	}
	if len(o.op.Parameters) > 0 {
		p("| parameter | in | type | |\n|---|---|---|---|\n")
		for _, ref := range o.op.Parameters {
			prm := ref.Value
			req := ""
			if prm.Required {
				req = "**required** "
			}
			p("| `%s` | %s | %s | %s%s |\n", prm.Name, prm.In, typeOf(prm.Schema, false), req, oneLine(prm.Description))
		}
		p("\n")
	}
	if rb := o.op.RequestBody; rb != nil {
		req := "optional"
		if rb.Value.Required {
			req = "required"
		}
		var types []string
		for _, ct := range sortedKeys(rb.Value.Content) {
			types = append(types, fmt.Sprintf("`%s` %s", ct, typeOf(rb.Value.Content[ct].Schema, false)))
		}
		p("Body (%s): %s.\n\n", req, strings.Join(types, "; "))
	}
	p("| answer | body | |\n|---|---|---|\n")
	for _, status := range sortedKeys(o.op.Responses.Map()) {
		r := o.op.Responses.Value(status).Value
		var types []string
		for _, ct := range sortedKeys(r.Content) {
			types = append(types, typeOf(r.Content[ct].Schema, false))
		}
		desc := ""
		if r.Description != nil {
			desc = oneLine(*r.Description)
		}
		p("| %s | %s | %s |\n", status, strings.Join(types, ", "), desc)
	}
	p("\n")
}

// typeOf reads a schema briefly: a link to a named schema, else its type and constraints.
func typeOf(ref *openapi3.SchemaRef, top bool) string {
	if ref == nil {
		return ""
	}
	if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok && !top {
		return fmt.Sprintf("[%s](#%s)", name, strings.ToLower(name))
	}
	s := ref.Value
	if s == nil {
		return ""
	}
	t := strings.Join(s.Type.Slice(), " or ")
	switch {
	case s.Type.Is("array") && s.Items != nil:
		t = "array of " + typeOf(s.Items, false)
	case s.Type.Is("object") && s.AdditionalProperties.Schema != nil:
		t = "object of " + typeOf(s.AdditionalProperties.Schema, false)
	case t == "":
		t = "any"
	}
	var rules []string
	if len(s.Enum) > 0 {
		var vs []string
		for _, v := range s.Enum {
			vs = append(vs, fmt.Sprintf("`%v`", v))
		}
		rules = append(rules, "one of "+strings.Join(vs, ", "))
	}
	if s.Const != nil {
		rules = append(rules, fmt.Sprintf("`%v`", s.Const))
	}
	if s.Pattern != "" {
		rules = append(rules, "`"+strings.ReplaceAll(s.Pattern, "|", `\|`)+"`")
	}
	if s.Format != "" {
		rules = append(rules, s.Format)
	}
	if s.Min != nil || s.Max != nil {
		rules = append(rules, bounds(s.Min, s.Max))
	}
	if s.MaxLength != nil {
		rules = append(rules, fmt.Sprintf("at most %d characters", *s.MaxLength))
	}
	if len(rules) > 0 {
		t += ", " + strings.Join(rules, ", ")
	}
	return t
}

func bounds(lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return fmt.Sprintf("%g to %g", *lo, *hi)
	case lo != nil:
		return fmt.Sprintf("at least %g", *lo)
	}
	return fmt.Sprintf("at most %g", *hi)
}

// oneLine is a description fit for a table cell.
func oneLine(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
