// Package tlsterm builds the crypto/tls server configuration of a `bind ...
// ssl crt ...` line the way HAProxy 2.6 reads it. It opens no sockets: the
// configuration loader calls LoadCrt and LoadCAFile while it parses a bind
// line (so a bad certificate is an alert naming that line, as in HAProxy)
// and Build once the whole file is read; the engine calls Handshake on each
// accepted connection.
//
// What follows HAProxy 2.6 exactly:
//   - crt FILE: the first certificate in the file is the leaf, the ones after
//     it the chain; the first private key in the file is the key, else FILE.key.
//     Error texts are HAProxy's ("unable to stat SSL certificate from file
//     ...", "unable to load certificate from file ...", "No Private Key found
//     in '....key'.", "inconsistencies between private key and certificate
//     loaded ...").
//   - crt DIR: every regular file not starting with '.' and not ending in
//     .key, .ocsp, .issuer or .sctl, in byte order.
//   - Certificate selection (ssl_sock_switchctx_cbk): the SNI, lowercased, is
//     looked up among the DNS names of the subjectAltName and the CNs of every
//     certificate; only when no exact name matches, among wildcards, where
//     "*.example.com" matches exactly one more label. Among certificates for
//     the same name, the first loaded wins, except that an ECDSA certificate is
//     preferred when the client supports it, then RSA. No SNI, or an SNI that
//     matches nothing, gets the first certificate loaded, unless strict-sni
//     is set, in which case the handshake is refused.
//   - Versions: ssl-min-ver defaults to TLSv1.2; no-tlsv1x are ignored with a
//     warning when ssl-min-ver or ssl-max-ver is set; force-tlsv1x pins both;
//     a range with every version disabled is an alert; HAProxy's warnings for
//     ambiguous ranges and holes are given in its words.
//   - Global ssl-default-bind-* settings apply to a bind line when its `ssl`
//     keyword is read, bind-line settings winning, no-tlsv1x flags adding up.
//   - ALPN: when the client offers protocols and none is in the bind's list,
//     the handshake goes on without ALPN (OpenSSL's SSL_TLSEXT_ERR_NOACK);
//     crypto/tls alone would refuse it.
//
// Where crypto/tls cannot do what OpenSSL does, Sluice says so:
//   - SSLv3 (ssl-min-ver/ssl-max-ver SSLv3, force-sslv3) is refused: crypto/tls
//     implements TLS 1.0 to 1.3 only.
//   - ciphers: the OpenSSL cipher string is evaluated (names, aliases such as
//     HIGH, ECDHE, aRSA, AESGCM, '+' combinations, '!', '-', '+' and @STRENGTH)
//     over the TLS 1.0-1.2 suites crypto/tls implements. OpenSSL names crypto/tls
//     lacks (DHE-*, CCM, CAMELLIA, ARIA, PSK, ECDHE-*-SHA384 CBC ...) and words
//     OpenSSL would not know either get a warning naming them, as OpenSSL skips
//     them silently; a string that leaves no suite is an alert with HAProxy's
//     text. crypto/tls chooses the order among the allowed suites itself, so
//     ordering ('+', @STRENGTH, prefer-client-ciphers) has no effect. Without
//     `ciphers`, the suites are those of OpenSSL's DEFAULT that crypto/tls has.
//   - ciphersuites (TLS 1.3): crypto/tls does not let a server choose its TLS
//     1.3 suites (it always offers AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305).
//     A list naming exactly those three, in any order, is accepted silently;
//     any other valid list gets a warning saying it is not honoured.
//   - curves/ecdhe: X25519, P-256, P-384 and P-521 (OpenSSL's names and
//     aliases); X448 and ffdhe* get a warning; unknown names an alert.
//   - alpn containing h2: Sluice does not speak HTTP/2 yet, so h2 is not
//     advertised and a warning says so.
//   - verify none|optional|required with ca-file are honoured; crl-file,
//     crt-list, OCSP (.ocsp files) and SCT (.sctl files) are refused as not
//     supported yet by the configuration layer or by LoadCrt.
package tlsterm
