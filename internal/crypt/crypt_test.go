package crypt

import (
	"errors"
	"strings"
	"testing"
)

// vectors were produced by glibc's crypt(3) (libcrypt1 4.4.33, Debian 12),
// the library HAProxy calls.
var vectors = []struct{ pw, setting, hash string }{
	{"pw", "$6$rounds=5000$abc", "$6$rounds=5000$abc$MtSdWSZbhct2oe.SOqOUM2M/GA/uj5.vyVtJgRHgKi9uqXuWuJqOYE7H/YlsYGVg/YYzDV0xt3fEIwYt580.5."},
	{"pw", "$6$rounds=01000$abc", "*0"},
	{"pw", "$6$rounds=1000000000$abc", "*0"},
	{"pw", "$6$rounds=abc$x", "*0"},
	{"pw", "$6$rounds=1000", "*0"},
	{"pw", "$6$", "$6$$Z7WSO9A8tKGD2oGB9t2ViKdYTIHgnjMZIbdOJElGnO.QoZE5zDsfnF1WHM.IL2KPxhNG4/v/zU9LBcGhxg5Uy."},
	{"pw", "$6$ab:c", "*0"},
	{"pw", "$1$ab:c$", "*0"},
	{"pw", "$6$a\nb", "*0"},
	{"pw", "$1$", "$1$$F0Fc2lbYpzr3KKdKkM0Wj."},
	{"", "$6$saltsalt", "$6$saltsalt$qkTgsCrWMTAS9gBGcf9W60sFfH.hU0oTCAOJjhbz5tSp/sU3/xXZK4OFwCtq8lIIdpJ6CatVdOTSHKp97TPkt/"},
	{"", "$5$saltsalt", "$5$saltsalt$09agN5RZ2meWdEdnEusqsq5G7RwwghB8jCKoWWADxW/"},
	{"", "$1$saltsalt", "$1$saltsalt$5Jhcit4zN9UlGiA0txPkO0"},
	{"", "$6$rounds=1200$abc", "$6$rounds=1200$abc$7v12wPUC6fw5ZdCeWW3JgxlAV/jIg2r6jDH1dGWk2YuUGN4HIweYeLyrL28uk2vBjHxbGPbOGT9XlL32RzEbr."},
	{"", "$5$rounds=10$shortrounds", "*0"},
	{"", "$6$0123456789abcdefXYZ", "$6$0123456789abcdef$F2ysjt5Ng5qVz2/gDtbz.ycdictosXpZ7Xsgu8PlbAws/.ekNFWz9XrSKXBI0tVYfdxX.nsVfGs7qe4jMrOWH0"},
	{"", "$1$0123456789", "$1$01234567$CdxQNvBQ5qb.ou7ghugSA."},
	{"secret", "$6$saltsalt", "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"},
	{"secret", "$5$saltsalt", "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA"},
	{"secret", "$1$saltsalt", "$1$saltsalt$9xy1btjgzLYfb7hivXtC//"},
	{"secret", "$6$rounds=1200$abc", "$6$rounds=1200$abc$E4pU6CamqKlsS6x6SRcqV6/ekxjJHVkoK5bBOEqjFhRGJqy1SDRx94ClLwMTwfH/TGciYPxfOp2PPzVWJ9.Jv1"},
	{"secret", "$5$rounds=10$shortrounds", "*0"},
	{"secret", "$6$0123456789abcdefXYZ", "$6$0123456789abcdef$8CGkKDSyVpVlVNcs5PssRw/Tb8EgfecuA6D/zsRQFumJaU.s8KgTWWc2HfgkB7h2n1qIKiJFeSyUFrwvhILXy."},
	{"secret", "$1$0123456789", "$1$01234567$Ny7c34eheM1R0I3inzIJP."},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$6$saltsalt", "$6$saltsalt$5V6Phj3gZ8UvpCgziPIplxjenBzhC0EVCkTpjo4xE83r6/ymi41ClmoTnMIHlmU4mxZg31n3vSkmL05tDvpiG1"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$5$saltsalt", "$5$saltsalt$MqJwEC/VMkopcYuMYZmfkGhXMSX.XgcvX28p0m023G0"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$1$saltsalt", "$1$saltsalt$MXt1vO5UTCaPdasq6/ipZ/"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$6$rounds=1200$abc", "$6$rounds=1200$abc$ys46tHJZNDBMUde/y8TaR4FECCU3LTWK5UJoa73hoQml7qylVBQxiVNgN5pN5PqwIRwqu/jcXaikRYSicsn5p."},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$5$rounds=10$shortrounds", "*0"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$6$0123456789abcdefXYZ", "$6$0123456789abcdef$mRwqRcLLEM6/z//hG0oNLJQMdAT0NQKrIPWDpF2IYUcosPuPd.lt9oaIpHqqaJVnsmFXDRzDkj1v1QXfYBEI31"},
	{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "$1$0123456789", "$1$01234567$WTQyQpNcX8LZOitaL7kKY1"},
	{"pässwörd", "$6$saltsalt", "$6$saltsalt$TQjRhpJdqmLx0U8it3EsUajwkmOMMvw5vhUFc7mohzFFoj/QHrfYUHU1oSkwyCEoTUCDOiAOW135nel3bqtKe."},
	{"pässwörd", "$5$saltsalt", "$5$saltsalt$JUyX9J5pA1EE4ZvGcIA.vpwPCUQ8GlJbo51r7M84au8"},
	{"pässwörd", "$1$saltsalt", "$1$saltsalt$VReRfkQ8Hs1aayf/oxMkG/"},
	{"pässwörd", "$6$rounds=1200$abc", "$6$rounds=1200$abc$qK1mUMxyS5UoFWRgfppHCuTxXERT1qZ0AK67xKn4gd37B.T7iislSwzanYrvH7b9mJ/mNjAm.3tsrb73Kd1to/"},
	{"pässwörd", "$5$rounds=10$shortrounds", "*0"},
	{"pässwörd", "$6$0123456789abcdefXYZ", "$6$0123456789abcdef$SbYrq9vmP3mhdocMu6pAC/f.xWxY2daFD3BB.LQwWeU2vm9Kk529r2RRD35SLt1PrlKfEVlyiymFPnfNDWfx6."},
	{"pässwörd", "$1$0123456789", "$1$01234567$r0lFjncomArd8gDZZjNXI/"},
}

func TestCryptMatchesGlibc(t *testing.T) {
	for _, v := range vectors {
		got, err := Crypt(v.pw, v.setting)
		if v.hash == "*0" {
			// glibc's failure token: a setting it refuses.
			if !errors.Is(err, ErrSetting) {
				t.Errorf("Crypt(%q, %q) = %q, %v; want ErrSetting", v.pw, v.setting, got, err)
			}
			continue
		}
		if err != nil || got != v.hash {
			t.Errorf("Crypt(%q, %q) = %q, %v; want %q", v.pw, v.setting, got, err, v.hash)
		}
		if !Verify(v.pw, v.hash) {
			t.Errorf("Verify(%q, %q) = false", v.pw, v.hash)
		}
		if Verify(v.pw+"x", v.hash) {
			t.Errorf("Verify accepts a wrong password for %q", v.hash)
		}
	}
}

func TestCheckRefusesOtherSchemes(t *testing.T) {
	for hash, scheme := range map[string]string{
		"$y$j9T$abc$def":     "'$y$'",
		"$2y$05$abcdefghijk": "'$2y$'",
		"abJnggxhB/yWI":      "'DES'",
		"$7$":                "'$7$'",
		"$":                  "'$'",
	} {
		err := Check(hash)
		if !errors.Is(err, ErrUnsupported) || !strings.HasSuffix(err.Error(), scheme) {
			t.Errorf("Check(%q) = %v, want unsupported %s", hash, err, scheme)
		}
		if Verify("x", hash) {
			t.Errorf("Verify(%q) accepted", hash)
		}
	}
}

// FuzzCrypt checks that any setting and password are handled without a
// panic, and that a hash Crypt makes verifies.
func FuzzCrypt(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.pw, v.setting)
	}
	f.Add("pw", "$6$rounds=$x")
	f.Add("pw", "$5$rounds=99999999999999999999$x")
	f.Add("pw", "$6$ab:c")
	f.Fuzz(func(t *testing.T, pw, setting string) {
		if _, rounds, _, ok := roundsOf(strings.TrimPrefix(strings.TrimPrefix(setting, "$5$"), "$6$")); ok && rounds > 10000 {
			return // valid, but too slow for a fuzzer
		}
		h, err := Crypt(pw, setting)
		if err != nil {
			return
		}
		if !Verify(pw, h) {
			t.Errorf("Crypt(%q, %q) = %q does not verify", pw, setting, h)
		}
	})
}
