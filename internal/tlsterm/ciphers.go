package tlsterm

import (
	"crypto/tls"
	"errors"
	"strings"
)

// suite is a TLS 1.0-1.2 cipher suite crypto/tls implements, with its
// OpenSSL name and the tags OpenSSL's cipher-string aliases select it by.
type suite struct {
	id   uint16
	name string
	tags string
	bits int
}

// suites are the TLS <= 1.2 suites crypto/tls implements and the
// reference's OpenSSL (3.0, security level 2) accepts: no 3DES, no RC4.
// The tags were checked against `openssl ciphers -s <alias>`.
var suites = []suite{
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384", "kECDHE aECDSA AES AES256 AESGCM TLSv1.2 SUITEB128", 256},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384", "kECDHE aRSA AES AES256 AESGCM TLSv1.2", 256},
	{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-ECDSA-CHACHA20-POLY1305", "kECDHE aECDSA CHACHA20 TLSv1.2", 256},
	{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "ECDHE-RSA-CHACHA20-POLY1305", "kECDHE aRSA CHACHA20 TLSv1.2", 256},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256", "kECDHE aECDSA AES AES128 AESGCM TLSv1.2 SUITEB128", 128},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256", "kECDHE aRSA AES AES128 AESGCM TLSv1.2", 128},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, "ECDHE-ECDSA-AES128-SHA256", "kECDHE aECDSA AES AES128 CBC SHA256 TLSv1.2", 128},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, "ECDHE-RSA-AES128-SHA256", "kECDHE aRSA AES AES128 CBC SHA256 TLSv1.2", 128},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "ECDHE-ECDSA-AES256-SHA", "kECDHE aECDSA AES AES256 CBC SHA1 TLSv1.0", 256},
	{tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "ECDHE-RSA-AES256-SHA", "kECDHE aRSA AES AES256 CBC SHA1 TLSv1.0", 256},
	{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "ECDHE-ECDSA-AES128-SHA", "kECDHE aECDSA AES AES128 CBC SHA1 TLSv1.0", 128},
	{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "ECDHE-RSA-AES128-SHA", "kECDHE aRSA AES AES128 CBC SHA1 TLSv1.0", 128},
	{tls.TLS_RSA_WITH_AES_256_GCM_SHA384, "AES256-GCM-SHA384", "kRSA aRSA AES AES256 AESGCM TLSv1.2", 256},
	{tls.TLS_RSA_WITH_AES_128_GCM_SHA256, "AES128-GCM-SHA256", "kRSA aRSA AES AES128 AESGCM TLSv1.2", 128},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA256, "AES128-SHA256", "kRSA aRSA AES AES128 CBC SHA256 TLSv1.2", 128},
	{tls.TLS_RSA_WITH_AES_256_CBC_SHA, "AES256-SHA", "kRSA aRSA AES AES256 CBC SHA1 SSLv3", 256},
	{tls.TLS_RSA_WITH_AES_128_CBC_SHA, "AES128-SHA", "kRSA aRSA AES AES128 CBC SHA1 SSLv3", 128},
}

// suiteSet is a set of indexes into suites.
type suiteSet uint32

var allSuites = suiteSet(1)<<len(suites) - 1

// aliasTag maps OpenSSL's cipher-string aliases to the tag they select;
// "*" selects every suite, "" none (OpenSSL knows the alias but crypto/tls
// has no such suite).
var aliasTag = map[string]string{
	"ALL": "*", "DEFAULT": "*", "HIGH": "*", "FIPS": "*",
	"kRSA": "kRSA", "RSA": "kRSA", "aRSA": "aRSA",
	"kECDHE": "kECDHE", "kEECDH": "kECDHE", "ECDH": "kECDHE", "ECDHE": "kECDHE", "EECDH": "kECDHE",
	"aECDSA": "aECDSA", "ECDSA": "aECDSA",
	"TLSv1.2": "TLSv1.2", "TLSv1.0": "TLSv1.0", "TLSv1": "TLSv1.0", "SSLv3": "SSLv3",
	"AES": "AES", "AES128": "AES128", "AES256": "AES256", "AESGCM": "AESGCM", "CHACHA20": "CHACHA20",
	"CBC": "CBC", "SHA1": "SHA1", "SHA": "SHA1", "SHA256": "SHA256", "SUITEB128": "SUITEB128",
}

func init() {
	for _, n := range strings.Fields(`MEDIUM LOW EXP EXPORT EXPORT40 EXPORT56 COMPLEMENTOFDEFAULT COMPLEMENTOFALL
		MD5 SHA384 aNULL eNULL NULL kDHE DHE EDH kEDH DH ADH AECDH PSK kPSK RSAPSK kRSAPSK DHEPSK kDHEPSK
		ECDHEPSK kECDHEPSK aPSK SRP kSRP aSRP 3DES DES RC4 RC2 IDEA SEED CAMELLIA CAMELLIA128 CAMELLIA256
		ARIA ARIA128 ARIA256 ARIAGCM AESCCM AESCCM8 aDSS DSS aDH aECDH aGOST aGOST01 kGOST GOST94
		GOST89MAC kDHr kDHd kECDHr kECDHe SUITEB192 SUITEB128ONLY SUITEB128C2`) {
		aliasTag[n] = ""
	}
}

func tagSet(tag string) suiteSet {
	var s suiteSet
	for i := range suites {
		if tag == "*" || strings.Contains(" "+suites[i].tags+" ", " "+tag+" ") {
			s |= 1 << i
		}
	}
	return s
}

// wordSet is what one element of a cipher string selects: a suite name, an
// alias, or aliases joined with '+' (their intersection). known is false
// when OpenSSL would not know the word either.
func wordSet(w string) (set suiteSet, known bool) {
	set, known = allSuites, true
	for _, part := range strings.Split(w, "+") {
		if tag, ok := aliasTag[part]; ok {
			if tag == "" {
				set = 0
			} else {
				set &= tagSet(tag)
			}
			continue
		}
		found := false
		for i := range suites {
			if suites[i].name == part {
				set &= 1 << i
				found = true
			}
		}
		if !found {
			set, known = 0, known && looksLikeOpenSSLCipher(part)
		}
	}
	return set, known
}

// looksLikeOpenSSLCipher tells an OpenSSL cipher name crypto/tls lacks
// (DHE-RSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES256-SHA384 ...) from a word no
// TLS library knows, for the warning's wording only.
func looksLikeOpenSSLCipher(w string) bool {
	for _, k := range []string{"DHE-", "PSK", "SRP-", "CAMELLIA", "ARIA", "CCM", "DES-", "RC4", "NULL", "SEED", "IDEA", "-SHA384", "ECDH-", "ADH-", "AECDH-", "GOST"} {
		if strings.Contains(w, k) {
			return true
		}
	}
	return false
}

// cipherResult is an evaluated cipher string.
type cipherResult struct {
	ids []uint16
	// lacking lists positive words that select no suite crypto/tls has;
	// unknown those no TLS library would know either.
	lacking, unknown []string
}

var errNoCipher = errors.New("no cipher suite left")

// parseCiphers evaluates an OpenSSL cipher string over the suites
// crypto/tls implements. crypto/tls orders the suites it accepts itself,
// so only the resulting set matters: '+' (move to the end) and @STRENGTH
// change nothing; '-' removes, '!' removes for good.
func parseCiphers(s string) (cipherResult, error) {
	var r cipherResult
	var active, killed suiteSet
	for _, w := range strings.FieldsFunc(s, func(c rune) bool { return c == ':' || c == ',' || c == ' ' || c == ';' }) {
		if strings.HasPrefix(w, "@") {
			continue // @STRENGTH, @SECLEVEL=n
		}
		op := byte(0)
		if w[0] == '!' || w[0] == '-' || w[0] == '+' {
			op, w = w[0], w[1:]
		}
		set, known := wordSet(w)
		switch op {
		case 0:
			if set == 0 {
				if known {
					r.lacking = append(r.lacking, w)
				} else {
					r.unknown = append(r.unknown, w)
				}
			}
			active |= set &^ killed
		case '-':
			active &^= set
		case '!':
			active &^= set
			killed |= set
		}
	}
	for i := range suites {
		if active&(1<<i) != 0 {
			r.ids = append(r.ids, suites[i].id)
		}
	}
	if len(r.ids) == 0 {
		return r, errNoCipher
	}
	return r, nil
}

// defaultSuites are OpenSSL's DEFAULT list as the reference runs it
// (`openssl ciphers -s DEFAULT`), limited to what crypto/tls has: every
// suite of the table, RSA key exchange and CBC-SHA256 included, which
// crypto/tls would leave out of its own defaults.
func defaultSuites() []uint16 {
	ids := make([]uint16, len(suites))
	for i := range suites {
		ids[i] = suites[i].id
	}
	return ids
}

// tls13Suites are OpenSSL's TLS 1.3 suite names; crypto/tls implements the
// first three and always enables them all.
var tls13Suites = map[string]bool{
	"TLS_AES_128_GCM_SHA256": true, "TLS_AES_256_GCM_SHA384": true, "TLS_CHACHA20_POLY1305_SHA256": true,
	"TLS_AES_128_CCM_SHA256": false, "TLS_AES_128_CCM_8_SHA256": false,
}

// checkCiphersuites validates a TLS 1.3 ciphersuites string. It reports
// whether it names some valid suite, and whether the valid ones are
// exactly the three crypto/tls uses (then configuring it changes nothing).
func checkCiphersuites(s string) (valid, same bool) {
	seen := map[string]bool{}
	for _, n := range strings.Split(s, ":") {
		if _, ok := tls13Suites[n]; ok {
			seen[n] = true
		}
	}
	if len(seen) == 0 {
		return false, false
	}
	for n, impl := range tls13Suites {
		if impl != seen[n] {
			return true, false
		}
	}
	return true, true
}

// curveIDs are the OpenSSL group names crypto/tls implements.
var curveIDs = map[string]tls.CurveID{
	"x25519": tls.X25519, "p-256": tls.CurveP256, "prime256v1": tls.CurveP256, "secp256r1": tls.CurveP256,
	"p-384": tls.CurveP384, "secp384r1": tls.CurveP384, "p-521": tls.CurveP521, "secp521r1": tls.CurveP521,
}

// otherCurves are groups OpenSSL 3.0 accepts that crypto/tls does not have.
var otherCurves = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`x448 ffdhe2048 ffdhe3072 ffdhe4096 ffdhe6144 ffdhe8192 secp160k1 secp160r1
		secp160r2 secp192k1 secp224k1 secp224r1 secp256k1 prime192v1 p-224 p-192 sect163k1 sect163r1 sect163r2
		sect193r1 sect193r2 sect233k1 sect233r1 sect239k1 sect283k1 sect283r1 sect409k1 sect409r1 sect571k1
		sect571r1 brainpoolp256r1 brainpoolp384r1 brainpoolp512r1 k-163 b-163 k-233 b-233 k-283 b-283 k-409
		b-409 k-571 b-571`) {
		otherCurves[n] = true
	}
}

var errBadCurve = errors.New("unknown curve")

// parseCurves reads a colon-separated curves list. An unknown name fails
// the list as in OpenSSL; names OpenSSL knows but crypto/tls lacks are
// returned in lacking.
func parseCurves(s string) (ids []tls.CurveID, lacking []string, err error) {
	for _, n := range strings.Split(s, ":") {
		l := strings.ToLower(n)
		if id, ok := curveIDs[l]; ok {
			ids = append(ids, id)
			continue
		}
		if otherCurves[l] {
			lacking = append(lacking, n)
			continue
		}
		return nil, nil, errBadCurve
	}
	return ids, lacking, nil
}

// CipherName returns OpenSSL's name for a negotiated cipher suite, as
// HAProxy's ssl_fc_cipher reports it ("ECDHE-RSA-AES128-GCM-SHA256",
// "TLS_AES_128_GCM_SHA256"); "" when unknown.
func CipherName(id uint16) string {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return "TLS_AES_128_GCM_SHA256"
	case tls.TLS_AES_256_GCM_SHA384:
		return "TLS_AES_256_GCM_SHA384"
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return "TLS_CHACHA20_POLY1305_SHA256"
	}
	for i := range suites {
		if suites[i].id == id {
			return suites[i].name
		}
	}
	return ""
}

// CipherBits returns the symmetric key size of a cipher suite, as
// ssl_fc_use_keysize reports it; 0 when unknown.
func CipherBits(id uint16) int {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return 128
	case tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256:
		return 256
	}
	for i := range suites {
		if suites[i].id == id {
			return suites[i].bits
		}
	}
	return 0
}

// VersionName returns OpenSSL's name for a protocol version, as HAProxy's
// ssl_fc_protocol reports it: "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1".
func VersionName(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	case tls.VersionTLS11:
		return "TLSv1.1"
	case tls.VersionTLS10:
		return "TLSv1"
	case tls.VersionSSL30:
		return "SSLv3"
	}
	return ""
}
