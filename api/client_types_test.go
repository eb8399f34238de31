package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/payoutflow/payoutflow/client"
	"github.com/payoutflow/payoutflow/payout"
	"github.com/payoutflow/payoutflow/providers"
	"github.com/payoutflow/payoutflow/workflows"
)

// The Go client (its own module, standard library only) mirrors the API's JSON in types of its own. These tests
// fill every field of one side, read the JSON strictly into the other and write it back: a field one side lacks,
// or of another type, fails here instead of in a backend.
func TestClientTypesMirrorTheAPIsJSON(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to any
	}{
		{"create request: client → API", &client.CreateRequest{}, &payout.Request{}},
		{"create request: API → client", &payout.Request{}, &client.CreateRequest{}},
		{"payout", &payout.State{}, &client.Payout{}},
		{"event", &payout.Event{}, &client.Event{}},
		{"event list", &EventList{}, &client.EventPage{}},
		{"list summary", &Summary{}, &client.Summary{}},
		{"SBP bank", &providers.Bank{}, &client.Bank{}},
		{"resolution: client → API", &client.Resolution{}, &workflows.Resolution{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fill(reflect.ValueOf(tc.from).Elem())
			want, err := json.Marshal(tc.from)
			require.NoError(t, err)
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			require.NoError(t, dec.Decode(tc.to), "every field of %T is a field of %T", tc.from, tc.to)
			got, err := json.Marshal(tc.to)
			require.NoError(t, err)
			if _, ok := tc.to.(*workflows.Resolution); ok {
				return // it has fields (by, proof) the API sets, never the client
			}
			require.JSONEq(t, string(want), string(got), "%T keeps every field of %T", tc.to, tc.from)
		})
	}
}

// The client's types have the fields the contract (api/openapi.yaml) gives the schema they stand for: no more, no
// fewer, but for the fields the client leaves to the API on purpose.
func TestClientTypesHaveTheContractsFields(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]any `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	require.NoError(t, yaml.Unmarshal(OpenAPIYAML(), &doc))
	for schema, tc := range map[string]struct {
		typ any
		// omitted are the schema's fields the client never sends.
		omitted []string
	}{
		"PayoutRequest":     {typ: client.CreateRequest{}},
		"Amount":            {typ: client.Amount{}},
		"Destination":       {typ: client.Destination{}},
		"Card":              {typ: client.Card{}},
		"SBP":               {typ: client.SBP{}},
		"Recipient":         {typ: client.Recipient{}},
		"Sender":            {typ: client.Sender{}},
		"Address":           {typ: client.Address{}},
		"Transfer":          {typ: client.Transfer{}},
		"TransferSender":    {typ: client.TransferSender{}},
		"TransferRecipient": {typ: client.TransferRecipient{}},
		"SenderCard":        {typ: client.SenderCard{}},
		"Payout":            {typ: client.Payout{}},
		"MaskedDestination": {typ: client.MaskedDestination{}},
		"Approval":          {typ: client.Approval{}},
		"Failure":           {typ: client.Failure{}},
		"TimelineEntry":     {typ: client.Entry{}},
		"PayoutList":        {typ: client.Page{}},
		"PayoutSummary":     {typ: client.Summary{}},
		"DecisionAccepted":  {typ: client.Decision{}},
		// Who resolves is the API key's name: the client never claims it.
		"Resolution": {typ: client.Resolution{}, omitted: []string{"by"}},
		"Bank":       {typ: client.Bank{}},
		"Event":      {typ: client.Event{}},
		"EventList":  {typ: client.EventPage{}},
	} {
		s, ok := doc.Components.Schemas[schema]
		require.True(t, ok, "the contract has schema %s", schema)
		var want []string
		for name := range s.Properties {
			if !slices.Contains(tc.omitted, name) {
				want = append(want, name)
			}
		}
		require.ElementsMatch(t, want, jsonFields(reflect.TypeOf(tc.typ)), "client.%T and the contract's %s",
			tc.typ, schema)
	}
}

// jsonFields are the JSON names of a struct's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// fill sets every field of v, recursively, to a value that is not zero.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type() == reflect.TypeOf(&time.Time{}) {
			now := time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)
			v.Set(reflect.ValueOf(&now))
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Date(2026, 12, 6, 22, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(7)
	}
}
