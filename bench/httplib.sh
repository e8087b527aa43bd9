# Shared by http.sh and profile.sh (sourced after lib.sh, not run): the
# Layer 7 benchmark's backend (nginx or l7load's Go backend), the
# configuration Sluice and HAProxy run and nginx's equivalent, and the
# l7load command line of each scenario. Expects BIN, WORK, MAXCONN,
# THREADS, DEFAULTS_EXTRA, NGINX and BACKEND_KIND.

# l7_backend_kind: resolves BACKEND_KIND=auto to nginx when NGINX is
# installed, go otherwise, and sets have_nginx (1 or 0).
l7_backend_kind() {
  have_nginx=0
  [ -x "$NGINX" ] && have_nginx=1
  case $BACKEND_KIND in
    auto) BACKEND_KIND=go && [ $have_nginx = 1 ] && BACKEND_KIND=nginx ;;
    nginx | go) ;;
    *) echo "bench: BACKEND_KIND is nginx, go or auto, not $BACKEND_KIND" >&2 && exit 2 ;;
  esac
}

# nginx_common: the top of both nginx configurations: one process that
# does the work (no master, so /proc/PID is the process measured), its
# files under a directory of its own, no access log (the proxies log
# nothing either).
nginx_common() {
  local dir=$1
  cat <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $((MAXCONN * 2 + 1000)); }
EOF
}

nginx_http_common() {
  local dir=$1
  cat <<EOF
    access_log off;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    keepalive_timeout 60s;
    keepalive_requests 100000000;
EOF
}

# nginx_exec DIR: becomes nginx on DIR/nginx.conf, so that $! of a
# background call is nginx's own pid.
nginx_exec() { exec "$NGINX" -p "$1" -e "$1/error.log" -c "$1/nginx.conf"; }

# start_http_backend: the server behind every proxy, answering each
# request with a tiny reply: nginx (`return 200`), or l7load's Go backend.
start_http_backend() {
  if [ "$BACKEND_KIND" = go ]; then
    "$BIN/l7load" backend >"$WORK/backend.json" 2>"$WORK/backend.log" &
    BACKEND_PID=$!
    local i
    for i in $(seq 200); do
      [ -s "$WORK/backend.json" ] && break
      sleep 0.05
    done
    BACKEND=$(sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' "$WORK/backend.json")
  else
    local dir=$WORK/ngx-backend
    mkdir -p "$dir"
    BACKEND=127.0.0.1:$("$BIN/l7load" freeport)
    {
      nginx_common "$dir"
      echo "http {"
      nginx_http_common "$dir"
      cat <<EOF
    server {
        listen $BACKEND backlog=4096;
        location / {
            default_type text/plain;
            return 200 "hello\n";
        }
    }
}
EOF
    } >"$dir/nginx.conf"
    nginx_exec "$dir" >"$WORK/backend.log" 2>&1 &
    BACKEND_PID=$!
    "$BIN/l7load" wait -addr "$BACKEND" -timeout 10s 2>/dev/null || BACKEND=""
  fi
  if [ -z "$BACKEND" ]; then
    echo "http.sh: the $BACKEND_KIND backend did not start" >&2
    cat "$WORK/backend.log" "$WORK/ngx-backend/error.log" 2>/dev/null >&2
    exit 1
  fi
}

# write_cfg PORT: the configuration Sluice and HAProxy run (bench.cfg),
# and nginx's equivalent (ngx-proxy/nginx.conf). Three ACLs on the path
# and the Host header pick among three backends; the benchmark's requests
# match none of them, so each request is checked against all three and
# goes to the default backend. Every backend is the one server.
write_cfg() {
  {
    printf 'global\n    maxconn %s\n    nbthread %s\n\n' "$MAXCONN" "$THREADS"
    cat <<EOF
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    timeout http-keep-alive 60s
    option http-keep-alive
    http-reuse safe
EOF
    local extra line
    IFS=';' read -ra extra <<<"$DEFAULTS_EXTRA"
    for line in "${extra[@]}"; do
      line=$(echo "$line" | sed 's/^ *//; s/ *$//')
      [ -z "$line" ] || printf '    %s\n' "$line"
    done
    cat <<EOF

frontend fe
    bind 127.0.0.1:$1
    acl is_api path_beg /api/
    acl is_static hdr(host) -i static.example.com
    acl is_image path_end .png .jpg .gif
    use_backend api if is_api
    use_backend static if is_static or is_image
    default_backend web

backend web
    server s1 $BACKEND

backend api
    server s1 $BACKEND

backend static
    server s1 $BACKEND
EOF
  } >"$WORK/bench.cfg"
  local dir=$WORK/ngx-proxy
  mkdir -p "$dir"
  {
    nginx_common "$dir"
    echo "http {"
    nginx_http_common "$dir"
    cat <<EOF
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    upstream web {
        server $BACKEND;
        keepalive 256;
        keepalive_requests 100000000;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:$1;
        server_name static.example.com;
        location / { proxy_pass http://web; }
    }
    server {
        listen 127.0.0.1:$1 default_server;
        location /api/ { proxy_pass http://web; }
        location ~ \.(png|jpg|gif)\$ { proxy_pass http://web; }
        location / { proxy_pass http://web; }
    }
}
EOF
  } >"$dir/nginx.conf"
}

# nginx_exec_proxy CFG: start_proxy's command for nginx, which ignores
# the HAProxy configuration it is given and runs ngx-proxy/nginx.conf.
nginx_exec_proxy() { nginx_exec "$WORK/ngx-proxy"; }

# l7_args SCENARIO PROXY: sets L7_ARGS to the l7load command line of a
# scenario against the running proxy, labelled PROXY. The latency
# scenario's rate is LAT_RATE.
l7_args() {
  local common=(-addr "$PROXY_ADDR" -pid "$PROXY_PID" -d "${DURATION}s" -warmup "${WARMUP}s" -label "$2")
  case $1 in
    keepalive | close) L7_ARGS=("$1" "${common[@]}" -c "$CONNS") ;;
    latency) L7_ARGS=(latency "${common[@]}" -c "$CONNS" -rate "$LAT_RATE") ;;
    idle) L7_ARGS=(idle "${common[@]}" -c "$IDLE_CONNS") ;;
    *)
      echo "bench: unknown scenario $1 (keepalive close latency idle)" >&2
      exit 2
      ;;
  esac
}
