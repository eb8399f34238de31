package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
