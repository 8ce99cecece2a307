# Sourced by the HTTP benchmarks: a dated product on the demo account of the
# server at $URL (admin API, demo credentials), and Convious tokens.
#   bench_catalog OPEN CLOSE CAPACITY NAME  sets SCH, CAT, POOL, PROD
#   convious_token URL                      prints an access token
id_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
bench_catalog() {
    local admin=(-s -H "Authorization: Bearer demo-admin-token" -H "Content-Type: application/json")
    SCH=$(curl "${admin[@]}" -d "{\"open\":\"$1\",\"close\":\"$2\",\"slot_minutes\":60}" $URL/admin/v1/schedules | id_of)
    CAT=$(curl "${admin[@]}" -d "{\"name\":\"$4\",\"flow\":\"dated\",\"schedule_id\":\"$SCH\"}" $URL/admin/v1/categories |
          id_of)
    POOL=$(curl "${admin[@]}" -d "{\"capacity\":$3}" $URL/admin/v1/pools | id_of)
    PROD=$(curl "${admin[@]}" -d "{\"name\":\"$4\",\"price\":2500,\"category_ids\":[\"$CAT\"],\"pools\":[{\"pool_id\":\"$POOL\"}]}" \
           $URL/admin/v1/products | id_of)
}
convious_token() {
    curl -s -d grant_type=client_credentials -d client_id=demo-client -d client_secret=demo-secret \
        $1/convious/oauth/token/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
