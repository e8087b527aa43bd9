package config

var userlistKeywords = table{}.add(
	&keyword{name: "user", doc: "a user with password (crypt(3): $1$, $5$, $6$), insecure-password and groups", parse: parseUserlistUser},
	&keyword{name: "group", doc: "a group of users", parse: parseUserlistGroup},
)

var httpErrorsKeywords = table{}.add(
	&keyword{name: "errorfile", doc: "error page for a status code", parse: parseHTTPErrorsErrorfile},
)

var resolversKeywords = names2table("nameserver parse-resolv-conf resolve_retries timeout hold accepted_payload_size")
var peersKeywords = names2table("peer server bind default-server default-bind disabled enabled log shards table")
var cacheKeywords = names2table("total-max-size max-object-size max-age process-vary max-secondary-entries")

func names2table(s string) table {
	t := table{}
	for _, n := range splitFields(s) {
		t.add(&keyword{name: n})
	}
	return t
}

func joinArgs(a []string) string {
	out := ""
	for i, s := range a {
		if i > 0 {
			out += " "
		}
		out += s
	}
	return out
}

func splitFields(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
			}
			start = -1
		} else if start < 0 {
			start = i
		}
	}
	return out
}
