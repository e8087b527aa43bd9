package logfmt

// The formats HAProxy 2.6 installs for the logging options (src/log.c).
// "option httplog" and "option httpslog" in a "mode tcp" proxy fall back
// to TCPLog with the warning "'option httplog' not usable with proxy 'x'
// (needs 'mode http'). Falling back to 'option tcplog'."
const (
	// TCPLog is "option tcplog".
	TCPLog = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq"
	// HTTPLog is "option httplog".
	HTTPLog = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r"
	// CLFLog is "option httplog clf", the Common Log Format followed by
	// HAProxy's fields.
	CLFLog = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl"
	// HTTPSLog is "option httpslog": HTTPLog plus the TLS details.
	HTTPSLog = HTTPLog + " %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc"
)
