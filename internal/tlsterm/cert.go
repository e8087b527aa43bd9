package tlsterm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Cert is one certificate loaded from a crt file, with the names SNI
// selects it by.
type Cert struct {
	// Path is the file it came from, as the configuration spelled it.
	Path string
	TLS  tls.Certificate
	// Names are the lowercased DNS names of the subjectAltName followed by
	// the subject's CNs, as HAProxy indexes them ("*.x" for wildcards).
	Names []string
}

// ErrNotSupported marks refusals of HAProxy features Sluice does not
// implement yet (OCSP stapling files, SCT lists).
var ErrNotSupported = errors.New("not supported yet by Sluice")

// reservedExt are the extensions HAProxy skips in a crt directory: they
// hold the companions of a certificate, not certificates.
var reservedExt = []string{".key", ".ocsp", ".issuer", ".sctl"}

// LoadCrt loads what a crt word names: one PEM file or every certificate
// file of a directory. Errors carry HAProxy's wording.
func LoadCrt(path string) ([]*Cert, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("unable to stat SSL certificate from file '%s' : %s.", path, errnoText(err))
	}
	if !st.IsDir() {
		c, err := LoadCertFile(path)
		if err != nil {
			return nil, err
		}
		return []*Cert{c}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("unable to scan directory '%s' : %s.", path, errnoText(err))
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, ".") || hasReservedExt(n) {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names) // scandir(alphasort) in the C locale: byte order
	var out []*Cert
	for _, n := range names {
		fp := filepath.Join(path, n)
		if fst, err := os.Stat(fp); err != nil || !fst.Mode().IsRegular() {
			continue // HAProxy ignores what is not a regular file
		}
		c, err := LoadCertFile(fp)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func hasReservedExt(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	for _, e := range reservedExt {
		if name[i:] == e {
			return true
		}
	}
	return false
}

// LoadCertFile loads one PEM file as HAProxy's ssl_sock_load_files_into_ckch:
// the first certificate is the leaf and the certificates after it the
// chain; the first private key of the file is the key, else the one in
// path+".key".
func LoadCertFile(path string) (*Cert, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("unable to load certificate from file '%s'.", path)
	}
	var chain [][]byte
	var keyDER []byte
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch {
		case b.Type == "CERTIFICATE" || b.Type == "TRUSTED CERTIFICATE" || b.Type == "X509 CERTIFICATE":
			chain = append(chain, b.Bytes)
		case strings.HasSuffix(b.Type, "PRIVATE KEY") && keyDER == nil:
			keyDER = b.Bytes
		}
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("unable to load certificate from file '%s'.", path)
	}
	leaf, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return nil, fmt.Errorf("unable to load certificate from file '%s'.", path)
	}
	for _, der := range chain[1:] {
		if _, err := x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("unable to load certificate chain from file '%s'.", path)
		}
	}
	var key crypto.PrivateKey
	if keyDER != nil {
		key, _ = parseKey(keyDER) // unreadable: looked for in FILE.key, as HAProxy
	}
	if key == nil {
		if key, err = loadKeyFile(path + ".key"); err != nil {
			return nil, err
		}
	}
	if !keyMatches(leaf, key) {
		return nil, fmt.Errorf("inconsistencies between private key and certificate loaded '%s'.", path)
	}
	for _, ext := range []string{".ocsp", ".sctl"} {
		if _, err := os.Stat(path + ext); err == nil {
			what := map[string]string{".ocsp": "OCSP stapling", ".sctl": "Certificate Transparency (SCT list)"}[ext]
			return nil, fmt.Errorf("'%s%s' is present and activates %s, which is %w", path, ext, what, ErrNotSupported)
		}
	}
	c := &Cert{Path: path, TLS: tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}}
	c.Names = certNames(leaf)
	return c, nil
}

// loadKeyFile reads the key HAProxy looks for beside a PEM without one.
func loadKeyFile(fp string) (crypto.PrivateKey, error) {
	data, err := os.ReadFile(fp)
	if err != nil {
		if _, serr := os.Stat(fp); serr != nil {
			return nil, fmt.Errorf("No Private Key found in '%s'.", fp)
		}
		return nil, fmt.Errorf("\n  unable to load private key from file '%s'.\n   '%s' is present but cannot be read or parsed'.", fp, fp)
	}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if strings.HasSuffix(b.Type, "PRIVATE KEY") {
			if k, err := parseKey(b.Bytes); err == nil {
				return k, nil
			}
			break
		}
	}
	return nil, fmt.Errorf("\n  unable to load private key from file '%s'.\n   '%s' is present but cannot be read or parsed'.", fp, fp)
}

func parseKey(der []byte) (crypto.PrivateKey, error) {
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("unknown private key format")
}

type publicKeyEqualer interface {
	Equal(crypto.PublicKey) bool
}

// keyMatches is X509_check_private_key: the key's public half is the
// certificate's.
func keyMatches(leaf *x509.Certificate, key crypto.PrivateKey) bool {
	var pub crypto.PublicKey
	switch k := key.(type) {
	case *rsa.PrivateKey:
		pub = &k.PublicKey
	case *ecdsa.PrivateKey:
		pub = &k.PublicKey
	case ed25519.PrivateKey:
		pub = k.Public()
	default:
		return false
	}
	eq, ok := pub.(publicKeyEqualer)
	return ok && eq.Equal(leaf.PublicKey)
}

// certNames lists the names HAProxy's ckch_inst_new_load_store indexes: the
// DNS names of the subjectAltName, then every CN, lowercased.
func certNames(leaf *x509.Certificate) []string {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		n = strings.ToLower(n)
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, n := range leaf.DNSNames {
		add(n)
	}
	for _, atv := range leaf.Subject.Names {
		if atv.Type.Equal([]int{2, 5, 4, 3}) { // id-at-commonName
			if s, ok := atv.Value.(string); ok {
				add(s)
			}
		}
	}
	return names
}

// LoadCAFile loads the CA certificates of a ca-file: one PEM file, or the
// .pem, .crt and .cer files of a directory.
func LoadCAFile(path string) (*x509.CertPool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("'ca-file' : unable to load %s (%s)", path, errnoText(err))
	}
	files := []string{path}
	if st.IsDir() {
		files = files[:0]
		ents, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("'ca-file' : unable to load %s (%s)", path, errnoText(err))
		}
		for _, e := range ents {
			n := e.Name()
			ext := filepath.Ext(n)
			if !strings.HasPrefix(n, ".") && (ext == ".pem" || ext == ".crt" || ext == ".cer") {
				files = append(files, filepath.Join(path, n))
			}
		}
	}
	pool := x509.NewCertPool()
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("'ca-file' : unable to load %s (%s)", f, errnoText(err))
		}
		for rest := data; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" && b.Type != "TRUSTED CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("'ca-file' : unable to load %s", f)
			}
			pool.AddCert(c)
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("'ca-file' : unable to load %s", path)
	}
	return pool, nil
}

// errnoText gives the C library's wording for common file errors, as
// HAProxy prints strerror(errno).
func errnoText(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, os.ErrPermission):
		return "Permission denied"
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		s := pe.Err.Error()
		return strings.ToUpper(s[:1]) + s[1:]
	}
	return err.Error()
}
