package engine

import "testing"

// A date written by appendS30 reads back with b64toS30, for every 30-bit
// value's edges and for today.
func TestCookieDateRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 63, 64, 1<<30 - 1, 1763900000 >> 2} {
		b := appendS30(nil, v)
		if len(b) != 5 || b64toS30(b) != v {
			t.Errorf("%d: written %q, read back %d", v, b, b64toS30(b))
		}
	}
}

// FuzzCookieDates: any bytes after a cookie's server id decode without
// panicking, to dates that are multiples of 4 seconds and non-negative.
func FuzzCookieDates(f *testing.F) {
	for _, s := range []string{"awSKl|awSKT", "awSKl", "!!!!!|awSKT", "|", "abcd|", "awSKl|awSK", "awSKlawSKT|x"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		last, first := cookieDates(b)
		if last < 0 || first < 0 || last%4 != 0 || first%4 != 0 {
			t.Fatalf("%q: dates %d %d", b, last, first)
		}
	})
}
