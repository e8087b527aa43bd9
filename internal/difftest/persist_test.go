package difftest

// Persistence cases: what decides the server ahead of the balancer
// (force-persist and ignore-persist, use-server, the persistence cookie,
// option persist) and what each leaves in the log (%tsc), the request the
// server gets (the cookie removed or unprefixed) and the response (the
// cookie inserted or not). They join featCases before any test runs.

// persistLog shows where each request went and what became of its
// cookies; %rc shows a redispatch.
const persistLog = ` log-format "%ST %b/%s %tsc %rc %{+Q}r"
`

var persistFeatCases = []featCase{
	{name: "persist: use-server, force-persist and ignore-persist beside an insert cookie", cfg: `frontend f
 bind %BIND
` + persistLog + ` default_backend b
backend b
 cookie SRVID insert indirect nocache
 ignore-persist if { path_end .png }
 force-persist if { req.hdr(x-force) 1 }
 use-server c if { path_beg /c }
 use-server a if { path_beg /a }
 server a %SRV cookie a disabled
 server b %SRV cookie b
 server c %SRV cookie c
`, conns: []l7Case{
		{raw: get("/x", "Cookie: SRVID=b")},
		{raw: get("/x.png", "Cookie: SRVID=b; other=1")},
		{raw: get("/x", "Cookie: SRVID=a")},
		{raw: get("/x.png", "Cookie: SRVID=a")},
		{raw: get("/c", "Cookie: SRVID=b")},
		{raw: get("/c", "Cookie: SRVID=z")},
		{raw: get("/c")},
		{raw: get("/a")},
		{raw: get("/x.png")},
		{raw: get("/x", "Cookie: SRVID=a", "X-Force: 1")},
		{raw: get("/a", "X-Force: 1")},
		{raw: get("/a", "X-Force: 1") + get("/x", "Cookie: SRVID=c") + get("/c.png", "Cookie: SRVID=b"), reqs: 3},
	}},
	{name: "persist: option persist follows a cookie to a server in maintenance, redispatches from a dead one", cfg: `frontend f
 bind %BIND
` + persistLog + ` default_backend b
backend b
 cookie SRVID insert indirect
 option persist
 option redispatch
 retries 1
 timeout connect 200ms
 force-persist if { req.hdr(x-force) 1 }
 server a %SRV cookie a disabled
 server d %DEAD cookie d disabled
 server c %SRV cookie c
frontend f2
 bind %BIND2
` + persistLog + ` default_backend b2
backend b2
 cookie SRVID insert indirect
 option redispatch
 retries 2
 timeout connect 200ms
 server d %DEAD cookie d
 server c %SRV cookie c
`, conns: []l7Case{
		{raw: get("/x", "Cookie: SRVID=a")},
		{raw: get("/x", "Cookie: SRVID=d")},
		{raw: get("/x", "Cookie: SRVID=d", "X-Force: 1")},
		{raw: get("/x")},
		// A live server the cookie names refuses: retried there, then
		// redispatched on the last retry.
		{raw: get("/x", "Cookie: SRVID=d"), to: "2"},
		{raw: get("/x", "Cookie: SRVID=c"), to: "2"},
	}},
	{name: "persist: ignore-persist with rewrite and prefix cookies", cfg: `frontend f
 bind %BIND
` + persistLog + ` use_backend px if { path_beg /px }
 default_backend rw
backend rw
 cookie SESSy rewrite
 ignore-persist if { req.hdr(x-ign) 1 }
 server s1 %SRV cookie s1
 server s2 %SRV cookie s2
backend px
 cookie SESSy prefix
 ignore-persist if { req.hdr(x-ign) 1 }
 server s1 %SRV cookie s1
 server s2 %SRV cookie s2
`, conns: []l7Case{
		{raw: get("/s/setcookie", "Cookie: SESSy=s2")},
		{raw: get("/s/setcookie", "Cookie: SESSy=s2", "X-Ign: 1")},
		{raw: get("/px/s/setcookie", "Cookie: SESSy=s2~orig")},
		{raw: get("/px/s/setcookie", "Cookie: SESSy=s2~orig", "X-Ign: 1")},
		{raw: get("/px/s/setcookie", "Cookie: a=1; SESSy=s1~orig; b=2", "X-Ign: 1")},
	}},
	{name: "persist: use-server by a log-format name, and in mode tcp", cfg: `frontend f
 bind %BIND
` + persistLog + ` default_backend b
backend b
 use-server %[req.hdr(x-srv)] if { req.hdr(x-srv) -m found }
 use-server s2 if { path /two }
 server s1 %SRV
 server s2 %SRV
 server s3 %SRV
listen t
 mode tcp
 bind %BIND2
 log-format "tcp %b/%s"
 use-server s1 if { src 10.0.0.0/8 }
 use-server s3 unless { src 10.0.0.0/8 }
 server s1 %SRV
 server s2 %SRV
 server s3 %SRV
`, conns: []l7Case{
		{raw: get("/a", "X-Srv: s3")},
		{raw: get("/two", "X-Srv: nosuch")},
		{raw: get("/two")},
		{raw: get("/a") + get("/b"), reqs: 2},
		{raw: get("/a"), to: "2"},
		{raw: get("/a"), to: "2"},
	}},
}

func init() {
	featCases = append(featCases, persistFeatCases...)
}
