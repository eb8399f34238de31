package mandarin

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestXAuthMatchesTheKnownVector(t *testing.T) {
	got := XAuth("1234", "1700000000000", "s3cr3t")
	require.Equal(t, "1234-b0a1b915c28da7f3c0ba26991cb3db35cf507ae68cc955080be6e67a320c393e-1700000000000", got)

	id, ok := CheckXAuth(got, "1234", "s3cr3t")
	require.True(t, ok)
	require.Equal(t, "1700000000000", id)
}

func TestCheckXAuthRefusesForgeries(t *testing.T) {
	good := XAuth("1234", "req-1_2.3", "s3cr3t")
	id, ok := CheckXAuth(good, "1234", "s3cr3t")
	require.True(t, ok, "a request id may hold '-', '_' and '.'")
	require.Equal(t, "req-1_2.3", id)
	for name, header := range map[string]string{
		"other secret":   XAuth("1234", "r1", "other"),
		"other merchant": XAuth("999", "r1", "s3cr3t"),
		"no request id":  "1234-" + good[5:5+64] + "-",
		"empty":          "",
		"short hash":     "1234-abc-r1",
	} {
		t.Run(name, func(t *testing.T) {
			_, ok := CheckXAuth(header, "1234", "s3cr3t")
			require.False(t, ok)
		})
	}
}

func TestFormatPriceConvertsMinorUnitsExactly(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		want  string
	}{
		{10000, "100.00"}, {5, "0.05"}, {123456789, "1234567.89"}, {0, "0.00"}, {1, "0.01"}, {99, "0.99"},
		{100, "1.00"}, {-150, "-1.50"}, {9007199254740993, "90071992547409.93"},
	} {
		require.Equal(t, tc.want, FormatPrice(tc.minor), "%d", tc.minor)
		back, err := ParsePrice(tc.want)
		require.NoError(t, err)
		require.Equal(t, tc.minor, back)
	}
	require.Equal(t, "-92233720368547758.08", FormatPrice(-9223372036854775808), "no overflow")
}

func TestParsePriceRefusesWhatIsNotExact(t *testing.T) {
	for in, want := range map[string]int64{"12.3": 1230, "12": 1200, "0.05": 5} {
		got, err := ParsePrice(in)
		require.NoError(t, err)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "1.234", "1e3", "abc", "1.", ".5", "1,00", "--1", "99999999999999999999"} {
		_, err := ParsePrice(in)
		require.Error(t, err, in)
	}
}

func TestSignMatchesTheKnownVector(t *testing.T) {
	f := url.Values{"transaction": {"05991602ed7c47d996ca7ab119b07f66"}, "status": {"success"},
		"action": {"payout"}, "merchantId": {"1234"}, "price": {"12.34"}, "orderId": {"1234OR"},
		"object_type": {"transaction"}}
	require.Equal(t, "35c7d204bd6c9c076758a175824f1623c70ae2f1ef3f2a8b7f5b30fb28ba75e7", Sign(f, "s3cr3t"))
	f.Set("sign", "ignored by Sign")
	require.Equal(t, "35c7d204bd6c9c076758a175824f1623c70ae2f1ef3f2a8b7f5b30fb28ba75e7", Sign(f, "s3cr3t"))
}
