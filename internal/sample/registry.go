// Package sample knows HAProxy's sample fetches and converters: their names,
// output types and the layer they need. The configuration loader uses it to
// reject unknown fetches at load time with a precise message; the ACL and
// rule engines use it to evaluate them.
package sample

import "strings"

// Type is a sample's output type; it picks an ACL's default match method.
type Type int

// Sample types.
const (
	Bool Type = iota
	Int
	IP
	Str
	Bin
	Meth
)

// Layer says what a fetch needs: a connection (L4), buffered payload (L6),
// or a parsed HTTP message (L7).
type Layer int

// Layers.
const (
	L4 Layer = iota
	L5
	L6
	L7
)

// Fetch describes one sample fetch.
type Fetch struct {
	Name  string
	Type  Type
	Layer Layer
	// Args: minimum and maximum number of parenthesised arguments.
	MinArgs, MaxArgs int
}

// ACLKeyword is an ACL-only shorthand such as path_beg = path + -m beg.
type ACLKeyword struct {
	Fetch string
	Match string
}

var fetches = map[string]*Fetch{}

func def(layer Layer, typ Type, minArgs, maxArgs int, names string) {
	for _, n := range strings.Fields(names) {
		fetches[n] = &Fetch{Name: n, Type: typ, Layer: layer, MinArgs: minArgs, MaxArgs: maxArgs}
	}
}

func init() {
	def(L4, Bool, 0, 0, "always_true always_false fc_rcvd_proxy bc_rcvd_proxy fc_http_major_ok ssl_bc ssl_fc ssl_fc_has_crt ssl_fc_has_sni ssl_c_used ssl_fc_is_resumed")
	def(L4, IP, 0, 0, "src dst bc_src bc_dst fc_src fc_dst")
	def(L4, Int, 0, 0, `src_port dst_port fc_src_port fc_dst_port so_id fe_id be_id srv_id bc_src_port bc_dst_port fc_rtt fc_rttvar
		fc_unacked fc_sacked fc_retrans fc_fackets fc_lost fc_reordering fc_pp_tlv fe_conn fe_req_rate
		fe_sess_rate be_conn be_sess_rate connslots nbsrv srv_conn srv_is_up queue avg_queue
		dst_conn so_name bc_http_major fc_http_major ssl_fc_use_keysize ssl_fc_alg_keysize
		ssl_c_verify ssl_c_err ssl_c_ca_err ssl_fc_err fc_err rand date uptime ms_date thread nbthread
		stopping be_server_timeout be_tunnel_timeout cur_server_timeout cur_tunnel_timeout
		fe_client_timeout sc_http_req_rate sc0_http_req_rate sc1_http_req_rate sc2_http_req_rate
		sc_conn_rate sc0_conn_rate sc_conn_cur sc0_conn_cur src_conn_rate src_http_req_rate src_conn_cur
		sc_inc_gpc0 sc0_inc_gpc0 sc_get_gpc0 sc0_get_gpc0 sc_http_err_rate src_http_err_rate table_cnt`)
	def(L4, Str, 0, 1, `ssl_fc_sni ssl_fc_protocol ssl_fc_cipher ssl_fc_alpn ssl_fc_npn ssl_c_s_dn ssl_c_i_dn
		ssl_f_s_dn ssl_c_sha1 ssl_fc_session_id env hostname var fe_name be_name srv_name str bin int
		ipv4 ipv6 meth fc_pp_authority fc_pp_unique_id`)
	def(L6, Int, 0, 0, "req.len req_len res.len req.ssl_hello_type req_ssl_hello_type req.ssl_ver req_ssl_ver req.rdp_cookie_cnt")
	def(L6, Str, 0, 2, "req.ssl_sni req_ssl_sni req.ssl_alpn req.rdp_cookie rdp_cookie req.ssl_ec_ext")
	def(L6, Bin, 0, 2, "req.payload req.payload_lv res.payload res.payload_lv payload payload_lv")
	// Layer 7, as HAProxy 2.6's src/http_fetch.c declares them.
	def(L7, Bin, 0, 0, "base32+src req.body req.hdrs req.hdrs_bin res.body res.hdrs res.hdrs_bin url32+src")
	def(L7, Bin, 0, 1, "req.body_param")
	def(L7, Bool, 0, 0, "http_first_req req.proto_http req_proto_http")
	def(L7, Bool, 1, 1, "http_auth")
	def(L7, IP, 0, 0, "url_ip")
	def(L7, IP, 0, 2, "hdr_ip req.hdr_ip res.hdr_ip shdr_ip")
	def(L7, Int, 0, 0, "base32 req.body_len req.body_size res.body_len res.body_size status url32 url_port")
	def(L7, Int, 0, 1, `cook_cnt cook_val hdr_cnt req.cook_cnt req.cook_val req.fhdr_cnt req.hdr_cnt res.cook_cnt
		res.cook_val res.fhdr_cnt res.hdr_cnt scook_cnt scook_val shdr_cnt`)
	def(L7, Int, 0, 2, "hdr_val req.hdr_val res.hdr_val shdr_val urlp_val")
	def(L7, Meth, 0, 0, "method")
	def(L7, Str, 0, 0, `base baseq capture.req.method capture.req.uri capture.req.ver capture.res.ver http_auth_type
		http_auth_user http_auth_pass path pathq query req.ver req_ver res.ver resp_ver unique-id url`)
	def(L7, Str, 0, 1, "cook cookie http_auth_bearer req.cook req.hdr_names res.cook res.hdr_names scook")
	def(L7, Str, 0, 2, "hdr req.fhdr req.hdr res.fhdr res.hdr shdr url_param urlp")
	def(L7, Str, 1, 1, "capture.req.hdr capture.res.hdr http_auth_group")
}

// aclKeywords are the ACL shorthands: a fetch plus a forced match method,
// as HAProxy 2.6 declares them (src/http_acl.c, src/payload.c,
// src/ssl_sample.c).
var aclKeywords = map[string]ACLKeyword{
	"req_ver": {"req.ver", "str"}, "resp_ver": {"res.ver", "str"},
	"payload": {"req.payload", "bin"}, "payload_lv": {"req.payload_lv", "bin"},
	"req_rdp_cookie": {"req.rdp_cookie", "str"}, "req_rdp_cookie_cnt": {"req.rdp_cookie_cnt", "int"},
	"req_ssl_sni":    {"req.ssl_sni", "str"},
	"ssl_fc_sni_end": {"ssl_fc_sni", "end"}, "ssl_fc_sni_reg": {"ssl_fc_sni", "reg"},
}

func init() {
	for kw, fetch := range map[string]string{"base": "base", "cook": "req.cook", "hdr": "req.hdr",
		"path": "path", "scook": "res.cook", "shdr": "res.hdr", "url": "url", "urlp": "urlp"} {
		aclKeywords[kw] = ACLKeyword{Fetch: fetch, Match: "str"}
		for _, m := range []string{"beg", "dir", "dom", "end", "len", "reg", "sub"} {
			aclKeywords[kw+"_"+m] = ACLKeyword{Fetch: fetch, Match: m}
		}
	}
}

// LookupFetch finds a fetch by name.
func LookupFetch(name string) (*Fetch, bool) {
	f, ok := fetches[name]
	return f, ok
}

// LookupACLKeyword finds an ACL shorthand by name (path_beg, hdr_dom, ...).
func LookupACLKeyword(name string) (ACLKeyword, bool) {
	k, ok := aclKeywords[name]
	return k, ok
}

// Names lists every fetch and ACL keyword, for did-you-mean suggestions.
func Names() []string {
	out := make([]string, 0, len(fetches)+len(aclKeywords))
	for n := range fetches {
		out = append(out, n)
	}
	for n := range aclKeywords {
		out = append(out, n)
	}
	return out
}

// Predefined are HAProxy's built-in named ACLs.
var Predefined = map[string]string{
	"TRUE": "always_true", "FALSE": "always_false", "LOCALHOST": "src 127.0.0.1/8 ::1",
	"HTTP": "req.proto_http", "HTTP_1.0": "req.ver 1.0", "HTTP_1.1": "req.ver 1.1", "HTTP_2.0": "req.ver 2.0",
	"HTTP_CONTENT": "req.hdr_val(content-length) gt 0", "HTTP_URL_ABS": "url_reg ^[^/:]*://",
	"HTTP_URL_SLASH": "url_beg /", "HTTP_URL_STAR": "url *", "METH_CONNECT": "method CONNECT",
	"METH_DELETE": "method DELETE", "METH_GET": "method GET HEAD", "METH_HEAD": "method HEAD",
	"METH_OPTIONS": "method OPTIONS", "METH_POST": "method POST", "METH_PUT": "method PUT",
	"METH_TRACE": "method TRACE", "RDP_COOKIE": "req.rdp_cookie_cnt gt 0", "REQ_CONTENT": "req.len gt 0",
	"WAIT_END": "wait_end",
}

// Where an HTTP fetch can be used, after HAProxy's SMP_USE_HRQHV,
// SMP_USE_HRQHP, SMP_USE_HRSHV and SMP_USE_HRSHP: the request's headers
// are gone once the request was forwarded, so request rules cannot read
// the response and response rules cannot read the request's headers. hdr
// and cookie follow the rule's direction and work in both.
var (
	reqHdrOnly = map[string]bool{}
	resOnly    = map[string]string{}
)

func init() {
	for _, n := range splitFields(`base base32 base32+src baseq cook cook_cnt cook_val hdr_cnt hdr_ip hdr_val
		http_auth http_auth_group http_auth_type http_auth_user http_auth_pass http_auth_bearer path pathq query
		req.ver req_ver req.body req.body_len req.body_size req.body_param req.hdrs req.hdrs_bin req.cook
		req.cook_cnt req.cook_val req.fhdr req.fhdr_cnt req.hdr req.hdr_cnt req.hdr_ip req.hdr_names req.hdr_val
		url url32 url32+src url_ip url_port url_param urlp urlp_val`) {
		reqHdrOnly[n] = true
	}
	for _, n := range splitFields(`res.body res.body_len res.body_size res.hdrs res.hdrs_bin res.ver resp_ver
		res.cook res.cook_cnt res.cook_val res.fhdr res.fhdr_cnt res.hdr res.hdr_cnt res.hdr_ip res.hdr_names
		res.hdr_val scook scook_cnt scook_val set-cookie shdr shdr_cnt shdr_ip shdr_val`) {
		resOnly[n] = "HTTP response headers"
	}
	resOnly["status"] = "HTTP response"
	resOnly["capture.res.hdr"] = "HTTP response"
}

// Unavailable reports what a fetch needs that an HTTP rule of the given
// direction cannot give it, in HAProxy's words ("HTTP request headers"),
// or "" when the fetch can be used there.
func Unavailable(fetch string, response bool) string {
	if response {
		if reqHdrOnly[fetch] {
			return "HTTP request headers"
		}
		return ""
	}
	return resOnly[fetch]
}
