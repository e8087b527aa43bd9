package httperr

// Codes lists, in HAProxy's order (src/http.c http_err_codes), the status
// codes HAProxy 2.6 generates itself and lets errorfile, errorfiles,
// errorloc and http-error replace.
var Codes = [...]int{200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 422, 425, 429, 500, 501, 502, 503, 504}

// Handled reports whether code is one of Codes.
func Handled(code int) bool {
	_, ok := builtinMsgs[code]
	return ok
}

// builtinMsgs is HAProxy 2.6.12's src/http.c http_err_msgs, verbatim: the
// raw HTTP/1 text the H1 multiplexer sends as is for the errors it raises
// before a stream exists (see Builtin), and the source every stream-level
// default page is parsed from (see Default).
var builtinMsgs = map[int]string{
	200: "HTTP/1.1 200 OK\r\n" +
		"Content-length: 58\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n",
	400: "HTTP/1.1 400 Bad request\r\n" +
		"Content-length: 90\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Connection: close\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n",
	401: "HTTP/1.1 401 Unauthorized\r\n" +
		"Content-length: 112\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>401 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
	403: "HTTP/1.1 403 Forbidden\r\n" +
		"Content-length: 93\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative rules.\n</body></html>\n",
	404: "HTTP/1.1 404 Not Found\r\n" +
		"Content-length: 83\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>404 Not Found</h1>\nThe resource could not be found.\n</body></html>\n",
	405: "HTTP/1.1 405 Method Not Allowed\r\n" +
		"Content-length: 146\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>405 Method Not Allowed</h1>\nA request was made of a resource using a request method not supported by that resource\n</body></html>\n",
	407: "HTTP/1.1 407 Unauthorized\r\n" +
		"Content-length: 112\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>407 Unauthorized</h1>\nYou need a valid user and password to access this content.\n</body></html>\n",
	408: "HTTP/1.1 408 Request Time-out\r\n" +
		"Content-length: 110\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Connection: close\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>408 Request Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n",
	410: "HTTP/1.1 410 Gone\r\n" +
		"Content-length: 114\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>410 Gone</h1>\nThe resource is no longer available and will not be available again.\n</body></html>\n",
	413: "HTTP/1.1 413 Payload Too Large\r\n" +
		"Content-length: 106\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>413 Payload Too Large</h1>\nThe request entity exceeds the maximum allowed.\n</body></html>\n",
	421: "HTTP/1.1 421 Misdirected Request\r\n" +
		"Content-length: 104\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>421 Misdirected Request</h1>\nRequest sent to a non-authoritative server.\n</body></html>\n",
	422: "HTTP/1.1 422 Unprocessable Content\r\n" +
		"Content-length: 116\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>422 Unprocessable Content</h1>\nThe server cannot process the contained instructions.\n</body></html>\n",
	425: "HTTP/1.1 425 Too Early\r\n" +
		"Content-length: 80\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>425 Too Early</h1>\nYour browser sent early data.\n</body></html>\n",
	429: "HTTP/1.1 429 Too Many Requests\r\n" +
		"Content-length: 117\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>429 Too Many Requests</h1>\nYou have sent too many requests in a given amount of time.\n</body></html>\n",
	500: "HTTP/1.1 500 Internal Server Error\r\n" +
		"Content-length: 97\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>500 Internal Server Error</h1>\nAn internal server error occurred.\n</body></html>\n",
	501: "HTTP/1.1 501 Not Implemented\r\n" +
		"Content-length: 136\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>501 Not Implemented</h1>\n.The server does not support the functionality required to fulfill the request.\n</body></html>\n",
	502: "HTTP/1.1 502 Bad Gateway\r\n" +
		"Content-length: 107\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>502 Bad Gateway</h1>\nThe server returned an invalid or incomplete response.\n</body></html>\n",
	503: "HTTP/1.1 503 Service Unavailable\r\n" +
		"Content-length: 107\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n",
	504: "HTTP/1.1 504 Gateway Time-out\r\n" +
		"Content-length: 92\r\n" +
		"Cache-Control: no-cache\r\n" +
		"Content-Type: text/html\r\n" +
		"\r\n" +
		"<html><body><h1>504 Gateway Time-out</h1>\nThe server didn't respond in time.\n</body></html>\n",
}
