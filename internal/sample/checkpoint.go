package sample

import (
	"math/bits"
	"strings"
)

// Checkpoint is a set of places where a sample fetch may be evaluated,
// after HAProxy 2.6's SMP_VAL_* bits (include/haproxy/sample-t.h, one bit
// per SMP_CKP_*). A rule runs at one place per capability of its proxy: a
// listen section's tcp-request content rule runs at both CkpFEReqCnt and
// CkpBEReqCnt.
type Checkpoint uint32

// The checkpoints, in HAProxy's bit order: that order decides which name a
// warning prints for a rule that runs at several places.
const (
	CkpFEConAcc Checkpoint = 1 << iota // tcp-request connection
	CkpFESesAcc                        // tcp-request session
	CkpFEReqCnt                        // frontend tcp-request content
	CkpFEHrqHdr                        // frontend http-request, redirect
	CkpFEHrqBdy                        // frontend HTTP request body
	CkpFESetBck                        // use_backend
	CkpBEReqCnt                        // backend tcp-request content
	CkpBEHrqHdr                        // backend http-request, redirect
	CkpBEHrqBdy                        // backend HTTP request body
	CkpBESetSrv                        // use-server, balance, stick match
	CkpBESrvCon                        // server source selection
	CkpBEResCnt                        // backend tcp-response content
	CkpBEHrsHdr                        // backend http-response
	CkpBEHrsBdy                        // backend HTTP response body
	CkpBEStoRul                        // stick store rules
	CkpFEResCnt                        // frontend tcp-response content
	CkpFEHrsHdr                        // frontend http-response
	CkpFEHrsBdy                        // frontend HTTP response body
	CkpFELogEnd                        // logs
	CkpBEChkRul                        // tcp-check rules
	ckpAll      = CkpBEChkRul<<1 - 1
)

// ckpNames are HAProxy's fetch_ckp_names (src/sample.c).
var ckpNames = [...]string{
	"frontend tcp-request connection rule", "frontend tcp-request session rule",
	"frontend tcp-request content rule", "frontend http-request header rule",
	"frontend http-request body rule", "frontend use-backend rule",
	"backend tcp-request content rule", "backend http-request header rule",
	"backend http-request body rule", "backend use-server, balance or stick-match rule",
	"server source selection", "backend tcp-response content rule",
	"backend http-response header rule", "backend http-response body rule",
	"backend stick-store rule", "frontend tcp-response content rule",
	"frontend http-response header rule", "frontend http-response body rule",
	"logs", "backend tcp-check rule",
}

// Name is HAProxy's sample_ckp_names: the name of the lowest place in the
// set, as its warnings print it.
func (c Checkpoint) Name() string {
	if c == 0 || c > ckpAll {
		return "unknown sample check place, please report this bug"
	}
	return ckpNames[bits.TrailingZeros32(uint32(c))]
}

// ckpRange is every checkpoint from lo to hi, both included.
func ckpRange(lo, hi Checkpoint) Checkpoint { return hi<<1 - lo }

// Where each source of information can be read, after HAProxy 2.6's
// fetch_cap table (src/sample.c), one row per SMP_USE_* class.
var (
	// INTRN, L4CLI: the client connection, known from the accept on.
	useL4Cli = ckpAll
	// LISTN, FTEND, TRACK: the same, tcp-check rules aside.
	useFtend = ckpAll &^ CkpBEChkRul
	// L5CLI: the client's TLS session, known once it is established.
	useL5Cli = ckpAll &^ (CkpFEConAcc | CkpBEChkRul)
	// L6REQ, HRQHV: the request's payload and header values, until it is
	// forwarded to the server.
	useReq = ckpRange(CkpFEReqCnt, CkpBESrvCon)
	// HRQHP: what the transaction keeps of the request (method, version).
	useReqPersist = ckpRange(CkpFEReqCnt, CkpFELogEnd)
	// BKEND: the backend, known once it is chosen.
	useBkend = ckpRange(CkpBEReqCnt, CkpBEChkRul)
	// SERVR: the server, known once it is chosen.
	useServr = ckpRange(CkpBESrvCon, CkpBEChkRul)
	// L4SRV, L5SRV, HRSHP: the server connection and the response status.
	useResPersist = ckpRange(CkpBEResCnt, CkpBEChkRul)
	// L6RES, HRSHV: the response's payload and header values.
	useRes = ckpRange(CkpBEResCnt, CkpFEHrsBdy) | CkpBEChkRul
)

// fetchUse maps each fetch that is not usable everywhere to its class, as
// HAProxy 2.6 declares it (src/http_fetch.c, src/payload.c,
// src/ssl_sample.c, src/backend.c, src/tcp_sample.c). A fetch not listed is
// an L4CLI or INTRN one.
var fetchUse = map[string]Checkpoint{}

func init() {
	for class, names := range map[Checkpoint]string{
		useL5Cli: `ssl_fc ssl_fc_has_crt ssl_fc_has_sni ssl_c_used ssl_fc_is_resumed ssl_fc_use_keysize
			ssl_fc_alg_keysize ssl_c_verify ssl_c_err ssl_c_ca_err ssl_fc_err ssl_fc_sni ssl_fc_protocol
			ssl_fc_cipher ssl_fc_alpn ssl_fc_npn ssl_c_s_dn ssl_c_i_dn ssl_f_s_dn ssl_c_sha1 ssl_fc_session_id`,
		useReq: `req.len req_len req.payload req.payload_lv req.ssl_hello_type req_ssl_hello_type req.ssl_ver
			req_ssl_ver req.ssl_sni req_ssl_sni req.ssl_alpn req.ssl_ec_ext req.rdp_cookie rdp_cookie
			req.rdp_cookie_cnt base base32 base32+src baseq cook cook_cnt cook_val hdr hdr_cnt hdr_ip hdr_val
			http_auth http_auth_group http_auth_type http_auth_user http_auth_pass http_auth_bearer path pathq
			query req.ver req_ver req.body req.body_len req.body_size req.body_param req.hdrs req.hdrs_bin
			req.cook req.cook_cnt req.cook_val req.fhdr req.fhdr_cnt req.hdr req.hdr_cnt req.hdr_ip
			req.hdr_names req.hdr_val url url32 url32+src url_ip url_port url_param urlp urlp_val`,
		useReqPersist: `capture.req.hdr capture.req.method capture.req.uri capture.req.ver capture.res.ver
			cookie http_first_req method req.proto_http req_proto_http`,
		useBkend:      "be_id be_name be_server_timeout be_tunnel_timeout cur_server_timeout cur_tunnel_timeout",
		useServr:      "srv_id srv_name",
		useResPersist: "bc_src bc_src_port bc_dst bc_dst_port bc_http_major bc_rcvd_proxy ssl_bc status capture.res.hdr",
		useRes: `res.len res.payload res.payload_lv res.body res.body_len res.body_size res.hdrs res.hdrs_bin
			res.ver resp_ver res.cook res.cook_cnt res.cook_val res.fhdr res.fhdr_cnt res.hdr res.hdr_cnt
			res.hdr_ip res.hdr_names res.hdr_val scook scook_cnt scook_val shdr shdr_cnt shdr_ip shdr_val`,
		useFtend: `fe_id fe_name fe_conn fe_req_rate fe_sess_rate fe_client_timeout so_id so_name
			sc_http_req_rate sc0_http_req_rate sc1_http_req_rate sc2_http_req_rate sc_conn_rate sc0_conn_rate
			sc_conn_cur sc0_conn_cur sc_inc_gpc0 sc0_inc_gpc0 sc_get_gpc0 sc0_get_gpc0 sc_http_err_rate
			src_conn_rate src_http_req_rate src_conn_cur src_http_err_rate`,
	} {
		for _, n := range strings.Fields(names) {
			fetchUse[n] = class
		}
	}
}

// Usable returns the checkpoints where a fetch or ACL keyword (path_beg,
// hdr_dom...) can give a value. Unknown names are usable everywhere: they
// are refused elsewhere.
func Usable(name string) Checkpoint {
	if k, ok := aclKeywords[name]; ok {
		name = k.Fetch
	}
	if c, ok := fetchUse[name]; ok {
		return c
	}
	return useL4Cli
}

// sourceNames are HAProxy's fetch_src_names for the fetches that cannot
// be read where the server is chosen; others fall back to their class.
var sourceNames = map[string]string{
	"srv_id": "server", "srv_name": "server",
	"bc_src": "server address", "bc_src_port": "server address", "bc_dst": "server address", "bc_dst_port": "server address",
	"bc_http_major": "server-side connection", "bc_rcvd_proxy": "server-side connection", "ssl_bc": "server-side connection",
	"res.len": "response buffer", "res.payload": "response buffer", "res.payload_lv": "response buffer",
	"res.body": "HTTP response body", "res.body_len": "HTTP response body", "res.body_size": "HTTP response body",
}

// SourceName names, in HAProxy's words (sample_src_names()), where a fetch
// takes its information from, for the alerts about a fetch used where that
// information does not exist yet.
func SourceName(fetch string) string {
	if n, ok := sourceNames[fetch]; ok {
		return n
	}
	if n := resOnly[fetch]; n != "" {
		return n
	}
	return "HTTP response"
}
