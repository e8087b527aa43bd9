package logfmt

// Mode is the proxy mode a format is compiled for. HTTP-only variables are
// refused in TCP mode, as HAProxy does.
type Mode uint8

// Proxy modes.
const (
	TCP Mode = iota
	HTTP
)

// String returns "tcp" or "http".
func (m Mode) String() string {
	if m == HTTP {
		return "http"
	}
	return "tcp"
}

// varKind identifies one format variable (HAProxy's LOG_FMT_* types).
type varKind uint8

const (
	vGlobal varKind = iota // %o: sets default flags, renders nothing
	vBytesOut
	vClientCookie
	vServerCookie
	vHostname
	vUniqueID
	vStatus
	vDateGMT
	vTa
	vTc
	vTh
	vTi
	vDateLocal
	vTq
	vTr
	vTR
	vTd
	vTimestamp
	vTt
	vTu
	vTw
	vBytesIn
	vActConn
	vBackend
	vBeConn
	vBackendIP
	vBackendPort
	vBackendQueue
	vClientIP
	vClientPort
	vFrontend
	vFeConn
	vFrontendIP
	vFrontendPort
	vFrontendXprt
	vReqHeaders
	vReqHeaderList
	vRespHeaders
	vRespHeaderList
	vMethod
	vPath
	vPathOnly
	vQuery
	vURI
	vVersion
	vLogCount
	vMillis
	vPID
	vRequest
	vRetries
	vReqCounter
	vServer
	vSrvConn
	vServerIP
	vServerPort
	vSrvQueue
	vSSLCipher
	vSSLVersion
	vDate
	vReqDate
	vReqDateGMT
	vReqDateLocal
	vTermState
	vTermStateCookie
)

// varDef is one row of HAProxy 2.6's logformat_keywords table.
type varDef struct {
	name     string
	kind     varKind
	httpOnly bool
}

// vars lists every variable HAProxy 2.6 knows, in the order of its table.
// Names are case-sensitive.
var vars = [...]varDef{
	{"o", vGlobal, false},
	{"B", vBytesOut, false},
	{"CC", vClientCookie, true},
	{"CS", vServerCookie, true},
	{"H", vHostname, false},
	{"ID", vUniqueID, false},
	{"ST", vStatus, false},
	{"T", vDateGMT, false},
	{"Ta", vTa, true},
	{"Tc", vTc, false},
	{"Th", vTh, false},
	{"Ti", vTi, true},
	{"Tl", vDateLocal, false},
	{"Tq", vTq, true},
	{"Tr", vTr, true},
	{"TR", vTR, true},
	{"Td", vTd, false},
	{"Ts", vTimestamp, false},
	{"Tt", vTt, false},
	{"Tu", vTu, false},
	{"Tw", vTw, false},
	{"U", vBytesIn, false},
	{"ac", vActConn, false},
	{"b", vBackend, false},
	{"bc", vBeConn, false},
	{"bi", vBackendIP, false},
	{"bp", vBackendPort, false},
	{"bq", vBackendQueue, false},
	{"ci", vClientIP, false},
	{"cp", vClientPort, false},
	{"f", vFrontend, false},
	{"fc", vFeConn, false},
	{"fi", vFrontendIP, false},
	{"fp", vFrontendPort, false},
	{"ft", vFrontendXprt, false},
	{"hr", vReqHeaders, false},
	{"hrl", vReqHeaderList, false},
	{"hs", vRespHeaders, false},
	{"hsl", vRespHeaderList, false},
	{"HM", vMethod, true},
	{"HP", vPath, true},
	{"HPO", vPathOnly, true},
	{"HQ", vQuery, true},
	{"HU", vURI, true},
	{"HV", vVersion, true},
	{"lc", vLogCount, false},
	{"ms", vMillis, false},
	{"pid", vPID, false},
	{"r", vRequest, true},
	{"rc", vRetries, false},
	{"rt", vReqCounter, false},
	{"s", vServer, false},
	{"sc", vSrvConn, false},
	{"si", vServerIP, false},
	{"sp", vServerPort, false},
	{"sq", vSrvQueue, false},
	{"sslc", vSSLCipher, false},
	{"sslv", vSSLVersion, false},
	{"t", vDate, false},
	{"tr", vReqDate, true},
	{"trg", vReqDateGMT, true},
	{"trl", vReqDateLocal, true},
	{"ts", vTermState, false},
	{"tsc", vTermStateCookie, false},
}

func lookupVar(name string) (varDef, bool) {
	for _, v := range vars {
		if v.name == name {
			return v, true
		}
	}
	return varDef{}, false
}

// VarNames returns the names of all format variables HAProxy 2.6 knows, in
// the order of its keyword table ("o" first).
func VarNames() []string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.name
	}
	return names
}

// IsHTTPOnly reports whether the named variable is refused outside
// "mode http". Unknown names report false.
func IsHTTPOnly(name string) bool {
	v, ok := lookupVar(name)
	return ok && v.httpOnly
}
