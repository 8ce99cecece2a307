# Sourced by the HTTP benchmarks, for their reference: nginx_start WORK PORT
# serves the files of WORK/www on 127.0.0.1:PORT, each as application/json,
# with 2 workers and no access log; its pid goes to WORK/nginx.pid, which the
# caller's cleanup kills.
nginx_start() {
    local work=$1 port=$2
    mkdir -p "$work/www"
    cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work; uwsgi_temp_path $work; scgi_temp_path $work;
    server { listen 127.0.0.1:$port; root $work/www; location / { default_type application/json; } }
}
CONF
    nginx -c "$work/nginx.conf" || { echo "nginx did not start"; return 1; }
}
