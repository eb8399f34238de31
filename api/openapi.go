package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

//go:generate go run ../internal/tools/apidoc -o ../docs/api.md

// contractYAML is the API's OpenAPI 3.1 contract, as kept in the repository; docs/api.md is rendered from it.
//
//go:embed openapi.yaml
var contractYAML []byte

// contractJSON is the contract as JSON, in the order of the YAML: what GET /v1/openapi.json serves.
var contractJSON = mustJSON(contractYAML)

// OpenAPIYAML returns the API's OpenAPI 3.1 contract as kept in the repository (api/openapi.yaml).
func OpenAPIYAML() []byte { return bytes.Clone(contractYAML) }

// OpenAPIJSON returns the API's OpenAPI 3.1 contract as JSON, as GET /v1/openapi.json serves it.
func OpenAPIJSON() []byte { return bytes.Clone(contractJSON) }

// serveContract answers GET /v1/openapi.json: the contract, to anyone (it holds no secret).
func serveContract(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, contractJSON)
}

func mustJSON(y []byte) []byte {
	var doc yaml.Node
	if err := yaml.Unmarshal(y, &doc); err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	var b bytes.Buffer
	if err := writeJSON(&b, &doc); err != nil {
		panic(fmt.Sprintf("api/openapi.yaml: %v", err))
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b.Bytes(), "", "  "); err != nil {
		panic(fmt.Sprintf("api/openapi.yaml as JSON: %v", err))
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// writeJSON writes a YAML node as JSON, keeping the order of mappings (encoding/json would sort them).
func writeJSON(b *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: want one document", n.Line)
		}
		return writeJSON(b, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(b, n.Alias)
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeScalar(b, n.Content[i].Value); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, n.Content[i+1]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, c); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case yaml.ScalarNode:
		var v any
		switch n.Tag {
		case "!!str", "!!binary":
			v = n.Value
		case "!!int":
			i, err := strconv.ParseInt(n.Value, 0, 64)
			if err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
			v = i
		default: // !!bool, !!float, !!null
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("line %d: %w", n.Line, err)
			}
		}
		if err := writeScalar(b, v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		return fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
	}
	return nil
}

// writeScalar writes v as JSON without escaping <, > and &, which the contract's prose uses.
func writeScalar(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}
